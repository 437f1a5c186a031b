/**
 * The fast path of a warp by an integer translation: output pixel (x, y)
 * is source pixel (x - dx, y - dy), copied a row span at a time.
 */
import type { TypedArray } from '../dtypes.ts';
import { windowTooSmall, type DestWindow, type SourceWindow } from './geometry.ts';

/**
 * Fills `out` (HWC) with the source shifted by (dx, dy) (integers); pixels
 * from outside the source get `border`. (Nearest warps, and linear warps of
 * integer data, where the weights are exactly 1, 0, 0, 0.)
 */
export function shiftCopy(src: SourceWindow, dx: number, dy: number, dst: DestWindow, out: TypedArray, border: number): void {
  const C = src.bands;
  const rowLen = dst.width * C;
  const xEnd = src.fullWidth;
  const yEnd = src.fullHeight;
  // canvas columns whose source column lies in [0, xEnd)
  const i0 = Math.min(Math.max(0 + dx - dst.x0, 0), dst.width);
  const i1 = Math.min(Math.max(xEnd + dx - dst.x0, i0), dst.width);
  for (let j = 0; j < dst.height; j++) {
    const o = j * rowLen;
    const iy = dst.y0 + j - dy;
    if (iy < 0 || iy >= yEnd || i1 === i0) {
      out.fill(border, o, o + rowLen);
      continue;
    }
    if (i0 > 0) out.fill(border, o, o + i0 * C);
    if (i1 < dst.width) out.fill(border, o + i1 * C, o + rowLen);
    const ix0 = dst.x0 + i0 - dx;
    const ix1 = dst.x0 + i1 - dx;
    const lx0 = ix0 - src.x0;
    const ly = iy - src.y0;
    if (lx0 < 0 || ly < 0 || ly >= src.height || ix1 - src.x0 > src.width) throw windowTooSmall(src, ix0, iy);
    const s = (ly * src.width + lx0) * C;
    out.set(src.data.subarray(s, s + (i1 - i0) * C) as never, o + i0 * C);
  }
}
