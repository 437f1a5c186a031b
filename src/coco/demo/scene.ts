/**
 * The demo scene: a few shapes (ellipses, rectangles, stars) moving linearly
 * through a video, as polygons in image-space pixel coordinates (pixel-corner
 * convention: pixel (col i, row j) is the square [i, i+1) x [j, j+1)), and a
 * renderer that samples the scene into an asset grid through its
 * `warp_aux_to_img`.
 */
import type { Affine } from '../../array/affine.ts';
import { Raster } from '../../array/raster.ts';
import { DTYPES, type Dtype } from '../../array/dtypes.ts';
import { hashNoise, type Rng } from './prng.ts';

/** The kinds of shapes; each is one category of the demo. */
export const SHAPE_KINDS = ['ellipse', 'rectangle', 'star'] as const;
/** One of {@link SHAPE_KINDS}. */
export type ShapeKind = (typeof SHAPE_KINDS)[number];

/** A shape that moves linearly from `start` to `end` over the video. */
export interface MovingShape {
  readonly kind: ShapeKind;
  /** Track id (one per shape, unique in the dataset). */
  readonly trackId: number;
  /** Outer radius in image pixels. */
  readonly radius: number;
  /** Second axis / first axis (ellipses and rectangles). */
  readonly aspect: number;
  readonly angle0: number;
  /** Rotation per frame, radians. */
  readonly omega: number;
  readonly start: readonly [number, number];
  readonly end: readonly [number, number];
  /** Brightness of this object, in [0, 1]. */
  readonly level: number;
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/**
 * Draws `count` shapes that stay inside a `width` x `height` image for the
 * whole video (their polygons never leave the image).
 */
export function randomShapes(rng: Rng, count: number, width: number, height: number, firstTrackId: number): MovingShape[] {
  const out: MovingShape[] = [];
  const minSide = Math.min(width, height);
  for (let k = 0; k < count; k++) {
    const radius = Math.max(2, rng.uniform(0.08, 0.17) * minSide);
    // the polygon lies within `radius` of its centre whatever the rotation
    const pos = (): [number, number] => [
      width > 2 * radius + 2 ? rng.uniform(radius + 1, width - radius - 1) : width / 2,
      height > 2 * radius + 2 ? rng.uniform(radius + 1, height - radius - 1) : height / 2,
    ];
    out.push({
      kind: SHAPE_KINDS[k % SHAPE_KINDS.length]!,
      trackId: firstTrackId + k,
      radius,
      aspect: rng.uniform(0.5, 1),
      angle0: rng.uniform(0, Math.PI),
      omega: rng.uniform(-0.15, 0.15),
      start: pos(),
      end: pos(),
      level: rng.uniform(0.6, 1),
    });
  }
  return out;
}

/**
 * The polygon of a shape at frame `frame` of `numFrames` (image pixels,
 * rounded to 1e-4, counter-clockwise in x/y), without a closing vertex.
 */
export function shapePolygon(s: MovingShape, frame: number, numFrames: number): [number, number][] {
  const t = numFrames > 1 ? frame / (numFrames - 1) : 0;
  const cx = s.start[0] + (s.end[0] - s.start[0]) * t;
  const cy = s.start[1] + (s.end[1] - s.start[1]) * t;
  const ang = s.angle0 + s.omega * frame;
  const local: [number, number][] = [];
  if (s.kind === 'ellipse') {
    for (let i = 0; i < 24; i++) {
      const a = (2 * Math.PI * i) / 24;
      local.push([s.radius * Math.cos(a), s.radius * s.aspect * Math.sin(a)]);
    }
  } else if (s.kind === 'rectangle') {
    // half-diagonal = radius
    const hx = s.radius / Math.sqrt(1 + s.aspect * s.aspect);
    const hy = hx * s.aspect;
    local.push([hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]); // increasing angle: counter-clockwise in x/y
  } else {
    for (let i = 0; i < 10; i++) {
      const a = (2 * Math.PI * i) / 10;
      const r = i % 2 === 0 ? s.radius : s.radius * 0.45;
      local.push([r * Math.cos(a), r * Math.sin(a)]);
    }
  }
  const c = Math.cos(ang);
  const sn = Math.sin(ang);
  return local.map(([x, y]) => [round4(cx + c * x - sn * y), round4(cy + sn * x + c * y)]);
}

/** `[x, y, w, h]` bounding box of a polygon. */
export function polygonBbox(poly: readonly (readonly [number, number])[]): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of poly) {
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  return [round4(x0), round4(y0), round4(x1 - x0), round4(y1 - y0)];
}

/** Shoelace area of a polygon. */
export function polygonArea(poly: readonly (readonly [number, number])[]): number {
  let a = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) a += poly[j]![0] * poly[i]![1] - poly[i]![0] * poly[j]![1];
  return Math.abs(a) / 2;
}

/** One frame of the scene: polygons in drawing order (later ones on top). */
export class SceneFrame {
  readonly #xs: Float64Array[];
  readonly #ys: Float64Array[];
  readonly #bbox: Float64Array;

  constructor(polygons: readonly (readonly (readonly [number, number])[])[]) {
    this.#xs = polygons.map((p) => Float64Array.from(p, (v) => v[0]));
    this.#ys = polygons.map((p) => Float64Array.from(p, (v) => v[1]));
    this.#bbox = new Float64Array(polygons.length * 4);
    polygons.forEach((p, k) => {
      const [x, y, w, h] = polygonBbox(p);
      this.#bbox.set([x, y, x + w, y + h], k * 4);
    });
  }

  /** Index of the top-most polygon containing (x, y) (even-odd rule), or -1 for background. */
  sample(x: number, y: number): number {
    const bb = this.#bbox;
    for (let k = this.#xs.length - 1; k >= 0; k--) {
      if (x < bb[k * 4]! || y < bb[k * 4 + 1]! || x > bb[k * 4 + 2]! || y > bb[k * 4 + 3]!) continue;
      const xs = this.#xs[k]!;
      const ys = this.#ys[k]!;
      let inside = false;
      for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
        const yi = ys[i]!, yj = ys[j]!;
        if ((yi > y) !== (yj > y) && x < ((xs[j]! - xs[i]!) * (y - yi)) / (yj - yi) + xs[i]!) inside = !inside;
      }
      if (inside) return k;
    }
    return -1;
  }
}

/**
 * How one band is drawn: background `bgBase + bgNoise * n + gradX * x + gradY * y`
 * (x, y in image pixels, n a deterministic noise in [0, 1)), and inside shape
 * k `fg[k] + fgNoise * n`.
 */
export interface BandModel {
  readonly bgBase: number;
  readonly bgNoise: number;
  readonly gradX: number;
  readonly gradY: number;
  /** One value per shape (polygon index of the scene). */
  readonly fg: Float64Array;
  readonly fgNoise: number;
}

/**
 * Renders an asset of `width` x `height` pixels, one band per model: each
 * asset pixel is the mean of `n` x `n` sub-samples at their centres, mapped
 * to the image by `assetToImage` (pixel-corner convention), rounded and
 * clipped to the dtype's range for integer dtypes.
 */
export function renderAsset(
  scene: SceneFrame, assetToImage: Affine, width: number, height: number, bands: readonly BandModel[], dtype: Dtype,
  salt: number, n = 1,
): Raster {
  const nb = bands.length;
  const r = Raster.zeros([height, width, nb], dtype);
  const out = r.data;
  const [a, b, c, d, e, f] = assetToImage.matrix as unknown as [number, number, number, number, number, number];
  const isInt = dtype !== 'float32' && dtype !== 'float64';
  const lo = isInt ? DTYPES[dtype].min : -Infinity;
  const hi = isInt ? DTYPES[dtype].max : Infinity;
  const acc = new Float64Array(nb);
  const inv = 1 / (n * n);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      acc.fill(0);
      for (let sj = 0; sj < n; sj++) {
        const v = j + (sj + 0.5) / n;
        for (let si = 0; si < n; si++) {
          const u = i + (si + 0.5) / n;
          const x = a * u + b * v + c;
          const y = d * u + e * v + f;
          const k = scene.sample(x, y);
          for (let band = 0; band < nb; band++) {
            const m = bands[band]!;
            const noise = hashNoise(i, j, band, salt);
            acc[band]! += k < 0 ? m.bgBase + m.bgNoise * noise + m.gradX * x + m.gradY * y : m.fg[k]! + m.fgNoise * noise;
          }
        }
      }
      const o = (j * width + i) * nb;
      for (let band = 0; band < nb; band++) {
        let val = acc[band]! * inv;
        if (isInt) val = Math.round(val);
        out[o + band] = val < lo ? lo : val > hi ? hi : val;
      }
    }
  }
  return r;
}
