/**
 * The raster reader against GDAL: files written by GDAL (COG and tiled /
 * stripped GTiff, every dtype, compressions, predictors, band counts,
 * overviews, byte orders, sparse tiles) must read exactly as GDAL reads them,
 * with the nodata, metadata, EPSG and geotransform GDAL reports.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Pool } from 'geotiff';
import { openRaster, readRaster, isTiff } from '../../src/io/read-raster.ts';
import { slice } from '../../src/array/slices.ts';
import type { Raster } from '../../src/array/raster.ts';
import { ValueError } from '../../src/array/errors.ts';
import { FormatError, IoError, UnsupportedError } from '../../src/io/errors.ts';
import { readTiffLayout } from '../../src/io/tiff-layout.ts';
import { nativeAddon } from '../../src/io/native-addon.ts';
import { makeGdalFixtures, type GdalFixtureSpec, type GdalFixtureTruth } from '../helpers/reader-fixtures.ts';

const H = 70, W = 90; // 3 x 3 tiles of 32 with partial last tiles
const BLOCK = ['BLOCKSIZE=32'];
const TILED = ['TILED=YES', 'BLOCKXSIZE=32', 'BLOCKYSIZE=32'];

/** The compression matrix: every dtype with NONE, DEFLATE, LZW, ZSTD and the dtype's predictor. */
function matrixSpecs(): GdalFixtureSpec[] {
  const specs: GdalFixtureSpec[] = [];
  const dtypes = ['uint8', 'int8', 'uint16', 'int16', 'int32', 'float32', 'float64'] as const;
  for (const dtype of dtypes) {
    const pred = dtype.startsWith('float') ? 3 : 2;
    const cases: [string, string[], number][] = [
      ['none', ['COMPRESS=NONE'], 1],
      ['deflate', ['COMPRESS=DEFLATE'], 3],
      ['lzw-pred', ['COMPRESS=LZW', `PREDICTOR=${pred}`], 5],
      ['zstd-pred', ['COMPRESS=ZSTD', `PREDICTOR=${pred}`], 1],
      ['deflate-pred', ['COMPRESS=DEFLATE', `PREDICTOR=${pred}`], 3],
    ];
    for (const [tag, opts, bands] of cases) {
      // GDAL 3.6's COG driver cannot write signed bytes: int8 goes through GTiff.
      const driver = dtype === 'int8' ? 'GTiff' : 'COG';
      specs.push({
        name: `${dtype}-${tag}`, dtype, height: H, width: W, bands, driver,
        options: [...opts, ...(driver === 'COG' ? BLOCK : TILED)], seed: specs.length,
        nans: dtype.startsWith('float'),
      });
    }
  }
  return specs;
}

const GEO_SPECS: GdalFixtureSpec[] = [
  { name: 'utm', dtype: 'int16', height: 40, width: 50, bands: 2, driver: 'COG', options: ['COMPRESS=DEFLATE', ...BLOCK],
    nodata: -9999, epsg: 32618, geotransform: [500000.5, 10, 0, 4649776.25, 0, -10],
    metadata: { quantization: '{"orig_min": 0, "orig_max": 1.5, "nodata": -9999}', odd: 'a<b & "c" \'d\' &lt;' } },
  { name: 'wgs84', dtype: 'float32', height: 40, width: 50, bands: 1, driver: 'COG', options: ['COMPRESS=LZW', ...BLOCK],
    nodata: 'nan', nans: true, epsg: 4326, geotransform: [-75.25, 0.001, 0, 41.5, 0, -0.002] },
  { name: 'point', dtype: 'uint8', height: 20, width: 30, bands: 1, driver: 'GTiff', options: TILED,
    epsg: 32618, geotransform: [1000, 2, 0, 2000, 0, -3], pixelIsPoint: true },
  { name: 'rotated', dtype: 'uint8', height: 20, width: 30, bands: 1, driver: 'GTiff', options: TILED,
    epsg: 32618, geotransform: [1000, 2, 0.5, 2000, 0.25, -3] },
  { name: 'plain', dtype: 'uint16', height: 20, width: 30, bands: 1, driver: 'GTiff', options: TILED },
];

const LAYOUT_SPECS: GdalFixtureSpec[] = [
  { name: 'ovr-gtiff', dtype: 'uint16', height: 100, width: 75, bands: 3, driver: 'GTiff', overviews: [2, 4, 8],
    options: ['COMPRESS=DEFLATE', 'PREDICTOR=2', ...TILED] },
  { name: 'planar', dtype: 'int16', height: H, width: W, bands: 3, driver: 'GTiff',
    options: ['INTERLEAVE=BAND', 'COMPRESS=LZW', 'PREDICTOR=2', ...TILED] },
  { name: 'strips', dtype: 'float32', height: H, width: W, bands: 2, driver: 'GTiff', nans: true,
    options: ['COMPRESS=DEFLATE', 'PREDICTOR=3', 'BLOCKYSIZE=16'] },
  { name: 'strips-raw', dtype: 'int32', height: 33, width: 21, bands: 1, driver: 'GTiff', options: ['BLOCKYSIZE=8'] },
  { name: 'be-u16', dtype: 'uint16', height: H, width: W, bands: 3, driver: 'GTiff', options: ['ENDIANNESS=BIG', 'COMPRESS=LZW', 'PREDICTOR=2', ...TILED] },
  { name: 'be-f32', dtype: 'float32', height: H, width: W, bands: 1, driver: 'GTiff', nans: true, options: ['ENDIANNESS=BIG', 'COMPRESS=DEFLATE', 'PREDICTOR=3', ...TILED] },
  { name: 'be-f64', dtype: 'float64', height: H, width: W, bands: 2, driver: 'GTiff', options: ['ENDIANNESS=BIG', 'COMPRESS=NONE', ...TILED] },
  { name: 'be-i32', dtype: 'int32', height: H, width: W, bands: 1, driver: 'GTiff', options: ['ENDIANNESS=BIG', 'COMPRESS=ZSTD', ...TILED] },
  { name: 'bigtiff', dtype: 'float64', height: H, width: W, bands: 1, driver: 'COG', options: ['BIGTIFF=YES', 'COMPRESS=ZSTD', ...BLOCK] },
  { name: 'packbits', dtype: 'uint8', height: H, width: W, bands: 3, driver: 'GTiff', options: ['COMPRESS=PACKBITS', ...TILED] },
  { name: 'sparse-nodata', dtype: 'int16', height: H, width: W, bands: 2, driver: 'GTiff', nodata: -9999,
    sparseWrite: [32, 64, 32, 64], options: ['COMPRESS=DEFLATE', ...TILED] },
  { name: 'sparse-zero', dtype: 'uint8', height: H, width: W, bands: 1, driver: 'GTiff',
    sparseWrite: [0, 32, 64, 90], options: ['COMPRESS=LZW', ...TILED] },
  { name: 'sparse-nan', dtype: 'float32', height: H, width: W, bands: 1, driver: 'GTiff', nodata: 'nan',
    sparseWrite: [64, 70, 0, 32], options: ['COMPRESS=ZSTD', ...TILED] },
  { name: 'sparse-planar', dtype: 'uint16', height: H, width: W, bands: 2, driver: 'GTiff', nodata: 7,
    sparseWrite: [0, 32, 0, 32], options: ['INTERLEAVE=BAND', ...TILED] },
  { name: 'lzw-big', dtype: 'uint16', height: 300, width: 260, bands: 2, driver: 'GTiff',
    options: ['COMPRESS=LZW', 'TILED=YES', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256'] },
  { name: 'jpeg-gray', dtype: 'uint8', height: H, width: W, bands: 1, driver: 'COG', options: ['COMPRESS=JPEG', ...BLOCK] },
  { name: 'jpeg-ycbcr', dtype: 'uint8', height: 64, width: 64, bands: 3, driver: 'GTiff', options: ['COMPRESS=JPEG', 'PHOTOMETRIC=YCBCR', ...TILED] },
  { name: 'jpeg-ycbcr-cog', dtype: 'uint8', height: H, width: W, bands: 3, driver: 'COG', options: ['COMPRESS=JPEG', ...BLOCK] },
  { name: 'jpeg-rgb', dtype: 'uint8', height: H, width: W, bands: 3, driver: 'GTiff', options: ['COMPRESS=JPEG', 'PHOTOMETRIC=RGB', ...TILED] },
  { name: 'jpeg-strips', dtype: 'uint8', height: H, width: W, bands: 1, driver: 'GTiff', options: ['COMPRESS=JPEG', 'BLOCKYSIZE=16'] },
  { name: 'masked', dtype: 'uint8', height: 100, width: 90, bands: 3, driver: 'COG', mask: true, options: ['COMPRESS=DEFLATE', ...BLOCK] },
  { name: 'u32', dtype: 'uint32', height: 10, width: 10, bands: 1, driver: 'GTiff', options: TILED },
  { name: 'c64', dtype: 'cfloat32', height: 10, width: 10, bands: 1, driver: 'GTiff', options: TILED },
];

let fx: ReturnType<typeof makeGdalFixtures>;
const truth = (name: string): GdalFixtureTruth => fx.truth[name];

before(() => {
  fx = makeGdalFixtures([...matrixSpecs(), ...GEO_SPECS, ...LAYOUT_SPECS]);
});
after(() => fx?.cleanup());

function same(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Asserts `r` equals GDAL's pixels (optionally a crop of them). */
function assertPixels(r: Raster, t: { shape: [number, number, number]; data: Float64Array },
  crop: [number, number, number, number] = [0, 0, t.shape[0], t.shape[1]], label = ''): void {
  const [y0, x0, h, w] = crop;
  const c = t.shape[2];
  assert.deepEqual([...r.shape], [h, w, c], `${label} shape`);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let b = 0; b < c; b++) {
        const got = r.data[(y * w + x) * c + b];
        const want = t.data[((y0 + y) * t.shape[1] + x0 + x) * c + b];
        if (!same(got, want)) assert.fail(`${label} pixel (${y0 + y}, ${x0 + x}, band ${b}): got ${got}, GDAL ${want}`);
      }
    }
  }
}

/** [c, a, b, f, d, e] of an affine matrix, as GDAL's geotransform. */
function toGeotransform(m: readonly number[]): number[] {
  return [m[2], m[0], m[1], m[5], m[3], m[4]];
}

const GDAL_DTYPES: Record<string, string> = {
  Byte: 'uint8', int8: 'int8', UInt16: 'uint16', Int16: 'int16', Int32: 'int32', Float32: 'float32', Float64: 'float64',
};

describe('GDAL-written files read exactly, every level', () => {
  for (const spec of [...matrixSpecs(), ...GEO_SPECS, ...LAYOUT_SPECS.filter((s) => !['u32', 'c64'].includes(s.name) && !s.name.startsWith('jpeg'))]) {
    it(`${spec.name} (${spec.driver} ${spec.dtype} x${spec.bands} ${(spec.options ?? []).join(' ')})`, async () => {
      const t = truth(spec.name);
      const f = await openRaster(t.path);
      try {
        assert.equal(f.format, 'tiff');
        assert.equal(f.dtype, GDAL_DTYPES[t.dtype]);
        assert.deepEqual([f.height, f.width, f.bands], t.levels[0].shape);
        assert.deepEqual(f.overviews.map((o) => [o.height, o.width]), t.overviews);
        assertPixels(await f.read(), t.levels[0], undefined, 'full');
        for (let i = 0; i < f.overviews.length; i++) {
          assertPixels(await f.read({ overview: i }), t.levels[i + 1], undefined, `overview ${i}`);
        }
      } finally {
        await f.close();
      }
    });
  }
});

describe('the compression matrix covers what it claims', () => {
  it('COG files have overviews and GDAL reports the dtype asked for', () => {
    for (const s of matrixSpecs()) {
      const t = truth(s.name);
      assert.equal(GDAL_DTYPES[t.dtype], s.dtype, s.name);
      if (s.driver === 'COG') assert.ok(t.overviews.length >= 1, `${s.name} has overviews`);
    }
  });
});

describe("geotiff.js's worker Pool", () => {
  it('decodes the codecs we do not decode ourselves to the same pixels', async () => {
    const pool = new Pool(2);
    try {
      for (const name of ['packbits', 'jpeg-gray']) {
        const plain = await readRaster(truth(name).path);
        const f = await openRaster(truth(name).path, { pool });
        const pooled = await f.read();
        await f.close();
        assert.deepEqual(Array.from(pooled.data), Array.from(plain.raster.data), name);
      }
    } finally {
      pool.destroy();
    }
  });
});

describe('JPEG (lossy: decoders may differ by rounding)', () => {
  it('gray JPEG COG within 1 of GDAL, overviews too', async () => {
    const t = truth('jpeg-gray');
    const f = await openRaster(t.path);
    for (let lv = 0; lv < t.levels.length; lv++) {
      const r = await f.read(lv ? { overview: lv - 1 } : {});
      assert.deepEqual([...r.shape], t.levels[lv].shape);
      r.data.forEach((v, i) => { if (Math.abs(v - t.levels[lv].data[i]) > 1) assert.fail(`level ${lv} sample ${i}: ${v} vs GDAL ${t.levels[lv].data[i]}`); });
    }
    await f.close();
  });

  it('YCbCr JPEG is converted to RGB as GDAL does (exact on the smooth half; chroma upsampling differs on noise)', async () => {
    const t = truth('jpeg-ycbcr');
    const { raster } = await readRaster(t.path);
    assertPixels(raster.crop(0, 0, 64, 32), t.levels[0], [0, 0, 64, 32]);
  });
});

describe('JPEG through the addon\'s libjpeg: exactly GDAL\'s pixels', { skip: nativeAddon()?.jpegDecode ? false : 'the addon is not built with libjpeg here (libjpeg-dev)' }, () => {
  for (const name of ['jpeg-gray', 'jpeg-ycbcr', 'jpeg-ycbcr-cog', 'jpeg-rgb', 'jpeg-strips']) {
    it(`${name}: every level, every pixel`, async () => {
      const t = truth(name);
      const f = await openRaster(t.path);
      try {
        for (let lv = 0; lv < t.levels.length; lv++) assertPixels(await f.read(lv ? { overview: lv - 1 } : {}), t.levels[lv], undefined, `${name} level ${lv}`);
        // a window across tile (or strip) borders is the same crop
        const win = await f.read({ window: [slice(10, 50), slice(20, 60)] });
        assertPixels(win, t.levels[0], [10, 20, 40, 40], `${name} window`);
      } finally {
        await f.close();
      }
    });
  }
});

describe('windows equal the same crop of the full read', () => {
  const cases: [string, [number, number, number, number]][] = [
    ['inside one tile', [3, 4, 10, 11]],
    ['across tile borders', [20, 25, 30, 40]],
    ['top-left corner', [0, 0, 1, 1]],
    ['bottom-right corner (partial last tiles)', [H - 1, W - 1, 1, 1]],
    ['last partial tile row and column', [64, 64, 6, 26]],
    ['right edge, all rows', [0, W - 5, H, 5]],
    ['bottom edge, all columns', [H - 3, 0, 3, W]],
    ['whole raster', [0, 0, H, W]],
    ['empty', [10, 10, 0, 5]],
  ];
  for (const name of ['uint16-deflate-pred', 'float32-lzw-pred', 'planar', 'strips', 'be-u16', 'sparse-nodata']) {
    for (const [label, [y0, x0, h, w]] of cases) {
      it(`${name}: ${label}`, async () => {
        const t = truth(name);
        const { raster } = await readRaster(t.path, { window: [slice(y0, y0 + h), slice(x0, x0 + w)] });
        assertPixels(raster, t.levels[0], [y0, x0, h, w], label);
      });
    }
  }

  it('open-ended slices (null bounds) mean the start / end', async () => {
    const t = truth('int16-deflate');
    const { raster } = await readRaster(t.path, { window: [slice(null, 20), slice(50, null)] });
    assertPixels(raster, t.levels[0], [0, 50, 20, W - 50]);
  });

  it('windows of an overview are in the overview grid', async () => {
    const t = truth('ovr-gtiff');
    const [oh, ow] = t.overviews[1];
    const { raster } = await readRaster(t.path, { overview: 1, window: [slice(5, oh), slice(2, ow - 1)] });
    assertPixels(raster, t.levels[2], [5, 2, oh - 5, ow - 3]);
  });

  it('random windows match GDAL (property)', async () => {
    const t = truth('int32-zstd-pred');
    const f = await openRaster(t.path);
    try {
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 0, max: H }), fc.integer({ min: 0, max: H }),
        fc.integer({ min: 0, max: W }), fc.integer({ min: 0, max: W }),
        async (a, b, c, d) => {
          const [y0, y1] = a <= b ? [a, b] : [b, a];
          const [x0, x1] = c <= d ? [c, d] : [d, c];
          const r = await f.read({ window: [slice(y0, y1), slice(x0, x1)] });
          assertPixels(r, t.levels[0], [y0, x0, y1 - y0, x1 - x0]);
        }), { numRuns: 60 });
    } finally {
      await f.close();
    }
  });

  it('concurrent reads of one open file are independent', async () => {
    const t = truth('float64-deflate-pred');
    const f = await openRaster(t.path);
    const wins: [number, number, number, number][] = [[0, 0, 40, 40], [30, 50, 40, 40], [10, 5, 60, 80], [69, 0, 1, 90]];
    const rs = await Promise.all([...wins, ...wins].map(([y, x, h, w]) => f.read({ window: [slice(y, y + h), slice(x, x + w)] })));
    await f.close();
    rs.forEach((r, i) => assertPixels(r, t.levels[0], wins[i % wins.length]));
  });

  it('reads only the tiles the window needs', async () => {
    // Corrupt every tile except tile (row 1, col 1) of IFD 0: a window inside it still reads.
    const t = truth('uint8-deflate');
    const layout = await readTiffLayout(t.path);
    const ifd = layout.ifds[0];
    const across = Math.ceil(ifd.width / ifd.tileWidth);
    const copy = join(fx.dir, 'one-good-tile.tif');
    writeFileSync(copy, readFileSync(t.path));
    const fd = openSync(copy, 'r+');
    ifd.dataOffsets.forEach((off, i) => {
      if (i !== across + 1) writeSync(fd, Buffer.alloc(Math.min(ifd.dataByteCounts[i], 8), 0xab), 0, Math.min(ifd.dataByteCounts[i], 8), off);
    });
    closeSync(fd);
    const { raster } = await readRaster(copy, { window: [slice(33, 60), slice(40, 63)] });
    assertPixels(raster, t.levels[0], [33, 40, 27, 23]);
    await assert.rejects(readRaster(copy), FormatError);
  });
});

describe('windows outside the raster', () => {
  it('are an error naming the window and the raster size', async () => {
    const t = truth('uint8-none');
    for (const win of [[slice(-1, 10), slice(0, 10)], [slice(0, 10), slice(80, W + 1)], [slice(H, H + 2), slice(0, 1)]] as const) {
      await assert.rejects(readRaster(t.path, { window: win }), (err: Error) => {
        assert.ok(err instanceof ValueError, String(err));
        assert.match(err.message, /window rows -?\d+\.\.\d+, cols \d+\.\.\d+ is outside/);
        assert.match(err.message, new RegExp(`height ${H}, width ${W}`));
        assert.ok(err.message.includes(t.path));
        return true;
      });
    }
  });

  it('with boundless: true, are filled with nodata (or the given fill)', async () => {
    const t = truth('utm'); // int16, nodata -9999, 40 x 50
    const { raster } = await readRaster(t.path, { window: [slice(-3, 5), slice(45, 53)], boundless: true });
    assert.deepEqual([...raster.shape], [8, 8, 2]);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        for (let b = 0; b < 2; b++) {
          const [sy, sx] = [y - 3, x + 45];
          const want = sy < 0 || sx >= 50 ? -9999 : t.levels[0].data[(sy * 50 + sx) * 2 + b];
          assert.equal(raster.data[(y * 8 + x) * 2 + b], want, `(${y}, ${x}, ${b})`);
        }
      }
    }
    const fully = await readRaster(t.path, { window: [slice(100, 102), slice(0, 2)], boundless: true, fill: 3 });
    assert.deepEqual(Array.from(fully.raster.data), new Array(8).fill(3));
    // fill values convert as GDAL converts nodata: round, clamp to the dtype, NaN -> 0 for integers
    for (const [fill, want] of [[NaN, 0], [1e9, 32767], [-1e9, -32768], [2.6, 3]] as const) {
      const r = await readRaster(t.path, { window: [slice(-1, 0), slice(0, 1)], boundless: true, fill });
      assert.deepEqual(Array.from(r.raster.data), [want, want], `fill ${fill}`);
    }
  });

  it('steps other than 1, fractional bounds and stop < start are rejected', async () => {
    const t = truth('uint8-none');
    await assert.rejects(readRaster(t.path, { window: [slice(0, 10, 2), slice(0, 10)] }), /step 2/);
    await assert.rejects(readRaster(t.path, { window: [slice(0.5, 10), slice(0, 10)] }), /not an integer/);
    await assert.rejects(readRaster(t.path, { window: [slice(5, 4), slice(0, 10)] }), /stop before start/);
    await assert.rejects(readRaster(t.path, { overview: 7 }), /overview 7 does not exist .* 2 overview level/);
  });
});

describe('georeferencing and metadata as GDAL reports them', () => {
  for (const name of ['utm', 'wgs84', 'point', 'rotated', 'plain', 'sparse-nodata', 'sparse-nan']) {
    it(name, async () => {
      const t = truth(name);
      const f = await openRaster(t.path);
      await f.close();
      assert.equal(f.epsg, t.epsg);
      if (t.nodata === null) assert.equal(f.nodata, null);
      else assert.ok(same(f.nodata!, t.nodata), `nodata ${f.nodata} vs GDAL ${t.nodata}`);
      const { AREA_OR_POINT: _, ...gdalMeta } = t.metadata; // GDAL derives this one from the GeoKeys
      assert.deepEqual(f.metadata, gdalMeta);
      if (t.geotransform === null || name === 'plain') {
        assert.equal(f.transform, null);
      } else {
        const gt = toGeotransform(f.transform!.matrix);
        gt.forEach((v, i) => assert.ok(Math.abs(v - t.geotransform![i]) <= 1e-9 * Math.max(1, Math.abs(v)), `gt[${i}] ${v} vs ${t.geotransform![i]}`));
      }
    });
  }

  it('the cases cover projected and geographic EPSG codes, and JSON metadata with XML specials', () => {
    assert.equal(truth('utm').epsg, 32618);
    assert.equal(truth('wgs84').epsg, 4326);
    assert.equal(truth('utm').metadata.odd, 'a<b & "c" \'d\' &lt;');
    assert.deepEqual(JSON.parse(truth('utm').metadata.quantization), { orig_min: 0, orig_max: 1.5, nodata: -9999 });
  });

  it('readRaster returns the same facts as openRaster', async () => {
    const t = truth('utm');
    const r = await readRaster(t.path);
    assert.equal(r.nodata, -9999);
    assert.equal(r.epsg, 32618);
    assert.equal(r.metadata.quantization, '{"orig_min": 0, "orig_max": 1.5, "nodata": -9999}');
    assert.deepEqual(toGeotransform(r.transform!.matrix), [500000.5, 10, 0, 4649776.25, 0, -10]);
    assert.deepEqual(r.transform!.toGdal(), [500000.5, 10, 0, 4649776.25, 0, -10]);
    // pixel corners (pixel-is-area): the top-left corner of pixel (row 1, col 2)
    assert.deepEqual(r.transform!.apply([[2, 1]]), [[500020.5, 4649766.25]]);
    assertPixels(r.raster, t.levels[0]);
  });
});

describe('sparse tiles', () => {
  it('mask IFDs are not overviews (the masked COG really has mask IFDs)', async () => {
    const layout = await readTiffLayout(truth('masked').path);
    assert.ok(layout.ifds.some((d) => (d.subfileType & 4) !== 0));
    const f = await openRaster(truth('masked').path);
    await f.close();
    assert.deepEqual(f.overviews.map((o) => [o.height, o.width]), truth('masked').overviews);
    assert.ok(f.overviews.length >= 1);
  });

  it('GDAL really wrote sparse tiles (offset 0 / byte count 0)', async () => {
    for (const name of ['sparse-nodata', 'sparse-zero', 'sparse-nan', 'sparse-planar']) {
      const ifd = (await readTiffLayout(truth(name).path)).ifds[0];
      assert.ok(ifd.dataByteCounts.some((c) => c === 0), `${name} has empty tiles`);
      assert.ok(ifd.dataByteCounts.some((c) => c > 0), `${name} has written tiles`);
    }
  });

  it('read as nodata, 0 without nodata, NaN for NaN nodata (checked pixel by pixel above; spot checks here)', async () => {
    assert.equal((await readRaster(truth('sparse-nodata').path)).raster.get(0, 0, 1), -9999);
    assert.equal((await readRaster(truth('sparse-zero').path)).raster.get(69, 0), 0);
    assert.ok(Number.isNaN((await readRaster(truth('sparse-nan').path)).raster.get(0, 0)));
    assert.equal((await readRaster(truth('sparse-planar').path)).raster.get(69, 89, 1), 7);
  });
});

describe('errors at the layer boundary', () => {
  it('missing file: IoError naming the path', async () => {
    const p = join(fx.dir, 'nope.tif');
    await assert.rejects(readRaster(p), (err: Error) => err instanceof IoError && !(err instanceof FormatError) &&
      (err as IoError).path === p && err.message.includes(p) && /no such file/.test(err.message));
  });

  it('a directory: IoError naming the path', async () => {
    await assert.rejects(readRaster(fx.dir), (err: Error) => err instanceof IoError && err.message.includes(fx.dir) && /directory/.test(err.message));
  });

  it('random bytes and empty files: FormatError naming the path and the first bytes', async () => {
    const p = join(fx.dir, 'random.tif');
    writeFileSync(p, Buffer.from('GIF89a\x01\x02 random bytes'));
    await assert.rejects(readRaster(p), (err: Error) => err instanceof FormatError && err.message.includes(p) &&
      err.message.includes('47 49 46 38 39 61 01 02') && err.message.includes('"GIF89a.."'));
    const e = join(fx.dir, 'empty.png');
    writeFileSync(e, Buffer.alloc(0));
    await assert.rejects(readRaster(e), /empty file/);
  });

  it('truncated TIFF: FormatError with the path and the tile index', async () => {
    const t = truth('float64-deflate');
    const bytes = readFileSync(t.path);
    const p = join(fx.dir, 'truncated.tif');
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    await assert.rejects(readRaster(p), (err: Error) => err instanceof FormatError && err.message.includes(p) &&
      /tile \d+ \(row \d+, col \d+\) of IFD 0/.test(err.message) && /truncated/.test(err.message));
    const h = join(fx.dir, 'header-only.tif');
    writeFileSync(h, bytes.subarray(0, 6));
    await assert.rejects(readRaster(h), FormatError);
  });

  it('every truncation of a COG (headers, tag values, tile data) is a FormatError, never zeros', async () => {
    for (const name of ['utm', 'bigtiff']) {
      const bytes = readFileSync(truth(name).path);
      const p = join(fx.dir, `cut-${name}.tif`);
      const step = Math.max(1, Math.floor(bytes.length / 150));
      for (let cut = 0; cut < bytes.length; cut += cut < 1200 ? 11 : step) {
        writeFileSync(p, bytes.subarray(0, cut));
        await assert.rejects(readRaster(p), (err: Error) => err instanceof FormatError && err.message.includes(p), `${name} cut at ${cut}`);
      }
    }
  });

  for (const name of ['uint16-deflate', 'uint16-lzw-pred']) {
    it(`corrupt tile data (${name}): FormatError with the path and the tile index`, async () => {
      const t = truth(name);
      const ifd = (await readTiffLayout(t.path)).ifds[0];
      const p = join(fx.dir, `corrupt-${name}.tif`);
      const bytes = Buffer.from(readFileSync(t.path));
      bytes.fill(0x5a, ifd.dataOffsets[4], ifd.dataOffsets[4] + ifd.dataByteCounts[4]);
      writeFileSync(p, bytes);
      await assert.rejects(readRaster(p), (err: Error) => err instanceof FormatError && err.message.includes(p) &&
        /tile 4 \(row 1, col 1\) of IFD 0 (is corrupt|decodes to \d+ bytes)/.test(err.message));
      // The other tiles still read.
      const { raster } = await readRaster(p, { window: [slice(0, 32), slice(0, 64)] });
      assertPixels(raster, t.levels[0], [0, 0, 32, 64]);
    });
  }

  it('unsupported sample types: UnsupportedError naming the type', async () => {
    await assert.rejects(openRaster(truth('u32').path), (err: Error) => err instanceof UnsupportedError && /32-bit unsigned integer/.test(err.message));
    await assert.rejects(openRaster(truth('c64').path), (err: Error) => err instanceof UnsupportedError && /complex/.test(err.message));
  });

  it('unknown and unsupported compressions: UnsupportedError naming the path and the compression', async () => {
    const bytes = readFileSync(truth('uint8-deflate').path);
    // the Compression entry of IFD 0: tag 259, type SHORT, count 1, value 8 (little-endian)
    const entry = Buffer.from([0x03, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00]);
    const at = bytes.indexOf(entry);
    assert.ok(at > 0);
    for (const [code, re] of [[9999, /compression code 9999 is not supported by geotiff\.js/], [6, /compression old-style JPEG is not supported/]] as const) {
      const p = join(fx.dir, `compression-${code}.tif`);
      const patched = Buffer.from(bytes);
      patched.writeUInt16LE(code, at + 8);
      writeFileSync(p, patched);
      await assert.rejects(readRaster(p), (err: Error) => err instanceof UnsupportedError && err.message.includes(p) && re.test(err.message));
    }
  });

  it('reading after close fails; close twice is fine', async () => {
    const f = await openRaster(truth('uint8-none').path);
    await f.close();
    await f.close();
    await assert.rejects(f.read(), /closed/);
  });

  it('isTiff recognises the four TIFF headers only', () => {
    for (const h of ['II*\0', 'MM\0*', 'II+\0', 'MM\0+']) assert.ok(isTiff(Buffer.from(h, 'latin1')), h);
    for (const h of ['II*', 'MM*\0', '\x89PNG']) assert.ok(!isTiff(Buffer.from(h, 'latin1')), h);
  });
});

describe('files from our own writer', () => {
  it('sparse blocks, nodata, metadata, EPSG and transform read back as written, and as GDAL reads them', async () => {
    const { writeCog } = await import('../../src/io/cog/write-cog.ts');
    const { Affine } = await import('../../src/array/affine.ts');
    const { Raster } = await import('../../src/array/raster.ts');
    const { gdalRead } = await import('../helpers/gdal.ts');
    const [h, w, c] = [300, 260, 2];
    const value = (y: number, x: number, b: number) => ((y * 7 + x * 3 + b * 11) % 2000) - 1000;
    const isEmpty = (y0: number, x0: number) => (y0 / 128 + x0 / 128) % 2 === 1; // checkerboard of sparse blocks
    const source = {
      height: h, width: w, bands: c, dtype: 'int16' as const,
      readBlock(y0: number, x0: number, bh: number, bw: number) {
        if (isEmpty(y0, x0)) return null;
        const r = Raster.zeros([bh, bw, c], 'int16');
        for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) for (let b = 0; b < c; b++) r.set(y, x, b, value(y0 + y, x0 + x, b));
        return r;
      },
    };
    const p = join(fx.dir, 'ours.tif');
    const quantization = JSON.stringify({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 });
    await writeCog(p, source, {
      compress: 'DEFLATE', predictor: 2, blocksize: 128, nodata: -9999, overviews: 2,
      metadata: { quantization, note: 'a<b & "c"' }, epsg: 32618, transform: Affine.fromGdal([500000, 2, 0, 4600000, 0, -2]),
    });
    const f = await openRaster(p);
    const r = await f.read();
    assert.equal(f.dtype, 'int16');
    assert.equal(f.nodata, -9999);
    assert.equal(f.epsg, 32618);
    assert.deepEqual(f.metadata, { quantization, note: 'a<b & "c"' });
    assert.deepEqual(f.transform!.toGdal(), [500000, 2, 0, 4600000, 0, -2]);
    assert.equal(f.overviews.length, 2);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const empty = isEmpty(Math.floor(y / 128) * 128, Math.floor(x / 128) * 128);
        for (let b = 0; b < c; b++) {
          const want = empty ? -9999 : value(y, x, b);
          if (r.get(y, x, b) !== want) assert.fail(`(${y}, ${x}, ${b}): ${r.get(y, x, b)} vs ${want}`);
        }
      }
    }
    const g = gdalRead(p);
    assertPixels(r, { shape: g.shape, data: g.data });
    const ov = await f.read({ overview: 0 });
    const g0 = gdalRead(p, 0);
    assertPixels(ov, { shape: g0.shape, data: g0.data }, undefined, 'overview 0');
    await f.close();
  });
});
