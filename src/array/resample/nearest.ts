/**
 * Nearest-neighbour samplers (fixtures README C3):
 * - `nearestWarp`: OpenCV warpAffine(INTER_NEAREST), fixed point with
 *   rounding constant 512 and a shift of 10 (the source pixel that contains
 *   the back-projected output centre);
 * - `gatherSeparable`: an axis-aligned gather through per-column and per-row
 *   source indices, used by `resizeNearestIndex` (OpenCV resize INTER_NEAREST
 *   of the whole source onto the whole canvas) and `floorIndex` (kwcoco's
 *   axis-aligned sampler at the output pixel's left / top edge).
 * Indices outside the source give the border value.
 */
import type { TypedArray } from '../dtypes.ts';
import { windowTooSmall, type DestWindow, type SourceWindow } from './geometry.ts';
import { columnDeltas } from './bilinear.ts';
import { rne, type Matrix6 } from './opencv-affine.ts';

/** Fills `out` (HWC) by OpenCV's fixed-point nearest warp with the inverted centre matrix `inv`. */
export function nearestWarp(src: SourceWindow, inv: Matrix6, dst: DestWindow, out: TypedArray, border: number): void {
  const C = src.bands;
  const sdata = src.data;
  const adelta = columnDeltas(inv[0], dst);
  const bdelta = columnDeltas(inv[3], dst);
  let o = 0;
  for (let j = 0; j < dst.height; j++) {
    const Y = dst.y0 + j;
    const X0 = rne((inv[1] * Y + inv[2]) * 1024) + 512;
    const Y0 = rne((inv[4] * Y + inv[5]) * 1024) + 512;
    for (let i = 0; i < dst.width; i++, o += C) {
      const ix = (X0 + adelta[i]!) >> 10;
      const iy = (Y0 + bdelta[i]!) >> 10;
      if (ix < 0 || iy < 0 || ix >= src.fullWidth || iy >= src.fullHeight) {
        for (let b = 0; b < C; b++) out[o + b] = border;
        continue;
      }
      const lx = ix - src.x0;
      const ly = iy - src.y0;
      if (lx < 0 || ly < 0 || lx >= src.width || ly >= src.height) throw windowTooSmall(src, ix, iy);
      const p = (ly * src.width + lx) * C;
      for (let b = 0; b < C; b++) out[o + b] = sdata[p + b]!;
    }
  }
}

/**
 * OpenCV resize(INTER_NEAREST) indices for output positions [start, start+count)
 * of an axis of `outSize` from a source axis of `srcSize`:
 * `min(floor(x * (1 / (outSize / srcSize))), srcSize - 1)`.
 */
export function resizeNearestIndex(outSize: number, srcSize: number, start: number, count: number): Int32Array {
  const ifx = 1 / (outSize / srcSize);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.min(Math.floor((start + i) * ifx), srcSize - 1);
  return out;
}

/** kwcoco's axis-aligned nearest indices `floor((x - t) / s)` for output positions [start, start+count). */
export function floorIndex(t: number, s: number, start: number, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor((start + i - t) / s);
  return out;
}

/** Fills `out` (HWC, dst rows x cols) with src[yIdx[j], xIdx[i]] (logical source indices; outside -> border). */
export function gatherSeparable(src: SourceWindow, xIdx: Int32Array, yIdx: Int32Array, dst: DestWindow, out: TypedArray, border: number): void {
  const C = src.bands;
  const sdata = src.data;
  let o = 0;
  for (let j = 0; j < dst.height; j++) {
    const iy = yIdx[j]!;
    const rowOutside = iy < 0 || iy >= src.fullHeight;
    const ly = iy - src.y0;
    const rowInWindow = ly >= 0 && ly < src.height;
    for (let i = 0; i < dst.width; i++, o += C) {
      const ix = xIdx[i]!;
      if (rowOutside || ix < 0 || ix >= src.fullWidth) {
        for (let b = 0; b < C; b++) out[o + b] = border;
        continue;
      }
      const lx = ix - src.x0;
      if (!rowInWindow || lx < 0 || lx >= src.width) throw windowTooSmall(src, ix, iy);
      const p = (ly * src.width + lx) * C;
      for (let b = 0; b < C; b++) out[o + b] = sdata[p + b]!;
    }
  }
}
