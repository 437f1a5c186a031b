/**
 * Plain JPEG files (JFIF / EXIF, baseline or progressive, 8-bit gray or
 * colour) as rasters: through the system's libjpeg in the native addon when
 * it was built with it (what GDAL reads them with), else through
 * @jsquash/jpeg (Squoosh's build of mozjpeg, a libjpeg-turbo, as
 * WebAssembly: the same IDCT and chroma upsampling, so the same pixels).
 * Decoded whole: JPEG has no tiles.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { checkAllocation } from '../array/memory-budget.ts';
import { Raster } from '../array/raster.ts';
import { FormatError, UnsupportedError } from './errors.ts';
import { nativeAddon } from './native-addon.ts';

/** True when `head` starts with a JPEG SOI marker followed by another marker. */
export function isJpeg(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/** What the frame header (SOF) and the colour markers say. */
export interface JpegInfo { width: number; height: number; components: number; precision: number; ycbcr: boolean }

/** Reads the frame header; FormatError naming `path` when there is none. */
export function jpegInfo(bytes: Uint8Array, path: string): JpegInfo {
  let adobeTransform: number | null = null;
  let jfif = false;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) throw new FormatError(`${path} is a corrupt JPEG: no marker at byte ${i}`, path);
    const marker = bytes[i + 1];
    if (marker === 0xff) { i++; continue; } // fill byte
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    const seg = i + 4;
    if (marker === 0xe0 && bytes[seg] === 0x4a && bytes[seg + 1] === 0x46 && bytes[seg + 2] === 0x49 && bytes[seg + 3] === 0x46) jfif = true;
    if (marker === 0xee && len >= 12 && String.fromCharCode(...bytes.subarray(seg, seg + 5)) === 'Adobe') adobeTransform = bytes[seg + 11];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (seg + 6 > bytes.length) break;
      const components = bytes[seg + 5];
      return {
        precision: bytes[seg], height: (bytes[seg + 1] << 8) | bytes[seg + 2], width: (bytes[seg + 3] << 8) | bytes[seg + 4], components,
        // libjpeg's rule: 3 components are YCbCr unless an Adobe marker says transform 0 (RGB)
        ycbcr: components === 3 && (jfif || adobeTransform !== 0),
      };
    }
    if (marker === 0xda || marker === 0xd9) break; // scan or end before a frame header
    i = seg + len - 2;
  }
  throw new FormatError(`${path} is a truncated or corrupt JPEG: no frame header`, path);
}

/**
 * FormatError unless an end-of-image marker ends the data (trailing bytes
 * up to 4 KiB allowed): libjpeg, like GDAL, decodes a cut file with a
 * warning and grey for the missing part, which would pass unnoticed here.
 */
function checkComplete(bytes: Uint8Array, path: string): void {
  for (let i = bytes.length - 2; i >= Math.max(2, bytes.length - 4096); i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return;
  }
  throw new FormatError(`${path} is a truncated JPEG: its ${bytes.length} bytes do not end with an end-of-image marker`, path);
}

/** Decodes JPEG bytes into an HWC uint8 raster (1 band gray, 3 bands RGB). */
export async function decodeJpegBytes(bytes: Uint8Array, path = '<buffer>'): Promise<Raster> {
  const info = jpegInfo(bytes, path);
  checkComplete(bytes, path);
  const { width, height, components } = info;
  if (info.precision !== 8) throw new UnsupportedError(`${path}: ${info.precision}-bit JPEG is not supported (expected 8-bit)`, path);
  if (components !== 1 && components !== 3) {
    throw new UnsupportedError(`${path}: JPEG with ${components} components is not supported (expected 1, gray, or 3, colour)`, path);
  }
  if (!(width > 0 && height > 0)) throw new FormatError(`${path}: JPEG frame header gives size ${width}x${height}`, path);
  checkAllocation(width * height * 4, `JPEG ${path} (${width}x${height}x${components})`);
  const lib = nativeAddon();
  if (lib?.jpegDecode) {
    let data: Uint8Array;
    try {
      data = await lib.jpegDecode(bytes, null, info.ycbcr, width, height, components);
    } catch (err) {
      throw new FormatError(`${path} is a truncated or corrupt JPEG: ${(err as Error).message}`, path, { cause: err });
    }
    return new Raster(new Uint8Array(data.buffer, data.byteOffset, width * height * components), [height, width, components]);
  }
  return decodeWithWasm(bytes, path, info);
}

let wasmDecoder: Promise<(bytes: ArrayBuffer) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>> | null = null;

/** @jsquash/jpeg's decoder, its WebAssembly compiled once from the package's file (it would fetch it in a browser). */
function loadWasmDecoder() {
  wasmDecoder ??= (async () => {
    const mod = await import('@jsquash/jpeg/decode.js');
    const wasmPath = createRequire(import.meta.url).resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    // (the project's lib has no WebAssembly typings)
    const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;
    await mod.init(await wasm.compile(await readFile(wasmPath)) as never);
    return mod.default as never;
  })();
  return wasmDecoder;
}

/** The decoder without the addon (libjpeg-turbo as WebAssembly); exported so tests compare both paths. */
export async function decodeWithWasm(bytes: Uint8Array, path: string, info = jpegInfo(bytes, path)): Promise<Raster> {
  checkComplete(bytes, path);
  const decode = await loadWasmDecoder();
  let rgba: Uint8ClampedArray;
  try {
    // its own ArrayBuffer (a Buffer's slice() would be a view of Node's pool)
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : Uint8Array.prototype.slice.call(bytes).buffer;
    const img = await decode(own as ArrayBuffer);
    if (img.width !== info.width || img.height !== info.height) throw new Error(`decoded ${img.width}x${img.height}, the header says ${info.width}x${info.height}`);
    rgba = img.data;
  } catch (err) {
    wasmDecoder = null; // emscripten's module is dead after a failed decode (exit): the next file gets a new one
    throw new FormatError(`${path} is a truncated or corrupt JPEG: ${(err as Error)?.message ?? String(err)}`, path, { cause: err });
  }
  // it gives RGBA (gray as three equal samples): keep the file's bands
  const { width, height, components } = info;
  const out = new Uint8Array(width * height * components);
  for (let i = 0, j = 0; i < out.length; j += 4) {
    out[i++] = rgba[j];
    if (components === 3) { out[i++] = rgba[j + 1]; out[i++] = rgba[j + 2]; }
  }
  return new Raster(out, [height, width, components]);
}
