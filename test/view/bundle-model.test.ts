/**
 * The page's reading of a manifest, under node: frame order, placement of
 * assets through warp_img_to_vid @ warp_aux_to_img (worked out by hand),
 * refusal of warps the viewer cannot draw, dequantization (the formula by
 * hand), polygon formats, and the percentile stretch against a naive sort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dequantize, frameGroups, imageInfo, segmentationRings, type ViewDescription } from '../../src/view/page/bundle-model.ts';
import { percentileRange } from '../../src/view/page/stretch.ts';
import { colormapLut, lutIndex } from '../../src/view/page/colormap.ts';

const desc: ViewDescription = {
  manifestUrl: '/data.kwcoco.json',
  urlOf: { 'a.tif': '/a.tif', 'heat.tif': '/heat.tif', 'rot.tif': '/rot.tif', '/elsewhere/x.tif': null },
  dataset: {
    videos: [{ id: 5, name: 'v', width: 200, height: 100 }],
    images: [
      { id: 3, name: 'late', video_id: 5, frame_index: 2, width: 100, height: 50, warp_img_to_vid: { scale: 2 } },
      {
        id: 1, name: 'early', video_id: 5, frame_index: 0, width: 100, height: 50,
        warp_img_to_vid: { scale: 2, offset: [10, 20] },
        has_predictions: { 'heat.0:2': true },
        assets: [
          { file_name: 'a.tif', channels: 'rgb', width: 100, height: 50 },
          { file_name: 'heat.tif', channels: 'heat.0:2', width: 50, height: 25, warp_aux_to_img: { scale: 2, offset: [1, 3] } },
          { file_name: 'rot.tif', channels: 'x', width: 10, height: 10, warp_aux_to_img: { theta: 0.1 } },
          { file_name: '/elsewhere/x.tif', channels: 'q', width: 10, height: 10, quantization: { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 255, nodata: 0 } },
          { file_name: 'a.tif', channels: 'y', width: 10, height: 20, warp_aux_to_img: { scale: [1, 2] } },
        ],
      },
      { id: 7, name: 'loose', width: 30, height: 40, file_name: 'a.tif', wld_to_pxl: { scale: [0.1, -0.1], offset: [-10, 50] }, wld_crs_info: { auth: ['EPSG', '32618'] } },
      { id: 2, name: 'middle', video_id: 5, frame_index: 1, width: 100, height: 50 },
    ],
  },
};

test('frame groups: a video\'s images in frame_index order, then images without a video', () => {
  const g = frameGroups(desc);
  assert.deepEqual(g.map((x) => [x.key, x.imageIds, x.width, x.height]), [['video-5', [1, 2, 3], 200, 100], ['image-7', [7], 30, 40]]);
});

test('asset placement composes warp_img_to_vid and warp_aux_to_img; stitched means has_predictions or quantization', () => {
  const info = imageInfo(desc, 1);
  assert.deepEqual(info.placement, { sx: 2, sy: 2, tx: 10, ty: 20 });
  const [rgb, heat, rot, outside, squashed] = info.assets;
  assert.deepEqual(rgb.channels, ['r', 'g', 'b']);
  assert.equal(rgb.stitched, false);
  assert.deepEqual(rgb.placement, { sx: 2, sy: 2, tx: 10, ty: 20 });
  // asset pixel (u, v) -> image (2u + 1, 2v + 3) -> video (4u + 12, 4v + 26)
  assert.deepEqual(heat.placement, { sx: 4, sy: 4, tx: 12, ty: 26 });
  assert.deepEqual(heat.channels, ['heat.0', 'heat.1']);
  assert.equal(heat.stitched, true);
  assert.match((rot.placement as { error: string }).error, /rot\.tif's warp_aux_to_img rotates or shears/);
  assert.equal(outside.url, null);
  assert.equal(outside.stitched, true, 'quantization marks a stitched asset');
  assert.match((squashed.placement as { error: string }).error, /scales x by 1 and y by 2/);
});

test('an image without a video is drawn in its own pixels, with its CRS', () => {
  const info = imageInfo(desc, 7);
  assert.deepEqual(info.placement, { sx: 1, sy: 1, tx: 0, ty: 0 });
  assert.equal(info.assets.length, 1);
  assert.equal(info.crs, 'EPSG:32618');
  // pixel = 0.1 * world + offset -> world = (pixel - offset) / 0.1
  const [[wx, wy]] = info.worldFromImg!.apply([[5, 10]]);
  assert.ok(Math.abs(wx - 150) < 1e-9 && Math.abs(wy - 400) < 1e-9, `${wx}, ${wy}`);
  assert.throws(() => imageInfo(desc, 99), /image 99 is not in the manifest/);
});

test('dequantize: orig_min + (q - quant_min) * (orig_max - orig_min) / (quant_max - quant_min); nodata and NaN are null', () => {
  const q = { orig_min: -2, orig_max: 3, quant_min: 0, quant_max: 32767, nodata: -9999 };
  assert.equal(dequantize(0, q, null), -2);
  assert.equal(dequantize(32767, q, null), 3);
  assert.equal(dequantize(16384, q, null), -2 + 16384 * 5 / 32767);
  assert.equal(dequantize(-9999, q, null), null);
  assert.equal(dequantize(NaN, null, null), null);
  assert.equal(dequantize(7, null, 7), null);
  assert.equal(dequantize(0.25, null, null), 0.25);
});

test('segmentation rings from COCO flat lists, kwimage dicts, GeoJSON and lists of them', () => {
  assert.deepEqual(segmentationRings([[0, 0, 4, 0, 4, 4]]), [[[0, 0], [4, 0], [4, 4]]]);
  assert.deepEqual(segmentationRings({ exterior: [[0, 0], [1, 0], [1, 1]], interiors: [[[0.2, 0.2], [0.5, 0.2], [0.5, 0.5]]] }).length, 2);
  assert.equal(segmentationRings({ type: 'MultiPolygon', coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]] }).length, 2);
  assert.equal(segmentationRings([{ exterior: [[0, 0], [1, 0], [1, 1]] }, { exterior: [[2, 2], [3, 2], [3, 3]] }]).length, 2);
  assert.deepEqual(segmentationRings(null), []);
});

test('percentile stretch equals the naive sorted-array percentiles, nodata and NaN left out', () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.integer({ min: -50, max: 300 }), fc.constant(Number.NaN)), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 49, noNaN: true }), (values, p) => {
    const nodata = -7;
    const valid = values.filter((v) => v === v && v !== nodata).sort((a, b) => a - b);
    const got = percentileRange(Float64Array.from(values), p, nodata);
    if (!valid.length) { assert.equal(got, null); return; }
    const at = (q: number) => valid[Math.round((q / 100) * (valid.length - 1))];
    const [lo, hi] = [at(p), at(100 - p)];
    if (hi > lo) assert.deepEqual(got, [lo, hi]);
    else assert.ok(got![1] > got![0]);
  }));
  assert.throws(() => percentileRange([1], 50, null), /stretch percentile 50 is not in \[0, 50\)/);
});

test('colour maps: viridis from dark purple to yellow, grey is the identity, unknown names are an error', () => {
  const v = colormapLut('viridis');
  assert.deepEqual([...v.subarray(0, 3)], [68, 1, 84]);
  assert.deepEqual([...v.subarray(765, 768)], [253, 231, 37]);
  const g = colormapLut('gray');
  for (let i = 0; i < 256; i++) assert.equal(g[3 * i], i);
  assert.equal(lutIndex(0.5, 0, 1), 128);
  assert.equal(lutIndex(-1, 0, 1), 0);
  assert.equal(lutIndex(2, 0, 1), 255);
  assert.throws(() => colormapLut('jet'), /unknown colour map "jet"; expected one of viridis, magma, gray/);
});
