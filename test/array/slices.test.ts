import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { GDAL_PYTHON } from '../helpers/gdal.ts';
import fc from 'fast-check';
import { embedSlice, fixSlice, isSlice, normalizeSlice, slice, sliceLength, type Slice } from '../../src/array/slices.ts';
import { ValueError } from '../../src/array/errors.ts';

// ---------------------------------------------------------------------------
// slice / isSlice / fixSlice

test('slice() builds {start, stop, step} with step null by default', () => {
  assert.deepEqual(slice(1, 5), { start: 1, stop: 5, step: null });
  assert.deepEqual(slice(null, 5, 2), { start: null, stop: 5, step: 2 });
});

test('isSlice table', () => {
  const cases: [unknown, boolean][] = [
    [slice(0, 1), true],
    [{ start: null, stop: null, step: null }, true],
    [{ start: 1, stop: 2 }, true],
    [{ start: '1', stop: 2 }, false],
    [{ stop: 2 }, false],
    [[slice(0, 1)], false],
    [null, false],
    [3, false],
  ];
  for (const [v, want] of cases) assert.equal(isSlice(v), want, JSON.stringify(v));
});

test('fixSlice table: truncation like Python int(), null kept', () => {
  const cases: [Slice, Slice][] = [
    [slice(1.9, 5.2), slice(1, 5)],
    [slice(-1.9, -0.5), slice(-1, 0)], // int(-1.9) == -1, int(-0.5) == 0
    [slice(null, 3.999, null), slice(null, 3, null)],
    [slice(2.5, null, 1.7), slice(2, null, 1)],
    [slice(0, 0), slice(0, 0)],
  ];
  for (const [input, want] of cases) {
    // deepStrictEqual tells -0 from 0: truncating -0.5 must give a plain 0
    assert.deepEqual(fixSlice(input), want, JSON.stringify(input));
  }
  assert.deepEqual(fixSlice([slice(0.5, 2.5), slice(1, 3.3)]), [slice(0, 2), slice(1, 3)]);
});

test('fixSlice: TypeError for anything that is not a slice or list of slices', () => {
  for (const bad of [3, 'a', null, { start: 1 }, [slice(0, 1), 3], { start: 'a', stop: 1, step: null }]) {
    assert.throws(() => fixSlice(bad as never), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => fixSlice(slice(Number.NaN, 1)), /not a finite number/);
});

// ---------------------------------------------------------------------------
// normalizeSlice / sliceLength

test('normalizeSlice table (Python slice.indices)', () => {
  const cases: [Slice, number, [number, number, number]][] = [
    [slice(null, null), 10, [0, 10, 1]],
    [slice(-3, null), 10, [7, 10, 1]],
    [slice(2, 100), 10, [2, 10, 1]],
    [slice(-100, 3), 10, [0, 3, 1]],
    [slice(5, 2), 10, [5, 2, 1]],
    [slice(null, null, -1), 4, [3, -1, -1]],
    [slice(null, -1), 0, [0, 0, 1]],
    [slice(1, -1, 2), 7, [1, 6, 2]],
  ];
  for (const [sl, n, [start, stop, step]] of cases) {
    assert.deepEqual(normalizeSlice(sl, n), { start, stop, step }, `${JSON.stringify(sl)} on ${n}`);
  }
  assert.equal(sliceLength(slice(5, 2), 10), 0);
  assert.equal(sliceLength(slice(null, null, -1), 4), 4);
  assert.equal(sliceLength(slice(1, -1, 2), 7), 3);
  assert.throws(() => normalizeSlice(slice(0, 1, 0), 3), (e: unknown) => e instanceof ValueError && /step cannot be zero/.test((e as Error).message));
  assert.throws(() => normalizeSlice(slice(0.5, 1), 3), TypeError);
  assert.throws(() => normalizeSlice(slice(0, 1), -1), /dimension length -1/);
});

test('normalizeSlice / sliceLength agree with CPython on random slices', () => {
  const bound = fc.option(fc.integer({ min: -15, max: 15 }), { nil: null });
  const cases = fc.sample(fc.tuple(bound, bound, fc.option(fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0), { nil: null }), fc.integer({ min: 0, max: 12 })), { numRuns: 400, seed: 7 });
  const res = spawnSync(GDAL_PYTHON, ['-c', `
import json, sys
out = []
for a, b, s, n in json.load(sys.stdin):
    sl = slice(a, b, s)
    out.append(list(sl.indices(n)) + [len(range(*sl.indices(n)))])
print(json.dumps(out))
`], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const want = JSON.parse(res.stdout) as number[][];
  cases.forEach(([a, b, s, n], i) => {
    const sl = slice(a, b, s);
    const got = normalizeSlice(sl, n);
    assert.deepEqual([got.start, got.stop, got.step, sliceLength(sl, n)], want[i], `slice(${a}, ${b}, ${s}).indices(${n})`);
  });
});

// ---------------------------------------------------------------------------
// embedSlice (kwarray's embed_slice examples + the patch slice)

test('kwarray embed_slice example: inside on the left edge, pad [10, 5]', () => {
  const r = embedSlice([slice(0, 10), slice(0, 10)], [300, 300], [10, 5]);
  assert.deepEqual(r.dataSlice, [slice(0, 20), slice(0, 15)]);
  assert.deepEqual(r.padding, [[10, 0], [5, 0]]);
  assert.deepEqual(r.patchSlice, [slice(10, 30), slice(5, 20)]);
});

test('kwarray embed_slice example: slice bigger than the image', () => {
  const r = embedSlice([slice(-10, 400), slice(-10, 400)], [300, 300], [10, 5]);
  assert.deepEqual(r.dataSlice, [slice(0, 300), slice(0, 300)]);
  assert.deepEqual(r.padding, [[20, 110], [15, 105]]);
  assert.deepEqual(r.patchSlice, [slice(20, 320), slice(15, 315)]);
});

test('kwarray embed_slice example: slice inside the image, no pad', () => {
  const r = embedSlice([slice(10, 40), slice(10, 40)], [300, 300]);
  assert.deepEqual(r.dataSlice, [slice(10, 40), slice(10, 40)]);
  assert.deepEqual(r.padding, [[0, 0], [0, 0]]);
  assert.deepEqual(r.patchSlice, [slice(0, 30), slice(0, 30)]);
});

test('kwarray embed_slice example: error cases (dims / pad lengths)', () => {
  const sls = [slice(0, 40), slice(10, 40)];
  assert.throws(() => embedSlice(sls, [300]), ValueError);
  assert.throws(() => embedSlice(sls.slice(0, 1), [300, 300]), ValueError);
  assert.throws(() => embedSlice(sls, [300, 300], [[1, 1]]), /pad \[\[1,1\]\] has 1 entries for 2 data dimensions/);
  assert.throws(() => embedSlice(sls, [300, 300], [1]), ValueError);
});

test('embedSlice table: windows past the edges (stitcher cases), null bounds, errors', () => {
  const cases: [Slice, number, Slice, [number, number], Slice][] = [
    // [requested, dim, dataSlice, padding, patchSlice]
    [slice(-2, 3), 5, slice(0, 3), [2, 0], slice(2, 5)],
    [slice(3, 8), 5, slice(3, 5), [0, 3], slice(0, 2)],
    [slice(-20, -10), 300, slice(0, 0), [10, 0], slice(10, 10)],
    [slice(310, 320), 300, slice(300, 300), [0, 10], slice(0, 0)],
    [slice(null, null), 7, slice(0, 7), [0, 0], slice(0, 7)],
    [slice(null, 4, 1), 7, slice(0, 4), [0, 0], slice(0, 4)],
  ];
  for (const [sl, D, ds, pad, ps] of cases) {
    const r = embedSlice([sl], [D]);
    assert.deepEqual([r.dataSlice[0], r.padding[0], r.patchSlice[0]], [ds, pad, ps], `${JSON.stringify(sl)} in ${D}`);
  }
  assert.deepEqual(embedSlice([slice(2, 4)], [10], 1).dataSlice, [slice(1, 5)]);
  assert.throws(() => embedSlice([slice(5, 2)], [10]), /start 5 > stop 2 on axis 0/);
  assert.throws(() => embedSlice([slice(0, 4, 2)], [10]), /step 1 only, got step 2/);
  assert.throws(() => embedSlice([slice(0.5, 4)], [10]), TypeError);
  assert.throws(() => embedSlice('x' as never, [10]), TypeError);
});

test('property: embedSlice splits a region into padding + in-bounds part that matches naive clipping', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 40 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 50 }),
    fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }),
    (D, lo, len, pLo, pHi) => {
      const r = embedSlice([slice(lo, lo + len)], [D], [[pLo, pHi]]);
      const ds = r.dataSlice[0]!;
      const ps = r.patchSlice[0]!;
      const [a, b] = r.padding[0]!;
      // naive: mark which cells of the padded region are inside [0, D)
      const inside: number[] = [];
      for (let k = lo - pLo; k < lo + len + pHi; k++) if (k >= 0 && k < D) inside.push(k);
      const total = len + pLo + pHi;
      assert.equal(a + (ds.stop! - ds.start!) + b, total);
      assert.equal(ds.stop! - ds.start!, inside.length);
      if (inside.length > 0) {
        assert.equal(ds.start, inside[0]);
        assert.equal(ds.stop, inside.at(-1)! + 1);
        // patch index of the first inside cell
        assert.equal(ps.start, inside[0]! - (lo - pLo));
      }
      assert.equal(ps.stop! - ps.start!, ds.stop! - ds.start!);
      assert.ok(ds.start! >= 0 && ds.stop! <= D);
    },
  ), { numRuns: 500 });
});
