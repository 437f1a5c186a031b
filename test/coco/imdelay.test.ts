/**
 * imdelay: options, errors, dtypes, dequantization, and reading only the
 * window a crop needs (proved with a file whose far tiles are corrupt).
 * Agreement with Python is in imdelay-fixtures.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { ValueError } from '../../src/array/errors.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { ChannelError, ManifestError } from '../../src/coco/errors.ts';
import { imdelay, promoteDtypes } from '../../src/coco/delayed/imdelay.ts';
import { dequantizeRaster, checkQuantization } from '../../src/coco/quantization.ts';
import { footprintCrop } from '../../src/coco/delayed/footprint-crop.ts';
import { Affine } from '../../src/array/affine.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { readTiffLayout } from '../../src/io/tiff-layout.ts';
import { KWCOCO_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

const probe = () => CocoDataset.load(join(KWCOCO_FIXTURES, 'bundle-probe', 'data.kwcoco.json'));

test('defaults: every channel of the image, image space, linear; a string option is the channels', async () => {
  const d = await probe();
  const img = d.cocoImage(3);
  const all = img.imdelay();
  assert.deepEqual(all.shape, [10, 12, 5]);
  assert.equal(all.channels.spec, 'ra|rb|rc|rd|re');
  const one = img.imdelay('rd');
  assert.deepEqual(one.shape, [10, 12, 1]);
  const a = await img.imdelay({ channels: 'rb|rd', interpolation: 'linear', space: 'image' }).finalize();
  const b = await all.finalize();
  // bands come in the requested order, each the same as in the full request
  for (let p = 0; p < 120; p++) {
    for (const [k, full] of [[0, 1], [1, 3]] as const) {
      const x = a.data[p * 2 + k]!, y = b.data[p * 5 + full]!;
      assert.ok(x === y || (Number.isNaN(x) && Number.isNaN(y)), `pixel ${p} band ${k}: ${x} vs ${y}`);
    }
  }
  // 'Y:2:6'-style codes expand; the asset shape in asset space
  const msi = await CocoDataset.load(join(KWCOCO_FIXTURES, 'bundle-msi', 'data.kwcoco.json'));
  assert.equal(msi.cocoImage(3).imdelay({ channels: 'Y:2:6', space: 'asset' }).shape[2], 4);
});

test('errors are clear and raised before any read', async () => {
  const d = await probe();
  const img = d.cocoImage(1);
  assert.throws(() => img.imdelay({ channels: 'pu8', space: 'world' as never }), (e: unknown) => e instanceof ValueError && /unknown space "world"; expected one of image, video, asset/.test(e.message));
  assert.throws(() => img.imdelay({ channels: 'pu8', interpolation: 'cubic' as never }), /unknown interpolation "cubic"/);
  assert.throws(() => img.imdelay({ channels: 'pu8', missing: 'zero' as never }), /missing must be 'error' or 'nan'/);
  assert.throws(() => img.imdelay({ channels: 'pu8|nope|pf32', missing: 'error' }), (e: unknown) => e instanceof ChannelError && /channel\(s\) nope not found; the image has pu8,pf32,/.test(e.message));
  assert.throws(() => img.imdelay({ channels: 'nope', space: 'asset', missing: 'nan' }), /'asset' space needs at least one channel/);
  assert.throws(() => img.imdelay('pu8').crop([slice(0, 4, 2), slice(0, 4)]), /step 1/);
  assert.throws(() => img.imdelay('pu8').crop([slice(0, 4)] as never), /\[rows, cols\]/);
  const bare = CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', width: 4, height: 4, assets: [{ file_name: 'a.tif', channels: 'a', width: 4, height: 4, quantization: { orig_min: 0, orig_max: 1, quant_min: 5, quant_max: 5 } }] }] }, { bundleDpath: '/nonexistent' });
  assert.throws(() => bare.cocoImage(1).imdelay('a'), /quant_min == quant_max/);
  const nofile = CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', width: 4, height: 4, assets: [{ file_name: 'a.tif', channels: 'a', width: 4, height: 4 }] }] }, { bundleDpath: '/nonexistent' });
  assert.throws(() => nofile.cocoImage(1).imdelay({ channels: 'a', space: 'video' }), (e: unknown) => e instanceof ManifestError && /image 1 has no video/.test(e.message));
  assert.throws(() => CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', assets: [{ file_name: 'a.tif', channels: 'a', width: 4, height: 4 }] }] }).cocoImage(1).imdelay('a'),
    /image 1 needs positive integer width and height, got undefined x undefined/);
  // 'asset' space needs only the asset's size
  assert.deepEqual(CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', assets: [{ file_name: 'a.tif', channels: 'a', width: 4, height: 3 }] }] }).cocoImage(1).imdelay({ channels: 'a', space: 'asset' }).shape, [3, 4, 1]);
  // a missing file fails at finalize, naming the path
  await assert.rejects(nofile.cocoImage(1).imdelay('a').finalize(), /\/nonexistent\/a\.tif/);
  // an asset whose channels name more bands than the file has (validate reports the same: asset-file-check.ts)
  const probeDir = join(KWCOCO_FIXTURES, 'bundle-probe');
  const wrong = CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', width: 16, height: 12, assets: [{ file_name: './_assets/probe/up_u8.tif', channels: 'a|b', width: 8, height: 6, warp_aux_to_img: { scale: 2 } }] }] }, { bundleDpath: probeDir });
  await assert.rejects(wrong.cocoImage(1).imdelay('b').finalize(), (e: unknown) => e instanceof ManifestError && /has 1 band\(s\) but its channels a\|b name 2/.test(e.message));
  const badSize = CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', width: 9, height: 6, assets: [{ file_name: './_assets/probe/up_u8.tif', channels: 'a', width: 9, height: 6 }] }] }, { bundleDpath: probeDir });
  await assert.rejects(badSize.cocoImage(1).imdelay({ channels: 'a', space: 'asset' }).finalize(), /is 8x6 but its record says 9x6/);
});

test('dtypes: the file dtype without warp or quantization, kept by integer warps, float32 when dequantized; numpy-like promotion', async () => {
  const d = await probe();
  const img = d.cocoImage(1);
  assert.equal((await img.imdelay({ channels: 'pa|pb|pc', space: 'asset' }).finalize()).dtype, 'uint16');
  assert.equal((await img.imdelay({ channels: 'pa|pb|pc' }).finalize()).dtype, 'uint16');
  assert.equal((await img.imdelay({ channels: 'pq16', space: 'asset' }).finalize()).dtype, 'float32');
  assert.equal((await img.imdelay({ channels: 'pu8|pa' }).finalize()).dtype, 'uint16');
  assert.equal((await img.imdelay({ channels: 'pu8|pf32' }).finalize()).dtype, 'float32');
  assert.equal(promoteDtypes(['uint8', 'int8']), 'int16');
  assert.equal(promoteDtypes(['uint16', 'int16']), 'int32');
  assert.equal(promoteDtypes(['uint8', 'uint8']), 'uint8');
  assert.equal(promoteDtypes(['int16', 'float32']), 'float32');
  assert.equal(promoteDtypes(['float32', 'float64']), 'float64');
});

test('dequantize: README C7 formula in float32 steps, NaN at nodata', () => {
  const q = checkQuantization({ orig_min: -1, orig_max: 3, quant_min: 0, quant_max: 32767, nodata: -9999 }, 'test');
  const r = dequantizeRaster(new Raster(new Int16Array([0, 32767, 16384, -9999]), [1, 4, 1]), q);
  assert.equal(r.dtype, 'float32');
  const f = Math.fround;
  const scale = f(4 / 32767);
  assert.deepEqual(Array.from(r.data), [-1, f(f(32767 * scale) - 1), f(f(16384 * scale) - 1), NaN]);
  assert.ok(Math.abs(r.data[1]! - 3) < 1e-6);
  assert.throws(() => checkQuantization({ orig_min: 0, orig_max: 'x' }, 'asset a.tif'), /asset a\.tif: quantization\.orig_max must be a finite number/);
  assert.throws(() => checkQuantization(null, 'asset a.tif'), /must be an object/);
});

test('footprint crop (C6): upsampled assets keep everything, an asset larger than the footprint is cropped with a margin', () => {
  assert.deepEqual(footprintCrop(Affine.scale(2), [16, 12], [8, 6]), { x0: 0, y0: 0, x1: 8, y1: 6 });
  // image 10x10 sees asset columns 20..30 (offset -20): floor/ceil, widen left by 1, right by ceil(10/10)
  assert.deepEqual(footprintCrop(Affine.translate(-20, -20), [10, 10], [64, 64]), { x0: 19, y0: 19, x1: 31, y1: 31 });
});

test('a crop reads only its window: tiles far from it may be corrupt', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'imdelay-window-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const W = 512;
  const data = new Float32Array(W * W);
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) data[y * W + x] = Math.sin(x / 9) * Math.cos(y / 13);
  const path = join(dir, 'big.tif');
  await writeCog(path, new Raster(data, [W, W, 1]), { blocksize: 128, compress: 'DEFLATE' });
  const manifest = {
    images: [{ id: 1, name: 'big', width: 256, height: 256, assets: [{ file_name: 'big.tif', channels: 'v', width: W, height: W, warp_aux_to_img: { scale: 0.5 } }] }],
  };
  const dset = CocoDataset.fromJSON(manifest, { bundleDpath: dir });
  const delayed = dset.cocoImage(1).imdelay({ channels: 'v', interpolation: 'linear' });
  const full = await delayed.finalize();
  const before = await delayed.crop([slice(10, 40), slice(20, 60)]).finalize();
  assert.deepEqual(before.data, full.crop(10, 20, 30, 40).data);
  // corrupt every tile of the bottom-right quarter (asset rows/cols >= 256)
  const layout = await readTiffLayout(path);
  const ifd = layout.ifds[0]!;
  const tilesAcross = Math.ceil(ifd.width / ifd.tileWidth);
  const fd = openSync(path, 'r+');
  let corrupted = 0;
  ifd.dataOffsets.forEach((off, i) => {
    const ty = Math.floor(i / tilesAcross), tx = i % tilesAcross;
    if (ty >= 2 && tx >= 2 && off > 0) {
      writeSync(fd, Buffer.alloc(ifd.dataByteCounts[i]!, 0x5a), 0, ifd.dataByteCounts[i]!, off);
      corrupted++;
    }
  });
  closeSync(fd);
  assert.equal(corrupted, 4);
  await assert.rejects(delayed.finalize());
  const after = await delayed.crop([slice(10, 40), slice(20, 60)]).finalize();
  assert.deepEqual(after.data, before.data);
});

test('the exported imdelay is what CocoImage.imdelay delegates to', async () => {
  const d = await probe();
  const a = await imdelay(d.cocoImage(2), { channels: 'qrot', space: 'video' }).finalize();
  const b = await d.cocoImage(2).imdelay({ channels: 'qrot', space: 'video' }).finalize();
  assert.deepEqual(a.shape, [26, 34, 1]);
  assert.deepEqual(a.data, b.data);
});
