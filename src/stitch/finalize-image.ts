/**
 * Writing one stitched canvas to disk, block by block: stitcher blocks ->
 * (quantizeBlock) -> writeCog, never a second full-size copy (PNG is the exception:
 * the PNG encoder needs the whole image). Untouched blocks stay `null`, which the
 * COG writer stores as sparse tiles (offset 0) that GDAL reads as nodata.
 *
 * Two passes over the touched blocks: the first finds the valid range (for
 * quantization without `expectedMinmax`) and the NaN-ignoring sum (`totalProb`),
 * the second quantizes and writes. The writers are atomic (temporary name,
 * renamed into place): a failed write leaves no file.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Raster } from '../array/raster.ts';
import type { Affine } from '../array/affine.ts';
import { writePng as defaultWritePng } from '../io/png.ts';
import type { CompressName } from '../io/cog/compress.ts';
import { writeCog as defaultWriteCog, type WriteCogOptions } from '../io/cog/write-cog.ts';
import { writeCogPart as defaultWriteCogPart, type CogRegion } from '../io/cog/region-part.ts';
import { gdalScaleOffset, type Quantization } from '../coco/quantization.ts';
import { quantizationFor, quantizeBlock } from './quantize.ts';
import type { Stitcher } from './stitcher.ts';
import { StitchError } from './errors.ts';

/** How the asset file is written. */
export interface WriteAssetOptions {
  format: 'cog' | 'tif' | 'png';
  compress: CompressName;
  blocksize: number;
  quantize: boolean;
  /** fixed [oldMin, oldMax] for quantization; null: floor(min) / ceil(max) of the valid data */
  expectedMinmax?: readonly [number, number] | null;
  /** EPSG code and pixel-corner -> CRS transform of the asset (georeferenced output) */
  epsg?: number;
  transform?: Affine;
  /** overview levels (2x each) */
  overviews?: number;
  /** writer functions (tests inject failures here) */
  io?: AssetWriters;
  /** what is written, for error messages (e.g. 'image 3 ("a")') */
  label?: string;
  /** the stitcher holds one region of the image: write that region's part file instead of a COG */
  part?: { path: string; region: CogRegion };
  /**
   * phase 1 of a region quantized to the whole image's range (not known yet): write the finalized
   * float values here (an uncompressed tiled TIFF, sparse where no window fell) instead of the part,
   * and report the range; phase 2 (quantizeRegionPart) quantizes them into the part
   */
  floats?: string;
}

/** The writers used by {@link writeStitchedAsset}; like writeCog and writePng, a writer that fails must leave no file. */
export interface AssetWriters {
  writeCog?: typeof defaultWriteCog;
  writeCogPart?: typeof defaultWriteCogPart;
  writePng?: typeof defaultWritePng;
}

/** What was written. */
export interface WrittenAsset {
  height: number;
  width: number;
  bands: number;
  quantization: Quantization | null;
  /** sum of the stitched values, NaN ignored (the original's `np.nansum(final_probs)`) */
  totalProb: number;
  /** stitched values (pixels x bands) that are not NaN: 0 when the image is all nodata */
  validValues: number;
  /** the COG's pixel type and writer options (absent for PNG): a region's part and the assembly use these */
  cog?: { dtype: 'int16' | 'uint8' | 'float32' | 'float64'; options: WriteCogOptions };
  /** with `floats`: the valid range of the finalized values (the quantization is left to phase 2) */
  range?: { min: number; max: number; valid: number };
}

/**
 * Statistics gathered from finalized blocks: valid range, NaN-ignoring sum and,
 * optionally, the coverage of predicted pixels (weight > 0 in some band, i.e. some band
 * not NaN: NaN inputs are given zero weight by the manager, so a stitched value is NaN
 * exactly where no weight fell in its band) as a count and a bounding box. That is enough to answer the common
 * case, a covered rectangle, without an H*W mask (268 MB at 16384^2).
 */
export class CanvasStats {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  valid = 0;
  /** predicted pixels and their bounding box [x0, y0, x1, y1) (only when asked for) */
  covered = 0;
  bbox: [number, number, number, number];
  readonly withCoverage: boolean;
  /** gather min, max, sum and valid (false when a scan pass already has them: coverage only) */
  readonly withValues: boolean;
  readonly width: number;
  readonly height: number;

  constructor(height: number, width: number, withCoverage: boolean, withValues = true) {
    this.height = height;
    this.width = width;
    this.withCoverage = withCoverage;
    this.withValues = withValues;
    this.bbox = [width, height, 0, 0];
  }

  /** Fold in the finalized block at (y0, x0). */
  visit(y0: number, x0: number, blk: Raster): void {
    if (!this.withValues) {
      if (this.withCoverage) this.#visitCoverage(y0, x0, blk);
      return;
    }
    const d = blk.data as Float32Array | Float64Array;
    const C = blk.bands, h = blk.height, w = blk.width, W = this.width;
    const hh = Math.min(h, this.height - y0), ww = Math.min(w, W - x0);
    const cover = this.withCoverage;
    const bbox = this.bbox;
    let bmin = Infinity, bmax = -Infinity, bsum = 0, n = 0, covered = 0;
    for (let y = 0; y < hh; y++) {
      let i = y * w * C;
      let first = -1, last = -1;
      for (let x = 0; x < ww; x++) {
        const n0 = n;
        for (let c = 0; c < C; c++, i++) {
          const v = d[i];
          if (v !== v) continue;
          if (v < bmin) bmin = v;
          if (v > bmax) bmax = v;
          bsum += v;
          n++;
        }
        if (cover && n > n0) { if (first < 0) first = x; last = x; covered++; }
      }
      if (first >= 0) {
        if (x0 + first < bbox[0]) bbox[0] = x0 + first;
        if (x0 + last + 1 > bbox[2]) bbox[2] = x0 + last + 1;
        if (y0 + y < bbox[1]) bbox[1] = y0 + y;
        if (y0 + y + 1 > bbox[3]) bbox[3] = y0 + y + 1;
      }
    }
    if (bmin < this.min) this.min = bmin;
    if (bmax > this.max) this.max = bmax;
    this.sum += bsum;
    this.valid += n;
    this.covered += covered;
  }

  /** Coverage of an h x w block at (y0, x0) known to be covered everywhere (no pixel scan). */
  visitFull(y0: number, x0: number, h: number, w: number): void {
    const hh = Math.min(h, this.height - y0), ww = Math.min(w, this.width - x0);
    if (!this.withCoverage || hh <= 0 || ww <= 0) return;
    const bbox = this.bbox;
    if (x0 < bbox[0]) bbox[0] = x0;
    if (y0 < bbox[1]) bbox[1] = y0;
    if (x0 + ww > bbox[2]) bbox[2] = x0 + ww;
    if (y0 + hh > bbox[3]) bbox[3] = y0 + hh;
    this.covered += hh * ww;
  }

  /** Coverage only: a pixel is covered when some band is not NaN (usually the first band says so). */
  #visitCoverage(y0: number, x0: number, blk: Raster): void {
    const d = blk.data as Float32Array | Float64Array;
    const C = blk.bands, w = blk.width;
    const hh = Math.min(blk.height, this.height - y0), ww = Math.min(w, this.width - x0);
    const bbox = this.bbox;
    let covered = 0;
    for (let y = 0; y < hh; y++) {
      const row = y * w * C;
      let first = -1, last = -1;
      for (let x = 0, i = row; x < ww; x++, i += C) {
        let ok = d[i] === d[i];
        for (let c = 1; !ok && c < C; c++) ok = d[i + c] === d[i + c];
        if (ok) { if (first < 0) first = x; last = x; covered++; }
      }
      if (first >= 0) {
        if (x0 + first < bbox[0]) bbox[0] = x0 + first;
        if (x0 + last + 1 > bbox[2]) bbox[2] = x0 + last + 1;
        if (y0 + y < bbox[1]) bbox[1] = y0 + y;
        if (y0 + y + 1 > bbox[3]) bbox[3] = y0 + y + 1;
      }
    }
    this.covered += covered;
  }

  /**
   * The predicted pixels when they are exactly a filled rectangle [x0, y0, x1, y1)
   * or none ('empty'); null when neither (the caller then traces a mask), or when
   * coverage was not gathered.
   */
  coverageRectangle(): [number, number, number, number] | 'empty' | null {
    if (!this.withCoverage) return null;
    if (this.covered === 0) return 'empty';
    const [x0, y0, x1, y1] = this.bbox;
    return this.covered === (x1 - x0) * (y1 - y0) ? [x0, y0, x1, y1] : null;
  }
}

/**
 * Refuses stitched values of ±Infinity: the inputs are finite (the manager gives non-finite
 * values zero weight or refuses them), so a sum of value x weight overflowed the accumulator.
 */
export function checkNoOverflow(range: { min: number; max: number }, dtype: 'float32' | 'float64', label: string): void {
  if (range.max !== Infinity && range.min !== -Infinity) return;
  const hint = dtype === 'float32'
    ? "accumulate in float64 (the manager's or Stitcher's dtype: 'float64'), or scale the data or weights down"
    : 'scale the data or weights down';
  throw new StitchError(`${label}: stitched values reach ${range.max === Infinity ? 'Infinity' : '-Infinity'}: a sum of value x weight overflowed ${dtype} `
    + `(largest ${dtype === 'float32' ? '3.4e38' : '1.8e308'}); ${hint}`);
}

/** The quantization of a canvas: from `expectedMinmax`, else floor/ceil of the valid range (0..1 when nothing is valid), as `quantizeImage`. */
export function quantizationOf(format: 'cog' | 'tif' | 'png', range: { min: number; max: number; valid: number }, expectedMinmax?: readonly [number, number] | null): Quantization {
  const dtype = format === 'png' ? 'uint8' : 'int16';
  let lo: number, hi: number;
  if (expectedMinmax) [lo, hi] = expectedMinmax;
  else if (range.valid > 0) { lo = Math.floor(range.min); hi = Math.ceil(range.max); }
  else { lo = 0; hi = 1; }
  return quantizationFor(dtype, lo, hi);
}

/** Python repr of the quantization dict, as the original stored it in the GDAL metadata. */
export function pythonRepr(q: Quantization | null): string {
  if (q === null) return 'None';
  const num = (v: number | null | undefined) => (v === null || v === undefined ? 'None' : Number.isInteger(v) ? String(v) : String(v));
  return `{'orig_min': ${num(q.orig_min)}, 'orig_max': ${num(q.orig_max)}, 'quant_min': ${num(q.quant_min)}, 'quant_max': ${num(q.quant_max)}, 'nodata': ${num(q.nodata)}}`;
}

/**
 * Write the stitched canvas of `stitcher` to `fpath` (atomically).
 * Returns its size, quantization, total and (with `opts.coverage`) the predicted pixels
 * when they form a filled rectangle (see CanvasStats.coverageRectangle).
 * One pass over the blocks when the quantization range is known up front
 * (`expectedMinmax`, or no quantization); otherwise a scan pass first.
 */
export async function writeStitchedAsset(stitcher: Stitcher, fpath: string, opts: WriteAssetOptions & { coverage?: boolean }): Promise<WrittenAsset & { coverage: [number, number, number, number] | 'empty' | null }> {
  const [height, width, bands] = stitcher.shape;
  const withCoverage = opts.coverage ?? false;
  const needScan = opts.quantize && !opts.expectedMinmax && opts.format !== 'png';
  // the range comes from a scan pass (the stitcher's own stats kernel, no rasters) when the
  // quantization needs it first; the sum and coverage are gathered while the writer pulls blocks
  // the scan also marks the blocks that are covered everywhere: coverage needs no pixel scan there
  const sameGrid = stitcher.blocksize === opts.blocksize;
  const nbx = Math.ceil(width / stitcher.blocksize);
  const label = opts.label ?? fpath;
  const fullBlocks = needScan && withCoverage && sameGrid ? new Set<number>() : undefined;
  const scanned = needScan ? stitcher.finalizedStats(fullBlocks) : null;
  if (scanned) checkNoOverflow(scanned, stitcher.dtype, label);
  const stats = new CanvasStats(height, width, withCoverage, !scanned);
  const range = scanned ?? stats;
  const writeCog = opts.io?.writeCog ?? defaultWriteCog;
  const writePng = opts.io?.writePng ?? defaultWritePng;
  await mkdir(dirname(opts.part?.path ?? fpath), { recursive: true });

  if (opts.format === 'png') {
    // PNG has no tiles: the encoder needs the whole image.
    const full = stitcher.finalize();
    stats.visit(0, 0, full);
    checkNoOverflow(stats, stitcher.dtype, label);
    const quantization = opts.quantize ? quantizationOf('png', stats, opts.expectedMinmax) : null;
    if (!quantization) throw new StitchError(`cannot write ${fpath} as PNG without quantize: PNG holds integers only (use probFormat 'cog' or quantize: true)`);
    const q = quantizeBlock(full, quantization);
    await writePng(fpath, q);
    return { height, width, bands, quantization, totalProb: stats.sum, validValues: stats.valid, coverage: stats.coverageRectangle() };
  }

  if (opts.floats) return await writeFloats(stitcher, opts.floats, opts, scanned, stats, fullBlocks, writeCog);
  const quantization = opts.quantize ? quantizationOf(opts.format, range, opts.expectedMinmax) : null;
  const visit = !needScan || withCoverage;
  let floatScratch: Raster | undefined;
  let intScratch: Raster | undefined;
  const source = {
    height, width, bands, dtype: quantization ? quantizeDtypeOf(quantization) : stitcher.dtype,
    // the writer copies each block before asking for the next, so one float and one
    // integer block are reused throughout (no per-block garbage for the GC to chase)
    readBlock: (y0: number, x0: number, h: number, w: number): Raster | null => {
      const blk = stitcher.finalizeBlock(y0, x0, h, w, floatScratch);
      if (blk === null) return null;
      floatScratch = blk;
      if (fullBlocks && fullBlocks.has((y0 / stitcher.blocksize) * nbx + x0 / stitcher.blocksize)) stats.visitFull(y0, x0, blk.height, blk.width);
      else if (visit) {
        stats.visit(y0, x0, blk);
        // without a scan pass, overflow is found here, before the file is complete (the temp file is removed)
        if (!scanned) checkNoOverflow(stats, stitcher.dtype, label);
      }
      if (!quantization) return blk;
      intScratch = quantizeBlock(blk, quantization, undefined, intScratch);
      return intScratch;
    },
  };
  const options = cogOptionsFor(opts, quantization);
  if (opts.part) await (opts.io?.writeCogPart ?? defaultWriteCogPart)(opts.part.path, source, opts.part.region, options);
  else await writeCog(fpath, source, options);
  return {
    height, width, bands, quantization, totalProb: scanned ? scanned.sum : stats.sum, validValues: scanned ? scanned.valid : stats.valid,
    coverage: stats.coverageRectangle(), cog: { dtype: source.dtype, options },
  };
}

/** The writer options of the asset COG (or of a region's part of it). */
export function cogOptionsFor(opts: Pick<WriteAssetOptions, 'compress' | 'blocksize' | 'overviews' | 'epsg' | 'transform'>, quantization: Quantization | null): WriteCogOptions {
  const options: WriteCogOptions = withQuantization({ compress: opts.compress, blocksize: opts.blocksize, overviewResample: 'nearest' }, quantization);
  if (opts.overviews) options.overviews = opts.overviews;
  if (opts.epsg !== undefined) options.epsg = opts.epsg;
  if (opts.transform) options.transform = opts.transform;
  return options;
}

/** `options` with the fields a quantization decides (nodata, the quantization in GDAL metadata, GDAL's scale and offset) set for `quantization`. */
export function withQuantization(options: WriteCogOptions, quantization: Quantization | null): WriteCogOptions {
  return {
    ...options,
    nodata: quantization ? quantization.nodata ?? null : NaN,
    metadata: { quantization: pythonRepr(quantization) },
    // GDAL-based tools read model units; kwcoco reads raw samples and dequantizes from the manifest
    bandScale: quantization ? gdalScaleOffset(quantization) : null,
  };
}

/** Phase 1 of a two-phase region: the finalized floats to a file, the range and coverage reported. */
async function writeFloats(
  stitcher: Stitcher, path: string, opts: WriteAssetOptions, scanned: { min: number; max: number; sum: number; valid: number } | null,
  stats: CanvasStats, fullBlocks: Set<number> | undefined, writeCog: typeof defaultWriteCog,
): Promise<WrittenAsset & { coverage: [number, number, number, number] | 'empty' | null }> {
  const [height, width, bands] = stitcher.shape;
  if (!scanned || !opts.part) throw new StitchError(`${opts.label ?? path}: float values are kept for a region quantized later only (quantize without expectedMinmax)`);
  const nbx = Math.ceil(width / stitcher.blocksize);
  let scratch: Raster | undefined;
  const source = {
    height, width, bands, dtype: stitcher.dtype,
    readBlock: (y0: number, x0: number, h: number, w: number): Raster | null => {
      const blk = stitcher.finalizeBlock(y0, x0, h, w, scratch);
      if (blk === null) return null;
      scratch = blk;
      if (fullBlocks?.has((y0 / stitcher.blocksize) * nbx + x0 / stitcher.blocksize)) stats.visitFull(y0, x0, blk.height, blk.width);
      else stats.visit(y0, x0, blk);
      return blk;
    },
  };
  await mkdir(dirname(path), { recursive: true });
  await writeCog(path, source, { compress: 'NONE', blocksize: opts.blocksize, nodata: NaN });
  // the part's options but for the quantization, which phase 2 fills in from the whole image's range
  const options = cogOptionsFor(opts, null);
  return {
    height, width, bands, quantization: null, totalProb: scanned.sum, validValues: scanned.valid,
    coverage: stats.coverageRectangle(), cog: { dtype: opts.format === 'png' ? 'uint8' : 'int16', options },
    range: { min: scanned.min, max: scanned.max, valid: scanned.valid },
  };
}

function quantizeDtypeOf(q: Quantization): 'int16' | 'uint8' {
  return q.quant_min === 1 && q.quant_max === 255 ? 'uint8' : 'int16';
}
