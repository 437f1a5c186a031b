import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { StitchError } from '../../src/stitch/errors.ts';

function close(a: ArrayLike<number>, b: ArrayLike<number>) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) { assert.ok(Number.isNaN(a[i]), `index ${i}: ${a[i]} vs NaN`); continue; }
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * (1 + Math.abs(b[i])), `index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

test('kwarray example: 200x200 slid by 50x50 at 0.5 overlap reconstructs exactly, max weight 4', () => {
  const H = 200, W = 200;
  const img = new Float32Array(H * W);
  for (let i = 0; i < img.length; i++) img[i] = (i * 7919) % 1000;
  const s = new Stitcher([H, W, 1], { blocksize: 64 });
  for (let y = 0; y + 50 <= H; y += 25) for (let x = 0; x + 50 <= W; x += 25) {
    s.add([slice(y, y + 50), slice(x, x + 50)], new Raster(img, [H, W, 1]).crop(y, x, 50, 50));
  }
  close(s.finalize().data, img);
  assert.equal(Math.max(...s.weightRaster().data), 4);
});

test('NaN example: 16 NaN pixels; omit gives weight 0 there, propagate gives NaN sums', () => {
  const mk = (policy: 'omit' | 'propagate') => {
    const s = new Stitcher([8, 8, 2], { nanPolicy: policy, blocksize: 4 });
    const p = Raster.full([8, 8, 2], 1, 'float32');
    for (let y = 2; y < 6; y++) for (let x = 2; x < 6; x++) p.set(y, x, 0, NaN);
    s.add([slice(0, 8), slice(0, 8)], p);
    s.add([slice(0, 8), slice(0, 8)], Raster.full([8, 8, 2], 3, 'float32'));
    return s.finalize();
  };
  const o = mk('omit');
  assert.equal(o.get(3, 3, 0), 3); assert.equal(o.get(3, 3, 1), 3); assert.equal(o.get(0, 0, 0), 2);
  const p = mk('propagate');
  let nans = 0; for (const v of p.data) if (Number.isNaN(v)) nans++;
  assert.equal(nans, 16);
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

test('property: matches naive dense reference; crops, blockSource and merge agree', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 4, max: 20 }), fc.constantFrom('float32', 'float64'), fc.constantFrom('omit', 'propagate'), fc.boolean(),
    fc.array(fc.record({ y: fc.integer({ min: -15, max: 45 }), x: fc.integer({ min: -15, max: 45 }),
      h: fc.integer({ min: 1, max: 15 }), w: fc.integer({ min: 1, max: 15 }), seed: fc.integer({ min: 0, max: 1000 }),
      perPixel: fc.boolean(), nan: fc.boolean() }), { maxLength: 8 }),
    (H, W, C, bs, dtype, policy, memmap, wins) => {
      const s = new Stitcher([H, W, C], { blocksize: bs, dtype: dtype as 'float32', nanPolicy: policy as 'omit', memmap, cacheBytes: 2 * bs * bs * 32 });
      const a = new Stitcher([H, W, C], { blocksize: bs, dtype: dtype as 'float32', nanPolicy: policy as 'omit' });
      const b = new Stitcher([H, W, C], { blocksize: bs, dtype: dtype as 'float32', nanPolicy: policy as 'omit' });
      const sums: number[] = new Array(H * W * C).fill(0), wts: number[] = new Array(H * W).fill(0);
      wins.forEach((win, k) => {
        const p = Raster.zeros([win.h, win.w, C], 'float64');
        for (let i = 0; i < p.data.length; i++) p.data[i] = ((i + 1) * (win.seed + 3)) % 17 - 5;
        if (win.nan) p.data[(win.seed % (win.h * win.w)) * C] = NaN;
        const wr = Raster.zeros([win.h, win.w, 1], 'float64');
        for (let i = 0; i < wr.data.length; i++) wr.data[i] = ((i * 5 + win.seed) % 4) / 2;
        const wt = win.perPixel ? wr : 0.5 + (win.seed % 3);
        const sl = [slice(win.y, win.y + win.h), slice(win.x, win.x + win.w)] as const;
        s.add(sl, p, wt); (k % 2 ? a : b).add(sl, p, wt);
        for (let py = 0; py < win.h; py++) for (let px = 0; px < win.w; px++) {
          const y = win.y + py, x = win.x + px;
          if (y < 0 || y >= H || x < 0 || x >= W) continue;
          let w = typeof wt === 'number' ? wt : wr.data[py * win.w + px];
          let bad = false;
          for (let c = 0; c < C; c++) if (Number.isNaN(p.data[(py * win.w + px) * C + c])) bad = true;
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
      const crop = s.finalize([slice(1, Math.max(1, H - 1)), slice(0, W)]);
      close(crop.data, out.crop(1, 0, Math.max(1, H - 1) - 1, W).data);
      const src = s.blockSource();
      for (let y = 0; y < H; y += bs) for (let x = 0; x < W; x += bs) {
        const h = Math.min(bs, H - y), w = Math.min(bs, W - x);
        const blk = src.readBlock(y, x, h, w);
        const exp = out.crop(y, x, h, w).data;
        if (blk === null) assert.ok(Array.from(exp).every(Number.isNaN));
        else close(blk.data, exp);
      }
      a.merge(b);
      close(a.finalize().data, out.data);
      s.dispose();
    }), { numRuns: 150 });
});

test('memmap: tiny cache forces eviction, file removed on dispose', async () => {
  const { mkdtempSync, readdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'stitch-test-'));
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
