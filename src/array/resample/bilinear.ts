/**
 * OpenCV's warpAffine(INTER_LINEAR) with BORDER_CONSTANT, reproduced bit for
 * bit (fixtures README C4): source coordinates in 1/1024 units rounded half
 * to even, quantized to 1/32 px; float32 weights and float32 sums (left to
 * right) for float and 16-bit data, 15-bit integer weights for uint8. Any of
 * the four neighbours outside the source takes the border value, even at
 * weight 0 (so float outputs on the last source row / column are NaN).
 */
import type { TypedArray } from '../dtypes.ts';
import { sampleOrBorder, windowTooSmall, type DestWindow, type SourceWindow } from './geometry.ts';
import { rne, type Matrix6 } from './opencv-affine.ts';

/** How the kernel computes and stores: float32, 8-bit fixed point, or float weights then rounding (other integers). */
export type BilinearKind = 'float' | 'u8' | 'int';

const fround = Math.fround;

/** Weights per 1/32 sub-pixel position (fy * 32 + fx): float (exact) and 15-bit integer. */
const WF = new Float64Array(1024 * 4);
const WI = new Int32Array(1024 * 4);
for (let fy = 0; fy < 32; fy++) {
  for (let fx = 0; fx < 32; fx++) {
    const k = (fy * 32 + fx) * 4;
    const wx = fx / 32;
    const wy = fy / 32;
    WF[k] = (1 - wy) * (1 - wx);
    WF[k + 1] = (1 - wy) * wx;
    WF[k + 2] = wy * (1 - wx);
    WF[k + 3] = wy * wx;
    WI[k] = 32 * (32 - fx) * (32 - fy);
    WI[k + 1] = 32 * fx * (32 - fy);
    WI[k + 2] = 32 * (32 - fx) * fy;
    WI[k + 3] = 32 * fx * fy;
  }
}

/** Per-column fixed-point deltas `rne(m * x * 1024)` for the canvas columns of `dst`. */
export function columnDeltas(m: number, dst: DestWindow): Int32Array {
  const out = new Int32Array(dst.width);
  for (let i = 0; i < dst.width; i++) out[i] = rne(m * (dst.x0 + i) * 1024);
  return out;
}

/**
 * Fills `out` (dst.height x dst.width x src.bands, HWC) by bilinear sampling
 * of `src` at the positions `inv` (canvas pixel centre -> source pixel
 * centre, already inverted the OpenCV way) gives. `lo`/`hi` clamp the 'int'
 * kind; `border` is the value outside the source (NaN for floats, 0 for ints).
 */
export function bilinearWarp(src: SourceWindow, inv: Matrix6, dst: DestWindow, out: TypedArray, kind: BilinearKind, border: number, lo = 0, hi = 255): void {
  const adelta = columnDeltas(inv[0], dst);
  const bdelta = columnDeltas(inv[3], dst);
  const C = src.bands;
  const fw1 = src.fullWidth - 1;
  const fh1 = src.fullHeight - 1;
  // one row of fixed-point source positions at a time (xs, ys in 1/32 px)
  const xsRow = new Int32Array(dst.width);
  const ysRow = new Int32Array(dst.width);
  for (let j = 0; j < dst.height; j++) {
    const Y = dst.y0 + j;
    const X0 = rne((inv[1] * Y + inv[2]) * 1024) + 16;
    const Y0 = rne((inv[4] * Y + inv[5]) * 1024) + 16;
    for (let i = 0; i < dst.width; i++) {
      xsRow[i] = (X0 + adelta[i]!) >> 5;
      ysRow[i] = (Y0 + bdelta[i]!) >> 5;
    }
    const o = j * dst.width * C;
    if (kind === 'float') rowFloat(src, xsRow, ysRow, out as Float32Array, o, fw1, fh1);
    else if (kind === 'u8') rowU8(src, xsRow, ysRow, out as Uint8Array, o, fw1, fh1);
    else rowInt(src, xsRow, ysRow, out, o, fw1, fh1, lo, hi);
    // pixels with a neighbour outside the source (or the window): the per-neighbour path
    for (let i = 0; i < dst.width; i++) {
      const ix = xsRow[i]! >> 5;
      const iy = ysRow[i]! >> 5;
      if (ix >= 0 && iy >= 0 && ix < fw1 && iy < fh1) continue;
      const oo = o + i * C;
      if (ix < -1 || iy < -1 || ix > fw1 || iy > fh1) {
        for (let b = 0; b < C; b++) out[oo + b] = border;
        continue;
      }
      const k = ((ysRow[i]! & 31) * 32 + (xsRow[i]! & 31)) * 4;
      for (let b = 0; b < C; b++) {
        const v00 = sampleOrBorder(src, ix, iy, b, border);
        const v01 = sampleOrBorder(src, ix + 1, iy, b, border);
        const v10 = sampleOrBorder(src, ix, iy + 1, b, border);
        const v11 = sampleOrBorder(src, ix + 1, iy + 1, b, border);
        if (kind === 'u8') {
          out[oo + b] = (v00 * WI[k]! + v01 * WI[k + 1]! + v10 * WI[k + 2]! + v11 * WI[k + 3]! + 16384) >> 15;
        } else {
          const v = fround(fround(fround(fround(v00 * WF[k]!) + fround(v01 * WF[k + 1]!)) + fround(v10 * WF[k + 2]!)) + fround(v11 * WF[k + 3]!));
          out[oo + b] = kind === 'float' ? v : v < lo ? lo : v > hi ? hi : rne(v);
        }
      }
    }
  }
}

/** Interior pixels of one row, float32 data (float32 products and sums, left to right). */
function rowFloat(src: SourceWindow, xsRow: Int32Array, ysRow: Int32Array, out: Float32Array, o: number, fw1: number, fh1: number): void {
  const C = src.bands;
  const sw = src.width;
  const sh = src.height;
  const sdata = src.data as Float32Array;
  const rowStride = sw * C;
  const n = xsRow.length;
  for (let i = 0; i < n; i++, o += C) {
    const xs = xsRow[i]!;
    const ys = ysRow[i]!;
    const ix = xs >> 5;
    const iy = ys >> 5;
    if (ix < 0 || iy < 0 || ix >= fw1 || iy >= fh1) continue;
    const lx = ix - src.x0;
    const ly = iy - src.y0;
    if (lx < 0 || ly < 0 || lx >= sw - 1 || ly >= sh - 1) throw windowTooSmall(src, ix, iy);
    const k = ((ys & 31) * 32 + (xs & 31)) * 4;
    const w0 = WF[k]!, w1 = WF[k + 1]!, w2 = WF[k + 2]!, w3 = WF[k + 3]!;
    let p = ly * rowStride + lx * C;
    for (let b = 0; b < C; b++, p++) {
      out[o + b] = fround(fround(fround(sdata[p]! * w0) + fround(sdata[p + C]! * w1)) + fround(sdata[p + rowStride]! * w2)) + fround(sdata[p + rowStride + C]! * w3);
    }
  }
}

/** Interior pixels of one row, uint8 data (15-bit integer weights). */
function rowU8(src: SourceWindow, xsRow: Int32Array, ysRow: Int32Array, out: Uint8Array, o: number, fw1: number, fh1: number): void {
  const C = src.bands;
  const sw = src.width;
  const sh = src.height;
  const sdata = src.data as Uint8Array;
  const rowStride = sw * C;
  const n = xsRow.length;
  for (let i = 0; i < n; i++, o += C) {
    const xs = xsRow[i]!;
    const ys = ysRow[i]!;
    const ix = xs >> 5;
    const iy = ys >> 5;
    if (ix < 0 || iy < 0 || ix >= fw1 || iy >= fh1) continue;
    const lx = ix - src.x0;
    const ly = iy - src.y0;
    if (lx < 0 || ly < 0 || lx >= sw - 1 || ly >= sh - 1) throw windowTooSmall(src, ix, iy);
    const k = ((ys & 31) * 32 + (xs & 31)) * 4;
    const w0 = WI[k]!, w1 = WI[k + 1]!, w2 = WI[k + 2]!, w3 = WI[k + 3]!;
    let p = ly * rowStride + lx * C;
    for (let b = 0; b < C; b++, p++) {
      out[o + b] = (sdata[p]! * w0 + sdata[p + C]! * w1 + sdata[p + rowStride]! * w2 + sdata[p + rowStride + C]! * w3 + 16384) >> 15;
    }
  }
}

/** Interior pixels of one row, other integer data (float32 weights and sums, then round half even and clamp). */
function rowInt(src: SourceWindow, xsRow: Int32Array, ysRow: Int32Array, out: TypedArray, o: number, fw1: number, fh1: number, lo: number, hi: number): void {
  const C = src.bands;
  const sw = src.width;
  const sh = src.height;
  const sdata = src.data;
  const rowStride = sw * C;
  const n = xsRow.length;
  for (let i = 0; i < n; i++, o += C) {
    const xs = xsRow[i]!;
    const ys = ysRow[i]!;
    const ix = xs >> 5;
    const iy = ys >> 5;
    if (ix < 0 || iy < 0 || ix >= fw1 || iy >= fh1) continue;
    const lx = ix - src.x0;
    const ly = iy - src.y0;
    if (lx < 0 || ly < 0 || lx >= sw - 1 || ly >= sh - 1) throw windowTooSmall(src, ix, iy);
    const k = ((ys & 31) * 32 + (xs & 31)) * 4;
    const w0 = WF[k]!, w1 = WF[k + 1]!, w2 = WF[k + 2]!, w3 = WF[k + 3]!;
    let p = ly * rowStride + lx * C;
    for (let b = 0; b < C; b++, p++) {
      const v = fround(fround(fround(fround(sdata[p]! * w0) + fround(sdata[p + C]! * w1)) + fround(sdata[p + rowStride]! * w2)) + fround(sdata[p + rowStride + C]! * w3));
      out[o + b] = v < lo ? lo : v > hi ? hi : rne(v);
    }
  }
}
