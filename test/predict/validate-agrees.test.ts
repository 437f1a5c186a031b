/**
 * `validate` and `predict` agree on what is valid: a table of one-image
 * bundles (TIFF, JPEG and PNG assets; unnamed bands; records that disagree
 * with their files; broken quantizations; missing and cut files), each run
 * through both. Both go through the same checks (CocoDataset.load's declared
 * sizes, openRaster, and coco/asset-file-check.ts for the record against the
 * file), so a bundle validate passes predicts, and one it reports predict
 * refuses with a CocoStitcherError.
 *
 * Also: an asset without `channels` but with `num_bands` n has bands named
 * u0|u1|…|u{n-1} (kwcoco's names), and `--channels` can pick them
 * (`u0|u2`): the prediction is the model of those bands of the file.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { CocoStitcherError } from '../../src/array/errors.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { writePng } from '../../src/io/png.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { runPredict } from '../../src/predict/run-predict.ts';
import { validateBundle } from '../../src/cli/validate/validate-bundle.ts';
import { gdalPython, gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const H = 20, W = 24;

interface Case {
  name: string;
  /** the image's own asset fields (file_name, channels, num_bands, quantization, ...) */
  asset: Record<string, unknown>;
  /** --channels of the predict run */
  channels: string;
  valid: boolean;
  /** what validate says about it (when not valid) */
  problem?: RegExp;
  /** what predict says, when not in validate's words */
  predictSays?: RegExp;
  /** a note validate gives about a bundle that is valid */
  note?: RegExp;
}

const rgbQ = { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 };
const CASES: Case[] = [
  { name: 'GeoTIFF asset, channels r|g|b', asset: { file_name: 'rgb.tif', channels: 'r|g|b' }, channels: 'r|g|b', valid: true },
  { name: 'JPEG asset', asset: { file_name: 'rgb.jpg', channels: 'r|g|b', num_bands: 3 }, channels: 'g', valid: true },
  { name: 'PNG asset', asset: { file_name: 'rgb.png', channels: 'r|g|b' }, channels: 'b|r', valid: true },
  { name: 'no channels, num_bands 3: bands u0|u1|u2', asset: { file_name: 'rgb.tif', num_bands: 3 }, channels: 'u0|u2', valid: true },
  { name: 'striped GeoTIFF wider than 512 px (not a COG)', asset: { file_name: 'striped.tif', channels: 'r|g|b', width: 520, height: H }, channels: 'r', valid: true, note: /not a COG \(predict reads it, with more requests\): full resolution 520x20 is not tiled/ },
  { name: 'quantized int16 asset', asset: { file_name: 'q.tif', channels: 'a', quantization: rgbQ }, channels: 'a', valid: true },
  { name: 'channels name 2 of its 3 bands', asset: { file_name: 'rgb.tif', channels: 'r|g' }, channels: 'r', valid: false, problem: /has 3 band\(s\) but its channels r\|g name 2/ },
  { name: 'channels name 4 bands, the file has 3', asset: { file_name: 'rgb.tif', channels: 'r|g|b|n' }, channels: 'r', valid: false, problem: /has 3 band\(s\) but its channels r\|g\|b\|n name 4/ },
  { name: 'num_bands disagrees with the file', asset: { file_name: 'rgb.tif', channels: 'r|g|b', num_bands: 4 }, channels: 'r', valid: false, problem: /has 3 band\(s\) but its record says num_bands 4/ },
  { name: 'neither channels nor num_bands', asset: { file_name: 'rgb.tif' }, channels: 'u0', valid: false, problem: /named by neither channels nor num_bands.*"num_bands": 3 \(its bands are then u0\|u1\|u2\)/, predictSays: /--channels u0: no image of --src has u0; its images have no channels/ },
  { name: 'record size disagrees with the file', asset: { file_name: 'rgb.tif', channels: 'r|g|b', width: W + 6 }, channels: 'r', valid: false, problem: /is 24x20 but its record says 30x20/ },
  { name: 'quantization on a float32 file', asset: { file_name: 'f32.tif', channels: 'a', quantization: rgbQ }, channels: 'a', valid: false, problem: /quantization given for a float32 file/ },
  { name: 'quantization nodata inside the valid range', asset: { file_name: 'q.tif', channels: 'a', quantization: { ...rgbQ, nodata: 7 } }, channels: 'a', valid: false, problem: /nodata 7 lies inside the valid range/ },
  { name: 'image without width / height', asset: { file_name: 'rgb.tif', channels: 'r|g|b', width: undefined, height: undefined }, channels: 'r', valid: false, problem: /has no width \/ height/, predictSays: /has size undefined x undefined; expected positive numbers/ },
  { name: 'missing file', asset: { file_name: 'nope.tif', channels: 'r|g|b' }, channels: 'r', valid: false, problem: /does not exist/, predictSays: /nope\.tif: no such file/ },
  { name: 'cut file', asset: { file_name: 'cut.tif', channels: 'r|g|b' }, channels: 'r', valid: false, problem: /cannot (read|decode).*cut\.tif is truncated or corrupt/, predictSays: /cut\.tif is truncated or corrupt/ },
  { name: 'cut JPEG', asset: { file_name: 'cut.jpg', channels: 'r|g|b' }, channels: 'r', valid: false, problem: /truncated JPEG/ },
];

describe('validate and predict agree on what is valid', { skip: ort ? false : 'onnxruntime-node is not installed' }, () => {
  const dir = scratchDir('validate-agrees-');
  const data = join(dir, 'data');
  const rgb = Raster.zeros([H, W, 3], 'uint8');

  before(async () => {
    mkdirSync(data, { recursive: true });
    for (let i = 0; i < rgb.data.length; i++) rgb.data[i] = (i * 7 + Math.floor(i / 5)) & 255;
    await writeCog(join(data, 'rgb.tif'), rgb);
    await writeCog(join(data, 'cut.tif'), rgb, { blocksize: 16 });
    truncateSync(join(data, 'cut.tif'), 600);
    await writePng(join(data, 'rgb.png'), rgb);
    execFileSync('gdal_translate', ['-q', '-of', 'JPEG', join(data, 'rgb.png'), join(data, 'rgb.jpg')]);
    writeFileSync(join(data, 'cut.jpg'), readFileSync(join(data, 'rgb.jpg')).subarray(0, 400));
    const f32 = Raster.zeros([H, W, 1], 'float32');
    f32.data.fill(0.5);
    await writeCog(join(data, 'f32.tif'), f32);
    const q = Raster.zeros([H, W, 1], 'int16');
    for (let i = 0; i < q.data.length; i++) q.data[i] = i * 50;
    await writeCog(join(data, 'q.tif'), q, { nodata: -9999 });
    gdalPython(`
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.GetDriverByName('GTiff').Create(sys.argv[1], 520, ${H}, 3, gdal.GDT_Byte)
ds.WriteArray((np.arange(520 * ${H} * 3) % 251).astype(np.uint8).reshape(3, ${H}, 520))
`, [join(data, 'striped.tif')]);
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.valid ? 'both accept' : 'both refuse'}`, async () => {
      const folder = join(dir, c.name.replace(/[^a-z0-9]+/gi, '-'));
      mkdirSync(folder, { recursive: true });
      const manifest = join(folder, 'data.kwcoco.json');
      const asset = { ...c.asset, file_name: join(data, String(c.asset.file_name)) };
      writeFileSync(manifest, JSON.stringify({
        images: [{ id: 1, name: 'one', width: W, height: H, ...asset }], categories: [], annotations: [], videos: [],
      }));
      const found = await validateBundle(manifest);
      const problems = found.filter((p) => !p.note);
      const notes = found.filter((p) => p.note).map((p) => p.message);
      if (c.note) assert.ok(notes.some((m) => c.note!.test(m)), `validate notes ${c.note}: ${JSON.stringify(notes)}`);
      else assert.deepEqual(notes, []);
      // the command: exit 0 (notes on stderr) or 1
      const cli = await runCli(['validate', manifest]);
      assert.equal(cli.code, c.valid ? 0 : 1, cli.stdout + cli.stderr);
      if (c.note) assert.match(cli.stderr, /^note: image 1 asset .*striped\.tif: not a COG/m);
      const n = c.channels.split('|').length;
      const model = join(folder, 'model.onnx');
      writeFileSync(model, buildPointwiseModel([Array.from({ length: n }, (_, k) => (k + 1) / 255)], [0]));
      let predictError: unknown = null;
      try {
        await runPredict({ src: manifest, dst: join(folder, 'out', 'out.kwcoco.json'), model, channels: c.channels, window: 16, space: 'image', progress: false, onWarning: () => {} });
      } catch (err) {
        predictError = err;
      }
      if (c.valid) {
        assert.deepEqual(problems, [], 'validate accepts');
        assert.equal(predictError, null, `predict accepts: ${String(predictError)}`);
      } else {
        assert.ok(problems.some((p) => c.problem!.test(p.message)), `validate reports ${c.problem}: ${JSON.stringify(problems)}`);
        assert.ok(predictError instanceof CocoStitcherError, `predict refuses with a clear error, got ${String(predictError)}`);
        assert.match((predictError as Error).message, c.predictSays ?? c.problem!, 'predict says what validate says');
      }
    });
  }

  it('predict --help says which names unnamed bands get', async () => {
    const h = await runCli(['predict', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout.replace(/\s+/g, ' '), /--channels <code> .*without channels but with num_bands n has bands u0\|u1\|\.\.\.\|u\{n-1\}, e\.g\. "u0\|u2"/);
  });

  it('--channels u0|u2 on an asset without channels: the model sees bands 0 and 2 of the file', async () => {
    const folder = join(dir, 'u-names');
    mkdirSync(folder, { recursive: true });
    const manifest = join(folder, 'data.kwcoco.json');
    writeFileSync(manifest, JSON.stringify({
      images: [{ id: 1, name: 'one', width: W, height: H, assets: [{ file_name: join(data, 'rgb.tif'), num_bands: 3, width: W, height: H }] }],
      categories: [], annotations: [], videos: [],
    }));
    const model = join(folder, 'model.onnx');
    writeFileSync(model, buildPointwiseModel([[1, 0], [0, 1]], [0, 0]));
    const dst = join(folder, 'out', 'out.kwcoco.json');
    const r = await runCli(['predict', '--src', manifest, '--dst', dst, '--model', model, '--channels', 'u0|u2', '--window', '16', '--space', 'image', '--no-quantize', '--no-progress']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const pred = out.images[0].assets.find((a: any) => a.channels === 'pred.0|pred.1');
    const got = gdalRead(resolve(dirname(dst), pred.file_name));
    const src = gdalRead(join(data, 'rgb.tif'));
    for (let p = 0; p < H * W; p++) {
      assert.equal(got.data[p * 2], src.data[p * 3], `pixel ${p} band u0`);
      assert.equal(got.data[p * 2 + 1], src.data[p * 3 + 2], `pixel ${p} band u2`);
    }
  });
});
