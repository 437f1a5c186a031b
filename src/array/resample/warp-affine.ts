/**
 * warpAffine: one resampling of a raster by an affine map in the
 * pixel-corner convention, with the samplers Python kwcoco's `imdelay`
 * uses (fixtures README C1-C5), so results agree with Python pixel for pixel:
 *
 * - 'linear' (and 'area', which OpenCV's warpAffine runs as linear): OpenCV's
 *   fixed-point bilinear (bilinear.ts), optionally antialiased when
 *   downscaling (antialias.ts);
 * - 'nearest': kwcoco's choice of sampler by the decomposed matrix (C3):
 *   pure scale -> OpenCV resize of the whole source onto the whole canvas,
 *   axis-aligned with a translation -> `floor((x - t) / s)`, otherwise
 *   OpenCV's fixed-point nearest warp. Two Python defects are not ported:
 *   nearest never warps by the inverse matrix (C3c), and indices past the
 *   source's edge give the border value instead of an IndexError (C3b).
 *
 * Dtypes: float input (or any input with `nodata`) -> float32, NaN outside
 * the source and at nodata; integer input -> the same dtype (linear rounds
 * half to even and clamps, as OpenCV), 0 outside the source.
 */
import type { Affine } from '../affine.ts';
import { DTYPES, type Dtype, type TypedArray } from '../dtypes.ts';
import { ShapeError, ValueError } from '../errors.ts';
import { Raster } from '../raster.ts';
import { antialiasMargin, antialiasPlan, gaussianBlur, pyrDown, type AntialiasPlan } from './antialias.ts';
import { bilinearWarp, type BilinearKind } from './bilinear.ts';
import type { DestWindow, SourceWindow } from './geometry.ts';
import { floorIndex, gatherSeparable, nearestWarp, resizeNearestIndex } from './nearest.ts';
import { cornerToCenter, decompose6, invertOpenCV, type Matrix6 } from './opencv-affine.ts';
import { shiftCopy } from './shift-copy.ts';

/** Resampling kernels. 'area' is run as 'linear' (OpenCV's warpAffine does the same). */
export type Interpolation = 'nearest' | 'linear' | 'area';
const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'linear', 'area'];

/** Largest canvas / source side the fixed-point kernels handle (coordinates * 1024 must fit in 31 bits). */
export const MAX_FIXED_POINT_SIZE = 1 << 20;

/** Which nearest sampler runs: kwcoco's choice by the matrix ('auto'), or always the fixed-point warp ('warp'). */
export type NearestMode = 'auto' | 'warp';

export interface WarpAffineOptions {
  /** `[width, height]` of the whole output canvas */
  dsize: readonly [number, number];
  /** default 'linear' */
  interpolation?: Interpolation;
  /** Gaussian pre-filter when a linear warp downscales (kwimage's antialias); default false */
  antialias?: boolean;
  /** source value read as missing (NaN); makes the output float32 */
  nodata?: number | null;
  /** default 'auto' (kwcoco's samplers) */
  nearest?: NearestMode;
  /** compute only this window of the canvas (default: all of it); the result has the window's size */
  dstWindow?: DestWindow;
  /**
   * `src` is the window at `srcOrigin` (x, y) of a larger source of `srcSize`
   * (width, height) (defaults: [0, 0] and src's own size); `transform` maps
   * that larger source. The window must hold every pixel the output needs
   * (see `sourceWindowFor`).
   */
  srcOrigin?: readonly [number, number];
  srcSize?: readonly [number, number];
}

/** How a warp will run, decided once from the matrix and options. */
export type WarpPlan =
  | { kind: 'copy' }
  | { kind: 'shift'; dx: number; dy: number }
  | { kind: 'resize-nearest' }
  | { kind: 'floor-nearest'; tx: number; ty: number; sx: number; sy: number }
  | { kind: 'warp-nearest'; inv: Matrix6 }
  | { kind: 'linear'; inv: Matrix6; antialias: AntialiasPlan | null };

function checkSize(v: unknown, what: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ValueError(`${what} must be [width, height] of non-negative integers, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

function isInt(v: number): boolean {
  return Number.isInteger(v);
}

/**
 * Decides the sampler (kwcoco's rules) for a corner-convention matrix from a
 * source of `srcSize` onto a canvas of `dsize`. `floatData` says whether the
 * data sampled is float (the linear border rule on the last row / column).
 */
export function planWarp(transform: Affine, srcSize: readonly [number, number], dsize: readonly [number, number],
  interpolation: Interpolation, antialias: boolean, nearest: NearestMode, floatData: boolean): WarpPlan {
  const m = transform.matrix;
  if (transform.isIdentity() && dsize[0] === srcSize[0] && dsize[1] === srcSize[1]) return { kind: 'copy' };
  const intShift = m[0] === 1 && m[1] === 0 && m[3] === 0 && m[4] === 1 && isInt(m[2]!) && isInt(m[5]!);
  if (interpolation === 'nearest') {
    if (nearest === 'auto') {
      const p = decompose6([m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!]);
      const aligned = Math.abs(p.theta) < 1e-9 && Math.abs(p.shearx) < 1e-9 && p.sx > 0 && p.sy > 0;
      if (aligned && Math.abs(p.tx) < 1e-9 && Math.abs(p.ty) < 1e-9) return { kind: 'resize-nearest' };
      if (intShift) return { kind: 'shift', dx: m[2]!, dy: m[5]! };
      if (aligned) return { kind: 'floor-nearest', tx: p.tx, ty: p.ty, sx: p.sx, sy: p.sy };
    } else if (intShift) {
      return { kind: 'shift', dx: m[2]!, dy: m[5]! };
    }
    return { kind: 'warp-nearest', inv: invertOpenCV(cornerToCenter(transform)) };
  }
  const mc = cornerToCenter(transform);
  const aa = antialias ? antialiasPlan(mc) : null;
  // integer data: an integer shift is an exact copy (weights 1, 0, 0, 0). Float data
  // is not: a NaN neighbour at weight 0 still gives NaN (C4), so it takes the kernel.
  if (intShift && !floatData && (!aa || (aa.numDowns === 0 && aa.kx === 1 && aa.ky === 1))) {
    return { kind: 'shift', dx: m[2]!, dy: m[5]! };
  }
  return { kind: 'linear', inv: invertOpenCV(aa ? aa.warp : mc), antialias: aa };
}

/** An axis-aligned pixel rectangle [x0, x1) x [y0, y1). */
export interface PixelRect { x0: number; y0: number; x1: number; y1: number }

function clipRect(r: PixelRect, w: number, h: number): PixelRect {
  const x0 = Math.min(Math.max(r.x0, 0), w);
  const y0 = Math.min(Math.max(r.y0, 0), h);
  return { x0, y0, x1: Math.min(Math.max(r.x1, x0), w), y1: Math.min(Math.max(r.y1, y0), h) };
}

function idxRange(idx: Int32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi + 1];
}

/**
 * The rectangle of the (logical) source that `warpAffine` needs to compute
 * `dstWindow` of the canvas under `plan`, clipped to the source (it may be
 * empty). Reading just this window and passing it with `srcOrigin` gives the
 * same pixels as warping the whole source.
 */
export function sourceWindowFor(plan: WarpPlan, srcSize: readonly [number, number], dsize: readonly [number, number], dst: DestWindow): PixelRect {
  const [W, H] = srcSize;
  if (dst.width === 0 || dst.height === 0) return { x0: 0, y0: 0, x1: 0, y1: 0 };
  switch (plan.kind) {
    case 'copy':
      return clipRect({ x0: dst.x0, y0: dst.y0, x1: dst.x0 + dst.width, y1: dst.y0 + dst.height }, W, H);
    case 'shift':
      return clipRect({ x0: dst.x0 - plan.dx, y0: dst.y0 - plan.dy, x1: dst.x0 + dst.width - plan.dx, y1: dst.y0 + dst.height - plan.dy }, W, H);
    case 'resize-nearest':
    case 'floor-nearest': {
      const { x, y } = separableIndices(plan, srcSize, dsize, dst);
      const [x0, x1] = idxRange(x);
      const [y0, y1] = idxRange(y);
      return clipRect({ x0, y0, x1, y1 }, W, H);
    }
    case 'warp-nearest':
    case 'linear': {
      const inv = plan.inv;
      let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
      for (const X of [dst.x0, dst.x0 + dst.width - 1]) {
        for (const Y of [dst.y0, dst.y0 + dst.height - 1]) {
          const sx = inv[0] * X + inv[1] * Y + inv[2];
          const sy = inv[3] * X + inv[4] * Y + inv[5];
          xmin = Math.min(xmin, sx); xmax = Math.max(xmax, sx);
          ymin = Math.min(ymin, sy); ymax = Math.max(ymax, sy);
        }
      }
      let r: PixelRect = { x0: Math.floor(xmin) - 2, y0: Math.floor(ymin) - 2, x1: Math.ceil(xmax) + 3, y1: Math.ceil(ymax) + 3 };
      if (plan.kind === 'linear' && plan.antialias) {
        const { margin, align } = antialiasMargin(plan.antialias);
        // the inverse maps into the reduced source: scale back to full resolution
        r = { x0: r.x0 * align - margin, y0: r.y0 * align - margin, x1: r.x1 * align + margin, y1: r.y1 * align + margin };
        r = clipRect(r, W, H);
        return { x0: r.x0 - (r.x0 % align), y0: r.y0 - (r.y0 % align), x1: r.x1, y1: r.y1 };
      }
      return clipRect(r, W, H);
    }
  }
}

function separableIndices(plan: WarpPlan, srcSize: readonly [number, number], dsize: readonly [number, number], dst: DestWindow): { x: Int32Array; y: Int32Array } {
  if (plan.kind === 'resize-nearest') {
    return {
      x: resizeNearestIndex(dsize[0], srcSize[0], dst.x0, dst.width),
      y: resizeNearestIndex(dsize[1], srcSize[1], dst.y0, dst.height),
    };
  }
  if (plan.kind === 'floor-nearest') {
    return { x: floorIndex(plan.tx, plan.sx, dst.x0, dst.width), y: floorIndex(plan.ty, plan.sy, dst.y0, dst.height) };
  }
  throw new ValueError(`internal: no separable indices for a ${plan.kind} warp`);
}

/** The source as the kernels sample it: float32 with NaN at nodata, or the integer data as is. */
function prepareSource(src: Raster, nodata: number | null | undefined): { data: TypedArray; dtype: Dtype } {
  const isFloat = DTYPES[src.dtype].isFloat;
  const hasNodata = nodata !== null && nodata !== undefined;
  if (!hasNodata && (src.dtype === 'float32' || !isFloat)) return { data: src.data, dtype: src.dtype };
  const out = new Float32Array(src.data.length);
  const d = src.data;
  if (hasNodata) {
    const nd = nodata as number;
    const ndIsNaN = Number.isNaN(nd);
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      out[i] = v === nd || (ndIsNaN && v !== v) ? NaN : v;
    }
  } else {
    out.set(d as never);
  }
  return { data: out, dtype: 'float32' };
}

/**
 * Warps `src` by `transform` (source pixel corners -> canvas pixel corners)
 * onto a canvas of `dsize` (or the `dstWindow` part of it).
 *
 * @example
 * // upsample x2 (linear: NaN ring at the far border, as OpenCV/kwcoco)
 * const up = warpAffine(raster, Affine.scale(2), { dsize: [2 * w, 2 * h], interpolation: 'linear' });
 */
export function warpAffine(src: Raster, transform: Affine, options: WarpAffineOptions): Raster {
  if (options === null || typeof options !== 'object') throw new ValueError(`warpAffine options must be an object with dsize, got ${JSON.stringify(options)}`);
  const dsize = checkSize(options.dsize, 'dsize');
  const interpolation = options.interpolation ?? 'linear';
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new ValueError(`unknown interpolation ${JSON.stringify(interpolation)}; expected one of ${INTERPOLATIONS.join(', ')}`);
  }
  const nearest = options.nearest ?? 'auto';
  if (nearest !== 'auto' && nearest !== 'warp') throw new ValueError(`nearest mode ${JSON.stringify(nearest)} is not 'auto' or 'warp'`);
  const [sh, sw, C] = src.shape;
  const origin = options.srcOrigin ? checkSize(options.srcOrigin, 'srcOrigin') : [0, 0];
  const srcSize = options.srcSize ? checkSize(options.srcSize, 'srcSize') : ([sw, sh] as [number, number]);
  if (origin[0] + sw > srcSize[0] || origin[1] + sh > srcSize[1]) {
    throw new ShapeError(`source window ${sw}x${sh} at (${origin[0]}, ${origin[1]}) does not lie inside the ${srcSize[0]}x${srcSize[1]} source`, src.shape);
  }
  const dst = options.dstWindow ?? { x0: 0, y0: 0, width: dsize[0], height: dsize[1] };
  if (![dst.x0, dst.y0, dst.width, dst.height].every((v) => Number.isInteger(v)) || dst.width < 0 || dst.height < 0) {
    throw new ValueError(`dstWindow ${JSON.stringify(dst)} must have integer x0, y0 and non-negative width, height`);
  }
  const { data, dtype } = prepareSource(src, options.nodata);
  const floatData = DTYPES[dtype].isFloat;
  const border = floatData ? NaN : 0;
  const outDtype: Dtype = floatData ? 'float32' : dtype;
  const out = new DTYPES[outDtype].ctor(dst.width * dst.height * C) as TypedArray;
  const result = new Raster(out, [dst.height, dst.width, C]);
  if (dst.width === 0 || dst.height === 0 || C === 0) return result;
  let source: SourceWindow = { data, width: sw, height: sh, bands: C, x0: origin[0], y0: origin[1], fullWidth: srcSize[0], fullHeight: srcSize[1] };
  const plan = planWarp(transform, srcSize, dsize, interpolation, options.antialias ?? false, nearest, floatData);
  if ((plan.kind === 'linear' || plan.kind === 'warp-nearest') && Math.max(...dsize, ...srcSize) > MAX_FIXED_POINT_SIZE) {
    throw new ValueError(`a ${interpolation} warp of a ${srcSize[0]}x${srcSize[1]} source onto a ${dsize[0]}x${dsize[1]} canvas: ` +
      `OpenCV's fixed-point coordinates (1/1024 px in 32 bits) allow at most ${MAX_FIXED_POINT_SIZE} px per side; warp tiles of it`);
  }
  switch (plan.kind) {
    case 'copy':
      shiftCopy(source, 0, 0, dst, out, border);
      break;
    case 'shift':
      shiftCopy(source, plan.dx, plan.dy, dst, out, border);
      break;
    case 'resize-nearest':
    case 'floor-nearest': {
      const { x, y } = separableIndices(plan, srcSize, dsize, dst);
      gatherSeparable(source, x, y, dst, out, border);
      break;
    }
    case 'warp-nearest':
      nearestWarp(source, plan.inv, dst, out, border);
      break;
    case 'linear': {
      const aa = plan.antialias;
      if (aa) {
        for (let i = 0; i < aa.numDowns; i++) source = pyrDown(source, dtype);
        source = gaussianBlur(source, dtype, aa.kx, aa.sigmaX, aa.ky, aa.sigmaY);
      }
      const kind: BilinearKind = floatData ? 'float' : dtype === 'uint8' ? 'u8' : 'int';
      bilinearWarp(source, plan.inv, dst, out, kind, border, DTYPES[dtype].min, DTYPES[dtype].max);
      break;
    }
  }
  return result;
}
