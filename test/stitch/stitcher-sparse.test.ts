/**
 * Sparse canvases: a huge canvas with a few windows costs the memory of the blocks they touch
 * (the block index holds touched blocks only), its values match a naive reference kept per
 * touched pixel, untouched blocks read as null (sparse tiles); extents no TIFF can hold are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { MAX_CANVAS_SIDE, Stitcher } from '../../src/stitch/stitcher.ts';
import { StitchError } from '../../src/stitch/errors.ts';

for (const N of [1e6, 3e6, 1e7]) {
  test(`${N.toExponential(0)} x ${N.toExponential(0)} canvas with a few windows: memory for the touched blocks only, values as a naive reference`, () => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const C = 2, bs = 128;
    for (const memmap of [false, true]) {
      const s = new Stitcher([N, N, C], { blocksize: bs, memmap, cacheBytes: 4 * bs * bs * (C + 1) * 4 });
      try {
        // windows at the corners, the middle, across block edges, one reaching past the canvas
        const wins = [
          { y: 0, x: 0, h: 100, w: 100, v: 1, wt: 1 },
          { y: 50, x: 50, h: 100, w: 100, v: 3, wt: 2 },
          { y: N - 60, x: N - 80, h: 100, w: 100, v: 5, wt: 1 },
          { y: N / 2 + 3, x: 17, h: 200, w: 300, v: 7, wt: 0.5 },
          { y: 1234567 % N, x: N - 129, h: 64, w: 64, v: 9, wt: 1 },
        ];
        // the reference: sums and weights of every pixel a window touched (a map, as sparse as the canvas)
        const ref = new Map<number, [number, number, number]>();
        for (const { y, x, h, w, v, wt } of wins) {
          const p = Raster.zeros([h, w, C]);
          for (let i = 0; i < h * w; i++) { p.data[i * C] = v + (i % 7); p.data[i * C + 1] = -v; }
          s.add([slice(y, y + h), slice(x, x + w)], p, wt);
          for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
            if (y + r >= N || x + c >= N) continue;
            const key = (y + r) * N + (x + c), e = ref.get(key) ?? [0, 0, 0];
            const i = r * w + c;
            e[0] += (v + (i % 7)) * wt; e[1] += -v * wt; e[2] += wt;
            ref.set(key, e);
          }
        }
        // blocks: exactly those the windows touch
        const touched = new Set<string>();
        for (const { y, x, h, w } of wins) {
          for (let by = Math.floor(y / bs); by * bs < Math.min(N, y + h); by++) for (let bx = Math.floor(x / bs); bx * bs < Math.min(N, x + w); bx++) touched.add(`${by},${bx}`);
        }
        assert.equal(s.blockCount, touched.size);
        assert.deepEqual(new Set([...s.touchedBlocks()].map(([a, b]) => `${a},${b}`)), touched);
        // every touched block against the reference, through the writer's block source
        const src = s.blockSource();
        let valid = 0;
        for (const t of touched) {
          const [by, bx] = t.split(',').map(Number);
          const y0 = by * bs, x0 = bx * bs, h = Math.min(bs, N - y0), w = Math.min(bs, N - x0);
          const blk = src.readBlock(y0, x0, h, w)!;
          for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) {
            const e = ref.get((y0 + r) * N + x0 + c);
            for (let b = 0; b < C; b++) {
              const got = blk.get(r, c, b);
              if (!e) { assert.ok(Number.isNaN(got), `(${y0 + r}, ${x0 + c}) untouched but ${got}`); continue; }
              valid++;
              assert.ok(Math.abs(got - e[b] / e[2]) <= 1e-5 * (1 + Math.abs(got)), `(${y0 + r}, ${x0 + c}, ${b}): ${got} vs ${e[b] / e[2]}`);
            }
          }
        }
        assert.equal(valid, ref.size * C);
        // untouched blocks stay sparse: null, far away and next to touched ones
        for (const [y0, x0] of [[N / 4, N / 4], [N - bs, 0], [0, N - bs], [128, 256]]) {
          assert.equal(src.readBlock(y0, x0, bs, bs), null, `block at (${y0}, ${x0})`);
        }
        assert.equal(s.finalizedStats().valid, ref.size * C);
      } finally {
        s.dispose();
      }
    }
    // a dense index would need 8 bytes per block: 488 MB at 1e6, 4.4 GB at 3e6, 48 GB at 1e7
    const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.ok(grew < 100, `RSS grew by ${grew.toFixed(1)} MB`);
  });
}

test('canvas extents no TIFF can hold, and non-integer or NaN extents, are refused naming the shape', () => {
  for (const shape of [[MAX_CANVAS_SIDE + 1, 10, 1], [10, 1e15, 1], [10, 10, 70000], [1e308, 1e308, 1]] as [number, number, number][]) {
    assert.throws(() => new Stitcher(shape), (e: Error) => e instanceof StitchError && /TIFF/.test(e.message) && e.message.includes(String(shape[0])));
  }
  for (const shape of [[NaN, 10, 1], [10, 10.5, 1], [Infinity, 10, 1], [0, 10, 1], [-5, 10, 1]] as [number, number, number][]) {
    assert.throws(() => new Stitcher(shape), (e: Error) => e instanceof StitchError && /positive integers/.test(e.message) && e.message.includes(String(shape[0] === 10 ? shape[1] : shape[0])));
  }
  // the largest side a TIFF holds is accepted (nothing is allocated for it)
  const s = new Stitcher([MAX_CANVAS_SIDE, MAX_CANVAS_SIDE, 1], { blocksize: 256 });
  s.add([slice(MAX_CANVAS_SIDE - 10, MAX_CANVAS_SIDE), slice(0, 10)], Raster.full([10, 10, 1], 3));
  assert.equal(s.finalizeBlock(MAX_CANVAS_SIDE - 10, 0, 10, 10)!.get(9, 9), 3);
  assert.equal(s.blockCount, 1);
  s.dispose();
});
