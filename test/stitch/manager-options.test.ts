/**
 * resolveManagerOptions: the defaults of the original's CocoStitchingManager
 * (design.md) and the checks, apart from the manager's coordination.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveManagerOptions } from '../../src/stitch/manager-options.ts';
import { ValueError } from '../../src/array/errors.ts';
import { WriterOptionError } from '../../src/io/errors.ts';
import { StitchError } from '../../src/stitch/errors.ts';

test('defaults are the original\'s', () => {
  assert.deepEqual(resolveManagerOptions({ shortCode: 'pred', chanCode: 'a|b' }), {
    shortCode: 'pred', chanCode: 'a|b', chanNumel: 2, stitchingSpace: 'video', device: 'cpu', memmap: false, thresh: 0.5,
    writeProbs: true, writePreds: false, numBands: 'auto', probCompress: 'DEFLATE', probBlocksize: 128, probFormat: 'cog',
    polygonCategories: null, polygonIdxs: [], expectedMinmax: null, quantize: true, writerQueue: null,
    writePredictionAttrs: true, assetsDname: '_assets', dtype: 'float32', infPolicy: 'raise', memmapCacheBytes: undefined,
    connectivity: 8, io: undefined,
  });
});

test('aliases resolve: device numpy -> cpu, probCompress raw -> NONE; polygon categories map to band indices', () => {
  const s = resolveManagerOptions({ shortCode: 'p', chanCode: 'x|y|z', device: 'numpy', probCompress: 'raw' as 'RAW', writePreds: true, polygonCategories: ['z', 'x'] });
  assert.equal(s.device, 'cpu');
  assert.equal(s.probCompress, 'NONE');
  assert.deepEqual(s.polygonIdxs, [2, 0]);
  assert.deepEqual(resolveManagerOptions({ shortCode: 'p', chanCode: 'x|y', writePreds: true }).polygonCategories, ['x', 'y']);
});

test('each bad value is an error naming it', () => {
  const base = { shortCode: 'p', chanCode: 'a|b' };
  assert.throws(() => resolveManagerOptions({ ...base, device: 'cuda' }), (e: Error) => e instanceof ValueError && /device "cuda" is not supported/.test(e.message));
  assert.throws(() => resolveManagerOptions({ ...base, probCompress: 'JPEG' as 'LZW' }), (e: Error) => e instanceof WriterOptionError && /probCompress "JPEG"/.test(e.message));
  assert.throws(() => resolveManagerOptions({ ...base, probBlocksize: 100 }), /probBlocksize must be a positive multiple of 16 .* got 100/);
  assert.throws(() => resolveManagerOptions({ ...base, numBands: 3 }), (e: Error) => e instanceof StitchError && /numBands has 3 bands but chanCode "a\|b" has 2 channels/.test(e.message));
  assert.throws(() => resolveManagerOptions({ ...base, writePreds: true, polygonCategories: ['c'] }), /polygonCategories entry "c" is not a channel of chanCode "a\|b" \(a, b\)/);
  assert.throws(() => resolveManagerOptions({ chanCode: 'a' }), /shortCode is required when writeProbs is true/);
});
