/**
 * CocoImage over the Python-written fixtures: assets (live records, kwcoco's
 * order), channels, paths, video, and where addAsset appends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { CocoImage } from '../../src/coco/coco-image.ts';
import { ChannelError, ManifestError } from '../../src/coco/errors.ts';
import { KWCOCO_FIXTURES as FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

const load = (b: string) => CocoDataset.load(join(FIXTURES, b, 'data.kwcoco.json'));

test('bundle-msi: channels per image are the assets\' codes, late-fused in manifest order (README sensors)', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await load('bundle-msi');
  const specs = dset.imageIds().map((g) => dset.cocoImage(g).channels.spec);
  assert.deepEqual(specs, [
    'r|g|b,disparity,gauss,B8|B11',
    'B1,B8,B8a,B10,B11',
    'B11,X.2,Y:2:6',
    'r|g|b,flowx|flowy,distri,B10|B11',
  ]);
  const img3 = dset.cocoImage(3);
  assert.ok(img3.channels.has('Y.5'));
  assert.ok(img3.channels.has('X.2'));
  assert.equal(img3.channels.numel(), 1 + 1 + 4);
});

test('assets are the live auxiliary records; resolvePath finds every fixture file', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  for (const b of ['bundle-msi', 'bundle-probe', 'bundle-stitched']) {
    const dset = await load(b);
    for (const gid of dset.imageIds()) {
      const img = dset.cocoImage(gid);
      assert.ok(img instanceof CocoImage);
      assert.equal(img.img, dset.index.imgs.get(gid));
      assert.equal(img.assets.length, img.img.auxiliary!.length);
      img.assets.forEach((a, i) => assert.equal(a, img.img.auxiliary![i]));
      for (const a of img.assets) {
        const p = img.resolvePath(a.file_name);
        assert.equal(p, join(FIXTURES, b, a.file_name));
        assert.ok(existsSync(p), p);
      }
    }
  }
});

test('video and bundle', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await load('bundle-stitched');
  const img = dset.cocoImage(3);
  assert.equal(img.video, dset.index.videos.get(2));
  assert.equal(img.video!.width, 80);
  assert.equal(img.bundleDpath, join(FIXTURES, 'bundle-stitched'));
  assert.deepEqual(img.dsize, [64, 64]);
  const bare = CocoDataset.fromJSON({ images: [{ id: 1, file_name: 'a.png' }] }, { bundleDpath: '/data/b' });
  assert.equal(bare.cocoImage(1).video, null);
  assert.equal(bare.cocoImage(1).resolvePath('x/y.tif'), '/data/b/x/y.tif');
  assert.equal(bare.cocoImage(1).resolvePath('/abs/./z.tif'), '/abs/z.tif');
  assert.throws(() => bare.cocoImage(1).resolvePath(''), ManifestError);
});

test('an image with its own file_name is its first asset (kwcoco order), then its assets', () => {
  const dset = CocoDataset.fromJSON({
    images: [{ id: 1, file_name: 'base.tif', channels: 'r|g|b', width: 4, height: 4, assets: [{ file_name: 'nir.tif', channels: 'nir' }] },
      { id: 2, file_name: null, name: 'n', assets: [{ file_name: 'x.tif', num_bands: 2 }, { file_name: 'y.tif' }] }],
  });
  const one = dset.cocoImage(1);
  assert.deepEqual(one.assets.map((a) => a.file_name), ['base.tif', 'nir.tif']);
  assert.equal(one.assets[0], one.img);
  assert.equal(one.channels.spec, 'r|g|b,nir');
  // unnamed bands count as u0|u1; an asset with neither channels nor num_bands is skipped
  assert.equal(dset.cocoImage(2).channels.spec, 'u0|u1');
});

test('addAsset appends to auxiliary when the image uses it, to assets otherwise, never both', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await load('bundle-stitched');
  const img = dset.cocoImage(1);
  const n = img.img.auxiliary!.length;
  const asset = { file_name: '_assets/x/y.tif', channels: 'df1|df2', width: 3, height: 3, num_bands: 2 };
  img.addAsset(asset);
  assert.equal(img.img.auxiliary!.length, n + 1);
  assert.equal(img.img.auxiliary![n], asset);
  assert.equal('assets' in img.img, false);
  assert.ok(img.channels.has('df2'));

  const d2 = CocoDataset.fromJSON({ images: [{ id: 1, name: 'a', assets: [{ file_name: 'a.tif' }] }, { id: 2, name: 'b' }, { id: 3, name: 'c', auxiliary: [] }] });
  d2.cocoImage(1).addAsset({ file_name: 'b.tif' });
  assert.deepEqual(d2.index.imgs.get(1)!.assets!.map((a) => a.file_name), ['a.tif', 'b.tif']);
  d2.cocoImage(2).addAsset({ file_name: 'c.tif' });
  assert.deepEqual(d2.index.imgs.get(2)!.assets, [{ file_name: 'c.tif' }]);
  assert.equal('auxiliary' in d2.index.imgs.get(2)!, false);
  d2.cocoImage(3).addAsset({ file_name: 'd.tif' });
  assert.deepEqual(d2.index.imgs.get(3)!.auxiliary, [{ file_name: 'd.tif' }]);
  assert.equal('assets' in d2.index.imgs.get(3)!, false);

  assert.throws(() => d2.cocoImage(2).addAsset({ file_name: '' }), /file_name "" is not a non-empty string/);
  assert.throws(() => d2.cocoImage(2).addAsset({ file_name: 'e.tif', channels: 'a||b' }), ChannelError);
});

test('an image with both auxiliary and assets lists both (kwcoco: auxiliary first)', () => {
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'x', auxiliary: [{ file_name: 'a.tif', channels: 'a' }], assets: [{ file_name: 'b.tif', channels: 'b' }] }] });
  assert.deepEqual(dset.cocoImage(1).assets.map((a) => a.file_name), ['a.tif', 'b.tif']);
  assert.equal(dset.cocoImage(1).channels.spec, 'a,b');
});

test('imdelay delegates to the delayed loader', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await load('bundle-probe');
  const delayed = dset.cocoImage(1).imdelay({ channels: 'pu8', space: 'image' });
  assert.deepEqual(delayed.shape, [12, 16, 1]);
});
