/**
 * Input normalisation in the units model cards use (--scale first, then
 * --mean / --std; without --scale they apply to raw pixel values), checked
 * against GDAL's reading of the input; and the default batch size, read off
 * the shapes a real model is called with (no extra probe call).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { loadModel, type Model } from '../../src/predict/model.ts';
import { runPredict } from '../../src/predict/run-predict.ts';
import { defaultBatchSize } from '../../src/predict/plan.ts';
import { gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

describe('normalisation and batch size', needsOrt, () => {
  let root: string;
  let src: string;
  let model: string;
  before(async () => {
    root = scratchDir('normalise-');
    const dset = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 2, imageSize: 48, geodata: true, dpath: join(root, 'input'), seed: 11 });
    src = dset.fpath!;
    model = join(root, 'identity3.onnx');
    writeFileSync(model, buildPointwiseModel([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0]));
  });

  const MEAN = [0.485, 0.456, 0.406];
  const STD = [0.229, 0.224, 0.225];
  it('ImageNet: --scale 1/255 --mean 0.485,... --std 0.229,... equals (x / 255 - mean) / std; raw-unit --mean 123.675,... --std 58.395,... gives the same', async () => {
    const input = await CocoDataset.load(src);
    const runs = {
      scaled: ['--scale', '1/255', '--mean', MEAN.join(','), '--std', STD.join(',')],
      raw: ['--mean', MEAN.map((m) => m * 255).join(','), '--std', STD.map((s) => s * 255).join(',')],
    };
    for (const [name, extra] of Object.entries(runs)) {
      const dst = join(root, name, 'out.kwcoco.json');
      const r = await runCli(['predict', '--src', src, '--dst', dst, '--model', model, '--channels', 'r|g|b', '--space', 'image',
        '--window', '32', '--no-quantize', '--no-progress', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(readFileSync(dst, 'utf8'));
      for (const img of out.images) {
        const pred = assetsOf(img).find((a) => a.channels === 'pred.0|pred.1|pred.2');
        const got = gdalRead(resolve(dirname(dst), pred.file_name));
        const rgbAsset = assetsOf(input.index.imgs.get(img.id)).find((a: any) => a.channels === 'r|g|b');
        const rgb = gdalRead(resolve(input.bundleDpath, rgbAsset.file_name));
        assert.deepEqual(got.shape, rgb.shape);
        for (let i = 0; i < rgb.data.length; i++) {
          const want = (rgb.data[i] / 255 - MEAN[i % 3]) / STD[i % 3];
          assert.ok(Math.abs(got.data[i] - want) < 1e-5, `${name}, image ${img.id}, value ${i}: ${got.data[i]} vs ${want}`);
        }
      }
    }
  });

  it('--scale refuses what is not a number or a fraction, --pad-to what is not a positive integer, naming the value', async () => {
    const base = ['predict', '--src', src, '--dst', join(root, 'bad', 'out.kwcoco.json'), '--model', model, '--channels', 'r|g|b', '--no-progress'];
    for (const [v, re] of [['1/0', /--scale expects a number or a fraction like 1\/255, got "1\/0"/], ['a/255', /--scale expects a number, got "a"/],
      ['1/2/3', /got "1\/2\/3"/], ['-1', /--scale must be a positive number, got -1/]] as const) {
      const r = await runCli([...base, '--scale', v]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
    for (const v of ['0', '2.5']) {
      const r = await runCli([...base, '--pad-to', v]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--pad-to must be a positive integer, got ${v}`));
    }
  });

  it('the default batch holds about 128 x 128 pixels (1 window of 128 px and more, 4 of 64, at most 8), with no probe call', async () => {
    assert.equal(defaultBatchSize(256, 256), 1);
    assert.equal(defaultBatchSize(960, 960), 1);
    assert.equal(defaultBatchSize(128, 128), 1);
    assert.equal(defaultBatchSize(100, 100), 1);
    assert.equal(defaultBatchSize(64, 64), 4);
    assert.equal(defaultBatchSize(48, 48), 7);
    assert.equal(defaultBatchSize(16, 16), 8);
    const real = await loadModel(model);
    const calls: number[][] = [];
    const recording: Model = { ...real, run: (batch, dims, transfer) => { calls.push([...dims]); return real.run(batch, dims, transfer); }, close: () => real.close() };
    try {
      for (const [window, batch] of [[16, 8], [48, 7]] as const) {
        calls.length = 0;
        const summary = await runPredict({ src, dst: join(root, `batch-${window}`, 'out.kwcoco.json'), model: recording, channels: 'r|g|b', window, quantize: false, space: 'image' });
        // 16 px at 0.3 over 48 px: starts 0, 11, 21, 32 (4 x 4 per image); 48 px: one window per image
        assert.equal(summary.windows, window === 16 ? 32 : 2);
        assert.deepEqual(calls.map((d) => d.slice(1)), calls.map(() => [3, window, window]), 'every call is a real window, none larger');
        assert.deepEqual(calls.map((d) => d[0]), Array.from({ length: Math.ceil(summary.windows / batch) }, (_, i) => Math.min(batch, summary.windows - i * batch)));
      }
    } finally {
      await real.close();
    }
  });
});
