/**
 * A/B of the Stitcher's accumulate in ONE process, robust to the machine's load: this tree's
 * Stitcher and another tree's (a checkout of the base commit) imported side by side, the same
 * windows added by each in turn, several alternating runs; wall and CPU ms of the adds only, and
 * the floor (STREAM triad in WebAssembly SIMD and in C through the addon, best of 10) measured
 * between runs. The first run of each tree faults in fresh block memory; later runs reuse the
 * memory of the one before (the pool of disposed stitchers), so they time the kernels and copies.
 * Cases: `mask` = manager-961x4's adds (961 windows of 256²x4 into 4096²x4, the edge mask as
 * per-pixel weights, NaN scan), `scalar` (weight 1), `omit` (per-pixel weights, nanPolicy
 * 'omit'), `memmap` (mask, 64 MB cache), `c2` (the manager case: 256 windows of 360²x2, overlap 0.3).
 *   node --expose-gc --import tsx bench/accumulate-ab.ts /path/to/base-tree [runs] [case,...]
 */
import { Raster } from '../src/array/raster.ts';
import { SlidingWindow } from '../src/array/sliding-window.ts';
import { nativeAddon } from '../src/io/native-addon.ts';
import { Stitcher as StitcherNew, type StitcherOptions } from '../src/stitch/stitcher.ts';
import { instantiateKernels, Wasm } from '../src/stitch/wasm-kernels.ts';
import { upweightCenterMask } from '../src/stitch/weights.ts';

const [baseTree, runsArg, casesArg] = process.argv.slice(2);
if (!baseTree) throw new Error('usage: accumulate-ab.ts /path/to/base-tree [runs] [cases]');
const { Stitcher: StitcherBase } = await import(`${baseTree}/src/stitch/stitcher.ts`) as { Stitcher: typeof StitcherNew };
const runs = Number(runsArg ?? 4);

interface Case { N: number; P: number; C: number; overlap: number; weights: 'mask' | 'scalar' | 'pixel'; opts: StitcherOptions; skip: boolean }
const CASES: Record<string, Case> = {
  mask: { N: 4096, P: 256, C: 4, overlap: 0.5, weights: 'mask', opts: {}, skip: true },
  scalar: { N: 4096, P: 256, C: 4, overlap: 0.5, weights: 'scalar', opts: {}, skip: false },
  omit: { N: 4096, P: 256, C: 4, overlap: 0.5, weights: 'pixel', opts: { nanPolicy: 'omit' }, skip: false },
  memmap: { N: 4096, P: 256, C: 4, overlap: 0.5, weights: 'mask', opts: { memmap: true, cacheBytes: 64 * 2 ** 20 }, skip: true },
  c2: { N: 4096, P: 360, C: 2, overlap: 0.3, weights: 'mask', opts: {}, skip: true },
};

function triad(): { wasm: number; c: number } {
  const n = 8 * 2 ** 20, bytes = 3 * n * 4;
  const mem = new Wasm.Memory({ initial: bytes / 65536 });
  const k = instantiateKernels(mem, 'float32')!;
  new Float32Array(mem.buffer).fill(1);
  let w = Infinity, c = Infinity;
  for (let r = 0; r < 10; r++) { const t = performance.now(); k.triad(0, n * 4, 2 * n * 4, n, 1.5); w = Math.min(w, performance.now() - t); }
  const lib = nativeAddon();
  if (lib) {
    const a = new Float32Array(n).fill(1), b = new Float32Array(n).fill(1), d = new Float32Array(n).fill(1);
    for (let r = 0; r < 10; r++) { const t = performance.now(); lib.streamTriad(a, b, d, 1.5); c = Math.min(c, performance.now() - t); }
  }
  return { wasm: bytes / w / 1e6, c: lib ? bytes / c / 1e6 : 0 };
}

function run(S: typeof StitcherNew, c: Case): { wall: number; cpu: number; moved: number } {
  const { N, P, C, overlap } = c;
  const patch = new Raster(new Float32Array(P * P * C).map((_, i) => 0.5 + ((i * 2654435761) >>> 0) / 2 ** 33), [P, P, C]);
  const pixel = new Raster(new Float32Array(P * P).map((_, i) => 0.001 + (i % 13) / 13), [P, P, 1]);
  const w = c.weights === 'mask' ? upweightCenterMask([P, P]) : c.weights === 'pixel' ? pixel : 1;
  const wins = [...new SlidingWindow([N, N], [P, P], { overlap, keepbound: true, allowOvershoot: true })];
  const s = new S([N, N, C], c.opts);
  let px = 0;
  const t = performance.now(), c0 = process.cpuUsage();
  for (const [rs, cs] of wins) {
    const h = P - Math.max(0, rs.start! + P - N), wd = P - Math.max(0, cs.start! + P - N);
    const p = h === P && wd === P ? patch : patch.crop(0, 0, h, wd);
    const ww = typeof w === 'number' || (h === P && wd === P) ? w : w.crop(0, 0, h, wd);
    s.add([rs, cs], p, ww, { skipIfNonFinite: c.skip });
    px += h * wd;
  }
  const c1 = process.cpuUsage(c0), wall = performance.now() - t;
  s.dispose();
  // patch read, sums read + written, plane read + written, weights read (none for a scalar)
  return { wall, cpu: (c1.user + c1.system) / 1000, moved: px * 4 * (3 * C + (c.weights === 'scalar' ? 2 : 3)) };
}

const load = async () => (await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ');
console.log(`load: ${await load()}; addon kernel: ${nativeAddon()?.accumulateKernel ?? 'none'}`);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const f0 = triad();
console.log(`triad: ${f0.wasm.toFixed(1)} GB/s WebAssembly SIMD, ${f0.c.toFixed(1)} GB/s C`);
console.log('| case | bytes moved GiB | base: first run wall (CPU) ms | new: first run wall (CPU) ms | base: later runs, median wall (CPU) ms | new: later runs, median wall (CPU) ms | floor ms | new later runs / floor (wall, CPU) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const name of (casesArg ?? Object.keys(CASES).join(',')).split(',')) {
  const c = CASES[name];
  const b: { wall: number; cpu: number }[] = [], n: { wall: number; cpu: number }[] = [];
  let moved = 0, bw = Math.max(f0.wasm, f0.c);
  for (let r = 0; r < runs; r++) {
    // alternate which tree goes first
    const order: [typeof StitcherNew, typeof b][] = r % 2 ? [[StitcherNew, n], [StitcherBase, b]] : [[StitcherBase, b], [StitcherNew, n]];
    for (const [S, out] of order) { (globalThis as { gc?: () => void }).gc?.(); const o = run(S, c); out.push(o); moved = o.moved; }
    const f = triad();
    bw = Math.max(bw, f.wasm, f.c);
  }
  const fms = moved / bw / 1e6;
  const later = (a: typeof b) => `${med(a.slice(1).map((x) => x.wall)).toFixed(0)} (${med(a.slice(1).map((x) => x.cpu)).toFixed(0)})`;
  console.log(`| ${name} | ${(moved / 2 ** 30).toFixed(2)} | ${b[0].wall.toFixed(0)} (${b[0].cpu.toFixed(0)}) | ${n[0].wall.toFixed(0)} (${n[0].cpu.toFixed(0)}) | ${later(b)} | ${later(n)} | ${fms.toFixed(0)} | ${(med(n.slice(1).map((x) => x.wall)) / fms).toFixed(1)}x, ${(med(n.slice(1).map((x) => x.cpu)) / fms).toFixed(1)}x |`);
}
console.log(`best triad over the run: see floor ms (bytes / best GB/s); load at the end: ${await load()}`);
