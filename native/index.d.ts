/**
 * Compresses `input` as a zlib stream (RFC 1950: the format of TIFF's DEFLATE
 * tiles) with libdeflate at `level` (1-12) into `output`, on libuv's thread
 * pool; resolves to the compressed length. Neither buffer may be touched
 * until it resolves. `output` needs zlibCompressBound(input.length) bytes.
 * With `sampleBytes` (1, 2 or 4), TIFF predictor 2 is applied to `input` in
 * place first (rows of `width` pixels of `spp` samples, little-endian).
 */
export function zlibCompressInto(input: Uint8Array, level: number, output: Uint8Array, sampleBytes?: number, width?: number, spp?: number): Promise<number>;
/** The output size zlibCompressInto needs for `n` input bytes, at any level. */
export function zlibCompressBound(n: number): number;
/** Decompresses a zlib stream whose decompressed size is at most `size` bytes, on libuv's thread pool. */
export function zlibDecompress(data: Uint8Array, size: number): Promise<Buffer>;
/**
 * Decodes a TIFF LZW strip or tile (as coco-stitcher's JavaScript decoder
 * does, errors included) whose size is about `size` bytes (the output grows
 * if the stream holds more), on libuv's thread pool.
 */
export function lzwDecode(data: Uint8Array, size: number): Promise<Buffer>;
/**
 * Decodes one JPEG-in-TIFF tile (an abbreviated stream whose tables are
 * `tables`, the JPEGTables tag, or null) through the system's libjpeg, on
 * libuv's thread pool: `width` x `height` pixels of 1 (gray) or 3 components;
 * 3 components are YCbCr when `ycbcr` (Photometric 6) or RGB, and come out RGB.
 * Present only when the addon was built with libjpeg's headers (libjpeg-dev).
 */
export function jpegDecode(tile: Uint8Array, tables: Uint8Array | null, ycbcr: boolean, width: number, height: number, components: number): Promise<Buffer>;
/**
 * Decompresses ZSTD frames (at most `size` bytes, or the frames' stated size)
 * through the system's libzstd on libuv's thread pool. Present only when the
 * addon was built with libzstd's headers (libzstd-dev).
 */
export function zstdDecompress(data: Uint8Array, size: number): Promise<Buffer>;
/** libdeflate's version string, e.g. "1.14". */
export const libdeflateVersion: string;
/**
 * Faults in, for writing, the whole 4 KiB pages inside bytes [offset, offset + length)
 * of `buffer` in one call (madvise MADV_POPULATE_WRITE); false when the kernel cannot.
 */
export function prefault(buffer: ArrayBuffer, offset: number, length: number): boolean;
