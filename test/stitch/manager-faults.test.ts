/**
 * CocoStitchingManager under unlucky input: NaN in some bands only (each band weighted on its
 * own, against a naive per-band reference read back from the written file), images that end up
 * all nodata (reported), sums that overflow float32 (refused naming the image, or kept with
 * dtype float64), two managers writing the same assets (refused), re-runs (replace the entry).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { readRaster } from '../../src/io/read-raster.ts';
import { CocoStitchingManager } from '../../src/stitch/manager.ts';
import { StitchError, StitchStateError } from '../../src/stitch/errors.ts';
import { scratchDir } from '../helpers/scratch.ts';

function dataset(bundle = scratchDir('mgr-faults-')): CocoDataset {
  return CocoDataset.fromJSON({
    images: [
      { id: 1, name: 'one', width: 40, height: 40 },
      { id: 2, name: 'two', width: 40, height: 40 },
      { id: 3, name: 'three', width: 40, height: 40, assets: [{ file_name: 'inputs/three.tif', channels: 'r|g|b', width: 40, height: 40 }] },
    ],
  }, { bundleDpath: bundle });
}
const floatTif = { shortCode: 'p', chanCode: 'a|b|c', probFormat: 'tif' as const, quantize: false, probBlocksize: 16, writePredictionAttrs: false, stitchingSpace: 'image' as const };

test('property: NaN in some bands of a pixel leaves its other bands stitched; the written file equals a naive per-band reference', async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('float32', 'float64'),
    fc.array(fc.record({
      y: fc.integer({ min: -8, max: 36 }), x: fc.integer({ min: -8, max: 36 }), h: fc.integer({ min: 2, max: 24 }), w: fc.integer({ min: 2, max: 24 }),
      seed: fc.integer({ min: 0, max: 1000 }), weighted: fc.boolean(), edges: fc.boolean(),
      // NaN pattern per band: none, a band everywhere, scattered values, or whole pixels
      nan: fc.constantFrom('none', 'band', 'scattered', 'pixels'), band: fc.integer({ min: 0, max: 2 }),
    }), { minLength: 1, maxLength: 7 }),
    async (dtype, wins) => {
      const dset = dataset();
      const m = new CocoStitchingManager(dset, { ...floatTif, dtype: dtype as 'float32' });
      const C = 3, H = 40, W = 40;
      const sums = new Float64Array(H * W * C), wts = new Float64Array(H * W * C);
      try {
        for (const wd of wins) {
          const data = Raster.zeros([wd.h, wd.w, C]);
          for (let i = 0; i < data.data.length; i++) {
            const q = Math.floor(i / C), c = i % C;
            const nan = (wd.nan === 'band' && c === wd.band) || (wd.nan === 'scattered' && (i * 7 + wd.seed) % 5 === 0) || (wd.nan === 'pixels' && (q + wd.seed) % 4 === 0);
            data.data[i] = nan ? NaN : ((i * 7919 + wd.seed * 31) % 1000) / 1000;
          }
          let weights: Raster | null = null;
          if (wd.weighted) {
            weights = Raster.zeros([wd.h, wd.w, 1]);
            for (let i = 0; i < weights.data.length; i++) weights.data[i] = 0.1 + ((i * 13 + wd.seed) % 10) / 10;
          }
          m.accumulateImage(1, [slice(wd.y, wd.y + wd.h), slice(wd.x, wd.x + wd.w)], data, { weights, downweightEdges: wd.edges });
          // the weights the manager uses: given ones times the centre mask (checked against the original elsewhere)
          const { upweightCenterMask } = await import('../../src/stitch/weights.ts');
          const cm = wd.edges ? upweightCenterMask([wd.h, wd.w]) : null;
          for (let r = 0; r < wd.h; r++) for (let c = 0; c < wd.w; c++) {
            const y = wd.y + r, x = wd.x + c;
            if (y < 0 || x < 0 || y >= H || x >= W) continue;
            const q = r * wd.w + c;
            const w = Math.fround((weights ? weights.data[q] : 1) * (cm ? cm.data[q] : 1));
            for (let b = 0; b < C; b++) {
              const v = data.data[q * C + b];
              if (Number.isNaN(v)) continue;
              sums[(y * W + x) * C + b] += v * w;
              wts[(y * W + x) * C + b] += w;
            }
          }
        }
        const inside = wins.some((w) => w.y + w.h > 0 && w.x + w.w > 0 && w.y < H && w.x < W);
        if (!inside) { await assert.rejects(m.finalizeImage(1), StitchStateError); return; }
        const info = await m.finalizeImage(1);
        const a = dset.index.imgs.get(1)!.assets![0];
        const { raster } = await readRaster(join(dset.bundleDpath, a.file_name));
        assert.equal(raster.dtype, dtype);
        let valid = 0;
        for (let i = 0; i < H * W * C; i++) {
          const e = wts[i] > 0 ? sums[i] / wts[i] : NaN, g = raster.data[i];
          if (Number.isNaN(e)) { assert.ok(Number.isNaN(g), `value ${i}: expected nodata, got ${g}`); continue; }
          valid++;
          assert.ok(Math.abs(e - g) <= 1e-5, `value ${i} (pixel ${Math.floor(i / C)}, band ${i % C}): ${g} vs ${e}`);
        }
        assert.equal(info.validValues, valid);
        assert.equal(info.allNodata, valid === 0);
      } finally {
        m.dispose();
      }
    }), { numRuns: 40 });
});

test('an image whose every value is NaN is reported (finalize info, allNodataImageIds); one band of NaN is not', async () => {
  const dset = dataset();
  const m = new CocoStitchingManager(dset, { ...floatTif, quantize: true, probFormat: 'cog' });
  m.accumulateImage(1, null, Raster.full([40, 40, 3], NaN));
  const oneBand = Raster.full([40, 40, 3], 0.5);
  for (let p = 0; p < 1600; p++) oneBand.data[p * 3 + 1] = NaN;
  m.accumulateImage(2, null, oneBand);
  m.accumulateImage(3, [slice(0, 10), slice(0, 10)], Raster.full([10, 10, 3], NaN));
  m.accumulateImage(3, [slice(30, 40), slice(30, 40)], Raster.full([10, 10, 3], NaN));
  assert.deepEqual(m.allNodataImageIds(), []);
  const info1 = await m.finalizeImage(1);
  assert.deepEqual(info1, { nAnns: 0, totalProb: 0, validValues: 0, allNodata: true });
  for (const gid of [2, 3]) await m.submitFinalizeImage(gid);
  await m.flushImages();
  assert.deepEqual(m.finalizeInfo(2), { nAnns: 0, totalProb: 0.5 * 1600 * 2, validValues: 1600 * 2, allNodata: false });
  assert.equal(m.finalizeInfo(3)!.allNodata, true);
  assert.deepEqual(m.allNodataImageIds(), [1, 3]);
  // the all-nodata asset is written and registered all the same (a valid COG of nodata)
  const a = dset.index.imgs.get(1)!.assets!.at(-1)!;
  const { raster, nodata } = await readRaster(join(dset.bundleDpath, a.file_name));
  assert.ok(Array.from(raster.data).every((v) => v === nodata));
  m.dispose();
});

test('sums that overflow float32 stop with an error naming the image and float64, leaving no file; dtype float64 keeps them', async () => {
  const big = Raster.full([16, 16, 3], 1e20);
  for (const opts of [
    { ...floatTif, probFormat: 'cog' as const, quantize: true }, // scan pass
    { ...floatTif, probFormat: 'cog' as const, quantize: true, expectedMinmax: [0, 1] as [number, number] }, // while writing
    { ...floatTif }, // float output, while writing
    { ...floatTif, probFormat: 'png' as const, quantize: true },
  ]) {
    const dset = dataset();
    const m = new CocoStitchingManager(dset, { ...opts, chanCode: 'a|b|c' });
    m.accumulateImage(2, [slice(0, 16), slice(0, 16)], big, { weights: 1e20 });
    await assert.rejects(m.finalizeImage(2), (e: Error) => e instanceof StitchError && /image 2 \("two"\)/.test(e.message)
      && /overflowed float32/.test(e.message) && /float64/.test(e.message));
    assert.equal(dset.index.imgs.get(2)!.assets, undefined);
    const folder = join(dset.bundleDpath, '_assets', 'p');
    assert.deepEqual(existsSync(folder) ? readdirSync(folder) : [], [], `${opts.probFormat}: nothing left on disk`);
    m.dispose();
  }
  // the same in float64: sums of 1e40 are fine, the stitched value is 1e20 everywhere
  const dset = dataset();
  const m = new CocoStitchingManager(dset, { ...floatTif, dtype: 'float64' });
  m.accumulateImage(2, [slice(0, 16), slice(0, 16)], big, { weights: 1e20 });
  m.accumulateImage(2, [slice(8, 24), slice(8, 24)], big, { weights: Raster.full([16, 16, 1], 1e20, 'float64'), downweightEdges: true });
  const info = await m.finalizeImage(2);
  assert.equal(info.validValues, (16 * 16 * 2 - 8 * 8) * 3);
  const { raster } = await readRaster(join(dset.bundleDpath, dset.index.imgs.get(2)!.assets![0].file_name));
  assert.equal(raster.dtype, 'float64');
  // the data is float32: its 1e20 is Math.fround(1e20)
  for (const [y, x, b] of [[10, 10, 2], [23, 23, 0], [0, 0, 1]]) assert.ok(Math.abs(raster.get(y, x, b) / Math.fround(1e20) - 1) < 1e-12, `(${y}, ${x}, ${b}): ${raster.get(y, x, b)}`);
  assert.ok(Number.isNaN(raster.get(30, 30, 0)));
  m.dispose();
  // quantized in float64: the range is the data's
  const d2 = dataset();
  const q = new CocoStitchingManager(d2, { ...floatTif, dtype: 'float64', quantize: true, probFormat: 'cog' });
  q.accumulateImage(2, [slice(0, 16), slice(0, 16)], big, { weights: 1e20 });
  await q.finalizeImage(2);
  assert.deepEqual(d2.index.imgs.get(2)!.assets![0].quantization, { orig_min: Math.fround(1e20), orig_max: Math.fround(1e20), quant_min: 0, quant_max: 32767, nodata: -9999 });
  q.dispose();
});

test('two managers writing the same short code and channels to one dataset: an error; other codes, other datasets and a disposed first one are fine', () => {
  const dset = dataset();
  const m1 = new CocoStitchingManager(dset, floatTif);
  assert.throws(() => new CocoStitchingManager(dset, floatTif), (e: Error) => e instanceof StitchStateError && /"p"/.test(e.message) && /"a\|b\|c"/.test(e.message) && /dispose/.test(e.message));
  // the same channels spelled otherwise are the same channels
  assert.throws(() => new CocoStitchingManager(dset, { ...floatTif, chanCode: 'a|b|c' }), StitchStateError);
  const otherCode = new CocoStitchingManager(dset, { ...floatTif, shortCode: 'q' });
  const otherChans = new CocoStitchingManager(dset, { ...floatTif, chanCode: 'x|y|z' });
  const otherDataset = new CocoStitchingManager(dataset(), floatTif);
  // no probabilities written: no claim
  const noProbs = new CocoStitchingManager(dset, { ...floatTif, writeProbs: false });
  m1.dispose();
  const again = new CocoStitchingManager(dset, floatTif);
  assert.throws(() => new CocoStitchingManager(dset, floatTif), StitchStateError);
  for (const m of [otherCode, otherChans, otherDataset, noProbs, again]) m.dispose();
  m1.dispose(); // idempotent, and does not release the claim of `again`'s successor
  const last = new CocoStitchingManager(dset, floatTif);
  assert.throws(() => new CocoStitchingManager(dset, floatTif), StitchStateError);
  last.dispose();
});

test('a re-run replaces the asset entry of its short code and channels in place, file_name bundle-relative; other assets stay', async () => {
  const bundle = scratchDir('mgr-rerun-');
  const first = dataset(bundle);
  const m1 = new CocoStitchingManager(first, { ...floatTif, quantize: true, probFormat: 'cog' });
  m1.accumulateImage(3, null, Raster.full([40, 40, 3], 0.25));
  await m1.finalizeImage(3);
  m1.dispose();
  const fpath = join(bundle, 'data.kwcoco.json');
  await first.dump(fpath);
  // a second run on the saved manifest (as predict run on its own output), with other values
  for (const value of [0.75, 0.5]) {
    const dset = await CocoDataset.load(fpath);
    const before = structuredClone(dset.index.imgs.get(3)!.assets!);
    assert.equal(before.length, 2);
    const m = new CocoStitchingManager(dset, { ...floatTif, quantize: true, probFormat: 'cog' });
    m.accumulateImage(3, null, Raster.full([40, 40, 3], value));
    await m.finalizeImage(3);
    m.dispose();
    const assets = dset.index.imgs.get(3)!.assets!;
    assert.equal(assets.length, 2, 'replaced, not added');
    assert.deepEqual(assets[0], before[0], 'the input asset is untouched');
    assert.equal(assets[1].file_name, before[1].file_name);
    assert.ok(!assets[1].file_name.startsWith('/'), `relative: ${assets[1].file_name}`);
    assert.equal(assets[1].channels, 'a|b|c');
    const { raster } = await readRaster(join(bundle, assets[1].file_name));
    // quantized over floor..ceil of the data, 0..1
    assert.equal(raster.get(5, 5, 1), Math.round(value * 32767), 'the new file');
    await dset.dump(fpath);
    const reread = await CocoDataset.load(fpath);
    assert.equal(reread.index.imgs.get(3)!.assets!.length, 2);
  }
  // another short code is another asset
  const dset = await CocoDataset.load(fpath);
  const m = new CocoStitchingManager(dset, { ...floatTif, shortCode: 'other' });
  m.accumulateImage(3, null, Raster.full([40, 40, 3], 0.5));
  await m.finalizeImage(3);
  m.dispose();
  assert.equal(dset.index.imgs.get(3)!.assets!.length, 3);
});

test('a 1e6 x 1e6 asset canvas with two windows: prediction_region traced over the touched blocks only, at the right place', async () => {
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'huge', width: 1e6, height: 1e6 }] }, { bundleDpath: scratchDir('mgr-huge-') });
  const m = new CocoStitchingManager(dset, { chanCode: 'a', writeProbs: false, writePredictionAttrs: true, stitchingSpace: 'image' });
  const rss0 = process.memoryUsage().rss;
  m.accumulateImage(1, [slice(500000, 500010), slice(700000, 700020)], Raster.full([10, 20, 1], 0.5));
  m.accumulateImage(1, [slice(500300, 500305), slice(700001, 700004)], Raster.full([5, 3, 1], 0.5));
  const info = await m.finalizeImage(1);
  assert.equal(info.validValues, 10 * 20 + 5 * 3);
  assert.ok(process.memoryUsage().rss - rss0 < 100 * 2 ** 20);
  const region = dset.index.imgs.get(1)!.prediction_region as { coordinates: number[][][][] };
  const boxes = region.coordinates.map((poly) => {
    const xs = poly[0].map((p) => p[0]), ys = poly[0].map((p) => p[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }).sort((a, b) => a[1] - b[1]);
  assert.deepEqual(boxes, [[700000, 500000, 700020, 500010], [700001, 500300, 700004, 500305]]);
  m.dispose();
});

test('asset sizes no TIFF can hold, or not positive integers, are refused naming the image, before anything is allocated', () => {
  const dset = dataset();
  const m = new CocoStitchingManager(dset, floatTif);
  const data = Raster.full([4, 4, 3], 0.5);
  for (const dsize of [[1e10, 10], [10, 2 ** 32], [1e308, 1e308]] as [number, number][]) {
    assert.throws(() => m.accumulateImage(1, [slice(0, 4), slice(0, 4)], data, { assetDsize: dsize }),
      (e: Error) => /image 1/.test(e.message) && /TIFF/.test(e.message) && e.message.includes(JSON.stringify(dsize)));
  }
  for (const dsize of [[NaN, 10], [10.5, 10], [0, 10], [-5, 10], [Infinity, 10]] as [number, number][]) {
    assert.throws(() => m.accumulateImage(1, [slice(0, 4), slice(0, 4)], data, { assetDsize: dsize }), (e: Error) => /image 1/.test(e.message) && /positive integers/.test(e.message));
  }
  assert.deepEqual(m.managedImageIds(), []);
  m.dispose();
});
