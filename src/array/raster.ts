/**
 * Raster: a height x width x bands image stored pixel-interleaved (HWC) in one
 * typed array, the layout GDAL calls INTERLEAVE=PIXEL and the layout our
 * tiles are written in.
 */
import { allocate, checkDtype, DTYPES, dtypeOf, type Dtype, type TypedArray } from './dtypes.ts';
import { ShapeError, ValueError } from './errors.ts';

export type Shape3 = readonly [height: number, width: number, bands: number];

function checkShape(shape: unknown): Shape3 {
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new ShapeError(`raster shape ${JSON.stringify(shape)} is not [height, width, bands] of non-negative integers`);
  }
  return [shape[0], shape[1], shape[2]];
}

/**
 * An HWC raster. `data[(y * width + x) * bands + band]` is the sample of
 * band `band` at row `y`, column `x`.
 *
 * @example
 * const r = Raster.zeros([2, 3, 1]);
 * r.set(1, 2, 0, 5); r.get(1, 2) === 5;
 */
export class Raster<T extends TypedArray = TypedArray> {
  readonly data: T;
  readonly shape: Shape3;
  readonly dtype: Dtype;

  constructor(data: T, shape: readonly number[]) {
    const s = checkShape(shape);
    this.dtype = dtypeOf(data);
    const n = s[0] * s[1] * s[2];
    if (data.length !== n) {
      throw new ShapeError(`data has ${data.length} elements but shape [${s.join(', ')}] needs ${n}`, s);
    }
    this.data = data;
    this.shape = s;
  }

  get height(): number { return this.shape[0]; }
  get width(): number { return this.shape[1]; }
  get bands(): number { return this.shape[2]; }

  /** A zero-filled raster (dtype defaults to float32). */
  static zeros(shape: readonly number[], dtype: Dtype = 'float32'): Raster {
    const s = checkShape(shape);
    return new Raster(allocate(checkDtype(dtype), s[0] * s[1] * s[2]), s);
  }

  /** A raster filled with one value. */
  static full(shape: readonly number[], value: number, dtype: Dtype = 'float32'): Raster {
    const r = Raster.zeros(shape, dtype);
    r.data.fill(value);
    return r;
  }

  /** Converts band-first (CHW, as models output) data into an HWC raster. */
  static fromCHW<T extends TypedArray>(data: T, shape: readonly number[]): Raster<T> {
    const [c, h, w] = checkShape(shape);
    const n = c * h * w;
    if (data.length !== n) {
      throw new ShapeError(`CHW data has ${data.length} elements but shape [${c}, ${h}, ${w}] needs ${n}`, [c, h, w]);
    }
    const out = new (data.constructor as new (n: number) => T)(n);
    const plane = h * w;
    for (let b = 0; b < c; b++) {
      const src = b * plane;
      for (let p = 0, o = b; p < plane; p++, o += c) out[o] = data[src + p];
    }
    return new Raster(out, [h, w, c]);
  }

  /** The data as band-first (CHW) array. */
  toCHW(): T {
    const [h, w, c] = this.shape;
    const plane = h * w;
    const out = new (this.data.constructor as new (n: number) => T)(this.data.length);
    for (let b = 0; b < c; b++) {
      const dst = b * plane;
      for (let p = 0, i = b; p < plane; p++, i += c) out[dst + p] = this.data[i];
    }
    return out;
  }

  #index(y: number, x: number, band: number): number {
    const [h, w, c] = this.shape;
    if (!(y >= 0 && y < h && x >= 0 && x < w && band >= 0 && band < c) ||
        !Number.isInteger(y) || !Number.isInteger(x) || !Number.isInteger(band)) {
      throw new ValueError(`index (y=${y}, x=${x}, band=${band}) is outside raster of shape [${h}, ${w}, ${c}]`);
    }
    return (y * w + x) * c + band;
  }

  get(y: number, x: number, band = 0): number { return this.data[this.#index(y, x, band)]; }
  set(y: number, x: number, band: number, value: number): void { this.data[this.#index(y, x, band)] = value; }

  /** A copy of the rectangle rows [y0, y0+h), cols [x0, x0+w); it must lie inside. */
  crop(y0: number, x0: number, h: number, w: number): Raster<T> {
    const [H, W, C] = this.shape;
    if (!(y0 >= 0 && x0 >= 0 && h >= 0 && w >= 0 && y0 + h <= H && x0 + w <= W)) {
      throw new ShapeError(`crop rows ${y0}..${y0 + h}, cols ${x0}..${x0 + w} is outside raster of shape [${H}, ${W}, ${C}]`, this.shape);
    }
    const out = new (this.data.constructor as new (n: number) => T)(h * w * C);
    const rowLen = w * C;
    for (let r = 0; r < h; r++) {
      const s = ((y0 + r) * W + x0) * C;
      out.set(this.data.subarray(s, s + rowLen) as never, r * rowLen);
    }
    return new Raster(out, [h, w, C]);
  }

  /** A copy with the bands in `bands` (in that order). */
  selectBands(bands: readonly number[]): Raster<T> {
    const [h, w, c] = this.shape;
    for (const b of bands) {
      if (!Number.isInteger(b) || b < 0 || b >= c) throw new ValueError(`band ${b} is outside 0..${c - 1}`);
    }
    const k = bands.length;
    const out = new (this.data.constructor as new (n: number) => T)(h * w * k);
    for (let p = 0, n = h * w; p < n; p++) {
      for (let j = 0; j < k; j++) out[p * k + j] = this.data[p * c + bands[j]];
    }
    return new Raster(out, [h, w, k]);
  }

  /** A copy converted to `dtype` (values cast as typed arrays do: no rounding rules of ours). */
  astype(dtype: Dtype): Raster {
    if (dtype === this.dtype) return new Raster(this.data.slice() as TypedArray, this.shape);
    const out = allocate(checkDtype(dtype), this.data.length);
    out.set(this.data as never);
    return new Raster(out, this.shape);
  }

  /** Size of the data in bytes. */
  get nbytes(): number { return this.data.length * DTYPES[this.dtype].bytes; }
}
