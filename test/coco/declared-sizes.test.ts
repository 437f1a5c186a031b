/**
 * Declared sizes and warps are untrusted: each impossible one is refused at
 * load (or, for what only the file can tell, at read) with a ManifestError
 * naming the record, the value and what was expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { slice } from '../../src/array/slices.ts';
import { MemoryBudgetError } from '../../src/array/errors.ts';
import { setMemoryBudget } from '../../src/array/memory-budget.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { ManifestError } from '../../src/coco/errors.ts';
import { declaredSizeProblems } from '../../src/coco/declared-sizes.ts';
import { scratchDir } from '../helpers/scratch.ts';

const PROBE = '/work/shared/fixtures/kwcoco-py/bundle-probe';
const UP_U8 = './_assets/probe/up_u8.tif'; // 8 x 6 uint8
const dir = scratchDir('declared-sizes-');

/** A manifest text (Python's NaN token allowed) written into a file, then loaded. */
async function loadText(name: string, text: string): Promise<CocoDataset> {
  const path = join(dir, name);
  writeFileSync(path, text);
  return CocoDataset.load(path);
}

const image = (extra: Record<string, unknown>, asset: Record<string, unknown> = {}) => JSON.stringify({
  images: [{ id: 3, name: 'img', width: 16, height: 12, ...extra, assets: [{ file_name: 'a.tif', channels: 'a', width: 8, height: 6, warp_aux_to_img: { scale: 2 }, ...asset }] }],
});

test('impossible image sizes are refused at load, naming the image, the value and what was expected', async () => {
  const cases: [string, string, RegExp][] = [
    ['1e9', image({ width: 1e9, height: 1e9 }), /image 3: declares 1000000000 x 1000000000 pixels but its assets cover only 16 x 12 through their warps/],
    ['1e308', image({ width: 1e308 }), /image 3: width is 1e\+308; expected a positive integer number of pixels \(1 to 4294967295\)/],
    ['nan', image({ height: 'NAN' }).replace('"NAN"', 'NaN'), /image 3: height is NaN; expected a positive integer/],
    ['negative', image({ width: -5 }), /image 3: width is -5; expected a positive integer/],
    ['zero', image({ width: 0, height: 0 }), /image 3: width is 0; expected a positive integer.*and 1 more/],
    ['string', image({ width: '16' }), /image 3: width is the string "16"; expected a positive integer number of pixels/],
    ['fraction', image({ width: 15.5 }), /image 3: width is 15\.5; expected a positive integer/],
    ['list', image({ width: [16] }), /image 3: width is a list; expected a positive integer/],
  ];
  for (const [name, text, re] of cases) {
    await assert.rejects(loadText(`${name}.kwcoco.json`, text), (e: unknown) => e instanceof ManifestError && e.message.includes(`${name}.kwcoco.json: `) && re.test(e.message), name);
  }
  // within one asset pixel of rounding is fine (an asset of ceil(17 / 2) = 9 px at scale 2 covers 18)
  assert.ok(await loadText('round.kwcoco.json', image({ width: 17, height: 13 }, { width: 9, height: 7 })));
  assert.ok(await loadText('exact.kwcoco.json', image({})));
});

test('impossible asset sizes and degenerate warps are refused at load', async () => {
  const cases: [string, string, RegExp][] = [
    ['astring', image({}, { width: '256' }), /image 3 asset "a\.tif": width is the string "256"; expected a positive integer number of pixels/],
    ['aneg', image({}, { height: -1 }), /image 3 asset "a\.tif": height is -1; expected a positive integer/],
    ['scale0', image({}, { warp_aux_to_img: { scale: 0 } }), /image 3 asset "a\.tif": warp_aux_to_img \{"scale":0\} is degenerate \(determinant 0: it maps the raster to a line or a point\); expected an invertible affine transform/],
    ['scalex0', image({}, { warp_aux_to_img: { scale: [2, 0] } }), /warp_aux_to_img \{"scale":\[2,0\]\} is degenerate/],
    ['matrix0', image({}, { warp_aux_to_img: { type: 'affine', matrix: [[1, 2, 0], [2, 4, 0], [0, 0, 1]] } }), /is degenerate/],
    ['scalenan', image({}, { warp_aux_to_img: { scale: 'NAN' } }).replace('"NAN"', 'NaN'), /image 3 asset "a\.tif": warp_aux_to_img \{"scale":NaN\} has non-finite entries; expected a finite affine transform/],
    ['matrixnan', image({}, { warp_aux_to_img: { type: 'affine', matrix: [[1, 0, 0], [0, 'NAN', 0], [0, 0, 1]] } }).replace('"NAN"', 'NaN'), /image 3 asset "a\.tif": warp_aux_to_img .*(non-finite|not a valid transform)/],
    ['vidwarp0', JSON.stringify({ videos: [{ id: 1, name: 'v', width: 16, height: 12 }], images: [{ id: 3, video_id: 1, width: 16, height: 12, file_name: 'a.tif', warp_img_to_vid: { scale: 0 } }] }), /image 3: warp_img_to_vid \{"scale":0\} is degenerate/],
  ];
  for (const [name, text, re] of cases) {
    await assert.rejects(loadText(`${name}.kwcoco.json`, text), (e: unknown) => e instanceof ManifestError && re.test(e.message), name);
  }
  // an asset record larger than its image is no bomb by itself (its file decides what is read, checked at read)
  assert.ok(await loadText('abig.kwcoco.json', image({}, { width: 1e9, height: 1e9 })));
});

test('videos: 0 x 0, negative, strings and canvases far beyond their frames are refused', async () => {
  const video = (v: Record<string, unknown>) => JSON.stringify({
    videos: [{ id: 2, name: 'v', width: 16, height: 12, ...v }],
    images: [{ id: 1, video_id: 2, width: 16, height: 12, file_name: 'a.tif' }],
  });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ width: 0, height: 0 }, /video 2: width is 0; expected a positive integer number of pixels/],
    [{ width: -5 }, /video 2: width is -5; expected a positive integer/],
    [{ height: '12' }, /video 2: height is the string "12"; expected a positive integer/],
    [{ width: 1e9, height: 1e9 }, /video 2: declares 1000000000 x 1000000000 pixels but its frames cover only 16 x 12 through warp_img_to_vid/],
  ];
  for (const [v, re] of cases) await assert.rejects(loadText('video.kwcoco.json', video(v)), (e: unknown) => e instanceof ManifestError && re.test(e.message), JSON.stringify(v));
  // a canvas somewhat beyond its frames is kwcoco's (the Python probe bundle has one)
  assert.ok(await loadText('videook.kwcoco.json', video({ width: 30, height: 20 })));
  // a video without frames has nothing to compare with
  assert.ok(await loadText('empty.kwcoco.json', JSON.stringify({ videos: [{ id: 2, name: 'v', width: 1e6, height: 1e6 }] })));
});

test('declaredSizeProblems lists every problem, one per record and field', () => {
  const dset = CocoDataset.fromJSON({ images: [] });
  dset.addVideo({ name: 'v', width: 0, height: 12 });
  dset.addImage({ width: '8' as never, height: -1, assets: [{ file_name: 'a.tif', width: 8, height: 6, warp_aux_to_img: { scale: 0 } }] });
  const problems = declaredSizeProblems(dset).map((p) => `${p.where}: ${p.message}`);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems.join('\n'), /image 1: width is the string "8"/);
  assert.match(problems.join('\n'), /image 1: height is -1/);
  assert.match(problems.join('\n'), /image 1 asset "a\.tif": warp_aux_to_img \{"scale":0\} is degenerate/);
  assert.match(problems.join('\n'), /video 1: width is 0/);
});

test('what only the file can tell is checked when it is read: an image or asset declaring another size than its file', async () => {
  for (const [w, h] of [[1e9, 1e9], [80, 60], [8, 7]]) {
    // the image is its own asset (file_name on the image): nothing to compare at load
    const dset = CocoDataset.fromJSON({ images: [{ id: 5, width: w, height: h, file_name: UP_U8, channels: 'a' }] }, { bundleDpath: PROBE });
    const d = dset.cocoImage(5).imdelay('a');
    assert.deepEqual(d.shape, [h, w, 1]);
    await assert.rejects(d.crop([slice(0, 4), slice(0, 4)]).finalize(),
      (e: unknown) => e instanceof ManifestError && new RegExp(`up_u8\\.tif is 8x6 but its record says ${w}x${h} \\(width x height\\)`).test(e.message), `${w}x${h}`);
  }
  // an asset whose record disagrees with its file, in image space
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, width: 16, height: 12, assets: [{ file_name: UP_U8, channels: 'a', width: 8, height: 5, warp_aux_to_img: { scale: 2 } }] }] }, { bundleDpath: PROBE });
  await assert.rejects(dset.cocoImage(1).imdelay('a').finalize(), /up_u8\.tif is 8x6 but its record says 8x5/);
});

test('imdelay refuses sizes and warps that bypassed load (records edited in code)', async () => {
  const dset = CocoDataset.fromJSON({ images: [] }, { bundleDpath: PROBE });
  const gid = dset.addImage({ width: 16, height: 12, assets: [{ file_name: UP_U8, channels: 'a', width: 8, height: 6, warp_aux_to_img: { scale: 0 } }] });
  assert.throws(() => dset.cocoImage(gid).imdelay('a'), (e: unknown) => e instanceof ManifestError && /image 1 asset ".*up_u8\.tif": warp_aux_to_img \{"scale":0\} is degenerate/.test(e.message));
  const gid2 = dset.addImage({ width: '16' as never, height: 12, assets: [{ file_name: UP_U8, channels: 'b', width: 8, height: 6, warp_aux_to_img: { scale: 2 } }] });
  assert.throws(() => dset.cocoImage(gid2).imdelay('b'), (e: unknown) => e instanceof ManifestError && /image 2: width is the string "16"; expected a positive integer/.test(e.message));
  const vid = dset.addVideo({ name: 'v', width: 0, height: 0 });
  const gid3 = dset.addImage({ video_id: vid, width: 8, height: 6, file_name: UP_U8, channels: 'c' });
  assert.throws(() => dset.cocoImage(gid3).imdelay({ channels: 'c', space: 'video' }), (e: unknown) => e instanceof ManifestError && /video 1: width is 0; expected a positive integer number of pixels/.test(e.message));
  const gid4 = dset.addImage({ width: -5, height: 6, file_name: UP_U8, channels: 'd' });
  assert.throws(() => dset.cocoImage(gid4).imdelay('d'), (e: unknown) => e instanceof ManifestError && /image 4: width is -5; expected a positive integer/.test(e.message));
});

test('an imdelay read larger than the memory budget is refused before it allocates', async (t) => {
  t.after(() => setMemoryBudget(undefined));
  const dset = await CocoDataset.load(join(PROBE, 'data.kwcoco.json'));
  setMemoryBudget(1000);
  await assert.rejects(dset.cocoImage(1).imdelay('pu8|pf32').finalize(),
    (e: unknown) => e instanceof MemoryBudgetError && /image 1: reading 16 x 12 pixels of 2 channel\(s\) in image space needs .* over the memory budget/.test(e.message));
  setMemoryBudget(undefined);
  assert.deepEqual((await dset.cocoImage(1).imdelay('pu8|pf32').finalize()).shape, [12, 16, 2]);
});

test('CocoImage.checkFileSizes compares every record with its file before anything is planned', async () => {
  const dset = CocoDataset.fromJSON({
    images: [
      { id: 1, width: 1e9, height: 1e9, file_name: UP_U8, channels: 'a' },
      { id: 2, width: 8, height: 6, file_name: UP_U8, channels: 'a' },
      { id: 3, width: 16, height: 12, assets: [{ file_name: UP_U8, channels: 'a', width: 8, height: 6, warp_aux_to_img: { scale: 2 } }, { file_name: UP_U8, channels: 'b', width: 8, height: 60, warp_aux_to_img: { scale: 2 } }] },
    ],
  }, { bundleDpath: PROBE });
  await assert.rejects(dset.cocoImage(1).checkFileSizes(), (e: unknown) => e instanceof ManifestError && /image 1: .*up_u8\.tif is 8x6 but its record says 1000000000x1000000000/.test(e.message));
  await dset.cocoImage(2).checkFileSizes();
  await assert.rejects(dset.cocoImage(3).checkFileSizes(), /image 3: .*up_u8\.tif is 8x6 but its record says 8x60/);
});
