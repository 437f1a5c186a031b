/**
 * CocoStitchingManager: options, accumulate checks (the original's defects),
 * readiness, naming, failure handling. Uses PNG output (our writePng) and injected
 * writers; the COG / imdelay end-to-end tests are in manager-e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { DtypeError, ValueError } from '../../src/array/errors.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { UnknownIdError } from '../../src/coco/errors.ts';
import { WriterOptionError } from '../../src/io/errors.ts';
import { readPng } from '../../src/io/png.ts';
import { CocoStitchingManager } from '../../src/stitch/manager.ts';
import { StitchError, StitchStateError } from '../../src/stitch/errors.ts';
import { assetLocation, sanitizeComponent, suffixCode } from '../../src/stitch/asset-naming.ts';
import { Readiness } from '../../src/stitch/readiness.ts';
import { WriterQueue } from '../../src/stitch/writer-queue.ts';
import { dequantize } from '../../src/stitch/quantize.ts';
import { upweightCenterMask } from '../../src/stitch/weights.ts';
import { scratchDir } from '../helpers/scratch.ts';

const tmp = () => scratchDir('mgr-test-');

/** Two videos of two frames (64x64) and one lone image, in a fresh bundle folder. */
function toyDataset(bundle = tmp()): CocoDataset {
  return CocoDataset.fromJSON({
    videos: [{ id: 1, name: 'v1', width: 64, height: 64 }, { id: 2, name: 'v2', width: 80, height: 80 }],
    images: [
      { id: 1, name: 'v1-f0', width: 64, height: 64, video_id: 1, frame_index: 0 },
      { id: 2, name: 'v1-f1', width: 64, height: 64, video_id: 1, frame_index: 1 },
      { id: 3, name: 'v2-f0', width: 64, height: 64, video_id: 2, frame_index: 0, warp_img_to_vid: { scale: 1.25, type: 'affine' } },
      { id: 4, name: 'v2-f1', width: 64, height: 64, video_id: 2, frame_index: 1, warp_img_to_vid: { scale: 1.25, type: 'affine' } },
      { id: 5, name: '../../escape', width: 32, height: 32 },
    ],
  }, { bundleDpath: bundle });
}

const full = (h: number, w: number, c: number, v: number) => Raster.full([h, w, c], v, 'float32');
const pngOpts = { shortCode: 'p', chanCode: 'a|b', probFormat: 'png' as const, writePredictionAttrs: false };

// ---------------------------------------------------------------- naming

test('suffix: sha512 prefix of the channel code as the original (fixture values), the code itself without "|"', () => {
  assert.equal(suffixCode('pred.0|pred.1'), 'abf59f3f947c6d8a');
  assert.equal(suffixCode('pred.0|pred.1|pred.2'), 'de72d57481331d9e');
  assert.equal(suffixCode('salient'), 'salient');
});

test('names: safe names are unchanged, hostile ones are sanitised and stay inside {bundle}/{assetsDname}', () => {
  assert.equal(sanitizeComponent('generated-1-0'), 'generated-1-0');
  assert.equal(sanitizeComponent('..'), '__');
  assert.equal(sanitizeComponent('a/b\\c d'), 'a_b_c_d');
  assert.equal(sanitizeComponent(''), '_');
  assert.ok(sanitizeComponent('x'.repeat(400)).length <= 160);
  const bundle = '/data/bundle';
  const loc = assetLocation(bundle, { assetsDname: '_assets', shortCode: 'pred', imageName: '../../x', imageId: 3, chanCode: 'a|b', ext: '.tif' });
  assert.equal(loc.fileName, '_assets/pred/___.._x_3c075e5f72e4ec6e.tif');
  assert.equal(loc.fpath, resolve(bundle, loc.fileName));
  const named = assetLocation(bundle, { assetsDname: '_assets', shortCode: 'pred_cog', imageName: 'generated-1-0', imageId: 1, chanCode: 'pred.0|pred.1', ext: '.tif' });
  assert.equal(named.fileName, '_assets/pred_cog/generated-1-0_abf59f3f947c6d8a.tif'); // the original's name (fixture)
  assert.equal(assetLocation(bundle, { assetsDname: '_assets', shortCode: 'p', imageName: null, imageId: 7, chanCode: 'c', ext: '.png' }).fileName, '_assets/p/7_c.png');
});

test('property: no name, shortCode or assetsDname leaves {bundle}/{assetsDname}', () => {
  const bundle = '/data/bundle';
  const hostile = fc.oneof(fc.string(), fc.constantFrom('..', '../..', '/etc', '..\\..', './.', 'a/../../b', '\u0000', '~'));
  fc.assert(fc.property(hostile, hostile, hostile, (name, code, dname) => {
    let loc;
    try {
      loc = assetLocation(bundle, { assetsDname: dname, shortCode: code, imageName: name, imageId: 1, chanCode: 'a|b', ext: '.tif' });
    } catch (e) {
      assert.ok(e instanceof StitchError); // a folder name with no usable segment
      return;
    }
    const root = resolve(bundle, loc.fileName.split('/')[0]);
    const rel = relative(root, loc.fpath);
    assert.ok(!rel.startsWith('..') && !rel.includes('/..') && rel !== '', `${loc.fpath} escapes ${root}`);
    assert.ok(resolve(bundle, loc.fileName) === loc.fpath);
  }), { numRuns: 300 });
});

test('a hostile image name "../../escape" is written inside the bundle', async () => {
  const dset = toyDataset();
  const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image' });
  m.accumulateImage(5, null, full(32, 32, 2, 0.5));
  await m.finalizeImage(5);
  const asset = dset.index.imgs.get(5)!.assets![0];
  assert.equal(asset.file_name, '_assets/p/___.._escape_3c075e5f72e4ec6e.png');
  assert.ok(existsSync(join(dset.bundleDpath, asset.file_name)));
  assert.deepEqual(readdirSync(join(dset.bundleDpath, '_assets', 'p')), [asset.file_name.split('/').pop()]);
});

// ---------------------------------------------------------------- options

test('options: device, stitchingSpace, probCompress RAW, png without quantize, numBands vs chanCode', () => {
  const dset = toyDataset();
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, device: 'cuda' }), (e: Error) => e instanceof ValueError && /cuda/.test(e.message) && /cpu/.test(e.message));
  // one writer of a short code and channels per dataset at a time: each is disposed before the next
  const numpy = new CocoStitchingManager(dset, { ...pngOpts, device: 'numpy' });
  assert.equal(numpy.device, 'cpu');
  numpy.dispose();
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'world' as never }), /stitchingSpace/);
  const raw = new CocoStitchingManager(dset, { ...pngOpts, probCompress: 'RAW' });
  assert.equal(raw.probCompress, 'NONE');
  raw.dispose();
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, probCompress: 'JPEG' as never }), WriterOptionError);
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, quantize: false }), (e: Error) => e instanceof WriterOptionError && /png/.test(e.message));
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, numBands: 3 }), (e: Error) => /3 bands/.test(e.message) && /a\|b/.test(e.message));
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, probBlocksize: 100 }), /multiple of 16/);
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, expectedMinmax: [1, 0] }), /expectedMinmax/);
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, writePreds: true, polygonCategories: ['c'] }), /polygonCategories.*"c"/);
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, chanCode: null }), /chanCode is required/);
  assert.throws(() => new CocoStitchingManager(dset, { ...pngOpts, dtype: 'int16' as never }), DtypeError);
  const m = new CocoStitchingManager(dset, { shortCode: 'x', chanCode: 'c' });
  assert.equal(m.stitchingSpace, 'video'); assert.equal(m.probFormat, 'cog'); assert.equal(m.probBlocksize, 128);
  assert.equal(m.quantize, true); assert.equal(m.thresh, 0.5); assert.equal(m.assetsDname, '_assets'); assert.equal(m.writerQueue.maxInFlight, 2);
});

// ---------------------------------------------------------------- accumulate checks (original defects)

test('defect: a 1-band feature with chanCode "df1|df2" is an error naming both (the original wrote num_bands 1)', () => {
  const m = new CocoStitchingManager(toyDataset(), { shortCode: 'demofeat', chanCode: 'df1|df2' });
  assert.throws(() => m.accumulateImage(1, null, full(64, 64, 1, 0)), (e: Error) => e instanceof StitchError && /1 band/.test(e.message) && /df1\|df2/.test(e.message) && /2 channels/.test(e.message));
});

test('data with a different band count than the first is an error', () => {
  const m = new CocoStitchingManager(toyDataset(), { shortCode: 'p', chanCode: 'a|b' });
  m.accumulateImage(1, null, full(64, 64, 2, 0));
  assert.throws(() => m.accumulateImage(1, null, full(64, 64, 3, 0)), /3 bands, expected numBands 2/);
});

test('unknown gid, wrong dtype, non-Raster data', () => {
  const m = new CocoStitchingManager(toyDataset(), pngOpts);
  assert.throws(() => m.accumulateImage(99, null, full(8, 8, 2, 0)), (e: Error) => e instanceof UnknownIdError && /99/.test(e.message));
  assert.throws(() => m.accumulateImage(1, null, Raster.zeros([64, 64, 2], 'uint8')), (e: Error) => e instanceof DtypeError && /uint8/.test(e.message));
  assert.throws(() => m.accumulateImage(1, null, [[1]] as never), StitchError);
  assert.throws(() => m.expectWindows(42, 3), UnknownIdError);
  return assert.rejects(m.finalizeImage(77), UnknownIdError);
});

test('defect: a slice off by more than 1 pixel is an error printing both shapes; 1 pixel is cropped', () => {
  const m = new CocoStitchingManager(toyDataset(), { ...pngOpts, stitchingSpace: 'image' });
  assert.throws(() => m.accumulateImage(1, [slice(0, 10), slice(0, 10)], full(12, 10, 2, 1)),
    (e: Error) => e instanceof StitchError && /\[10, 10\]/.test(e.message) && /\[12, 10, 2\]/.test(e.message));
  m.accumulateImage(1, [slice(0, 10), slice(0, 10)], full(11, 10, 2, 1)); // data 1 row larger: cropped
  m.accumulateImage(1, [slice(10, 21), slice(0, 10)], full(10, 10, 2, 1)); // slice 1 row larger: shrunk
  assert.equal(m.windowCount(1), 2);
});

test('Inf: an error under the default infPolicy, zero weight in its band under "omit"; NaN always omitted in its band only', async () => {
  const dset = toyDataset();
  const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image', expectedMinmax: [0, 1] });
  const bad = full(8, 8, 2, 0.25);
  bad.set(3, 4, 1, Infinity);
  assert.throws(() => m.accumulateImage(1, [slice(0, 8), slice(0, 8)], bad), (e: Error) => /Infinity/.test(e.message) && /\(3, 4\)/.test(e.message) && /infPolicy/.test(e.message));
  m.dispose();
  const m2 = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image', infPolicy: 'omit', expectedMinmax: [0, 1] });
  const nan = full(8, 8, 2, 0.75);
  nan.set(0, 0, 0, NaN);
  m2.accumulateImage(1, [slice(0, 8), slice(0, 8)], bad);
  m2.accumulateImage(1, [slice(0, 8), slice(0, 8)], nan);
  assert.equal(nan.get(0, 0, 0), NaN, 'the caller\'s data is not modified');
  await m2.finalizeImage(1);
  const a = dset.index.imgs.get(1)!.assets![0];
  const back = dequantize(await readPng(join(dset.bundleDpath, a.file_name)), a.quantization!);
  const step = 1 / 254;
  // each band is weighted on its own: a non-finite value drops that band of that window only
  assert.ok(Math.abs(back.get(3, 4, 1) - 0.75) <= step / 2 + 1e-6, 'Inf value omitted: only the second window counts in band 1');
  assert.ok(Math.abs(back.get(3, 4, 0) - 0.5) <= step / 2 + 1e-6, 'band 0 of the Inf pixel keeps both windows');
  assert.ok(Math.abs(back.get(0, 0, 0) - 0.25) <= step / 2 + 1e-6, 'NaN value omitted: only the first window counts in band 0');
  assert.ok(Math.abs(back.get(0, 0, 1) - 0.5) <= step / 2 + 1e-6, 'band 1 of the NaN pixel keeps both windows');
  assert.ok(Math.abs(back.get(1, 1, 0) - 0.5) <= step / 2 + 1e-6);
  assert.ok(Number.isNaN(back.get(20, 20, 0)), 'uncovered pixels are nodata');
});

// ---------------------------------------------------------------- state errors

test('finalize twice, finalize with no data, accumulate after finalize: clear errors', async () => {
  const m = new CocoStitchingManager(toyDataset(), { ...pngOpts, stitchingSpace: 'image' });
  await assert.rejects(m.finalizeImage(2), (e: Error) => e instanceof StitchStateError && /no data was ever accumulated/.test(e.message));
  m.accumulateImage(1, null, full(64, 64, 2, 0.5));
  await m.finalizeImage(1);
  await assert.rejects(m.finalizeImage(1), (e: Error) => e instanceof StitchStateError && /already finalized/.test(e.message));
  await assert.rejects(m.submitFinalizeImage(1), StitchStateError);
  assert.throws(() => m.accumulateImage(1, null, full(64, 64, 2, 0.5)), /already finalized/);
  m.accumulateImage(3, [slice(100, 110), slice(0, 10)], full(10, 10, 2, 0.5)); // entirely outside the 64x64 canvas
  await assert.rejects(m.finalizeImage(3), (e: Error) => e instanceof StitchStateError && /overlapped/.test(e.message));
  assert.deepEqual([...m.seenImageIds].sort(), [1, 3]);
});

// ---------------------------------------------------------------- readiness

test('readiness, video space: a window of a new video makes the previous video\'s managed images ready', () => {
  const m = new CocoStitchingManager(toyDataset(), pngOpts);
  m.accumulateImage(1, null, full(64, 64, 2, 0));
  m.accumulateImage(2, null, full(64, 64, 2, 0));
  m.accumulateImage(1, null, full(64, 64, 2, 0));
  assert.deepEqual(m.readyImageIds(), []);
  m.accumulateImage(3, null, full(80, 80, 2, 0));
  assert.deepEqual(m.readyImageIds().sort(), [1, 2]);
  assert.deepEqual(m.managedImageIds().sort(), [1, 2, 3]);
  m.accumulateImage(4, null, full(80, 80, 2, 0), { isReady: true }); // forced: previous video (2) -> 3 and 4 ready
  assert.deepEqual(m.readyImageIds().sort(), [1, 2, 3, 4]);
});

test('readiness, image space: a new image makes the previous one ready; isReady false skips it', () => {
  const m = new CocoStitchingManager(toyDataset(), { ...pngOpts, stitchingSpace: 'image' });
  m.accumulateImage(1, null, full(64, 64, 2, 0));
  m.accumulateImage(1, null, full(64, 64, 2, 0));
  assert.deepEqual(m.readyImageIds(), []);
  m.accumulateImage(2, null, full(64, 64, 2, 0), { isReady: false });
  assert.deepEqual(m.readyImageIds(), []);
  m.accumulateImage(3, null, full(64, 64, 2, 0));
  assert.deepEqual(m.readyImageIds(), [2]);
});

test('expectWindows: ready exactly when the n-th window arrives, in any (non-contiguous) order', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom(1, 2, 3), { minLength: 1, maxLength: 30 }), (order) => {
    const counts = new Map<number, number>();
    for (const g of order) counts.set(g, (counts.get(g) ?? 0) + 1);
    const r = new Readiness('video', () => [1, 2, 3]);
    for (const [g, n] of counts) r.expect(g, n);
    const seen = new Map<number, number>();
    for (const g of order) {
      r.note(g, 1, 'auto', new Set([1, 2, 3]));
      seen.set(g, (seen.get(g) ?? 0) + 1);
      for (const h of [1, 2, 3]) assert.equal(r.isReady(h), counts.has(h) && seen.get(h) === counts.get(h), `gid ${h} after ${order}`);
    }
  }));
  const m = new CocoStitchingManager(toyDataset(), { ...pngOpts, stitchingSpace: 'image' });
  m.expectWindows(1, 2);
  m.accumulateImage(1, [slice(0, 32), slice(0, 64)], full(32, 64, 2, 0));
  m.accumulateImage(2, null, full(64, 64, 2, 0)); // the heuristic would mark 1 ready here
  assert.deepEqual(m.readyImageIds(), []);
  m.accumulateImage(1, [slice(32, 64), slice(0, 64)], full(32, 64, 2, 0)); // 2 (no expectation) ready by the heuristic, 1 by its count
  assert.deepEqual(m.readyImageIds(), [2, 1]);
});

// ---------------------------------------------------------------- writer queue through the manager

function fakeWriters(log: string[], failOn?: string, delayMs = 5) {
  let running = 0;
  return {
    peak: () => log.filter((l) => l.startsWith('peak')).length,
    io: {
      writePng: async (path: string, _r: Raster) => {
        running++;
        log.push(`start ${path}`);
        if (running > 2) log.push('peak exceeded');
        await new Promise((r) => setTimeout(r, delayMs));
        // atomic, as the writers the manager is given must be: a temporary file, removed on failure
        await writeFile(`${path}.tmp`, 'partial');
        running--;
        if (failOn && path.includes(failOn)) {
          await rm(`${path}.tmp`);
          throw new Error(`injected failure writing ${path}`);
        }
        await rename(`${path}.tmp`, path);
        log.push(`end ${path}`);
      },
    },
  };
}

test('failed write: flushImages rejects, nothing registered for that image, no file left; the others are written', async () => {
  const dset = toyDataset();
  const log: string[] = [];
  const { io } = fakeWriters(log, 'v1-f1');
  const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image', io: io as never });
  for (const gid of [1, 2, 3, 4]) m.accumulateImage(gid, null, full(64, 64, 2, 0.5));
  for (const gid of [1, 2, 3, 4]) await m.submitFinalizeImage(gid);
  await assert.rejects(m.flushImages(), /injected failure writing .*v1-f1/);
  assert.equal(dset.index.imgs.get(2)!.assets, undefined, 'no asset registered for the failed image');
  assert.equal(dset.index.imgs.get(2)!.has_predictions, undefined);
  for (const gid of [1, 3, 4]) assert.equal(dset.index.imgs.get(gid)!.assets!.length, 1, `image ${gid} registered`);
  const files = readdirSync(join(dset.bundleDpath, '_assets', 'p'));
  assert.deepEqual(files.sort(), ['v1-f0_3c075e5f72e4ec6e.png', 'v2-f0_3c075e5f72e4ec6e.png', 'v2-f1_3c075e5f72e4ec6e.png']);
  assert.ok(!log.includes('peak exceeded'));
  await m.flushImages(); // reported once
  await assert.rejects(m.finalizeImage(2), /failed/);
});

test('unwritable folder: the write fails, flush rejects naming the path, nothing registered', async () => {
  const bundle = tmp();
  writeFileSync(join(bundle, '_assets'), 'a file where the folder should be');
  const dset = toyDataset(bundle);
  const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image' });
  m.accumulateImage(1, null, full(64, 64, 2, 0.5));
  await m.submitFinalizeImage(1);
  await assert.rejects(m.flushImages(), /_assets/);
  assert.equal(dset.index.imgs.get(1)!.assets, undefined);
});

test('backpressure through the manager: never more than maxInFlight writes; registration in submission order', async () => {
  const dset = toyDataset();
  const queue = new WriterQueue({ maxInFlight: 2 });
  const log: string[] = [];
  const { io } = fakeWriters(log, undefined, 10);
  const a = new CocoStitchingManager(dset, { ...pngOpts, shortCode: 'a', stitchingSpace: 'image', writerQueue: queue, io: io as never });
  const b = new CocoStitchingManager(dset, { ...pngOpts, shortCode: 'b', chanCode: 'c', stitchingSpace: 'image', writerQueue: queue, io: io as never });
  for (const gid of [1, 2, 3, 4]) { a.accumulateImage(gid, null, full(64, 64, 2, 0.5)); b.accumulateImage(gid, null, full(64, 64, 1, 0.5)); }
  const subs = [];
  for (const gid of [1, 2, 3, 4]) { subs.push(a.submitFinalizeImage(gid)); subs.push(b.submitFinalizeImage(gid)); }
  await Promise.all([a.flushImages(), b.flushImages()]);
  await Promise.all(subs);
  assert.ok(!log.includes('peak exceeded'));
  assert.equal(queue.peakInFlight, 2);
  for (const gid of [1, 2, 3, 4]) assert.deepEqual(dset.index.imgs.get(gid)!.assets!.map((x) => x.channels), ['a|b', 'c']);
});

test('dispose releases stitchers; memmap files are removed', async () => {
  const dir = tmp();
  const m = new CocoStitchingManager(toyDataset(), { ...pngOpts, memmap: dir, stitchingSpace: 'image' });
  m.accumulateImage(1, null, full(64, 64, 2, 0.5));
  assert.equal(readdirSync(dir).length, 1);
  m.dispose();
  assert.equal(readdirSync(dir).length, 0);
  assert.throws(() => m.accumulateImage(1, null, full(64, 64, 2, 0.5)), /disposed/);
});

// ---------------------------------------------------------------- stitched values vs a naive dense reference

/** Dense float64 reference, each band weighted on its own (a NaN value -> weight 0 in its band only). */
function denseReference(H: number, W: number, C: number, windows: { y: number; x: number; data: Raster; weight: Raster | number }[]) {
  const sums = new Float64Array(H * W * C), wts = new Float64Array(H * W * C);
  for (const { y, x, data, weight } of windows) {
    for (let r = 0; r < data.height; r++) for (let c = 0; c < data.width; c++) {
      const yy = y + r, xx = x + c;
      if (yy < 0 || xx < 0 || yy >= H || xx >= W) continue;
      const w = typeof weight === 'number' ? weight : weight.get(r, c, 0);
      for (let b = 0; b < C; b++) {
        const v = data.get(r, c, b);
        if (Number.isNaN(v) || w === 0) continue;
        sums[(yy * W + xx) * C + b] += w * v;
        wts[(yy * W + xx) * C + b] += w;
      }
    }
  }
  return { get: (y: number, x: number, b: number) => (wts[(y * W + x) * C + b] > 0 ? sums[(y * W + x) * C + b] / wts[(y * W + x) * C + b] : NaN) };
}

test('property: stitched PNG equals a dense reference within half a quantization step (random windows, weights, NaN, edges)', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({
      y: fc.integer({ min: -10, max: 60 }), x: fc.integer({ min: -10, max: 60 }),
      h: fc.integer({ min: 3, max: 30 }), w: fc.integer({ min: 3, max: 30 }),
      seed: fc.integer({ min: 0, max: 1000 }), weighted: fc.boolean(), nan: fc.boolean(), edges: fc.boolean(),
    }), { minLength: 1, maxLength: 8 }),
    async (wins) => {
      const dset = toyDataset();
      const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image', expectedMinmax: [0, 1], probBlocksize: 16 });
      const ref: { y: number; x: number; data: Raster; weight: Raster | number }[] = [];
      for (const wd of wins) {
        const data = Raster.zeros([wd.h, wd.w, 2]);
        for (let i = 0; i < data.data.length; i++) data.data[i] = ((i * 7919 + wd.seed * 31) % 1000) / 1000;
        if (wd.nan) data.set(Math.floor(wd.h / 2), Math.floor(wd.w / 2), 1, NaN);
        let weights: Raster | null = null;
        if (wd.weighted) {
          weights = Raster.zeros([wd.h, wd.w, 1]);
          for (let i = 0; i < weights.data.length; i++) weights.data[i] = 0.1 + ((i * 13 + wd.seed) % 10) / 10;
        }
        m.accumulateImage(1, [slice(wd.y, wd.y + wd.h), slice(wd.x, wd.x + wd.w)], data, { weights, downweightEdges: wd.edges });
        let wref: Raster | number = weights ?? 1;
        if (wd.edges) {
          const cm = upweightCenterMask([wd.h, wd.w]);
          const out = Raster.zeros([wd.h, wd.w, 1]);
          for (let i = 0; i < out.data.length; i++) out.data[i] = (weights ? weights.data[i] : 1) * cm.data[i];
          wref = out;
        }
        ref.push({ y: wd.y, x: wd.x, data, weight: wref });
      }
      const inside = wins.some((w) => w.y + w.h > 0 && w.x + w.w > 0 && w.y < 64 && w.x < 64);
      if (!inside) { await assert.rejects(m.finalizeImage(1), StitchStateError); return; }
      await m.finalizeImage(1);
      const a = dset.index.imgs.get(1)!.assets![0];
      const back = dequantize(await readPng(join(dset.bundleDpath, a.file_name)), a.quantization!);
      const dense = denseReference(64, 64, 2, ref);
      const tol = 0.5 / 254 + 1e-5;
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let b = 0; b < 2; b++) {
        const e = dense.get(y, x, b), g = back.get(y, x, b);
        if (Number.isNaN(e)) assert.ok(Number.isNaN(g), `(${y},${x},${b}) expected nodata, got ${g}`);
        else assert.ok(Math.abs(e - g) <= tol, `(${y},${x},${b}) ${g} vs ${e}`);
      }
    }), { numRuns: 25 });
});

test('writeProbs false: nothing written, no asset; totalProb 0', async () => {
  const dset = toyDataset();
  const m = new CocoStitchingManager(dset, { chanCode: 'a|b', writeProbs: false, writePredictionAttrs: false, stitchingSpace: 'image' });
  m.accumulateImage(1, null, full(64, 64, 2, 0.5));
  assert.deepEqual(await m.finalizeImage(1), { nAnns: 0, totalProb: 0, validValues: 64 * 64 * 2, allNodata: false });
  assert.equal(dset.index.imgs.get(1)!.assets, undefined);
  assert.equal(existsSync(join(dset.bundleDpath, '_assets')), false);
  void mkdirSync;
});

test('defect: dtype and memmap are honoured in both stitching spaces (the original ignored them in image space)', async () => {
  const { readRaster } = await import('../../src/io/read-raster.ts');
  for (const space of ['video', 'image'] as const) {
    const dir = tmp();
    const dset = toyDataset();
    const m = new CocoStitchingManager(dset, { shortCode: 'd', chanCode: 'a|b', stitchingSpace: space, dtype: 'float64', memmap: dir, quantize: false, writePredictionAttrs: false });
    const data = Raster.zeros([64, 64, 2], 'float64');
    for (let i = 0; i < data.data.length; i++) data.data[i] = 1 + i * 1e-9; // needs float64 to survive
    m.accumulateImage(1, null, data);
    assert.equal(readdirSync(dir).length, 1, `${space}: the memmap folder holds the stitcher's blocks`);
    await m.finalizeImage(1);
    assert.equal(readdirSync(dir).length, 0, `${space}: removed after finalize`);
    const a = dset.index.imgs.get(1)!.assets![0];
    const { raster } = await readRaster(join(dset.bundleDpath, a.file_name));
    assert.equal(raster.dtype, 'float64', space);
    assert.equal(raster.get(63, 63, 1), data.get(63, 63, 1));
  }
});

test('weights: a raster off by more than 1 pixel is an error; weights multiply with downweightEdges', async () => {
  const dset = toyDataset();
  const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image', expectedMinmax: [0, 1] });
  assert.throws(() => m.accumulateImage(1, [slice(0, 8), slice(0, 8)], full(8, 8, 2, 0.5), { weights: Raster.full([10, 8, 1], 1, 'float32') }), /weights of shape \[10, 8, 1\].*\[8, 8, 2\]/);
  assert.throws(() => m.accumulateImage(1, [slice(0, 8), slice(0, 8)], full(8, 8, 2, 0.5), { weights: -1 }), /weight must be/);
  // a 9x8 weight raster for 8x8 data is cropped (1-pixel tolerance); weight 0 rows leave pixels uncovered
  const w = Raster.full([9, 8, 1], 1, 'float32');
  for (let x = 0; x < 8; x++) w.set(0, x, 0, 0);
  m.accumulateImage(1, [slice(0, 8), slice(0, 8)], full(8, 8, 2, 0.5), { weights: w, downweightEdges: true });
  await m.finalizeImage(1);
  const a = dset.index.imgs.get(1)!.assets![0];
  const back = dequantize(await readPng(join(dset.bundleDpath, a.file_name)), a.quantization!);
  assert.ok(Number.isNaN(back.get(0, 3, 0)), 'row 0 had weight 0');
  assert.ok(Math.abs(back.get(4, 4, 0) - 0.5) < 0.003);
});

test('two image names that sanitise alike do not overwrite each other', async () => {
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'a/b', width: 8, height: 8 }, { id: 2, name: 'a_b', width: 8, height: 8 }] }, { bundleDpath: tmp() });
  const m = new CocoStitchingManager(dset, { ...pngOpts, stitchingSpace: 'image' });
  for (const gid of [1, 2]) m.accumulateImage(gid, null, full(8, 8, 2, gid / 4));
  await m.finalizeImage(1);
  await m.finalizeImage(2);
  const [f1, f2] = [1, 2].map((g) => dset.index.imgs.get(g)!.assets![0].file_name);
  assert.equal(f1, '_assets/p/a_b_3c075e5f72e4ec6e.png');
  assert.equal(f2, '_assets/p/a_b_gid2_3c075e5f72e4ec6e.png');
  assert.equal(readdirSync(join(dset.bundleDpath, '_assets', 'p')).length, 2);
});

test("probFormat 'tif' without quantize writes float32 with NaN where nothing was stitched; probCompress RAW", async () => {
  const { readRaster } = await import('../../src/io/read-raster.ts');
  const dset = toyDataset();
  const m = new CocoStitchingManager(dset, { shortCode: 't', chanCode: 'a|b', stitchingSpace: 'image', probFormat: 'tif', quantize: false, probCompress: 'RAW' });
  m.accumulateImage(1, [slice(0, 16), slice(0, 16)], full(16, 16, 2, 0.125));
  assert.deepEqual(await m.finalizeImage(1), { nAnns: 0, totalProb: 0.125 * 16 * 16 * 2, validValues: 16 * 16 * 2, allNodata: false });
  const a = dset.index.imgs.get(1)!.assets![0];
  assert.match(a.file_name, /\.tif$/);
  assert.equal(a.quantization, undefined);
  const { raster } = await readRaster(join(dset.bundleDpath, a.file_name));
  assert.equal(raster.dtype, 'float32');
  assert.equal(raster.get(3, 3, 1), 0.125);
  assert.ok(Number.isNaN(raster.get(40, 40, 0)));
});
