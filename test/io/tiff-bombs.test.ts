/**
 * TIFFs whose headers ask for more memory than the data justifies: one
 * DEFLATE strip of 20000 x 20000 float64 (3.2 GB decoded, 3 MB on disk) is
 * read by row ranges in bounded memory; blocks that cannot be streamed are
 * refused over the memory budget, naming the file, the block and the budget;
 * a small tile cannot inflate past its size. Large strips read by rows give
 * exactly what GDAL reads.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { slice } from '../../src/array/slices.ts';
import { MemoryBudgetError } from '../../src/array/errors.ts';
import { setMemoryBudget } from '../../src/array/memory-budget.ts';
import { openRaster, readRaster } from '../../src/io/read-raster.ts';
import { FormatError } from '../../src/io/errors.ts';
import { STRIP_ROWS_BYTES } from '../../src/io/tiff-read/tiff-raster.ts';
import { peakRssMB } from '../helpers/peak-rss.ts';
import { makeGdalFixtures } from '../helpers/reader-fixtures.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { tiffBytes, zlibZeros } from './tiff-bytes.ts';

const dir = scratchDir('tiff-bombs-');
const MiB = 1 << 20;
const N = 20000;

/** 20000 x 20000 float64, one DEFLATE strip: rows 0..10 hold r + 0.5, row 11 holds 11.5 in its first 10400 pixels, the rest 0. */
function giantStrip(): string {
  const total = N * N * 8;
  const prefixBytes = (total % MiB) + MiB; // the rest is whole MiB of zeros
  const prefix = new Float64Array(prefixBytes / 8);
  for (let i = 0; i < prefix.length; i++) prefix[i] = Math.floor(i / N) + 0.5;
  const strip = zlibZeros(new Uint8Array(prefix.buffer), total - prefixBytes);
  const path = join(dir, 'giant-strip.tif');
  writeFileSync(path, tiffBytes({ width: N, height: N, bits: 64, sampleFormat: 3, compression: 8, blocks: [strip] }));
  return path;
}

test('a 3 MB GeoTIFF holding one 20000 x 20000 float64 DEFLATE strip is read by rows in bounded memory', async () => {
  const path = giantStrip();
  assert.ok(statSync(path).size < 4 * MiB, `${statSync(path).size} bytes on disk`);
  const f = await openRaster(path);
  try {
    assert.deepEqual([f.width, f.height, f.bands, f.dtype], [N, N, 1, 'float64']);
    const top = await f.read({ window: [slice(3, 5), slice(100, 110)] });
    assert.deepEqual([...top.data], [...Array(10).fill(3.5), ...Array(10).fill(4.5)]);
    const edge = await f.read({ window: [slice(11, 13), slice(10390, 10410)] });
    assert.deepEqual([...edge.data], [...Array(10).fill(11.5), ...Array(30).fill(0)]);
    const bottom = await f.read({ window: [slice(N - 10, N), slice(N - 7, N)] });
    assert.ok(bottom.data.every((v) => v === 0));
    assert.deepEqual(bottom.shape, [10, 7, 1]);
  } finally {
    await f.close();
  }
  // decoding the strip whole would take 3.2 GB; this process peaked far below
  assert.ok(peakRssMB() < 800, `peak RSS ${peakRssMB().toFixed(0)} MB`);
});

test('over the budget: a window, or blocks that must be decoded whole, are refused naming the file, the block and the budget', async (t) => {
  t.after(() => setMemoryBudget(undefined));
  setMemoryBudget(64 * MiB);
  const path = giantStrip();
  await assert.rejects(readRaster(path, { window: [slice(0, 1000), slice(0, N)] }),
    (e: unknown) => e instanceof MemoryBudgetError && e.message.includes(path) && /a window of 20000 x 1000 pixels x 1 band\(s\) of float64 needs 153 MiB, over the memory budget of 64 MiB/.test(e.message));
  // codecs that cannot stop part-way: the whole block is checked (the data is never looked at)
  for (const [code, name] of [[5, 'LZW'], [50000, 'ZSTD'], [32773, 'PACKBITS']] as const) {
    const p = join(dir, `strip-${code}.tif`);
    writeFileSync(p, tiffBytes({ width: N, height: N, bits: 64, sampleFormat: 3, compression: code, blocks: [new Uint8Array(4096)] }));
    await assert.rejects(readRaster(p, { window: [slice(0, 2), slice(0, 2)] }),
      (e: unknown) => e instanceof MemoryBudgetError && e.message.startsWith(`${p}: decoding strip 0 (row 0, col 0) of IFD 0 (20000 x 20000 pixels x 1 sample(s) of float64, ${name} compressed, decoded whole) needs 3052 MiB, over the memory budget of 64 MiB`), name);
  }
  const tiled = join(dir, 'tile-65536.tif');
  writeFileSync(tiled, tiffBytes({ width: 70000, height: 70000, bits: 8, sampleFormat: 1, compression: 8, tile: [65536, 65536], blocks: Array(4).fill(new Uint8Array(64)) }));
  await assert.rejects(readRaster(tiled, { window: [slice(0, 2), slice(0, 2)] }),
    (e: unknown) => e instanceof MemoryBudgetError && /tile-65536\.tif: decoding tile 0 \(row 0, col 0\) of IFD 0 \(65536 x 65536 pixels .* needs 4096 MiB/.test(e.message));
  // rows of a streamed strip are budgeted too
  setMemoryBudget(100 * 1024);
  await assert.rejects(readRaster(path, { window: [slice(0, 1), slice(0, 2)] }),
    (e: unknown) => e instanceof MemoryBudgetError && e.message.startsWith(`${path}: rows 0..1 of strip 0 (row 0, col 0) of IFD 0 needs 0.15 MiB, over the memory budget of 0.10 MiB`));
});

test('a DEFLATE tile that inflates far past its size is refused, not inflated', async () => {
  const path = join(dir, 'tile-bomb.tif');
  writeFileSync(path, tiffBytes({ width: 256, height: 256, bits: 8, sampleFormat: 1, compression: 8, tile: [256, 256], blocks: [zlibZeros(new Uint8Array(0), 1024 * MiB)] }));
  assert.ok(statSync(path).size < 2 * MiB);
  const before = process.memoryUsage().rss;
  await assert.rejects(readRaster(path), (e: unknown) => e instanceof FormatError && e.message.includes(path) && /inflates to more than/.test(e.message));
  assert.ok(process.memoryUsage().rss - before < 300 * MiB);
  // a corrupt large strip read by rows names the file and strip
  const bad = join(dir, 'bad-strip.tif');
  const good = deflateSync(new Uint8Array(3000 * 3000 * 2));
  good.fill(0x55, 10, 40);
  writeFileSync(bad, tiffBytes({ width: 3000, height: 3000, bits: 16, sampleFormat: 1, compression: 8, blocks: [good] }));
  await assert.rejects(readRaster(bad), (e: unknown) => e instanceof FormatError && e.message.startsWith(`${bad}: strip 0 (row 0, col 0) of IFD 0 is corrupt`));
  // a strip that ends before the rows asked for
  const short = join(dir, 'short-strip.tif');
  writeFileSync(short, tiffBytes({ width: 3000, height: 3000, bits: 16, sampleFormat: 1, compression: 8, blocks: [deflateSync(new Uint8Array(3000 * 100 * 2))] }));
  await assert.rejects(readRaster(short, { window: [slice(2000, 2001), slice(0, 3)] }), (e: unknown) => e instanceof FormatError && /short-strip\.tif: strip 0 .* inflates to 600000 bytes, but rows 2000\.\.2001 need 12006000/.test(e.message));
});

test('strips over the row-streaming threshold read exactly what GDAL reads (DEFLATE, predictors 2 and 3, none, several strips)', async () => {
  const specs = [
    { name: 'f64-deflate', dtype: 'float64' as const, height: 1100, width: 2000, bands: 1, driver: 'GTiff' as const, options: ['COMPRESS=DEFLATE', 'BLOCKYSIZE=1100'] },
    { name: 'f32-pred3', dtype: 'float32' as const, height: 1100, width: 4000, bands: 1, driver: 'GTiff' as const, options: ['COMPRESS=DEFLATE', 'PREDICTOR=3', 'BLOCKYSIZE=1100'] },
    { name: 'i16-pred2', dtype: 'int16' as const, height: 1500, width: 6000, bands: 1, driver: 'GTiff' as const, options: ['COMPRESS=DEFLATE', 'PREDICTOR=2', 'BLOCKYSIZE=1500'] },
    { name: 'u16-3band', dtype: 'uint16' as const, height: 1000, width: 3000, bands: 3, driver: 'GTiff' as const, options: ['COMPRESS=DEFLATE', 'PREDICTOR=2', 'BLOCKYSIZE=1000'] },
    { name: 'u8-planar', dtype: 'uint8' as const, height: 4200, width: 4100, bands: 2, driver: 'GTiff' as const, options: ['COMPRESS=DEFLATE', 'INTERLEAVE=BAND', 'BLOCKYSIZE=4200'] },
    { name: 'f32-none', dtype: 'float32' as const, height: 2200, width: 4000, bands: 1, driver: 'GTiff' as const, options: ['BLOCKYSIZE=1100'] },
  ];
  const { truth, cleanup } = makeGdalFixtures(specs);
  after(cleanup);
  for (const s of specs) {
    const t = truth[s.name]!;
    const f = await openRaster(t.path);
    try {
      const bytes = { uint8: 1, int16: 2, uint16: 2, float32: 4, float64: 8 }[s.dtype];
      const stripRows = Number(s.options.find((o) => o.startsWith('BLOCKYSIZE='))!.split('=')[1]);
      assert.ok(s.width * stripRows * (s.options.includes('INTERLEAVE=BAND') ? 1 : s.bands) * bytes > STRIP_ROWS_BYTES, `${s.name} must exercise the row path`);
      const windows: [number, number, number, number][] = [[0, s.height, 0, 700], [0, 1, 0, 5], [517, 640, 33, 1900], [s.height - 3, s.height, s.width - 10, s.width]];
      if (s.height > 1100) windows.push([1090, 1110, 5, 50]); // across two strips
      for (const [y0, y1, x0, x1] of windows) {
        const r = await f.read({ window: [slice(y0, y1), slice(x0, x1)] });
        const [, W, C] = t.levels[0]!.shape;
        let bad = -1;
        for (let y = y0; y < y1 && bad < 0; y++) {
          for (let x = x0; x < x1 && bad < 0; x++) {
            for (let c = 0; c < C; c++) {
              if (!Object.is(r.data[((y - y0) * (x1 - x0) + (x - x0)) * C + c], t.levels[0]!.data[(y * W + x) * C + c])) { bad = y; break; }
            }
          }
        }
        assert.equal(bad, -1, `${s.name} window ${y0}..${y1} x ${x0}..${x1} differs from GDAL at row ${bad}`);
      }
    } finally {
      await f.close();
    }
  }
});

test('a PNG declaring 100000 x 100000 pixels is refused before it is decoded', async (t) => {
  t.after(() => setMemoryBudget(undefined));
  setMemoryBudget(1024 * MiB);
  const { encode } = await import('fast-png');
  const png = Buffer.from(encode({ width: 4, height: 4, data: new Uint8Array(16), channels: 1, depth: 8 }));
  png.writeUInt32BE(100000, 16);
  png.writeUInt32BE(100000, 20);
  const path = join(dir, 'huge.png');
  writeFileSync(path, png);
  await assert.rejects(readRaster(path), (e: unknown) => e instanceof MemoryBudgetError &&
    e.message.startsWith(`${path}: a PNG of 100000 x 100000 pixels x 1 sample(s) of 8 bits, decoded whole, needs 19073 MiB, over the memory budget of 1024 MiB`));
});
