/**
 * RasterFile.verify decodes every block of every level with the reader's own
 * decoders: it passes on every layout GDAL writes that read() reads, and
 * fails, as read() fails, on a damaged block.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { openRaster } from '../../src/io/read-raster.ts';
import { FormatError } from '../../src/io/errors.ts';
import { readTiffLayout } from '../../src/io/tiff-layout.ts';
import { makeGdalFixtures, type GdalFixtureSpec } from '../helpers/reader-fixtures.ts';

const specs: GdalFixtureSpec[] = [
  { name: 'cog-lzw', dtype: 'uint16', height: 300, width: 260, bands: 2, driver: 'COG', options: ['COMPRESS=LZW', 'PREDICTOR=2', 'BLOCKSIZE=128'] },
  { name: 'cog-zstd', dtype: 'float32', height: 300, width: 260, bands: 1, driver: 'COG', options: ['COMPRESS=ZSTD', 'PREDICTOR=3', 'BLOCKSIZE=128'] },
  { name: 'cog-none', dtype: 'int16', height: 200, width: 200, bands: 3, driver: 'COG', options: ['COMPRESS=NONE', 'BLOCKSIZE=128'] },
  { name: 'gtiff-packbits-strips', dtype: 'uint8', height: 150, width: 170, bands: 3, driver: 'GTiff', options: ['COMPRESS=PACKBITS', 'BLOCKYSIZE=7'], overviews: [2, 4] },
  { name: 'gtiff-planar', dtype: 'int32', height: 100, width: 90, bands: 2, driver: 'GTiff', options: ['COMPRESS=DEFLATE', 'INTERLEAVE=BAND', 'TILED=YES', 'BLOCKXSIZE=32', 'BLOCKYSIZE=32'] },
  { name: 'gtiff-sparse', dtype: 'float64', height: 512, width: 512, bands: 1, driver: 'GTiff', options: ['COMPRESS=DEFLATE', 'TILED=YES'], sparseWrite: [0, 10, 0, 10] },
  { name: 'gtiff-big-strip', dtype: 'float64', height: 1100, width: 2000, bands: 1, driver: 'GTiff', options: ['COMPRESS=DEFLATE', 'BLOCKYSIZE=1100'] },
  { name: 'png', dtype: 'uint8', height: 40, width: 30, bands: 3, driver: 'PNG' },
];
const { truth, cleanup } = makeGdalFixtures(specs);
after(cleanup);

test('verify passes on every layout the reader reads (codecs, predictors, strips, planar, sparse, overviews, PNG)', async () => {
  for (const s of specs) {
    const f = await openRaster(truth[s.name]!.path);
    try {
      await f.verify();
      await f.verify({ headersOnly: true });
      assert.equal((await f.read()).data.length, s.height * s.width * s.bands, s.name);
    } finally {
      await f.close();
    }
  }
});

test('verify fails as read fails on a damaged block, in any level; headersOnly does not decode', async () => {
  for (const name of ['cog-lzw', 'cog-zstd', 'gtiff-packbits-strips', 'gtiff-big-strip']) {
    const path = truth[name]!.path;
    const layout = await readTiffLayout(path);
    const last = layout.ifds[layout.ifds.length - 1]!; // the smallest overview, or the only level
    const k = last.dataOffsets.findIndex((o, i) => o > 0 && last.dataByteCounts[i]! > 8);
    const bytes = readFileSync(path);
    const [off, count] = [last.dataOffsets[k]!, last.dataByteCounts[k]!];
    for (let i = 0; i < count; i++) bytes[off + i] = (i * 151 + 11) & 0xff;
    const bad = path.replace(/\.tif$/, '-bad.tif');
    writeFileSync(bad, bytes);
    const f = await openRaster(bad);
    try {
      await f.verify({ headersOnly: true });
      await assert.rejects(f.verify(), (e: unknown) => e instanceof Error && e.message.includes(bad) && /corrupt|decodes to|inflates/.test(e.message), name);
      const ov = layout.ifds.length > 1 ? layout.ifds.length - 2 : undefined;
      await assert.rejects(f.read(ov === undefined ? {} : { overview: ov }), (e: unknown) => e instanceof Error && e.message.includes(bad), `${name} read`);
    } finally {
      await f.close();
    }
  }
  // an offset past the end is found by headersOnly too
  const path = truth['cog-none']!.path;
  const bytes = readFileSync(path);
  const short = path.replace(/\.tif$/, '-short.tif');
  writeFileSync(short, bytes.subarray(0, bytes.length - 100));
  const f = await openRaster(short);
  try {
    await assert.rejects(f.verify({ headersOnly: true }), (e: unknown) => e instanceof FormatError && /is truncated or corrupt: tile \d+ .* needs bytes/.test(e.message));
  } finally {
    await f.close();
  }
});
