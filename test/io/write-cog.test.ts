/**
 * Our COG writer against GDAL: every dtype x compression x band count x block
 * size is read back by GDAL pixel-exactly (full resolution and overviews),
 * passes validate_cloud_optimized_geotiff and our own layout check, and
 * reads back exactly through our reader. Georeferencing, nodata, metadata,
 * BigTIFF, block sources (async, sparse) are checked through gdalinfo / GDAL.
 * GDAL work is batched into one python call per group of files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCog, type BlockSource, type WriteCogOptions } from '../../src/io/cog/write-cog.ts';
import { Raster } from '../../src/array/raster.ts';
import { Affine } from '../../src/array/affine.ts';
import { DTYPES, type Dtype } from '../../src/array/dtypes.ts';
import { openRaster } from '../../src/io/read-raster.ts';
import { checkCogLayout, readTiffLayout } from '../../src/io/tiff-layout.ts';
import { gdalinfo, gdalPython } from '../helpers/gdal.ts';
import { gdalBatch, patternRaster, TEST_COMPRESSIONS, type GdalResult } from './write-cog.helpers.ts';

const DTYPE_LIST: Dtype[] = ['uint8', 'int8', 'uint16', 'int16', 'int32', 'float32', 'float64'];
const COMPRESSIONS = TEST_COMPRESSIONS;

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'write-cog-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

/** Naive nearest overview: pixel (y, x) of factor f is full-resolution pixel (y*f, x*f). */
function naiveNearest(r: Raster, f: number): Raster {
  const [h, w, c] = [Math.ceil(r.height / f), Math.ceil(r.width / f), r.bands];
  const out = Raster.zeros([h, w, c], r.dtype);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let b = 0; b < c; b++) out.set(y, x, b, r.get(y * f, x * f, b));
  return out;
}

function assertSame(got: { shape: readonly number[]; data: ArrayLike<number> }, want: Raster, what: string): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  for (let i = 0; i < want.data.length; i++) {
    const [g, w] = [got.data[i], want.data[i]];
    if (!(g === w || (Number.isNaN(g) && Number.isNaN(w)))) {
      const c = want.bands, p = Math.floor(i / c);
      assert.fail(`${what}: sample (${Math.floor(p / want.width)}, ${p % want.width}, ${i % c}) is ${g}, expected ${w}`);
    }
  }
}

describe('round trip matrix: dtype x compression x bands x blocksize, read by GDAL', () => {
  interface Case { name: string; path: string; raster: Raster; opts: WriteCogOptions; factors: number[] }
  const cases: Case[] = [];
  let results: GdalResult[] = [];
  before(async () => {
    for (const dtype of DTYPE_LIST) {
      for (const compress of COMPRESSIONS) {
        for (const bands of [1, 2, 5]) {
          for (const [bs, h, w] of [[16, 53, 37], [128, 150, 200]] as const) {
            const name = `${dtype}-${compress}-${bands}b-bs${bs}`;
            const raster = patternRaster([h, w, bands], dtype, cases.length + 1);
            // small-block cases carry overviews ('auto': until one tile), large-block ones none
            const opts: WriteCogOptions = { compress, blocksize: bs, overviews: bs === 16 ? 'auto' : undefined };
            const path = join(dir, `${name}.tif`);
            await writeCog(path, raster, opts);
            cases.push({ name, path, raster, opts, factors: bs === 16 ? [2, 4] : [] });
          }
        }
      }
    }
    results = gdalBatch(cases.map((c) => c.path));
  });

  it('GDAL reads every level pixel-exactly with the right dtype; valid COG; our layout check agrees', async () => {
    assert.equal(results.length, DTYPE_LIST.length * COMPRESSIONS.length * 3 * 2);
    for (const [i, c] of cases.entries()) {
      const r = results[i];
      assert.deepEqual(r.errors, [], `${c.name}: validate_cloud_optimized_geotiff errors`);
      assert.equal(r.levels[0].dtype, c.raster.dtype, `${c.name}: GDAL dtype`);
      assertSame(r.levels[0], c.raster, `${c.name} full resolution`);
      assert.equal(r.levels.length, 1 + c.factors.length, `${c.name}: overview count`);
      c.factors.forEach((f, k) => assertSame(r.levels[k + 1], naiveNearest(c.raster, f), `${c.name} overview x${f}`));
      assert.deepEqual(checkCogLayout(await readTiffLayout(c.path)), [], `${c.name}: checkCogLayout`);
    }
  });

  it('our reader reads every file back exactly (full resolution and overview 0)', async () => {
    for (const c of cases) {
      const f = await openRaster(c.path);
      try {
        assert.equal(f.dtype, c.raster.dtype);
        assertSame(await f.read(), c.raster, `${c.name} (our reader)`);
        if (c.factors.length) assertSame(await f.read({ overview: 0 }), naiveNearest(c.raster, 2), `${c.name} overview 0 (our reader)`);
      } finally {
        await f.close();
      }
    }
  });

  it('predictor defaults follow the dtype: 2 for integers, 3 for floats, 1 without compression', () => {
    const pred = (name: string) => {
      const out = gdalinfo(join(dir, `${name}.tif`));
      return out.metadata?.IMAGE_STRUCTURE?.PREDICTOR ?? '1';
    };
    assert.equal(pred('int16-DEFLATE-1b-bs16'), '2');
    assert.equal(pred('float32-LZW-2b-bs16'), '3');
    assert.equal(pred('uint8-NONE-1b-bs16'), '1');
  });
});

describe('georeferencing, nodata and metadata as gdalinfo reports them', () => {
  it('a projected UTM CRS (EPSG:32631) with a north-up transform, nodata and metadata items', async () => {
    const p = join(dir, 'utm.tif');
    const quantization = JSON.stringify({ orig_min: 0.0, orig_max: 1.0, quant_min: 0, quant_max: 32767, nodata: -9999 });
    const metadata = { quantization, note: 'a<b & "c" \'d\' > e', unicode: 'ünïcødé ✓', multi: 'line1\nline2' };
    await writeCog(p, patternRaster([40, 30, 1], 'int16'), {
      epsg: 32631, transform: Affine.fromGdal([500000, 10, 0, 4600000, 0, -10]), nodata: -9999, metadata,
    });
    const info = gdalinfo(p);
    assert.match(info.coordinateSystem.wkt, /ID\["EPSG",32631\]\]$/);
    assert.deepEqual(info.geoTransform, [500000, 10, 0, 4600000, 0, -10]);
    assert.equal(info.bands[0].noDataValue, -9999);
    const md = info.metadata[''];
    for (const [k, v] of Object.entries(metadata)) assert.equal(md[k], v, `metadata item ${k}`);
    assert.deepEqual(JSON.parse(md.quantization), JSON.parse(quantization));
    // and our reader agrees
    const f = await openRaster(p);
    assert.equal(f.epsg, 32631);
    assert.deepEqual(f.metadata, metadata);
    assert.equal(f.nodata, -9999);
    assert.deepEqual(f.transform!.toGdal(), [500000, 10, 0, 4600000, 0, -10]);
    await f.close();
  });

  it('a geographic CRS (EPSG:4326) is written as a geographic model', async () => {
    const p = join(dir, 'wgs84.tif');
    await writeCog(p, patternRaster([20, 40, 1], 'float32'), { epsg: 4326, transform: Affine.fromGdal([-10, 0.5, 0, 50, 0, -0.5]), nodata: NaN });
    const info = gdalinfo(p);
    assert.match(info.coordinateSystem.wkt, /^GEOGCRS\["WGS 84"/);
    assert.match(info.coordinateSystem.wkt, /ID\["EPSG",4326\]\]$/);
    assert.deepEqual(info.geoTransform, [-10, 0.5, 0, 50, 0, -0.5]);
    assert.equal(info.bands[0].noDataValue, 'NaN');
  });

  it('a rotated transform is written as ModelTransformation and comes back as GDAL geotransform', async () => {
    const p = join(dir, 'rotated.tif');
    const t = Affine.fromGdal([1000, 2, 0.5, 2000, 0.25, -3]);
    await writeCog(p, patternRaster([16, 16, 1], 'uint8'), { epsg: 32618, transform: t });
    const info = gdalinfo(p);
    assert.deepEqual(info.geoTransform, [1000, 2, 0.5, 2000, 0.25, -3]);
    const f = await openRaster(p);
    assert.deepEqual(f.transform!.toGdal(), [1000, 2, 0.5, 2000, 0.25, -3]);
    await f.close();
  });

  it('nodata for float32 and uint8 is what GDAL GetNoDataValue() returns, exactly', async () => {
    const cases = [['float32', -3.4028234663852886e38], ['uint8', 255], ['float32', 0.1], ['float64', 0.1], ['int32', -2147483648]] as const;
    const paths: string[] = [];
    for (const [dtype, nodata] of cases) {
      const p = join(dir, `nodata-${dtype}-${nodata}.tif`);
      await writeCog(p, patternRaster([8, 8, 1], dtype), { nodata });
      paths.push(p);
    }
    const got = JSON.parse(gdalPython(`
import sys, json
from osgeo import gdal
out = []
for p in sys.argv[1:]:
    ds = gdal.Open(p)
    out.append(ds.GetRasterBand(1).GetNoDataValue())
    ds = None
print(json.dumps(out))
`, paths));
    assert.deepEqual(got, cases.map(([dtype, v]) => (dtype === 'float32' ? Math.fround(v) : v)));
  });
});

describe('BigTIFF, block sources and sparse tiles', () => {
  it('bigtiff: true writes a BigTIFF (magic 43) that GDAL reads exactly and validates as COG', async () => {
    const p = join(dir, 'big.tif');
    const r = patternRaster([70, 90, 3], 'uint16');
    await writeCog(p, r, { bigtiff: true, blocksize: 32, overviews: [2, 4], compress: 'LZW' });
    const fd = openSync(p, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    assert.deepEqual([...head], [0x49, 0x49, 43, 0]);
    const [g] = gdalBatch([p]);
    assert.deepEqual(g.errors, []);
    assertSame(g.levels[0], r, 'bigtiff full resolution');
    assertSame(g.levels[2], naiveNearest(r, 4), 'bigtiff overview x4');
    const layout = await readTiffLayout(p);
    assert.equal(layout.bigtiff, true);
    assert.deepEqual(checkCogLayout(layout), []);
    const f = await openRaster(p);
    assertSame(await f.read(), r, 'bigtiff (our reader)');
    await f.close();
  });

  it('bigtiff auto / false stay classic for small files', async () => {
    for (const bigtiff of ['auto', false] as const) {
      const p = join(dir, `classic-${bigtiff}.tif`);
      await writeCog(p, patternRaster([10, 10, 1], 'uint8'), { bigtiff });
      assert.equal((await readTiffLayout(p)).bigtiff, false);
    }
  });

  it('an async block source streams in row-major order, each block asked once; sparse blocks read as nodata', async () => {
    const [h, w, c] = [100, 90, 2];
    const full = patternRaster([h, w, c], 'float32', 7);
    const empty = (y0: number, x0: number) => (y0 / 32 + x0 / 32) % 3 === 1;
    const asked: string[] = [];
    const source: BlockSource = {
      height: h, width: w, bands: c, dtype: 'float32',
      async readBlock(y0, x0, bh, bw) {
        asked.push(`${y0},${x0},${bh},${bw}`);
        await new Promise((res) => setImmediate(res));
        return empty(y0, x0) ? null : full.crop(y0, x0, bh, bw);
      },
    };
    const p = join(dir, 'blocks.tif');
    await writeCog(p, source, { blocksize: 32, nodata: -1, overviews: 1 });
    const want: string[] = [];
    for (let y = 0; y < h; y += 32) for (let x = 0; x < w; x += 32) want.push(`${y},${x},${Math.min(32, h - y)},${Math.min(32, w - x)}`);
    assert.deepEqual(asked, want);
    const expect = full.crop(0, 0, h, w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      if (empty(Math.floor(y / 32) * 32, Math.floor(x / 32) * 32)) for (let b = 0; b < c; b++) expect.set(y, x, b, -1);
    }
    const [g] = gdalBatch([p]);
    assert.deepEqual(g.errors, []);
    assert.equal(g.nodata, -1);
    assertSame(g.levels[0], expect, 'block source');
    assertSame(g.levels[1], naiveNearest(expect, 2), 'block source overview');
    const layout = await readTiffLayout(p);
    const main = layout.ifds[0];
    let sparse = 0;
    main.dataOffsets.forEach((o, i) => {
      const ty = Math.floor(i / 3), tx = i % 3;
      const isEmpty = empty(ty * 32, tx * 32);
      assert.equal(o === 0 && main.dataByteCounts[i] === 0, isEmpty, `tile ${i} sparse iff its block was null`);
      if (isEmpty) sparse++;
    });
    assert.ok(sparse >= 3);
    assert.deepEqual(checkCogLayout(layout), []);
  });

  it('a Raster (overviews first, full resolution written in place) gives the same bytes as its pixels from a block source (spilled and copied)', async () => {
    // large enough that every level passes the sinks' 1 MiB and spills on the block-source path
    const r = patternRaster([700, 650, 3], 'float32', 11);
    for (let y = 256; y < 384; y++) for (let x = 0; x < 650; x++) for (let b = 0; b < 3; b++) r.set(y, x, b, -9); // nodata: sparse tiles
    const cases: WriteCogOptions[] = [
      { blocksize: 128, overviews: 2, overviewResample: 'average', nodata: -9 },
      { blocksize: 64, overviews: 'auto', compress: 'LZW', bigtiff: true },
      { blocksize: 128, overviews: 0, compress: 'NONE' },
      { blocksize: 256, overviews: [2, 4, 8], level: 1, sparse: false, nodata: -9 },
    ];
    for (const [i, options] of cases.entries()) {
      const fromRaster = join(dir, `inplace-${i}.tif`);
      const fromBlocks = join(dir, `spilled-${i}.tif`);
      await writeCog(fromRaster, r, options);
      const source: BlockSource = { height: r.height, width: r.width, bands: r.bands, dtype: r.dtype, readBlock: (y0, x0, h, w) => r.crop(y0, x0, h, w) };
      await writeCog(fromBlocks, source, options);
      const a = readFileSync(fromRaster), b = readFileSync(fromBlocks);
      assert.ok(a.length > 3 << 20, `case ${i}: ${a.length} bytes is enough to spill`);
      assert.ok(a.equals(b), `case ${i} (${JSON.stringify(options)}): ${a.length} vs ${b.length} bytes differ`);
      assert.deepEqual(checkCogLayout(await readTiffLayout(fromRaster)), [], `case ${i}`);
    }
    const g = gdalBatch([join(dir, 'inplace-0.tif'), join(dir, 'inplace-1.tif')]);
    for (const res of g) assert.deepEqual(res.errors, []);
    assertSame(g[1].levels[0], r, 'in-place full resolution');
  });

  it('sparse: false writes empty blocks as real tiles of nodata; without nodata sparse tiles read as 0', async () => {
    const source = (dtype: Dtype): BlockSource => ({
      height: 40, width: 40, bands: 1, dtype,
      readBlock: (y0, x0, bh, bw) => (y0 === 0 && x0 === 0 ? null : Raster.full([bh, bw, 1], 7, dtype)),
    });
    const p1 = join(dir, 'dense.tif');
    await writeCog(p1, source('int16'), { blocksize: 16, nodata: -5, sparse: false });
    const l1 = await readTiffLayout(p1);
    assert.ok(l1.ifds[0].dataByteCounts.every((n) => n > 0));
    const p2 = join(dir, 'sparse-no-nodata.tif');
    await writeCog(p2, source('uint8'), { blocksize: 16 });
    const l2 = await readTiffLayout(p2);
    assert.equal(l2.ifds[0].dataByteCounts[0], 0);
    const [g1, g2] = gdalBatch([p1, p2]);
    assert.equal(g1.levels[0].data[0], -5);
    assert.equal(g1.levels[0].data[40 * 40 - 1], 7);
    assert.equal(g2.levels[0].data[0], 0);
    assert.equal(g2.levels[0].data[40 * 40 - 1], 7);
    assert.deepEqual(g2.errors, []);
  });

  it('a Stitcher-like block source of int16 with 256 bands writes and reads back', async () => {
    const r = patternRaster([20, 18, 256], 'int16', 3);
    const p = join(dir, 'many-bands.tif');
    await writeCog(p, { height: 20, width: 18, bands: 256, dtype: 'int16', readBlock: (y0, x0, h, w) => r.crop(y0, x0, h, w) }, { blocksize: 16 });
    const [g] = gdalBatch([p]);
    assertSame(g.levels[0], r, '256 bands');
    assert.deepEqual(g.errors, []);
  });
});

describe('a Stitcher block source written directly', () => {
  it('touched blocks read back as Stitcher.finalize(); untouched blocks are sparse and read as NaN nodata', async () => {
    const { Stitcher } = await import('../../src/stitch/stitcher.ts');
    const { slice } = await import('../../src/array/slices.ts');
    const s = new Stitcher([150, 140, 2], { dtype: 'float32', blocksize: 32 });
    const patch = patternRaster([40, 50, 2], 'float32', 4);
    s.add([slice(10, 50), slice(5, 55)], patch);
    s.add([slice(100, 140), slice(80, 130)], patch, 0.5);
    const p = join(dir, 'stitched.tif');
    await writeCog(p, s.blockSource(), { blocksize: 32, nodata: NaN, overviews: 1 });
    const want = s.finalize();
    const [g] = gdalBatch([p]);
    assert.deepEqual(g.errors, []);
    assertSame(g.levels[0], want, 'stitched');
    const layout = await readTiffLayout(p);
    const sparse = layout.ifds[0].dataByteCounts.filter((n) => n === 0).length;
    assert.equal(sparse, layout.ifds[0].dataByteCounts.length - [...s.touchedBlocks()].length);
    assert.ok(Number.isNaN(g.nodata));
    assert.ok(sparse > 0);
  });
});

describe('geotiff.js (its own decoders) reads our files', () => {
  it('every dtype with DEFLATE + predictor, LZW + predictor and NONE, 1 and 5 bands, partial edge tiles; overviews as images', async () => {
    const { fromFile } = await import('geotiff');
    for (const dtype of DTYPE_LIST) {
      for (const compress of ['DEFLATE', 'LZW', 'NONE'] as const) {
        for (const bands of [1, 5]) {
          const r = patternRaster([37, 29, bands], dtype, bands);
          const p = join(dir, `geotiffjs-${dtype}-${compress}-${bands}.tif`);
          await writeCog(p, r, { compress, blocksize: 16, overviews: 1 });
          const tiff = await fromFile(p);
          try {
            assert.equal(await tiff.getImageCount(), 2);
            const img = await tiff.getImage(0);
            const data = await img.readRasters({ interleave: true }) as unknown as ArrayLike<number>;
            assertSame({ shape: [img.getHeight(), img.getWidth(), img.getSamplesPerPixel()], data }, r, `geotiff.js ${dtype} ${compress} ${bands}`);
            const ov = await tiff.getImage(1);
            const od = await ov.readRasters({ interleave: true }) as unknown as ArrayLike<number>;
            assertSame({ shape: [ov.getHeight(), ov.getWidth(), ov.getSamplesPerPixel()], data: od }, naiveNearest(r, 2), `geotiff.js overview ${dtype} ${compress} ${bands}`);
          } finally {
            tiff.close();
          }
        }
      }
    }
  });
});
