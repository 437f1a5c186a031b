/**
 * The package root exports every name of design.md's public API contract,
 * each of the right kind; other code and tests rely on these names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.ts';

const CLASSES = [
  'Raster', 'SlidingWindow', 'Affine', 'Stitcher', 'FusedChannelSpec', 'ChannelSpec', 'CocoDataset', 'CocoImage',
  'CocoStitchingManager', 'WriterQueue',
];
const FUNCTIONS = [
  'writeCog', 'writePng', 'readRaster', 'readPng', 'slice', 'fixSlice', 'quantizeImage', 'dequantize',
  'maskToMultiPolygon', 'scoredPolygons', 'upweightCenterMask', 'warpAffine', 'demoCocoStitchingManager',
];

test('the package root exports the contract names', () => {
  const exported = api as Record<string, unknown>;
  for (const name of [...CLASSES, ...FUNCTIONS]) assert.equal(typeof exported[name], 'function', `${name} is not exported`);
  for (const name of CLASSES) assert.match(String(exported[name]), /^class /, `${name} is not a class`);
  for (const k of ['fromCHW', 'zeros']) assert.equal(typeof (api.Raster as any)[k], 'function', `Raster.${k}`);
  for (const k of ['coerce', 'eye', 'scale']) assert.equal(typeof (api.Affine as any)[k], 'function', `Affine.${k}`);
  for (const k of ['load', 'fromJSON', 'demo']) assert.equal(typeof (api.CocoDataset as any)[k], 'function', `CocoDataset.${k}`);
  for (const k of ['accumulateImage', 'managedImageIds', 'readyImageIds', 'submitFinalizeImage', 'flushImages', 'finalizeImage']) {
    assert.equal(typeof (api.CocoStitchingManager.prototype as any)[k], 'function', `CocoStitchingManager.${k}`);
  }
  for (const k of ['add', 'finalize', 'merge']) assert.equal(typeof (api.Stitcher.prototype as any)[k], 'function', `Stitcher.${k}`);
});

test('error classes share one base, so callers can catch ours apart from bugs', () => {
  for (const E of [api.ShapeError, api.DtypeError, api.ValueError, api.IoError, api.FormatError, api.UnsupportedError,
    api.WriterOptionError, api.ManifestError, api.UnknownIdError, api.ChannelError, api.StitchError, api.StitchStateError]) {
    assert.ok(new E('x') instanceof api.CocoStitcherError, E.name);
  }
});

test('the built package (dist/, what `import "coco-stitcher"` loads, without tsx) exports the same names and works', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  // a plain node process (no tsx loader) importing the package by name through its "exports"
  const script = `
const m = await import('coco-stitcher');
const s = new m.Stitcher([4, 4, 1], { blocksize: 16 });
s.add([m.slice(0, 2), m.slice(0, 2)], m.Raster.full([2, 2, 1], 3), 2);
console.log(JSON.stringify({ names: Object.keys(m).sort(), v: s.finalize().get(1, 1), nan: Number.isNaN(s.finalize().get(3, 3)) }));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const got = JSON.parse(res.stdout);
  assert.deepEqual(got.names, Object.keys(api).sort());
  assert.equal(got.v, 3);
  assert.equal(got.nan, true);
});
