/**
 * kwimage's antialiasing before a downscaling linear warp (fixtures README
 * C5): `num_downs` OpenCV pyrDown steps, then a separable Gaussian blur per
 * axis (reflect-101 borders), then the warp rebuilt from the decomposition
 * with the residual scale. NaN spreads through both filters.
 *
 * Filters run on a window of the logical source; pixels near a window edge
 * that is not a source edge are wrong (reflected at the wrong place), so
 * callers read `antialiasMargin` extra pixels (see warp-affine.ts).
 */
import { Affine } from '../affine.ts';
import { DTYPES, type Dtype, type TypedArray } from '../dtypes.ts';
import type { SourceWindow } from './geometry.ts';
import { decompose6, rne, type Matrix6 } from './opencv-affine.ts';

/** kwimage's Gaussian sigma for one 2x downsample (fixtures README C5). */
export const SIGMA0 = 1.0699027846904146;

/** What the antialias step does for one warp. */
export interface AntialiasPlan {
  numDowns: number;
  kx: number;
  sigmaX: number;
  ky: number;
  sigmaY: number;
  /** the centre-convention warp from the reduced, blurred source to the canvas */
  warp: Matrix6;
}

/** kwimage `_gauss_params`: kernel size and sigma for a residual scale. */
export function gaussParams(scale: number): [ksize: number, sigma: number] {
  const n = Math.log2(1 / scale);
  if (!(n > 0)) return [1, 0];
  const f = 2 ** (n - 1);
  const sigma = SIGMA0 * f;
  let k = Math.ceil(5 * f);
  if (k % 2 === 0) k += 1;
  return [k, sigma];
}

/**
 * The antialias plan of a centre-convention forward matrix, or null when
 * kwimage would not antialias (both decomposed scales > 1).
 */
export function antialiasPlan(mc: Matrix6): AntialiasPlan | null {
  const { sx, sy, theta, shearx, tx, ty } = decompose6(mc);
  if (sx > 1 && sy > 1) return null;
  const numDowns = Math.max(Math.trunc(Math.log2(1 / Math.max(sx, sy))) - 2, 0);
  const pyrScale = 1 / 2 ** numDowns;
  const rx = sx / pyrScale;
  const ry = sy / pyrScale;
  const [kx, sigmaX] = gaussParams(rx);
  const [ky, sigmaY] = gaussParams(ry);
  const warp = Affine.affine({ offset: [tx, ty], theta, shearx }).matmul(Affine.scale([rx, ry])).matrix;
  return { numDowns, kx, sigmaX, ky, sigmaY, warp: [warp[0]!, warp[1]!, warp[2]!, warp[3]!, warp[4]!, warp[5]!] };
}

/** Source pixels (at full resolution) a plan needs beyond the warp's own footprint, and the alignment of window origins. */
export function antialiasMargin(plan: AntialiasPlan): { margin: number; align: number } {
  const f = 2 ** plan.numDowns;
  const radius = Math.max(plan.kx, plan.ky) >> 1;
  return { margin: f * (radius + 6), align: f };
}

function reflect101(i: number, n: number): number {
  if (n <= 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

function isFloatDtype(d: Dtype): boolean {
  return DTYPES[d].isFloat;
}

/**
 * OpenCV pyrDown: 5-tap [1 4 6 4 1]/16 per axis, reflect-101, keeps even
 * pixels; integers round as `(sum + 128) >> 8`. The window origin must be even.
 */
export function pyrDown(src: SourceWindow, dtype: Dtype): SourceWindow {
  const { width: w, height: h, bands: C, data } = src;
  const ow = Math.ceil((src.x0 + w) / 2) - src.x0 / 2;
  const oh = Math.ceil((src.y0 + h) / 2) - src.y0 / 2;
  const isFloat = isFloatDtype(dtype);
  const rows = new Float64Array(h * ow * C);
  const xm2 = new Int32Array(ow), xm1 = new Int32Array(ow), xc = new Int32Array(ow), xp1 = new Int32Array(ow), xp2 = new Int32Array(ow);
  for (let i = 0; i < ow; i++) {
    const x = 2 * i;
    xm2[i] = reflect101(x - 2, w) * C; xm1[i] = reflect101(x - 1, w) * C; xc[i] = reflect101(x, w) * C;
    xp1[i] = reflect101(x + 1, w) * C; xp2[i] = reflect101(x + 2, w) * C;
  }
  const fr = isFloat ? Math.fround : (v: number) => v;
  for (let y = 0; y < h; y++) {
    const s = y * w * C;
    const o = y * ow * C;
    for (let i = 0; i < ow; i++) {
      for (let b = 0; b < C; b++) {
        rows[o + i * C + b] = fr(fr(fr(fr(data[s + xc[i]! + b]! * 6) + fr(fr(data[s + xm1[i]! + b]! + data[s + xp1[i]! + b]!) * 4)) + data[s + xm2[i]! + b]!) + data[s + xp2[i]! + b]!);
      }
    }
  }
  const out = new DTYPES[dtype].ctor(oh * ow * C) as TypedArray;
  const rs = ow * C;
  for (let j = 0; j < oh; j++) {
    const y = 2 * j;
    const r0 = reflect101(y - 2, h) * rs, r1 = reflect101(y - 1, h) * rs, r2 = reflect101(y, h) * rs;
    const r3 = reflect101(y + 1, h) * rs, r4 = reflect101(y + 2, h) * rs;
    const o = j * rs;
    for (let k = 0; k < rs; k++) {
      const sum = fr(fr(fr(fr(rows[r2 + k]! * 6) + fr(fr(rows[r1 + k]! + rows[r3 + k]!) * 4)) + rows[r0 + k]!) + rows[r4 + k]!);
      out[o + k] = isFloat ? sum * (1 / 256) : (sum + 128) >> 8;
    }
  }
  return {
    data: out, width: ow, height: oh, bands: C, x0: src.x0 / 2, y0: src.y0 / 2,
    fullWidth: Math.ceil(src.fullWidth / 2), fullHeight: Math.ceil(src.fullHeight / 2),
  };
}

/** OpenCV getGaussianKernel(ksize, sigma) (sigma > 0), as float32 values for float data. */
export function gaussianKernel(ksize: number, sigma: number, asFloat32: boolean): Float64Array {
  const k = new Float64Array(ksize);
  if (ksize === 1) {
    k[0] = 1;
    return k;
  }
  const scale2X = -0.5 / (sigma * sigma);
  let sum = 0;
  for (let i = 0; i < ksize; i++) {
    const x = i - (ksize - 1) * 0.5;
    const t = Math.exp(scale2X * x * x);
    k[i] = t;
    sum += t;
  }
  sum = 1 / sum;
  for (let i = 0; i < ksize; i++) k[i] = asFloat32 ? Math.fround(k[i]! * sum) : k[i]! * sum;
  return k;
}

/**
 * Separable Gaussian blur with reflect-101 borders (at the window's edges),
 * rows then columns, float64 sums; float results are rounded to float32 after
 * each pass, integer results once at the end (within 1 DN of OpenCV's
 * fixed-point kernels, README C5).
 */
export function gaussianBlur(src: SourceWindow, dtype: Dtype, kx: number, sigmaX: number, ky: number, sigmaY: number): SourceWindow {
  const { width: w, height: h, bands: C, data } = src;
  if ((kx <= 1 && ky <= 1) || w === 0 || h === 0 || C === 0) return src;
  const isFloat = isFloatDtype(dtype);
  const kxv = gaussianKernel(kx, sigmaX, isFloat);
  const kyv = gaussianKernel(ky, sigmaY, isFloat);
  const rx = kx >> 1;
  const ry = ky >> 1;
  const rs = w * C;
  // rows: one band of one row at a time, padded by reflection, then a plain convolution
  const tmp = new Float64Array(h * rs);
  const pad = new Float64Array(w + 2 * rx);
  const padSrc = new Int32Array(w + 2 * rx);
  for (let i = 0; i < padSrc.length; i++) padSrc[i] = reflect101(i - rx, w) * C;
  for (let y = 0; y < h; y++) {
    const s = y * rs;
    for (let b = 0; b < C; b++) {
      for (let i = 0; i < pad.length; i++) pad[i] = data[s + padSrc[i]! + b]!;
      for (let x = 0, o = s + b; x < w; x++, o += C) {
        let acc = 0;
        for (let t = 0; t < kx; t++) acc += pad[x + t]! * kxv[t]!;
        tmp[o] = isFloat ? Math.fround(acc) : acc;
      }
    }
  }
  // columns: accumulate whole rows, weight by weight
  const out = new DTYPES[dtype].ctor(h * rs) as TypedArray;
  const acc = new Float64Array(rs);
  const lo = DTYPES[dtype].min;
  const hi = DTYPES[dtype].max;
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    for (let t = 0; t < ky; t++) {
      const off = reflect101(y + t - ry, h) * rs;
      const kv = kyv[t]!;
      for (let k = 0; k < rs; k++) acc[k] += tmp[off + k]! * kv;
    }
    const o = y * rs;
    if (isFloat) {
      for (let k = 0; k < rs; k++) out[o + k] = acc[k]!;
    } else {
      for (let k = 0; k < rs; k++) {
        const r = rne(acc[k]!);
        out[o + k] = r < lo ? lo : r > hi ? hi : r;
      }
    }
  }
  return { ...src, data: out };
}
