/**
 * writeCog overviews: sizes, nearest and average values against a naive
 * reference computed here (each level from the one before, average over the
 * valid samples of each k x k block, nodata and NaN left out), and against
 * GDAL's own AVERAGE overviews where both definitions agree (2 x 2 blocks).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCog, type WriteCogOptions } from '../../src/io/cog/write-cog.ts';
import { Raster } from '../../src/array/raster.ts';
import { DTYPES, type Dtype } from '../../src/array/dtypes.ts';
import { openRaster } from '../../src/io/read-raster.ts';
import { readTiffLayout, checkCogLayout } from '../../src/io/tiff-layout.ts';
import { gdalPython } from '../helpers/gdal.ts';
import { gdalBatch, patternRaster } from './write-cog.helpers.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'write-cog-ov-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

/** Naive 'nearest' reduction by k: the top-left pixel of each k x k block. */
function nearestK(r: Raster, k: number): Raster {
  const out = Raster.zeros([Math.ceil(r.height / k), Math.ceil(r.width / k), r.bands], r.dtype);
  for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) for (let b = 0; b < r.bands; b++) out.set(y, x, b, r.get(y * k, x * k, b));
  return out;
}

/** Naive 'average' reduction by k: mean of the valid samples of each (clipped) k x k block. */
function averageK(r: Raster, k: number, nodata: number | null): Raster {
  const isInt = !DTYPES[r.dtype].isFloat;
  const out = Raster.zeros([Math.ceil(r.height / k), Math.ceil(r.width / k), r.bands], r.dtype);
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      for (let b = 0; b < r.bands; b++) {
        let sum = 0, n = 0;
        for (let yy = y * k; yy < Math.min(y * k + k, r.height); yy++) {
          for (let xx = x * k; xx < Math.min(x * k + k, r.width); xx++) {
            const v = r.get(yy, xx, b);
            if (Number.isNaN(v) || v === nodata) continue;
            sum += v; n++;
          }
        }
        out.set(y, x, b, n === 0 ? (nodata ?? (isInt ? 0 : NaN)) : isInt ? Math.round(sum / n) : sum / n);
      }
    }
  }
  return out;
}

/** The reference levels for factors (each from the level before). */
function reference(r: Raster, factors: number[], resample: 'nearest' | 'average', nodata: number | null): Raster[] {
  const out: Raster[] = [];
  let prev = r, pf = 1;
  for (const f of factors) {
    prev = resample === 'nearest' ? nearestK(prev, f / pf) : averageK(prev, f / pf, nodata);
    out.push(prev);
    pf = f;
  }
  return out;
}

function assertSame(got: { shape: readonly number[]; data: ArrayLike<number> }, want: Raster, what: string, tol = 0): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  for (let i = 0; i < want.data.length; i++) {
    const [g, w] = [got.data[i], want.data[i]];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) assert.fail(`${what}: sample ${i} (pixel ${Math.floor(i / want.bands)}, band ${i % want.bands}) is ${g}, expected ${w}`);
  }
}

describe('overview levels', () => {
  it('sizes: factor lists, counts and auto; levels stop once 1 x 1', async () => {
    const r = patternRaster([100, 61, 1], 'uint8');
    const cases: [WriteCogOptions['overviews'], number, [number, number][]][] = [
      [[2, 4], 16, [[31, 50], [16, 25]]],
      [[3, 6], 16, [[21, 34], [11, 17]]],
      [3, 16, [[31, 50], [16, 25], [8, 13]]],
      ['auto', 16, [[31, 50], [16, 25], [8, 13]]],
      ['auto', 64, [[31, 50]]],
      ['auto', 128, []],
      [10, 16, [[31, 50], [16, 25], [8, 13], [4, 7], [2, 4], [1, 2], [1, 1]]],
      [0, 16, []],
    ];
    for (const [overviews, blocksize, want] of cases) {
      const p = join(dir, 'sizes.tif');
      await writeCog(p, r, { overviews, blocksize });
      const layout = await readTiffLayout(p);
      assert.deepEqual(layout.ifds.slice(1).map((d) => [d.width, d.height]), want, `overviews ${JSON.stringify(overviews)} blocksize ${blocksize}`);
      assert.ok(layout.ifds.slice(1).every((d) => d.subfileType === 1));
      assert.deepEqual(checkCogLayout(layout), []);
    }
  });

  it('nearest and average match the naive reference for every dtype (odd sizes, factors 2/4 and 3/6), in GDAL and our reader', async () => {
    const files: { path: string; want: Raster[]; name: string }[] = [];
    const dtypes: Dtype[] = ['uint8', 'int8', 'uint16', 'int16', 'int32', 'float32', 'float64'];
    for (const dtype of dtypes) {
      for (const resample of ['nearest', 'average'] as const) {
        for (const factors of [[2, 4], [3, 6]]) {
          const r = patternRaster([45, 38, 3], dtype, factors[0]);
          const path = join(dir, `${dtype}-${resample}-${factors.join('_')}.tif`);
          await writeCog(path, r, { overviews: factors, overviewResample: resample, blocksize: 16 });
          files.push({ path, name: `${dtype} ${resample} ${factors}`, want: [r, ...reference(r, factors, resample, null)] });
        }
      }
    }
    const got = gdalBatch(files.map((f) => f.path));
    for (const [i, f] of files.entries()) {
      assert.deepEqual(got[i].errors, [], f.name);
      assert.equal(got[i].levels.length, f.want.length);
      // float32 averages are computed in float64 and rounded once; the reference is stored through the same float32
      f.want.forEach((w, k) => assertSame(got[i].levels[k], w, `${f.name} level ${k} (GDAL)`));
      const rf = await openRaster(f.path);
      for (let k = 1; k < f.want.length; k++) assertSame(await rf.read({ overview: k - 1 }), f.want[k], `${f.name} level ${k} (our reader)`);
      await rf.close();
    }
  });

  it('average leaves out nodata and NaN; a block with nothing valid is nodata (NaN without nodata)', async () => {
    const [h, w] = [37, 29];
    const r = patternRaster([h, w, 2], 'float32', 5);
    for (let i = 0; i < r.data.length; i += 3) r.data[i] = -9999;
    for (let i = 1; i < r.data.length; i += 7) r.data[i] = NaN;
    // a whole 4 x 4 region of nodata in band 0: its x4 pixel must be nodata
    for (let y = 8; y < 12; y++) for (let x = 4; x < 8; x++) r.set(y, x, 0, -9999);
    const withNodata = join(dir, 'avg-nodata.tif');
    await writeCog(withNodata, r, { overviews: [2, 4], overviewResample: 'average', nodata: -9999, blocksize: 16 });
    const noNodata = join(dir, 'avg-nan.tif');
    const rn = r.crop(0, 0, h, w);
    for (let i = 0; i < rn.data.length; i++) if (rn.data[i] === -9999) rn.data[i] = NaN;
    await writeCog(noNodata, rn, { overviews: [2, 4], overviewResample: 'average', blocksize: 16 });
    const [g1, g2] = gdalBatch([withNodata, noNodata]);
    const ref1 = reference(r, [2, 4], 'average', -9999);
    const ref2 = reference(rn, [2, 4], 'average', null);
    assert.equal(ref1[1].get(2, 1, 0), -9999);
    assert.ok(Number.isNaN(ref2[1].get(2, 1, 0)));
    ref1.forEach((want, k) => assertSame(g1.levels[k + 1], want, `nodata level ${k + 1}`));
    ref2.forEach((want, k) => assertSame(g2.levels[k + 1], want, `NaN level ${k + 1}`));
    // naive check of one pixel by hand: overview x2 pixel (0, 0) band 1 is the mean of the valid of its 4 samples
    const vals = [r.get(0, 0, 1), r.get(0, 1, 1), r.get(1, 0, 1), r.get(1, 1, 1)].filter((v) => !Number.isNaN(v) && v !== -9999);
    assert.equal(g1.levels[1].data[1], Math.fround(vals.reduce((a, b) => a + b, 0) / vals.length));
  });

  it('average agrees with GDAL AVERAGE overviews on 2 x 2 blocks (float64, with nodata; GDAL averages in float32 precision)', async () => {
    // quarter-integers: sums exact in float32 too, so only the final division differs
    const r = Raster.zeros([64, 48, 2], 'float64');
    for (let i = 0; i < r.data.length; i++) r.data[i] = i % 5 === 0 ? -1 : ((i * 37) % 1000) * 0.25;
    const p = join(dir, 'avg-vs-gdal.tif');
    await writeCog(p, r, { overviews: [2], overviewResample: 'average', nodata: -1, blocksize: 16 });
    const out = gdalPython(`
import sys, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
src = gdal.Open(sys.argv[1])
mem = gdal.GetDriverByName('MEM').CreateCopy('', src)
mem.BuildOverviews('AVERAGE', [2])
res = []
for ds in (src, mem):
    a = np.stack([ds.GetRasterBand(b + 1).GetOverview(0).ReadAsArray() for b in range(ds.RasterCount)], axis=-1)
    res.append(a.ravel().tolist())
src = None
mem = None
print(json.dumps(res))
`, [p]);
    const [ours, gdals] = JSON.parse(out) as number[][];
    assert.equal(ours.length, 32 * 24 * 2);
    for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - gdals[i]) <= 1e-6 * Math.max(1, Math.abs(gdals[i])), `sample ${i}: ours ${ours[i]}, GDAL ${gdals[i]}`);
  });

  it('overviews of a sparse block source: all-empty overview tiles are sparse too', async () => {
    const p = join(dir, 'sparse-ov.tif');
    await writeCog(p, {
      height: 128, width: 128, bands: 1, dtype: 'int16',
      readBlock: (y0, x0, h, w) => (y0 === 0 && x0 === 0 ? Raster.full([h, w, 1], 3, 'int16') : null),
    }, { blocksize: 16, overviews: [2, 4], nodata: -1, overviewResample: 'average' });
    const layout = await readTiffLayout(p);
    const [, ov1, ov2] = layout.ifds;
    assert.equal(ov1.dataByteCounts.filter((n) => n > 0).length, 1);
    assert.equal(ov2.dataByteCounts.filter((n) => n > 0).length, 1);
    const [g] = gdalBatch([p]);
    assert.deepEqual(g.errors, []);
    assert.equal(g.levels[1].data[0], 3);
    assert.equal(g.levels[1].data[63], -1);
  });
});
