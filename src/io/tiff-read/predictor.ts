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
  // Whole 32-bit words are assembled from the planes when aligned (one store per word instead of four).
  const words = (sampleBytes === 4 || sampleBytes === 8) && bytes.byteOffset % 4 === 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : null;
  for (let row = 0; row + rowBytes <= bytes.byteLength; row += rowBytes) {
    if (spp === 1) {
      let acc = bytes[row];
      for (let i = row + 1, end = row + rowBytes; i < end; i++) { acc = (acc + bytes[i]) & 0xff; bytes[i] = acc; }
    } else {
      for (let i = row + spp, end = row + rowBytes; i < end; i++) bytes[i] += bytes[i - spp];
    }
    scratch.set(bytes.subarray(row, row + rowBytes));
    if (words && sampleBytes === 4) {
      const o = row >> 2, p1 = wc, p2 = 2 * wc, p3 = 3 * wc;
      for (let i = 0; i < wc; i++) {
        words[o + i] = (scratch[i] << 24) | (scratch[p1 + i] << 16) | (scratch[p2 + i] << 8) | scratch[p3 + i];
      }
    } else if (words && sampleBytes === 8) {
      const o = row >> 2;
      for (let i = 0; i < wc; i++) {
        words[o + 2 * i] = (scratch[4 * wc + i] << 24) | (scratch[5 * wc + i] << 16) | (scratch[6 * wc + i] << 8) | scratch[7 * wc + i];
        words[o + 2 * i + 1] = (scratch[i] << 24) | (scratch[wc + i] << 16) | (scratch[2 * wc + i] << 8) | scratch[3 * wc + i];
      }
    } else {
      // plane k (k = 0 most significant) holds byte (sampleBytes - 1 - k) of every sample
      for (let k = 0; k < sampleBytes; k++) {
        const src = k * wc;
        for (let i = 0, d = row + sampleBytes - 1 - k; i < wc; i++, d += sampleBytes) bytes[d] = scratch[src + i];
      }
    }
  }
}
