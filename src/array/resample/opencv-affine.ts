/**
 * The matrix arithmetic OpenCV's warpAffine and kwimage's warp_affine do
 * before sampling (fixtures README C1, C4, C5), with the same floating-point
 * operation order so that the fixed-point source coordinates agree bit for bit.
 *
 * Matrices here are plain 6-number arrays `[a, b, c, d, e, f]`
 * (`x' = a x + b y + c`, `y' = d x + e y + f`).
 */
import { Affine } from '../affine.ts';
import { ValueError } from '../errors.ts';

/** A 2x3 affine matrix, row-major. */
export type Matrix6 = [number, number, number, number, number, number];

/**
 * Pixel-corner to pixel-centre convention: `T(-0.5) . M . T(+0.5)`, evaluated
 * left to right as numpy does for kwimage's `Affine.__matmul__`.
 */
export function cornerToCenter(m: Affine): Matrix6 {
  const [a, b, c, d, e, f] = m.matrix as unknown as Matrix6;
  const c1 = c - 0.5;
  const f1 = f - 0.5;
  return [a, b, a * 0.5 + b * 0.5 + c1, d, e, d * 0.5 + e * 0.5 + f1];
}

/**
 * OpenCV's `invertAffineTransform` as warpAffine does it (double):
 * `D = 1/(a e - b d)`, `a' = e D`, `b' = -b D`, `d' = -d D`, `e' = a D`,
 * `c' = -a' c - b' f`, `f' = -d' c - e' f`.
 */
export function invertOpenCV(m: Matrix6): Matrix6 {
  const [a, b, c, d, e, f] = m;
  let D = a * e - b * d;
  if (D === 0 || !Number.isFinite(D)) {
    throw new ValueError(`affine matrix [${m.join(', ')}] is singular (determinant ${D}); expected an invertible warp`);
  }
  D = 1 / D;
  const A11 = e * D;
  const A22 = a * D;
  const A12 = -b * D;
  const A21 = -d * D;
  const B1 = -A11 * c - A12 * f;
  const B2 = -A21 * c - A22 * f;
  return [A11, A12, B1, A21, A22, B2];
}

/** Round half to even, as OpenCV's cvRound / saturate_cast<int>(double). */
export function rne(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The decomposition kwimage uses (fixtures README C1) of a 2x3 matrix. */
export function decompose6(m: Matrix6): { sx: number; sy: number; theta: number; shearx: number; tx: number; ty: number } {
  const p = new Affine([m[0], m[1], m[2], m[3], m[4], m[5]]).decompose();
  return { sx: p.scale[0], sy: p.scale[1], theta: p.theta, shearx: p.shearx, tx: p.offset[0], ty: p.offset[1] };
}
