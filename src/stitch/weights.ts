/**
 * Window weights for stitching and the shape-agreement rule between a
 * window's data and the slice it is stitched into.
 *
 * `upweightCenterMask` is the original's `upweight_center_mask`: a 2-D Gaussian
 * (outer product of two OpenCV `getGaussianKernel`s) normalised to max 1,
 * grey-dilated (max filter) so the plateau near the centre is flat, and
 * clamped below at 0.001 so edge pixels still count a little.
 */
import { Raster } from '../array/raster.ts';
import { ValueError } from '../array/errors.ts';
import type { Slice, SpaceSlice } from '../array/slices.ts';
import { StitchError } from './errors.ts';

/**
 * OpenCV `getGaussianKernel(n, sigma)` in float64 with the automatic sigma
 * `0.3 * ((n - 1) * 0.5 - 1) + 0.8` (kwimage `gaussian_patch` passes that
 * sigma explicitly, and it is > 0 for every n >= 1, so OpenCV's fixed small
 * kernels for sigma <= 0 never apply). Normalised to sum 1.
 *
 * As OpenCV 4's bit-exact kernel does (`getGaussianKernelBitExact`, measured
 * with Debian's OpenCV 4.6.0): for even n the two middle taps are exp(0) = 1,
 * not exp(-0.5 * 0.25 / sigma^2). For n = 16 that makes every other tap 1.7%
 * smaller relative to the middle than the textbook Gaussian.
 */
export function gaussianKernel1d(n: number): Float64Array {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`kernel length ${n} is not a positive integer`);
  const sigma = 0.3 * ((n - 1) * 0.5 - 1) + 0.8;
  // OpenCV works with x doubled (integers 1 - n, 3 - n, ...), hence -0.125
  const scale2X = -0.125 / (sigma * sigma);
  const k = new Float64Array(n);
  const half = (n - 1) >> 1; // taps before the middle one(s)
  let sum = 0;
  for (let i = 0; i < half; i++) {
    const x = 2 * i + 1 - n;
    k[i] = k[n - 1 - i] = Math.exp(x * x * scale2X);
    sum += 2 * k[i];
  }
  for (let i = half; i < n - half; i++) { k[i] = 1; sum += 1; }
  const inv = 1 / sum; // OpenCV multiplies by the reciprocal of the sum
  for (let i = 0; i < n; i++) k[i] *= inv;
  return k;
}

/** Side of the square-ish dilation rectangle along an axis of length n: max(n // 8, 3), made odd. */
export function dilationSize(n: number): number {
  let k = Math.max(Math.floor(n / 8), 3);
  if (k % 2 === 0) k += 1;
  return k;
}

/** Max filter of width k (odd, centred) of `a`; outside is ignored (OpenCV's dilate border). */
function maxFilter1d(a: Float64Array, k: number): Float64Array {
  const n = a.length, r = (k - 1) >> 1, out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = Math.max(0, i - r), hi = Math.min(n - 1, i + r); j <= hi; j++) if (a[j] > m) m = a[j];
    out[i] = m;
  }
  return out;
}

/** Uncached computation of {@link upweightCenterMask}. */
export function computeUpweightCenterMask(shape: readonly [number, number]): Raster<Float32Array> {
  const [h, w] = checkShape2(shape);
  const gy = gaussianKernel1d(h), gx = gaussianKernel1d(w);
  // The original dilates (gy[y] * gx[x]) / max with a rectangle. Every factor is positive and
  // rounding is monotonic, so the max of the rounded products over a rectangle is the rounded
  // product of the 1-D maxima: the same doubles, from two 1-D filters instead of a 2-D one.
  // The original builds the rectangle with cv2.getStructuringElement(rect, (size from h, size
  // from w)), and OpenCV reads that pair as (width, height): the size from the height spans x
  // and the one from the width spans y (measured with OpenCV 4.6; it only matters when the two
  // sizes differ).
  const dy = maxFilter1d(gy, dilationSize(w)), dx = maxFilter1d(gx, dilationSize(h));
  let my = 0, mx = 0;
  for (let y = 0; y < h; y++) if (gy[y] > my) my = gy[y];
  for (let x = 0; x < w; x++) if (gx[x] > mx) mx = gx[x];
  const top = my * mx, out = new Float32Array(h * w);
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i++) {
      const d = (dy[y] * dx[x]) / top;
      out[i] = d < 0.001 ? 0.001 : d;
    }
  }
  return new Raster(out, [h, w, 1]);
}

function checkShape2(shape: readonly number[]): [number, number] {
  if (!Array.isArray(shape) || shape.length < 2 || !Number.isInteger(shape[0]) || !Number.isInteger(shape[1]) || shape[0] < 1 || shape[1] < 1) {
    throw new ValueError(`weight mask shape ${JSON.stringify(shape)} is not [height, width] of positive integers`);
  }
  return [shape[0], shape[1]];
}

const CACHE_LIMIT = 16;
const cache = new Map<string, Raster<Float32Array>>();

/**
 * The original's `upweight_center_mask(shape)` as an HxWx1 float32 raster
 * (values in [0.001, 1], 1 on a flat plateau in the centre).
 *
 * Cached per shape (the 16 most recently used shapes): every call with the
 * same shape returns THE SAME raster, so callers must not mutate it (copy it
 * first, e.g. `mask.crop(0, 0, h, w)`, when a modified weight is needed).
 *
 * @example
 * const wt = upweightCenterMask([64, 64]);
 * wt.get(32, 32) === 1; wt.get(0, 0) // small positive weight, >= 0.001
 */
export function upweightCenterMask(shape: readonly [number, number] | readonly number[]): Raster<Float32Array> {
  const [h, w] = checkShape2(shape);
  const key = `${h}x${w}`;
  let m = cache.get(key);
  if (m !== undefined) {
    cache.delete(key); // re-insert: most recently used last
  } else {
    m = computeUpweightCenterMask([h, w]);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, m);
  return m;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * The shape both a window's data (`dataShape`, [h, w, ...]) and its slice
 * (`sliceShape`, [h, w]) are cropped to. The original silently cropped any
 * mismatch (its HACK blocks); here at most 1 pixel per axis is tolerated
 * (resampling round-off), anything larger is a StitchError naming both shapes.
 */
export function agreeShapes(dataShape: readonly number[], sliceShape: readonly number[]): [number, number] {
  const out: [number, number] = [0, 0];
  for (let a = 0; a < 2; a++) {
    const d = dataShape[a], s = sliceShape[a];
    if (!Number.isInteger(d) || !Number.isInteger(s) || d < 0 || s < 0) {
      throw new StitchError(`cannot compare data shape ${fmt(dataShape)} with slice shape ${fmt(sliceShape)}: not non-negative integers`);
    }
    if (Math.abs(d - s) > 1) {
      throw new StitchError(`data shape ${fmt(dataShape)} does not match slice shape ${fmt(sliceShape)}: ` +
        `${a === 0 ? 'height' : 'width'} differs by ${Math.abs(d - s)} pixels (at most 1 is cropped)`);
    }
    out[a] = Math.min(d, s);
  }
  return out;
}

/** A slice with concrete start/stop (step 1 or null). */
function concrete(sl: Slice, axis: string): { start: number; stop: number } {
  if (sl.start === null || sl.stop === null || !Number.isInteger(sl.start) || !Number.isInteger(sl.stop) || (sl.step !== null && sl.step !== 1)) {
    throw new StitchError(`${axis} slice ${JSON.stringify(sl)} must have integer start and stop and step 1 (normalise it first)`);
  }
  return { start: sl.start, stop: sl.stop };
}

/**
 * Makes a window's data (and optional per-pixel weights) agree with its space
 * slice: both are cropped at the bottom / right to the common shape of
 * {@link agreeShapes} (at most 1 pixel off per axis, else StitchError). Data
 * that already agrees is returned as is (no copy).
 */
export function cropToAgree<R extends Raster>(data: R, spaceSlice: SpaceSlice, weights?: Raster | null):
  { data: R; spaceSlice: SpaceSlice; weights: Raster | null } {
  const rows = concrete(spaceSlice[0], 'row'), cols = concrete(spaceSlice[1], 'column');
  const sliceShape = [rows.stop - rows.start, cols.stop - cols.start];
  const [h, w] = agreeShapes(data.shape, sliceShape);
  if (weights) {
    if (weights.height !== data.height || weights.width !== data.width) {
      throw new StitchError(`weights shape ${fmt(weights.shape)} does not match data shape ${fmt(data.shape)}`);
    }
  }
  const cropR = (r: Raster) => (r.height === h && r.width === w ? r : r.crop(0, 0, h, w));
  const outSlice: SpaceSlice = sliceShape[0] === h && sliceShape[1] === w ? spaceSlice : [
    { start: rows.start, stop: rows.start + h, step: spaceSlice[0].step },
    { start: cols.start, stop: cols.start + w, step: spaceSlice[1].step },
  ];
  return { data: cropR(data) as R, spaceSlice: outSlice, weights: weights ? cropR(weights) : null };
}
