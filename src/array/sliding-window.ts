/**
 * SlidingWindow: the grid of (possibly overlapping) window positions over an
 * n-dimensional array, with kwarray's `SlidingWindow` semantics exactly.
 * Windows are lists of half-open slices (one per dimension, step null), in
 * the order of the shape's dimensions (for an HWC image: [rows, cols]).
 */
import { ValueError } from './errors.ts';
import type { Slice } from './slices.ts';

/** Options of {@link SlidingWindow} (kwarray's keyword arguments, camelCase). */
export interface SlidingWindowOptions {
  /**
   * Fraction of overlap between neighbouring windows, in [0, 1), one number
   * for every dimension or one per dimension. The stride becomes
   * `round(window - window * overlap)` (Python's round: half to even).
   * Mutually exclusive with `stride`. Default 0 when neither is given.
   */
  overlap?: number | readonly number[] | null;
  /** Cells moved per step, one number for every dimension or one per dimension. Mutually exclusive with `overlap`. */
  stride?: number | readonly number[] | null;
  /**
   * Add one more window per dimension, flush with the end, when the regular
   * steps would stop short of it (that last step is then shorter than the
   * stride). With a window larger than the shape it adds nothing.
   */
  keepbound?: boolean;
  /**
   * Allow a grid that does not fit the shape exactly (`(shape - window) % stride != 0`
   * on some dimension, or a window larger than the shape). Without it such a
   * grid is a ValueError, even with `keepbound`.
   */
  allowOvershoot?: boolean;
}

function fmt(v: unknown): string {
  return JSON.stringify(v);
}

/** Python's `round()` for floats: half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Python's floor modulo (result has the sign of the divisor). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function perDim(v: number | readonly number[], n: number, what: string): number[] {
  if (typeof v === 'number') return new Array<number>(n).fill(v);
  if (!Array.isArray(v) || v.length !== n) {
    throw new ValueError(`${what} ${fmt(v)} must be one number or ${n} numbers (one per dimension)`);
  }
  return [...v];
}

/** kwarray's `_slices1d`: window starts along one dimension. */
function starts1d(margin: number, stop: number, step: number, keepbound: boolean): number[] {
  const out: number[] = [];
  let pos = 0;
  for (;;) {
    const end = pos + margin;
    out.push(pos);
    if (end === stop) break;
    pos += step;
    if (pos + margin > stop) {
      if (!keepbound) break;
      pos = stop - margin;
      if (pos < 0) break;
    }
  }
  return out;
}

/**
 * Slides a window over an array shape. Iterating yields one `Slice[]` per
 * window (half-open, step null), in C order (the last dimension varies
 * fastest), like kwarray.
 *
 * @example
 * const sw = new SlidingWindow([16, 16], [4, 4], { overlap: [0.5, 0.25] });
 * sw.stride      // [2, 3]
 * sw.basisShape  // [7, 5]
 * [...sw][0]     // [{start: 0, stop: 4, step: null}, {start: 0, stop: 4, step: null}]
 *
 * @example
 * // stitching over a 300 x 300 asset with 128 px windows: cover every pixel
 * new SlidingWindow([300, 300], [128, 128], { overlap: 0.25, keepbound: true, allowOvershoot: true })
 */
export class SlidingWindow implements Iterable<Slice[]> {
  /** The shape slid over. */
  readonly inputShape: readonly number[];
  /** The window size per dimension (null entries of the request resolved to the shape). */
  readonly window: readonly number[];
  /** Cells moved per step, per dimension. */
  readonly stride: readonly number[];
  /** The overlap implied by the integer stride: `(window - stride) / window`. */
  readonly overlap: readonly number[];
  /** Number of window positions per dimension. */
  readonly basisShape: readonly number[];
  /** Number of positions per dimension that fit exactly, without overshoot or keepbound. */
  readonly undershotShape: readonly number[];
  /** `(shape - window) mod stride` per dimension (0 = the grid fits exactly). */
  readonly overshoot: readonly number[];
  /** Window start positions per dimension. */
  readonly basisStarts: readonly (readonly number[])[];
  /** Total number of windows (the product of `basisShape`). */
  readonly length: number;

  /**
   * @param shape the array shape to slide over (non-negative integers).
   * @param window the window shape; null (or a null entry) means the whole dimension.
   * @param options overlap / stride / keepbound / allowOvershoot (see {@link SlidingWindowOptions}).
   */
  constructor(shape: readonly number[], window: readonly (number | null)[] | null, options: SlidingWindowOptions = {}) {
    const { keepbound = false, allowOvershoot = false } = options;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ValueError(`SlidingWindow shape ${fmt(shape)} must be a list of non-negative integers`);
    }
    const win0 = window ?? shape;
    if (!Array.isArray(win0)) throw new ValueError(`SlidingWindow window ${fmt(window)} must be a list`);
    if (win0.length !== shape.length) {
      throw new ValueError(`incompatible dims: window ${fmt(win0)} has ${win0.length} dimensions, shape ${fmt(shape)} has ${shape.length}`);
    }
    const win = win0.map((d, i) => (d === null || d === undefined ? shape[i]! : d));
    if (!win.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ValueError(`SlidingWindow window ${fmt(win)} must hold positive integers (null = the whole dimension)`);
    }
    const n = shape.length;
    let overlapIn = options.overlap ?? null;
    const strideIn = options.stride ?? null;
    if (overlapIn === null && strideIn === null) overlapIn = 0;
    if (overlapIn !== null && strideIn !== null) {
      throw new ValueError(`specify overlap (${fmt(overlapIn)}) XOR stride (${fmt(strideIn)}), not both`);
    }
    let stride: number[];
    if (strideIn === null) {
      const ov = perDim(overlapIn!, n, 'overlap');
      if (ov.some((f) => !(f >= 0 && f < 1))) {
        throw new ValueError(`overlap was ${fmt(ov)}, but fractional overlaps must be in the range [0, 1)`);
      }
      stride = ov.map((frac, i) => roundHalfEven(win[i]! - win[i]! * frac));
    } else {
      stride = perDim(strideIn, n, 'stride');
      if (!stride.every((s) => Number.isInteger(s))) {
        throw new ValueError(`stride ${fmt(stride)} must hold integers`);
      }
    }
    // kwarray only rejects a zero step; a negative one would never end, so it is rejected too.
    if (!stride.every((s) => s > 0)) {
      throw new ValueError(`stride must be positive everywhere, got ${fmt(stride)} (window ${fmt(win)}, overlap ${fmt(options.overlap ?? null)})`);
    }
    const overshoot = win.map((d, i) => pyMod(shape[i]! - d, stride[i]!));
    const undershot = win.map((d, i) => Math.floor((shape[i]! - d) / stride[i]!) + 1);
    if (!allowOvershoot && overshoot.some((o) => o !== 0)) {
      const axes = overshoot
        .map((o, i) => (o !== 0 ? `axis ${i}: (shape ${shape[i]} - window ${win[i]}) mod stride ${stride[i]} = ${o}` : null))
        .filter((s) => s !== null);
      throw new ValueError(
        `sliding window ${fmt(win)} with stride ${fmt(stride)} does not fit shape ${fmt(shape)} exactly ` +
          `(overshoot ${fmt(overshoot)}: ${axes.join('; ')}); pass allowOvershoot (and keepbound to cover the end)`,
      );
    }
    const starts = win.map((d, i) => starts1d(d, shape[i]!, stride[i]!, keepbound));
    this.inputShape = Object.freeze([...shape]);
    this.window = Object.freeze(win);
    this.stride = Object.freeze(stride);
    this.overlap = Object.freeze(win.map((d, i) => (d - stride[i]!) / d));
    this.overshoot = Object.freeze(overshoot);
    this.undershotShape = Object.freeze(undershot);
    this.basisStarts = Object.freeze(starts.map((s) => Object.freeze(s)));
    this.basisShape = Object.freeze(starts.map((s) => s.length));
    this.length = this.basisShape.reduce((a, b) => a * b, 1);
  }

  /** The window at grid index `idx` (one basis index per dimension). */
  #windowAt(idx: readonly number[]): Slice[] {
    return idx.map((j, d) => {
      const s = this.basisStarts[d]![j]!;
      return { start: s, stop: s + this.window[d]!, step: null };
    });
  }

  /** Unravels a flat index into a grid index (C order). */
  #unravel(flat: number): number[] {
    const n = this.basisShape.length;
    const idx = new Array<number>(n);
    for (let d = n - 1; d >= 0; d--) {
      const b = this.basisShape[d]!;
      idx[d] = flat % b;
      flat = Math.floor(flat / b);
    }
    return idx;
  }

  /** Yields every window as a list of slices, C order. */
  *[Symbol.iterator](): Iterator<Slice[]> {
    for (const idx of this.gridIter()) yield this.#windowAt(idx);
  }

  /** Window by flat index; negative counts from the end (Python's `self[i]`). */
  at(index: number): Slice[] {
    const i = index < 0 ? this.length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new ValueError(`window index ${index} is out of range for ${this.length} windows`);
    }
    return this.#windowAt(this.#unravel(i));
  }

  /** Lazily yields the grid indices (one basis index per dimension), C order. */
  *gridIter(): Generator<number[]> {
    if (this.length === 0) return;
    const n = this.basisShape.length;
    const idx = new Array<number>(n).fill(0);
    for (let k = 0; k < this.length; k++) {
      yield [...idx];
      for (let d = n - 1; d >= 0; d--) {
        if (++idx[d]! < this.basisShape[d]!) break;
        idx[d] = 0;
      }
    }
  }

  /** Grid indices of every window (kwarray's `grid`), C order. */
  get grid(): number[][] {
    return [...this.gridIter()];
  }

  /** Centre of each window per dimension: `start + (stop - start - 1) / 2` (kwarray's `centers`). */
  get centers(): number[][] {
    return [...this].map((sls) => sls.map((s) => s.start! + (s.stop! - s.start! - 1) / 2));
  }

  /** A short description, e.g. `SlidingWindow(bshape=[7, 5], shape=[16, 16], window=[4, 4], stride=[2, 3])`. */
  toString(): string {
    return `SlidingWindow(bshape=${fmt(this.basisShape)}, shape=${fmt(this.inputShape)}, window=${fmt(this.window)}, stride=${fmt(this.stride)})`;
  }
}
