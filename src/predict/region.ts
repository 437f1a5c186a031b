/**
 * Region-restricted predict: one region of one image's output grid (a shard
 * of `predict --shard region:SIZE`). Only the windows whose output touches
 * the region are run (a window crossing a border runs in both neighbours),
 * and the canvas is the region alone. A stitched pixel depends only on the
 * windows touching it, accumulated in grid order either way, so the
 * region's pixels are the whole-image run's.
 */
import { ValueError } from '../array/errors.ts';
import type { AssetRegion } from '../stitch/region-parts.ts';

export type { AssetRegion } from '../stitch/region-parts.ts';

/** The region of `imageId`'s output grid at (x, y), `size` pixels a side (clipped at the right and bottom edges). */
export interface PredictRegion {
  imageId: number;
  /** origin in output (asset) pixels: multiples of `size` */
  x: number;
  y: number;
  /** a multiple of the output tile size */
  size: number;
}

/** The output tile size regions are multiples of (the stitcher's block and the COG's tile). */
export const REGION_TILE = 128;

/** Checks what needs no file; ValueError naming the value otherwise. */
export function checkRegionOption(r: unknown): PredictRegion {
  const o = r as PredictRegion;
  if (typeof r !== 'object' || r === null) throw new ValueError(`region must be {imageId, x, y, size}, got ${JSON.stringify(r)}`);
  if (!Number.isInteger(o.imageId)) throw new ValueError(`region.imageId must be an integer image id, got ${JSON.stringify(o.imageId)}`);
  checkRegionSize(o.size, 'region.size');
  for (const k of ['x', 'y'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0 || o[k] % o.size !== 0) {
      throw new ValueError(`region.${k} must be a non-negative multiple of region.size ${o.size}, got ${JSON.stringify(o[k])}`);
    }
  }
  return { imageId: o.imageId, x: o.x, y: o.y, size: o.size };
}

/** A region size: a positive multiple of the output tile size. */
export function checkRegionSize(size: unknown, what: string): number {
  if (!Number.isInteger(size) || (size as number) < REGION_TILE || (size as number) % REGION_TILE !== 0) {
    throw new ValueError(`${what} must be a positive multiple of the output tile size ${REGION_TILE} (e.g. ${REGION_TILE * 48}), got ${JSON.stringify(size)}`);
  }
  return size as number;
}

/** The region clipped to an asset of [width, height]; ValueError when it lies outside. */
export function assetRegionOf(r: PredictRegion, assetDsize: readonly [number, number], label: string): AssetRegion {
  const [W, H] = assetDsize;
  if (r.x >= W || r.y >= H) {
    throw new ValueError(`${label}: region at x ${r.x}, y ${r.y} lies outside its ${W} x ${H} output`);
  }
  return { x: r.x, y: r.y, width: Math.min(r.size, W - r.x), height: Math.min(r.size, H - r.y), size: r.size };
}

/** The output (asset) pixels [p0, p1) a window of canvas [start, stop) lands on along one axis. */
function spanOnAsset(start: number, stop: number, outputScale: number): [number, number] {
  const p0 = Math.round(start * outputScale);
  return [p0, p0 + Math.round((stop - start) * outputScale)];
}

/** The output (asset) pixels a window of canvas rows/cols lands on (the stitch stage places it with this): [r0, r1), [c0, c1). */
export function windowOnAsset(rows: readonly [number, number], cols: readonly [number, number], outputScale: number): [number, number, number, number] {
  return [...spanOnAsset(rows[0], rows[1], outputScale), ...spanOnAsset(cols[0], cols[1], outputScale)];
}

/**
 * Which windows of one axis touch output pixels [lo, hi): the indexes of
 * `starts` whose windows of `size` land there. A window touches a region
 * exactly when it does on both axes, so a region's windows are these rows
 * times these columns, found without walking the whole grid.
 */
export function startsTouching(starts: readonly number[], size: number, lo: number, hi: number, outputScale: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < starts.length; i++) {
    const [p0, p1] = spanOnAsset(starts[i], starts[i] + size, outputScale);
    if (p0 < hi && p1 > lo) out.push(i);
  }
  return out;
}
