/**
 * Python-style slices. A slice is half-open [start, stop) with a step; null
 * bounds mean "from the beginning" / "to the end", as in Python.
 */
import { ValueError } from './errors.ts';

/** A half-open slice; null start/stop means open on that side. */
export interface Slice {
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

/** A 2-D space slice: [rows, cols]. */
export type SpaceSlice = readonly [rows: Slice, cols: Slice];

/** Makes a slice, as Python's `slice(start, stop, step)`. */
export function slice(start: number | null, stop: number | null, step: number | null = null): Slice {
  return { start, stop, step };
}

/** True when `v` has the shape of a Slice. */
export function isSlice(v: unknown): v is Slice {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const s = v as Record<string, unknown>;
  const ok = (x: unknown) => x === null || x === undefined || typeof x === 'number';
  return 'start' in s && 'stop' in s && ok(s.start) && ok(s.stop) && ok(s.step);
}

function truncate(v: number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isFinite(v)) throw new TypeError(`slice bound ${v} is not a finite number`);
  return Math.trunc(v) + 0; // + 0: int(-0.5) is 0 in Python, not -0
}

/**
 * Coerces float slice bounds to integers by truncation, as Python's `int()`
 * does, keeping null. Accepts one slice or a list of slices; anything else is
 * a TypeError.
 */
export function fixSlice(sl: Slice): Slice;
export function fixSlice(sl: readonly Slice[]): Slice[];
export function fixSlice(sl: Slice | readonly Slice[]): Slice | Slice[] {
  if (Array.isArray(sl)) return sl.map((s) => fixSlice(s as Slice));
  if (!isSlice(sl)) {
    throw new TypeError(`fixSlice expects a slice or a list of slices, got ${JSON.stringify(sl)}`);
  }
  return { start: truncate(sl.start), stop: truncate(sl.stop), step: truncate(sl.step) };
}

/** A concrete slice: integer start/stop/step as Python's `slice.indices(n)` gives them. */
export interface ConcreteSlice {
  readonly start: number;
  readonly stop: number;
  readonly step: number;
}

function checkIntOrNull(v: number | null | undefined, what: string): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isInteger(v)) throw new TypeError(`slice ${what} ${v} is not an integer or null (use fixSlice for float bounds)`);
  return v;
}

/**
 * Resolves a slice against a dimension of length `dimLength` exactly as
 * Python's `slice(start, stop, step).indices(dimLength)`: null bounds become
 * the ends (which end depends on the sign of the step), negative bounds count
 * from the end, and everything is clamped to the dimension. A step of 0 is a
 * ValueError; non-integer bounds are a TypeError.
 *
 * @example
 * normalizeSlice(slice(-3, null), 10)   // {start: 7, stop: 10, step: 1}
 * normalizeSlice(slice(2, 100), 10)     // {start: 2, stop: 10, step: 1}
 * normalizeSlice(slice(null, null, -1), 4) // {start: 3, stop: -1, step: -1}
 */
export function normalizeSlice(sl: Slice, dimLength: number): ConcreteSlice {
  if (!isSlice(sl)) throw new TypeError(`normalizeSlice expects a slice, got ${JSON.stringify(sl)}`);
  if (!Number.isInteger(dimLength) || dimLength < 0) {
    throw new ValueError(`dimension length ${dimLength} is not a non-negative integer`);
  }
  const step = checkIntOrNull(sl.step, 'step') ?? 1;
  if (step === 0) throw new ValueError('slice step cannot be zero');
  const start = checkIntOrNull(sl.start, 'start');
  const stop = checkIntOrNull(sl.stop, 'stop');
  const lower = step < 0 ? -1 : 0;
  const upper = step < 0 ? dimLength - 1 : dimLength;
  const resolve = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    if (v < 0) return Math.max(v + dimLength, lower);
    return Math.min(v, upper);
  };
  return { start: resolve(start, step < 0 ? upper : lower), stop: resolve(stop, step < 0 ? lower : upper), step };
}

/** Number of elements a slice selects from a dimension of length `dimLength` (Python `len(range(*sl.indices(n)))`). */
export function sliceLength(sl: Slice, dimLength: number): number {
  const { start, stop, step } = normalizeSlice(sl, dimLength);
  const n = step > 0 ? Math.ceil((stop - start) / step) : Math.ceil((start - stop) / -step);
  return Math.max(0, n);
}

/** Padding argument of {@link embedSlice}: one number for every side, or one number / [before, after] per dimension. */
export type EmbedPad = number | readonly (number | readonly [number, number])[] | null | undefined;

/** Result of {@link embedSlice}. */
export interface EmbeddedSlice {
  /** The in-bounds part of the requested (padded) region, as slices into the data (step null). */
  readonly dataSlice: Slice[];
  /** [before, after] cells of the requested region that fall outside the data, per dimension. */
  readonly padding: [number, number][];
  /**
   * Where `dataSlice` lands inside the requested region (a patch of the
   * requested size): `patch[patchSlice] <-> data[dataSlice]`.
   */
  readonly patchSlice: Slice[];
}

/**
 * kwarray's `embed_slice`: clips a possibly out-of-bounds region to data of
 * size `dataDims` and reports how much of it falls outside.
 *
 * Here, unlike Python indexing, negative bounds and bounds past the end mean
 * positions OUTSIDE the data (no wrap-around): `slice(-2, 3)` on a length-5
 * axis is 2 cells of padding then data cells 0..2. A null start is 0, a null
 * stop is the dimension length. `pad` widens the region on each side first
 * (kwarray's semantics). Steps other than null / 1 and start > stop are
 * ValueErrors; bounds must be integers.
 *
 * The returned `padding[i][0] + (dataSlice[i].stop - dataSlice[i].start) +
 * padding[i][1]` always equals the requested length plus the pads.
 *
 * @example
 * embedSlice([slice(-10, 400), slice(-10, 400)], [300, 300], [10, 5])
 * // dataSlice [0:300, 0:300], padding [[20, 110], [15, 105]],
 * // patchSlice [20:320, 15:315]
 */
export function embedSlice(slices: readonly Slice[], dataDims: readonly number[], pad?: EmbedPad): EmbeddedSlice {
  if (!Array.isArray(slices) || !slices.every(isSlice)) {
    throw new TypeError(`embedSlice expects a list of slices, got ${JSON.stringify(slices)}`);
  }
  const n = dataDims.length;
  if (slices.length !== n) {
    throw new ValueError(`embedSlice: ${slices.length} slices for ${n} data dimensions [${dataDims.join(', ')}]`);
  }
  let pads: [number, number][];
  if (pad === null || pad === undefined) pads = Array.from({ length: n }, () => [0, 0]);
  else if (typeof pad === 'number') pads = Array.from({ length: n }, () => [pad, pad]);
  else {
    if (pad.length !== n) {
      throw new ValueError(`embedSlice: pad ${JSON.stringify(pad)} has ${pad.length} entries for ${n} data dimensions`);
    }
    pads = pad.map((p) => (typeof p === 'number' ? [p, p] : [p[0], p[1]]));
  }
  const dataSlice: Slice[] = [];
  const padding: [number, number][] = [];
  const patchSlice: Slice[] = [];
  for (let i = 0; i < n; i++) {
    const D = dataDims[i]!;
    const sl = slices[i]!;
    if (!Number.isInteger(D) || D < 0) throw new ValueError(`data dimension ${i} is ${D}, not a non-negative integer`);
    const step = checkIntOrNull(sl.step, 'step');
    if (step !== null && step !== 1) throw new ValueError(`embedSlice supports step 1 only, got step ${step} on axis ${i}`);
    const [padLo, padHi] = pads[i]!;
    if (!Number.isInteger(padLo) || !Number.isInteger(padHi)) {
      throw new ValueError(`pad on axis ${i} is ${JSON.stringify(pads[i])}, not integers`);
    }
    const lo = checkIntOrNull(sl.start, 'start') ?? 0;
    const hi = checkIntOrNull(sl.stop, 'stop') ?? D;
    if (lo > hi) throw new ValueError(`embedSlice: start ${lo} > stop ${hi} on axis ${i}`);
    const rawLo = lo - padLo;
    const rawHi = hi + padHi;
    const sLo = Math.min(D, Math.max(0, rawLo));
    const sHi = Math.min(D, Math.max(0, rawHi));
    const lowDiff = sLo - rawLo;
    const highDiff = rawHi - sHi;
    const extraLo = Math.max(0, lowDiff + Math.min(0, highDiff));
    const extraHi = Math.max(0, highDiff + Math.min(0, lowDiff));
    dataSlice.push({ start: sLo, stop: sHi, step: null });
    padding.push([extraLo, extraHi]);
    patchSlice.push({ start: extraLo, stop: extraLo + (sHi - sLo), step: null });
  }
  return { dataSlice, padding, patchSlice };
}
