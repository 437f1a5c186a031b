/**
 * Undoing TIFF predictors on decompressed tiles, in place:
 * - 2, horizontal differencing (TIFF 6.0 section 14): each sample minus the
 *   same sample of the previous pixel, on host-order integers;
 * - 3, floating point (Adobe TIFF Technote 3): bytes differenced across the
 *   row, after the samples' bytes were split into planes, most significant
 *   plane first. The result is in host (little-endian) order whatever the
 *   file's byte order, as libtiff does it.
 * Rows are `width * samplesPerPixel` samples; a short last strip is handled
 * by processing whole rows only.
 */

/** Undoes predictor 2 on host-order samples of `sampleBytes` (1, 2 or 4) bytes. */
export function undoHorizontal(bytes: Uint8Array, sampleBytes: number, width: number, spp: number): void {
  const n = Math.floor(bytes.byteLength / sampleBytes);
  const rowLen = width * spp;
  if (sampleBytes === 1) {
    accumulate(bytes, n, rowLen, spp);
  } else if (sampleBytes === 2) {
    accumulate(new Uint16Array(bytes.buffer, bytes.byteOffset, n), n, rowLen, spp);
  } else if (sampleBytes === 4) {
    accumulate(new Uint32Array(bytes.buffer, bytes.byteOffset, n), n, rowLen, spp);
  } else {
    throw new RangeError(`horizontal predictor on ${sampleBytes * 8}-bit samples`);
  }
}

function accumulate(a: Uint8Array | Uint16Array | Uint32Array, n: number, rowLen: number, spp: number): void {
  for (let row = 0; row + rowLen <= n; row += rowLen) {
    for (let i = row + spp, end = row + rowLen; i < end; i++) a[i] += a[i - spp];
  }
}

/** Undoes predictor 3 on a tile of `sampleBytes`-byte floats; output in little-endian order. */
export function undoFloatingPoint(bytes: Uint8Array, sampleBytes: number, width: number, spp: number): void {
  const wc = width * spp;
  const rowBytes = wc * sampleBytes;
  const scratch = new Uint8Array(rowBytes);
  for (let row = 0; row + rowBytes <= bytes.byteLength; row += rowBytes) {
    for (let i = row + spp, end = row + rowBytes; i < end; i++) bytes[i] = (bytes[i] + bytes[i - spp]) & 0xff;
    scratch.set(bytes.subarray(row, row + rowBytes));
    // plane k (k = 0 most significant) holds byte (sampleBytes - 1 - k) of every sample
    for (let k = 0; k < sampleBytes; k++) {
      const src = k * wc;
      for (let i = 0, d = row + sampleBytes - 1 - k; i < wc; i++, d += sampleBytes) bytes[d] = scratch[src + i];
    }
  }
}
