/**
 * Python-style slices. A slice is half-open [start, stop) with a step; null
 * bounds mean "from the beginning" / "to the end", as in Python.
 */

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
  return Math.trunc(v);
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
