import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTiffLayout, checkCogLayout } from '../../src/io/tiff-layout.ts';
import { gdalPython, validateCog } from '../helpers/gdal.ts';

const dir = mkdtempSync(join(tmpdir(), 'tiff-layout-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// GDAL writes the truth: a COG (valid), and a tiled GTiff whose overviews
// were added afterwards (overview data after the full resolution: not a COG).
gdalPython(`
import sys, numpy as np
from osgeo import gdal
gdal.UseExceptions()
d = sys.argv[1]
a = (np.arange(600*700) % 251).reshape(600, 700).astype('uint8')
mem = gdal.GetDriverByName('MEM').Create('', 700, 600, 1, gdal.GDT_Byte)
mem.GetRasterBand(1).WriteArray(a)
gdal.GetDriverByName('COG').CreateCopy(d + '/cog.tif', mem, options=['BLOCKSIZE=128', 'OVERVIEWS=AUTO', 'OVERVIEW_COUNT=2'])
gdal.GetDriverByName('COG').CreateCopy(d + '/big.tif', mem, options=['BLOCKSIZE=128', 'BIGTIFF=YES', 'OVERVIEWS=NONE'])
t = gdal.GetDriverByName('GTiff').CreateCopy(d + '/late.tif', mem, options=['TILED=YES', 'BLOCKXSIZE=128', 'BLOCKYSIZE=128'])
t.BuildOverviews('NEAREST', [2, 4]); t = None
gdal.GetDriverByName('GTiff').CreateCopy(d + '/strips.tif', mem)
`, [dir]);

test('a COG written by GDAL: levels, tiles and ghost header are read, no problems', async () => {
  const layout = await readTiffLayout(join(dir, 'cog.tif'));
  assert.equal(layout.bigtiff, false);
  assert.deepEqual(layout.ifds.map((d) => [d.width, d.height]), [[700, 600], [350, 300], [175, 150]]);
  assert.equal(layout.ifds[0].tileWidth, 128);
  assert.equal(layout.ifds[0].dataOffsets.length, 6 * 5);
  assert.match(layout.ghostHeader ?? '', /LAYOUT=IFDS_BEFORE_DATA/);
  assert.deepEqual(checkCogLayout(layout), []);
  assert.equal(validateCog(join(dir, 'cog.tif')).valid, true);
});

test('BigTIFF COG is read too', async () => {
  const layout = await readTiffLayout(join(dir, 'big.tif'));
  assert.equal(layout.bigtiff, true);
  assert.deepEqual(checkCogLayout(layout), []);
});

test('overviews added after the data break the layout, as GDAL also says', async () => {
  const problems = checkCogLayout(await readTiffLayout(join(dir, 'late.tif')));
  // GDAL stores the overview data after the full resolution here
  assert.ok(problems.some((p) => /comes after data of the larger level/.test(p)), problems.join('; '));
  assert.equal(validateCog(join(dir, 'late.tif')).valid, false);
});

test('a large striped TIFF is not a COG', async () => {
  const problems = checkCogLayout(await readTiffLayout(join(dir, 'strips.tif')));
  assert.deepEqual(problems.filter((p) => /not tiled/.test(p)), ['full resolution 700x600 is not tiled']);
});

test('not a TIFF, truncated, missing: clear errors naming the file', async () => {
  const junk = join(dir, 'junk.tif');
  writeFileSync(junk, 'hello world, not a tiff');
  await assert.rejects(readTiffLayout(junk), /junk\.tif is not a TIFF/);
  const trunc = join(dir, 'trunc.tif');
  writeFileSync(trunc, Buffer.from([0x49, 0x49, 42, 0, 0x00, 0x10, 0, 0, 1, 2]));
  await assert.rejects(readTiffLayout(trunc), /trunc\.tif is truncated/);
  await assert.rejects(readTiffLayout(join(dir, 'nope.tif')), /cannot open .*nope\.tif/);
});
