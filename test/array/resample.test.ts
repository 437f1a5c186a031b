/**
 * warpAffine properties against independent truths: copies, shifts, pixel
 * repetition, exactness on linear ramps (up to OpenCV's 1/32 px
 * quantization), window computation equal to the whole result, NaN and
 * nodata propagation, kwcoco's sampler choices (fixtures README C3-C5) and
 * error cases. Python-measured agreement is in test/coco/imdelay-fixtures.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Affine } from '../../src/array/affine.ts';
import { allocate, type Dtype } from '../../src/array/dtypes.ts';
import { ShapeError, ValueError } from '../../src/array/errors.ts';
import { Raster } from '../../src/array/raster.ts';
import { warpAffine, planWarp, sourceWindowFor, type Interpolation } from '../../src/array/resample/warp-affine.ts';
import { antialiasPlan, gaussianKernel, pyrDown } from '../../src/array/resample/antialias.ts';
import { cornerToCenter, invertOpenCV, rne } from '../../src/array/resample/opencv-affine.ts';

const DTYPES: Dtype[] = ['uint8', 'uint16', 'int16', 'float32'];

function randomRaster(h: number, w: number, c: number, dtype: Dtype, seed: number, nanEvery = 0): Raster {
  const data = allocate(dtype, h * w * c);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = dtype === 'float32' ? (s % 10007) / 97 - 30 : s % (dtype === 'uint8' ? 256 : 4000);
    if (nanEvery && dtype === 'float32' && i % nanEvery === 3) data[i] = NaN;
  }
  return new Raster(data, [h, w, c]);
}

function sameSample(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function assertSameRaster(a: Raster, b: Raster, what: string): void {
  assert.deepEqual(a.shape, b.shape, what);
  assert.equal(a.dtype, b.dtype, what);
  for (let i = 0; i < a.data.length; i++) {
    if (!sameSample(a.data[i]!, b.data[i]!)) assert.fail(`${what}: sample ${i}: ${a.data[i]} vs ${b.data[i]}`);
  }
}

const shapeArb = fc.record({ h: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }), c: fc.integer({ min: 1, max: 3 }) });
const dtypeArb = fc.constantFrom(...DTYPES);
const interpArb = fc.constantFrom<Interpolation>('nearest', 'linear', 'area');

test('identity onto the same size is a copy (any dtype, any interpolation)', () => {
  fc.assert(fc.property(shapeArb, dtypeArb, interpArb, fc.integer(), ({ h, w, c }, dtype, interpolation, seed) => {
    const src = randomRaster(h, w, c, dtype, seed, 5);
    const out = warpAffine(src, Affine.eye(), { dsize: [w, h], interpolation, antialias: true });
    assertSameRaster(out, dtype === 'float32' ? src : src, 'identity');
  }), { numRuns: 100 });
});

test('integer translation, nearest = shifted copy with border NaN (float) / 0 (integer)', () => {
  fc.assert(fc.property(shapeArb, dtypeArb, fc.integer({ min: -6, max: 6 }), fc.integer({ min: -6, max: 6 }), fc.constantFrom('auto', 'warp'), fc.integer(),
    ({ h, w, c }, dtype, dx, dy, mode, seed) => {
      fc.pre(dx !== 0 || dy !== 0);
      const src = randomRaster(h, w, c, dtype, seed);
      const W = w + 3, H = h + 2;
      const out = warpAffine(src, Affine.translate(dx, dy), { dsize: [W, H], interpolation: 'nearest', nearest: mode as 'auto' | 'warp' });
      assert.equal(out.dtype, dtype);
      const border = dtype === 'float32' ? NaN : 0;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let b = 0; b < c; b++) {
        const sx = x - dx, sy = y - dy;
        const want = sx >= 0 && sy >= 0 && sx < w && sy < h ? src.get(sy, sx, b) : border;
        assert.ok(sameSample(out.get(y, x, b), want), `(${y},${x},${b})`);
      }
    }), { numRuns: 150 });
});

test('integer translation, linear: exact copy for integers; floats are NaN where the 2x2 neighbourhood leaves the source or holds NaN (C4)', () => {
  fc.assert(fc.property(shapeArb, dtypeArb, fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 }), fc.integer(),
    ({ h, w, c }, dtype, dx, dy, seed) => {
      const src = randomRaster(h, w, c, dtype, seed, 7);
      const W = w + 2, H = h + 3;
      const out = warpAffine(src, Affine.translate(dx, dy), { dsize: [W, H], interpolation: 'linear' });
      const isFloat = dtype === 'float32';
      const at = (sy: number, sx: number, b: number) => (sx >= 0 && sy >= 0 && sx < w && sy < h ? src.get(sy, sx, b) : isFloat ? NaN : 0);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let b = 0; b < c; b++) {
        const sx = x - dx, sy = y - dy;
        let want = at(sy, sx, b);
        if (isFloat && [at(sy, sx + 1, b), at(sy + 1, sx, b), at(sy + 1, sx + 1, b)].some(Number.isNaN)) want = NaN;
        assert.ok(sameSample(out.get(y, x, b), want), `(${y},${x},${b}): ${out.get(y, x, b)} vs ${want}`);
      }
    }), { numRuns: 150 });
});

test('scale 2 nearest = pixel repetition (both samplers)', () => {
  fc.assert(fc.property(shapeArb, dtypeArb, fc.constantFrom('auto', 'warp'), fc.integer(), ({ h, w, c }, dtype, mode, seed) => {
    const src = randomRaster(h, w, c, dtype, seed, 5);
    const out = warpAffine(src, Affine.scale(2), { dsize: [2 * w, 2 * h], interpolation: 'nearest', nearest: mode as 'auto' | 'warp' });
    for (let y = 0; y < 2 * h; y++) for (let x = 0; x < 2 * w; x++) for (let b = 0; b < c; b++) {
      assert.ok(sameSample(out.get(y, x, b), src.get(y >> 1, x >> 1, b)));
    }
  }), { numRuns: 100 });
});

test('linear of a linear ramp is exact up to the 1/32 px quantization, and valid inside the source', () => {
  const affArb = fc.record({
    s: fc.double({ min: 0.4, max: 3, noNaN: true }), theta: fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
    shearx: fc.double({ min: -0.3, max: 0.3, noNaN: true }), tx: fc.double({ min: -5, max: 5, noNaN: true }), ty: fc.double({ min: -5, max: 5, noNaN: true }),
  });
  fc.assert(fc.property(affArb, fc.integer({ min: -8, max: 8 }), fc.integer({ min: -8, max: 8 }), ({ s, theta, shearx, tx, ty }, ga, gb) => {
    const w = 16, h = 12;
    const src = Raster.zeros([h, w, 1]);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src.set(y, x, 0, ga * x + gb * y + 100);
    const A = Affine.affine({ scale: s, theta, shearx, offset: [tx, ty] });
    const out = warpAffine(src, A, { dsize: [24, 20], interpolation: 'linear' });
    const inv = A.inv();
    const tol = (Math.abs(ga) + Math.abs(gb)) * (1 / 64 + 1 / 1024) + 1e-9; // nearest 1/32 after two 1/1024 roundings
    for (let y = 0; y < 20; y++) for (let x = 0; x < 24; x++) {
      // back-project the output pixel centre (corner convention) to a source centre-convention coordinate
      const [[cx, cy]] = inv.apply([[x + 0.5, y + 0.5]]) as [[number, number]];
      const sx = cx - 0.5, sy = cy - 0.5;
      const v = out.get(y, x, 0);
      if (sx > 0.05 && sy > 0.05 && sx < w - 1.05 && sy < h - 1.05) {
        assert.ok(!Number.isNaN(v), `(${y},${x}) inside the source is NaN`);
        assert.ok(Math.abs(v - (ga * sx + gb * sy + 100)) <= tol, `(${y},${x}): ${v} vs ${ga * sx + gb * sy + 100}`);
      } else if (sx < -1.05 || sy < -1.05 || sx > w + 0.05 || sy > h + 0.05) {
        assert.ok(Number.isNaN(v), `(${y},${x}) outside the source is ${v}`);
      }
    }
  }), { numRuns: 150 });
});

test('any window of the canvas, read from the source window sourceWindowFor gives, equals the crop of the whole warp', () => {
  const affArb = fc.record({
    s: fc.double({ min: 0.05, max: 3, noNaN: true }), theta: fc.constantFrom(0, 0, 0.3, -1.2, Math.PI / 2),
    tx: fc.double({ min: -6, max: 6, noNaN: true }), ty: fc.double({ min: -6, max: 6, noNaN: true }), aniso: fc.double({ min: 0.7, max: 1.4, noNaN: true }),
  });
  fc.assert(fc.property(affArb, dtypeArb, interpArb, fc.boolean(), fc.integer(), fc.integer({ min: 0, max: 1e6 }),
    ({ s, theta, tx, ty, aniso }, dtype, interpolation, antialias, seed, r) => {
      const h = 37, w = 45, c = 2;
      const src = randomRaster(h, w, c, dtype, seed, 11);
      const A = Affine.affine({ scale: [s, s * aniso], theta, offset: [tx, ty] });
      const dsize: [number, number] = [30, 26];
      const whole = warpAffine(src, A, { dsize, interpolation, antialias });
      const x0 = r % 30, y0 = (r >> 5) % 26;
      const win = { x0, y0, width: 1 + ((r >> 10) % (30 - x0)), height: 1 + ((r >> 15) % (26 - y0)) };
      const plan = planWarp(A, [w, h], dsize, interpolation, antialias, 'auto', dtype === 'float32');
      const rect = sourceWindowFor(plan, [w, h], dsize, win);
      const part = warpAffine(src.crop(rect.y0, rect.x0, rect.y1 - rect.y0, rect.x1 - rect.x0), A,
        { dsize, interpolation, antialias, dstWindow: win, srcOrigin: [rect.x0, rect.y0], srcSize: [w, h] });
      assertSameRaster(part, whole.crop(win.y0, win.x0, win.height, win.width), `window ${JSON.stringify(win)} source ${JSON.stringify(rect)}`);
    }), { numRuns: 300 });
});

test('nodata becomes NaN (float32 output) and a NaN spreads to every linear output whose 2x2 neighbourhood holds it', () => {
  const src = new Raster(new Uint16Array([1, 2, 3, 4, 9, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17]), [4, 4, 1]);
  const near = warpAffine(src, Affine.translate(1, 0), { dsize: [4, 4], interpolation: 'nearest', nodata: 9 });
  assert.equal(near.dtype, 'float32');
  assert.deepEqual(Array.from(near.data), [NaN, 1, 2, 3, NaN, NaN, 6, 7, NaN, 10, 11, 12, NaN, 14, 15, 16]);
  const lin = warpAffine(src, Affine.translate(0.5, 0), { dsize: [4, 4], interpolation: 'linear', nodata: 9 });
  // output column x samples source x - 0.5: neighbours x-1 and x; the NaN at (1, 0) touches outputs (1, 0) and (1, 1)
  assert.ok(Number.isNaN(lin.get(1, 0)) && Number.isNaN(lin.get(1, 1)));
  assert.equal(lin.get(1, 2), 6.5);
  assert.equal(lin.get(2, 2), 11.5);
});

test('upsampling x2 (linear, float) leaves a full NaN ring; uint8 fades to 0 instead (C4)', () => {
  const f = Raster.full([3, 3, 1], 5);
  const up = warpAffine(f, Affine.scale(2), { dsize: [6, 6] });
  for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) {
    const ring = x === 0 || y === 0 || x === 5 || y === 5;
    assert.ok(ring ? Number.isNaN(up.get(y, x)) : up.get(y, x) === 5, `(${y},${x}) ${up.get(y, x)}`);
  }
  const u = warpAffine(Raster.full([3, 3, 1], 200, 'uint8'), Affine.scale(2), { dsize: [6, 6] });
  assert.equal(u.dtype, 'uint8');
  assert.equal(u.get(0, 0), Math.round(200 * 0.75 * 0.75)); // 112.5 -> fixed point (sum + 16384) >> 15 = 113
  assert.equal(u.get(2, 2), 200);
});

test('C3b: a positive sub-pixel offset shifts nearest by a whole pixel; past the edge gives the border (no IndexError)', () => {
  const src = new Raster(new Float32Array([1, 2, 3, 4]), [1, 4, 1]);
  const out = warpAffine(src, Affine.translate(0.01, 0), { dsize: [6, 1], interpolation: 'nearest' });
  assert.deepEqual(Array.from(out.data), [NaN, 1, 2, 3, 4, NaN]);
  const down = warpAffine(src, Affine.affine({ scale: 0.5, offset: [1, 0] }), { dsize: [5, 1], interpolation: 'nearest' });
  // src_x = floor((x - 1) / 0.5)
  assert.deepEqual(Array.from(down.data), [NaN, 1, 3, NaN, NaN]);
});

test('C3a: a pure scale stretches the whole source onto the whole canvas (the matrix scale is ignored)', () => {
  const src = new Raster(new Uint8Array([10, 20, 30]), [1, 3, 1]);
  const out = warpAffine(src, Affine.scale(6), { dsize: [7, 1], interpolation: 'nearest' });
  // OpenCV resize: min(floor(x * (1 / (7 / 3))), 2)
  assert.deepEqual(Array.from(out.data), [10, 10, 10, 20, 20, 30, 30]);
});

test('antialias plans follow kwimage (README C5 kernel table) and blur before a downscale', () => {
  const table: [number, number, number, number][] = [
    [0.9, 0, 3, 0.594], [0.8, 0, 5, 0.669], [0.5, 0, 5, 1.070], [0.4, 0, 7, 1.337], [0.25, 0, 11, 2.140], [0.125, 1, 11, 2.140], [0.1, 1, 13, 2.675],
  ];
  for (const [s, downs, k, sigma] of table) {
    const p = antialiasPlan(cornerToCenter(Affine.scale(s)))!;
    assert.equal(p.numDowns, downs, `scale ${s}`);
    assert.equal(p.kx, k, `scale ${s}`);
    assert.ok(Math.abs(p.sigmaX - sigma) < 1e-3, `scale ${s}: sigma ${p.sigmaX}`);
  }
  assert.equal(antialiasPlan(cornerToCenter(Affine.scale(2))), null);
  // a constant image stays constant; a checkerboard is smoothed (without antialias it aliases to one phase)
  // scale 1/3 samples source centres 3x + 1 exactly: without antialias the checkerboard aliases to itself
  const checker = Raster.zeros([30, 30, 1]);
  for (let y = 0; y < 30; y++) for (let x = 0; x < 30; x++) checker.set(y, x, 0, (x + y) % 2);
  const aa = warpAffine(checker, Affine.scale(1 / 3), { dsize: [10, 10], antialias: true });
  const raw = warpAffine(checker, Affine.scale(1 / 3), { dsize: [10, 10], antialias: false });
  assert.ok(Math.abs(aa.get(3, 3) - 0.5) < 0.05, `antialiased ${aa.get(3, 3)}`);
  assert.ok(Math.abs(raw.get(3, 3) - 0.5) > 0.4, `aliased ${raw.get(3, 3)}`);
  // a NaN spreads through the blur's footprint (README C5)
  const holed = Raster.full([32, 32, 1], 1);
  holed.set(16, 16, 0, NaN);
  const h2 = warpAffine(holed, Affine.scale(0.5), { dsize: [16, 16], antialias: true });
  let nans = 0;
  for (const v of h2.data) if (Number.isNaN(v)) nans++;
  assert.ok(nans >= 4 && nans <= 16, `${nans} NaN outputs`);
});

test('pyrDown and the Gaussian kernel: OpenCV formulas', () => {
  const k = gaussianKernel(5, 1.0699027846904146, false);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(k[2]! > k[1]! && k[1]! > k[0]! && k[0] === k[4]);
  const src = new Uint8Array([0, 0, 0, 0, 0, 16, 16, 16, 16, 16]);
  const r = pyrDown({ data: src, width: 5, height: 2, bands: 1, x0: 0, y0: 0, fullWidth: 5, fullHeight: 2 }, 'uint8');
  assert.equal(r.width, 3);
  assert.equal(r.height, 1);
  // each row filters to 16 x its value (taps 1 4 6 4 1); the 5 row taps around row 0 reflect-101 to rows
  // 0, 1, 0, 1, 0: 1*0 + 4*256 + 6*0 + 4*256 + 1*0 = 2048 -> (2048 + 128) >> 8 = 8
  assert.deepEqual(Array.from(r.data), [8, 8, 8]);
});

test('OpenCV helpers: round half to even, inversion, corner to centre', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(rne), [0, 2, 2, -0, -2, 2, -3]);
  assert.deepEqual(cornerToCenter(Affine.scale(2)), [2, 0, 0.5, 0, 2, 0.5]);
  assert.deepEqual(invertOpenCV([2, 0, 0.5, 0, 2, 0.5]), [0.5, -0, -0.25, -0, 0.5, -0.25]);
});

test('errors name the bad value', () => {
  const src = Raster.zeros([4, 4, 1]);
  assert.throws(() => warpAffine(src, Affine.eye(), { dsize: [4.5, 4] as never }), (e: unknown) => e instanceof ValueError && /dsize/.test(e.message));
  assert.throws(() => warpAffine(src, Affine.eye(), { dsize: [4, 4], interpolation: 'cubic' as never }), /unknown interpolation "cubic"/);
  assert.throws(() => warpAffine(src, Affine.eye(), { dsize: [4, 4], nearest: 'inverse' as never }), /nearest mode "inverse"/);
  assert.throws(() => warpAffine(src, Affine.scale([1, 0]), { dsize: [4, 4] }), /singular/);
  assert.throws(() => warpAffine(src, Affine.eye(), { dsize: [4, 4], srcOrigin: [2, 0], srcSize: [5, 4] }), ShapeError);
  assert.throws(() => warpAffine(src, Affine.eye(), { dsize: [4, 4], dstWindow: { x0: 0, y0: 0, width: -1, height: 2 } }), /dstWindow/);
  assert.throws(() => warpAffine(src, Affine.scale(3), { dsize: [4, 1 << 21], dstWindow: { x0: 0, y0: 0, width: 1, height: 1 } }), /at most 1048576 px per side/);
  // a window without the margin the warp needs is an error, not silent garbage
  assert.throws(() => warpAffine(src.crop(0, 0, 2, 2), Affine.scale(0.5), { dsize: [2, 2], srcSize: [4, 4] }), /source window covers only/);
});
