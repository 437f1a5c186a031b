/**
 * GeoKeys and GDAL text tags of the writer: the projected / geographic
 * decision for EPSG codes checked against GDAL's own CRS database (PROJ),
 * the GeoKey directory layout, GDAL_METADATA escaping and GDAL_NODATA text.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geoTiffEntries, isGeographicEpsg } from '../../src/io/cog/geokeys.ts';
import { gdalMetadataXml, gdalNodataText, xmlEscape } from '../../src/io/cog/gdal-metadata-write.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { Raster } from '../../src/array/raster.ts';
import { Affine } from '../../src/array/affine.ts';
import { gdalPython } from '../helpers/gdal.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'write-cog-geo-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

describe('EPSG codes: projected or geographic, as GDAL / PROJ know them', () => {
  const CODES = [4326, 4269, 4258, 4283, 4167, 4087, 3857, 32631, 32618, 32760, 2154, 27700, 3035, 5070, 3824, 4490, 4544, 4399];
  it('our decision agrees with osr.IsGeographic() for each code, and GDAL reads our file back with that code', async () => {
    const truth = JSON.parse(gdalPython(`
import sys, json
from osgeo import osr
out = {}
for c in sys.argv[1:]:
    s = osr.SpatialReference()
    s.ImportFromEPSG(int(c))
    out[c] = bool(s.IsGeographic())
print(json.dumps(out))
`, CODES.map(String))) as Record<string, boolean>;
    for (const c of CODES) assert.equal(isGeographicEpsg(c), truth[String(c)], `EPSG:${c}`);
    const paths: string[] = [];
    for (const c of CODES) {
      const p = join(dir, `epsg-${c}.tif`);
      await writeCog(p, Raster.zeros([4, 4, 1], 'uint8'), { epsg: c, transform: Affine.fromGdal([10, 1, 0, 20, 0, -1]) });
      paths.push(p);
    }
    const got = JSON.parse(gdalPython(`
import sys, json
from osgeo import gdal, osr
gdal.UseExceptions()
out = []
for p in sys.argv[1:]:
    ds = gdal.Open(p)
    s = ds.GetSpatialRef()
    out.append([s.GetAuthorityCode(None), bool(s.IsGeographic())])
    ds = None
print(json.dumps(out))
`, paths)) as [string, boolean][];
    got.forEach(([code, geographic], i) => {
      assert.equal(code, String(CODES[i]), `EPSG:${CODES[i]} read back`);
      assert.equal(geographic, truth[String(CODES[i])]);
    });
  });
});

describe('GeoTIFF tags', () => {
  it('north-up: pixel scale + tie point; rotation or a south-up y axis: ModelTransformation', () => {
    const north = geoTiffEntries(32631, Affine.fromGdal([500000, 10, 0, 4600000, 0, -10]));
    assert.deepEqual(north.map((e) => e.tag), [33550, 33922, 34735]);
    assert.deepEqual([...north[0].values as number[]], [10, 10, 0]);
    assert.deepEqual([...north[1].values as number[]], [0, 0, 0, 500000, 4600000, 0]);
    // GeoKey directory: header, then keys sorted by id: 1024 model=projected, 1025 raster=area, 3072 = EPSG
    assert.deepEqual([...north[2].values as number[]], [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32631]);
    const geo = geoTiffEntries(4326, null);
    assert.deepEqual([...geo[0].values as number[]], [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326]);
    const southUp = geoTiffEntries(null, Affine.fromGdal([0, 1, 0, 0, 0, 1]));
    assert.equal(southUp[0].tag, 34264);
    assert.deepEqual([...southUp[0].values as number[]], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(geoTiffEntries(null, null), []);
  });

  it('a transform without EPSG reads back in GDAL as a geotransform with no CRS', async () => {
    const p = join(dir, 'no-crs.tif');
    await writeCog(p, Raster.zeros([4, 4, 1], 'uint8'), { transform: Affine.fromGdal([5, 2, 0, 7, 0, -2]) });
    const out = JSON.parse(gdalPython(`
import sys, json
from osgeo import gdal
ds = gdal.Open(sys.argv[1])
print(json.dumps([list(ds.GetGeoTransform()), ds.GetProjection()]))
ds = None
`, [p]));
    assert.deepEqual(out, [[5, 2, 0, 7, 0, -2], '']);
  });
});

describe('GDAL text tags', () => {
  it('GDAL_METADATA escapes values twice and names once, as GDAL does; non-ASCII as character references', () => {
    assert.equal(xmlEscape('a<b & "c" \'d\''), 'a&lt;b &amp; &quot;c&quot; \'d\'');
    assert.equal(xmlEscape('é✓'), '&#xe9;&#x2713;');
    assert.equal(gdalMetadataXml({}), null);
    assert.equal(gdalMetadataXml({ 'k"1': '{"a": 1}' }),
      '<GDALMetadata>\n  <Item name="k&quot;1">{&amp;quot;a&amp;quot;: 1}</Item>\n</GDALMetadata>\n');
  });

  it('GDAL_NODATA text: integers, NaN, infinities, exact float32 values', () => {
    assert.equal(gdalNodataText(-9999, 'int16'), '-9999');
    assert.equal(gdalNodataText(NaN, 'float32'), 'nan');
    assert.equal(gdalNodataText(-Infinity, 'float64'), '-inf');
    assert.equal(gdalNodataText(0.1, 'float32'), '0.10000000149011612');
    assert.equal(gdalNodataText(0.1, 'float64'), '0.1');
  });
});

describe('file layout: classic TIFF or BigTIFF', () => {
  it("bigtiff 'auto' switches to BigTIFF exactly when the classic file would pass 4 GiB; false refuses with an IoError", async () => {
    const { layoutCog } = await import('../../src/io/cog/cog-layout.ts');
    const { resolveOptions } = await import('../../src/io/cog/options.ts');
    const { IoError } = await import('../../src/io/errors.ts');
    const src = { height: 100000, width: 100000, bands: 1, dtype: 'uint8' as const };
    const tiles = Math.ceil(100000 / 128) ** 2;
    const level = (dataBytes: number) => ({ width: 100000, height: 100000, offsets: new Array(tiles).fill(-1), counts: new Array(tiles).fill(0), dataBytes });
    const small = layoutCog(resolveOptions({}, src), [level(1e6)], 'x.tif');
    assert.equal(small.bigtiff, false);
    const head = small.head.reduce((n, b) => n + b.length, 0);
    assert.equal(small.totalBytes, head + 1e6);
    // exactly at the classic limit: still classic; one byte more: BigTIFF
    const atLimit = layoutCog(resolveOptions({}, src), [level(0xffffffff - head)], 'x.tif');
    assert.equal(atLimit.bigtiff, false);
    const over = layoutCog(resolveOptions({}, src), [level(0xffffffff - head + 1)], 'x.tif');
    assert.equal(over.bigtiff, true);
    assert.equal(new DataView(over.head[0].buffer).getUint16(2, true), 43);
    assert.throws(() => layoutCog(resolveOptions({ bigtiff: false }, src), [level(5e9)], 'big.tif'),
      (err: Error) => err instanceof IoError && /big\.tif would be \d+ bytes, past classic TIFF's 4 GiB limit/.test(err.message));
    assert.equal(layoutCog(resolveOptions({ bigtiff: true }, src), [level(10)], 'x.tif').bigtiff, true);
  });
});
