/**
 * Region-restricted predict (one shard of `predict --shard region:SIZE`)
 * against the truth of a single-process run over the whole image: each
 * region runs only the windows touching it and writes its part; the COG
 * assembled from the parts must be byte for byte the single-process COG,
 * and the image entry (file name, quantization, a prediction_region with a
 * hole cut by region borders) the same entry.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Affine } from '../../src/array/affine.ts';
import { Raster } from '../../src/array/raster.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { attr, buildHeatmapModel, buildOnnxModel, buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { runPredict, type PredictOptions } from '../../src/predict/run-predict.ts';
import { assembleRegions, combinePhases, type RegionJob } from '../../src/distributed/assemble-regions.ts';
import { imageQuantization, quantizeRegionPart } from '../../src/stitch/region-quantize.ts';
import { JOB_FORMAT } from '../../src/distributed/job-data.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const skip = ort ? false : 'onnxruntime-node is not installed';
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

const root = scratchDir('region-predict-');
const W = 300;
const H = 270;
let src = '';
const heatmap = join(root, 'heatmap.onnx');
const sqrt = join(root, 'sqrt.onnx');
const linear = join(root, 'linear.onnx');

/** r|g|b with a dark disc (r < 128) centred on the corner of four 128 px regions, on a gradient. */
function inputRaster(): Raster {
  const d = new Uint8Array(H * W * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const dark = (x - 128) ** 2 + (y - 128) ** 2 < 40 ** 2 || (x > 200 && x < 260 && y > 20 && y < 60);
      d[i] = dark ? 40 + ((x * 7 + y * 3) % 60) : 140 + ((x * 5 + y * 11) % 110);
      d[i + 1] = (x * 3 + y) % 256;
      d[i + 2] = (x + y * 2) % 256;
    }
  }
  return new Raster(d, [H, W, 3]);
}

const base = (dst: string, model: string, extra: Partial<PredictOptions>): PredictOptions => ({
  src, dst, model, channels: 'r|g|b', std: [255], window: 48, overlap: 0.3, batchSize: 4, ...extra,
});

/**
 * Runs every `size` region of image 1 into `dst`'s bundle, assembles them as the coordinator
 * does, and returns the image's entry and windows run.
 */
async function byRegions(dst: string, opts: PredictOptions, size: number, gid = 1, [w, h] = [W, H]): Promise<{ entry: any; windows: number; asset: string }> {
  const jobs: RegionJob[] = [];
  for (let y = 0; y < h; y += size) {
    for (let x = 0; x < w; x += size) {
      const s = await runPredict({ ...opts, dst, region: { imageId: gid, x, y, size }, writeManifest: false });
      assert.ok(s.region, 'a region run reports its part');
      const entry = JSON.parse(JSON.stringify(s.dataset.index.imgs.get(gid)));
      jobs.push({
        id: `image-${gid}-x${x}-y${y}-h`,
        data: { format: JOB_FORMAT, run: 'r', shard: `image-${gid}-x${x}-y${y}`, src: opts.src, dst, model: { path: '', sha256: '' }, imageIds: [gid], region: { x, y, size }, options: { channels: 'r|g|b' } },
        result: { format: JOB_FORMAT, host: 'h', pid: 1, windows: s.windows, seconds: 0, images: [entry], region: s.region },
      });
    }
  }
  const reports = jobs.map((j) => j.result!.region!);
  if (reports[0].floats) {
    // two-phase: the whole image's range from every region's, then each region's floats quantized into its part
    const q = imageQuantization(reports, 'image 1');
    for (const j of jobs) j.result = combinePhases(j.result!, await quantizeRegionPart(j.result!.region!, q), q, dst);
  }
  const out = await assembleRegions(jobs, {});
  assert.equal(out.images.length, 1);
  const entry = out.images[0].result.images[0];
  const asset = resolve(dirname(dst), assetsOf(entry).at(-1).file_name);
  return { entry, windows: out.windows, asset };
}

describe('region predict equals single-process predict', { skip }, () => {
  before(async () => {
    writeFileSync(heatmap, buildHeatmapModel(3, 0.5, 12, [1, 0.5, 0.5]));
    writeFileSync(linear, buildPointwiseModel([[10, 0, 0]], [-3]));
    // NaN where r < 127.5: the prediction_region has holes
    writeFileSync(sqrt, buildOnnxModel({
      inputs: [{ name: 'x', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y', shape: ['N', 1, 'H', 'W'] }],
      initializers: [{ name: 'w', dims: [1, 3, 1, 1], data: Float32Array.from([1, 0.1, 0]) }, { name: 'b', dims: [1], data: Float32Array.from([-0.5]) }],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attributes: { kernel_shape: attr.ints([1, 1]) } },
        { op: 'Sqrt', inputs: ['c'], outputs: ['y'] },
      ],
    }));
    const img = join(root, 'in', 'scene.tif');
    await writeCog(img, inputRaster(), { epsg: 32631, transform: new Affine([10, 0, 500000, 0, -10, 4600000, 0, 0, 1]) });
    const d = await CocoDataset.fromImageFiles(img, { channels: 'r|g|b', fpath: join(root, 'in', 'in.kwcoco.json') });
    await d.dump();
    src = d.fpath!;
  });

  it('quantized with --expected-minmax, downweighted edges, georeferenced (overviews): the same COG bytes and entry; border windows run twice', async () => {
    const opts = base('', heatmap, { expectedMinmax: [0, 1], downweightEdges: true, chanCode: 'bg|fg' });
    const ref = await runPredict({ ...opts, dst: join(root, 'ref1', 'out.kwcoco.json') });
    const refEntry = JSON.parse(JSON.stringify(ref.dataset.index.imgs.get(1)));
    const dst = join(root, 'reg1', 'out.kwcoco.json');
    const got = await byRegions(dst, { ...opts, dst }, 128);
    assert.deepEqual(got.entry, refEntry);
    assert.ok(readFileSync(got.asset).equals(readFileSync(ref.assets[0])), 'the assembled COG differs from the single-process COG');
    assert.ok(got.windows > ref.windows, `regions ran ${got.windows} windows, the whole image ${ref.windows}`);
    // the part folder is the coordinator's to remove; nothing temporary is left beside the asset
    assert.deepEqual(readdirSync(dirname(got.asset)).filter((f) => f.endsWith('.tmp')), []);
    assert.ok(existsSync(got.asset));
  });

  it('float output (no quantization) with NaN holes cut by region borders: one polygon with its hole, as single-process', async () => {
    const opts = base('', sqrt, { quantize: false });
    const ref = await runPredict({ ...opts, dst: join(root, 'ref2', 'out.kwcoco.json') });
    const refEntry = JSON.parse(JSON.stringify(ref.dataset.index.imgs.get(1)));
    assert.ok(refEntry.prediction_region.coordinates[0].length > 1, 'the reference region has a hole');
    const dst = join(root, 'reg2', 'out.kwcoco.json');
    const got = await byRegions(dst, { ...opts, dst }, 128);
    assert.deepEqual(got.entry, refEntry);
    assert.ok(readFileSync(got.asset).equals(readFileSync(ref.assets[0])), 'the assembled COG differs from the single-process COG');
  });

  it('quantized to the image\'s own range (no --expected-minmax), two phases: regions keep their floats and report their range; the same COG and entry', async () => {
    // values 10 r / 255 - 3: the dark disc's region reaches lower than the others, the bright ones higher
    const opts = base('', linear, { downweightEdges: true, window: 40 });
    const ref = await runPredict({ ...opts, dst: join(root, 'ref3', 'out.kwcoco.json') });
    const refEntry = JSON.parse(JSON.stringify(ref.dataset.index.imgs.get(1)));
    const q = assetsOf(refEntry).at(-1).quantization;
    assert.deepEqual([q.orig_min, q.orig_max], [-2, 7], 'the whole image\'s range');
    const dst = join(root, 'reg3', 'out.kwcoco.json');
    const got = await byRegions(dst, { ...opts, dst }, 128);
    assert.deepEqual(got.entry, refEntry);
    assert.ok(readFileSync(got.asset).equals(readFileSync(ref.assets[0])), 'the assembled COG differs from the single-process COG');
  });

  it('frames of videos stitched in video space (warped frames, input scale 1.5): every frame the same COG and entry', async () => {
    const v = await CocoDataset.demo('vidshapes-msi', { numVideos: 2, numFrames: 2, imageSize: 160, geodata: true, dpath: join(root, 'vids'), seed: 3 });
    const opts: PredictOptions = {
      src: v.fpath!, dst: '', model: heatmap, channels: 'r|g|b', std: [255], window: 32, overlap: 0.5, inputScale: 1.5,
      expectedMinmax: [0, 1], downweightEdges: true, chanCode: 'bg|fg',
    };
    const ref = await runPredict({ ...opts, dst: join(root, 'vref', 'out.kwcoco.json') });
    for (const gid of v.imageIds()) {
      const refEntry = JSON.parse(JSON.stringify(ref.dataset.index.imgs.get(gid)));
      const a = assetsOf(refEntry).at(-1);
      const dst = join(root, `vreg${gid}`, 'out.kwcoco.json');
      const got = await byRegions(dst, { ...opts, dst }, 128, gid, [a.width, a.height]);
      assert.deepEqual(got.entry, refEntry, `image ${gid}`);
      assert.ok(readFileSync(got.asset).equals(readFileSync(resolve(dirname(ref.dst), a.file_name))), `image ${gid}: the assembled COG differs`);
    }
  });

  it('bad regions: a clear error naming the value', async () => {
    const dst = join(root, 'bad', 'out.kwcoco.json');
    const opts = base(dst, heatmap, { expectedMinmax: [0, 1] });
    await assert.rejects(runPredict({ ...opts, region: { imageId: 1, x: 0, y: 0, size: 100 } }), /region.size must be a positive multiple of the output tile size 128.*got 100/);
    await assert.rejects(runPredict({ ...opts, region: { imageId: 1, x: 64, y: 0, size: 128 } }), /region.x must be a non-negative multiple of region.size 128, got 64/);
    await assert.rejects(runPredict({ ...opts, region: { imageId: 1, x: 384, y: 0, size: 128 } }), /region at x 384, y 0 lies outside its 300 x 270 output/);
  });
});
