import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { StitchError } from '../../src/stitch/errors.ts';
import {
  agreeShapes, computeUpweightCenterMask, cropToAgree, dilationSize, gaussianKernel1d, upweightCenterMask,
} from '../../src/stitch/weights.ts';
import { readFileSync } from 'node:fs';

// Recorded from OpenCV 4.6.0 (Debian python3-opencv) running the original's recipe; see the file's "how".
const OPENCV = JSON.parse(readFileSync(new URL('../fixtures/opencv-upweight-masks.json', import.meta.url), 'utf8')) as {
  kernels1d: Record<string, number[]>; masks: Record<string, number[]>;
};

test('gaussianKernel1d: OpenCV formula, by hand for n = 1, 3, 4, and equal to OpenCV 4.6 for n = 1..17', () => {
  assert.deepEqual(Array.from(gaussianKernel1d(1)), [1]);
  // n = 3: sigma 0.8, unnormalised [e^(-1/1.28), 1, e^(-1/1.28)]
  const e = Math.exp(-1 / 1.28), s3 = 1 + 2 * e;
  const k3 = gaussianKernel1d(3);
  assert.ok(Math.abs(k3[0] - e / s3) < 1e-12 && Math.abs(k3[1] - 1 / s3) < 1e-12 && k3[0] === k3[2]);
  assert.ok(Math.abs(k3[0] - 0.2389943) < 1e-7);
  // n = 4: sigma 0.3*0.5+0.8 = 0.95. OpenCV's bit-exact kernel takes the two middle taps as exp(0) = 1
  // (not exp(-0.5^2 / (2 sigma^2))): unnormalised [e^(-1.5^2/(2 sigma^2)), 1, 1, e^(...)]
  const sg = 0.95, u = [Math.exp(-2.25 / (2 * sg * sg)), 1, 1, Math.exp(-2.25 / (2 * sg * sg))];
  const su = u.reduce((a, b) => a + b);
  gaussianKernel1d(4).forEach((v, i) => assert.ok(Math.abs(v - u[i] / su) < 1e-12));
  for (const [n, ref] of Object.entries(OPENCV.kernels1d)) {
    const ours = gaussianKernel1d(Number(n));
    ref.forEach((v, i) => assert.ok(Math.abs(ours[i] - v) <= 1e-15, `n = ${n}, tap ${i}: ${ours[i]} vs OpenCV ${v}`));
  }
});

test('dilationSize: max(n // 8, 3) made odd', () => {
  assert.deepEqual([1, 5, 7, 31, 32, 40, 64, 96, 100, 128, 256].map(dilationSize), [3, 3, 3, 3, 5, 5, 9, 13, 13, 17, 33]);
});

test('upweightCenterMask 5x7 by hand: plateau of 1 around the centre, floor 0.001', () => {
  const m = upweightCenterMask([5, 7]);
  assert.deepEqual(m.shape, [5, 7, 1]);
  assert.equal(m.dtype, 'float32');
  // separable: value = dil(gy/max gy)[y] * dil(gx/max gx)[x]; 3-wide max filters
  const gy = gaussianKernel1d(5), gx = gaussianKernel1d(7);
  const ny = Array.from(gy, (v) => v / gy[2]), nx = Array.from(gx, (v) => v / gx[3]);
  const dil = (a: number[]) => a.map((_, i) => Math.max(...a.slice(Math.max(0, i - 1), i + 2)));
  const dy = dil(ny), dx = dil(nx);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) {
    assert.equal(m.get(y, x), Math.fround(Math.max(dy[y] * dx[x], 0.001)), `(${y}, ${x})`);
  }
  for (let y = 1; y <= 3; y++) for (let x = 2; x <= 4; x++) assert.equal(m.get(y, x), 1);
  assert.ok(m.get(0, 0) < 0.5 && m.get(0, 0) > 0.001);
  // a large mask reaches the 0.001 floor at the corners
  const big = upweightCenterMask([96, 96]);
  assert.equal(big.get(0, 0), Math.fround(0.001));
  assert.equal(big.get(48, 48), 1);
});

test('upweightCenterMask equals the original recipe run with OpenCV 4.6 (square, non-square, tiny shapes)', () => {
  for (const [key, ref] of Object.entries(OPENCV.masks)) {
    const [h, w] = key.split('x').map(Number);
    const ours = upweightCenterMask([h, w]);
    assert.deepEqual(ours.shape, [h, w, 1]);
    // ours is float32: equal to OpenCV's float64 values rounded to float32
    for (let j = 0; j < h * w; j++) assert.equal(ours.data[j], Math.fround(ref[j]), `${key} at (${Math.floor(j / w)}, ${j % w})`);
  }
});

test('cache: same instance per shape, equal to a fresh computation, evicts beyond 16 shapes', () => {
  const a = upweightCenterMask([40, 50]);
  assert.equal(upweightCenterMask([40, 50]), a);
  assert.deepEqual(Array.from(a.data), Array.from(computeUpweightCenterMask([40, 50]).data));
  for (let i = 1; i <= 20; i++) upweightCenterMask([i, 3]);
  assert.notEqual(upweightCenterMask([40, 50]), a); // evicted, recomputed
  assert.deepEqual(Array.from(upweightCenterMask([40, 50]).data), Array.from(a.data));
  assert.throws(() => upweightCenterMask([0, 5]), /\[0,5\]/);
  assert.throws(() => upweightCenterMask([2.5, 5]), /positive integers/);
});

test('property: symmetric, in [0.001, 1], max exactly 1', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 }), (h, w) => {
    const m = computeUpweightCenterMask([h, w]);
    let mx = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const v = m.get(y, x);
      assert.ok(v >= Math.fround(0.001) && v <= 1);
      assert.equal(v, m.get(h - 1 - y, x));
      assert.equal(v, m.get(y, w - 1 - x));
      mx = Math.max(mx, v);
    }
    assert.equal(mx, 1);
  }), { numRuns: 60 });
});

/** The original's recipe literally: the 2-D Gaussian over its max, then a 2-D rectangle max filter, then the floor. */
function maskByRecipe(h: number, w: number): Float32Array {
  const gy = gaussianKernel1d(h), gx = gaussianKernel1d(w), g = new Float64Array(h * w);
  let mx = 0;
  for (let i = 0; i < h * w; i++) mx = Math.max(mx, (g[i] = gy[Math.floor(i / w)] * gx[i % w]));
  for (let i = 0; i < h * w; i++) g[i] /= mx;
  // the rectangle is (size from h) wide and (size from w) tall, as OpenCV reads the original's pair
  const rx = (dilationSize(h) - 1) / 2, ry = (dilationSize(w) - 1) / 2, out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = -Infinity;
    for (let yy = Math.max(0, y - ry); yy <= Math.min(h - 1, y + ry); yy++) {
      for (let xx = Math.max(0, x - rx); xx <= Math.min(w - 1, x + rx); xx++) m = Math.max(m, g[yy * w + xx]);
    }
    out[y * w + x] = Math.max(m, 0.001);
  }
  return out;
}

test('property: equal bit for bit to the recipe with a 2-D max filter (the mask is computed from 1-D maxima)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 90 }), (h, w) => {
    assert.deepEqual(computeUpweightCenterMask([h, w]).data, maskByRecipe(h, w));
  }), { numRuns: 80 });
  for (const [h, w] of [[256, 256], [200, 37], [1, 300]]) assert.deepEqual(computeUpweightCenterMask([h, w]).data, maskByRecipe(h, w));
});

test('agreeShapes: crop the larger by at most 1 pixel; larger differences name both shapes', () => {
  assert.deepEqual(agreeShapes([10, 20, 3], [10, 20]), [10, 20]);
  assert.deepEqual(agreeShapes([11, 20, 3], [10, 21]), [10, 20]);
  assert.throws(() => agreeShapes([12, 20, 3], [10, 20]),
    (e: Error) => e instanceof StitchError && /\[12, 20, 3\]/.test(e.message) && /\[10, 20\]/.test(e.message) && /height differs by 2/.test(e.message));
  assert.throws(() => agreeShapes([10, 18], [10, 20]), /width differs by 2/);
});

test('cropToAgree: crops data, weights and slice; no copy when they agree', () => {
  const data = new Raster(Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => i), [3, 4, 2]);
  const same = cropToAgree(data, [slice(5, 8), slice(0, 4)]);
  assert.equal(same.data, data);
  const r = cropToAgree(data, [slice(5, 7), slice(10, 15)], Raster.full([3, 4, 1], 2));
  assert.deepEqual(r.data.shape, [2, 4, 2]);
  assert.deepEqual(Array.from(r.data.data), Array.from(data.data.subarray(0, 16)));
  assert.deepEqual(r.spaceSlice, [slice(5, 7), slice(10, 14)]);
  assert.deepEqual(r.weights!.shape, [2, 4, 1]);
  assert.throws(() => cropToAgree(data, [slice(0, 5), slice(0, 4)]), /\[3, 4, 2\].*\[5, 4\]/);
  assert.throws(() => cropToAgree(data, [slice(null, 3), slice(0, 4)]), /normalise/);
  assert.throws(() => cropToAgree(data, [slice(0, 3), slice(0, 4)], Raster.zeros([2, 4, 1])), /weights shape/);
});
