import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateManifest } from '../../src/coco/schema.ts';
import { demoCocoStitchingManager } from '../../src/stitch/demo-manager.ts';
import { validateCog } from '../helpers/gdal.ts';
import { scratchDir } from '../helpers/scratch.ts';

test('demoCocoStitchingManager: 4 frames stitched with edge weights, COGs valid, manifest dumped and valid', async () => {
  const dpath = scratchDir('mgr-demo-');
  const dset = await demoCocoStitchingManager({ dpath });
  const fpath = join(dpath, 'demo_stitched.kwcoco.json');
  assert.equal(dset.fpath, fpath);
  assert.ok(existsSync(fpath));
  const dumped = JSON.parse(readFileSync(fpath, 'utf8'));
  const res = validateManifest(dumped);
  assert.ok(res.valid, JSON.stringify(res.errors).slice(0, 400));
  assert.equal(dumped.images.length, 4);
  for (const gid of dset.imageIds()) {
    const img = dset.cocoImage(gid);
    const asset = img.assets.at(-1)!;
    assert.equal(asset.channels, 'demochan.0|demochan.1|demochan.2');
    assert.equal(asset.num_bands, 3);
    assert.deepEqual([asset.width, asset.height], [128, 128]);
    assert.deepEqual(img.img.has_predictions, { 'demochan.0|demochan.1|demochan.2': true });
    const v = validateCog(img.resolvePath(asset.file_name));
    assert.ok(v.valid, v.errors.join('; '));
    const r = await img.imdelay({ channels: 'demochan.0:3', space: 'video' }).finalize();
    assert.deepEqual(r.shape, [128, 128, 3]);
    // downweightEdges: the forced 1s at window edges are pulled down where windows overlap
    // (rows 92..95 are the bottom edge of the window at row 0 and the middle of the one at row 32;
    // averaged with equal weights they would be >= 0.5), but stay 1 at the outer canvas border
    assert.ok(Math.abs(r.get(0, 64, 0) - 1) < 1e-3, `top edge ${r.get(0, 64, 0)}`);
    let interior = 0, n = 0;
    for (let x = 40; x < 88; x++) { interior += r.get(93, x, 1); n++; }
    assert.ok(interior / n < 0.5, `interior window edge not downweighted: ${interior / n}`);
  }
});
