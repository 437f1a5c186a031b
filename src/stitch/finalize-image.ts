/**
 * Writing one stitched canvas to disk, block by block: stitcher blocks ->
 * (quantizeBlock) -> writeCog, never a second full-size copy (PNG is the exception:
 * the PNG encoder needs the whole image). Untouched blocks stay `null`, which the
 * COG writer stores as sparse tiles (offset 0) that GDAL reads as nodata.
 *
 * Two passes over the touched blocks: the first finds the valid range (for
 * quantization without `expectedMinmax`) and the NaN-ignoring sum (`totalProb`),
 * the second quantizes and writes. The file is written under a temporary name
 * and renamed into place: a failed write leaves no file.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Raster } from '../array/raster.ts';
import type { Affine } from '../array/affine.ts';
import { tempPathFor } from '../io/atomic.ts';
import { writePng as defaultWritePng } from '../io/png.ts';
import { writeCog as defaultWriteCog, type WriteCogOptions } from '../io/cog/write-cog.ts';
import { quantizationFor, quantizeBlock, type Quantization } from './quantize.ts';
import type { Stitcher } from './stitcher.ts';
import { StitchError } from './errors.ts';

export type { Quantization };

/** How the asset file is written. */
export interface WriteAssetOptions {
  format: 'cog' | 'tif' | 'png';
  compress: 'DEFLATE' | 'LZW' | 'ZSTD' | 'NONE';
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
}

/** The writers used by {@link writeStitchedAsset}. */
export interface AssetWriters {
  writeCog?: typeof defaultWriteCog;
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
}

/** Valid range and NaN-ignoring sum of the stitched canvas, from its touched blocks only. */
export function scanStitcher(stitcher: Stitcher): { min: number; max: number; sum: number; valid: number } {
  const [H, W] = stitcher.shape;
  const bs = stitcher.blocksize;
  let min = Infinity, max = -Infinity, sum = 0, valid = 0;
  for (const [by, bx] of stitcher.touchedBlocks()) {
    const y0 = by * bs, x0 = bx * bs;
    const blk = stitcher.finalizeBlock(y0, x0, Math.min(bs, H - y0), Math.min(bs, W - x0));
    if (blk === null) continue;
    const d = blk.data as Float32Array | Float64Array;
    let bmin = Infinity, bmax = -Infinity, bsum = 0, n = 0;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v !== v) continue;
      if (v < bmin) bmin = v;
      if (v > bmax) bmax = v;
      bsum += v;
      n++;
    }
    if (bmin < min) min = bmin;
    if (bmax > max) max = bmax;
    sum += bsum;
    valid += n;
  }
  return { min, max, sum, valid };
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
 * Returns its size, quantization and total.
 */
export async function writeStitchedAsset(stitcher: Stitcher, fpath: string, opts: WriteAssetOptions): Promise<WrittenAsset> {
  const [height, width, bands] = stitcher.shape;
  const range = scanStitcher(stitcher);
  const quantization = opts.quantize ? quantizationOf(opts.format, range, opts.expectedMinmax) : null;
  const writeCog = opts.io?.writeCog ?? defaultWriteCog;
  const writePng = opts.io?.writePng ?? defaultWritePng;
  await mkdir(dirname(fpath), { recursive: true });

  if (opts.format === 'png') {
    if (!quantization) throw new StitchError(`cannot write ${fpath} as PNG without quantize: PNG holds integers only (use probFormat 'cog' or quantize: true)`);
    // PNG has no tiles: the encoder needs the whole image.
    const full = quantizeBlock(stitcher.finalize(), quantization);
    await atomically(fpath, (tmp) => writePng(tmp, full));
    return { height, width, bands, quantization, totalProb: range.sum };
  }

  const source = quantization
    ? {
      height, width, bands, dtype: quantizeDtypeOf(quantization),
      readBlock: (y0: number, x0: number, h: number, w: number): Raster | null => {
        const blk = stitcher.finalizeBlock(y0, x0, h, w);
        return blk === null ? null : quantizeBlock(blk, quantization);
      },
    }
    : stitcher.blockSource();
  const options: WriteCogOptions = {
    compress: opts.compress,
    blocksize: opts.blocksize,
    nodata: quantization ? quantization.nodata ?? undefined : NaN,
    metadata: { quantization: pythonRepr(quantization) },
    overviewResample: 'nearest',
  };
  if (opts.overviews) options.overviews = opts.overviews;
  if (opts.epsg !== undefined) options.epsg = opts.epsg;
  if (opts.transform) options.transform = opts.transform;
  await atomically(fpath, (tmp) => writeCog(tmp, source, options));
  return { height, width, bands, quantization, totalProb: range.sum };
}

/** Run `write(tmp)` then rename tmp -> fpath; on failure remove tmp (whatever the writer left) and rethrow. */
async function atomically(fpath: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(fpath);
  try {
    await write(tmp);
    await rename(tmp, fpath);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

function quantizeDtypeOf(q: Quantization): 'int16' | 'uint8' {
  return q.quant_min === 1 && q.quant_max === 255 ? 'uint8' : 'int16';
}
