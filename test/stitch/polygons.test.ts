import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { Affine } from '../../src/array/affine.ts';
import { ValueError } from '../../src/array/errors.ts';
import { labelComponents } from '../../src/stitch/connected-components.ts';
import {
  maskToMultiPolygon, multiPolygonArea, multiPolygonBounds, ringSignedArea, scoredPolygons, warpMultiPolygon,
  type MultiPolygon,
} from '../../src/stitch/polygons.ts';
import { gdalPython } from '../helpers/gdal.ts';

/** A mask from rows of '0'/'1'. */
const mk = (rows: string[]) =>
  new Raster(Uint8Array.from(rows.join('').split('').map(Number)), [rows.length, rows[0]?.length ?? 0, 1]);

const sq = (x0: number, y0: number, x1: number, y1: number) => [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];

/** Naive even-odd rasteriser at pixel centres over every ring of every polygon. */
function rasterize(mp: MultiPolygon, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
    const px = c + 0.5, py = r + 0.5;
    let inside = false;
    for (const poly of mp.coordinates) for (const ring of poly) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const [x1, y1] = ring[i], [x2, y2] = ring[i + 1];
        if ((y1 > py) !== (y2 > py) && px < x1 + ((py - y1) / (y2 - y1)) * (x2 - x1)) inside = !inside;
      }
    }
    out[r * w + c] = inside ? 1 : 0;
  }
  return out;
}

/** Structural checks: closed rings, orientation, corners only, no repeated vertex, integer coordinates. */
function checkStructure(mp: MultiPolygon) {
  assert.equal(mp.type, 'MultiPolygon');
  for (const poly of mp.coordinates) {
    assert.ok(poly.length >= 1);
    poly.forEach((ring, k) => {
      assert.ok(ring.length >= 5, `ring of ${ring.length} positions`);
      assert.deepEqual(ring[0], ring[ring.length - 1], 'ring is closed');
      const a = ringSignedArea(ring);
      if (k === 0) assert.ok(a > 0, `shell area ${a} must be positive (CCW)`); else assert.ok(a < 0, `hole area ${a} must be negative (CW)`);
      const n = ring.length - 1;
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const p = ring[i], q = ring[(i + 1) % n], o = ring[(i + n - 1) % n];
        assert.ok(Number.isInteger(p[0]) && Number.isInteger(p[1]));
        assert.ok((p[0] === q[0]) !== (p[1] === q[1]), 'edges are axis-parallel and non-empty');
        // a corner: the previous and next edges are perpendicular
        assert.ok(!((o[0] === p[0] && p[0] === q[0]) || (o[1] === p[1] && p[1] === q[1])), `collinear vertex ${p}`);
        const key = `${p[0]},${p[1]}`;
        assert.ok(!seen.has(key), `vertex ${key} repeated in a ring`);
        seen.add(key);
      }
    });
  }
}

test('single pixel, full image, empty image', () => {
  assert.deepEqual(maskToMultiPolygon(mk(['1'])), { type: 'MultiPolygon', coordinates: [[sq(0, 0, 1, 1)]] });
  assert.deepEqual(maskToMultiPolygon(mk(['000', '010'])).coordinates, [[sq(1, 1, 2, 2)]]);
  assert.deepEqual(maskToMultiPolygon(Raster.full([4, 6, 1], 1, 'uint8')).coordinates, [[sq(0, 0, 6, 4)]]);
  assert.deepEqual(maskToMultiPolygon(Raster.zeros([4, 6, 1], 'uint8')), { type: 'MultiPolygon', coordinates: [] });
  assert.deepEqual(maskToMultiPolygon(Raster.zeros([0, 0, 1], 'uint8')).coordinates, []);
  // float masks: nonzero is in, NaN is out; plain {data, shape} accepted
  assert.deepEqual(maskToMultiPolygon({ data: [0.5, NaN, -2, 0], shape: [2, 2] }).coordinates, [[sq(0, 0, 1, 2)]]);
});

test('ring with an island inside its hole: shell, CW hole, island as its own polygon', () => {
  const mp = maskToMultiPolygon(mk([
    '11111',
    '10001',
    '10101',
    '10001',
    '11111',
  ]));
  assert.deepEqual(mp.coordinates, [
    [sq(0, 0, 5, 5), [[1, 4], [4, 4], [4, 1], [1, 1], [1, 4]]],
    [sq(2, 2, 3, 3)],
  ]);
  checkStructure(mp);
  assert.equal(multiPolygonArea(mp), 17);
});

test('L shape: collinear vertices removed', () => {
  assert.deepEqual(maskToMultiPolygon(mk(['100', '100', '111'])).coordinates,
    [[[[0, 0], [1, 0], [1, 2], [3, 2], [3, 3], [0, 3], [0, 0]]]]);
});

test('diagonal pixels: two Polygons touching at (1, 1) under both connectivities; one region under 8, two under 4', () => {
  const m = mk(['10', '01']);
  const expected = [[sq(0, 0, 1, 1)], [sq(1, 1, 2, 2)]];
  assert.deepEqual(maskToMultiPolygon(m, { connectivity: 8 }).coordinates, expected);
  assert.deepEqual(maskToMultiPolygon(m, { connectivity: 4 }).coordinates, expected);
  const probs = new Raster(Float32Array.of(0.9, 0, 0, 0.7), [2, 2, 1]);
  const s8 = scoredPolygons(probs, 0.5);
  assert.equal(s8.length, 1);
  assert.ok(Math.abs(s8[0].score - (Math.fround(0.9) + Math.fround(0.7)) / 2) < 1e-12);
  assert.deepEqual(s8[0].polygon.coordinates, expected);
  const s4 = scoredPolygons(probs, 0.5, { connectivity: 4 });
  assert.deepEqual(s4.map((s) => s.polygon.coordinates), [[expected[0]], [expected[1]]]);
  assert.deepEqual(s4.map((s) => s.score), [Math.fround(0.9), Math.fround(0.7)]);
  // anti-diagonal
  assert.deepEqual(maskToMultiPolygon(mk(['01', '10'])).coordinates, [[sq(1, 0, 2, 1)], [sq(0, 1, 1, 2)]]);
});

test('hole reaching the outside through a corner: a hole touching its shell at that vertex', () => {
  assert.deepEqual(maskToMultiPolygon(mk(['111', '101', '110'])).coordinates, [[
    [[0, 0], [3, 0], [3, 2], [2, 2], [2, 3], [0, 3], [0, 0]],
    [[2, 2], [2, 1], [1, 1], [1, 2], [2, 2]],
  ]]);
});

test('8-connected order: polygons grouped region by region', () => {
  // pieces in raster order: A (0,0), B (0,3), C (1,1) touches A diagonally
  const m = mk(['1001', '0100']);
  assert.deepEqual(maskToMultiPolygon(m, { connectivity: 4 }).coordinates, [[sq(0, 0, 1, 1)], [sq(3, 0, 4, 1)], [sq(1, 1, 2, 2)]]);
  assert.deepEqual(maskToMultiPolygon(m, { connectivity: 8 }).coordinates, [[sq(0, 0, 1, 1)], [sq(1, 1, 2, 2)], [sq(3, 0, 4, 1)]]);
});

test('scoredPolygons: strictly above thresh, NaN never above, mean over the region, holes kept', () => {
  const probs = new Raster(Float64Array.from([
    0.6, 0.6, 0.6, 0.5,
    0.6, NaN, 0.8, 0.5,
    0.6, 0.6, 0.6, 0.2,
  ]), [3, 4, 1]);
  const res = scoredPolygons(probs, 0.5);
  assert.equal(res.length, 1);
  assert.ok(Math.abs(res[0].score - (0.6 * 7 + 0.8) / 8) < 1e-12);
  assert.deepEqual(res[0].polygon.coordinates, [[sq(0, 0, 3, 3), [[1, 2], [2, 2], [2, 1], [1, 1], [1, 2]]]]);
  assert.deepEqual(scoredPolygons(probs, 0.9), []);
  assert.throws(() => scoredPolygons(Raster.zeros([2, 2, 2]), 0.5), ValueError);
  assert.throws(() => scoredPolygons(probs, NaN), /thresh/);
  assert.throws(() => maskToMultiPolygon(mk(['1']), { connectivity: 6 as never }), /connectivity must be 4 or 8, got 6/);
  assert.throws(() => maskToMultiPolygon(Raster.zeros([2, 2, 3])), /\[2,2,3\]/);
});

test('warpMultiPolygon and bounds: 300x300 asset at scale 2 is the square 0..600; reflections keep orientation', () => {
  const full = maskToMultiPolygon(Raster.full([300, 300, 1], 1, 'uint8'));
  const img = warpMultiPolygon(full, Affine.scale(2));
  assert.deepEqual(img.coordinates, [[sq(0, 0, 600, 600)]]);
  assert.deepEqual(multiPolygonBounds(img), [0, 0, 600, 600]);
  const ring = maskToMultiPolygon(mk(['111', '101', '111']));
  const flipped = warpMultiPolygon(ring, new Affine([-1, 0, 10, 0, 1, 0, 0, 0, 1]));
  checkStructure(flipped);
  assert.deepEqual(multiPolygonBounds(flipped), [7, 0, 10, 3]);
  assert.equal(multiPolygonArea(flipped), 8);
  assert.throws(() => multiPolygonBounds({ type: 'MultiPolygon', coordinates: [] }), /empty/);
});

/** Random mask: blobs of varying density so holes, pinches and islands all occur. */
const maskArb = fc.record({
  h: fc.integer({ min: 1, max: 14 }), w: fc.integer({ min: 1, max: 14 }),
  p: fc.double({ min: 0.1, max: 0.9, noNaN: true }), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
}).map(({ h, w, p, seed }) => {
  let s = seed || 1;
  const data = new Uint8Array(h * w);
  for (let i = 0; i < data.length; i++) { s = (s * 48271) % 2147483647; data[i] = s / 2147483647 < p ? 1 : 0; }
  return new Raster(data, [h, w, 1]);
});

test('property: rasterising the polygons back gives the mask; area = pixel count; structure', () => {
  fc.assert(fc.property(maskArb, fc.constantFrom<4 | 8>(4, 8), (m, conn) => {
    const mp = maskToMultiPolygon(m, { connectivity: conn });
    checkStructure(mp);
    assert.deepEqual(Array.from(rasterize(mp, m.height, m.width)), Array.from(m.data));
    let count = 0; for (const v of m.data) count += v;
    assert.equal(multiPolygonArea(mp), count);
    // one Polygon per 4-connected piece
    assert.equal(mp.coordinates.length, labelComponents(m.data, m.height, m.width, 4).count);
  }), { numRuns: 400 });
});

test('property: scoredPolygons regions are the 4/8-connected components, each rasterising to its pixels', () => {
  fc.assert(fc.property(maskArb, fc.constantFrom<4 | 8>(4, 8), (m, conn) => {
    const probs = new Raster(Float32Array.from(m.data, (v, i) => (v ? 0.5 + ((i * 37) % 50) / 100 : 0.2)), m.shape);
    const res = scoredPolygons(probs, 0.4, { connectivity: conn });
    const { labels, count } = labelComponents(m.data, m.height, m.width, conn);
    assert.equal(res.length, count);
    res.forEach((r, k) => {
      const back = rasterize(r.polygon, m.height, m.width);
      let sum = 0, n = 0;
      for (let i = 0; i < back.length; i++) {
        assert.equal(back[i], labels[i] === k + 1 ? 1 : 0);
        if (labels[i] === k + 1) { sum += probs.data[i]; n++; }
      }
      assert.ok(Math.abs(r.score - sum / n) < 1e-12);
    });
  }), { numRuns: 200 });
});

test('labelComponents vs a naive flood fill', () => {
  fc.assert(fc.property(maskArb, fc.constantFrom<4 | 8>(4, 8), (m, conn) => {
    const [h, w] = [m.height, m.width];
    const ref = new Int32Array(h * w);
    let n = 0;
    for (let i = 0; i < h * w; i++) {
      if (!m.data[i] || ref[i]) continue;
      ref[i] = ++n;
      const stack = [i];
      while (stack.length) {
        const p = stack.pop()!, y = Math.floor(p / w), x = p % w;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (conn === 4 && dx !== 0 && dy !== 0)) continue;
          const yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (m.data[q] && !ref[q]) { ref[q] = n; stack.push(q); }
        }
      }
    }
    const got = labelComponents(m.data, h, w, conn);
    assert.equal(got.count, n);
    assert.deepEqual(Array.from(got.labels), Array.from(ref));
  }), { numRuns: 300 });
});

test('GDAL/GEOS: random masks give valid MultiPolygons equal to the union of their pixel squares', () => {
  const cases: { h: number; w: number; mask: number[]; geom: MultiPolygon }[] = [];
  fc.assert(fc.property(maskArb, (m) => {
    cases.push({ h: m.height, w: m.width, mask: Array.from(m.data), geom: maskToMultiPolygon(m) });
  }), { numRuns: 300, seed: 4242 });
  // hand-picked pinch cases as well
  for (const rows of [['10', '01'], ['111', '101', '110'], ['0110', '1001', '1001', '0110'], ['1101', '1011', '0111'], ['101', '010', '101']]) {
    const m = mk(rows);
    cases.push({ h: m.height, w: m.width, mask: Array.from(m.data), geom: maskToMultiPolygon(m) });
  }
  const out = gdalPython(`
import json, sys
from osgeo import ogr
ogr.UseExceptions()
cases = json.loads(sys.stdin.read())
res = []
for c in cases:
    g = ogr.CreateGeometryFromJson(json.dumps(c['geom'])) if c['geom']['coordinates'] else ogr.Geometry(ogr.wkbMultiPolygon)
    u = ogr.Geometry(ogr.wkbMultiPolygon)
    for i, v in enumerate(c['mask']):
        if v:
            y, x = divmod(i, c['w'])
            r = ogr.Geometry(ogr.wkbLinearRing)
            for px, py in [(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1), (x, y)]:
                r.AddPoint_2D(px, py)
            p = ogr.Geometry(ogr.wkbPolygon); p.AddGeometry(r); u.AddGeometry(p)
    u = u.UnionCascaded() if u.GetGeometryCount() else u
    valid = g.IsValid()
    same = g.IsEmpty() and u.IsEmpty() or (g.SymDifference(u).GetArea() == 0 and abs(g.GetArea() - u.GetArea()) == 0)
    res.append([valid, bool(same)])
print(json.dumps(res))
`, [], Buffer.from(JSON.stringify(cases)));
  const res: [boolean, boolean][] = JSON.parse(out);
  assert.equal(res.length, cases.length);
  res.forEach(([valid, same], i) => {
    assert.ok(valid, `case ${i} invalid: ${JSON.stringify(cases[i])}`);
    assert.ok(same, `case ${i} differs from the union of its pixels: ${JSON.stringify(cases[i])}`);
  });
});

test('large mask: 1000x1000 random blobs traced; area and piece count agree', () => {
  const h = 1000, w = 1000;
  const data = new Uint8Array(h * w);
  let s = 7;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    s = (s * 48271) % 2147483647;
    const blob = Math.sin(x / 23) * Math.cos(y / 17) + Math.sin((x + y) / 41);
    data[y * w + x] = blob + (s / 2147483647 - 0.5) * 0.6 > 0.3 ? 1 : 0;
  }
  const m = new Raster(data, [h, w, 1]);
  const mp = maskToMultiPolygon(m);
  let count = 0; for (const v of data) count += v;
  assert.equal(multiPolygonArea(mp), count);
  assert.equal(mp.coordinates.length, labelComponents(data, h, w, 4).count);
});
