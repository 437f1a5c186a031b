/**
 * The reader's own codecs, against hand-computed cases and naive reference
 * encoders written here from the specs (TIFF 6.0 sections 13-14, Adobe
 * Technote 3). GDAL-written files exercise them too (read-raster.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lzwDecode, LzwError } from '../../../src/io/tiff-read/lzw-decode.ts';
import { undoFloatingPoint, undoHorizontal } from '../../../src/io/tiff-read/predictor.ts';

/** Naive TIFF LZW encoder: Map of strings, MSB-first codes, early change, clear before the table fills. */
function lzwEncodeReference(data: Uint8Array): Uint8Array {
  const bits: number[] = [];
  let nbits = 9;
  const put = (code: number) => { for (let b = nbits - 1; b >= 0; b--) bits.push((code >> b) & 1); };
  let table = new Map<string, number>();
  let next = 258;
  const reset = () => { table = new Map(); for (let i = 0; i < 256; i++) table.set(String.fromCharCode(i), i); next = 258; nbits = 9; };
  put(256); reset();
  let w = '';
  for (const byte of data) {
    const c = String.fromCharCode(byte);
    if (table.has(w + c)) { w += c; continue; }
    put(table.get(w)!);
    table.set(w + c, next++);
    if (next >= (1 << nbits) && nbits < 12) nbits++; // the encoder switches one code after the decoder (TIFF "early change")
    if (next >= 4094) { put(256); reset(); }
    w = c;
  }
  if (w) {
    put(table.get(w)!);
    next++;
    if (next >= (1 << nbits) && nbits < 12) nbits++; // the encoder switches one code after the decoder (TIFF "early change")
  }
  put(257);
  while (bits.length % 8) bits.push(0);
  const out = new Uint8Array(bits.length / 8);
  for (let i = 0; i < out.length; i++) for (let b = 0; b < 8; b++) out[i] |= bits[i * 8 + b] << (7 - b);
  return out;
}

describe('lzwDecode', () => {
  it('decodes the classic repeated-pattern case (uses a code defined by itself)', () => {
    const data = new TextEncoder().encode('ABABABABABABAB');
    assert.deepEqual(Array.from(lzwDecode(lzwEncodeReference(data), data.length)), Array.from(data));
  });

  it('round-trips random and repetitive data through the reference encoder, past the 12-bit table limit', () => {
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 12000 }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }).chain((unit) => fc.integer({ min: 1, max: 3000 }).map((n) => {
          const a = new Uint8Array(unit.length * n);
          for (let i = 0; i < a.length; i++) a[i] = unit[i % unit.length];
          return a;
        }))),
      (data) => {
        assert.deepEqual(Array.from(lzwDecode(lzwEncodeReference(data), data.length)), Array.from(data));
      }), { numRuns: 40 });
  });

  it('grows the output when the size hint is too small', () => {
    const data = new Uint8Array(5000).map((_, i) => (i * 31) & 0xff);
    assert.deepEqual(Array.from(lzwDecode(lzwEncodeReference(data), 10)), Array.from(data));
  });

  it('rejects codes that are not defined yet', () => {
    // clear (256), literal 65, then code 300 (next free is 258): 9-bit codes
    const codes = [256, 65, 300, 257];
    const bits = codes.flatMap((c) => Array.from({ length: 9 }, (_, b) => (c >> (8 - b)) & 1));
    while (bits.length % 8) bits.push(0);
    const bytes = new Uint8Array(bits.length / 8).map((_, i) => bits.slice(i * 8, i * 8 + 8).reduce((a, b) => (a << 1) | b, 0));
    assert.throws(() => lzwDecode(bytes, 4), LzwError);
  });
});

describe('undoHorizontal (predictor 2)', () => {
  it('8-bit, one sample per pixel, wraps modulo 256, rows independent', () => {
    const a = Uint8Array.of(1, 1, 1, 254, /* row 2 */ 10, 0xff, 0, 0);
    undoHorizontal(a, 1, 4, 1);
    assert.deepEqual(Array.from(a), [1, 2, 3, 1, 10, 9, 9, 9]);
  });

  it('16-bit, two samples per pixel difference against the same sample', () => {
    const a = Uint16Array.of(100, 5, 1, 65535, 2, 3);
    undoHorizontal(new Uint8Array(a.buffer), 2, 3, 2);
    assert.deepEqual(Array.from(a), [100, 5, 101, 4, 103, 7]);
  });

  it('32-bit', () => {
    const a = Uint32Array.of(4294967295, 2, 3);
    undoHorizontal(new Uint8Array(a.buffer), 4, 3, 1);
    assert.deepEqual(Array.from(a), [4294967295, 1, 4]);
  });
});

/** Reference predictor-3 encoder: split little-endian samples into planes, MSB plane first, then difference bytes. */
function floatPredictEncode(values: Float32Array | Float64Array, width: number, spp: number): Uint8Array {
  const bps = values.BYTES_PER_ELEMENT;
  const le = new Uint8Array(values.buffer.slice(0));
  const wc = width * spp;
  const out = new Uint8Array(le.length);
  for (let row = 0; row < le.length; row += wc * bps) {
    const planes = new Uint8Array(wc * bps);
    for (let i = 0; i < wc; i++) for (let k = 0; k < bps; k++) planes[k * wc + i] = le[row + i * bps + (bps - 1 - k)];
    for (let i = planes.length - 1; i >= spp; i--) planes[i] = (planes[i] - planes[i - spp]) & 0xff;
    out.set(planes, row);
  }
  return out;
}

describe('undoFloatingPoint (predictor 3)', () => {
  for (const [label, values, width, spp] of [
    ['float32, 1 sample, 2 rows', Float32Array.of(1.5, -2, 0, 3.25e-8, NaN, Infinity), 3, 1],
    ['float32, 3 samples', Float32Array.of(1, 2, 3, -1, -2, -3), 2, 3],
    ['float64, 2 samples, 2 rows', Float64Array.of(Math.PI, -0, 1e300, -5e-324, 7, 8, 9, 10), 2, 2],
  ] as const) {
    it(label, () => {
      const enc = floatPredictEncode(values, width, spp);
      undoFloatingPoint(enc, values.BYTES_PER_ELEMENT, width, spp);
      const back = values instanceof Float32Array ? new Float32Array(enc.buffer) : new Float64Array(enc.buffer);
      assert.deepEqual(Array.from(back), Array.from(values));
    });
  }
});
