/**
 * The geometry of a COG cut into square regions (issue 14): which overview
 * levels a region can make itself, the levels' sizes in the region and in
 * the whole image, and what of the options decides the tiles' bytes (the
 * fingerprint a part carries, so a part made for other options is refused).
 *
 * Level i (0 = full resolution) of the whole image has the cumulative
 * factor F_i of the plan's overviews; each of its pixels covers the F_i x
 * F_i full-resolution pixels from (y F_i, x F_i) (clipped), since chained
 * ceil-divisions compose: ceil(ceil(a / k1) / k2) = ceil(a / (k1 k2)).
 * A level is region-local along an axis when the image has one region
 * along it, or when regionSize is a multiple of F_i x blocksize: then the
 * level's tiles and its pixels' footprints all lie inside one region, and
 * a region computes exactly the pixels (and compresses exactly the tiles)
 * the whole image would.
 */
import { DTYPES, type Dtype } from '../../array/dtypes.ts';
import { WriterOptionError } from '../errors.ts';
import { nativeAddon } from '../native-addon.ts';
import { LEVELS } from './compress.ts';
import { gdalNodataText } from './gdal-metadata-write.ts';
import { resolveOptions, type CogPlan, type WriteCogOptions } from './options.ts';

/** An image cut into regions of regionSize x regionSize pixels (the last row and column clipped). */
export interface CogRegionGrid { fullWidth: number; fullHeight: number; regionSize: number }
/** One region of a grid: its origin, multiples of regionSize. */
export interface CogRegion extends CogRegionGrid { x: number; y: number }

/** A level's size and cumulative factor relative to the full resolution. */
export interface LevelSize { width: number; height: number; factor: number }

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Checks the grid's numbers and that regions are whole tiles; returns the regions across and down. */
export function checkGrid(grid: CogRegionGrid, blocksize: number): { across: number; down: number } {
  if (!grid || typeof grid !== 'object') throw new WriterOptionError(`region grid must be {fullWidth, fullHeight, regionSize}, got ${show(grid)}`);
  for (const key of ['fullWidth', 'fullHeight', 'regionSize'] as const) {
    const v = grid[key];
    if (!Number.isSafeInteger(v) || v < 1) throw new WriterOptionError(`region grid ${key} must be a positive integer, got ${show(v)}`);
  }
  if (grid.regionSize % blocksize !== 0) {
    throw new WriterOptionError(`region grid regionSize ${grid.regionSize} must be a multiple of the blocksize ${blocksize}`);
  }
  return { across: Math.ceil(grid.fullWidth / grid.regionSize), down: Math.ceil(grid.fullHeight / grid.regionSize) };
}

/** Checks a region's origin against its grid; returns its column, row and clipped size. */
export function checkRegion(region: CogRegion, blocksize: number): { col: number; row: number; width: number; height: number } {
  checkGrid(region, blocksize);
  const { x, y, regionSize: r, fullWidth: w, fullHeight: h } = region;
  for (const [key, v, max] of [['x', x, w], ['y', y, h]] as const) {
    if (!Number.isSafeInteger(v) || v < 0 || v % r !== 0 || v >= max) {
      throw new WriterOptionError(`region ${key} must be a multiple of regionSize ${r} in 0..${max - 1}, got ${show(v)}`);
    }
  }
  return { col: x / r, row: y / r, width: Math.min(r, w - x), height: Math.min(r, h - y) };
}

/** Every region of `grid`, row by row (checks the grid's numbers, not the tile size). */
export function gridRegions(grid: CogRegionGrid): CogRegion[] {
  const { across, down } = checkGrid(grid, 1);
  const out: CogRegion[] = [];
  for (let row = 0; row < down; row++) {
    for (let col = 0; col < across; col++) out.push({ ...grid, x: col * grid.regionSize, y: row * grid.regionSize });
  }
  return out;
}

/** Every level of the whole image (index 0 = full resolution). */
export function fullLevels(plan: CogPlan): LevelSize[] {
  const out: LevelSize[] = [{ width: plan.width, height: plan.height, factor: 1 }];
  for (const ov of plan.overviews) out.push({ width: ov.width, height: ov.height, factor: out[out.length - 1].factor * ov.k });
  return out;
}

/** How many overview levels are region-local in `plan` (the whole image's plan) cut by `grid`. */
export function regionLocalLevels(plan: CogPlan, grid: CogRegionGrid): number {
  const { across, down } = checkGrid(grid, plan.blocksize);
  const levels = fullLevels(plan);
  let m = 0;
  for (let i = 1; i < levels.length; i++) {
    const whole = grid.regionSize % (levels[i].factor * plan.blocksize) === 0;
    if (!((across === 1 || whole) && (down === 1 || whole))) break;
    m = i;
  }
  return m;
}

/** The whole image's plan for `grid`. */
export function gridPlan(grid: CogRegionGrid, bands: number, dtype: Dtype, options: WriteCogOptions | undefined): CogPlan {
  if (!Number.isInteger(bands) || bands < 1 || bands > 65535) throw new WriterOptionError(`bands must be an integer 1..65535, got ${show(bands)}`);
  if (!Object.hasOwn(DTYPES, dtype)) throw new WriterOptionError(`dtype must be one of ${Object.keys(DTYPES).join(', ')}, got ${show(dtype)}`);
  const g = grid as Partial<CogRegionGrid> | null;
  const plan = resolveOptions(options, { height: g?.fullHeight as number, width: g?.fullWidth as number, bands, dtype });
  checkGrid(grid, plan.blocksize);
  return plan;
}

/** How many overview levels a region makes itself: those whose tiles lie inside one region, at most the whole image's count. */
export function regionOverviewLevels(grid: CogRegionGrid, bands: number, dtype: Dtype, options: WriteCogOptions): number {
  return regionLocalLevels(gridPlan(grid, bands, dtype, options), grid);
}

/** Sizes of levels 0..m of a region of `width` x `height` (clipped) pixels. */
export function regionLevels(plan: CogPlan, m: number, width: number, height: number): LevelSize[] {
  return fullLevels(plan).slice(0, m + 1).map((l) => ({ width: Math.ceil(width / l.factor), height: Math.ceil(height / l.factor), factor: l.factor }));
}

/** The plan a region is encoded with: the whole image's, cut to the region and its local levels. */
export function regionPlan(plan: CogPlan, m: number, width: number, height: number): CogPlan {
  const sizes = regionLevels(plan, m, width, height);
  const overviews = sizes.slice(1).map((s, i) => ({ width: s.width, height: s.height, k: plan.overviews[i].k }));
  return { ...plan, width, height, overviews };
}

/**
 * What of the options and the grid decides a part's tiles and its place in
 * the COG (not georeferencing or metadata, which only the IFDs hold and
 * which may be settled after the regions are written).
 */
export function partFingerprint(plan: CogPlan, grid: CogRegionGrid): Record<string, unknown> {
  const deflate = plan.compress !== 'DEFLATE' ? null : plan.deflateEngine === 'zlib' || !nativeAddon() ? 'zlib' : 'libdeflate';
  return {
    fullWidth: grid.fullWidth, fullHeight: grid.fullHeight, regionSize: grid.regionSize,
    bands: plan.bands, dtype: plan.dtype, compress: plan.compress, level: plan.level ?? LEVELS[plan.compress]?.default ?? null,
    deflateEngine: deflate, predictor: plan.predictor, blocksize: plan.blocksize,
    overviews: plan.overviews.map((o) => `${o.width}x${o.height}/${o.k}`).join(' '), overviewResample: plan.resample,
    nodata: plan.nodata === null ? null : gdalNodataText(plan.nodata, plan.dtype) + (Object.is(plan.nodata, -0) ? ' (-0)' : ''), sparse: plan.sparse,
  };
}
