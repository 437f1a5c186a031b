/**
 * Tile decoding for the TIFF reader: decompression and predictor undoing
 * through geotiff.js's decoders, except DEFLATE, which goes through
 * libdeflate when its optional addon is built (../native-addon.ts), else
 * node:zlib's asynchronous inflate (both run on libuv's thread pool, so the
 * tiles of one read inflate in parallel without worker threads, and it is
 * faster than the pure-JS inflate geotiff.js ships), and LZW, which goes
 * through the addon's C decoder on the pool, or else our own JavaScript one
 * (./lzw-decode.ts, about ten times faster than geotiff.js's), and JPEG,
 * which goes through libjpeg in the addon when it was built with it, and ZSTD,
 * which goes through libzstd in the addon likewise, else through the optional
 * zstd-napi when it is installed (geotiff.js's WASM decoder otherwise).
 * Predictors are undone by ./predictor.ts (allocation-free, byte-order
 * aware). The output is the tile's samples in host (little-endian) byte order.
 */
import { inflate } from 'node:zlib';
import { promisify } from 'node:util';
import type { BaseDecoder, Pool } from 'geotiff';
import { FormatError, UnsupportedError } from '../errors.ts';
import { nativeAddon } from '../native-addon.ts';
import { Compression } from '../tiff-tags.ts';
import { lzwDecode } from './lzw-decode.ts';
import { undoFloatingPoint, undoHorizontal } from './predictor.ts';

const inflateAsync = promisify(inflate);

/** Bytes a DEFLATE tile may inflate to beyond its pixels (trailing padding some writers leave). */
const INFLATE_SLACK = 64 * 1024;

/** Everything a decoder needs to know about the tiles of one IFD. */
export interface TileLayout {
  /** the file, for error messages */
  path: string;
  compression: number;
  predictor: number;
  /** tile width (image width for strips) */
  tileWidth: number;
  /** tile height (RowsPerStrip for strips) */
  tileHeight: number;
  bitsPerSample: number[];
  planarConfiguration: 1 | 2;
  littleEndian: boolean;
  /** JPEG tiles stored as YCbCr (PhotometricInterpretation 6): convert to RGB, as GDAL does */
  ycbcrToRgb?: boolean;
  /** codec-specific parameters geotiff.js's decoders read (JPEGTables, LercParameters) */
  extra?: Record<string, unknown>;
  /** optional geotiff.js Pool (web workers) for the non-DEFLATE codecs */
  pool?: Pool | null;
}

/** Decodes one compressed tile into its raw sample bytes (host byte order). */
export type TileDecode = (compressed: Uint8Array) => Promise<Uint8Array>;

type ZstdDecompress = (data: Uint8Array) => Uint8Array;
let zstdNative: Promise<ZstdDecompress | null> | null = null;

/** zstd-napi's native decompress when the optional dependency is installed, else null. */
function loadNativeZstd(): Promise<ZstdDecompress | null> {
  zstdNative ??= import('zstd-napi').then((m) => m.decompress as ZstdDecompress, () => null);
  return zstdNative;
}

/** JFIF YCbCr -> RGB on 8-bit pixel-interleaved triples, in place (libjpeg's formulas, rounded). */
function ycbcrToRgb(px: Uint8Array): void {
  for (let i = 0; i + 2 < px.length; i += 3) {
    const y = px[i], cb = px[i + 1] - 128, cr = px[i + 2] - 128;
    const r = Math.round(y + 1.402 * cr), g = Math.round(y - 0.344136286 * cb - 0.714136286 * cr), b = Math.round(y + 1.772 * cb);
    px[i] = r < 0 ? 0 : r > 255 ? 255 : r;
    px[i + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
    px[i + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
  }
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) { const t = bytes[i]; bytes[i] = bytes[i + 1]; bytes[i + 1] = t; }
  } else if (size === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      let t = bytes[i]; bytes[i] = bytes[i + 3]; bytes[i + 3] = t;
      t = bytes[i + 1]; bytes[i + 1] = bytes[i + 2]; bytes[i + 2] = t;
    }
  } else if (size === 8) {
    for (let i = 0; i + 7 < bytes.length; i += 8) {
      for (let k = 0; k < 4; k++) { const t = bytes[i + k]; bytes[i + k] = bytes[i + 7 - k]; bytes[i + 7 - k] = t; }
    }
  }
}

function compressionName(c: number): string {
  const names: Record<number, string> = {
    1: 'NONE', 5: 'LZW', 6: 'old-style JPEG', 7: 'JPEG', 8: 'DEFLATE', 32773: 'PACKBITS', 32946: 'DEFLATE',
    34887: 'LERC', 50000: 'ZSTD', 50001: 'WEBP',
  };
  return names[c] ?? `code ${c}`;
}

/**
 * Makes the decode function for tiles of `layout`. Throws UnsupportedError
 * for a compression or predictor geotiff.js cannot decode.
 */
export async function createTileDecoder(layout: TileLayout): Promise<TileDecode> {
  const { compression, predictor, bitsPerSample, planarConfiguration, littleEndian } = layout;
  if (predictor !== 1 && predictor !== 2 && predictor !== 3) {
    throw new UnsupportedError(`${layout.path}: TIFF predictor ${predictor} is not supported (expected 1, 2 or 3)`, layout.path);
  }
  if (compression === Compression.OldJPEG) {
    throw new UnsupportedError(`${layout.path}: TIFF compression ${compressionName(compression)} is not supported`, layout.path);
  }
  const sampleBytes = bitsPerSample[0] / 8;
  if (predictor === 2 && sampleBytes > 4) {
    throw new UnsupportedError(`${layout.path}: TIFF predictor 2 on ${bitsPerSample[0]}-bit samples is not supported`, layout.path);
  }
  // Decompression only (geotiff.js's decoders get predictor 1); byte order and
  // predictors are undone by sampleFinisher. The floating-point predictor yields host
  // order itself, so only the other cases of big-endian files are swapped.
  const params = {
    tileWidth: layout.tileWidth, tileHeight: layout.tileHeight,
    planarConfiguration, bitsPerSample: bitsPerSample.slice(), predictor: 1,
    samplesPerPixel: bitsPerSample.length,
    ...layout.extra,
  };
  // Each codec returns a buffer this tile owns (in-place steps follow); the
  // input is a view into a read buffer this tile may also own (NONE).
  const perPixel = planarConfiguration === 2 ? sampleBytes : sampleBytes * bitsPerSample.length;
  const expected = layout.tileWidth * layout.tileHeight * perPixel;
  let decode: (view: Uint8Array) => Promise<Uint8Array>;
  // true when the codec itself turns YCbCr into RGB (libjpeg does)
  let givesRgb = false;
  const lib = nativeAddon();
  const bands = bitsPerSample.length;
  if (compression === Compression.None) {
    decode = async (view) => view;
  } else if (compression === Compression.Deflate || compression === Compression.AdobeDeflate) {
    // A stream libdeflate rejects (corrupt, or longer than a tile) goes to
    // zlib, whose error messages the reader already reports.
    // zlib stops past a little more than a tile: a small tile cannot inflate to gigabytes
    const inflateCapped = (view: Uint8Array) => inflateAsync(view, { maxOutputLength: expected + INFLATE_SLACK }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException)?.code !== 'ERR_BUFFER_TOO_LARGE') throw err;
      throw new FormatError(`${layout.path}: a DEFLATE block inflates to more than ${expected + INFLATE_SLACK} bytes; its ${layout.tileWidth}x${layout.tileHeight} pixels need ${expected}`, layout.path, { cause: err });
    });
    decode = lib ? (view) => lib.zlibDecompress(view, expected).catch(() => inflateCapped(view)) : inflateCapped;
  } else if (compression === Compression.LZW) {
    // the addon's decoder runs on the pool, so a read's tiles decode in parallel
    const native = lib?.lzwDecode;
    decode = native ? (view) => native(view, expected) : async (view) => lzwDecode(view, expected);
  } else if (compression === Compression.JPEG && lib?.jpegDecode && sampleBytes === 1 && planarConfiguration === 1 && (bands === 1 || bands === 3)) {
    const jpegDecode = lib.jpegDecode;
    // the system's libjpeg (as GDAL reads them) on the pool, instead of geotiff.js's JavaScript decoder
    const t = layout.extra?.JPEGTables as ArrayLike<number> | undefined;
    const tables = t ? Uint8Array.from(t) : null;
    const ycbcr = layout.ycbcrToRgb === true;
    decode = (view) => jpegDecode(view, tables, ycbcr, layout.tileWidth, layout.tileHeight, bands);
    givesRgb = true;
  } else if (compression === Compression.ZSTD && lib?.zstdDecompress) {
    // libzstd on the pool; a stream it rejects goes to zstd-napi (when installed), whose errors the reader reports
    const zstdDecompress = lib.zstdDecompress;
    decode = (view) => zstdDecompress(view, expected).catch(async (err: unknown) => {
      const js = await loadNativeZstd();
      if (!js) throw err;
      return js(view);
    });
  } else if (compression === Compression.ZSTD && await loadNativeZstd()) {
    const decompress = (await loadNativeZstd())!;
    decode = async (view) => decompress(view);
  } else {
    let run: (buf: ArrayBuffer) => Promise<ArrayBufferLike>;
    if (layout.pool) {
      const bound = layout.pool.bindParameters(compression, params as never);
      run = (buf) => bound.decode(buf);
    } else {
      let dec: BaseDecoder;
      try {
        dec = await (await import('geotiff')).getDecoder(compression, params as never);
      } catch (err) {
        throw new UnsupportedError(`${layout.path}: TIFF compression ${compressionName(compression)} is not supported by geotiff.js: ${(err as Error).message}`, layout.path, { cause: err });
      }
      run = (buf) => dec.decode(buf);
    }
    // geotiff.js decoders may transfer or view the whole buffer: give them their own copy.
    decode = async (view) => new Uint8Array(await run(Uint8Array.prototype.slice.call(view).buffer));
  }
  const finish = sampleFinisher(layout, givesRgb);
  return async (compressed) => finish(await decode(compressed));
}

/**
 * The steps after decompression, in place: byte order to the host's, the
 * predictor undone, YCbCr to RGB (unless the codec did it, `givesRgb`).
 * Rows are independent in each step, so it applies to any run of whole rows.
 */
export function sampleFinisher(layout: TileLayout, givesRgb = false): (bytes: Uint8Array) => Uint8Array {
  const { compression, predictor, bitsPerSample, planarConfiguration, littleEndian } = layout;
  const sampleBytes = bitsPerSample[0] / 8;
  const needSwap = !littleEndian && sampleBytes > 1 && predictor !== 3;
  const stride = planarConfiguration === 2 ? 1 : bitsPerSample.length;
  const convertYcbcr = layout.ycbcrToRgb === true && !givesRgb;
  const inPlace = convertYcbcr || needSwap || predictor !== 1;
  return (out) => {
    // Typed views need aligned data, and in-place steps need a buffer nobody else holds
    // (native codecs may return views into a larger buffer).
    if (out.byteOffset % sampleBytes !== 0 || (inPlace && compression === Compression.ZSTD && out.byteLength !== out.buffer.byteLength)) {
      out = Uint8Array.prototype.slice.call(out);
    }
    if (convertYcbcr) ycbcrToRgb(out);
    if (needSwap) swapBytes(out, sampleBytes);
    if (predictor === 2) undoHorizontal(out, sampleBytes, layout.tileWidth, stride);
    else if (predictor === 3) undoFloatingPoint(out, sampleBytes, layout.tileWidth, stride);
    return out;
  };
}

/** Human-readable compression name for a TIFF Compression code. */
export { compressionName };
