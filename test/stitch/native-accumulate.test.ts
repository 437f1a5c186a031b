/**
 * The addon's float32 accumulate (native/src/accumulate.c, AVX2 where the CPU has it) against the
 * WebAssembly kernels it stands in for: the same sums and weight planes BIT FOR BIT (a NaN equals any
 * NaN) over shapes, band counts, strides, offsets, weights (per pixel, scalar, zero, subnormal) and
 * NaN / ±Inf values; the same first non-finite index as `firstbad`; its errors name the bad range.
 * And a Stitcher with the addon equals one without it (a child process where the addon cannot load),
 * bit for bit, over random windows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { nativeAddon } from '../../src/io/native-addon.ts';
import { instantiateKernels, Wasm } from '../../src/stitch/wasm-kernels.ts';
import { scratchDir } from '../helpers/scratch.ts';

const lib = nativeAddon();
const skip = lib && typeof lib.stitchAccumulate === 'function' ? false : 'coco-stitcher-native (with stitchAccumulate) is not built here';

/** Values the kernels must treat alike: ordinary, signed zeros, subnormal, huge, NaN, ±Inf. */
const value = fc.oneof(
  { weight: 8, arbitrary: fc.float({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-45, -3e-39, 3.4e38, NaN, Infinity, -Infinity) },
);
const weight = fc.oneof(
  { weight: 6, arbitrary: fc.float({ min: 0, max: 4, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1e-45, 1, 0.001, 1e30) },
);

/** Equal float32 bits, any NaN equal to any NaN. */
function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] === ub[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    assert.fail(`${what}[${i}]: addon ${b[i]} (0x${ub[i].toString(16)}) vs WebAssembly ${a[i]} (0x${ua[i].toString(16)})`);
  }
}

describe('stitchAccumulate equals the WebAssembly kernels', { skip }, () => {
  it('property: sums and weight plane bit for bit (per-pixel and scalar weights, plane or none, any strides)', () => {
    const mem = new Wasm.Memory({ initial: 64 }); // 4 MiB
    const k = instantiateKernels(mem, 'float32')!;
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 5 }),
      fc.constantFrom('pixel', 'scalar', 'scalar-no-plane'), weight, fc.integer({ min: 0, max: 2 ** 31 }),
      fc.array(value, { minLength: 64, maxLength: 64 }), fc.array(weight, { minLength: 16, maxLength: 16 }),
      (C, npix, rows, sPad, vPad, vOff, wOff, mode, sw, seed, vals, wts) => {
        // a block's rows (sums, then the plane, rows padded), the window's rows (values, weights), all laid out in one memory
        const srow = (npix * C + sPad) * 4, prow = (npix + sPad) * 4;
        const sums = 4096 + sPad * 4, plane = sums + rows * srow + 64;
        const vStride = npix * C + vPad, wStride = npix + vPad;
        const V = new Float32Array(vOff + rows * vStride), Wt = new Float32Array(wOff + rows * wStride);
        for (let i = 0; i < V.length; i++) V[i] = vals[(i * 7 + seed) % vals.length];
        for (let i = 0; i < Wt.length; i++) Wt[i] = wts[(i * 5 + seed) % wts.length];
        const f = new Float32Array(mem.buffer);
        const region = (plane + rows * prow) / 4;
        // earlier sums: what windows before left there (any value, NaN included)
        for (let i = sums / 4; i < region; i++) f[i] = vals[(i * 3 + seed) % vals.length];
        const before = f.slice(sums / 4, region);
        // WebAssembly: the window copied into the memory's scratch first (as Stitcher.add stages it)
        const vAt = 512 * 1024, wAt = 1024 * 1024;
        f.set(V, vAt / 4); f.set(Wt, wAt / 4);
        const vSrc = vAt + vOff * 4, wSrc = wAt + wOff * 4;
        if (mode === 'pixel') k.accpw(sums, srow, plane, prow, vSrc, vStride * 4, wSrc, wStride * 4, rows, npix, C);
        else {
          k.acc(sums, srow, vSrc, vStride * 4, rows, npix * C, sw);
          if (mode === 'scalar') k.addc(plane, prow, rows, npix, sw);
        }
        const wasm = f.slice(sums / 4, region);
        // the addon, from the same start, reading the window in place
        f.set(before, sums / 4);
        lib!.stitchAccumulate(mem.buffer, sums, srow, mode === 'scalar-no-plane' ? -1 : plane, prow, V, vOff, vStride,
          mode === 'pixel' ? Wt : null, wOff, wStride, rows, npix, C, sw);
        sameBits(wasm, f.slice(sums / 4, region), 'sums and plane');
      }), { numRuns: 400 });
  });

  it('property: firstNonFinite finds what firstbad finds', () => {
    const mem = new Wasm.Memory({ initial: 16 });
    const k = instantiateKernels(mem, 'float32')!;
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 11 }),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity, 3.4e38, -0)), { maxLength: 3 }),
      (rows, len, pad, off, bad) => {
        const stride = len + pad, V = new Float32Array(off + rows * stride).map((_, i) => (i % 11) - 5.5);
        for (const [i, v] of bad) V[i % V.length] = v;
        // firstbad over the same rows, copied into the memory
        const f = new Float32Array(mem.buffer);
        f.set(V.subarray(off), 0);
        assert.equal(lib!.firstNonFinite(V, off, stride, rows, len), k.firstbad(0, stride * 4, rows, len));
      }), { numRuns: 400 });
  });

  it('names a range outside its buffer instead of touching it', () => {
    const mem = new Wasm.Memory({ initial: 1 });
    const V = new Float32Array(64), W = new Float32Array(16);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 65536 - 60, 64, -1, 0, V, 0, 16, null, 0, 0, 1, 4, 4, 1), /stitchAccumulate: a range lies outside its buffer/);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 0, 64, 65536 - 8, 16, V, 0, 16, W, 0, 4, 2, 4, 4, 1), /outside its buffer/);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 0, 64, -1, 0, V, 1, 16, null, 0, 0, 4, 4, 4, 1), /outside its buffer/);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 0, 64, -1, 0, V, 0, 16, W, 13, 4, 1, 4, 4, 1), /outside its buffer/);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 2, 64, -1, 0, V, 0, 16, null, 0, 0, 1, 4, 4, 1), /multiple of 4/);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 0, 64, -1, 0, new Float64Array(64) as never, 0, 16, null, 0, 0, 1, 4, 4, 1), /values must be a Float32Array/);
    assert.throws(() => lib!.stitchAccumulate(mem.buffer, 0, 1.5, -1, 0, V, 0, 16, null, 0, 0, 1, 4, 4, 1), /argument 2 must be an integer/);
    assert.throws(() => lib!.firstNonFinite(V, 0, 16, 5, 16), /firstNonFinite: the rows lie outside the array/);
    assert.equal(lib!.firstNonFinite(V, 0, 16, 0, 16), -1);
    assert.match(lib!.accumulateKernel, /^(avx2|plain)$/);
  });
});

describe('firstbad (WebAssembly)', () => {
  it('reads nothing past the row: values ending at the end of the memory scan without a trap', () => {
    const mem = new Wasm.Memory({ initial: 1 });
    const k = instantiateKernels(mem, 'float32')!;
    const f = new Float32Array(mem.buffer);
    for (const len of [1, 15, 16, 17, 63, 64, 65, 100]) {
      f.fill(0);
      assert.equal(k.firstbad(65536 - len * 4, 0, 1, len), -1, `len ${len}`);
      f[f.length - 1] = NaN;
      assert.equal(k.firstbad(65536 - len * 4, 0, 1, len), len - 1, `len ${len}`);
    }
  });
});

describe('a Stitcher with the addon equals one without it', { skip }, () => {
  it('property: finalize and weightRaster bit for bit over random float32 windows (per-pixel, scalar and grid-aligned weights, NaN skipped)', () => {
    const dir = scratchDir('native-acc-');
    const cases = fc.sample(fc.record({
      H: fc.integer({ min: 1, max: 70 }), W: fc.integer({ min: 1, max: 70 }), C: fc.integer({ min: 1, max: 9 }), bs: fc.constantFrom(4, 8, 16, 32),
      wins: fc.array(fc.record({ y: fc.integer({ min: -20, max: 70 }), x: fc.integer({ min: -20, max: 70 }), h: fc.integer({ min: 1, max: 40 }),
        w: fc.integer({ min: 1, max: 40 }), seed: fc.nat(1000), weights: fc.constantFrom('pixel', 'scalar', 'one'), nan: fc.boolean(), skip: fc.boolean() }),
      { minLength: 1, maxLength: 12 }),
    }), { numRuns: 60, seed: 18 });
    // the script stitches every case and prints the bytes of its result, hex-encoded per case
    const script = join(dir, 'run.ts');
    writeFileSync(script, `
import { Raster } from ${JSON.stringify(fileURLToPath(new URL('../../src/array/raster.ts', import.meta.url)))};
import { slice } from ${JSON.stringify(fileURLToPath(new URL('../../src/array/slices.ts', import.meta.url)))};
import { Stitcher } from ${JSON.stringify(fileURLToPath(new URL('../../src/stitch/stitcher.ts', import.meta.url)))};
import { createHash } from 'node:crypto';
const out = [];
for (const c of ${JSON.stringify(cases)}) {
  const s = new Stitcher([c.H, c.W, c.C], { blocksize: c.bs });
  for (const w of c.wins) {
    const p = new Raster(new Float32Array(w.h * w.w * c.C).map((_, i) => Math.fround(((i + 1) * (w.seed + 3)) % 17 - 5.3) / 7), [w.h, w.w, c.C]);
    if (w.nan) p.data[(w.seed * 7) % p.data.length] = NaN;
    const wt = w.weights === 'pixel' ? new Raster(new Float32Array(w.h * w.w).map((_, i) => ((i * 5 + w.seed) % 9) / 7), [w.h, w.w, 1]) : w.weights === 'one' ? 1 : 0.3 + w.seed / 999;
    s.add([slice(w.y, w.y + w.h), slice(w.x, w.x + w.w)], p, wt, { skipIfNonFinite: w.skip });
  }
  const f = s.finalize().data, g = s.weightRaster().data;
  out.push(createHash('sha256').update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength)).update(new Uint8Array(g.buffer, g.byteOffset, g.byteLength)).digest('hex'));
  s.dispose();
}
console.log(JSON.stringify(out));
`);
    const blocker = join(dir, 'no-addon.cjs');
    writeFileSync(blocker, `const M = require('node:module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) { if (req === 'coco-stitcher-native') throw new Error('blocked for the test'); return r.call(this, req, ...a); };`);
    const run = (pre: string[]) => {
      const res = spawnSync(process.execPath, [...pre, '--import', 'tsx', script], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      return JSON.parse(res.stdout.trim().split('\n').pop()!) as string[];
    };
    const withAddon = run([]), without = run(['--require', blocker]);
    assert.equal(withAddon.length, cases.length);
    for (let i = 0; i < cases.length; i++) assert.equal(withAddon[i], without[i], `case ${i}: ${JSON.stringify(cases[i])}`);
  });
});
