/**
 * Windows of a larger grid, as the resampling kernels see them. Kernels work
 * in the coordinates of the whole ("logical") source and the whole output
 * canvas, so computing a window of the output gives exactly the pixels of the
 * same window of the whole result (the fixed-point arithmetic of OpenCV
 * depends on the absolute pixel index).
 */
import type { TypedArray } from '../dtypes.ts';
import { ValueError } from '../errors.ts';

/** Source pixels: an HWC window at (x0, y0) of a logical source of fullWidth x fullHeight. */
export interface SourceWindow {
  readonly data: TypedArray;
  readonly width: number;
  readonly height: number;
  readonly bands: number;
  readonly x0: number;
  readonly y0: number;
  readonly fullWidth: number;
  readonly fullHeight: number;
}

/** The part of the output canvas to compute: columns [x0, x0+width), rows [y0, y0+height). */
export interface DestWindow {
  readonly x0: number;
  readonly y0: number;
  readonly width: number;
  readonly height: number;
}

/** The error a kernel raises when a needed source pixel lies inside the logical source but outside the window read. */
export function windowTooSmall(src: SourceWindow, ix: number, iy: number): ValueError {
  return new ValueError(
    `source pixel (x=${ix}, y=${iy}) is needed but the source window covers only x ${src.x0}..${src.x0 + src.width}, ` +
      `y ${src.y0}..${src.y0 + src.height} of the ${src.fullWidth}x${src.fullHeight} source; expected a window with enough margin`,
  );
}

/**
 * The sample of band `b` at logical source pixel (ix, iy), or `border` when
 * the pixel lies outside the logical source. Throws when it lies inside the
 * logical source but outside the window.
 */
export function sampleOrBorder(src: SourceWindow, ix: number, iy: number, b: number, border: number): number {
  if (ix < 0 || iy < 0 || ix >= src.fullWidth || iy >= src.fullHeight) return border;
  const lx = ix - src.x0;
  const ly = iy - src.y0;
  if (lx < 0 || ly < 0 || lx >= src.width || ly >= src.height) throw windowTooSmall(src, ix, iy);
  return src.data[(ly * src.width + lx) * src.bands + b]!;
}
