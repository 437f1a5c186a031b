/**
 * The optional native addon `coco-stitcher-native` (./native): zlib-format
 * DEFLATE through the system's libdeflate on libuv's thread pool, several
 * times faster than node:zlib at the same level, TIFF LZW decoding and (when
 * built with libjpeg's / libzstd's headers) JPEG and ZSTD decoding on the
 * same pool, and
 * prefaulting of new Stitcher blocks in one madvise call. It builds at `npm ci` when
 * libdeflate's headers are installed (Debian: libdeflate-dev); without it
 * the writer and reader use node:zlib, with the same file format.
 */
import { createRequire } from 'node:module';

/** The addon's API (see native/index.d.ts). */
export interface NativeAddon {
  zlibCompressInto(input: Uint8Array, level: number, output: Uint8Array, sampleBytes?: number, width?: number, spp?: number): Promise<number>;
  zlibCompressBound(n: number): number;
  zlibDecompress(data: Uint8Array, size: number): Promise<Uint8Array>;
  /** TIFF LZW decoding on the pool (absent from an addon built before it was added) */
  lzwDecode?(data: Uint8Array, size: number): Promise<Uint8Array>;
  /** ZSTD frames through libzstd on the pool (absent when the addon was built without libzstd's headers) */
  zstdDecompress?(data: Uint8Array, size: number): Promise<Uint8Array>;
  /** JPEG-in-TIFF tiles through libjpeg on the pool (absent when the addon was built without libjpeg's headers) */
  jpegDecode?(tile: Uint8Array, tables: Uint8Array | null, ycbcr: boolean, width: number, height: number, components: number): Promise<Uint8Array>;
  prefault(buffer: ArrayBuffer, offset: number, length: number): boolean;
  readonly libdeflateVersion: string;
}

let loaded: { lib: NativeAddon | null; error: string } | undefined;

function load(): { lib: NativeAddon | null; error: string } {
  if (loaded) return loaded;
  try {
    loaded = { lib: createRequire(import.meta.url)('coco-stitcher-native') as NativeAddon, error: '' };
  } catch (err) {
    loaded = { lib: null, error: (err as Error)?.message ?? String(err) };
  }
  return loaded;
}

/** The addon, or null when it is not built. */
export function nativeAddon(): NativeAddon | null {
  return load().lib;
}

/** Why the addon could not be loaded ('' when it is loaded). */
export function nativeAddonLoadError(): string {
  return load().error;
}
