/**
 * Compresses `data` as a zlib stream (RFC 1950: the format of TIFF's DEFLATE
 * tiles) with libdeflate at `level` (1-12), on libuv's thread pool.
 */
export function zlibCompress(data: Uint8Array, level: number): Promise<Buffer>;
/** Decompresses a zlib stream whose decompressed size is exactly `size` bytes, on libuv's thread pool. */
export function zlibDecompress(data: Uint8Array, size: number): Promise<Buffer>;
/** libdeflate's version string, e.g. "1.14". */
export const libdeflateVersion: string;
