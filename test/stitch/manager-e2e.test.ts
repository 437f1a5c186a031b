/**
 * CocoStitchingManager end to end: the seed's two examples, smooth-function
 * reconstruction through video/image space at several scales, GDAL as oracle for
 * our COGs, the manifest schema, and the original's bundle-stitched fixture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Affine } from '../../src/array/affine.ts';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { SlidingWindow } from '../../src/array/sliding-window.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { KWCOCO_FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';
import { validateManifest } from '../../src/coco/schema.ts';
import { readRaster } from '../../src/io/read-raster.ts';
import { CocoStitchingManager } from '../../src/stitch/manager.ts';
import { dequantize } from '../../src/stitch/quantize.ts';
import { gdalinfo, gdalRead, validateCog } from '../helpers/gdal.ts';
import { scratchDir } from '../helpers/scratch.ts';

const tmp = () => scratchDir('mgr-e2e-');

/** Mean over bands, then 2x2 box average (the seed's `imresize(hidden, scale=0.5)` of an even-sized image). */
function halfMean(r: Raster): Raster {
  const H = r.height >> 1, W = r.width >> 1, C = r.bands;
  const out = Raster.zeros([H, W, 2]);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let s = 0;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) for (let c = 0; c < C; c++) s += r.get(2 * y + dy, 2 * x + dx, c);
    const v = s / (4 * C);
    out.set(y, x, 0, v);
    out.set(y, x, 1, 100 - v / 2);
  }
  return out;
}

function checkWithinHalfStep(back: Raster, expected: Raster, q: { orig_min: number; orig_max: number; quant_min: number; quant_max: number }, bands = [0, 1]) {
  const half = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min) / 2;
  let worst = 0;
  for (let y = 0; y < expected.height; y++) for (let x = 0; x < expected.width; x++) for (const b of bands) {
    const d = Math.abs(back.get(y, x, bands.indexOf(b) >= 0 && back.bands === 1 ? 0 : b) - expected.get(y, x, b));
    // half a step, plus float32 rounding of the dequantization (a few ulps of the value)
    if (!(d <= half + 1e-6 * Math.abs(expected.get(y, x, b)) + 1e-6)) assert.fail(`(${y}, ${x}, ${b}): ${back.get(y, x, back.bands === 1 ? 0 : b)} vs ${expected.get(y, x, b)} (half step ${half})`);
    worst = Math.max(worst, d);
  }
  return worst;
}

test('seed example 1: video space, PNG, 2-band feature at half resolution', async () => {
  const dset = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 2, imageSize: 128, geodata: true, dpath: tmp() });
  const result = dset.copy();
  const m = new CocoStitchingManager(result, { shortCode: 'demofeat', chanCode: 'df1|df2', probFormat: 'png', stitchingSpace: 'video' });
  const gid = result.imageIds()[0];
  const img = result.cocoImage(gid);
  const keyBefore = img.assetsKey;
  const nBefore = img.assets.length;
  const hidden = await img.imdelay({ space: 'video' }).finalize();
  const feature = halfMean(hidden);
  m.accumulateImage(gid, null, feature, { assetDsize: [feature.width, feature.height], scaleAssetFromStitchspace: 0.5 });
  const info = await m.finalizeImage(gid);
  let sum = 0;
  for (const v of feature.data) sum += v;
  assert.ok(Math.abs(info.totalProb - sum) <= 1e-6 * sum, `totalProb ${info.totalProb} vs ${sum}`);
  assert.equal(info.nAnns, 0);

  assert.equal(img.assetsKey, keyBefore ?? 'assets');
  assert.equal(img.assets.length, nBefore + 1);
  const asset = img.assets.at(-1)!;
  assert.deepEqual(Object.keys(asset), ['file_name', 'channels', 'height', 'width', 'num_bands', 'warp_aux_to_img', 'quantization']);
  assert.match(asset.file_name, /^_assets\/demofeat\/.+_0d893a9f17ae55d3\.png$/);
  assert.equal(asset.channels, 'df1|df2');
  assert.equal(asset.num_bands, 2);
  assert.equal(asset.width, 64); assert.equal(asset.height, 64);
  const vidFromImg = Affine.coerce((img.img.warp_img_to_vid ?? null) as never);
  assert.deepEqual(asset.warp_aux_to_img, vidFromImg.inv().matmul(Affine.scale(2)).concise());
  const q = asset.quantization!;
  assert.equal(q.quant_min, 1); assert.equal(q.quant_max, 255); assert.equal(q.nodata, 0);
  assert.equal(q.orig_min, Math.floor(Math.min(...feature.data))); assert.equal(q.orig_max, Math.ceil(Math.max(...feature.data)));
  assert.deepEqual(img.img.has_predictions, { 'df1|df2': true });

  assert.ok(img.channels.spec.includes('df1'));
  const im1 = img.imdelay({ channels: 'df1', space: 'video' });
  const im2 = img.imdelay({ channels: 'df1', space: 'asset' });
  assert.equal(im1.shape[0], hidden.height);
  assert.equal(im2.shape[0], feature.height);
  const back = await img.imdelay({ channels: 'df1|df2', space: 'asset' }).finalize();
  checkWithinHalfStep(back, feature, q);
});

test('seed example 2: image space, COG, georeferenced: fields, 600 vs 300, GDAL valid, CRS and geotransform, half-step values', async () => {
  const dset = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 1, imageSize: 600, geodata: true, dpath: tmp() });
  const result = dset.copy();
  const m = new CocoStitchingManager(result, { shortCode: 'demofeat', chanCode: 'df1|df2', stitchingSpace: 'image' });
  const gid = result.imageIds()[0];
  const img = result.cocoImage(gid);
  const hidden = await img.imdelay({ space: 'image' }).finalize();
  const feature = halfMean(hidden);
  m.accumulateImage(gid, null, feature, { assetDsize: [feature.width, feature.height], scaleAssetFromStitchspace: 0.5 });
  await m.finalizeImage(gid);
  const asset = img.assets.at(-1)!;
  assert.equal(asset.file_name, `_assets/demofeat/${img.name}_0d893a9f17ae55d3.tif`);
  assert.equal(asset.height, 300); assert.equal(asset.width, 300); assert.equal(asset.num_bands, 2);
  assert.deepEqual(asset.warp_aux_to_img, { scale: 2, type: 'affine' });
  const q = asset.quantization!;
  assert.deepEqual([q.quant_min, q.quant_max, q.nodata], [0, 32767, -9999]);

  const im1 = img.imdelay({ channels: 'df1', space: 'image' });
  const im2 = img.imdelay({ channels: 'df1', space: 'asset' });
  assert.equal(im1.shape[0], 600);
  assert.equal(im2.shape[0], 300);
  const back = await img.imdelay({ channels: 'df1|df2', space: 'asset' }).finalize();
  checkWithinHalfStep(back, feature, q);

  // prediction_region: the fully covered 300x300 asset at scale 2 is the image square 0..600
  const region = img.img.prediction_region;
  assert.equal(region.type, 'MultiPolygon');
  assert.equal(region.coordinates.length, 1);
  const xs = region.coordinates[0][0].map((p: number[]) => p[0]), ys = region.coordinates[0][0].map((p: number[]) => p[1]);
  assert.deepEqual([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)], [0, 600, 0, 600]);

  // GDAL: a valid COG, int16, DEFLATE, 128 tiles, EPSG:32618, geotransform wld_from_img @ img_from_asset, 2 overviews
  const fpath = join(result.bundleDpath, asset.file_name);
  const v = validateCog(fpath);
  assert.ok(v.valid, v.errors.join('; '));
  const info = gdalinfo(fpath);
  assert.equal(info.bands.length, 2);
  assert.equal(info.bands[0].type, 'Int16');
  assert.deepEqual(info.bands[0].block, [128, 128]);
  assert.equal(info.bands[0].overviews.length, 2);
  assert.equal(info.metadata['IMAGE_STRUCTURE'].COMPRESSION, 'DEFLATE');
  assert.equal(info.metadata['IMAGE_STRUCTURE'].INTERLEAVE, 'PIXEL');
  assert.equal(info.metadata[''].quantization, `{'orig_min': ${q.orig_min}, 'orig_max': ${q.orig_max}, 'quant_min': 0, 'quant_max': 32767, 'nodata': -9999}`);
  assert.match(JSON.stringify(info.coordinateSystem), /32618/);
  const wldFromAsset = Affine.coerce(img.img.wld_to_pxl as never).inv().matmul(Affine.scale(2));
  const gt = wldFromAsset.toGdal();
  info.geoTransform.forEach((g: number, i: number) => assert.ok(Math.abs(g - gt[i]) <= 1e-6 * (1 + Math.abs(gt[i])), `geotransform ${info.geoTransform} vs ${gt}`));
  // GDAL decodes the same integers we quantized
  const g = gdalRead(fpath);
  const deq = dequantize(new Raster(Int16Array.from(g.data), g.shape), q);
  checkWithinHalfStep(deq, feature, q);

  // the output manifest validates
  const out = join(result.bundleDpath, 'stitched.kwcoco.json');
  await result.dump(out);
  const res = validateManifest(result.dataset);
  assert.ok(res.valid, JSON.stringify(res.errors).slice(0, 500));
});

/** f at asset pixel centres, in stitching-space coordinates. */
const smooth = (sx: number, sy: number) => 0.5 + 0.4 * Math.sin(sx / 9) * Math.cos(sy / 6);

for (const space of ['video', 'image'] as const) {
  for (const s of [1, 0.5, 0.25]) {
    for (const edges of [false, true]) {
      test(`smooth function through ${space} space at scale ${s}${edges ? ' with edge weights' : ''}: reproduced where covered, NaN elsewhere`, async () => {
        const bundle = tmp();
        const dset = CocoDataset.fromJSON({
          videos: [{ id: 1, name: 'v', width: 200, height: 160 }],
          images: [{ id: 1, name: 'f0', width: 100, height: 80, video_id: 1, frame_index: 0, warp_img_to_vid: { scale: 2, offset: [0, 0], type: 'affine' } }],
        }, { bundleDpath: bundle });
        const m = new CocoStitchingManager(dset, { shortCode: 'sm', chanCode: 'f', stitchingSpace: space, quantize: false, probBlocksize: 16 });
        const [SW, SH] = space === 'video' ? [200, 160] : [100, 80];
        const AW = Math.round(SW * s), AH = Math.round(SH * s);
        // cover the left 3/4 of the asset only
        const covered = Math.floor(AW * 0.75);
        const win = Math.max(4, Math.round(32 * s));
        const sw = new SlidingWindow([AH, covered], [win, win], { overlap: 0.3, keepbound: true, allowOvershoot: true });
        for (const [rs, cs] of sw) {
          const h = rs.stop! - rs.start!, w = cs.stop! - cs.start!;
          const data = Raster.zeros([h, w, 1]);
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            data.set(y, x, 0, smooth((cs.start! + x + 0.5) / s, (rs.start! + y + 0.5) / s));
          }
          m.accumulateImage(1, [rs, cs], data, { assetDsize: [AW, AH], scaleAssetFromStitchspace: s, downweightEdges: edges });
        }
        await m.finalizeImage(1);
        const asset = dset.cocoImage(1).assets.at(-1)!;
        assert.equal(asset.quantization, undefined);
        const imgFromStitch = space === 'video' ? Affine.scale(0.5) : Affine.eye();
        assert.deepEqual(asset.warp_aux_to_img, imgFromStitch.matmul(Affine.scale(1 / s)).concise());
        const { raster } = await readRaster(join(bundle, asset.file_name));
        assert.deepEqual(raster.shape, [AH, AW, 1]);
        for (let y = 0; y < AH; y++) for (let x = 0; x < AW; x++) {
          const v = raster.get(y, x, 0);
          if (x < covered) assert.ok(Math.abs(v - smooth((x + 0.5) / s, (y + 0.5) / s)) < 1e-5, `(${y},${x}) ${v}`);
          else assert.ok(Number.isNaN(v), `(${y},${x}) uncovered but ${v}`);
        }
        const v = validateCog(join(bundle, asset.file_name));
        assert.ok(v.valid, v.errors.join('; '));
      });
    }
  }
}

test('bundle-stitched fixture: the same stitching with our manager reproduces the original rasters', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const fixture = join(KWCOCO_FIXTURES, 'bundle-stitched');
  const orig = await CocoDataset.load(join(fixture, 'data.kwcoco.json'));
  // the inputs: the fixture's manifest without the stitched assets
  const json = structuredClone(orig.dataset);
  for (const img of json.images!) {
    img.auxiliary = img.auxiliary!.filter((a) => !a.file_name.includes('pred_cog'));
    delete img.has_predictions; delete img.prediction_region;
  }
  const out = tmp();
  // read the inputs from the fixture (absolute paths), write into a scratch bundle
  const dset = CocoDataset.fromJSON(json, { bundleDpath: fixture });
  dset.reroot({ absolute: true });
  dset.bundleDpath = out;
  const m = new CocoStitchingManager(dset, { shortCode: 'pred_cog', chanCode: 'pred.0|pred.1', stitchingSpace: 'video', probFormat: 'cog' });
  const inputBand0 = new Map<number, Float64Array>();
  for (const vid of [1, 2]) {
    for (const gid of dset.index.vidToGids.get(vid)!) {
      const img = dset.index.imgs.get(gid)!;
      const video = dset.index.videos.get(vid)!;
      const s = vid === 1 ? 0.5 : 1.0;
      const aw = Math.round(video.width * s), ah = Math.round(video.height * s);
      const rgb = await dset.cocoImage(gid).imdelay({ channels: 'r|g|b', space: 'video' }).finalize();
      // band0: mean of r|g|b / 255 resized (linear) to the asset grid: a 2x2 mean at 0.5, the identity at 1
      const k = Math.round(1 / s);
      const band0 = new Float64Array(ah * aw);
      for (let y = 0; y < ah; y++) for (let x = 0; x < aw; x++) {
        let acc = 0;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) for (let c = 0; c < 3; c++) acc += rgb.get(y * k + dy, x * k + dx, c);
        band0[y * aw + x] = Math.fround(Math.fround(acc / (3 * k * k)) / 255);
      }
      inputBand0.set(gid, band0);
      const win = vid === 1 ? 16 : 32;
      const sw = new SlidingWindow([ah, aw], [win, win], { overlap: 0.5, keepbound: true, allowOvershoot: true });
      let widx = 0;
      for (const [rs, cs] of sw) {
        const h = rs.stop! - rs.start!, w = cs.stop! - cs.start!;
        const data = Raster.zeros([h, w, 2]);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
          const ay = rs.start! + y, ax = cs.start! + x;
          const vx = (ax + 0.5) / s, vy = (ay + 0.5) / s;
          data.set(y, x, 0, band0[ay * aw + ax]);
          const inHole = ay >= Math.floor(ah / 4) && ay < Math.floor(ah / 4) + 3 && ax >= Math.floor(aw / 2) && ax < Math.floor(aw / 2) + 4;
          data.set(y, x, 1, inHole ? NaN : 0.5 + 0.45 * Math.sin(vx / 7 + img.frame_index!) * Math.cos(vy / 5) + 0.02 * widx);
        }
        m.accumulateImage(gid, [rs, cs], data, { assetDsize: [aw, ah], scaleAssetFromStitchspace: s, downweightEdges: vid === 1 });
        widx++;
      }
      await m.submitFinalizeImage(gid);
    }
  }
  await m.flushImages();
  const worsts: number[][] = [];
  for (const gid of dset.imageIds()) {
    const ours = dset.cocoImage(gid).assets.at(-1)!;
    const theirs = orig.cocoImage(gid).assets.at(-1)!;
    assert.equal(ours.file_name.replace(/^\.\//, ''), theirs.file_name.replace(/^\.\//, ''));
    for (const key of ['channels', 'height', 'width', 'num_bands', 'quantization', 'warp_aux_to_img']) {
      assert.deepEqual(ours[key], theirs[key], `image ${gid} ${key}`);
    }
    assert.ok(existsSync(join(out, ours.file_name)));
    const a = (await readRaster(join(out, ours.file_name))).raster;
    const b = (await readRaster(join(fixture, theirs.file_name))).raster;
    assert.deepEqual(a.shape, b.shape);
    // the original truncates, we round: quantized values differ by at most 1 (plus float rounding of the inputs)
    // In the hole (NaN in band 1) the original also blanks band 0; here each band is weighted on its own,
    // so band 0 there is the stitched band-0 input (the same in every window), quantized.
    const worst = [0, 0];
    const { width: aw, height: ah } = a;
    const q = ours.quantization as { orig_min: number; orig_max: number; quant_max: number };
    for (let i = 0; i < a.data.length; i++) {
      const x = a.data[i], y = b.data[i];
      const p = Math.floor(i / 2), ay = Math.floor(p / aw), ax = p % aw;
      const inHole = ay >= Math.floor(ah / 4) && ay < Math.floor(ah / 4) + 3 && ax >= Math.floor(aw / 2) && ax < Math.floor(aw / 2) + 4;
      if (inHole && i % 2 === 0) {
        assert.equal(y, -9999, `image ${gid}: the original blanks band 0 in the hole at ${i}`);
        const v = inputBand0.get(gid)![p];
        assert.ok(Math.abs(x - ((v - q.orig_min) / (q.orig_max - q.orig_min)) * q.quant_max) <= 1, `image ${gid} band 0 in the hole at ${i}: ${x} vs input ${v}`);
        continue;
      }
      if (x === -9999 || y === -9999) { assert.equal(x, y, `image ${gid} nodata mismatch at ${i}`); continue; }
      worst[i % 2] = Math.max(worst[i % 2], Math.abs(x - y));
    }
    worsts.push(worst);
  }
  // every band of every image within 1 quantum: the original truncates, we round. (Band 1 of video 1 mixes
  // windows by their upweightCenterMask weights, as its 0.02*widx term differs per window, so this also checks
  // the weights against the original's: OpenCV's even-size Gaussian kernel and its transposed dilation rectangle.)
  assert.ok(worsts.every((w) => w[0] <= 1 && w[1] <= 1), `worst differences per image and band: ${JSON.stringify(worsts)}`);
});

/** Even-odd point-in-polygon over every ring of a kwcoco segmentation. */
function insideSegmentation(seg: { exterior: number[][]; interiors: number[][][] }[], x: number, y: number): boolean {
  let inside = false;
  for (const poly of seg) {
    for (const ring of [poly.exterior, ...poly.interiors]) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i], [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
  }
  return inside;
}

test('writePreds: one annotation per region above thresh, in image space; they rasterise back to the thresholded mask', async () => {
  const bundle = tmp();
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'p', width: 80, height: 64 }] }, { bundleDpath: bundle });
  const m = new CocoStitchingManager(dset, { shortCode: 'pr', chanCode: 'fg|bg', stitchingSpace: 'image', writePreds: true, thresh: 0.5, polygonCategories: ['fg'], expectedMinmax: [0, 1] });
  // asset 40x32 at scale 0.5: a ring-shaped blob (with a hole) and a small square
  const probs = Raster.zeros([32, 40, 2]);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 40; x++) {
    const r = Math.hypot(y - 12, x - 12);
    const ring = r >= 3 && r <= 8 ? 0.9 : 0.1;
    const sq = y >= 22 && y < 28 && x >= 28 && x < 36 ? 0.7 : 0;
    probs.set(y, x, 0, Math.max(ring, sq));
    probs.set(y, x, 1, 1 - Math.max(ring, sq));
  }
  m.accumulateImage(1, null, probs, { assetDsize: [40, 32], scaleAssetFromStitchspace: 0.5 });
  const info = await m.finalizeImage(1);
  const anns = [...dset.index.anns.values()];
  assert.equal(info.nAnns, 2);
  assert.equal(anns.length, 2);
  const cid = dset.ensureCategory('fg');
  for (const a of anns) {
    assert.equal(a.category_id, cid);
    assert.equal(a.image_id, 1);
  }
  const scores = anns.map((a) => a.score).sort();
  assert.ok(Math.abs(scores[0] - 0.7) < 1e-6 && Math.abs(scores[1] - 0.9) < 1e-6, `scores ${scores}`);
  const sq = anns.find((a) => Math.abs(a.score - 0.7) < 1e-6)!;
  assert.deepEqual(sq.bbox, [56, 44, 16, 12]); // asset cols 28..36, rows 22..28, times 2
  for (let y = 0; y < 64; y++) for (let x = 0; x < 80; x++) {
    const expected = probs.get(y >> 1, x >> 1, 0) > 0.5;
    const got = anns.some((a) => insideSegmentation(a.segmentation, x + 0.5, y + 0.5));
    assert.equal(got, expected, `image pixel (${y}, ${x})`);
  }
  // the ring keeps its hole
  const ringAnn = anns.find((a) => Math.abs(a.score - 0.9) < 1e-6)!;
  assert.equal(ringAnn.segmentation[0].interiors.length, 1);
  const res = validateManifest(dset.dataset);
  assert.ok(res.valid, JSON.stringify(res.errors).slice(0, 400));
});

test('prediction_region is in image space with pixel edges and keeps holes (NaN hole in the data)', async () => {
  const bundle = tmp();
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'h', width: 64, height: 64 }] }, { bundleDpath: bundle });
  const m = new CocoStitchingManager(dset, { shortCode: 'h', chanCode: 'a', stitchingSpace: 'image' });
  const data = Raster.full([32, 32, 1], 0.5, 'float32');
  for (let y = 10; y < 14; y++) for (let x = 16; x < 20; x++) data.set(y, x, 0, NaN);
  m.accumulateImage(1, null, data, { assetDsize: [32, 32], scaleAssetFromStitchspace: 0.5 });
  await m.finalizeImage(1);
  const region = dset.index.imgs.get(1)!.prediction_region;
  assert.equal(region.coordinates.length, 1);
  const [shell, hole] = region.coordinates[0];
  const box = (ring: number[][]) => [Math.min(...ring.map((p) => p[0])), Math.min(...ring.map((p) => p[1])), Math.max(...ring.map((p) => p[0])), Math.max(...ring.map((p) => p[1]))];
  assert.deepEqual(box(shell), [0, 0, 64, 64]);
  assert.deepEqual(box(hole), [32, 20, 40, 28]);
  assert.deepEqual(dset.index.imgs.get(1)!.has_predictions, { a: true });
});

test('prediction_region of a covered rectangle spanning several blocks (no mask traced) and of an L shape (traced)', async () => {
  for (const [windows, expected] of [
    // rows 10..150, cols 20..300 of the asset: one rectangle across 2 x 3 blocks of 128
    [[[10, 150, 20, 300]], [[[[40, 20], [600, 20], [600, 300], [40, 300], [40, 20]]]]],
    // an L: rows 0..40 x cols 0..200, plus rows 40..200 x cols 0..40
    [[[0, 40, 0, 200], [40, 200, 0, 40]], null],
  ] as [number[][], number[][][][] | null][]) {
    const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'r', width: 640, height: 640 }] }, { bundleDpath: tmp() });
    const m = new CocoStitchingManager(dset, { shortCode: 'r', chanCode: 'a', stitchingSpace: 'image', expectedMinmax: [0, 1] });
    for (const [y0, y1, x0, x1] of windows) {
      m.accumulateImage(1, [slice(y0, y1), slice(x0, x1)], Raster.full([y1 - y0, x1 - x0, 1], 0.5, 'float32'), { assetDsize: [320, 320], scaleAssetFromStitchspace: 0.5 });
    }
    await m.finalizeImage(1);
    const region = dset.index.imgs.get(1)!.prediction_region;
    if (expected) {
      assert.deepEqual(region.coordinates, expected);
    } else {
      // image space = asset * 2; area of the L = (40*200 + 160*40) * 4
      const ring: number[][] = region.coordinates[0][0];
      let area = 0;
      for (let i = 0; i + 1 < ring.length; i++) area += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
      assert.equal(region.coordinates.length, 1);
      assert.equal(Math.abs(area / 2), (40 * 200 + 160 * 40) * 4);
      assert.equal(ring.length, 7, JSON.stringify(ring));
    }
  }
});

test('untouched tiles are written sparse (offset 0) and GDAL reads them as nodata; NaN pixels of touched tiles are nodata too', async () => {
  const { readTiffLayout } = await import('../../src/io/tiff-layout.ts');
  const bundle = tmp();
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 's', width: 512, height: 512 }] }, { bundleDpath: bundle });
  const m = new CocoStitchingManager(dset, { shortCode: 's', chanCode: 'a|b', stitchingSpace: 'image', expectedMinmax: [0, 1] });
  m.accumulateImage(1, [slice(10, 100), slice(20, 120)], Raster.full([90, 100, 2], 0.25, 'float32'));
  await m.finalizeImage(1);
  const a = dset.cocoImage(1).assets[0];
  const fpath = join(bundle, a.file_name);
  const layout = await readTiffLayout(fpath);
  const full = layout.ifds[0];
  assert.equal(full.dataOffsets.length, 16);
  assert.equal(full.dataOffsets.filter((o) => o === 0).length, 15, 'only the touched 128x128 tile holds data');
  const g = gdalRead(fpath);
  const at = (y: number, x: number, b: number) => g.data[(y * 512 + x) * 2 + b];
  assert.equal(at(300, 300, 0), -9999);
  assert.equal(at(5, 5, 1), -9999, 'inside the touched tile but not covered');
  assert.equal(at(50, 50, 0), Math.round(0.25 * 32767));
  assert.ok(validateCog(fpath).valid);
});

test('the COG writer failing mid-way: flushImages rejects, no asset registered, no file or temp file left', async () => {
  const { writeCog } = await import('../../src/io/cog/write-cog.ts');
  const { readdirSync } = await import('node:fs');
  const bundle = tmp();
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'ok', width: 512, height: 512 }, { id: 2, name: 'bad', width: 512, height: 512 }] }, { bundleDpath: bundle });
  let pulled = 0;
  const failing: typeof writeCog = (path, source, options) => writeCog(path, {
    ...(source as never as { height: number; width: number; bands: number; dtype: 'int16' }),
    readBlock: (y0: number, x0: number, h: number, w: number) => {
      if (path.includes('bad') && ++pulled > 5) throw new Error('injected: disk went away after 5 blocks');
      return (source as { readBlock(y0: number, x0: number, h: number, w: number): Raster | null }).readBlock(y0, x0, h, w);
    },
  }, options);
  const m = new CocoStitchingManager(dset, { shortCode: 'f', chanCode: 'a', stitchingSpace: 'image', io: { writeCog: failing } });
  for (const gid of [1, 2]) m.accumulateImage(gid, null, Raster.full([512, 512, 1], 0.5, 'float32'));
  await m.submitFinalizeImage(1);
  await m.submitFinalizeImage(2);
  await assert.rejects(m.flushImages(), /injected: disk went away/);
  assert.equal(dset.cocoImage(1).assets.length, 1);
  assert.equal(dset.cocoImage(2).assets.length, 0);
  assert.equal(dset.index.imgs.get(2)!.prediction_region, undefined);
  assert.deepEqual(readdirSync(join(bundle, '_assets', 'f')), [dset.cocoImage(1).assets[0].file_name.split('/').pop()]);
});
