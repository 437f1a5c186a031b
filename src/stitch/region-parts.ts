/**
 * One image stitched region by region (`predict --shard region:SIZE`): where
 * a region's part file goes, what a region reports about itself, and how the
 * reports of all regions are joined into the image's `prediction_region`
 * exactly as a single process finds it from the whole canvas.
 *
 * A region reports its predicted pixels as a rectangle when they fill one,
 * else as row runs; and always the box of its touched blocks, because a
 * single process traces its mask over the box of the canvas's touched
 * blocks, which is the union of the regions' boxes (regions are aligned to
 * blocks).
 */
import { basename, dirname, join } from 'node:path';
import { Affine } from '../array/affine.ts';
import { checkAllocation } from '../array/memory-budget.ts';
import { Raster } from '../array/raster.ts';
import { slice } from '../array/slices.ts';
import type { WriteCogOptions } from '../io/cog/options.ts';
import { StitchError } from './errors.ts';
import type { MultiPolygon } from './polygons.ts';
import { regionFromMask, regionFromRectangle, touchedBlockBox } from './prediction-region.ts';
import type { Stitcher } from './stitcher.ts';

/** A region of an asset grid: origin, clipped size, and the grid's region size. */
export interface AssetRegion { x: number; y: number; width: number; height: number; size: number }

/** The predicted pixels of a region, in asset pixels of the whole image. */
export interface RegionCoverage {
  /** [x0, y0, x1, y1) of the touched blocks (null: none) */
  blocks: [number, number, number, number] | null;
  /** the predicted pixels when they fill a rectangle [x0, y0, x1, y1), 'empty', or null (then `runs`) */
  rect: [number, number, number, number] | 'empty' | null;
  /** y, x0, x1 of each run of predicted pixels, flat (only when `rect` is null) */
  runs?: number[];
}

/** What a region job reports once its part is written. */
export interface RegionReport {
  x: number;
  y: number;
  width: number;
  height: number;
  size: number;
  /** the whole image's asset grid */
  fullWidth: number;
  fullHeight: number;
  /** absolute path of the part file */
  part: string;
  /** absolute path of the image's COG, assembled from the parts */
  asset: string;
  coverage: RegionCoverage;
  /** the asset-to-image transform (row-major 3x3), exact */
  imgFromAsset: number[];
  /**
   * phase 1 of a region quantized to the whole image's range: its finalized floats (a tiled
   * float TIFF) and their valid range; the part is written by phase 2
   */
  floats?: { path: string; min: number; max: number; valid: number };
  /** the COG every region and the assembly write: bands, pixel type, writer options (JSON-safe; with `floats`, without the quantization) */
  cog: { bands: number; dtype: 'int16' | 'uint8' | 'float32' | 'float64'; options: JsonCogOptions };
}

/** WriteCogOptions as JSON: nodata NaN as 'NaN', the transform as its matrix. */
export type JsonCogOptions = Omit<WriteCogOptions, 'nodata' | 'transform'> & { nodata?: number | null | 'NaN'; transform?: number[] | null };

export function cogOptionsToJson(o: WriteCogOptions): JsonCogOptions {
  const { nodata, transform, ...rest } = o;
  const out: JsonCogOptions = { ...rest };
  if (nodata !== undefined) out.nodata = nodata !== null && Number.isNaN(nodata) ? 'NaN' : nodata;
  if (transform !== undefined) out.transform = transform === null ? null : [...transform.matrix];
  return out;
}

export function cogOptionsFromJson(o: JsonCogOptions): WriteCogOptions {
  const { nodata, transform, ...rest } = o;
  const out: WriteCogOptions = { ...rest };
  if (nodata !== undefined) out.nodata = nodata === 'NaN' ? NaN : nodata;
  if (transform !== undefined) out.transform = transform === null ? null : new Affine(transform);
  return out;
}

/**
 * The part file of a region of the asset at `assetPath`: in a hidden folder beside it,
 * named by the region's origin, so a redone job writes the same name (parts are written atomically).
 */
export function regionPartPath(assetPath: string, x: number, y: number): string {
  return join(regionPartsDir(assetPath), `x${x}_y${y}.tif`);
}

/** Where phase 1 of a two-phase region keeps its finalized floats (beside its part). */
export function regionFloatsPath(assetPath: string, x: number, y: number): string {
  return join(regionPartsDir(assetPath), `x${x}_y${y}.floats.tif`);
}

/** The folder of an asset's region parts (removed once the asset is assembled). */
export function regionPartsDir(assetPath: string): string {
  return join(dirname(assetPath), `.${basename(assetPath)}.parts`);
}

/** The coverage of a region's stitcher (canvas = the region), in asset pixels of the whole image. */
export function regionCoverage(stitcher: Stitcher, region: AssetRegion, rect: [number, number, number, number] | 'empty' | null): RegionCoverage {
  const [H, W] = stitcher.shape;
  const bs = stitcher.blocksize;
  const box = touchedBlockBox(stitcher);
  const { x, y } = region;
  const blocks: RegionCoverage['blocks'] = box === null ? null
    : [x + box[2] * bs, y + box[0] * bs, x + Math.min(W, (box[3] + 1) * bs), y + Math.min(H, (box[1] + 1) * bs)];
  if (rect !== null) return { blocks, rect: rect === 'empty' ? 'empty' : [rect[0] + x, rect[1] + y, rect[2] + x, rect[3] + y] };
  const runs: number[] = [];
  for (let row = 0; row < H; row++) {
    const wt = stitcher.weightRaster([slice(row, row + 1), slice(0, W)]).data;
    let start = -1;
    for (let c = 0; c <= W; c++) {
      const on = c < W && wt[c] > 0;
      if (on && start < 0) start = c;
      else if (!on && start >= 0) { runs.push(y + row, x + start, x + c); start = -1; }
    }
  }
  return { blocks, rect: null, runs };
}

/**
 * The image's `prediction_region` from the coverage of all its regions, as a single
 * process finds it: a filled rectangle when the predicted pixels are one, else the
 * traced mask over the box of the touched blocks.
 */
export function joinRegionCoverage(reports: readonly RegionReport[], label: string, connectivity: 4 | 8 = 8): MultiPolygon {
  if (reports.length === 0) throw new StitchError(`${label}: no region reports to join`);
  const imgFromAsset = new Affine(reports[0].imgFromAsset);
  let covered = 0;
  let bx: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  let box: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  let allRect = true;
  for (const r of reports) {
    const c = r.coverage;
    if (c.blocks) box = [Math.min(box[0], c.blocks[0]), Math.min(box[1], c.blocks[1]), Math.max(box[2], c.blocks[2]), Math.max(box[3], c.blocks[3])];
    if (c.rect === null) { allRect = false; continue; }
    if (c.rect === 'empty') continue;
    const [x0, y0, x1, y1] = c.rect;
    covered += (x1 - x0) * (y1 - y0);
    bx = [Math.min(bx[0], x0), Math.min(bx[1], y0), Math.max(bx[2], x1), Math.max(bx[3], y1)];
  }
  if (allRect) {
    if (covered === 0) return regionFromRectangle('empty', imgFromAsset);
    // regions do not overlap: the union fills its bounding box exactly when the areas add up to it
    if (covered === (bx[2] - bx[0]) * (bx[3] - bx[1])) return regionFromRectangle(bx, imgFromAsset);
  }
  const [X0, Y0, X1, Y1] = box;
  const MW = X1 - X0, MH = Y1 - Y0;
  checkAllocation(MH * MW, `${label}: the prediction_region mask joined from its regions (touched blocks span ${MW}x${MH} pixels)`);
  const mask = new Uint8Array(MH * MW);
  for (const r of reports) {
    const c = r.coverage;
    if (c.rect === 'empty') continue;
    if (c.rect !== null) {
      const [x0, y0, x1, y1] = c.rect;
      for (let yy = y0; yy < y1; yy++) mask.fill(1, (yy - Y0) * MW + x0 - X0, (yy - Y0) * MW + x1 - X0);
      continue;
    }
    const runs = c.runs ?? [];
    for (let i = 0; i + 2 < runs.length; i += 3) mask.fill(1, (runs[i] - Y0) * MW + runs[i + 1] - X0, (runs[i] - Y0) * MW + runs[i + 2] - X0);
  }
  const m = new Raster(mask, [MH, MW, 1]);
  return regionFromMask(m, X0 === 0 && Y0 === 0 ? imgFromAsset : imgFromAsset.matmul(Affine.translate(X0, Y0)), connectivity);
}
