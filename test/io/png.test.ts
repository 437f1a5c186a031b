/**
 * PNG read/write: round trips for every bit depth and channel count we
 * write, GDAL reading our PNGs identically (band order kept), our reader
 * reading GDAL's PNGs (including 1/2/4-bit), content sniffing and errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { decodePngBytes, encodePngRaster, isPng, readPng, writePng } from '../../src/io/png.ts';
import { openRaster, readRaster } from '../../src/io/read-raster.ts';
import { FormatError, IoError, UnsupportedError } from '../../src/io/errors.ts';
import { gdalReadMany, makeGdalFixtures } from '../helpers/reader-fixtures.ts';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'png-test-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic raster whose every sample differs from its neighbours and bands. */
function pattern(dtype: 'uint8' | 'uint16', h: number, w: number, c: number): Raster {
  const r = Raster.zeros([h, w, c], dtype);
  const max = dtype === 'uint8' ? 256 : 65536;
  for (let i = 0; i < r.data.length; i++) r.data[i] = (i * 7919 + (i % c) * 104729) % max;
  // the extremes must survive too
  r.data[0] = 0; r.data[r.data.length - 1] = max - 1;
  return r;
}

const CASES = (['uint8', 'uint16'] as const).flatMap((dtype) => [1, 2, 3, 4].map((c) => ({ dtype, c })));

describe('round trips through our writer and reader', () => {
  for (const { dtype, c } of CASES) {
    it(`${dtype} x${c}`, async () => {
      const r = pattern(dtype, 13, 17, c);
      const p = join(dir, `rt-${dtype}-${c}.png`);
      await writePng(p, r);
      const back = await readPng(p);
      assert.equal(back.dtype, dtype);
      assert.deepEqual([...back.shape], [13, 17, c]);
      assert.deepEqual(Array.from(back.data), Array.from(r.data));
      const viaReadRaster = await readRaster(p);
      assert.deepEqual(Array.from(viaReadRaster.raster.data), Array.from(r.data));
      assert.equal(viaReadRaster.nodata, null);
      assert.equal(viaReadRaster.epsg, null);
      assert.equal(viaReadRaster.transform, null);
      assert.deepEqual(viaReadRaster.metadata, {});
    });
  }

  it('any uint8/uint16 raster of 1-4 bands round-trips (property)', () => {
    fc.assert(fc.property(
      fc.constantFrom('uint8' as const, 'uint16' as const), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 4 }), fc.integer(),
      (dtype, h, w, c, seed) => {
        const r = Raster.zeros([h, w, c], dtype);
        let s = seed >>> 0;
        for (let i = 0; i < r.data.length; i++) { s = (s * 1103515245 + 12345) >>> 0; r.data[i] = s >>> 8; }
        const back = decodePngBytes(encodePngRaster(r));
        assert.deepEqual([...back.shape], [h, w, c]);
        assert.equal(back.dtype, dtype);
        assert.deepEqual(Array.from(back.data), Array.from(r.data));
      }), { numRuns: 50 });
  });
});

describe('GDAL reads our PNGs identically (band order kept, no BGR swap)', () => {
  it('every depth and channel count', async () => {
    const paths: string[] = [];
    const rasters: Raster[] = [];
    for (const { dtype, c } of CASES) {
      const r = pattern(dtype, 11, 6, c);
      const p = join(dir, `gdal-${dtype}-${c}.png`);
      await writePng(p, r);
      paths.push(p); rasters.push(r);
    }
    const got = gdalReadMany(paths);
    got.forEach((g, i) => {
      const r = rasters[i];
      assert.deepEqual(g.shape, [...r.shape], paths[i]);
      assert.equal(g.dtype, r.dtype, paths[i]);
      assert.deepEqual(Array.from(g.data), Array.from(r.data), paths[i]);
    });
  });
});

describe('GDAL-written PNGs read as GDAL reads them', () => {
  let fx: ReturnType<typeof makeGdalFixtures>;
  before(() => {
    fx = makeGdalFixtures([
      ...CASES.map(({ dtype, c }) => ({ name: `g-${dtype}-${c}`, dtype, height: 9, width: 14, bands: c, driver: 'PNG' as const })),
      ...[1, 2, 4].map((n) => ({ name: `g-nbits${n}`, dtype: 'uint8' as const, height: 7, width: 13, bands: 1, driver: 'PNG' as const, options: [`NBITS=${n}`] })),
    ]);
  });
  after(() => fx?.cleanup());

  it('8 and 16 bit, 1-4 channels, and packed 1/2/4-bit gray', async () => {
    for (const [name, t] of Object.entries(fx.truth)) {
      const f = await openRaster(t.path);
      assert.equal(f.format, 'png', name);
      assert.equal(f.dtype, t.dtype === 'UInt16' ? 'uint16' : 'uint8', name);
      const r = await f.read();
      await f.close();
      assert.deepEqual([...r.shape], t.levels[0].shape, name);
      assert.deepEqual(Array.from(r.data), Array.from(t.levels[0].data), name);
    }
    // the low-depth cases really hold more than one value
    assert.ok(new Set(fx.truth['g-nbits4'].levels[0].data).size > 2);
  });
});

describe('openRaster / readRaster on PNG', () => {
  it('detects PNG by content, whatever the file name', async () => {
    const r = pattern('uint8', 5, 8, 3);
    const p = join(dir, 'actually-a-png.tif');
    writeFileSync(p, encodePngRaster(r));
    const f = await openRaster(p);
    assert.equal(f.format, 'png');
    assert.deepEqual([f.height, f.width, f.bands, f.dtype], [5, 8, 3, 'uint8']);
    assert.deepEqual(f.overviews, []);
    await f.close();
  });

  it('a window is a crop of the decoded image; outside is an error unless boundless', async () => {
    const r = pattern('uint16', 10, 12, 2);
    const p = join(dir, 'win.png');
    await writePng(p, r);
    const { raster } = await readRaster(p, { window: [slice(2, 7), slice(5, null)] });
    assert.deepEqual(Array.from(raster.data), Array.from(r.crop(2, 5, 5, 7).data));
    await assert.rejects(readRaster(p, { window: [slice(0, 11), slice(0, 2)] }), /window rows 0\.\.11, cols 0\.\.2 is outside .*win\.png.*height 10, width 12/);
    const b = await readRaster(p, { window: [slice(8, 12), slice(-1, 1)], boundless: true, fill: 9 });
    assert.deepEqual(Array.from(b.raster.data), [9, 9, r.get(8, 0, 0), r.get(8, 0, 1), 9, 9, r.get(9, 0, 0), r.get(9, 0, 1), 9, 9, 9, 9, 9, 9, 9, 9]);
    await assert.rejects(readRaster(p, { overview: 0 }), /overview 0 does not exist .* 0 overview level/);
  });
});

describe('PNG errors', () => {
  it('writing float, int16, or more than 4 bands is a clear error, and leaves no file', async () => {
    const bad: [Raster, RegExp][] = [
      [Raster.zeros([2, 2, 1], 'float32'), /cannot write float32 raster to PNG .*uint8 or uint16/],
      [Raster.zeros([2, 2, 1], 'int16'), /cannot write int16 raster/],
      [Raster.zeros([2, 2, 5], 'uint8'), /cannot write a 5-band raster to PNG .*1 to 4 bands/],
      [Raster.zeros([0, 2, 1], 'uint8'), /empty/],
    ];
    const sub = mkdtempSync(join(dir, 'bad-'));
    for (const [r, re] of bad) {
      const p = join(sub, 'x.png');
      await assert.rejects(writePng(p, r), (err: Error) => err instanceof UnsupportedError && re.test(err.message) && err.message.includes(p));
    }
    assert.deepEqual(readdirSync(sub), []);
  });

  it('truncated or corrupt PNG: FormatError naming the path', async () => {
    const bytes = encodePngRaster(pattern('uint8', 20, 20, 3));
    const p = join(dir, 'trunc.png');
    writeFileSync(p, bytes.subarray(0, bytes.length - 40));
    await assert.rejects(readRaster(p), (err: Error) => err instanceof FormatError && err.message.includes(p));
    const q = join(dir, 'garbled.png');
    const g = Buffer.from(bytes); g.fill(0x11, 40, 80);
    writeFileSync(q, g);
    await assert.rejects(readPng(q), (err: Error) => err instanceof FormatError && err.message.includes(q));
  });

  it('missing file: IoError; not a PNG: FormatError with the first bytes', async () => {
    const p = join(dir, 'missing.png');
    await assert.rejects(readPng(p), (err: Error) => err instanceof IoError && err.message.includes(p) && /no such file/.test(err.message));
    const q = join(dir, 'text.png');
    writeFileSync(q, 'hello world');
    await assert.rejects(readPng(q), (err: Error) => err instanceof FormatError && /68 65 6c 6c 6f 20 77 6f "hello wo"/.test(err.message));
    assert.ok(!isPng(readFileSync(q)));
  });
});
