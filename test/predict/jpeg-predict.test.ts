/**
 * predict over a manifest whose assets are plain JPEG files, end to end: an
 * identity model (1x1 convolution, weights the identity) stitched without
 * quantization gives back exactly the pixels it read, so the output, read by
 * GDAL, must equal GDAL's reading of the JPEG. Run twice: in this process
 * (libjpeg through the native addon, when it was built with it) and in a
 * child process where the addon cannot load (the WebAssembly decoder, and
 * every other JavaScript fallback).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Raster } from '../../src/array/raster.ts';
import { writePng } from '../../src/io/png.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { nativeAddon } from '../../src/io/native-addon.ts';
import { gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const H = 37, W = 45; // not multiples of the 16 px MCU nor of the window

describe('predict over JPEG assets', { skip: ort ? false : 'onnxruntime-node is not installed' }, () => {
  const dir = scratchDir('jpeg-predict-');
  const manifest = join(dir, 'in', 'data.kwcoco.json');
  const model = join(dir, 'identity.onnx');
  const jpegs = ['a.jpg', 'b.jpg'];
  let truth: { shape: [number, number, number]; data: Float64Array }[];

  before(async () => {
    mkdirSync(join(dir, 'in'), { recursive: true });
    for (const [k, name] of jpegs.entries()) {
      const r = Raster.zeros([H, W, 3], 'uint8');
      let seed = 11 + k;
      for (let i = 0; i < r.data.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        r.data[i] = ((i % (W * 3)) * 2 + Math.floor(i / (W * 3)) * 3 + (seed >>> 27) * 5) & 255;
      }
      const png = join(dir, `src${k}.png`);
      await writePng(png, r);
      execFileSync('gdal_translate', ['-q', '-of', 'JPEG', '-co', 'QUALITY=80', ...(k === 1 ? ['-co', 'PROGRESSIVE=ON'] : []), png, join(dir, 'in', name)]);
    }
    truth = jpegs.map((name) => gdalRead(join(dir, 'in', name)));
    writeFileSync(manifest, JSON.stringify({
      images: jpegs.map((name, i) => ({ id: i + 1, name: `img${i}`, file_name: name, channels: 'r|g|b', num_bands: 3, width: W, height: H })),
      categories: [], annotations: [], videos: [],
    }));
    writeFileSync(model, buildPointwiseModel([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0]));
  });

  function check(dst: string): void {
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    out.images.forEach((img: any, i: number) => {
      const pred = (img.assets ?? img.auxiliary).find((a: any) => a.channels === 'pred.0|pred.1|pred.2');
      assert.ok(pred, `image ${img.id} has its prediction`);
      const got = gdalRead(resolve(dirname(dst), pred.file_name));
      assert.deepEqual(got.shape, truth[i]!.shape);
      assert.deepEqual(Array.from(got.data), Array.from(truth[i]!.data), `image ${img.id}: the identity model's output is GDAL's reading of ${jpegs[i]}`);
    });
  }

  const args = (dst: string) => ['predict', '--src', manifest, '--dst', dst, '--model', model, '--channels', 'r|g|b',
    '--window', '16', '--overlap', '0.25', '--space', 'image', '--no-quantize', '--no-progress'];

  it('through libjpeg in the native addon', { skip: nativeAddon()?.jpegDecode ? false : 'the native addon was built without libjpeg' }, async () => {
    const dst = join(dir, 'addon', 'out.kwcoco.json');
    const r = await runCli(args(dst));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    check(dst);
    // the input is read as the reader reads it: a JPEG, through the addon
    const f = await (await CocoDataset.load(manifest)).cocoImage(1).imdelay('r|g|b').finalize();
    assert.deepEqual(Array.from(f.data), Array.from(truth[0]!.data));
  });

  it('through the WebAssembly decoder, in a process where the addon cannot load', () => {
    const dst = join(dir, 'wasm', 'out.kwcoco.json');
    const block = join(dir, 'no-addon.cjs');
    writeFileSync(block, `const M = require('node:module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) {
  if (req === 'coco-stitcher-native') throw Object.assign(new Error('coco-stitcher-native disabled by the test'), { code: 'MODULE_NOT_FOUND' });
  return r.call(this, req, ...a);
};`);
    // the child says which decoder it has: the addon must be absent there
    const probe = spawnSync(process.execPath, ['--require', block, '--import', 'tsx', '-e',
      `import(${JSON.stringify(fileURLToPath(new URL('../../src/io/native-addon.ts', import.meta.url)))}).then((m) => console.log(m.nativeAddon() === null))`], { encoding: 'utf8' });
    assert.equal(probe.stdout.trim(), 'true', probe.stderr);
    const r = spawnSync(process.execPath, ['--require', block, '--import', 'tsx', MAIN, ...args(dst)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    check(dst);
  });
});
