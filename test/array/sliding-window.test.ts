import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SlidingWindow } from '../../src/array/sliding-window.ts';
import { ValueError } from '../../src/array/errors.ts';
import { slice, type Slice } from '../../src/array/slices.ts';

/** Compact form of a window for readable expectations: [[start, stop], ...]. */
const pairs = (sls: Slice[]) => sls.map((s) => [s.start, s.stop]);
const all = (sw: SlidingWindow) => [...sw].map(pairs);

// ---------------------------------------------------------------------------
// kwarray's documented examples (kwarray/util_slider.py), one test each

test('kwarray example: shape (10, 10), window (5, 5) -> 4 windows in C order', () => {
  const sw = new SlidingWindow([10, 10], [5, 5]);
  assert.deepEqual([...sw], [
    [slice(0, 5), slice(0, 5)],
    [slice(0, 5), slice(5, 10)],
    [slice(5, 10), slice(0, 5)],
    [slice(5, 10), slice(5, 10)],
  ]);
  assert.equal(sw.length, 4);
});

test('kwarray example: shape (16, 16), window (4, 4), overlap (.5, .25) -> stride [2, 3], 7x5 grid', () => {
  const sw = new SlidingWindow([16, 16], [4, 4], { overlap: [0.5, 0.25] });
  assert.deepEqual(sw.stride, [2, 3]);
  assert.deepEqual(sw.basisShape, [7, 5]);
  const expected: number[][] = [];
  for (let i = 0; i < 7; i++) for (let j = 0; j < 5; j++) expected.push([i, j]);
  assert.deepEqual(sw.grid, expected);
  assert.equal(sw.length, 35);
});

test('kwarray example: window bigger than the shape gives the left-aligned window', () => {
  assert.deepEqual(all(new SlidingWindow([3, 3], [12, 12], { allowOvershoot: true, keepbound: true })), [[[0, 12], [0, 12]]]);
});

test('kwarray example: window null is the whole shape', () => {
  assert.deepEqual(all(new SlidingWindow([3, 3], null, { allowOvershoot: true, keepbound: true })), [[[0, 3], [0, 3]]]);
});

test('kwarray example: window (None, 2) with keepbound over (3, 3)', () => {
  assert.deepEqual(all(new SlidingWindow([3, 3], [null, 2], { allowOvershoot: true, keepbound: true })), [
    [[0, 3], [0, 2]],
    [[0, 3], [1, 3]],
  ]);
});

test('kwarray example: __getitem__ by flat index agrees with iteration (shape 20x20, window 10, stride 5)', () => {
  const sw = new SlidingWindow([20, 20], [10, 10], { stride: 5 });
  const items = [...sw];
  assert.equal(items.length, sw.length);
  assert.equal(sw.length, 9);
  assert.deepEqual(items, items.map((_, i) => sw.at(i)));
  assert.deepEqual(sw.at(-1), items.at(-1));
  assert.deepEqual(sw.at(0), items[0]);
  assert.throws(() => sw.at(9), /window index 9 is out of range for 9 windows/);
});

test('kwarray example: slices of shape (220, 220), window 10, stride 5, items 41..44, overlap 0.5', () => {
  const sw = new SlidingWindow([220, 220], [10, 10], { stride: 5 });
  assert.deepEqual([...sw].slice(41, 45).map(pairs), [
    [[0, 10], [205, 215]],
    [[0, 10], [210, 220]],
    [[5, 15], [0, 10]],
    [[5, 15], [5, 15]],
  ]);
  assert.deepEqual(sw.overlap, [0.5, 0.5]);
});

test('kwarray example: centers (4x4 window 3 stride 1; 3x3 window 2 stride 1)', () => {
  const a = new SlidingWindow([4, 4], [3, 3], { stride: 1 });
  assert.deepEqual(a.centers, [[1, 1], [1, 2], [2, 1], [2, 2]]);
  assert.deepEqual(all(a), [[[0, 3], [0, 3]], [[0, 3], [1, 4]], [[1, 4], [0, 3]], [[1, 4], [1, 4]]]);
  const b = new SlidingWindow([3, 3], [2, 2], { stride: 1 });
  assert.deepEqual(b.centers, [[0.5, 0.5], [0.5, 1.5], [1.5, 0.5], [1.5, 1.5]]);
});

test('kwarray example (_slices1d): 2000 with window 360, stride 360, keepbound: every window has full width', () => {
  const sw = new SlidingWindow([2000], [360], { stride: 360, keepbound: true, allowOvershoot: true });
  const w = all(sw).map(([[s, e]]) => [s, e]);
  assert.ok(w.every(([s, e]) => e! - s! === 360));
  assert.deepEqual(w.map(([s]) => s), [0, 360, 720, 1080, 1440, 1640]);
});

test('kwarray example (_slices1d): 200 with window 46, stride 7 fits: uniform steps, full widths', () => {
  const sw = new SlidingWindow([200], [46], { stride: 7 });
  const starts = [...sw].map(([s]) => s!.start!);
  assert.ok(starts.slice(1).every((s, i) => s - starts[i]! === 7));
  assert.ok([...sw].every(([s]) => s!.stop! - s!.start! === 46));
  assert.equal(starts.at(-1), 154); // (200 - 46) / 7 = 22 steps
  assert.equal(sw.length, 23);
});

test('kwarray example (_slices1d): 200 with window 36, stride 7 overshoots -> error', () => {
  assert.throws(() => new SlidingWindow([200], [36], { stride: 7 }), ValueError);
});

test('kwarray Stitcher example: (5, 200, 200) window (1, 50, 50) overlap (0, .5, .5): pixels covered up to 4 times', () => {
  const sw = new SlidingWindow([5, 200, 200], [1, 50, 50], { overlap: [0, 0.5, 0.5] });
  assert.deepEqual(sw.stride, [1, 25, 25]);
  assert.deepEqual(sw.basisShape, [5, 7, 7]);
  const counts = new Uint8Array(200 * 200);
  for (const [b, r, c] of sw) {
    if (b!.start !== 0) continue;
    for (let y = r!.start!; y < r!.stop!; y++) for (let x = c!.start!; x < c!.stop!; x++) counts[y * 200 + x]!++;
  }
  assert.equal(Math.max(...counts), 4);
  assert.equal(Math.min(...counts), 1);
});

// ---------------------------------------------------------------------------
// More named cases

test('the overshoot error names the shape, window and stride (even with keepbound)', () => {
  const check = (e: unknown) => e instanceof ValueError
    && /window \[7,7\] with stride \[7,7\] does not fit shape \[10,10\]/.test(e.message)
    && /axis 0: \(shape 10 - window 7\) mod stride 7 = 3/.test(e.message);
  assert.throws(() => new SlidingWindow([10, 10], [7, 7]), check);
  assert.throws(() => new SlidingWindow([10, 10], [7, 7], { keepbound: true }), check);
  assert.throws(() => new SlidingWindow([3, 3], [12, 12], { keepbound: true }), /does not fit shape \[3,3\]/);
});

test('allowOvershoot without keepbound stops short; keepbound adds the window flush with the end', () => {
  const a = new SlidingWindow([10], [4], { allowOvershoot: true });
  assert.deepEqual(all(a), [[[0, 4]], [[4, 8]]]);
  assert.deepEqual(a.overshoot, [2]);
  assert.deepEqual(a.undershotShape, [2]);
  const b = new SlidingWindow([10], [4], { allowOvershoot: true, keepbound: true });
  assert.deepEqual(all(b), [[[0, 4]], [[4, 8]], [[6, 10]]]);
  // keepbound does not duplicate a window that already ends at the edge
  assert.deepEqual(all(new SlidingWindow([8], [4], { keepbound: true })), [[[0, 4]], [[4, 8]]]);
});

test('geowatch stitching pattern: 32x32 asset, 16x16 windows, overlap .5, keepbound -> 3x3 windows at 0, 8, 16', () => {
  const sw = new SlidingWindow([32, 32], [16, 16], { overlap: 0.5, keepbound: true, allowOvershoot: true });
  assert.deepEqual(sw.stride, [8, 8]);
  assert.deepEqual(sw.basisStarts, [[0, 8, 16], [0, 8, 16]]);
  assert.equal(sw.length, 9);
});

test('stride from overlap uses Python round (half to even)', () => {
  // 5 - 5 * 0.5 = 2.5 -> 2 ; 7 - 7 * 0.5 = 3.5 -> 4 ; 3 - 3 * 0.5 = 1.5 -> 2
  assert.deepEqual(new SlidingWindow([5, 7, 3], [5, 7, 3], { overlap: 0.5, allowOvershoot: true }).stride, [2, 4, 2]);
  // 10 - 10 * 0.25 = 7.5 -> 8 ; 10 - 10 * 0.35 = 6.5 -> 6
  assert.deepEqual(new SlidingWindow([10, 10], [10, 10], { overlap: [0.25, 0.35] }).stride, [8, 6]);
});

test('argument errors', () => {
  assert.throws(() => new SlidingWindow([10, 10], [5]), /incompatible dims: window \[5\] has 1 dimensions, shape \[10,10\] has 2/);
  assert.throws(() => new SlidingWindow([10], [5], { overlap: 0.5, stride: 2 }), /specify overlap \(0.5\) XOR stride \(2\)/);
  assert.throws(() => new SlidingWindow([10], [5], { overlap: 1 }), /overlap was \[1\], but fractional overlaps must be in the range \[0, 1\)/);
  assert.throws(() => new SlidingWindow([10], [5], { overlap: -0.1 }), /range \[0, 1\)/);
  assert.throws(() => new SlidingWindow([10], [5], { stride: 0 }), /stride must be positive everywhere, got \[0\]/);
  assert.throws(() => new SlidingWindow([10], [5], { stride: -1 }), /stride must be positive/);
  assert.throws(() => new SlidingWindow([10], [5], { stride: [1, 2] }), /stride \[1,2\] must be one number or 1 numbers/);
  assert.throws(() => new SlidingWindow([10], [1], { overlap: 0.9 }), /stride must be positive everywhere, got \[0\]/);
  assert.throws(() => new SlidingWindow([10.5], [5]), /shape \[10.5\] must be a list of non-negative integers/);
  assert.throws(() => new SlidingWindow([10], [0], { stride: 1 }), /window \[0\] must hold positive integers/);
});

test('n-dimensional: 3-D shape, per-dimension stride, C order', () => {
  const sw = new SlidingWindow([2, 4, 6], [1, 2, 3], { stride: [1, 2, 3] });
  assert.deepEqual(sw.basisShape, [2, 2, 2]);
  assert.deepEqual(all(sw).slice(0, 3), [
    [[0, 1], [0, 2], [0, 3]],
    [[0, 1], [0, 2], [3, 6]],
    [[0, 1], [2, 4], [0, 3]],
  ]);
  assert.equal(String(sw), 'SlidingWindow(bshape=[2,2,2], shape=[2,4,6], window=[1,2,3], stride=[1,2,3])');
});

// ---------------------------------------------------------------------------
// Properties (against an independent reference of the 1-D start positions)

/** Reference: regular starts while the window fits, the first always, plus the flush-end start for keepbound. */
function refStarts(D: number, d: number, s: number, keepbound: boolean): number[] {
  const out = [0];
  for (let k = 1; k * s + d <= D; k++) out.push(k * s);
  const last = out.at(-1)!;
  if (keepbound && last + d < D && D - d > last) out.push(D - d);
  return out;
}

const dimArb = fc.record({
  D: fc.integer({ min: 1, max: 60 }),
  d: fc.integer({ min: 1, max: 70 }),
  s: fc.integer({ min: 1, max: 30 }),
});

test('property: windows match the reference start positions; count = product of basisShape', () => {
  fc.assert(fc.property(fc.array(dimArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (dims, keepbound) => {
    const sw = new SlidingWindow(dims.map((x) => x.D), dims.map((x) => x.d), { stride: dims.map((x) => x.s), keepbound, allowOvershoot: true });
    const ref = dims.map(({ D, d, s }) => refStarts(D, d, s, keepbound));
    assert.deepEqual(sw.basisStarts, ref);
    const wins = [...sw];
    assert.equal(wins.length, sw.length);
    assert.equal(sw.length, sw.basisShape.reduce((a, b) => a * b, 1));
    assert.equal(sw.grid.length, sw.length);
    for (const w of wins) for (const [i, s] of w.entries()) {
      assert.equal(s.step, null);
      assert.equal(s.stop! - s.start!, dims[i]!.d);
    }
  }), { numRuns: 300 });
});

test('property: with keepbound every cell is covered; windows lie inside the shape unless the window is larger', () => {
  fc.assert(fc.property(fc.array(dimArb, { minLength: 1, maxLength: 2 }), fc.double({ min: 0, max: 0.95, noNaN: true }), (dims, overlap) => {
    const shape = dims.map((x) => x.D);
    const window = dims.map((x) => x.d);
    let sw: SlidingWindow;
    try {
      sw = new SlidingWindow(shape, window, { overlap, keepbound: true, allowOvershoot: true });
    } catch (e) {
      // only a zero stride (tiny window, big overlap) may be refused
      assert.match((e as Error).message, /stride must be positive/);
      return;
    }
    for (let ax = 0; ax < shape.length; ax++) {
      const covered = new Uint8Array(shape[ax]!);
      for (const s of sw.basisStarts[ax]!) {
        const e = s + window[ax]!;
        if (window[ax]! <= shape[ax]!) assert.ok(s >= 0 && e <= shape[ax]!, `window [${s}, ${e}) inside ${shape[ax]}`);
        for (let k = s; k < Math.min(e, shape[ax]!); k++) covered[k] = 1;
      }
      assert.ok(covered.every((c) => c === 1), `axis ${ax} fully covered`);
    }
  }), { numRuns: 300 });
});

test('property: without allowOvershoot a grid is built iff it fits exactly, and then covers the shape', () => {
  fc.assert(fc.property(dimArb, fc.boolean(), ({ D, d, s }, keepbound) => {
    const fits = (((D - d) % s) + s) % s === 0;
    if (!fits) {
      assert.throws(() => new SlidingWindow([D], [d], { stride: s, keepbound }), ValueError);
      return;
    }
    const sw = new SlidingWindow([D], [d], { stride: s, keepbound });
    if (d <= D) {
      assert.equal(sw.length, (D - d) / s + 1);
      assert.equal(sw.at(-1)[0]!.stop, D);
    }
  }), { numRuns: 300 });
});
