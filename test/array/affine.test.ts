import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Affine } from '../../src/array/affine.ts';
import { ValueError } from '../../src/array/errors.ts';
import { gdalPython } from '../helpers/gdal.ts';
import { KWCOCO_FIXTURES as FIX, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

function close(a: readonly number[], b: readonly number[], tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    const scale = Math.max(1, Math.abs(a[i]!), Math.abs(b[i]!));
    assert.ok(Math.abs(a[i]! - b[i]!) <= tol * scale, `${what}[${i}]: ${a[i]} vs ${b[i]} (tol ${tol})`);
  }
}

const flat = (m: number[][]): number[] => m.flat();

// ---------------------------------------------------------------------------
// Python truth: expected/transforms.json (kwimage's resolved matrices)

interface TEntry {
  manifest: string; image_id: number; warp_img_to_vid: number[][];
  assets: { file_name: string; warp_aux_to_img: number[][]; warp_aux_to_vid: number[][];
    decompose_aux_to_img: { offset: [number, number]; scale: [number, number]; shearx: number; theta: number } }[];
}
const entries: TEntry[] = SKIP_WITHOUT_FIXTURES ? [] : JSON.parse(readFileSync(join(FIX, 'expected/transforms.json'), 'utf8'));
const manifests = new Map<string, any>();
function manifest(p: string): any {
  if (!manifests.has(p)) manifests.set(p, JSON.parse(readFileSync(join(FIX, p), 'utf8')));
  return manifests.get(p);
}

test('coerce resolves every TransformSpec of the fixtures as kwimage does (transforms.json)', { skip: SKIP_WITHOUT_FIXTURES }, () => {
  let nAssets = 0;
  let nExact = 0;
  assert.ok(entries.length >= 12);
  for (const e of entries) {
    const ds = manifest(e.manifest);
    const img = ds.images.find((i: any) => i.id === e.image_id);
    const V = Affine.coerce(img.warp_img_to_vid);
    close(V.matrix, flat(e.warp_img_to_vid), 1e-15, `${e.manifest} img ${e.image_id} warp_img_to_vid`);
    const assets = [...(img.auxiliary ?? []), ...(img.assets ?? [])];
    for (const ea of e.assets) {
      const a = assets.find((x: any) => x.file_name === ea.file_name);
      assert.ok(a, `asset ${ea.file_name} in manifest`);
      const A = Affine.coerce(a.warp_aux_to_img);
      const what = `${e.manifest} img ${e.image_id} ${ea.file_name}`;
      close(A.matrix, flat(ea.warp_aux_to_img), 1e-14, `${what} warp_aux_to_img`);
      if (A.equals(new Affine(flat(ea.warp_aux_to_img)))) nExact++;
      close(V.matmul(A).matrix, flat(ea.warp_aux_to_vid), 1e-14, `${what} warp_aux_to_vid`);
      nAssets++;
    }
  }
  assert.ok(nAssets >= 50, `checked ${nAssets} assets`);
  // Same operation order as kwimage: nearly every matrix agrees bit for bit.
  assert.ok(nExact >= nAssets * 0.8, `${nExact}/${nAssets} bit-exact`);
});

test('decompose matches kwimage on every fixture matrix (README C1)', { skip: SKIP_WITHOUT_FIXTURES }, () => {
  for (const e of entries) {
    for (const ea of e.assets) {
      const d = new Affine(flat(ea.warp_aux_to_img)).decompose();
      const x = ea.decompose_aux_to_img;
      const what = `${e.manifest} img ${e.image_id} ${ea.file_name}`;
      close(d.offset, x.offset, 1e-15, `${what} offset`);
      close(d.scale, x.scale, 1e-14, `${what} scale`);
      close([d.theta], [x.theta], 1e-14, `${what} theta`);
      close([d.shearx], [x.shearx], 1e-14, `${what} shearx`);
    }
  }
});

test('concise() of fixture transforms keeps the keys kwcoco wrote and round-trips', { skip: SKIP_WITHOUT_FIXTURES }, () => {
  for (const p of ['bundle-msi/data.kwcoco.json', 'bundle-stitched/data.kwcoco.json']) {
    for (const img of manifest(p).images) {
      for (const a of [...(img.auxiliary ?? []), ...(img.assets ?? [])]) {
        const spec = a.warp_aux_to_img;
        const c = Affine.coerce(spec).concise();
        // Every written key comes back. A re-decomposition may add or drop a rounding-level
        // shearx / theta (kwimage's concise does the same: it drops them only when exactly 0).
        const what = `${p} ${a.file_name}: ${JSON.stringify(c)} vs ${JSON.stringify(spec)}`;
        const tiny = (o: any, k: string) => (k === 'shearx' || k === 'theta') && Math.abs(o[k]) < 1e-15;
        for (const k of Object.keys(spec)) assert.ok(k in c || tiny(spec, k), what);
        for (const k of Object.keys(c)) assert.ok(k in spec || tiny(c, k), what);
        assert.ok(Affine.coerce(c).equals(Affine.coerce(spec), 1e-12));
        assert.equal(Object.keys(c).at(-1), 'type');
      }
    }
  }
});

// ---------------------------------------------------------------------------
// Hand-computed cases

test('coerce: identity forms', () => {
  for (const spec of [null, undefined, { type: 'affine' as const }, {}, { type: 'affine' as const, matrix: null }]) {
    const A = Affine.coerce(spec);
    assert.ok(A.isIdentity(), JSON.stringify(spec));
  }
  const A = Affine.scale(3);
  assert.equal(Affine.coerce(A), A, 'an Affine passes through');
});

test('coerce: matrix forms (3x3, 2x3, nested lists)', () => {
  const m = [[2, 0.5, 3], [0.25, 4, -1], [0, 0, 1]];
  assert.deepEqual([...Affine.coerce({ type: 'affine', matrix: m }).matrix], [2, 0.5, 3, 0.25, 4, -1, 0, 0, 1]);
  assert.deepEqual([...Affine.coerce(m).matrix], [2, 0.5, 3, 0.25, 4, -1, 0, 0, 1]);
  assert.deepEqual([...Affine.coerce({ matrix: m.slice(0, 2) }).matrix], [2, 0.5, 3, 0.25, 4, -1, 0, 0, 1]);
  assert.deepEqual(Affine.coerce(m).toNested(), m);
});

test('coerce: concise params, hand-computed matrices', () => {
  const cases: [object, number[]][] = [
    [{ scale: 2 }, [2, 0, 0, 0, 2, 0]],
    [{ scale: [2, 3] }, [2, 0, 0, 0, 3, 0]],
    [{ offset: 3 }, [1, 0, 3, 0, 1, 3]],
    [{ offset: [1.5, -2] }, [1, 0, 1.5, 0, 1, -2]],
    [{ scale: 2, offset: [1, 0], type: 'affine' }, [2, 0, 1, 0, 2, 0]],
    // x' = x + 0.5 y  (x-shear)
    [{ shearx: 0.5 }, [1, 0.5, 0, 0, 1, 0]],
    // S then Shx: [[sx, shx*sy], [0, sy]]
    [{ scale: [2, 3], shearx: 0.5 }, [2, 1.5, 0, 0, 3, 0]],
    // scale about (10, 10): x' = 2 (x - 10) + 10
    [{ scale: 2, about: 10 }, [2, 0, -10, 0, 2, -10]],
    [{ scale: 2, about: [10, 4] }, [2, 0, -10, 0, 2, -4]],
    // offset applied after scale
    [{ scale: 2, offset: 1, about: [10, 4] }, [2, 0, -9, 0, 2, -3]],
  ];
  for (const [spec, want] of cases) {
    close(Affine.coerce(spec as never).matrix, [...want, 0, 0, 1], 0, JSON.stringify(spec));
  }
  // rotation by 90 degrees about (7, 7): (x, y) -> (14 - y, x)  (bundle-probe qrot)
  const R = Affine.coerce({ theta: Math.PI / 2, about: 7 });
  close(R.matrix, [0, -1, 14, 1, 0, 0, 0, 0, 1], 1e-15, 'rot90 about 7');
  close(R.apply([[0, 0], [3, 1]]).flat(), [14, 0, 13, 3], 1e-14, 'rot90 points');
  // counter-clockwise in x-right y-up terms: (1, 0) -> (cos, sin)
  const t = 0.3;
  close(Affine.coerce({ theta: t }).apply([[1, 0], [0, 1]]).flat(), [Math.cos(t), Math.sin(t), -Math.sin(t), Math.cos(t)], 1e-16, 'theta');
});

test('coerce: the composition order is T(about) T(offset) R Shx S T(-about)', () => {
  const p = { scale: [1.3, 0.7] as [number, number], offset: [2, -1] as [number, number], theta: 0.4, shearx: 0.2, about: [5, 9] as [number, number] };
  const byParts = Affine.translate(5, 9)
    .matmul(Affine.translate(2, -1))
    .matmul(Affine.coerce({ theta: 0.4 }))
    .matmul(new Affine([1, 0.2, 0, 0, 1, 0]))
    .matmul(Affine.scale([1.3, 0.7]))
    .matmul(Affine.translate(-5, -9));
  assert.ok(Affine.coerce(p).equals(byParts, 1e-14));
});

test('coerce: shear / skew are read as shearx; conflicts and unknowns are errors', () => {
  assert.ok(Affine.coerce({ skew: 0.5 }).equals(Affine.coerce({ shearx: 0.5 })));
  assert.ok(Affine.coerce({ shear: 0.5 } as never).equals(Affine.coerce({ shearx: 0.5 })));
  assert.ok(Affine.coerce({ skew: 0.5, shearx: 0.5 }).equals(Affine.coerce({ shearx: 0.5 })));
  assert.throws(() => Affine.coerce({ skew: 0.5, shearx: 0.25 }), /conflicting shear values: shearx=0.25, skew=0.5/);
});

test('coerce: bad specs are clear errors naming the value', () => {
  assert.throws(() => Affine.coerce({ scale: 2, rotation: 1 } as never), (e: unknown) => e instanceof ValueError && /unknown transform parameter\(s\) rotation/.test((e as Error).message));
  assert.throws(() => Affine.coerce({ scale: [1, 2, 3] } as never), /scale must be a number or a pair \[x, y\], got \[1,2,3\]/);
  assert.throws(() => Affine.coerce({ scale: Number.NaN }), /scale must be a finite number, got null/);
  assert.throws(() => Affine.coerce({ theta: '1' } as never), /theta must be a finite number, got "1"/);
  assert.throws(() => Affine.coerce({ matrix: [[1, 0], [0, 1]] }), /3x3 or 2x3 nested lists/);
  assert.throws(() => Affine.coerce('scale 2' as never), /cannot coerce "scale 2" to an Affine/);
  assert.throws(() => Affine.coerce({ type: 'projective', scale: 2 } as never), /transform type "projective" is not supported/);
  assert.throws(() => new Affine([1, 2, 3]), /9 \(3x3\) or 6 \(2x3\) numbers, got 3/);
  assert.throws(() => new Affine([1, 0, 0, 0, Infinity, 0]), /finite number, got null/);
});

test('matmul and inv against hand-computed matrices', () => {
  const T = Affine.translate(1, 2);
  const S = Affine.scale(3);
  assert.deepEqual([...T.matmul(S).matrix], [3, 0, 1, 0, 3, 2, 0, 0, 1]); // scale first
  assert.deepEqual([...S.matmul(T).matrix], [3, 0, 3, 0, 3, 6, 0, 0, 1]); // translate first
  const A = new Affine([2, 0, 1, 0, 4, 2]);
  assert.deepEqual([...A.inv().matrix], [0.5, 0, -0.5, 0, 0.25, -0.5, 0, 0, 1]);
  const B = new Affine([1, 2, 3, 0, 1, 4]); // inverse: [[1, -2, 5], [0, 1, -4]]
  assert.deepEqual([...B.inv().matrix], [1, -2, 5, 0, 1, -4, 0, 0, 1]);
  assert.ok(B.matmul(B.inv()).isIdentity());
  assert.throws(() => new Affine([1, 2, 0, 2, 4, 0]).inv(), /singular \(determinant 0\)/);
  assert.throws(() => Affine.scale([0, 1]).inv(), /singular/);
  // no rotation: exact reciprocals (a geotransform of 10 m pixels stays 10, not 9.999999999999998)
  assert.deepEqual([...Affine.scale([0.1, -0.1]).inv().matrix], [10, 0, 0, 0, -10, 0, 0, 0, 1]);
  assert.deepEqual(Affine.fromGdal([412340, 10, 0, 4600000, 0, -10]).inv().inv().toGdal(), [412340, 10, 0, 4600000, 0, -10]);
  // a general (projective) bottom row uses the full 3x3 inverse
  const P = new Affine([2, 0, 0, 0, 2, 0, 0, 1, 1]);
  assert.ok(P.matmul(P.inv()).equals(Affine.eye(), 1e-15));
  assert.deepEqual(A.apply([[1, 1], [0, 0]]), [[3, 6], [1, 2]]);
  assert.equal(A.det(), 8);
});

test('isIdentity is exact, as kwcoco identity removal (C2.2)', () => {
  assert.ok(!Affine.coerce({ scale: 1 + 1e-12 }).isIdentity());
  assert.ok(Affine.scale(1.25).matmul(Affine.scale(0.8)).isIdentity()); // 1.25 * 0.8 == 1.0 exactly
  assert.ok(Affine.coerce({ scale: 1, offset: 0, theta: 0, shearx: 0 }).isIdentity());
  assert.ok(Affine.eye().equals(new Affine([1, 0, 1e-9, 0, 1, 0]), 1e-9));
  assert.ok(!Affine.eye().equals(new Affine([1, 0, 1e-9, 0, 1, 0])));
});

test('concise: kwimage rules (drops identity parts, scalars for equal pairs, key order)', () => {
  assert.deepEqual(Affine.eye().concise(), { type: 'affine' });
  assert.deepEqual(Affine.scale(2).concise(), { scale: 2, type: 'affine' });
  assert.deepEqual(Affine.scale([2, 3]).concise(), { scale: [2, 3], type: 'affine' });
  assert.deepEqual(Affine.translate(3, 3).concise(), { offset: 3, type: 'affine' });
  assert.deepEqual(Affine.translate(1, 0).concise(), { offset: [1, 0], type: 'affine' });
  assert.deepEqual(Affine.coerce({ scale: 0.5, offset: [1, 2] }).concise(), { offset: [1, 2], scale: 0.5, type: 'affine' });
  assert.deepEqual(Object.keys(Affine.coerce({ scale: [2, 3], offset: 1, theta: 0.1, shearx: 0.2 }).concise()), ['offset', 'scale', 'shearx', 'theta', 'type']);
  // scale within 1e-9 (relative) of 1 is dropped; offsets only when exactly 0
  assert.deepEqual(Affine.scale(1 + 1e-12).concise(), { type: 'affine' });
  assert.deepEqual(Affine.translate(1e-300, 0).concise(), { offset: [1e-300, 0], type: 'affine' });
  // a real x-scale with sy == 1 is kept (kwimage's check of sy alone would drop it)
  assert.deepEqual(Affine.scale([2, 1]).concise(), { scale: [2, 1], type: 'affine' });
  assert.deepEqual(JSON.parse(JSON.stringify({ w: Affine.scale(2) })), { w: { scale: 2, type: 'affine' } });
});

// ---------------------------------------------------------------------------
// Properties

const num = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
const params = fc.record({
  scale: fc.oneof(num(0.05, 20), fc.tuple(num(0.05, 20), num(0.05, 20))),
  offset: fc.oneof(num(-1000, 1000), fc.tuple(num(-1000, 1000), num(-1000, 1000))),
  theta: num(-3, 3),
  shearx: num(-2, 2),
}, { requiredKeys: [] });

test('property: concise() round-trips through coerce', () => {
  fc.assert(fc.property(params, (p) => {
    const A = Affine.coerce(p as never);
    const c = A.concise();
    const B = Affine.coerce(JSON.parse(JSON.stringify(c)));
    const mag = Math.max(1, ...A.matrix.map(Math.abs));
    return B.equals(A, 1e-9 * mag);
  }), { numRuns: 500 });
});

test('property: decompose -> affine rebuilds the matrix', () => {
  fc.assert(fc.property(params, (p) => {
    const A = Affine.coerce(p as never);
    const B = Affine.affine(A.decompose());
    const mag = Math.max(1, ...A.matrix.map(Math.abs));
    return B.equals(A, 1e-11 * mag);
  }), { numRuns: 500 });
});

test('property: inv is a two-sided inverse and matmul is associative', () => {
  fc.assert(fc.property(params, params, params, (p, q, r) => {
    const A = Affine.coerce(p as never);
    const B = Affine.coerce(q as never);
    const C = Affine.coerce(r as never);
    const eye = Affine.eye();
    const ok1 = A.matmul(A.inv()).equals(eye, 1e-8) && A.inv().matmul(A).equals(eye, 1e-8);
    const L = A.matmul(B).matmul(C);
    const R = A.matmul(B.matmul(C));
    const mag = Math.max(1, ...L.matrix.map(Math.abs));
    const pt: [number, number] = [3.5, -2];
    const [x1, y1] = L.apply([pt])[0]!;
    const [x2, y2] = A.apply(B.apply(C.apply([pt])))[0]!;
    return ok1 && L.equals(R, 1e-9 * mag) && Math.abs(x1 - x2) < 1e-6 * mag && Math.abs(y1 - y2) < 1e-6 * mag;
  }), { numRuns: 300 });
});

// ---------------------------------------------------------------------------
// GDAL geotransforms

test('fromGdal / toGdal: GDAL order [c, a, b, f, d, e]', () => {
  const gt = [500000, 10, 0.5, 4649776, -0.25, -10];
  const A = Affine.fromGdal(gt);
  assert.deepEqual([...A.matrix], [10, 0.5, 500000, -0.25, -10, 4649776, 0, 0, 1]);
  assert.deepEqual(A.toGdal(), gt);
  assert.throws(() => Affine.fromGdal([1, 2, 3]), /6 numbers, got 3/);
});

test('GDAL oracle: ApplyGeoTransform and InvGeoTransform agree with apply / inv', () => {
  const gts = [
    [500000, 10, 0, 4649776, 0, -10],
    [-122.5, 0.001, 0.0002, 37.8, 0.0001, -0.001],
    [12.25, 2, -0.5, -3, 0.75, 1.5],
  ];
  const pts: [number, number][] = [[0, 0], [10, 0], [0, 7], [123.5, 45.25]];
  const out = JSON.parse(gdalPython(`
import json, sys
from osgeo import gdal
gts = json.loads(sys.argv[1]); pts = json.loads(sys.argv[2])
res = []
for gt in gts:
    res.append({"fwd": [list(gdal.ApplyGeoTransform(gt, x, y)) for x, y in pts], "inv": list(gdal.InvGeoTransform(gt))})
print(json.dumps(res))
`, [JSON.stringify(gts), JSON.stringify(pts)]));
  gts.forEach((gt, i) => {
    const A = Affine.fromGdal(gt);
    close(A.apply(pts).flat(), out[i].fwd.flat(), 1e-15, `ApplyGeoTransform ${i}`);
    close(A.inv().toGdal(), out[i].inv, 1e-12, `InvGeoTransform ${i}`);
  });
});
