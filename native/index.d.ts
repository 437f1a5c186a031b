/**
 * The API of coco-stitcher's optional native addon. Every build has the
 * DEFLATE (libdeflate), LZW and prefault members; `jpegDecode` and
 * `zstdDecompress` exist only when the build found libjpeg / libzstd (through
 * pkg-config; Debian: libjpeg-dev, libzstd-dev), so they are typed optional.
 * Asynchronous members run on libuv's thread pool; neither buffer may be
 * touched until they settle.
 */

/**
 * Compresses `input` as a zlib stream (RFC 1950: the format of TIFF's DEFLATE
 * tiles) with libdeflate at `level` (1-12) into `output`; resolves to the
 * compressed length. `output` needs zlibCompressBound(input.length) bytes.
 * With `sampleBytes` (1, 2 or 4), TIFF predictor 2 is applied to `input` in
 * place first (rows of `width` pixels of `spp` samples, little-endian).
 */
export declare function zlibCompressInto(input: Uint8Array, level: number, output: Uint8Array, sampleBytes?: number, width?: number, spp?: number): Promise<number>;
/** The output size zlibCompressInto needs for `n` input bytes, at any level. */
export declare function zlibCompressBound(n: number): number;
/** Decompresses a zlib stream whose decompressed size is at most `size` bytes. */
export declare function zlibDecompress(data: Uint8Array, size: number): Promise<Buffer>;
/**
 * Decodes a TIFF LZW strip or tile (as coco-stitcher's JavaScript decoder
 * does, errors included) whose size is about `size` bytes (the output grows
 * if the stream holds more).
 */
export declare function lzwDecode(data: Uint8Array, size: number): Promise<Buffer>;
/**
 * Decodes one JPEG-in-TIFF tile (an abbreviated stream whose tables are
 * `tables`, the JPEGTables tag, or null) through the system's libjpeg:
 * `width` x `height` pixels of 1 (gray) or 3 components; 3 components are
 * YCbCr when `ycbcr` (Photometric 6) or RGB, and come out RGB.
 * Absent when the addon was built without libjpeg.
 */
export declare const jpegDecode: ((tile: Uint8Array, tables: Uint8Array | null, ycbcr: boolean, width: number, height: number, components: number) => Promise<Buffer>) | undefined;
/**
 * Decompresses ZSTD frames (at most `size` bytes, or the frames' stated size)
 * through the system's libzstd. Absent when the addon was built without libzstd.
 */
export declare const zstdDecompress: ((data: Uint8Array, size: number) => Promise<Buffer>) | undefined;
/** libdeflate's version string, e.g. "1.14". */
export declare const libdeflateVersion: string;
/**
 * Faults in, for writing, the whole 4 KiB pages inside bytes [offset, offset + length)
 * of `buffer` in one call (madvise MADV_POPULATE_WRITE); false when the kernel cannot.
 */
export declare function prefault(buffer: ArrayBuffer, offset: number, length: number): boolean;
/** prefault on libuv's thread pool (the memory is faulted in on another core); resolves false when the kernel cannot. */
export declare function prefaultAsync(buffer: ArrayBuffer, offset: number, length: number): Promise<boolean>;
/**
 * Marks the whole 4 KiB pages inside bytes [offset, offset + length) of `buffer`
 * MADV_HUGEPAGE (transparent huge pages where the kernel offers them); false when
 * the kernel refuses.
 */
export declare function adviseHugePages(buffer: ArrayBuffer, offset: number, length: number): boolean;
/**
 * The Stitcher's float32 accumulate (native/src/accumulate.c), bit for bit the
 * WebAssembly kernels' result: for each of `rows` rows and each of its `npix`
 * pixels, the `bands` float32 sums at byte `sums` (+ row * sumsStride) of
 * `memory` += the pixel's values (from element valuesOffset + row *
 * valuesStride of `values`) times its weight (weights[weightsOffset + row *
 * weightsStride + pixel], or `weight` when `weights` is null), and the float32
 * at byte `plane` (+ row * planeStride) += that weight (plane -1: left alone).
 * Byte offsets are multiples of 4; a range outside its buffer is a RangeError.
 */
export declare function stitchAccumulate(memory: ArrayBuffer, sums: number, sumsStride: number, plane: number, planeStride: number,
  values: Float32Array, valuesOffset: number, valuesStride: number, weights: Float32Array | null, weightsOffset: number, weightsStride: number,
  rows: number, npix: number, bands: number, weight: number): void;
/**
 * Index r * len + i of the first NaN or ±Inf among `rows` rows of `len` values
 * of `values` (row r from element offset + r * stride), or -1.
 */
export declare function firstNonFinite(values: Float32Array, offset: number, stride: number, rows: number, len: number): number;
/**
 * a[i] = b[i] + s * c[i] over the shortest of the three (STREAM's triad): the
 * memory-bandwidth reference of the Stitcher's benchmarks.
 */
export declare function streamTriad(a: Float32Array, b: Float32Array, c: Float32Array, s: number): void;
/** Which accumulate kernels run: 'avx2' (chosen at load time when the CPU has AVX2) or 'plain'. */
export declare const accumulateKernel: 'avx2' | 'plain';
/**
 * Copies `length` bytes from file descriptor `fdIn` at `offsetIn` to `fdOut`
 * at `offsetOut` on the thread pool, inside the kernel (copy_file_range; a
 * buffered pread / pwrite where the filesystem cannot); rejects when the
 * input ends first or a call fails, naming the byte, and, with `leader`
 * (a uint32), when the little-endian uint32 at `offsetIn` is not it.
 */
export declare function copyFileRange(fdIn: number, offsetIn: number, fdOut: number, offsetOut: number, length: number, leader?: number): Promise<void>;
