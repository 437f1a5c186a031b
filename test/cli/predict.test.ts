/**
 * `coco-stitcher predict` end to end on a demo bundle with models whose output
 * is known in closed form: every stitched pixel is checked against GDAL's own
 * reading of the input assets and of our output COGs.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { buildOnnxModel, buildPointwiseModel, attr } from '../../src/cli/onnx/build-model.ts';
import { runPredict } from '../../src/predict/run-predict.ts';
import { validateManifest } from '../../src/coco/schema.ts';
import { gdalinfo, gdalRead, validateCog } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };

// y0 = r / 255, y1 = (g + b) / 510 + 0.1: inside [0, 1.1] for uint8 input
const W = [[1 / 255, 0, 0], [0, 0.5 / 255, 0.5 / 255]];
const B = [0, 0.1];
const MINMAX: [number, number] = [0, 2];
const HALF_STEP = (MINMAX[1] - MINMAX[0]) / 32767 / 2;

const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

/** Dequantizes GDAL's reading of a quantized asset (NaN at nodata). */
function dequantized(path: string, q: any): { shape: [number, number, number]; data: Float64Array } {
  const g = gdalRead(path);
  const data = new Float64Array(g.data.length);
  const scale = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
  for (let i = 0; i < data.length; i++) {
    data[i] = g.data[i] === q.nodata ? NaN : (g.data[i] - q.quant_min) * scale + q.orig_min;
  }
  return { shape: g.shape, data };
}

describe('predict', needsOrt, () => {
  let root: string;
  let src: string;
  let modelPath: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'predict-test-'));
    const dset = await CocoDataset.demo('vidshapes-msi', {
      numVideos: 2, numFrames: 2, imageSize: 64, geodata: true, dpath: join(root, 'input'), seed: 7,
    });
    src = dset.fpath!;
    modelPath = join(root, 'pointwise.onnx');
    writeFileSync(modelPath, buildPointwiseModel(W, B));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('image space: every pixel equals the model applied to GDAL\'s reading of the input, within half a quantization step', async () => {
    const dst = join(root, 'image-space', 'out.kwcoco.json');
    const r = await runCli([
      'predict', '--src', src, '--dst', dst, '--model', modelPath, '--channels', 'r|g|b',
      '--space', 'image', '--window', '40', '--overlap', '0.3', '--expected-minmax', MINMAX.join(','),
      '--chan-code', 'red|mix', '--short-code', 'pw', '--no-progress',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 4 image\(s\)/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    assert.deepEqual(validateManifest(out).errors, []);
    const input = await CocoDataset.load(src);
    for (const img of out.images) {
      const pred = assetsOf(img).find((a) => a.channels === 'red|mix');
      assert.ok(pred, `image ${img.id} has no red|mix asset`);
      assert.equal(pred.num_bands, 2);
      assert.deepEqual([pred.width, pred.height], [img.width, img.height]);
      assert.deepEqual(pred.warp_aux_to_img, { type: 'affine' });
      assert.ok(!pred.file_name.startsWith('/'), pred.file_name);
      assert.ok(pred.file_name.startsWith('_assets/pw/'), pred.file_name);
      const file = join(dirname(dst), pred.file_name);
      assert.deepEqual(validateCog(file).errors, []);
      const rgbAsset = assetsOf(input.index.imgs.get(img.id)).find((a: any) => a.channels === 'r|g|b');
      const rgbPath = join(dirname(src), rgbAsset.file_name);
      const rgb = gdalRead(rgbPath);
      const got = dequantized(file, pred.quantization);
      assert.deepEqual(got.shape, [img.height, img.width, 2]);
      let maxErr = 0;
      for (let p = 0; p < img.height * img.width; p++) {
        for (let o = 0; o < 2; o++) {
          let want = B[o];
          for (let i = 0; i < 3; i++) want += W[o][i] * rgb.data[p * 3 + i];
          maxErr = Math.max(maxErr, Math.abs(got.data[p * 2 + o] - want));
        }
      }
      assert.ok(maxErr <= HALF_STEP + 1e-6, `image ${img.id}: max error ${maxErr} > half step ${HALF_STEP}`);
      // georeferenced like the input: same CRS and geotransform (identity warp in image space)
      const gi = gdalinfo(file);
      const ri = gdalinfo(rgbPath);
      assert.match(gi.coordinateSystem.wkt, /32618|UTM zone 18N/);
      for (let k = 0; k < 6; k++) assert.ok(Math.abs(gi.geoTransform[k] - ri.geoTransform[k]) < 1e-6, `${gi.geoTransform} vs ${ri.geoTransform}`);
      assert.equal(img.has_predictions?.['red|mix'], true);
    }
    const v = await runCli(['validate', dst]);
    assert.equal(v.code, 0, v.stdout);
  });

  it('video space with --memmap and a model that halves its input (--output-scale 0.5)', async () => {
    // 1x1 conv then 2x2 average pooling: out = W . mean(2x2 block of x) + b
    const pooled = buildOnnxModel({
      inputs: [{ name: 'x', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y', shape: ['N', 2, 'H2', 'W2'] }],
      initializers: [
        { name: 'w', dims: [2, 3, 1, 1], data: Float32Array.from(W.flat()) },
        { name: 'b', dims: [2], data: Float32Array.from(B) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attributes: { kernel_shape: attr.ints([1, 1]) } },
        { op: 'AveragePool', inputs: ['c'], outputs: ['y'], attributes: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) } },
      ],
    });
    const pooledPath = join(root, 'pooled.onnx');
    writeFileSync(pooledPath, pooled);
    const memdir = join(root, 'memmap');
    const dst = join(root, 'video-space', 'out.kwcoco.json');
    const r = await runCli([
      'predict', '--src', src, '--dst', dst, '--model', pooledPath, '--channels', 'r|g|b',
      '--window', '32', '--overlap', '0.5', '--output-scale', '0.5', '--expected-minmax', MINMAX.join(','),
      '--chan-code', 'red|mix', '--memmap', memdir, '--no-progress',
    ]);
    assert.equal(r.code, 0, r.stderr);
    // the memmap files are gone once the images are written
    assert.deepEqual(existsSync(memdir) ? readdirSync(memdir, { recursive: true }).filter((f) => !String(f).endsWith('/')) : [], []);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const input = await CocoDataset.load(src);
    for (const img of out.images) {
      const video = out.videos.find((v: any) => v.id === img.video_id);
      const pred = assetsOf(img).find((a) => a.channels === 'red|mix');
      assert.deepEqual([pred.width, pred.height], [video.width / 2, video.height / 2]);
      const file = join(dirname(dst), pred.file_name);
      assert.deepEqual(validateCog(file).errors, []);
      const vidScale = img.warp_img_to_vid?.scale ?? 1;
      // asset -> image = inv(img -> vid) @ scale(2)
      assert.deepEqual(pred.warp_aux_to_img, 2 / vidScale === 1 ? { type: 'affine' } : { scale: 2 / vidScale, type: 'affine' });
      if (vidScale !== 1) continue; // the scaled video's values go through resampling; checked by the manager tests
      const rgbAsset = assetsOf(input.index.imgs.get(img.id)).find((a: any) => a.channels === 'r|g|b');
      const rgb = gdalRead(join(dirname(src), rgbAsset.file_name));
      const got = dequantized(file, pred.quantization);
      const [h, w] = [pred.height, pred.width];
      const W0 = img.width;
      let maxErr = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let o = 0; o < 2; o++) {
            let want = B[o];
            for (let i = 0; i < 3; i++) {
              let m = 0;
              for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) m += rgb.data[((2 * y + dy) * W0 + 2 * x + dx) * 3 + i];
              want += W[o][i] * m / 4;
            }
            maxErr = Math.max(maxErr, Math.abs(got.data[(y * w + x) * 2 + o] - want));
          }
        }
      }
      assert.ok(maxErr <= HALF_STEP + 1e-6, `image ${img.id}: max error ${maxErr}`);
    }
  });

  it('--input-scale 0.5: windows read at half resolution, the asset at half size, values near the 2x2 means', async () => {
    const dst = join(root, 'input-scale', 'out.kwcoco.json');
    const r = await runCli([
      'predict', '--src', src, '--dst', dst, '--model', modelPath, '--channels', 'r|g|b', '--space', 'image',
      '--window', '24', '--overlap', '0.3', '--input-scale', '0.5', '--expected-minmax', MINMAX.join(','), '--no-progress',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const input = await CocoDataset.load(src);
    for (const img of out.images) {
      const pred = assetsOf(img).find((a) => a.channels === 'pred.0|pred.1');
      assert.deepEqual([pred.width, pred.height], [img.width / 2, img.height / 2]);
      assert.deepEqual(pred.warp_aux_to_img, { scale: 2, type: 'affine' });
      const rgbAsset = assetsOf(input.index.imgs.get(img.id)).find((a: any) => a.channels === 'r|g|b');
      const rgb = gdalRead(join(dirname(src), rgbAsset.file_name));
      const got = dequantized(join(dirname(dst), pred.file_name), pred.quantization);
      // antialiased linear downscaling is not a box mean, but it is close to one on average
      let sum = 0;
      let n = 0;
      for (let y = 0; y < pred.height; y++) {
        for (let x = 0; x < pred.width; x++) {
          let want = B[0];
          for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) want += W[0][0] * rgb.data[((2 * y + dy) * img.width + 2 * x + dx) * 3] / 4;
          const v = got.data[(y * pred.width + x) * 2];
          assert.ok(Number.isFinite(v), `image ${img.id} (${y}, ${x}) is not covered`);
          sum += Math.abs(v - want);
          n++;
        }
      }
      assert.ok(sum / n < 0.03, `image ${img.id}: mean abs difference to the 2x2 mean ${sum / n}`);
    }
  });

  it('bad input exits 2 with one line naming the value', async () => {
    const dst = join(root, 'bad', 'out.kwcoco.json');
    const base = ['predict', '--src', src, '--dst', dst, '--channels', 'r|g|b', '--no-progress'];
    const cases: [string[], RegExp][] = [
      [[...base, '--model', join(root, 'missing.onnx')], /missing\.onnx does not exist/],
      [['predict', '--src', join(root, 'nope.kwcoco.json'), '--dst', dst, '--model', modelPath, '--channels', 'r|g|b'], /nope\.kwcoco\.json/],
      [[...base.slice(0, 5), '--channels', 'r|g|nir', '--model', modelPath], /nir/],
      [[...base, '--model', modelPath, '--chan-code', 'a|b|c'], /a\|b\|c has 3 channels but the model outputs 2/],
      [[...base, '--model', modelPath, '--overlap', '1.5'], /--overlap must be in \[0, 1\), got 1\.5/],
      [[...base, '--model', modelPath, '--window', 'big'], /--window expects a number, got "big"/],
      [[...base, '--model', modelPath, '--mean', '1,2'], /--mean has 2 values but --channels has 3/],
    ];
    const notModel = join(root, 'garbage.onnx');
    writeFileSync(notModel, 'not a model');
    cases.push([[...base, '--model', notModel], /cannot load ONNX model .*garbage\.onnx/]);
    // a model whose output is half its input, run without --output-scale 0.5
    const halver = join(root, 'halver.onnx');
    writeFileSync(halver, buildOnnxModel({
      inputs: [{ name: 'x', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y', shape: ['N', 3, 'H2', 'W2'] }],
      nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attributes: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) } }],
    }));
    cases.push([[...base, '--model', halver, '--window', '32'], /model output \d+x3x16x16 does not fit window 32x32 at output scale 1/]);
    // an input manifest whose asset file is gone
    const broken = join(root, 'broken-input');
    cpSync(dirname(src), broken, { recursive: true });
    const brokenManifest = JSON.parse(readFileSync(join(broken, 'data.kwcoco.json'), 'utf8'));
    const gone = assetsOf(brokenManifest.images[0]).find((a: any) => a.channels === 'r|g|b').file_name;
    rmSync(join(broken, gone));
    cases.push([['predict', '--src', join(broken, 'data.kwcoco.json'), '--dst', dst, '--model', modelPath, '--channels', 'r|g|b', '--no-progress'],
      new RegExp(gone.split('/').pop()!.replace(/[.]/g, '\\.'))]);
    for (const [argv, re] of cases) {
      const r = await runCli(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, argv.join(' '));
      assert.ok(!/\n\s+at /.test(r.stderr), `stack trace printed: ${r.stderr}`);
    }
    assert.ok(!existsSync(dst), 'no manifest written on error');
  });

  it('an interrupt keeps the images already written and saves a partial manifest', async () => {
    const dst = join(root, 'interrupted', 'out.kwcoco.json');
    const controller = new AbortController();
    const assetDir = join(root, 'interrupted', '_assets', 'pred');
    const timer = setInterval(() => {
      if (existsSync(assetDir) && readdirSync(assetDir).some((f) => f.endsWith('.tif'))) controller.abort();
    }, 1);
    let summary;
    try {
      summary = await runPredict({
        src, dst, model: modelPath, channels: 'r|g|b', window: 16, overlap: 0.5, batchSize: 1,
        expectedMinmax: MINMAX, signal: controller.signal,
      });
    } finally {
      clearInterval(timer);
    }
    assert.equal(summary.interrupted, true);
    assert.ok(summary.images >= 1 && summary.images < 4, `images ${summary.images}`);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const registered = out.images.flatMap((img: any) => assetsOf(img).filter((a: any) => a.channels?.startsWith('pred.')));
    assert.equal(registered.length, summary.images);
    const files = readdirSync(assetDir);
    assert.deepEqual(files.sort(), registered.map((a: any) => a.file_name.split('/').pop()).sort(), 'only finished files, no temp files');
    for (const a of registered) assert.deepEqual(validateCog(join(dirname(dst), a.file_name)).errors, []);
  });
});
