/**
 * 2-D affine transforms as kwimage / kwcoco use them: a 3x3 row-major matrix
 * acting on column vectors `[x, y, 1]` (x = column, y = row). Warps between
 * kwcoco spaces (asset -> image -> video) follow the pixel-corner convention:
 * pixel (col i, row j) is the square [i, i+1) x [j, j+1) (pixel-is-area).
 *
 * Parameter dictionaries ("TransformSpec", e.g. `{scale: 2, type: 'affine'}`)
 * resolve as `T(about) . T(offset) . R(theta) . Shx(shearx) . S(sx, sy) . T(-about)`,
 * with the same floating-point operation order as kwimage's `Affine.affine`, so
 * the resolved matrices agree with Python's to the last bit where libm agrees.
 */
import { ValueError } from './errors.ts';

/** A pair given as one number (both axes) or as `[x, y]`. */
export type Pair = number | readonly [number, number] | [number, number];

/** The concise parameter form of a kwcoco transform. */
export interface AffineParams {
  type?: 'affine';
  matrix?: number[][] | null;
  scale?: number | [number, number];
  offset?: number | [number, number];
  theta?: number;
  shearx?: number;
  /** Legacy alias of `shearx` (x-shear factor); see {@link Affine.coerce}. */
  skew?: number;
  about?: number | [number, number];
}

/**
 * Anything {@link Affine.coerce} accepts: a kwcoco TransformSpec dict (3x3 or
 * 2x3 `matrix`, or concise params), nested 3x3 / 2x3 lists, an Affine, or
 * null / undefined (identity).
 */
export type TransformSpec = AffineParams | number[][] | readonly (readonly number[])[] | Affine | null | undefined;

/** The result of {@link Affine.decompose} (fixtures README C1). */
export interface AffineDecomposition {
  scale: [number, number];
  offset: [number, number];
  theta: number;
  shearx: number;
}

/** kwimage's concise dict: identity parts dropped, equal pairs as scalars. */
export interface ConciseAffine {
  offset?: number | [number, number];
  scale?: number | [number, number];
  shearx?: number;
  theta?: number;
  type: 'affine';
}

const KNOWN_PARAMS = new Set(['type', 'matrix', 'scale', 'offset', 'theta', 'shearx', 'shear', 'skew', 'about']);

function fmt(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(`${what} must be a finite number, got ${fmt(v)}`);
  }
  return v;
}

function pair(v: unknown, dflt: number, what: string): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') {
    finite(v, what);
    return [v, v];
  }
  if (Array.isArray(v) && v.length === 2) return [finite(v[0], what), finite(v[1], what)];
  throw new ValueError(`${what} must be a number or a pair [x, y], got ${fmt(v)}`);
}

function scalar(v: unknown, dflt: number, what: string): number {
  if (v === undefined || v === null) return dflt;
  return finite(v, what);
}

/** Python's math.isclose with its defaults (rel_tol=1e-9, abs_tol=0). */
function isclose(a: number, b: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function matrixFromNested(m: unknown): number[] {
  if (!Array.isArray(m) || (m.length !== 3 && m.length !== 2)) {
    throw new ValueError(`an affine matrix must be 3x3 or 2x3 nested lists, got ${fmt(m)}`);
  }
  const flat: number[] = [];
  for (const row of m) {
    if (!Array.isArray(row) || row.length !== 3) {
      throw new ValueError(`an affine matrix must be 3x3 or 2x3 nested lists, got ${fmt(m)}`);
    }
    for (const v of row) flat.push(finite(v, 'affine matrix entry'));
  }
  return flat;
}

/**
 * An immutable 2-D affine transform, stored as a row-major 3x3 matrix
 * `[a, b, c, d, e, f, 0, 0, 1]`: `x' = a x + b y + c`, `y' = d x + e y + f`.
 *
 * @example
 * const A = Affine.coerce({ scale: 2, offset: [1, 0], type: 'affine' });
 * A.apply([[1, 1]]);                 // [[3, 2]]
 * A.inv().matmul(A).isIdentity();    // true (up to rounding: use equals(eye, 1e-12))
 * Affine.scale(2).concise();         // { scale: 2, type: 'affine' }
 */
export class Affine {
  /** 9 numbers, row-major 3x3. */
  readonly matrix: readonly number[];

  /** From 9 numbers (row-major 3x3) or 6 (the top two rows; the last row is [0, 0, 1]). */
  constructor(matrix: ArrayLike<number>) {
    const n = matrix.length;
    if (n !== 9 && n !== 6) {
      throw new ValueError(`Affine needs 9 (3x3) or 6 (2x3) numbers, got ${n}`);
    }
    const m: number[] = new Array(9);
    for (let i = 0; i < n; i++) m[i] = finite(matrix[i], 'affine matrix entry') + 0; // + 0 turns -0 into 0
    if (n === 6) {
      m[6] = 0;
      m[7] = 0;
      m[8] = 1;
    }
    this.matrix = Object.freeze(m);
  }

  /**
   * Resolves a kwcoco / kwimage TransformSpec:
   * - null / undefined / `{type: 'affine'}` / `{}` -> identity;
   * - an Affine -> itself;
   * - nested lists (3x3 or 2x3), or `{matrix: [[...], ...]}` (`matrix: null` = identity);
   * - concise params `scale` (scalar or [sx, sy]), `offset` (scalar or [tx, ty]),
   *   `theta` (radians, counter-clockwise in x-right / y-down pixel axes as kwimage),
   *   `shearx` (x-shear factor), `about` (the fixed point, scalar or pair),
   *   composed as `T(about) T(offset) R(theta) Shx(shearx) S(sx, sy) T(-about)`.
   * - `shear` and `skew` are read as `shearx`: `shear` is kwimage's deprecated
   *   name for it (kwimage reads it as shearx too); `skew` appears in kwcoco
   *   TransformSpec documentation, kwimage itself rejects it, we read it as the
   *   same x-shear factor. Giving two of them with different values is an error.
   * Unknown keys, non-finite numbers and any other type are a ValueError.
   */
  static coerce(spec: TransformSpec): Affine {
    if (spec === null || spec === undefined) return Affine.eye();
    if (spec instanceof Affine) return spec;
    if (Array.isArray(spec)) return new Affine(matrixFromNested(spec));
    if (typeof spec !== 'object') {
      throw new ValueError(`cannot coerce ${fmt(spec)} to an Affine: expected a transform dict, nested lists, an Affine or null`);
    }
    const obj = spec as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
    const unknown = keys.filter((k) => !KNOWN_PARAMS.has(k));
    if (unknown.length > 0) {
      throw new ValueError(
        `unknown transform parameter(s) ${unknown.join(', ')} in ${fmt(spec)}; expected matrix, scale, offset, theta, shearx, about, type`,
      );
    }
    if (obj.type !== undefined && obj.type !== 'affine' && !('matrix' in obj)) {
      throw new ValueError(`transform type ${fmt(obj.type)} is not supported; expected 'affine'`);
    }
    if ('matrix' in obj && obj.matrix !== undefined) {
      if (obj.matrix === null) return Affine.eye();
      return new Affine(matrixFromNested(obj.matrix));
    }
    const shearNames = ['shearx', 'shear', 'skew'].filter((k) => obj[k] !== undefined && obj[k] !== null);
    let shearx: number | undefined;
    for (const k of shearNames) {
      const v = finite(obj[k], k);
      if (shearx !== undefined && v !== shearx) {
        throw new ValueError(`conflicting shear values: ${shearNames.map((n) => `${n}=${fmt(obj[n])}`).join(', ')}`);
      }
      shearx = v;
    }
    const params = keys.filter((k) => k !== 'type');
    // kwimage's fast paths for one-key dicts (same numbers as the general formula).
    if (params.length === 1 && params[0] === 'scale') return Affine.scale(pair(obj.scale, 1, 'scale'));
    if (params.length === 1 && params[0] === 'offset') {
      const [tx, ty] = pair(obj.offset, 0, 'offset');
      return Affine.translate(tx, ty);
    }
    return Affine.affine({
      scale: pair(obj.scale, 1, 'scale'),
      offset: pair(obj.offset, 0, 'offset'),
      theta: scalar(obj.theta, 0, 'theta'),
      shearx: shearx ?? 0,
      about: pair(obj.about, 0, 'about'),
    });
  }

  /**
   * Builds `T(about) T(offset) R(theta) Shx(shearx) S(sx, sy) T(-about)` from
   * parameters (missing ones take their identity value), in kwimage's
   * operation order.
   */
  static affine(params: { scale?: Pair; offset?: Pair; theta?: number; shearx?: number; about?: Pair } = {}): Affine {
    const [sx, sy] = pair(params.scale, 1, 'scale');
    const [tx, ty] = pair(params.offset, 0, 'offset');
    const [x0, y0] = pair(params.about, 0, 'about');
    const theta = scalar(params.theta, 0, 'theta');
    const shx = scalar(params.shearx, 0, 'shearx');
    const cosT = Math.cos(theta);
    const sinT = Math.sin(theta);
    const sxCos = sx * cosT;
    const sxSin = sx * sinT;
    const syCos = sy * cosT;
    const sySin = sy * sinT;
    const a12 = shx * syCos - sySin;
    const a22 = shx * sySin + syCos;
    const tx2 = tx + x0 - x0 * sxCos - y0 * a12;
    const ty2 = ty + y0 - x0 * sxSin - y0 * a22;
    return new Affine([sxCos, a12, tx2, sxSin, a22, ty2, 0, 0, 1]);
  }

  /** The identity. */
  static eye(): Affine {
    return new Affine([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  }

  /** A scale by `s` (one number for both axes, or [sx, sy]). */
  static scale(s: number | readonly [number, number]): Affine {
    const [sx, sy] = pair(s, 1, 'scale');
    return new Affine([sx, 0, 0, 0, sy, 0, 0, 0, 1]);
  }

  /** A translation by (tx, ty). */
  static translate(tx: number, ty: number): Affine {
    return new Affine([1, 0, finite(tx, 'tx'), 0, 1, finite(ty, 'ty'), 0, 0, 1]);
  }

  /** A counter-clockwise rotation by `theta` radians about the origin (or `about`). */
  static rotate(theta: number, about?: Pair): Affine {
    return Affine.affine({ theta, about });
  }

  /**
   * From a GDAL geotransform `[c, a, b, f, d, e]` (x_geo = c + a col + b row,
   * y_geo = f + d col + e row), pixel-corner convention: pixel -> CRS.
   */
  static fromGdal(gt: readonly number[]): Affine {
    if (gt.length !== 6) throw new ValueError(`a GDAL geotransform has 6 numbers, got ${gt.length}: ${fmt(gt)}`);
    const [c, a, b, f, d, e] = gt as [number, number, number, number, number, number];
    return new Affine([a, b, c, d, e, f, 0, 0, 1]);
  }

  /** The GDAL geotransform `[c, a, b, f, d, e]` of this (pixel -> CRS) transform. */
  toGdal(): number[] {
    const m = this.matrix;
    return [m[2]!, m[0]!, m[1]!, m[5]!, m[3]!, m[4]!];
  }

  /** `this @ other`: the transform that applies `other` first, then `this`. */
  matmul(other: Affine): Affine {
    const A = this.matrix;
    const B = other.matrix;
    const out: number[] = new Array(9);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        out[i * 3 + j] = A[i * 3]! * B[j]! + A[i * 3 + 1]! * B[3 + j]! + A[i * 3 + 2]! * B[6 + j]!;
      }
    }
    return new Affine(out);
  }

  /**
   * The inverse transform; a ValueError when the matrix is singular.
   * Affine matrices use the closed 2x2 form (and exact reciprocals when
   * there is no rotation / shear, so `scale(0.1).inv()` is exactly `scale(10)`).
   */
  inv(): Affine {
    const [a, b, c, d, e, f, g, h, i] = this.matrix as unknown as [number, number, number, number, number, number, number, number, number];
    if (g === 0 && h === 0 && i === 1) {
      if (b === 0 && d === 0) {
        if (a === 0 || e === 0) {
          throw new ValueError(`affine matrix [${this.matrix.join(', ')}] is singular (determinant 0) and has no inverse`);
        }
        return new Affine([1 / a, 0, -c / a, 0, 1 / e, -f / e, 0, 0, 1]);
      }
      const det2 = a * e - b * d;
      if (det2 === 0 || !Number.isFinite(det2)) {
        throw new ValueError(`affine matrix [${this.matrix.join(', ')}] is singular (determinant ${det2}) and has no inverse`);
      }
      const ia = e / det2;
      const ib = -b / det2;
      const id = -d / det2;
      const ie = a / det2;
      return new Affine([ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f), 0, 0, 1]);
    }
    const A = e * i - f * h;
    const B = -(d * i - f * g);
    const C = d * h - e * g;
    const det = a * A + b * B + c * C;
    if (det === 0 || !Number.isFinite(det)) {
      throw new ValueError(`affine matrix [${this.matrix.join(', ')}] is singular (determinant ${det}) and has no inverse`);
    }
    const D = -(b * i - c * h);
    const E = a * i - c * g;
    const F = -(a * h - b * g);
    const G = b * f - c * e;
    const H = -(a * f - c * d);
    const I = a * e - b * d;
    return new Affine([A / det, D / det, G / det, B / det, E / det, H / det, C / det, F / det, I / det]);
  }

  /** Determinant of the 2x2 linear part (ae - bd). */
  det(): number {
    const m = this.matrix;
    return m[0]! * m[4]! - m[1]! * m[3]!;
  }

  /** Applies the transform to (x, y) points. */
  apply(points: ReadonlyArray<readonly [number, number]>): [number, number][] {
    const [a, b, c, d, e, f] = this.matrix as unknown as [number, number, number, number, number, number];
    return points.map(([x, y]) => [a * x + b * y + c, d * x + e * y + f] as [number, number]);
  }

  /**
   * Decomposes into scale, offset, theta and shearx such that
   * `Affine.affine(decompose())` rebuilds the matrix (fixtures README C1):
   * `sx = sqrt(a11^2 + a21^2)`, `theta = atan2(a21, a11)`,
   * `m = a12 cos + a22 sin`, `sy = (a22 - m sin)/cos` if |cos| >= |sin| else
   * `(m cos - a12)/sin`, `shearx = m / sy`, `offset = (a13, a23)`.
   */
  decompose(): AffineDecomposition {
    const [a11, a12, a13, a21, a22, a23] = this.matrix as unknown as [number, number, number, number, number, number];
    const sx = Math.sqrt(a11 * a11 + a21 * a21);
    const theta = Math.atan2(a21, a11);
    const sinT = Math.sin(theta);
    const cosT = Math.cos(theta);
    const msy = a12 * cosT + a22 * sinT;
    const sy = Math.abs(cosT) < Math.abs(sinT) ? (msy * cosT - a12) / sinT : (a22 - msy * sinT) / cosT;
    const shearx = msy / sy;
    return { offset: [a13, a23], scale: [sx, sy], shearx, theta };
  }

  /**
   * kwimage's concise dict: the decomposition with identity parts dropped
   * (offset when both are exactly 0, scale when both are within Python
   * `math.isclose` (rel 1e-9) of 1, theta / shearx when exactly 0), a pair
   * written as a scalar when both components are equal, then `type: 'affine'`.
   * Keys come in kwcoco's order: offset, scale, shearx, theta, type.
   * (kwimage tests only sy against 1, which drops a real x-scale; here both are tested.)
   */
  concise(): ConciseAffine {
    const p = this.decompose();
    const out: ConciseAffine = { type: 'affine' };
    const res: Record<string, unknown> = {};
    const [tx, ty] = p.offset;
    if (!(isclose(tx, 0) && isclose(ty, 0))) res.offset = tx === ty ? tx : [tx, ty];
    const [sx, sy] = p.scale;
    if (!(isclose(sx, 1) && isclose(sy, 1))) res.scale = sx === sy ? sx : [sx, sy];
    if (!isclose(p.shearx, 0)) res.shearx = p.shearx;
    if (!isclose(p.theta, 0)) res.theta = p.theta;
    return Object.assign(res, out) as ConciseAffine;
  }

  /** The 3x3 matrix as nested lists (kwcoco's `{matrix: ...}` form). */
  toNested(): number[][] {
    const m = this.matrix;
    return [
      [m[0]!, m[1]!, m[2]!],
      [m[3]!, m[4]!, m[5]!],
      [m[6]!, m[7]!, m[8]!],
    ];
  }

  /** True when the matrix is the identity, bit for bit (as kwcoco's identity skip, C2.2). */
  isIdentity(): boolean {
    const m = this.matrix;
    return m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 0 && m[4] === 1 && m[5] === 0 && m[6] === 0 && m[7] === 0 && m[8] === 1;
  }

  /** True when every entry differs from `other`'s by at most `atol`. */
  equals(other: Affine, atol = 0): boolean {
    const a = this.matrix;
    const b = other.matrix;
    for (let i = 0; i < 9; i++) {
      if (!(Math.abs(a[i]! - b[i]!) <= atol)) return false;
    }
    return true;
  }

  /** JSON form: the concise dict (what kwcoco writes for `warp_*` fields). */
  toJSON(): ConciseAffine {
    return this.concise();
  }

  /** A short readable form, e.g. `Affine([2, 0, 0; 0, 2, 0; 0, 0, 1])`. */
  toString(): string {
    const m = this.matrix;
    return `Affine([${m.slice(0, 3).join(', ')}; ${m.slice(3, 6).join(', ')}; ${m.slice(6, 9).join(', ')}])`;
  }
}
