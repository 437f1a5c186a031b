/**
 * Streaming overview reduction: rows of one level go in, rows of the level
 * `k` times smaller come out (ceil(width / k) wide; the last group of rows
 * may be short). Each output pixel covers the k x k block of input pixels
 * whose top-left is (y * k, x * k), clipped to the image:
 * - 'nearest' takes that block's top-left pixel;
 * - 'average' takes the mean of the block's valid samples, per band
 *   (samples equal to nodata and NaN are left out; a block with none valid
 *   gives nodata, or NaN without one), rounded to nearest for integers.
 * Levels are chained (each built from the one before, as GDAL does), so
 * memory holds one output row, never a level.
 */
import { allocate, DTYPES, type Dtype, type TypedArray } from '../../array/dtypes.ts';

/** How overview pixels are computed from the level before. */
export type OverviewResample = 'nearest' | 'average';

/** Reduces rows by an integer factor `k`, calling `emit` with each finished output row. */
export class RowReducer {
  readonly outWidth: number;
  readonly #out: TypedArray;
  readonly #sums: Float64Array | null;
  readonly #counts: Uint32Array | null;
  #rowInGroup = 0;

  constructor(
    readonly width: number,
    readonly bands: number,
    readonly dtype: Dtype,
    readonly k: number,
    readonly resample: OverviewResample,
    readonly nodata: number | null,
    /** receives each output row (outWidth * bands samples); the array is reused afterwards */
    readonly emit: (row: TypedArray) => void,
  ) {
    this.outWidth = Math.ceil(width / k);
    this.#out = allocate(dtype, this.outWidth * bands);
    const n = this.outWidth * bands;
    this.#sums = resample === 'average' ? new Float64Array(n) : null;
    this.#counts = resample === 'average' ? new Uint32Array(n) : null;
  }

  /** Adds one input row: `width * bands` samples of `data` from sample `offset`. */
  pushRow(data: TypedArray, offset: number): void {
    const { width, bands: c, k, outWidth } = this;
    if (this.#sums) {
      const sums = this.#sums, counts = this.#counts!;
      const nd = this.nodata ?? NaN; // NaN never equals: no nodata test
      for (let ox = 0, x = 0; ox < outWidth; ox++) {
        const o = ox * c;
        const xe = Math.min(x + k, width);
        for (; x < xe; x++) {
          const s = offset + x * c;
          for (let b = 0; b < c; b++) {
            const v = data[s + b];
            if (v === v && v !== nd) { sums[o + b] += v; counts[o + b]++; }
          }
        }
      }
    } else if (this.#rowInGroup === 0) {
      const out = this.#out;
      const pixelBytes = c * out.BYTES_PER_ELEMENT, start = data.byteOffset + offset * out.BYTES_PER_ELEMENT;
      if (pixelBytes % 4 === 0 && start % 4 === 0) {
        // whole pixels as 32-bit words: a quarter of the element copies for int16 x 4, say
        const n = pixelBytes >> 2;
        const src = new Uint32Array(data.buffer, start, Math.ceil((width * pixelBytes) / 4));
        const dst = new Uint32Array(out.buffer, out.byteOffset, outWidth * n);
        const step = k * n;
        if (n === 1) {
          for (let ox = 0, s = 0; ox < outWidth; ox++, s += step) dst[ox] = src[s];
        } else if (n === 2) {
          for (let o = 0, s = 0, end = outWidth * 2; o < end; o += 2, s += step) { dst[o] = src[s]; dst[o + 1] = src[s + 1]; }
        } else {
          for (let ox = 0; ox < outWidth; ox++) {
            for (let j = 0, s = ox * step, o = ox * n; j < n; j++) dst[o + j] = src[s + j];
          }
        }
      } else {
        for (let ox = 0; ox < outWidth; ox++) {
          const s = offset + ox * k * c, o = ox * c;
          for (let b = 0; b < c; b++) out[o + b] = data[s + b];
        }
      }
    }
    if (++this.#rowInGroup === k) this.#flush();
  }

  /** Emits the last, short group of rows (if any). */
  finish(): void {
    if (this.#rowInGroup > 0) this.#flush();
  }

  #flush(): void {
    const out = this.#out;
    if (this.#sums) {
      const sums = this.#sums, counts = this.#counts!;
      const isInt = !DTYPES[this.dtype].isFloat;
      const empty = this.nodata ?? (isInt ? 0 : NaN);
      for (let i = 0; i < out.length; i++) {
        const n = counts[i];
        out[i] = n === 0 ? empty : isInt ? Math.round(sums[i] / n) : sums[i] / n;
      }
      sums.fill(0);
      counts.fill(0);
    }
    this.#rowInGroup = 0;
    this.emit(out);
  }
}
