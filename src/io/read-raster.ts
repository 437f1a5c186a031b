/**
 * Raster reading entry points: `openRaster` detects the format from the
 * file's first bytes (TIFF/BigTIFF in either byte order, or PNG; the file
 * name does not matter) and `readRaster` is open + read + close.
 *
 * Conventions: rasters are HWC (pixel-interleaved) in the file's dtype;
 * windows are `[rows, cols]` half-open slices; `transform` maps pixel corners
 * (pixel-is-area) of the full-resolution grid to the CRS.
 */
import type { Affine } from '../array/affine.ts';
import type { Raster } from '../array/raster.ts';
import { FormatError } from './errors.ts';
import { hexHead, isPng, pngRasterFile } from './png.ts';
import { decodeJpegBytes, isJpeg } from './jpeg.ts';
import { wholeImageFile } from './whole-image-file.ts';
import type { RasterFile, RasterReadOptions } from './raster-file.ts';
import { checkAllocation } from '../array/memory-budget.ts';
import { openByteSource } from './open-byte-source.ts';
import { openTiff, type OpenTiffOptions } from './tiff-read/tiff-raster.ts';

export type { RasterFile, RasterReadOptions } from './raster-file.ts';
export type { OpenTiffOptions } from './tiff-read/tiff-raster.ts';

/** True when `head` starts like a classic TIFF or BigTIFF, little- or big-endian. */
export function isTiff(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const le = head[0] === 0x49 && head[1] === 0x49 && head[3] === 0x00 && (head[2] === 42 || head[2] === 43);
  const be = head[0] === 0x4d && head[1] === 0x4d && head[2] === 0x00 && (head[3] === 42 || head[3] === 43);
  return le || be;
}

/**
 * Opens a raster file (GeoTIFF/COG through geotiff.js, PNG through
 * fast-png, or JPEG), chosen by content: a local path, or an `http(s)://` /
 * `/vsicurl/` URL read with range requests. The header is parsed once; call
 * `close()` when done.
 *
 * Errors: IoError (missing or unreadable file), FormatError (not a TIFF/PNG,
 * naming the first bytes; truncated or corrupt header), UnsupportedError
 * (sample types other than uint8 int8 uint16 int16 int32 float32 float64,
 * unknown compression).
 *
 * @example
 * const f = await openRaster('pred.tif');
 * const tile = await f.read({ window: [slice(0, 128), slice(256, 384)] });
 * await f.close();
 */
export async function openRaster(path: string, options: OpenTiffOptions = {}): Promise<RasterFile> {
  const source = await openByteSource(path);
  let head: Uint8Array;
  try {
    head = await source.readPadded(0, Math.min(8, source.size));
  } catch (err) {
    await source.close().catch(() => {});
    throw err;
  }
  if (isTiff(head)) return openTiff(source, options);
  try {
    if (isPng(head)) {
      // PNG and JPEG cannot be read by parts: the whole file (fetched whole over HTTP)
      checkAllocation(source.size, `PNG ${source.path}`);
      return pngRasterFile(source.path, await source.readExact(0, source.size, 'the PNG'));
    }
    if (isJpeg(head)) {
      checkAllocation(source.size, `JPEG ${source.path}`);
      const bytes = await source.readExact(0, source.size, 'the JPEG');
      return wholeImageFile(source.path, 'jpeg', await decodeJpegBytes(bytes, source.path));
    }
    throw new FormatError(`${source.path} is neither a TIFF, a PNG nor a JPEG (first bytes ${hexHead(head)})`, source.path);
  } finally {
    await source.close().catch(() => {});
  }
}

/** What `readRaster` returns: the pixels and the georeferencing of the file. */
export interface ReadRasterResult {
  /** HWC, the file's dtype */
  raster: Raster;
  nodata: number | null;
  metadata: Record<string, string>;
  epsg: number | null;
  /** pixel(corner) -> CRS of the full-resolution grid (not of the overview read) */
  transform: Affine | null;
}

/**
 * Reads a window (default: all) of a raster file, full resolution or one
 * overview, and closes it. See `openRaster` and `RasterReadOptions`.
 *
 * @example
 * const { raster, nodata, transform } = await readRaster('pred.tif', { window: [slice(0, 100), slice(0, 100)] });
 */
export async function readRaster(path: string, options: RasterReadOptions = {}): Promise<ReadRasterResult> {
  const file = await openRaster(path);
  try {
    const raster = await file.read(options);
    return { raster, nodata: file.nodata, metadata: file.metadata, epsg: file.epsg, transform: file.transform };
  } finally {
    await file.close();
  }
}
