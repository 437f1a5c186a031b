/**
 * Masks to GeoJSON MultiPolygons with exact pixel-edge boundaries, scored
 * connected regions of a probability raster, and polygon warping.
 *
 * Conventions (see polygon-trace.ts for the tracing):
 * - pixel (row r, col c) is the square x in [c, c+1], y in [r, r+1];
 * - shells have positive shoelace area in (x, y) ("counter-clockwise", RFC 7946),
 *   holes negative; rings are closed (first position repeated last) and carry
 *   corners only (no collinear vertices);
 * - the geometry is the union of the mask's pixel squares, written the way
 *   OGC / GEOS require it to be valid: a Polygon's interior is connected, so
 *   every 4-connected piece of the mask is one Polygon (shell + holes); pieces
 *   that touch only at a corner are separate Polygons touching at that vertex,
 *   and a hole that reaches the outside through a corner is a hole touching its
 *   shell at that vertex. `ogr.CreateGeometryFromJson(...).IsValid()` holds.
 * - connectivity (4 or 8) decides what one REGION is: `scoredPolygons` returns
 *   one entry per 4- or 8-connected region (an 8-connected region that pinches
 *   at a corner is a MultiPolygon of several touching Polygons), and
 *   `maskToMultiPolygon` orders its Polygons region by region. The point set is
 *   the same under either connectivity.
 */
import { Raster } from '../array/raster.ts';
import { ValueError } from '../array/errors.ts';
import type { Affine } from '../array/affine.ts';
import type { TypedArray } from '../array/dtypes.ts';
import { labelComponents } from './connected-components.ts';
import { traceRings, type TracedRing } from './polygon-trace.ts';
import { StitchError } from './errors.ts';

export type Position = [number, number];
/** A GeoJSON MultiPolygon: polygons -> rings (shell first, then holes) -> positions [x, y]. */
export interface MultiPolygon {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}

export interface PolygonOptions {
  /** 8 (default): corner-touching pixels are one region; 4: only edge neighbours. */
  connectivity?: 4 | 8;
}

/** A mask given as a Raster (HxWx1) or as plain `{data, shape: [h, w] | [h, w, 1]}`. */
export type MaskLike = Raster | { data: ArrayLike<number>; shape: readonly number[] };

function maskShape(mask: MaskLike): [number, number] {
  const s = mask.shape;
  if (!s || (s.length !== 2 && s.length !== 3) || (s.length === 3 && s[2] !== 1)) {
    throw new ValueError(`mask shape ${JSON.stringify(s)} must be [height, width] or [height, width, 1]`);
  }
  if (mask.data.length !== s[0] * s[1]) throw new ValueError(`mask has ${mask.data.length} values, shape ${JSON.stringify(s)} needs ${s[0] * s[1]}`);
  return [s[0], s[1]];
}

function checkConnectivity(c: unknown): 4 | 8 {
  if (c !== 4 && c !== 8) throw new ValueError(`connectivity must be 4 or 8, got ${String(c)}`);
  return c;
}

function closedRing(xy: Int32Array): Position[] {
  const ring: Position[] = new Array(xy.length / 2 + 1);
  for (let i = 0, k = 0; i < xy.length; i += 2, k++) ring[k] = [xy[i], xy[i + 1]];
  ring[xy.length / 2] = [xy[0], xy[1]];
  return ring;
}

/**
 * Polygons (shell, then holes) per 4-connected piece, indexed by 4-label - 1.
 * `labels4` are the 4-connected labels of the same mask.
 */
function piecesFromRings(rings: TracedRing[], labels4: Int32Array, count4: number): Position[][][] {
  const shells: (Int32Array | null)[] = new Array(count4).fill(null);
  const holes: Int32Array[][] = Array.from({ length: count4 }, () => []);
  for (const r of rings) {
    const piece = labels4[r.pixel] - 1;
    if (r.area2 > 0) {
      if (shells[piece] !== null) throw new StitchError(`polygon trace found two shells for one 4-connected piece (label ${piece + 1}); this is a bug`);
      shells[piece] = r.xy;
    } else {
      holes[piece].push(r.xy);
    }
  }
  return shells.map((s, i) => {
    if (s === null) throw new StitchError(`polygon trace found no shell for 4-connected piece ${i + 1}; this is a bug`);
    return [closedRing(s), ...holes[i].map(closedRing)];
  });
}

/** 0/1 mask of the nonzero (and not NaN) values. */
function binarize(data: ArrayLike<number>, n: number): Uint8Array {
  const bin = new Uint8Array(n);
  for (let i = 0; i < n; i++) { const v = data[i]; bin[i] = v !== 0 && v === v ? 1 : 0; }
  return bin;
}

/** Groups 4-connected pieces into regions: region label (1-based) of every piece. */
function regionOfPiece(bin: Uint8Array, h: number, w: number, labels4: Int32Array, count4: number, connectivity: 4 | 8): { region: Int32Array; count: number } {
  if (connectivity === 4) return { region: Int32Array.from({ length: count4 }, (_, i) => i + 1), count: count4 };
  const { labels, count } = labelComponents(bin, h, w, 8);
  const region = new Int32Array(count4);
  for (let i = 0, n = h * w; i < n; i++) { const l = labels4[i]; if (l && !region[l - 1]) region[l - 1] = labels[i]; }
  return { region, count };
}

/**
 * The nonzero pixels of `mask` (HxWx1; NaN counts as zero) as a GeoJSON
 * MultiPolygon with pixel-edge boundaries. An empty mask gives
 * `{type: 'MultiPolygon', coordinates: []}`.
 *
 * @example
 * maskToMultiPolygon(new Raster(Uint8Array.of(1, 1), [1, 2, 1]))
 * // {type: 'MultiPolygon', coordinates: [[[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]]}
 */
export function maskToMultiPolygon(mask: MaskLike, options: PolygonOptions = {}): MultiPolygon {
  const connectivity = checkConnectivity(options.connectivity ?? 8);
  const [h, w] = maskShape(mask);
  const bin = binarize(mask.data, h * w);
  const { labels: labels4, count: count4 } = labelComponents(bin, h, w, 4);
  const pieces = piecesFromRings(traceRings(bin, h, w), labels4, count4);
  if (connectivity === 4) return { type: 'MultiPolygon', coordinates: pieces };
  const { region } = regionOfPiece(bin, h, w, labels4, count4, connectivity);
  const order = Array.from(pieces.keys()).sort((a, b) => region[a] - region[b] || a - b);
  return { type: 'MultiPolygon', coordinates: order.map((i) => pieces[i]) };
}

/** One connected region above the threshold. */
export interface ScoredPolygon {
  /** mean probability over the region's pixels */
  score: number;
  /** the region (one Polygon, or several touching at corners for an 8-connected region) */
  polygon: MultiPolygon;
}

/**
 * Connected regions of `probs > thresh` (strictly greater, as the original's
 * `mask_to_polygons`; NaN is never above) in a HxWx1 raster, each with the
 * mean probability over its pixels. Regions come in raster order of their
 * first pixel.
 */
export function scoredPolygons(probs: Raster, thresh: number, options: PolygonOptions = {}): ScoredPolygon[] {
  const connectivity = checkConnectivity(options.connectivity ?? 8);
  if (!(probs instanceof Raster) || probs.bands !== 1) {
    throw new ValueError(`scoredPolygons expects a HxWx1 raster, got shape ${JSON.stringify((probs as Raster)?.shape)}`);
  }
  if (typeof thresh !== 'number' || Number.isNaN(thresh)) throw new ValueError(`thresh must be a number, got ${String(thresh)}`);
  const [h, w] = [probs.height, probs.width];
  const p: TypedArray = probs.data;
  const n = h * w;
  const bin = new Uint8Array(n);
  for (let i = 0; i < n; i++) bin[i] = p[i] > thresh ? 1 : 0;
  const { labels: labels4, count: count4 } = labelComponents(bin, h, w, 4);
  const pieces = piecesFromRings(traceRings(bin, h, w), labels4, count4);
  const { region, count } = regionOfPiece(bin, h, w, labels4, count4, connectivity);
  const sums = new Float64Array(count), counts = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    const l = labels4[i];
    if (!l) continue;
    const r = region[l - 1] - 1;
    sums[r] += p[i];
    counts[r]++;
  }
  const out: ScoredPolygon[] = Array.from({ length: count }, (_, r) => ({
    score: sums[r] / counts[r],
    polygon: { type: 'MultiPolygon', coordinates: [] as Position[][][] },
  }));
  for (let i = 0; i < count4; i++) out[region[i] - 1].polygon.coordinates.push(pieces[i]);
  return out;
}

/**
 * Applies an affine transform to every position (x' = a x + b y + c,
 * y' = d x + e y + f). A reflection (negative determinant) would turn shells
 * clockwise, so rings are then reversed to keep the RFC 7946 orientation.
 */
export function warpMultiPolygon(mp: MultiPolygon, affine: Affine): MultiPolygon {
  const [a, b, c, d, e, f] = affine.matrix;
  const flip = a * e - b * d < 0;
  return {
    type: 'MultiPolygon',
    coordinates: mp.coordinates.map((poly) => poly.map((ring) => {
      const out = ring.map(([x, y]): Position => [a * x + b * y + c, d * x + e * y + f]);
      return flip ? out.reverse() : out;
    })),
  };
}

/** `[minx, miny, maxx, maxy]` of all positions; ValueError for an empty MultiPolygon. */
export function multiPolygonBounds(mp: MultiPolygon): [number, number, number, number] {
  let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
  for (const poly of mp.coordinates) for (const ring of poly) for (const [x, y] of ring) {
    if (x < minx) minx = x;
    if (x > maxx) maxx = x;
    if (y < miny) miny = y;
    if (y > maxy) maxy = y;
  }
  if (minx > maxx) throw new ValueError('an empty MultiPolygon has no bounds');
  return [minx, miny, maxx, maxy];
}

/** Shoelace area of one ring, closed or not (positive for shells, negative for holes under our orientation). */
export function ringSignedArea(ring: readonly (readonly number[])[]): number {
  let a = 0;
  const n = ring.length;
  for (let i = 0; i < n; i++) { const j = i + 1 === n ? 0 : i + 1; a += ring[i][0] * ring[j][1] - ring[j][0] * ring[i][1]; }
  return a / 2;
}

/** Area of a MultiPolygon: shells minus holes. */
export function multiPolygonArea(mp: MultiPolygon): number {
  let a = 0;
  for (const poly of mp.coordinates) {
    poly.forEach((ring, k) => { const s = Math.abs(ringSignedArea(ring)); a += k === 0 ? s : -s; });
  }
  return a;
}
