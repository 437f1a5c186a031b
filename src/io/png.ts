/**
 * PNG read and write through fast-png. Rasters are HWC; 1 to 4 bands map to
 * gray, gray+alpha, RGB and RGBA in band order (no BGR swap, unlike OpenCV).
 * Reading gives uint8 (bit depths 1, 2, 4, 8, unpacked to one sample per
 * byte; palette images give their indices, as GDAL does) or uint16 (depth 16).
 */
import { readFile } from 'node:fs/promises';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { checkAllocation } from '../array/memory-budget.ts';
import { Raster } from '../array/raster.ts';
import { writeFileAtomic } from './atomic.ts';
import { FormatError, IoError, UnsupportedError } from './errors.ts';
import type { RasterFile } from './raster-file.ts';
import { wholeImageFile } from './whole-image-file.ts';

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** True when `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return false;
  return true;
}

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes) into one byte per sample. */
function unpackBits(packed: ArrayLike<number>, width: number, height: number, channels: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    const base = y * rowBytes;
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      out[y * perRow + i] = (packed[base + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Samples per pixel of each PNG colour type (gray, RGB, palette, gray+alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Checks the size the PNG header declares against the memory budget before
 * decoding (a PNG is decoded whole: a few KB can declare 100000 x 100000).
 */
function checkPngSize(bytes: Uint8Array, path: string): void {
  if (bytes.length < 26) return; // too short for IHDR: the decoder says it is truncated
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = dv.getUint32(16), height = dv.getUint32(20);
  const depth = bytes[24]!, channels = PNG_CHANNELS[bytes[25]!] ?? 4;
  // the inflated rows and the unfiltered samples exist at once
  checkAllocation(2 * width * height * channels * Math.max(1, depth / 8), `${path}: a PNG of ${width} x ${height} pixels x ${channels} sample(s) of ${depth} bits, decoded whole,`);
}

/**
 * Decodes PNG bytes into an HWC raster (uint8 or uint16). `path` only names
 * the source in errors.
 */
export function decodePngBytes(bytes: Uint8Array, path = '<buffer>'): Raster {
  if (!isPng(bytes)) {
    throw new FormatError(`${path} is not a PNG (first bytes ${hexHead(bytes)})`, path);
  }
  checkPngSize(bytes, path);
  let png;
  try {
    png = decodePng(bytes);
  } catch (err) {
    throw new FormatError(`${path} is a truncated or corrupt PNG: ${(err as Error).message}`, path, { cause: err });
  }
  const { width, height, channels, depth } = png;
  let data: Uint8Array | Uint16Array;
  if (depth === 16) {
    data = png.data instanceof Uint16Array ? png.data : Uint16Array.from(png.data);
  } else if (depth === 8) {
    data = png.data instanceof Uint8Array && !(png.data instanceof Uint8ClampedArray) ? png.data : new Uint8Array(png.data);
  } else {
    data = unpackBits(png.data, width, height, channels, depth);
  }
  const n = width * height * channels;
  if (data.length < n) {
    throw new FormatError(`${path} is a truncated PNG: ${data.length} samples decoded, ${width}x${height}x${channels} expected`, path);
  }
  if (data.length > n) data = data.subarray(0, n);
  return new Raster(data, [height, width, channels]);
}

/** Encodes an HWC uint8/uint16 raster of 1 to 4 bands as PNG bytes (band order kept). */
export function encodePngRaster(raster: Raster, path = '<buffer>'): Uint8Array {
  if (!(raster instanceof Raster)) throw new UnsupportedError(`writePng(${path}) needs a Raster, got ${typeof raster}`, path);
  const { dtype, bands, width, height } = raster;
  if (dtype !== 'uint8' && dtype !== 'uint16') {
    throw new UnsupportedError(`cannot write ${dtype} raster to PNG ${path}: PNG holds uint8 or uint16 samples (quantize or astype first)`, path);
  }
  if (bands < 1 || bands > 4) {
    throw new UnsupportedError(`cannot write a ${bands}-band raster to PNG ${path}: PNG holds 1 to 4 bands (gray, gray+alpha, RGB, RGBA)`, path);
  }
  if (width === 0 || height === 0) {
    throw new UnsupportedError(`cannot write an empty ${height}x${width} raster to PNG ${path}`, path);
  }
  return encodePng({ width, height, data: raster.data as Uint8Array | Uint16Array, channels: bands, depth: dtype === 'uint8' ? 8 : 16 });
}

/**
 * Writes `raster` (HWC, uint8 or uint16, 1-4 bands) to `path` as PNG,
 * atomically (temporary file renamed into place). Band order is kept.
 *
 * @example
 * await writePng('out.png', new Raster(Uint8Array.of(255, 0, 0), [1, 1, 3])); // one red pixel
 */
export async function writePng(path: string, raster: Raster): Promise<void> {
  await writeFileAtomic(path, encodePngRaster(raster, path));
}

/** Reads a whole PNG file into an HWC raster (uint8 or uint16). */
export async function readPng(path: string): Promise<Raster> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new IoError(`cannot read PNG ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, path, { cause: err });
  }
  return decodePngBytes(bytes, path);
}

/** The first bytes of a buffer in hex, for "not a TIFF/PNG" messages. */
export function hexHead(bytes: Uint8Array, n = 8): string {
  if (bytes.length === 0) return '(empty file)';
  const hex = Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const ascii = Array.from(bytes.subarray(0, n), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${hex} "${ascii}"`;
}

/**
 * A PNG as a `RasterFile`: decoded once (PNG has no tiles), windows are crops
 * of the decoded image; no nodata, metadata, CRS, transform or overviews.
 */
export function pngRasterFile(path: string, bytes: Uint8Array): RasterFile {
  return wholeImageFile(path, 'png', decodePngBytes(bytes, path));
}
