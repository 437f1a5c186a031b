import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { SlidingWindow } from '../../src/array/sliding-window.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { StitchError } from '../../src/stitch/errors.ts';

/** min/max/sum/count of the non-NaN values, the obvious way. */
function statsOf(d: ArrayLike<number>) {
  let min = Infinity, max = -Infinity, sum = 0, valid = 0;
  for (let i = 0; i < d.length; i++) { const v = d[i]; if (Number.isNaN(v)) continue; min = Math.min(min, v); max = Math.max(max, v); sum += v; valid++; }
  return { min, max, sum, valid };
}
function checkStats(s: Stitcher, out: Raster) {
  const got = s.finalizedStats(), exp = statsOf(out.data);
  assert.equal(got.valid, exp.valid);
  assert.equal(got.min, exp.min);
  assert.equal(got.max, exp.max);
  if (Number.isFinite(exp.sum)) assert.ok(Math.abs(got.sum - exp.sum) <= 1e-9 * (1 + Math.abs(exp.sum)), `sum ${got.sum} vs ${exp.sum}`);
  else assert.ok(Object.is(got.sum, exp.sum) || (Number.isNaN(got.sum) && Number.isNaN(exp.sum)), `sum ${got.sum} vs ${exp.sum}`);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) { assert.ok(Number.isNaN(a[i]), `index ${i}: ${a[i]} vs NaN`); continue; }
    if (a[i] === b[i]) continue; // includes equal infinities
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

/** Deterministic uniform [0, 1) values (LCG), standing in for np.random.rand. */
function rand(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; out[i] = x / 2 ** 32; }
  return out;
}

test('kwarray docstring example 1: highres (5, 200, 200) slid by (1, 50, 50) at overlap (0, .5, .5): max weight 4, exact reconstruction', () => {
  // kwarray: highres = np.random.rand(5, 200, 200); slider = SlidingWindow(highres.shape, (1, 50, 50), overlap=(0, .5, .5));
  // stitcher = Stitcher(slider.input_shape); for sl in slider: stitcher.add(sl, highres[sl]);
  // assert stitcher.weights.max() == 4. kwarray keeps one weight per element; here one weight plane per pixel,
  // so the CHW stitcher is one [200, 200, 1] stitcher per channel (the channel axis has window 1).
  const highres = rand(5 * 200 * 200);
  const slider = new SlidingWindow([5, 200, 200], [1, 50, 50], { overlap: [0, 0.5, 0.5] });
  const stitchers = [0, 1, 2, 3, 4].map(() => new Stitcher([200, 200, 1], { blocksize: 64 }));
  let n = 0;
  for (const [cs, rs, xs] of slider) {
    const c = cs.start!, chip = new Float32Array(50 * 50);
    for (let y = 0; y < 50; y++) for (let x = 0; x < 50; x++) chip[y * 50 + x] = highres[(c * 200 + rs.start! + y) * 200 + xs.start! + x];
    stitchers[c].add([rs, xs], new Raster(chip, [50, 50, 1]));
    n++;
  }
  assert.equal(n, 5 * 7 * 7);
  let maxW = 0;
  stitchers.forEach((s, c) => {
    for (const v of s.weightRaster().data) maxW = Math.max(maxW, v);
    const recon = s.finalize().data;
    for (let i = 0; i < 200 * 200; i++) assert.equal(recon[i], highres[c * 40000 + i], `channel ${c} pixel ${i}`);
  });
  assert.equal(maxW, 4, 'some parts should be processed 4 times');
});

test('kwarray example 1 in HWC: [200, 200, 5] slid by 50x50 at 0.5 overlap (all bands per window): max weight 4, exact', () => {
  const img = new Raster(rand(200 * 200 * 5, 7), [200, 200, 5]);
  const s = new Stitcher([200, 200, 5]);
  for (const [rs, xs] of new SlidingWindow([200, 200], [50, 50], { overlap: 0.5 })) {
    s.add([rs, xs], img.crop(rs.start!, xs.start!, 50, 50));
  }
  assert.deepEqual(Array.from(s.finalize().data), Array.from(img.data));
  const w = s.weightRaster().data;
  assert.equal(Math.max(...w), 4);
  assert.equal(w[0], 1); assert.equal(w[25 * 200 + 25], 4); assert.equal(w[25], 2);
});

test('kwarray docstring example 2 (nan_policy): 16 NaNs under omit, 512 under propagate', () => {
  // pat1 = full((32, 32), .2); pat2 = full((32, 32), .4); pat3 = full((32, 32), .8); pat1[:, 16:] = .6; pat2[16:, :] = nan
  // stitcher = Stitcher(shape=(32, 64), nan_policy=...); stitcher[0:32, 0:32](pat1); stitcher[0:32, 16:48](pat2);
  // stitcher[0:32, 33:64](pat3[:, 1:])
  const pat1 = Raster.full([32, 32, 1], 0.2, 'float64'), pat2 = Raster.full([32, 32, 1], 0.4, 'float64');
  const pat3 = Raster.full([32, 32, 1], 0.8, 'float64');
  for (let y = 0; y < 32; y++) for (let x = 16; x < 32; x++) pat1.set(y, x, 0, 0.6);
  for (let y = 16; y < 32; y++) for (let x = 0; x < 32; x++) pat2.set(y, x, 0, NaN);
  const run = (nanPolicy: 'omit' | 'propagate') => {
    const s = new Stitcher([32, 64, 1], { nanPolicy, dtype: 'float64' });
    s.add([slice(0, 32), slice(0, 32)], pat1);
    s.add([slice(0, 32), slice(16, 48)], pat2);
    s.add([slice(0, 32), slice(33, 64)], pat3.crop(0, 1, 32, 31));
    return s.finalize();
  };
  const countNaN = (r: Raster) => Array.from(r.data).filter(Number.isNaN).length;
  const final1 = run('omit'), final2 = run('propagate');
  assert.equal(countNaN(final1), 16, 'only should contain nan where no data was stitched');
  assert.equal(countNaN(final2), 512, 'should contain nan wherever a nan was stitched');
  // where: column 32 saw only pat2, whose rows 16: are NaN
  for (let y = 0; y < 32; y++) assert.equal(Number.isNaN(final1.get(y, 32)), y >= 16);
  assert.equal(final1.get(0, 20), (0.6 + 0.4) / 2);
  assert.equal(final1.get(20, 20), 0.6);
  assert.equal(final1.get(20, 40), 0.8);
  assert.ok(Math.abs(final1.get(0, 40) - 0.6) < 1e-12);
  assert.ok(Number.isNaN(final2.get(16, 16)) && Number.isNaN(final2.get(31, 47)) && !Number.isNaN(final2.get(15, 47)));
});

test('errors: band mismatch, shape mismatch, step, raise', () => {
  const s = new Stitcher([10, 10, 2], { nanPolicy: 'raise' });
  assert.throws(() => s.add([slice(0, 2), slice(0, 2)], Raster.zeros([2, 2, 3])), /3 bands.*2/);
  assert.throws(() => s.add([slice(0, 3), slice(0, 2)], Raster.zeros([2, 2, 2])), /\[2, 2, 2\].*\[3, 2\]/);
  assert.throws(() => s.add([slice(0, 4, 2), slice(0, 2)], Raster.zeros([2, 2, 2])), StitchError);
  assert.throws(() => s.add([slice(0, 1), slice(0, 1)], Raster.full([1, 1, 2], NaN)), /\(0, 0\)/);
  const r = s.add([slice(20, 22), slice(0, 2)], Raster.zeros([2, 2, 2]));
  assert.deepEqual(r, { outside: true, clipped: true, pixels: 0 });
});

test('property: matches a naive dense reference (clipping, weights, NaN/Inf, policies, dtypes, memmap, blocksizes); crops, blockSource, blocks() and merge agree', async () => {
  const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const folder = mkdtempSync(join(tmpdir(), 'stitch-prop-'));
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 1, max: 20 }), fc.constantFrom('float32', 'float64'), fc.constantFrom('omit', 'propagate', 'raise'),
    fc.constantFrom('off', 'tmp', 'folder'), fc.integer({ min: 1, max: 3 }),
    fc.array(fc.record({ y: fc.integer({ min: -15, max: 45 }), x: fc.integer({ min: -15, max: 45 }),
      h: fc.integer({ min: 1, max: 15 }), w: fc.integer({ min: 1, max: 15 }), seed: fc.integer({ min: 0, max: 1000 }),
      perPixel: fc.boolean(), bad: fc.constantFrom('none', 'none', 'nan', 'inf', '-inf'), ptype: fc.constantFrom('float32', 'float64', 'int16'),
      sw: fc.constantFrom(1, 0, 0.5, 2.25) }), { maxLength: 8 }),
    (H, W, C, bs, dtype, policy, mm, cacheBlocks, wins) => {
      const E = dtype === 'float64' ? 8 : 4;
      const memmap = mm === 'off' ? false : mm === 'tmp' ? true : folder;
      const opts = { blocksize: bs, dtype: dtype as 'float32', nanPolicy: policy as 'omit', memmap, cacheBytes: cacheBlocks * bs * bs * (C + 1) * E };
      const s = new Stitcher([H, W, C], opts);
      const a = new Stitcher([H, W, C], { ...opts, memmap: false });
      const b = new Stitcher([H, W, C], opts);
      try {
        const sums: number[] = new Array(H * W * C).fill(0), wts: number[] = new Array(H * W).fill(0);
        wins.forEach((win, k) => {
          const isInt = win.ptype === 'int16';
          const p = Raster.zeros([win.h, win.w, C], win.ptype as 'float32');
          for (let i = 0; i < p.data.length; i++) p.data[i] = ((i + 1) * (win.seed + 3)) % 17 - 5 + (isInt ? 0 : 0.25);
          let badInside = false;
          if (win.bad !== 'none' && !isInt) {
            const i = (win.seed * 7) % p.data.length;
            p.data[i] = win.bad === 'nan' ? NaN : win.bad === 'inf' ? Infinity : -Infinity;
            const py = Math.floor(i / C / win.w), px = Math.floor(i / C) % win.w;
            badInside = win.y + py >= 0 && win.y + py < H && win.x + px >= 0 && win.x + px < W;
          }
          const wr = Raster.zeros([win.h, win.w, 1], 'float64');
          for (let i = 0; i < wr.data.length; i++) wr.data[i] = ((i * 5 + win.seed) % 4) / 2;
          const wt = win.perPixel ? wr : win.sw;
          const sl = [slice(win.y, win.y + win.h), slice(win.x, win.x + win.w)] as const;
          if (policy === 'raise' && badInside) {
            for (const t of [s, k % 2 ? a : b]) assert.throws(() => t.add(sl, p, wt), (e: Error) => e instanceof StitchError && /non-finite/.test(e.message));
            return; // nothing accumulated
          }
          const r = s.add(sl, p, wt); (k % 2 ? a : b).add(sl, p, wt);
          const inside = Math.max(0, Math.min(H, win.y + win.h) - Math.max(0, win.y)) * Math.max(0, Math.min(W, win.x + win.w) - Math.max(0, win.x));
          assert.equal(r.pixels, inside);
          assert.equal(r.outside, inside === 0);
          for (let py = 0; py < win.h; py++) for (let px = 0; px < win.w; px++) {
            const y = win.y + py, x = win.x + px;
            if (y < 0 || y >= H || x < 0 || x >= W) continue;
            const w = typeof wt === 'number' ? wt : wr.data[py * win.w + px];
            let bad = false;
            for (let c = 0; c < C; c++) if (!Number.isFinite(p.data[(py * win.w + px) * C + c])) bad = true;
            if (bad && policy === 'omit') continue;
            for (let c = 0; c < C; c++) sums[(y * W + x) * C + c] += p.data[(py * win.w + px) * C + c] * w;
            wts[y * W + x] += w;
          }
        });
        const ref = new Array(H * W * C);
        for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) ref[i * C + c] = wts[i] === 0 ? NaN : sums[i * C + c] / wts[i];
        const out = s.finalize();
        assert.equal(out.dtype, dtype);
        close(out.data, ref);
        close(s.weightRaster().data, wts);
        checkStats(s, out);
        const crop = s.finalize([slice(1, Math.max(1, H - 1)), slice(0, W)]);
        close(crop.data, out.crop(1, 0, Math.max(1, H - 1) - 1, W).data);
        // a region reaching past the canvas: NaN outside
        const big = s.finalizeBlock(-2, -3, H + 5, W + 6);
        const bigRef: number[] = [];
        for (let y = -2; y < H + 3; y++) for (let x = -3; x < W + 3; x++) for (let c = 0; c < C; c++) {
          bigRef.push(y < 0 || y >= H || x < 0 || x >= W ? NaN : ref[(y * W + x) * C + c]);
        }
        if (big === null) assert.ok(bigRef.every(Number.isNaN)); else close(big.data, bigRef);
        const src = s.blockSource();
        for (let y = 0; y < H; y += bs) for (let x = 0; x < W; x += bs) {
          const h = Math.min(bs, H - y), w = Math.min(bs, W - x);
          const blk = src.readBlock(y, x, h, w);
          const exp = out.crop(y, x, h, w).data;
          if (blk === null) assert.ok(Array.from(exp).every(Number.isNaN));
          else close(blk.data, exp);
        }
        let nb = 0;
        for (const fb of s.blocks(7)) {
          nb++;
          const exp = out.crop(fb.y0, fb.x0, fb.height, fb.width).data;
          if (fb.raster === null) assert.ok(Array.from(exp).every(Number.isNaN)); else close(fb.raster.data, exp);
        }
        assert.equal(nb, Math.ceil(H / 7) * Math.ceil(W / 7));
        a.merge(b);
        close(a.finalize().data, out.data);
        close(a.weightRaster().data, wts);
      } finally {
        s.dispose(); a.dispose(); b.dispose();
      }
      assert.deepEqual(readdirSync(folder), []);
    }), { numRuns: 200 });
  rmSync(folder, { recursive: true });
});

test('every kernel path (dtype x bands 1..5 x policy x weight kind) matches a dense reference, with many non-finite values', () => {
  const H = 37, W = 41;
  for (const dtype of ['float32', 'float64'] as const) for (let C = 1; C <= 5; C++) for (const policy of ['omit', 'propagate'] as const) {
    for (const wkind of ['one', 'half', 'pixel'] as const) {
      const s = new Stitcher([H, W, C], { dtype, nanPolicy: policy, blocksize: 16 });
      const sums = new Float64Array(H * W * C), wts = new Float64Array(H * W);
      let seed = C * 31 + (policy === 'omit' ? 7 : 0) + wkind.length;
      const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
      for (const [y0, x0] of [[-5, -3], [0, 0], [10, 17], [20, 30], [3, 8]]) {
        const h = 23, w = 19;
        const p = Raster.zeros([h, w, C], 'float32');
        for (let i = 0; i < p.data.length; i++) {
          const r = rnd();
          p.data[i] = r < 0.05 ? NaN : r < 0.08 ? Infinity : r < 0.1 ? -Infinity : Math.round(r * 1000) / 100;
        }
        const wr = Raster.zeros([h, w, 1], 'float32');
        for (let i = 0; i < wr.data.length; i++) wr.data[i] = Math.round(rnd() * 8) / 4;
        s.add([slice(y0, y0 + h), slice(x0, x0 + w)], p, wkind === 'pixel' ? wr : wkind === 'one' ? 1 : 0.5);
        for (let py = 0; py < h; py++) for (let px = 0; px < w; px++) {
          const y = y0 + py, x = x0 + px;
          if (y < 0 || y >= H || x < 0 || x >= W) continue;
          const wt = wkind === 'pixel' ? wr.data[py * w + px] : wkind === 'one' ? 1 : 0.5;
          let bad = false;
          for (let c = 0; c < C; c++) if (!Number.isFinite(p.data[(py * w + px) * C + c])) bad = true;
          if (bad && policy === 'omit') continue;
          for (let c = 0; c < C; c++) sums[(y * W + x) * C + c] += p.data[(py * w + px) * C + c] * wt;
          wts[y * W + x] += wt;
        }
      }
      const ref: number[] = [];
      for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) ref.push(wts[i] === 0 ? NaN : sums[i * C + c] / wts[i]);
      const what = `${dtype} C=${C} ${policy} ${wkind}`;
      try { const out = s.finalize(); close(out.data, ref); close(s.weightRaster().data, wts); checkStats(s, out); }
      catch (e) { throw new Error(`${what}: ${(e as Error).message}`); }
    }
  }
});

test('property: blocks spread over several small WebAssembly memories (arenas) give the same result as one', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 12 }),
    fc.constantFrom('float32', 'float64'), fc.integer({ min: 0, max: 4 }), fc.boolean(),
    fc.array(fc.tuple(fc.integer({ min: -20, max: 60 }), fc.integer({ min: -20, max: 60 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.boolean()), { minLength: 1, maxLength: 10 }),
    (H, W, C, bs, dtype, extraSlots, memmap, wins) => {
      const E = dtype === 'float64' ? 8 : 4, slot = bs * bs * (C + 1) * E, scratch = bs * W * (C + 1) * E + 32;
      const arenaBytes = 2 * (slot + Math.max(slot, scratch) + 64) + extraSlots * slot;
      const one = new Stitcher([H, W, C], { blocksize: bs, dtype });
      const many = new Stitcher([H, W, C], { blocksize: bs, dtype, arenaBytes, memmap, cacheBytes: 3 * slot });
      const merged = new Stitcher([H, W, C], { blocksize: bs, dtype, arenaBytes });
      try {
        wins.forEach(([y, x, h, w, pix], k) => {
          const p = Raster.zeros([h, w, C], 'float32');
          for (let i = 0; i < p.data.length; i++) p.data[i] = ((i * 7 + k * 13) % 23) - 11;
          const wr = Raster.zeros([h, w, 1], 'float32');
          for (let i = 0; i < wr.data.length; i++) wr.data[i] = ((i + k) % 5) / 4;
          const sl = [slice(y, y + h), slice(x, x + w)] as const;
          one.add(sl, p, pix ? wr : 1.5); many.add(sl, p, pix ? wr : 1.5);
        });
        merged.merge(many);
        const exp = one.finalize().data;
        close(many.finalize().data, exp);
        close(merged.finalize().data, exp);
        close(many.weightRaster().data, one.weightRaster().data);
      } finally {
        one.dispose(); many.dispose(); merged.dispose();
      }
    }), { numRuns: 60 });
});

test('weights that cancel to 0 give NaN (not +-Inf) and are left out of finalizedStats', () => {
  for (const dtype of ['float32', 'float64'] as const) for (const C of [1, 2, 4]) {
    const s = new Stitcher([9, 10, C], { dtype, blocksize: 8 });
    s.add([slice(0, 9), slice(0, 10)], Raster.full([9, 10, C], 3), 1);
    s.add([slice(0, 9), slice(0, 10)], Raster.full([9, 10, C], 5), -1); // weight 0, sums -2
    s.add([slice(2, 3), slice(4, 5)], Raster.full([1, 1, C], 7), 2);
    const out = s.finalize();
    assert.equal(out.get(2, 4, C - 1), 6); // sums 3 - 5 + 14 = 12, weight 1 - 1 + 2 = 2
    for (let i = 0; i < out.data.length; i++) if (Math.floor(i / C) !== 2 * 10 + 4) assert.ok(Number.isNaN(out.data[i]), `${dtype} C=${C} index ${i}: ${out.data[i]}`);
    assert.deepEqual(s.finalizedStats(), { min: 6, max: 6, sum: 6 * C, valid: C });
  }
});

test('block memory of a disposed stitcher is reused by the next one without leaking its values', () => {
  for (let round = 0; round < 3; round++) {
    const s = new Stitcher([300, 260, 3], { blocksize: 32 });
    s.add([slice(0, 300), slice(0, 260)], Raster.full([300, 260, 3], 1000 + round), 7);
    s.dispose();
    const t = new Stitcher([300, 260, 3], { blocksize: 32 });
    t.add([slice(40, 50), slice(100, 130)], Raster.full([10, 30, 3], round), 2);
    const out = t.finalize(), wt = t.weightRaster();
    let nan = 0, val = 0;
    for (let y = 0; y < 300; y++) for (let x = 0; x < 260; x++) {
      const inside = y >= 40 && y < 50 && x >= 100 && x < 130;
      assert.equal(wt.get(y, x), inside ? 2 : 0);
      for (let c = 0; c < 3; c++) { if (inside) { assert.equal(out.get(y, x, c), round); val++; } else { assert.ok(Number.isNaN(out.get(y, x, c))); nan++; } }
    }
    assert.equal(val, 900);
    assert.equal(t.finalizeBlock(200, 200, 32, 32), null);
    t.dispose();
    if (round === 1) Stitcher.releasePooledMemory();
  }
});

test('block memory reused twice stays dirty where its first user wrote, though the second used less of it', () => {
  Stitcher.releasePooledMemory();
  const a = new Stitcher([256, 256, 2], { blocksize: 32 });
  a.add([slice(0, 256), slice(0, 256)], Raster.full([256, 256, 2], 5), 3);
  a.dispose();
  const b = new Stitcher([256, 256, 2], { blocksize: 32 });
  b.add([slice(0, 10), slice(0, 10)], Raster.full([10, 10, 2], 1));
  b.dispose();
  // one pixel in every block: c takes as many slots as a did, every other pixel must read as never added
  const c = new Stitcher([256, 256, 2], { blocksize: 32 });
  for (let y = 0; y < 256; y += 32) for (let x = 0; x < 256; x += 32) c.add([slice(y + 1, y + 2), slice(x + 2, x + 3)], Raster.full([1, 1, 2], 7), 2);
  const out = c.finalize(), wt = c.weightRaster();
  for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) {
    const hit = y % 32 === 1 && x % 32 === 2;
    assert.equal(wt.get(y, x), hit ? 2 : 0, `weight at (${y}, ${x})`);
    if (hit) assert.equal(out.get(y, x, 1), 7);
    else assert.ok(Number.isNaN(out.get(y, x, 1)), `(${y}, ${x}): ${out.get(y, x, 1)}`);
  }
  c.dispose();
});

test('memmap: tiny cache forces eviction, file removed on dispose', async () => {
  const { readdirSync } = await import('node:fs');
  const { scratchDir } = await import('../helpers/scratch.ts');
  const dir = scratchDir('stitch-test-');
  const s = new Stitcher([64, 64, 2], { memmap: dir, blocksize: 16, cacheBytes: 16 * 16 * 3 * 4 * 2 });
  const d = new Stitcher([64, 64, 2], { blocksize: 16 });
  for (let y = -8; y < 64; y += 12) for (let x = -8; x < 64; x += 12) {
    const p = Raster.full([20, 20, 2], y * 100 + x, 'float32');
    s.add([slice(y, y + 20), slice(x, x + 20)], p, 2); d.add([slice(y, y + 20), slice(x, x + 20)], p, 2);
  }
  assert.equal(readdirSync(dir).length, 1);
  close(s.finalize().data, d.finalize().data);
  s.dispose();
  assert.equal(readdirSync(dir).length, 0);
});

test('finalizeBlock into a reused raster equals a fresh one (full, partly covered and empty blocks)', () => {
  const s = new Stitcher([40, 40, 3], { blocksize: 16 });
  s.add([slice(0, 20), slice(0, 40)], new Raster(rand(20 * 40 * 3, 5), [20, 40, 3]));
  s.add([slice(20, 26), slice(3, 9)], new Raster(rand(6 * 6 * 3, 6), [6, 6, 3]), 2);
  let scratch: Raster | undefined;
  for (const [y0, x0] of [[0, 0], [16, 16], [16, 0], [32, 32], [0, 16], [16, 0]]) {
    const fresh = s.finalizeBlock(y0, x0, 16, 16);
    const reused = s.finalizeBlock(y0, x0, 16, 16, scratch);
    if (fresh === null) { assert.equal(reused, null); continue; }
    assert.ok(reused !== null);
    if (scratch) assert.equal(reused, scratch, 'the given raster is filled, not a new one');
    assert.deepEqual([...reused.data].map(String), [...fresh.data].map(String), `block (${y0}, ${x0})`);
    scratch = reused;
  }
  // a raster of another shape or dtype is not used
  const other = Raster.zeros([8, 8, 3]);
  assert.notEqual(s.finalizeBlock(0, 0, 16, 16, other), other);
  assert.notEqual(s.finalizeBlock(0, 0, 16, 16, Raster.zeros([16, 16, 3], 'float64')), undefined);
});

test('firstNonFinite finds the first NaN or Inf as a plain loop does: both dtypes, across scratch chunks, other data types', () => {
  const naive = (d: Float32Array | Float64Array): number => {
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
    return -1;
  };
  // a 16 x 16 x 1 canvas: its scratch holds a few thousand samples, so longer data is scanned in chunks
  const stitchers = [new Stitcher([16, 16, 1], { blocksize: 16 }), new Stitcher([16, 16, 1], { blocksize: 16, dtype: 'float64' })];
  const bad = fc.constantFrom(NaN, Infinity, -Infinity);
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 20000 }), fc.array(fc.tuple(fc.nat(), bad), { maxLength: 3 }), fc.boolean(), fc.nat(1),
    (n, holes, f64, which) => {
      const d = f64 ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = (i % 17) - 8.5 + (f64 ? 1e300 * (i % 2) : 3e38 * (i % 2));
      for (const [at, v] of holes) if (n > 0) d[at % n] = v;
      assert.equal(stitchers[which].firstNonFinite(d), naive(d));
    }), { numRuns: 300 });
  // the largest finite values and the smallest subnormals are finite; -0 too
  for (const s of stitchers) {
    assert.equal(s.firstNonFinite(Float32Array.of(3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -0)), -1);
    assert.equal(s.firstNonFinite(Float64Array.of(Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -0)), -1);
  }
});

test('add with skipIfNonFinite: reports NaN/Inf inside the canvas and adds nothing, else adds exactly as add does', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(8, 16),
    fc.constantFrom('float32', 'float64'), fc.constantFrom('float32', 'float64', 'int16'), fc.boolean(),
    fc.array(fc.record({ y: fc.integer({ min: -10, max: 40 }), x: fc.integer({ min: -10, max: 40 }), h: fc.integer({ min: 1, max: 30 }), w: fc.integer({ min: 1, max: 30 }),
      bad: fc.constantFrom('none', 'none', NaN, Infinity, -Infinity), at: fc.nat() }), { minLength: 1, maxLength: 6 }),
    (H, W, C, bs, dtype, ptype, perPixel, wins) => {
      const s = new Stitcher([H, W, C], { blocksize: bs, dtype: dtype as 'float32' });
      const ref = new Stitcher([H, W, C], { blocksize: bs, dtype: dtype as 'float32' });
      try {
        for (const win of wins) {
          const p = Raster.zeros([win.h, win.w, C], ptype as 'float32');
          for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 7) % 11 - 3;
          let inside = false;
          if (win.bad !== 'none' && ptype !== 'int16') {
            const i = win.at % p.data.length;
            p.data[i] = win.bad as number;
            const py = Math.floor(i / C / win.w), px = Math.floor(i / C) % win.w;
            inside = win.y + py >= 0 && win.y + py < H && win.x + px >= 0 && win.x + px < W;
          }
          const wt = perPixel ? Raster.full([win.h, win.w, 1], 0.5, 'float32') : 2;
          const sl = [slice(win.y, win.y + win.h), slice(win.x, win.x + win.w)] as const;
          const before = s.stats.windows;
          const r = s.add(sl, p, wt, { skipIfNonFinite: true });
          assert.equal(r.nonFinite === true, inside, `window ${JSON.stringify(win)}`);
          if (inside) assert.equal(s.stats.windows, before, 'a skipped window is not counted');
          else ref.add(sl, p, wt);
        }
        const a = s.finalize().data, b = ref.finalize().data;
        for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]) || a[i] === b[i], `pixel ${i}: ${a[i]} vs ${b[i]}`);
        assert.deepEqual(Array.from(s.weightRaster().data), Array.from(ref.weightRaster().data));
      } finally {
        s.dispose(); ref.dispose();
      }
    }), { numRuns: 200 });
});
