/**
 * The optional native addon `coco-stitcher-native` (./native), loaded once:
 * zlib-format DEFLATE through the system's libdeflate on libuv's thread pool
 * (several times faster than node:zlib at the same level), TIFF LZW
 * decoding, JPEG and ZSTD decoding when the build found libjpeg / libzstd,
 * prefaulting of new Stitcher blocks in one madvise call, huge pages for
 * their memory, the Stitcher's float32 accumulate kernels, and copy_file_range
 * for the region-part assembly. It builds at
 * `npm ci` (and again in `npm test`'s set-up after that installs the
 * libraries) when libdeflate's headers are installed (Debian:
 * libdeflate-dev); without it the writer and reader use node:zlib and the
 * JavaScript decoders, with the same results.
 */
import { createRequire } from 'node:module';
import type * as Addon from '../../native/index.d.ts';

/** The addon's API, from native/index.d.ts (its one declaration). */
export type NativeAddon = typeof Addon;

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
