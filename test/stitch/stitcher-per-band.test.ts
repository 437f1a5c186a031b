/**
 * Per-band weights (HxWxC): each band weighted on its own. Blocks stay narrow (one weight plane)
 * while a window's band weights agree and turn wide (one plane per band) where they differ; the
 * results equal a naive per-band weighted average whatever mix of windows, policies, dtypes,
 * memmap caches and arenas reaches them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { StitchError } from '../../src/stitch/errors.ts';

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) { assert.ok(Number.isNaN(a[i]), `${what} index ${i}: ${a[i]} vs NaN`); continue; }
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `${what} index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

const windowArb = fc.record({
  y: fc.integer({ min: -12, max: 40 }), x: fc.integer({ min: -12, max: 40 }),
  h: fc.integer({ min: 1, max: 24 }), w: fc.integer({ min: 1, max: 24 }), seed: fc.integer({ min: 0, max: 1000 }),
  kind: fc.constantFrom('scalar', 'pixel', 'band', 'band', 'band-agree'),
  sw: fc.constantFrom(1, 0.5, 2.25, 0),
  // per band: which bands get weight 0 at some pixels (a NaN pattern as the manager turns it into weights)
  zeroBands: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  bad: fc.constantFrom('none', 'none', 'nan'),
});

test('property: per-band weights equal a naive per-band weighted average (shapes, offsets, weights, zero patterns per band, policies, dtypes, memmap)', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const folder = mkdtempSync(join(tmpdir(), 'stitch-band-'));
  try {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 16 }),
      fc.constantFrom('float32', 'float64'), fc.constantFrom('propagate', 'omit'), fc.constantFrom('off', 'small-cache', 'arenas'),
      fc.array(windowArb, { minLength: 1, maxLength: 8 }),
      (H, W, C, bs, dtype, policy, mode, wins) => {
        const E = dtype === 'float64' ? 8 : 4;
        const opts = {
          blocksize: bs, dtype: dtype as 'float32', nanPolicy: policy as 'omit',
          ...(mode === 'small-cache' ? { memmap: folder, cacheBytes: 2 * bs * bs * (C + 1) * E } : {}),
          // tiny arenas: several of them, and blocks of one window in different memories
          ...(mode === 'arenas' ? { arenaBytes: 6 * 65536 + 4 * bs * bs * 2 * C * E + bs * W * (C + 1) * E } : {}),
        };
        let s: Stitcher;
        try { s = new Stitcher([H, W, C], opts); } catch (e) { if (e instanceof StitchError && /arena/.test(e.message)) return; throw e; }
        const other = new Stitcher([H, W, C], { blocksize: bs, dtype: dtype as 'float32', nanPolicy: policy as 'omit' });
        try {
          const sums = new Float64Array(H * W * C), wts = new Float64Array(H * W * C);
          const osums = new Float64Array(H * W * C), owts = new Float64Array(H * W * C);
          wins.forEach((win, k) => {
            const p = Raster.zeros([win.h, win.w, C], 'float32');
            for (let i = 0; i < p.data.length; i++) p.data[i] = ((i + 1) * (win.seed + 3)) % 17 - 5 + 0.25;
            if (win.bad === 'nan') p.data[(win.seed * 7) % p.data.length] = NaN;
            let weight: number | Raster = win.sw;
            if (win.kind === 'pixel') {
              weight = Raster.zeros([win.h, win.w, 1], 'float64');
              for (let i = 0; i < weight.data.length; i++) weight.data[i] = ((i * 5 + win.seed) % 4) / 2;
            } else if (win.kind === 'band' || win.kind === 'band-agree') {
              weight = Raster.zeros([win.h, win.w, C], 'float32');
              for (let q = 0; q < win.h * win.w; q++) {
                const wq = ((q * 5 + win.seed) % 4) / 2 + 0.25;
                for (let c = 0; c < C; c++) {
                  const zero = win.kind === 'band' && win.zeroBands[c] && (q + c + win.seed) % 3 === 0;
                  weight.data[q * C + c] = zero ? 0 : wq;
                }
              }
            }
            const sl = [slice(win.y, win.y + win.h), slice(win.x, win.x + win.w)] as const;
            s.add(sl, p, weight);
            // half the windows also go to a second stitcher merged in at the end
            if (k % 2 === 0) other.add(sl, p, weight);
            for (let py = 0; py < win.h; py++) for (let px = 0; px < win.w; px++) {
              const y = win.y + py, x = win.x + px;
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              const q = py * win.w + px;
              let bad = false;
              for (let c = 0; c < C; c++) if (!Number.isFinite(p.data[q * C + c])) bad = true;
              if (bad && policy === 'omit') continue;
              for (let c = 0; c < C; c++) {
                const w = typeof weight === 'number' ? weight : weight.bands === 1 ? weight.data[q] : weight.data[q * C + c];
                sums[(y * W + x) * C + c] += p.data[q * C + c] * w;
                wts[(y * W + x) * C + c] += w;
                if (k % 2 === 0) { osums[(y * W + x) * C + c] += p.data[q * C + c] * w; owts[(y * W + x) * C + c] += w; }
              }
            }
          });
          const ref = Array.from(sums, (v, i) => (wts[i] === 0 ? NaN : v / wts[i]));
          const out = s.finalize();
          close(out.data, ref, 'finalize');
          // per-pixel weight: the largest band weight (a pixel counts where any band has weight)
          const wmax = Array.from({ length: H * W }, (_, i) => Math.max(...Array.from(wts.subarray(i * C, i * C + C))));
          close(s.weightRaster().data, wmax, 'weightRaster');
          // block by block as a writer reads it, and the statistics of the stats kernel
          for (let y = 0; y < H; y += bs) for (let x = 0; x < W; x += bs) {
            const h = Math.min(bs, H - y), w = Math.min(bs, W - x);
            const blk = s.finalizeBlock(y, x, h, w);
            const exp = out.crop(y, x, h, w).data;
            if (blk === null) assert.ok(Array.from(exp).every(Number.isNaN)); else close(blk.data, exp, `block ${y},${x}`);
          }
          const st = s.finalizedStats(), valid = ref.filter((v) => !Number.isNaN(v));
          assert.equal(st.valid, valid.length);
          if (valid.length) {
            assert.ok(Math.abs(st.min - Math.min(...valid)) <= 1e-4 * (1 + Math.abs(st.min)));
            assert.ok(Math.abs(st.max - Math.max(...valid)) <= 1e-4 * (1 + Math.abs(st.max)));
          }
          // merge: s plus other (the even windows again) in a third stitcher
          const twice = new Stitcher([H, W, C], opts);
          try {
            twice.merge(other);
            twice.merge(s);
            const mref = Array.from(sums, (v, i) => (wts[i] + owts[i] === 0 ? NaN : (v + osums[i]) / (wts[i] + owts[i])));
            close(twice.finalize().data, mref, 'merge');
          } finally {
            twice.dispose();
          }
        } finally {
          s.dispose();
          other.dispose();
        }
      }), { numRuns: 300 });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('bands that agree keep the blocks narrow; a window whose bands disagree widens only the blocks where they do', () => {
  const s = new Stitcher([64, 64, 3], { blocksize: 16 });
  try {
    // per-band weights equal in every band: the same as per-pixel weights
    const agree = Raster.full([32, 32, 3], 0.5);
    s.add([slice(0, 32), slice(0, 32)], Raster.full([32, 32, 3], 2), agree);
    // one pixel (row 40, col 40) with weight 0 in band 1 only: its block (2, 2) turns wide
    const wt = Raster.full([16, 32, 3], 1);
    wt.set(8, 8, 1, 0);
    const p = Raster.full([16, 32, 3], 4);
    p.set(8, 8, 1, 1000); // weight 0 in band 1: must not count
    s.add([slice(32, 48), slice(32, 64)], p, wt);
    s.add([slice(32, 48), slice(32, 64)], Raster.full([16, 32, 3], 8), 1);
    const out = s.finalize();
    assert.equal(out.get(40, 40, 1), 8, 'band 1: only the second window');
    assert.equal(out.get(40, 40, 0), 6, 'band 0: both windows');
    assert.equal(out.get(40, 40, 2), 6, 'band 2: both windows');
    assert.equal(out.get(40, 56, 1), 6, 'the next block: both windows');
    assert.equal(out.get(5, 5, 2), 2);
    assert.equal(s.blockCount, 4 + 2);
  } finally {
    s.dispose();
  }
});

test('add refuses a weight raster of another band count, naming both shapes', () => {
  const s = new Stitcher([8, 8, 3]);
  try {
    assert.throws(() => s.add([slice(0, 4), slice(0, 4)], Raster.full([4, 4, 3], 1), Raster.full([4, 4, 2], 1)),
      (e: Error) => e instanceof StitchError && /\[4, 4, 2\]/.test(e.message) && /\[4, 4, 3\]/.test(e.message));
  } finally {
    s.dispose();
  }
});
