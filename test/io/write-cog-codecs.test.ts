/**
 * The writer's codecs: our LZW encoder round trips through our decoder
 * (src/io/tiff-read/lzw-decode.ts) and through GDAL, including streams long
 * enough to fill the 4096-code table and reset it; predictors 2 and 3 are
 * undone exactly by the reader's inverse; and (fast-check) random small
 * rasters of every dtype, compression and predictor round trip exactly
 * through writeCog and our reader.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { lzwEncode } from '../../src/io/cog/lzw-encode.ts';
import { applyFloatingPoint, applyHorizontal } from '../../src/io/cog/predictor-encode.ts';
import { lzwDecode } from '../../src/io/tiff-read/lzw-decode.ts';
import { undoFloatingPoint, undoHorizontal } from '../../src/io/tiff-read/predictor.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { Raster } from '../../src/array/raster.ts';
import { DTYPES, type Dtype } from '../../src/array/dtypes.ts';
import { openRaster } from '../../src/io/read-raster.ts';
import { gdalBatch, TEST_COMPRESSIONS } from './write-cog.helpers.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'write-cog-codec-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function noise(n: number, seed: number, alphabet = 256): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = (s >>> 24) % alphabet; }
  return out;
}

/** Number of codes in a TIFF LZW stream and how many are Clear codes (decoded the slow, obvious way). */
function countCodes(stream: Uint8Array): { codes: number; clears: number } {
  let bit = 0, nbits = 9, next = 258, codes = 0, clears = 0, first = true;
  const total = stream.length * 8;
  while (bit + nbits <= total) {
    let code = 0;
    for (let i = 0; i < nbits; i++, bit++) code = (code << 1) | ((stream[bit >> 3] >> (7 - (bit & 7))) & 1);
    codes++;
    if (code === 257) break;
    if (code === 256) { clears++; nbits = 9; next = 258; first = true; continue; }
    if (!first && next < 4096) next++;
    first = false;
    if (next >= (1 << nbits) - 1 && nbits < 12) nbits++;
  }
  return { codes, clears };
}

describe('LZW encoder', () => {
  it('round trips through our decoder: empty, one byte, runs, text, noise', () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['one byte', Uint8Array.of(42)],
      ['two bytes', Uint8Array.of(0, 255)],
      ['run of 100000 zeros', new Uint8Array(100000)],
      ['text', new TextEncoder().encode('TOBEORNOTTOBEORTOBEORNOT#'.repeat(300))],
      ['noise 64 KiB', noise(65536, 1)],
      ['4-symbol noise', noise(50000, 2, 4)],
    ];
    for (const [what, input] of cases) {
      const enc = lzwEncode(input);
      assert.deepEqual(lzwDecode(enc, input.length), input, what);
    }
  });

  it('long noise fills the 4096-code table: Clear codes are emitted and decoding stays exact', () => {
    const input = noise(200000, 3);
    const enc = lzwEncode(input);
    const { codes, clears } = countCodes(enc);
    assert.ok(codes > 3 * 4096, `${codes} codes`);
    assert.ok(clears >= 3, `${clears} clear codes`);
    assert.deepEqual(lzwDecode(enc, input.length), input);
  });

  it('compresses repetitive data (a 64 KiB run to a few hundred bytes)', () => {
    assert.ok(lzwEncode(new Uint8Array(65536)).length < 600);
  });

  it('fast-check: any byte string round trips (width changes at 511/1023/2047 and resets included)', () => {
    fc.assert(fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.tuple(fc.integer({ min: 1, max: 20000 }), fc.integer(), fc.integer({ min: 1, max: 256 })).map(([n, s, a]) => noise(n, s, a))),
      (input) => { assert.deepEqual(lzwDecode(lzwEncode(input), input.length), input); },
    ), { numRuns: 150 });
  });

  it('round trips over 2,100 calls in a row, so its string table\'s 2,047 generation tags wrap (each call and each Clear takes one)', () => {
    for (let k = 0; k < 2100; k++) {
      const input = noise(200 + ((k * 7919) % 9000), k, 1 + (k % 200));
      const out = lzwDecode(lzwEncode(input), input.length);
      if (out.length !== input.length || out.some((v, i) => v !== input[i])) assert.fail(`call ${k}: ${input.length} bytes do not round trip`);
    }
  });

  it('a call 2,047 table generations after another (the tags cycle) does not see its strings', () => {
    // "ab" leaves the string (a, b) in the table; the empty calls between only move the
    // generation on (nothing overwrites that entry), so "cab" runs under the same tag and
    // would take (a, b) for a string it has, unless the table was wiped when the tags wrapped
    lzwEncode(Uint8Array.of(97, 98));
    for (let k = 0; k < 2046; k++) lzwEncode(new Uint8Array(0));
    const cab = Uint8Array.of(99, 97, 98);
    assert.deepEqual(lzwDecode(lzwEncode(cab), 3), cab);
  });

  it('GDAL decodes our LZW tiles, 256 KiB of noise in one tile (table resets inside the tile)', () => {
    const p = join(dir, 'lzw-big-tile.tif');
    const r = new Raster(noise(512 * 512, 9), [512, 512, 1]);
    return writeCog(p, r, { compress: 'LZW', blocksize: 512, predictor: 1 }).then(() => {
      const [g] = gdalBatch([p]);
      assert.deepEqual(g.errors, []);
      for (let i = 0; i < r.data.length; i++) if (g.levels[0].data[i] !== r.data[i]) assert.fail(`sample ${i}: ${g.levels[0].data[i]} vs ${r.data[i]}`);
    });
  });
});

describe('predictors', () => {
  it('fast-check: predictor 2 then the reader undo is the identity (1, 2, 4-byte samples, 1..5 bands)', () => {
    fc.assert(fc.property(fc.constantFrom(1, 2, 4), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer(),
      (sb, width, spp, rows, seed) => {
        const raw = noise(sb * width * spp * rows, seed);
        const t = raw.slice();
        applyHorizontal(t, sb, width, spp);
        undoHorizontal(t, sb, width, spp);
        assert.deepEqual(t, raw);
      }), { numRuns: 200 });
  });

  it('fast-check: predictor 3 then the reader undo is the identity (float32 / float64, 1..5 bands)', () => {
    fc.assert(fc.property(fc.constantFrom(4, 8), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer(),
      (sb, width, spp, rows, seed) => {
        const raw = noise(sb * width * spp * rows, seed);
        const t = raw.slice();
        applyFloatingPoint(t, sb, width, spp);
        undoFloatingPoint(t, sb, width, spp);
        assert.deepEqual(t, raw);
      }), { numRuns: 200 });
  });

  it('predictor 2 makes a horizontal ramp all ones after the first sample; predictor 3 groups the byte planes', () => {
    const ramp = new Uint16Array([10, 11, 12, 13]);
    const bytes = new Uint8Array(ramp.buffer);
    applyHorizontal(bytes, 2, 4, 1);
    assert.deepEqual([...ramp], [10, 1, 1, 1]);
    const f = new Float32Array([1, 1]); // 0x3f800000 twice: planes 3f 3f | 80 80 | 00 00 | 00 00
    const fb = new Uint8Array(f.buffer);
    applyFloatingPoint(fb, 4, 2, 1);
    assert.deepEqual([...fb], [0x3f, 0, 0x80 - 0x3f, 0, 0x100 - 0x80, 0, 0, 0]);
  });

  it('predictors pay off: a smooth float32 raster compresses smaller with predictor 3 than 1', async () => {
    const r = Raster.zeros([128, 128, 1], 'float32');
    for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) r.set(y, x, 0, Math.sin(x / 20) * Math.cos(y / 30) * 100);
    const { statSync } = await import('node:fs');
    await writeCog(join(dir, 'p1.tif'), r, { predictor: 1 });
    await writeCog(join(dir, 'p3.tif'), r, { predictor: 3 });
    assert.ok(statSync(join(dir, 'p3.tif')).size < statSync(join(dir, 'p1.tif')).size);
    // sanity: plain deflate of the raw bytes is in the same range as the predictor-1 file
    assert.ok(deflateSync(new Uint8Array(r.data.buffer)).length < statSync(join(dir, 'p1.tif')).size + 2000);
  });
});

describe('fast-check: random small rasters round trip through writeCog and our reader', () => {
  const DTYPE_LIST: Dtype[] = ['uint8', 'int8', 'uint16', 'int16', 'int32', 'float32', 'float64'];
  it('exact pixels, every dtype / compression / predictor / size', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(
      fc.record({
        dtype: fc.constantFrom(...DTYPE_LIST),
        h: fc.integer({ min: 1, max: 40 }),
        w: fc.integer({ min: 1, max: 40 }),
        c: fc.integer({ min: 1, max: 4 }),
        compress: fc.constantFrom(...TEST_COMPRESSIONS),
        usePredictor: fc.boolean(),
        overviews: fc.constantFrom(0, 1, 2),
        seed: fc.integer(),
      }),
      async ({ dtype, h, w, c, compress, usePredictor, overviews, seed }) => {
        const info = DTYPES[dtype];
        const r = Raster.zeros([h, w, c], dtype);
        const bytes = noise(r.data.byteLength, seed);
        if (info.isFloat) {
          // random finite floats (bit patterns can be NaN: keep those out, NaN payloads are not preserved by every reader)
          const f = new (info.ctor)(bytes.buffer) as Float32Array | Float64Array;
          for (let i = 0; i < f.length; i++) r.data[i] = Number.isFinite(f[i]) ? f[i] : i;
        } else {
          new Uint8Array(r.data.buffer).set(bytes);
        }
        const predictor = compress === 'NONE' || !usePredictor ? 1 : info.isFloat ? 3 : 2;
        const p = join(dir, `prop-${n++}.tif`);
        await writeCog(p, r, { compress, predictor, blocksize: 16, overviews });
        const f = await openRaster(p);
        try {
          const got = await f.read();
          assert.equal(got.dtype, dtype);
          assert.deepEqual(got.shape, r.shape);
          assert.deepEqual(new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength), new Uint8Array(r.data.buffer));
        } finally {
          await f.close();
          rmSync(p);
        }
      },
    ), { numRuns: 60 });
  });
});
