/**
 * Quantized outputs in model units outside kwcoco: every band of a quantized
 * COG carries GDAL's scale and offset (GDAL_METADATA items, as GDAL writes
 * them), so GDAL-based tools (gdalinfo, QGIS, rasterio's `scales`) read the
 * model's values, while kwcoco and our imdelay read them once, not twice.
 *
 * Why kwcoco does not apply GDAL's scale: its GDAL backend (delayed_image's
 * LazyGDalFrameFile in lazy_loaders.py, used by `imdelay(...).finalize()`,
 * and its fallback kwimage.im_io._gdal_read; read in their sources) reads raw
 * samples with `ReadAsArray` (looking at GetNoDataValue only, never
 * GetScale / GetOffset), and the asset's `quantization` dict is what
 * dequantizes them (fixtures README C7). So a file with scale tags gives kwcoco the raw
 * samples it gave before; the test below checks the raw samples GDAL's
 * ReadAsArray returns are the same with and without the tags, and that our
 * imdelay over tagged copies of the Python-written fixture COGs still gives
 * Python's arrays bit for bit.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { attr, buildOnnxModel } from '../../src/cli/onnx/build-model.ts';
import { runPredict } from '../../src/predict/run-predict.ts';
import { openRaster } from '../../src/io/read-raster.ts';
import fc from 'fast-check';
import { dequantizeRaster, gdalScaleOffset } from '../../src/coco/quantization.ts';
import { quantizationFor } from '../../src/stitch/quantize.ts';
import { Raster } from '../../src/array/raster.ts';
import { validateBundle } from '../../src/cli/validate/validate-bundle.ts';
import { gdalinfo, gdalPython, gdalRead } from '../helpers/gdal.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { expectedArray, fixtureEntries, KWCOCO_FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

/** float32 precision of a value of magnitude up to `m`: a few ulps, as kwcoco's float32 steps round */
const f32tol = (m: number) => 4 * 2 ** -23 * Math.max(1, m);

/** GDAL's reading with its scale and offset applied by GDAL itself (gdal_translate -unscale), NaN at nodata. */
function gdalUnscaled(path: string): { data: Float64Array; scales: number[]; offsets: number[]; nodata: (number | null)[] } {
  const out = gdalPython(`
import sys, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
src = gdal.Open(sys.argv[1])
b = [src.GetRasterBand(i + 1) for i in range(src.RasterCount)]
meta = {"scales": [x.GetScale() for x in b], "offsets": [x.GetOffset() for x in b], "nodata": [x.GetNoDataValue() for x in b]}
ds = gdal.Translate('/vsimem/u.tif', src, unscale=True, outputType=gdal.GDT_Float64, noData='nan')
a = np.stack([ds.GetRasterBand(i + 1).ReadAsArray() for i in range(ds.RasterCount)], axis=-1)
meta["data"] = [None if v != v else float(v) for v in a.ravel()]
print(json.dumps(meta))
`, [path]);
  const m = JSON.parse(out);
  return { data: Float64Array.from(m.data, (v: number | null) => (v === null ? NaN : v)), scales: m.scales, offsets: m.offsets, nodata: m.nodata };
}

it('raw * scale + offset equals kwcoco\'s float32 dequantization within float32 precision (int16 and uint8 quantizations)', () => {
  fc.assert(fc.property(
    fc.constantFrom('int16' as const, 'uint8' as const, 'uint16' as const), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 2000 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 50 }),
    (dtype, lo, width, fracs) => {
      const q = quantizationFor(dtype, lo, lo + width);
      const raw = fracs.map((f) => Math.round(q.quant_min + f * (q.quant_max - q.quant_min)));
      const deq = dequantizeRaster(new Raster(Float64Array.from(raw), [1, raw.length, 1]), q).data;
      const { scale, offset } = gdalScaleOffset(q);
      raw.forEach((r, i) => {
        const v = r * scale + offset;
        assert.ok(Math.abs(v - deq[i]!) <= f32tol(Math.abs(lo) + width), `${dtype} ${JSON.stringify(q)} raw ${r}: ${v} vs ${deq[i]}`);
      });
    },
  ), { numRuns: 300 });
});

describe('quantized outputs carry GDAL scale and offset', needsOrt, () => {
  let root: string;
  let src: string;
  let model: string;
  before(async () => {
    root = scratchDir('model-units-');
    const dset = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 2, imageSize: 40, dpath: join(root, 'input'), seed: 5 });
    src = dset.fpath!;
    model = join(root, 'sqrt.onnx');
    // sqrt(4 r / 255 - 1) - 2.5 and sqrt(30 g / 255 + 0.5) - 2.5: NaN where r < 64 (nodata in the file),
    // values -2.5..3 (a negative orig_min gives a non-zero offset)
    writeFileSync(model, buildOnnxModel({
      inputs: [{ name: 'x', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y', shape: ['N', 2, 'H', 'W'] }],
      initializers: [
        { name: 'w', dims: [2, 3, 1, 1], data: Float32Array.from([4 / 255, 0, 0, 0, 30 / 255, 0]) },
        { name: 'b', dims: [2], data: Float32Array.from([-1, 0.5]) },
        { name: 'k', dims: [1], data: Float32Array.from([-2.5]) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attributes: { kernel_shape: attr.ints([1, 1]) } },
        { op: 'Sqrt', inputs: ['c'], outputs: ['s'] },
        { op: 'Add', inputs: ['s', 'k'], outputs: ['y'] },
      ],
    }));
  });

  it('gdalinfo and osgeo give scale and offset such that raw * scale + offset is what imdelay reads (once); nodata stays nodata', async () => {
    const dst = join(root, 'out', 'out.kwcoco.json');
    const summary = await runPredict({ src, dst, model, channels: 'r|g|b', window: 16, overlap: 0.25, space: 'image', progress: false, onWarning: () => {} });
    assert.equal(summary.images, 2);
    const out = await CocoDataset.load(dst);
    let nodataSeen = 0, validSeen = 0;
    for (const gid of out.imageIds()) {
      const asset = assetsOf(out.index.imgs.get(gid)).find((a) => a.channels === 'pred.0|pred.1');
      const file = resolve(dirname(dst), asset.file_name);
      const q = asset.quantization;
      const want = gdalScaleOffset(q);
      assert.ok(q.orig_min < 0 && want.offset === q.orig_min, `offset ${want.offset} of ${JSON.stringify(q)}`);
      // gdalinfo's own words
      const text = execFileSync('gdalinfo', [file], { encoding: 'utf8' });
      assert.equal((text.match(/Offset: [^,]+,\s+Scale:/g) ?? []).length, 2, text);
      // gdalinfo -json prints 14 significant digits; osgeo's GetScale / GetOffset below are exact
      const info = gdalinfo(file);
      for (const band of info.bands) {
        assert.ok(Math.abs(band.scale - want.scale) <= 1e-13 * Math.abs(want.scale), `band ${band.band} scale ${band.scale} vs ${want.scale}`);
        assert.ok(Math.abs(band.offset - want.offset) <= 1e-13 * Math.max(1, Math.abs(want.offset)), `band ${band.band} offset ${band.offset} vs ${want.offset}`);
        assert.equal(band.noDataValue, q.nodata);
      }
      // the items as GDAL writes them (the same tag GDAL_METADATA, one OFFSET and one SCALE per sample)
      const f = await openRaster(file);
      assert.deepEqual(f.bandScales, [want, want]);
      assert.equal(f.metadata.quantization?.startsWith("{'orig_min'"), true);
      await f.close();

      const raw = gdalRead(file);
      const scaled = gdalUnscaled(file);
      assert.deepEqual({ scales: scaled.scales, offsets: scaled.offsets }, { scales: [want.scale, want.scale], offsets: [want.offset, want.offset] });
      const ours = await out.cocoImage(gid).imdelay({ channels: 'pred.0|pred.1', space: 'image' }).finalize();
      assert.deepEqual(ours.shape, raw.shape);
      const m = Math.max(Math.abs(q.orig_min), Math.abs(q.orig_max));
      for (let i = 0; i < raw.data.length; i++) {
        const r = raw.data[i]!, g = scaled.data[i]!, o = ours.data[i]!;
        if (r === q.nodata) {
          // nodata: GDAL says nodata (NaN after -unscale), imdelay says NaN
          assert.ok(Number.isNaN(g) && Number.isNaN(o), `sample ${i}: raw nodata read as ${g} by GDAL, ${o} by imdelay`);
          nodataSeen++;
          continue;
        }
        validSeen++;
        const byHand = r * scaled.scales[i % 2]! + scaled.offsets[i % 2]!;
        assert.ok(Math.abs(g - byHand) <= 1e-12 * Math.max(1, m), `sample ${i}: GDAL unscaled ${g}, raw * scale + offset ${byHand}`);
        // imdelay applied the quantization once: a second pass would give (v * scale + offset)
        assert.ok(Math.abs(o - g) <= f32tol(m), `sample ${i}: imdelay ${o} vs GDAL ${g} (raw ${r})`);
      }
    }
    assert.ok(nodataSeen > 0 && validSeen > 0, `the output has nodata (${nodataSeen}) and valid (${validSeen}) samples`);
    // validate accepts what predict wrote (scales agree with the quantization)
    assert.deepEqual(await validateBundle(dst, { quick: true }), []);
  });

  it('validate reports a file whose GDAL scale disagrees with its quantization', async () => {
    const dst = join(root, 'bad', 'out.kwcoco.json');
    await runPredict({ src, dst, model, channels: 'r|g|b', window: 16, space: 'image', progress: false, imageIds: [1], onWarning: () => {} });
    const out = await CocoDataset.load(dst);
    const asset = assetsOf(out.index.imgs.get(1)).find((a) => a.channels === 'pred.0|pred.1');
    gdalPython(`
import sys
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1], gdal.GA_Update)
ds.GetRasterBand(2).SetScale(0.5)
ds = None
`, [resolve(dirname(dst), asset.file_name)]);
    const problems = (await validateBundle(dst, { quick: true })).map((p) => p.message);
    const says = /GDAL scale 0\.5 \/ offset -?[\d.]+ on band\(s\) 1, which disagree with its quantization/;
    assert.ok(problems.some((m) => says.test(m)), problems.join('\n'));
    // imdelay (so predict) refuses it with the same words: one check (coco/asset-file-check.ts)
    const again = await CocoDataset.load(dst);
    await assert.rejects(again.cocoImage(1).imdelay('pred.0').finalize(), says);
  });
});

describe('GDAL scale tags do not change what kwcoco or imdelay read (fixtures)', { skip: SKIP_WITHOUT_FIXTURES }, () => {
  it("the Python-written COGs with scale / offset added: GDAL's raw samples unchanged, imdelay equal to Python's arrays", async () => {
    const root = scratchDir('model-units-fixture-');
    const bundle = join(root, 'bundle-stitched');
    cpSync(join(KWCOCO_FIXTURES, 'bundle-stitched'), bundle, { recursive: true });
    const dset = await CocoDataset.load(join(bundle, 'data.kwcoco.json'));
    const folder = join(bundle, '_assets', 'pred_cog');
    for (const name of readdirSync(folder)) {
      const gid = dset.imageIds().find((g) => assetsOf(dset.index.imgs.get(g)).some((a) => String(a.file_name).endsWith(name)))!;
      const asset = assetsOf(dset.index.imgs.get(gid)).find((a) => String(a.file_name).endsWith(name));
      const { scale, offset } = gdalScaleOffset(asset.quantization);
      const file = join(folder, name);
      const before = gdalRead(file);
      execFileSync('gdal_edit.py', ['-scale', String(scale), '-offset', String(offset), file]);
      const after = gdalRead(file);
      // what kwcoco's GDAL backend reads (ReadAsArray): the same raw samples as before
      assert.deepEqual(after.data, before.data, name);
      assert.deepEqual(gdalUnscaled(file).scales, [scale, scale]);
      const f = await openRaster(file);
      assert.deepEqual(f.bandScales, [{ scale, offset }, { scale, offset }]);
      await f.close();
    }
    const entries = fixtureEntries().filter((e) => e.bundle === 'bundle-stitched' && e.file && e.channels.startsWith('pred') && !(e.nearest_paths ?? []).includes('cv2_warp_alt_matrix'));
    assert.ok(entries.length >= 8, `${entries.length} entries`);
    for (const e of entries) {
      if ((e.resample ?? []).includes('linear_aa')) continue; // antialias: within a tolerance elsewhere, bit for bit not expected
      const got = await dset.cocoImage(e.image_id).imdelay({ channels: e.channels, space: e.space, interpolation: e.interpolation }).finalize();
      const exp = expectedArray(e);
      assert.equal(got.data.length, exp.length);
      for (let i = 0; i < exp.length; i++) {
        const a = got.data[i]!, b = exp[i]!;
        assert.ok(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)), `${e.image_id} ${e.channels} ${e.space}/${e.interpolation} [${i}]: ${a} vs Python ${b}`);
      }
    }
  });
});
