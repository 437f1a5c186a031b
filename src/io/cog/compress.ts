/**
 * Tile compression: DEFLATE through libdeflate (the optional native addon,
 * ../native-addon.ts) or else node:zlib's asynchronous API (both run on
 * libuv's thread pool, so tiles compress in parallel), ZSTD through the
 * optional native `zstd-napi` and our LZW (on worker threads for larger
 * files), or none.
 */
import { deflate } from 'node:zlib';
import { UnsupportedError } from '../errors.ts';
import { nativeAddon, nativeAddonLoadError, type NativeAddon } from '../native-addon.ts';
import { BufferPool } from './buffer-pool.ts';
import { lzwEncode } from './lzw-encode.ts';
import { workerCompressor } from './worker-codecs.ts';
import { Compression } from '../tiff-tags.ts';

/** Compression names accepted by writeCog. */
export type CompressName = 'DEFLATE' | 'LZW' | 'ZSTD' | 'NONE';

export const COMPRESS_NAMES: readonly CompressName[] = ['DEFLATE', 'LZW', 'ZSTD', 'NONE'];

/** Tag value of each compression name. */
export const COMPRESSION_CODES: Readonly<Record<CompressName, Compression>> = {
  DEFLATE: Compression.Deflate, LZW: Compression.LZW, ZSTD: Compression.ZSTD, NONE: Compression.None,
};

/** Valid `level` range of the compressions that have one, and its default (GDAL's). */
export const LEVELS: Readonly<Partial<Record<CompressName, { min: number; max: number; default: number }>>> = {
  DEFLATE: { min: 1, max: 9, default: 6 },
  ZSTD: { min: 1, max: 22, default: 9 },
};

type ZstdCompress = (data: Uint8Array, params?: { compressionLevel?: number }) => Uint8Array;
let zstd: Promise<ZstdCompress> | null = null;

/** zstd-napi's compress, or an UnsupportedError saying why it cannot be loaded. */
export function loadZstd(): Promise<ZstdCompress> {
  zstd ??= import('zstd-napi').then(
    (m) => (m as unknown as { compress: ZstdCompress }).compress,
    (err: unknown) => {
      zstd = null;
      throw new UnsupportedError(`ZSTD compression needs the optional dependency zstd-napi, which could not be loaded: ${(err as Error)?.message ?? err}`, undefined, { cause: err });
    },
  );
  return zstd;
}

function deflateAsync(data: Uint8Array, level: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    deflate(data, { level }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/**
 * Which DEFLATE implementation compresses: 'auto' takes libdeflate when its
 * addon is built, else node:zlib; 'libdeflate' fails clearly without it.
 */
export type DeflateEngine = 'auto' | 'libdeflate' | 'zlib';

/** A tile compressor for one method and level. */
export interface TileCompressor {
  /** The compressed tile; it may be `raw` itself (NONE) or a view on a buffer of the compressor's. */
  compress(raw: Uint8Array): Promise<Uint8Array>;
  /** Takes back a result of compress() once it is stored, so its buffer can be reused. */
  release(out: Uint8Array): void;
  /** compress() applies predictor 2 to the raw tile itself (on the pool thread), so the caller must not */
  readonly predicts: boolean;
}

/** Predictor 2's layout of a tile: sample size in bytes, pixels per row, samples per pixel. */
export interface HorizontalLayout { sampleBytes: number; width: number; spp: number }

/** A compressor with no buffers of its own to take back, which leaves the predictor to the caller. */
const plain = (compress: (raw: Uint8Array) => Promise<Uint8Array>): TileCompressor => ({ compress, release: () => {}, predicts: false });

/**
 * libdeflate into pooled output buffers sized for `tileBytes` (every full-
 * resolution and overview tile of one file has that size).
 */
function libdeflateCompressor(lib: NativeAddon, level: number, tileBytes: number, horizontal: HorizontalLayout | null): TileCompressor {
  const pool = new BufferPool(lib.zlibCompressBound(tileBytes));
  const { sampleBytes = 0, width = 0, spp = 0 } = horizontal ?? {};
  return {
    predicts: horizontal !== null,
    async compress(raw) {
      const out = raw.length === tileBytes ? pool.acquire() : new Uint8Array(lib.zlibCompressBound(raw.length));
      try {
        return out.subarray(0, await lib.zlibCompressInto(raw, level, out, sampleBytes, width, spp));
      } catch (err) {
        pool.release(out);
        throw err;
      }
    },
    release: (out) => pool.release(out),
  };
}

/**
 * Creates the compressor of `method` for tiles of `tileBytes` raw bytes
 * (loads zstd-napi for ZSTD, failing clearly without it). `horizontal`: the
 * tiles get predictor 2, which libdeflate's compressor applies itself, and
 * so do the worker threads. `threads`: run LZW and ZSTD on worker threads
 * (./worker-codecs.ts), worth their start-up only for more than a few tiles.
 */
export async function createCompressor(method: CompressName, level: number | undefined, engine: DeflateEngine, tileBytes: number,
  horizontal: HorizontalLayout | null = null, threads = false): Promise<TileCompressor> {
  switch (method) {
    case 'NONE': return plain(async (raw) => raw);
    case 'LZW':
      if (threads) return workerCompressor('LZW', 0, horizontal, tileBytes);
      return plain(async (raw) => lzwEncode(raw));
    case 'DEFLATE': {
      const lv = level ?? LEVELS.DEFLATE!.default;
      const lib = engine === 'zlib' ? null : nativeAddon();
      if (engine === 'libdeflate' && !lib) {
        throw new UnsupportedError(`deflateEngine 'libdeflate' needs the optional addon coco-stitcher-native (built at npm ci when libdeflate-dev is installed), which could not be loaded: ${nativeAddonLoadError()}`);
      }
      return lib ? libdeflateCompressor(lib, lv, tileBytes, horizontal) : plain((raw) => deflateAsync(raw, lv));
    }
    case 'ZSTD': {
      const compress = await loadZstd(); // here, so a missing zstd-napi fails before any tile
      const params = { compressionLevel: level ?? LEVELS.ZSTD!.default };
      if (threads) return workerCompressor('ZSTD', params.compressionLevel, horizontal, tileBytes);
      return plain(async (raw) => compress(raw, params));
    }
  }
}
