import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Raster } from '../../src/array/raster.ts';
import { DTYPE_NAMES } from '../../src/array/dtypes.ts';

test('Raster is HWC: get(y, x, band) reads data[(y*w + x)*c + band]', () => {
  const r = new Raster(Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i), [2, 3, 2]);
  assert.equal(r.get(0, 0, 0), 0);
  assert.equal(r.get(0, 0, 1), 1);
  assert.equal(r.get(0, 1, 0), 2);
  assert.equal(r.get(1, 2, 1), 11);
  assert.deepEqual(r.shape, [2, 3, 2]);
});

test('Raster.zeros supports every dtype', () => {
  for (const d of DTYPE_NAMES) {
    const r = Raster.zeros([2, 2, 3], d);
    assert.equal(r.dtype, d);
    assert.equal(r.data.length, 12);
  }
});

test('Raster.fromCHW transposes band-first data', () => {
  // 2 bands of 1x3: band0 = 1 2 3, band1 = 4 5 6
  const r = Raster.fromCHW(new Int16Array([1, 2, 3, 4, 5, 6]), [2, 1, 3]);
  assert.deepEqual(r.shape, [1, 3, 2]);
  assert.deepEqual([...r.data], [1, 4, 2, 5, 3, 6]);
  assert.deepEqual([...r.toCHW()], [1, 2, 3, 4, 5, 6]);
});

test('Raster rejects a data length that does not fit the shape, naming both', () => {
  assert.throws(() => new Raster(new Float32Array(5), [2, 3, 1]), /5 elements but shape \[2, 3, 1\] needs 6/);
  assert.throws(() => Raster.zeros([2, -1, 1]), /not \[height, width, bands\]/);
  assert.throws(() => Raster.zeros([2, 2, 1], 'complex64' as never), /unknown dtype "complex64"/);
  assert.throws(() => new Raster([1, 2] as never, [1, 2, 1]), /unsupported array type Array/);
});

test('Raster.get outside the raster is an error, not undefined', () => {
  const r = Raster.zeros([2, 2, 1]);
  assert.throws(() => r.get(2, 0), /outside raster of shape \[2, 2, 1\]/);
});

test('crop and selectBands copy the requested part', () => {
  const r = new Raster(Uint8Array.from({ length: 3 * 3 * 2 }, (_, i) => i), [3, 3, 2]);
  const c = r.crop(1, 1, 2, 2);
  assert.deepEqual([...c.data], [8, 9, 10, 11, 14, 15, 16, 17]);
  assert.deepEqual([...r.selectBands([1]).data], [1, 3, 5, 7, 9, 11, 13, 15, 17]);
  assert.throws(() => r.crop(2, 2, 2, 2), /outside raster/);
});
