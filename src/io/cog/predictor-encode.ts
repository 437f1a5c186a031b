/**
 * Applying TIFF predictors to a tile before compression, in place; the
 * inverse of src/io/tiff-read/predictor.ts. Rows are `width * spp` samples
 * (a tile row, edge tiles included: tiles are always full size).
 * - 2, horizontal: each sample minus the same band of the previous pixel,
 *   with wrap-around integer arithmetic on 1, 2 or 4-byte samples.
 * - 3, floating point: each row's sample bytes split into planes, most
 *   significant byte first, then each byte minus the byte `spp` before it.
 */

/** Applies predictor 2 to little-endian samples of `sampleBytes` (1, 2 or 4) bytes. */
export function applyHorizontal(bytes: Uint8Array, sampleBytes: number, width: number, spp: number): void {
  const n = Math.floor(bytes.byteLength / sampleBytes);
  const rowLen = width * spp;
  if (sampleBytes === 1) difference(bytes, n, rowLen, spp);
  else if (sampleBytes === 2) difference(new Uint16Array(bytes.buffer, bytes.byteOffset, n), n, rowLen, spp);
  else if (sampleBytes === 4) difference(new Uint32Array(bytes.buffer, bytes.byteOffset, n), n, rowLen, spp);
  else throw new RangeError(`horizontal predictor on ${sampleBytes * 8}-bit samples is not supported`);
}

function difference(a: Uint8Array | Uint16Array | Uint32Array, n: number, rowLen: number, spp: number): void {
  for (let row = 0; row + rowLen <= n; row += rowLen) {
    for (let i = row + rowLen - 1, start = row + spp; i >= start; i--) a[i] -= a[i - spp];
  }
}

/**
 * Applies predictor 3 to a tile of little-endian `sampleBytes`-byte floats.
 * `scratch` (at least one row of bytes) may be passed to avoid allocating.
 */
export function applyFloatingPoint(bytes: Uint8Array, sampleBytes: number, width: number, spp: number, scratch?: Uint8Array): void {
  const wc = width * spp;
  const rowBytes = wc * sampleBytes;
  const tmp = scratch && scratch.length >= rowBytes ? scratch : new Uint8Array(rowBytes);
  for (let row = 0; row + rowBytes <= bytes.byteLength; row += rowBytes) {
    // plane k holds byte (sampleBytes - 1 - k) of every sample (most significant first)
    if (sampleBytes === 4 && (bytes.byteOffset + row) % 4 === 0) {
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset + row, wc);
      const p1 = wc, p2 = 2 * wc, p3 = 3 * wc;
      for (let i = 0; i < wc; i++) {
        const v = words[i]; // Uint8Array stores keep the low byte
        tmp[i] = v >>> 24; tmp[p1 + i] = v >>> 16; tmp[p2 + i] = v >>> 8; tmp[p3 + i] = v;
      }
    } else {
      for (let k = 0; k < sampleBytes; k++) {
        const dst = k * wc;
        for (let i = 0, s = row + sampleBytes - 1 - k; i < wc; i++, s += sampleBytes) tmp[dst + i] = bytes[s];
      }
    }
    if (spp % 4 === 0 && (bytes.byteOffset + row) % 4 === 0 && tmp.byteOffset % 4 === 0) {
      // four byte lanes at once: per-byte subtraction without borrows between bytes (SWAR)
      const t32 = new Uint32Array(tmp.buffer, tmp.byteOffset, rowBytes >> 2);
      const o32 = new Uint32Array(bytes.buffer, bytes.byteOffset + row, rowBytes >> 2);
      const lag = spp >> 2;
      for (let i = (rowBytes >> 2) - 1; i >= lag; i--) {
        const a = t32[i], b = t32[i - lag];
        o32[i] = (((a | 0x80808080) >>> 0) - (b & 0x7f7f7f7f)) ^ ((a ^ ~b) & 0x80808080);
      }
      for (let i = 0; i < lag; i++) o32[i] = t32[i];
    } else {
      for (let i = rowBytes - 1; i >= spp; i--) bytes[row + i] = tmp[i] - tmp[i - spp]; // wraps mod 256
      for (let i = 0; i < spp && i < rowBytes; i++) bytes[row + i] = tmp[i];
    }
  }
}
