/**
 * Datasets made from plain image files (GeoTIFFs written by GDAL, PNG,
 * JPEG; globs and lists): one image per file with GDAL's size and band
 * count, channels named or `u0|…`, and the georeferencing GDAL reports as
 * `wld_crs_info` / `wld_to_pxl`. Then `predict --src 'folder/*.tif'` end to
 * end: the made manifest beside the output, output pixels equal to the
 * model applied to GDAL's reading of the inputs, and the output COG
 * georeferenced like its input.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Affine } from '../../src/array/affine.ts';
import { Raster } from '../../src/array/raster.ts';
import { ValueError } from '../../src/array/errors.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { ChannelError } from '../../src/coco/errors.ts';
import { writePng } from '../../src/io/png.ts';
import { readRaster } from '../../src/io/read-raster.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { inputsManifestPath } from '../../src/predict/load-source.ts';
import { gdalinfo, gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);

describe('CocoDataset.fromImageFiles', () => {
  const dir = scratchDir('from-files-');
  const scenes = join(dir, 'scenes');

  before(async () => {
    mkdirSync(scenes);
    // two 3-band GeoTIFFs (UTM 31N and 32N) written by GDAL from PNGs, plus a PNG and a JPEG
    for (const [k, [w, h, epsg]] of [[70, 50, 32631], [45, 64, 32632]].entries()) {
      const r = Raster.zeros([h, w, 3], 'uint8');
      for (let i = 0; i < r.data.length; i++) r.data[i] = (i * (k + 3)) & 255;
      const png = join(dir, `s${k}.png`);
      await writePng(png, r);
      execFileSync('gdal_translate', ['-q', '-of', 'COG', '-a_srs', `EPSG:${epsg}`, '-a_ullr', `${500000 + k * 1000}`, '4600000',
        `${500000 + k * 1000 + w * 10}`, `${4600000 - h * 20}`, png, join(scenes, `scene-${k}.tif`)]);
    }
    const gray = Raster.zeros([20, 30, 1], 'uint8');
    gray.data.fill(77);
    await writePng(join(dir, 'gray.png'), gray);
    execFileSync('gdal_translate', ['-q', '-of', 'JPEG', join(dir, 's0.png'), join(dir, 'photo.jpg')]);
  });

  it('one image per file of a glob, sorted, with GDAL\'s size, bands and georeferencing', async () => {
    const dset = await CocoDataset.fromImageFiles(join(scenes, '*.tif'));
    const imgs = dset.dataset.images!;
    assert.deepEqual(imgs.map((i) => i.name), ['scene-0', 'scene-1']);
    for (const img of imgs) {
      const info = gdalinfo(img.file_name!);
      assert.deepEqual([img.width, img.height], info.size);
      assert.equal(img.num_bands, info.bands.length);
      assert.equal(img.channels, 'u0|u1|u2');
      const epsg = Number(/ID\["EPSG",(\d+)\]\]$/.exec(info.coordinateSystem.wkt)![1]);
      assert.deepEqual(img.wld_crs_info, { auth: ['EPSG', String(epsg)], axis_mapping: 'OAMS_TRADITIONAL_GIS_ORDER' });
      // wld_to_pxl maps GDAL's corners back to pixel corners
      const wldFromPxl = Affine.coerce(img.wld_to_pxl as never).inv();
      const gt = info.geoTransform as number[];
      const corners = wldFromPxl.apply([[0, 0], [img.width, img.height]]);
      assert.deepEqual(corners.map((p) => p.map((v) => Math.round(v * 1e6) / 1e6)),
        [[gt[0], gt[3]], [gt[0] + img.width * gt[1], gt[3] + img.height * gt[5]]]);
    }
    // imdelay of an image reads its file
    const got = await dset.cocoImage(1).imdelay({ channels: 'u0|u1|u2' }).finalize();
    const g = gdalRead(imgs[0].file_name!);
    assert.deepEqual(Array.from(got.data), Array.from(g.data));
  });

  it('named channels, lists of paths and globs mixed, PNG and JPEG, unique names', async () => {
    const dset = await CocoDataset.fromImageFiles([join(dir, '*.png'), join(dir, 'photo.jpg'), join(scenes, 'scene-0.tif'), join(scenes, 'scene-0.tif')], { channels: 'r|g|b' }).catch((e) => e);
    // gray.png has one band: the channel code for three is an error naming the file
    assert.ok(dset instanceof ChannelError && dset.message.includes('gray.png') && /r\|g\|b name 3 band/.test(dset.message), String(dset));
    const ok = await CocoDataset.fromImageFiles([join(dir, 's*.png'), join(dir, 'photo.jpg'), join(scenes, 'scene-0.tif'), join(scenes, 'scene-0.tif')], { channels: 'r|g|b' });
    const imgs = ok.dataset.images!;
    assert.deepEqual(imgs.map((i) => i.name), ['s0', 's1', 'photo', 'scene-0']);
    assert.ok(imgs.every((i) => i.channels === 'r|g|b' && i.num_bands === 3));
    assert.equal(imgs[0].wld_crs_info, undefined, 'a PNG has no georeferencing');
    const jpg = await ok.cocoImage(3).imdelay({ channels: 'r|g|b' }).finalize();
    assert.deepEqual(Array.from(jpg.data), Array.from(gdalRead(join(dir, 'photo.jpg')).data));
  });

  it('a glob that matches nothing, and a missing file, are clear errors', async () => {
    await assert.rejects(CocoDataset.fromImageFiles(join(dir, 'nothing-*.tif')), (e: Error) => e instanceof ValueError && e.message.includes('nothing-*.tif') && /matches no files/.test(e.message));
    await assert.rejects(CocoDataset.fromImageFiles(join(dir, 'absent.tif')), (e: Error) => e.message.includes('absent.tif') && /no such file/.test(e.message));
  });

  it('predict --src with a glob: manifest beside the output, pixels = model(GDAL input), georeferenced like the input', { skip: ort ? false : 'onnxruntime-node is not installed' }, async () => {
    const model = join(dir, 'pw.onnx');
    writeFileSync(model, buildPointwiseModel([[1 / 255, 0, 0]], [0]));
    const dst = join(dir, 'out', 'pred.kwcoco.json');
    const r = await runCli(['predict', '--src', join(scenes, '*.tif'), '--src-channels', 'r|g|b', '--dst', dst, '--model', model,
      '--channels', 'r|g|b', '--window', '32', '--expected-minmax', '0,1', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(inputsManifestPath(dst)));
    assert.deepEqual((await CocoDataset.load(inputsManifestPath(dst))).dataset.images!.map((i) => i.name), ['scene-0', 'scene-1']);
    const out = await CocoDataset.load(dst);
    for (const gid of out.imageIds()) {
      const img = out.cocoImage(gid);
      const pred = img.assets.at(-1)!;
      const q = pred.quantization!;
      const input = gdalRead(img.img.file_name!);
      const file = img.resolvePath(pred.file_name);
      const g = gdalRead(file);
      const step = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
      for (let i = 0; i < g.data.length; i++) {
        const v = (g.data[i] - q.quant_min) * step + q.orig_min;
        assert.ok(Math.abs(v - input.data[i * 3] / 255) <= step / 2 + 1e-9, `image ${gid} pixel ${i}: ${v} vs ${input.data[i * 3] / 255}`);
      }
      const { epsg, transform } = await readRaster(file);
      const src = await readRaster(img.img.file_name!);
      assert.equal(epsg, src.epsg);
      assert.deepEqual(transform!.matrix, src.transform!.matrix);
    }
  });
});
