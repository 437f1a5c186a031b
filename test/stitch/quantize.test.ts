import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { DtypeError, ValueError } from '../../src/array/errors.ts';
import {
  dequantize, finiteMinMax, halfStep, quantizationFor, quantizeBlock, quantizeImage, type QuantizeDtype,
} from '../../src/stitch/quantize.ts';

const r1 = (values: number[], dtype: 'float32' | 'float64' = 'float64') =>
  new Raster(dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), [1, values.length, 1]);

test('quantize_image(None, 0, 1, dtype) dicts per dtype (original iinfo rule)', () => {
  const expected: Record<QuantizeDtype, object> = {
    int16: { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 },
    int8: { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 127, nodata: -128 },
    uint8: { orig_min: 0, orig_max: 1, quant_min: 1, quant_max: 255, nodata: 0 },
    uint16: { orig_min: 0, orig_max: 1, quant_min: 1, quant_max: 65535, nodata: 0 },
    int32: { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 2147483647, nodata: -9999 },
  };
  for (const [d, q] of Object.entries(expected)) {
    const res = quantizeImage(null, { oldMin: 0, oldMax: 1, quantizeDtype: d as QuantizeDtype });
    assert.equal(res.data, null);
    assert.deepEqual(res.quantization, q, d);
    assert.deepEqual(quantizationFor(d as QuantizeDtype, 0, 1), q);
    // key order is the original's (it is written into manifests)
    assert.deepEqual(Object.keys(res.quantization), ['orig_min', 'orig_max', 'quant_min', 'quant_max', 'nodata']);
  }
  // default dtype int16
  assert.deepEqual(quantizeImage(null, { oldMin: 0, oldMax: 1 }).quantization, expected.int16);
});

test('design.md example dict: int16, orig 24..14911 from floor/ceil of the data', () => {
  const { quantization } = quantizeImage(r1([24.3, 100, 14910.2, NaN]));
  assert.deepEqual(quantization, { orig_min: 24, orig_max: 14911, quant_min: 0, quant_max: 32767, nodata: -9999 });
});

test('hand-computed values: rounding (not truncation), clipping, NaN, infinities', () => {
  // int16 over 0..1: step 1/32767; 0.5 -> 16383.5 -> 16384 (the original truncates to 16383)
  const { data } = quantizeImage(r1([0, 0.5, 1, -3, 7, NaN, Infinity, -Infinity, 0.25]), { oldMin: 0, oldMax: 1 });
  assert.equal(data!.dtype, 'int16');
  assert.deepEqual(Array.from(data!.data), [0, 16384, 32767, 0, 32767, -9999, 32767, 0, 8192]);
  // uint8 over -1..1: 254 steps; 0 -> 1 + 127 = 128; 0.004 -> 1 + 127.508 -> 129 (truncation: 128)
  const u = quantizeImage(r1([-1, 0, 0.004, 1, NaN]), { oldMin: -1, oldMax: 1, quantizeDtype: 'uint8' });
  assert.equal(u.data!.dtype, 'uint8');
  assert.deepEqual(Array.from(u.data!.data), [1, 128, 129, 255, 0]);
  // int8 over 0..2: 127 steps
  const i8 = quantizeImage(r1([0, 1, 2, NaN]), { oldMin: 0, oldMax: 2, quantizeDtype: 'int8' });
  assert.deepEqual(Array.from(i8.data!.data), [0, 64, 127, -128]); // 63.5 rounds half up
  // uint16 over 0..10
  const u16 = quantizeImage(r1([0, 5, 10, NaN]), { oldMin: 0, oldMax: 10, quantizeDtype: 'uint16' });
  assert.deepEqual(Array.from(u16.data!.data), [1, 32768, 65535, 0]);
});

test('auto bounds: floor/ceil of finite values; infinities ignored for bounds and clipped', () => {
  const { data, quantization } = quantizeImage(r1([-1.5, 2.2, Infinity, NaN]));
  assert.equal(quantization.orig_min, -2);
  assert.equal(quantization.orig_max, 3);
  assert.equal(data!.data[2], 32767);
  const neg = quantizeImage(r1([-Infinity, 0.5, 3.5, NaN])).quantization;
  assert.deepEqual([neg.orig_min, neg.orig_max], [0, 4]);
  const inf = quantizeImage(r1([-Infinity, Infinity, NaN])).quantization;
  assert.deepEqual([inf.orig_min, inf.orig_max], [0, 1]);
  // one bound given: the other from the data, never crossing it
  assert.equal(quantizeImage(r1([0.2, 0.7]), { oldMin: -5 }).quantization.orig_max, 1);
  assert.deepEqual(
    [quantizeImage(r1([1, 2]), { oldMin: 5 }).quantization.orig_min, quantizeImage(r1([1, 2]), { oldMin: 5 }).quantization.orig_max], [5, 5]);
  assert.equal(quantizeImage(r1([7, 8]), { oldMax: 3 }).quantization.orig_min, 3);
});

test('all-NaN, empty and null data without bounds: orig 0..1; NaN -> nodata', () => {
  const all = quantizeImage(r1([NaN, NaN, NaN]));
  assert.deepEqual(all.quantization, { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 });
  assert.deepEqual(Array.from(all.data!.data), [-9999, -9999, -9999]);
  assert.deepEqual(quantizeImage(null).quantization, all.quantization);
  assert.deepEqual(quantizeImage(new Raster(new Float32Array(0), [0, 0, 1])).quantization, all.quantization);
  assert.equal(quantizeImage(r1([NaN]), { oldMin: 3 }).quantization.orig_max, 3);
  assert.equal(quantizeImage(r1([NaN]), { oldMax: -2 }).quantization.orig_min, -2);
  assert.deepEqual(Array.from(dequantize(all.data!, all.quantization).data).map(Number.isNaN), [true, true, true]);
});

test('constant data (orig_min == orig_max): no division by zero, round trip exact', () => {
  const { data, quantization } = quantizeImage(r1([4, 4, NaN]));
  assert.equal(quantization.orig_min, 4);
  assert.equal(quantization.orig_max, 4);
  assert.deepEqual(Array.from(data!.data), [0, 0, -9999]);
  const back = dequantize(data!, quantization).data;
  assert.equal(back[0], 4); assert.equal(back[1], 4); assert.ok(Number.isNaN(back[2]));
  // subnormal extent: the factor overflows to Infinity; values still land on valid levels (found by fast-check)
  const tiny = quantizeImage(r1([0, -5e-324, NaN]), { oldMin: -5e-324, oldMax: 0, quantizeDtype: 'uint16' });
  assert.deepEqual(Array.from(tiny.data!.data), [65535, 1, 0]);
  const u = quantizeImage(r1([9, 1]), { oldMin: 2.5, oldMax: 2.5, quantizeDtype: 'uint8' });
  assert.deepEqual(Array.from(u.data!.data), [1, 1]);
});

test('bad arguments are clear errors', () => {
  assert.throws(() => quantizeImage(r1([1]), { oldMin: 2, oldMax: 1 }), (e: Error) => e instanceof ValueError && /oldMin 2 .*oldMax 1/.test(e.message));
  assert.throws(() => quantizeImage(r1([1]), { oldMin: NaN }), (e: Error) => e instanceof ValueError && /oldMin.*NaN/.test(e.message));
  assert.throws(() => quantizeImage(r1([1]), { oldMax: Infinity }), ValueError);
  assert.throws(() => quantizeImage(r1([1]), { quantizeDtype: 'float32' as never }), (e: Error) => e instanceof DtypeError && /"float32"/.test(e.message));
  assert.throws(() => quantizationFor('int16', 1, 0), ValueError);
  assert.throws(() => quantizeBlock(r1([1]), { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 10, nodata: -1 }), /pass the dtype/);
  assert.throws(() => quantizeBlock(r1([1]), quantizationFor('int16', 0, 1), 'uint8'), /does not fit in uint8/);
  assert.throws(() => dequantize(r1([1]), { orig_min: 0, orig_max: NaN, quant_min: 0, quant_max: 1 }), /orig_max/);
});

test('dequantize: kwcoco float32 arithmetic, NaN at nodata, nodata optional', () => {
  const q = { orig_min: -1, orig_max: 3, quant_min: 0, quant_max: 32767, nodata: -9999 };
  const raw = new Raster(Int16Array.from([0, 1, 32767, -9999, 12345]), [1, 5, 1]);
  const out = dequantize(raw, q);
  assert.equal(out.dtype, 'float32');
  const f = Math.fround, s = f(4 / 32767);
  assert.equal(out.data[0], -1);
  assert.equal(out.data[1], f(f(1 * s) + -1));
  assert.equal(out.data[2], f(f(32767 * s) + -1));
  assert.ok(Number.isNaN(out.data[3]));
  assert.equal(out.data[4], f(f(12345 * s) - 1));
  const noNodata = dequantize(raw, { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767 });
  assert.ok(!Number.isNaN(noNodata.data[3]));
});

test('dequantize agrees with numpy float32 (delayed_image.helpers.dequantize formula)', async () => {
  const { gdalPython } = await import('../helpers/gdal.ts');
  const q = { orig_min: -3, orig_max: 7, quant_min: 1, quant_max: 255, nodata: 0 };
  const vals = Array.from({ length: 256 }, (_, i) => i);
  const out = gdalPython(`
import json, sys
import numpy as np
q = json.loads(sys.argv[1])
d = np.arange(256).astype(np.uint8)
scale = (q['orig_max'] - q['orig_min']) / (q['quant_max'] - q['quant_min'])
x = d.astype(np.float32)
x = (x - np.float32(q['quant_min'])) * np.float32(scale) + np.float32(q['orig_min'])
x[d == q['nodata']] = np.nan
print(json.dumps([None if np.isnan(v) else float(v) for v in x]))
`, [JSON.stringify(q)]);
  const ref: (number | null)[] = JSON.parse(out);
  const ours = dequantize(new Raster(Uint8Array.from(vals), [16, 16, 1]), q).data;
  for (let i = 0; i < 256; i++) {
    if (ref[i] === null) assert.ok(Number.isNaN(ours[i]));
    else assert.equal(ours[i], ref[i], `q=${i}`);
  }
});

test('property: finiteMinMax ignores NaN and infinities', () => {
  fc.assert(fc.property(fc.array(fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity))), (vals) => {
    const fin = vals.filter(Number.isFinite);
    const expected = fin.length ? [Math.min(...fin), Math.max(...fin)] : [Infinity, -Infinity];
    // + 0: -0 and 0 are the same bound
    assert.deepEqual(finiteMinMax(Float64Array.from(vals)).map((v) => v + 0), expected.map((v) => v + 0));
  }));
});

const finiteFloat = fc.double({ min: -1e6, max: 1e6, noNaN: true });

test('property: round trip error <= half a step (+ float32 output rounding) for every dtype', () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(finiteFloat, fc.constant(NaN)), { minLength: 1, maxLength: 60 }),
    fc.constantFrom<QuantizeDtype>('int16', 'int8', 'uint8', 'uint16', 'int32'),
    fc.option(fc.tuple(finiteFloat, finiteFloat), { nil: null }),
    (vals, dtype, bounds) => {
      const opts = bounds ? { oldMin: Math.min(...bounds), oldMax: Math.max(...bounds), quantizeDtype: dtype } : { quantizeDtype: dtype };
      const { data, quantization: q } = quantizeImage(r1(vals), opts);
      assert.equal(data!.dtype, dtype);
      const back = dequantize(data!, q).data;
      const tol = halfStep(q) * (1 + 1e-6) + 4e-7 * Math.max(Math.abs(q.orig_min), Math.abs(q.orig_max)) + 1e-30;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i];
        if (Number.isNaN(v)) { assert.equal(data!.data[i], q.nodata); continue; }
        assert.ok(data!.data[i] >= q.quant_min && data!.data[i] <= q.quant_max);
        assert.notEqual(data!.data[i], q.nodata);
        const clipped = Math.min(Math.max(v, q.orig_min), q.orig_max);
        assert.ok(Math.abs(back[i] - clipped) <= tol, `${v} -> ${data!.data[i]} -> ${back[i]} (tol ${tol}) ${JSON.stringify(q)}`);
      }
    }), { numRuns: 1000 });
});

test('property: the level chosen is the nearest one (no level is closer)', () => {
  fc.assert(fc.property(fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom<QuantizeDtype>('int8', 'uint8'), (v, dtype) => {
    const q = quantizationFor(dtype, -1, 1);
    const got = quantizeBlock(r1([v]), q).data[0];
    const c = Math.min(Math.max(v, -1), 1);
    const pos = (c + 1) / 2 * (q.quant_max - q.quant_min) + q.quant_min;
    assert.ok(Math.abs(got - pos) <= 0.5 + 1e-9, `${v}: ${got} vs exact ${pos}`);
  }));
});

test('property: blockwise quantizeBlock == whole-image quantizeImage (multi-band, float32)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }),
    fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1 << 30 }),
    (h, w, c, bs, seed) => {
      const data = new Float32Array(h * w * c);
      let s = seed;
      for (let i = 0; i < data.length; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = (s % 7 === 0) ? NaN : (s / 2 ** 32) * 10 - 3; }
      const img = new Raster(data, [h, w, c]);
      const whole = quantizeImage(img);
      for (let y = 0; y < h; y += bs) for (let x = 0; x < w; x += bs) {
        const bh = Math.min(bs, h - y), bw = Math.min(bs, w - x);
        const blk = quantizeBlock(img.crop(y, x, bh, bw), whole.quantization);
        assert.deepEqual(blk.shape, [bh, bw, c]);
        assert.deepEqual(Array.from(blk.data), Array.from(whole.data!.crop(y, x, bh, bw).data));
      }
    }));
});

test('seed example: randn data, auto bounds and uint8, error bounded by half step per pixel', () => {
  let s = 12345;
  const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  const vals = Array.from({ length: 32 * 32 * 3 }, () => (Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd()) - 1) * 2.5);
  for (const dtype of ['int16', 'uint8'] as const) {
    const { data, quantization } = quantizeImage(new Raster(Float64Array.from(vals), [32, 32, 3]), { quantizeDtype: dtype });
    assert.ok(Number.isInteger(quantization.orig_min) && Number.isInteger(quantization.orig_max));
    const back = dequantize(data!, quantization).data;
    let worst = 0;
    for (let i = 0; i < vals.length; i++) worst = Math.max(worst, Math.abs(back[i] - vals[i]));
    assert.ok(worst <= halfStep(quantization) * 1.0001 + 1e-5, `${dtype}: worst ${worst} vs half step ${halfStep(quantization)}`);
  }
});

test('quantizeBlock into a reused raster equals a fresh result; a raster of another dtype or size is not used', () => {
  const q = quantizationFor('int16', 0, 1);
  const a = new Raster(Float32Array.from([0, 0.25, NaN, 1, 0.5, 2]), [1, 2, 3]);
  const b = new Raster(Float32Array.from([1, 0.75, 0, NaN, -1, 0.125]), [1, 2, 3]);
  const first = quantizeBlock(a, q);
  const again = quantizeBlock(b, q, undefined, first);
  assert.equal(again, first);
  assert.deepEqual([...again.data], [...quantizeBlock(b, q).data]);
  assert.notEqual(quantizeBlock(b, q, undefined, Raster.zeros([1, 2, 3], 'int32')), undefined);
  assert.equal(quantizeBlock(b, q, undefined, Raster.zeros([1, 2, 3], 'int32')).dtype, 'int16');
  assert.notEqual(quantizeBlock(b, q, undefined, Raster.zeros([1, 1, 3], 'int16')).data.length, 3);
});

test('quantizeBlock rounds to the nearest level with a negative quant_min too (`| 0` would round toward zero), float32 and float64 alike', () => {
  const q = { orig_min: 0, orig_max: 1, quant_min: -100, quant_max: 100, nodata: -128 };
  // by hand: -100 + 200 v, rounded half up
  const v = [0, 0.1, 0.25, 0.5, 0.7578125, 1, NaN, -3, 7]; // 0.7578125 = 97/128, exact in float32
  const want = [-100, -80, -50, 0, 52, 100, -128, -100, 100];
  for (const Arr of [Float32Array, Float64Array]) {
    const out = quantizeBlock(new Raster(Arr.from(v), [1, v.length, 1]), q, 'int16');
    assert.deepEqual(Array.from(out.data), want, Arr.name);
  }
  fc.assert(fc.property(fc.array(fc.float({ noDefaultInfinity: false }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 1000 }), (xs, qmin) => {
    const qq = { orig_min: -2, orig_max: 3, quant_min: qmin, quant_max: 32767, nodata: -9999 };
    const f32 = Float32Array.from(xs);
    const a = quantizeBlock(new Raster(f32, [1, xs.length, 1]), qq, 'int16');
    const b = quantizeBlock(new Raster(Float64Array.from(f32), [1, xs.length, 1]), qq, 'int16');
    assert.deepEqual(a.data, b.data);
  }), { numRuns: 200 });
});

test('long arrays (the WebAssembly kernels, SIMD for float32 -> 16-bit) quantize as a plain per-value formula does', () => {
  // the formula of quantizeInto, written out: clip, shift, scale, add quant_min + 0.5, floor; NaN -> nodata
  const reference = (v: number, q: { orig_min: number; orig_max: number; quant_min: number; quant_max: number; nodata: number }): number => {
    if (Number.isNaN(v)) return q.nodata;
    const c = Math.min(Math.max(v, q.orig_min), q.orig_max);
    const f = (q.quant_max - q.quant_min) / (q.orig_max - q.orig_min);
    return Math.floor((c - q.orig_min) * f + (q.quant_min + 0.5));
  };
  const special = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e-45, -1e-45, 3.4e38, -3.4e38);
  const value = fc.oneof(fc.double({ min: -50, max: 50, noNaN: true }), special);
  fc.assert(fc.property(
    fc.integer({ min: 4096, max: 4300 }), fc.array(value, { minLength: 1, maxLength: 64 }), fc.constantFrom<QuantizeDtype>('int16', 'uint16', 'int8', 'uint8'),
    fc.boolean(), fc.double({ min: -40, max: 10, noNaN: true }), fc.double({ min: 0.001, max: 60, noNaN: true }),
    (n, seedValues, dtype, f64, lo, extent) => {
      const q = quantizationFor(dtype, lo, lo + extent);
      const data = f64 ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = seedValues[(i * 7919) % seedValues.length] + (i % 13) * 0.37;
      const out = quantizeBlock(new Raster(data, [1, n, 1]), q, dtype);
      for (let i = 0; i < n; i++) {
        const want = reference(data[i], q);
        if (out.data[i] !== want) assert.fail(`${dtype} ${f64 ? 'f64' : 'f32'} n=${n} at ${i}: ${data[i]} -> ${out.data[i]}, expected ${want} (q ${JSON.stringify(q)})`);
      }
    }), { numRuns: 120 });
});

test('a range with Infinity, or one wider than a float64 holds, is refused saying why', () => {
  for (const [lo, hi] of [[0, Infinity], [-Infinity, 1], [-Infinity, Infinity]]) {
    assert.throws(() => quantizationFor('int16', lo, hi), (e: Error) => e instanceof ValueError && /Infinity/.test(e.message) && /finite/.test(e.message) && /float64/.test(e.message));
    assert.throws(() => quantizeImage(r1([0.5]), { oldMin: lo, oldMax: hi }), (e: Error) => e instanceof ValueError && /range must be finite/.test(e.message));
  }
  // finite bounds whose difference overflows: every value would map to one level
  assert.throws(() => quantizationFor('int16', -1.7e308, 1.7e308), (e: Error) => e instanceof ValueError && /-1\.7e\+308\.\.1\.7e\+308/.test(e.message) && /overflows to Infinity/.test(e.message));
  assert.throws(() => quantizeImage(r1([-1.7e308, 1.7e308])), (e: Error) => e instanceof ValueError && /overflows to Infinity/.test(e.message));
  // the widest range that still has a finite extent quantizes both ends apart
  const { data } = quantizeImage(r1([-8e307, 8e307]));
  assert.deepEqual(Array.from(data!.data), [0, 32767]);
});
