/**
 * Stitcher benchmark: 961 windows of 256x256x4 float32 (stride 128) into a 4096x4096x4
 * canvas, then block-wise finalize (128x128 blocks); vs a naive dense accumulator (per-band
 * weights, as kwarray) in the same run. Plus: per-pixel weights with nanPolicy 'omit', per-band weights
 * whose bands differ at one pixel per window (every block wide), memmap
 * with a 64 MB cache, and a 16384x16384x2 memmap canvas (512x512 windows, overlap 0.25,
 * 256 MB cache; no dense reference: it would need 4 GB), and a second canvas stitched in the same
 * process (reusing the first one's block memory, as a manager stitching image after image does).
 * Each case runs in its own child process (peak RSS per case). `npm run bench -- stitcher`;
 * one case: `node --import tsx bench/stitcher.bench.ts --only=stitcher,dense`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Raster } from '../src/array/raster.ts';
import { slice } from '../src/array/slices.ts';
import { SlidingWindow } from '../src/array/sliding-window.ts';
import { Stitcher, type StitcherOptions } from '../src/stitch/stitcher.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

/** `second`: stitch the canvas twice in the process and time the second one (block memory of the first is reused). */
/** `built`: the stitcher case in a plain node process on the compiled package (dist/, no tsx loader). */
/** `perBand`: HxWxC weights with one pixel per window weighted 0 in band 1 only (as the manager's NaN in one band): every block turns wide. */
interface Case { N: number; P: number; C: number; overlap: number; opts: StitcherOptions; weights?: boolean; dense?: boolean; second?: boolean; built?: boolean; perBand?: boolean }
const CASES: Record<string, Case> = {
  stitcher: { N: 4096, P: 256, C: 4, overlap: 0.5, opts: {} },
  'stitcher-built': { N: 4096, P: 256, C: 4, overlap: 0.5, opts: {}, built: true },
  'stitcher-2nd-canvas': { N: 4096, P: 256, C: 4, overlap: 0.5, opts: {}, second: true },
  'stitcher-weights-omit': { N: 4096, P: 256, C: 4, overlap: 0.5, opts: { nanPolicy: 'omit' }, weights: true },
  'stitcher-per-band-weights': { N: 4096, P: 256, C: 4, overlap: 0.5, opts: {}, perBand: true },
  'stitcher-memmap-64MB': { N: 4096, P: 256, C: 4, overlap: 0.5, opts: { memmap: true, cacheBytes: 64 * 2 ** 20 } },
  dense: { N: 4096, P: 256, C: 4, overlap: 0.5, opts: {}, dense: true },
  'stitcher-16k-x2-memmap-256MB': { N: 16384, P: 512, C: 2, overlap: 0.25, opts: { memmap: true, cacheBytes: 256 * 2 ** 20 } },
};

/** The `stitcher` case again, as a user's plain node program importing the built package. */
const BUILT_SCRIPT = `
import { readFileSync } from 'node:fs';
const { Raster, SlidingWindow, Stitcher } = await import('coco-stitcher');
const N = 4096, P = 256, C = 4;
const rss0 = process.memoryUsage().rss / 2 ** 20;
const patch = new Raster(new Float32Array(P * P * C).map((_, i) => i % 97), [P, P, C]);
const wins = [...new SlidingWindow([N, N], [P, P], { overlap: 0.5, keepbound: true, allowOvershoot: true })];
const t0 = performance.now(), c0 = process.cpuUsage();
const s = new Stitcher([N, N, C], {});
for (const sl of wins) s.add([sl[0], sl[1]], patch, 1);
const t1 = performance.now(), c1 = process.cpuUsage(c0);
let out, blocks = 0;
for (let y = 0; y < N; y += 128) for (let x = 0; x < N; x += 128) { const b = s.finalizeBlock(y, x, 128, 128, out); if (b) { blocks++; out = b; } }
const fin = performance.now() - t1;
s.dispose();
const rss = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
console.log(JSON.stringify({ n: wins.length, acc: t1 - t0, cpu: (c1.user + c1.system) / 1e6, fin, rss, rss0, blocks }));
`;

const arg = process.argv[2];
const mode = arg && !arg.startsWith('--') ? arg : undefined;
if (mode) {
  const { N, P, C, overlap, opts, weights: pixelWeights, dense, second, perBand } = CASES[mode];
  const rss0 = process.memoryUsage().rss / 2 ** 20;
  const patch = new Raster(new Float32Array(P * P * C).map((_, i) => i % 97), [P, P, C]);
  const wr = perBand
    ? new Raster(new Float32Array(P * P * C).fill(1).map((v, i) => (i === (P * (P >> 1) + (P >> 1)) * C + 1 ? 0 : v)), [P, P, C])
    : new Raster(new Float32Array(P * P).map((_, i) => 0.001 + (i % 13) / 13), [P, P, 1]);
  const weights = pixelWeights || perBand;
  const wins = [...new SlidingWindow([N, N], [P, P], { overlap, keepbound: true, allowOvershoot: true })];
  if (second) {
    const s = new Stitcher([N, N, C], opts);
    for (const sl of wins) s.add([sl[0], sl[1]], patch, weights ? wr : 1);
    let out: Raster | undefined;
    for (let y = 0; y < N; y += 128) for (let x = 0; x < N; x += 128) out = s.finalizeBlock(y, x, 128, 128, out) ?? out;
    s.dispose();
  }
  const t0 = performance.now(), c0 = process.cpuUsage();
  let fin = 0, cpu = 0;
  if (!dense) {
    const s = new Stitcher([N, N, C], opts);
    for (const sl of wins) s.add([sl[0], sl[1]], patch, weights ? wr : 1);
    const t1 = performance.now(), c1 = process.cpuUsage(c0);
    cpu = (c1.user + c1.system) / 1e6;
    let blocks = 0;
    // one output block reused, as a streaming writer does (finalize-image.ts)
    let out: Raster | undefined;
    for (let y = 0; y < N; y += 128) for (let x = 0; x < N; x += 128) {
      const b = s.finalizeBlock(y, x, 128, 128, out);
      if (b) { blocks++; out = b; }
    }
    fin = performance.now() - t1;
    s.dispose();
    console.log(JSON.stringify({ n: wins.length, acc: t1 - t0, cpu, fin, rss: peakRssMB(), rss0, blocks }));
  } else {
    const sums = new Float32Array(N * N * C), wts = new Float32Array(N * N * C), pd = patch.data as Float32Array;
    for (const [rs, cs] of wins) {
      const y = rs.start!, x = cs.start!;
      for (let r = 0; r < P; r++) {
        const o = ((y + r) * N + x) * C, po = r * P * C;
        for (let i = 0; i < P * C; i++) { sums[o + i] += pd[po + i]; wts[o + i] += 1; }
      }
    }
    const t1 = performance.now(), c1 = process.cpuUsage(c0);
    cpu = (c1.user + c1.system) / 1e6;
    const blk = new Float32Array(128 * 128 * C);
    for (let y = 0; y < N; y += 128) for (let x = 0; x < N; x += 128)
      for (let r = 0; r < 128; r++) { const o = ((y + r) * N + x) * C;
        for (let i = 0; i < 128 * C; i++) blk[r * 128 * C + i] = sums[o + i] / wts[o + i]; }
    fin = performance.now() - t1;
    console.log(JSON.stringify({ n: wins.length, acc: t1 - t0, cpu, fin, rss: peakRssMB(), rss0, blocks: 0 }));
  }
} else {
  const self = fileURLToPath(import.meta.url);
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) console.log('(no dist/: run `npm run build` for the stitcher-built case)');
  const only = arg?.startsWith('--only=') ? arg.slice(7).split(',') : [];
  console.log(`load: ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  // windows per CPU-second (user + system time of the accumulating child) is robust to other load on the machine
  console.log('| case | canvas | windows | windows/s | windows/CPU-s | MB/s | finalize ms | peak RSS MB | RSS at start MB | sums MB |\n|---|---|---|---|---|---|---|---|---|---|');
  for (const m of Object.keys(CASES)) {
    if (only.length && !only.includes(m)) continue;
    const { N, P, C } = CASES[m];
    const r = CASES[m].built
      ? spawnSync(process.execPath, ['--input-type=module', '-e', BUILT_SCRIPT], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' })
      : spawnSync(process.execPath, ['--import', 'tsx', self, m], { encoding: 'utf8' });
    if (r.status !== 0) { console.log(`| ${m} | failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')} |`); continue; }
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const wps = o.n / (o.acc / 1000);
    console.log(`| ${m} | ${N}x${N}x${C} | ${o.n} | ${wps.toFixed(0)} | ${(o.n / o.cpu).toFixed(0)} | ${(wps * P * P * C * 4 / 1e6).toFixed(0)} | ${o.fin.toFixed(0)} | ${o.rss.toFixed(0)} | ${o.rss0.toFixed(0)} | ${(N * N * C * 4 / 2 ** 20).toFixed(0)} |`);
  }
}
