/**
 * Stitcher benchmark: 961 windows of 256x256x4 float32 (stride 128) into a 4096x4096x4
 * canvas, then block-wise finalize; vs a naive dense accumulator (per-band weights).
 * Each case runs in its own child process (peak RSS per case). `npm run bench -- stitcher`
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Raster } from '../src/array/raster.ts';
import { slice } from '../src/array/slices.ts';
import { Stitcher } from '../src/stitch/stitcher.ts';

const N = 4096, P = 256, S = 128, C = 4;
const mode = process.argv[2];
if (mode) {
  const patch = new Raster(new Float32Array(P * P * C).map((_, i) => i % 97), [P, P, C]);
  const t0 = performance.now();
  let fin = 0, n = 0;
  if (mode.startsWith('stitcher')) {
    const s = new Stitcher([N, N, C], mode === 'stitcher-memmap-64MB' ? { memmap: true, cacheBytes: 64 * 2 ** 20 } : {});
    for (let y = 0; y + P <= N; y += S) for (let x = 0; x + P <= N; x += S) { s.add([slice(y, y + P), slice(x, x + P)], patch); n++; }
    const t1 = performance.now();
    for (let y = 0; y < N; y += 128) for (let x = 0; x < N; x += 128) s.finalizeBlock(y, x, 128, 128);
    fin = performance.now() - t1;
    s.dispose();
    console.log(JSON.stringify({ n, acc: t1 - t0, fin, rss: process.resourceUsage().maxRSS / 1024 }));
  } else {
    const sums = new Float32Array(N * N * C), wts = new Float32Array(N * N * C), pd = patch.data as Float32Array;
    for (let y = 0; y + P <= N; y += S) for (let x = 0; x + P <= N; x += S) {
      n++;
      for (let r = 0; r < P; r++) { const o = ((y + r) * N + x) * C, po = r * P * C;
        for (let i = 0; i < P * C; i++) { sums[o + i] += pd[po + i]; wts[o + i] += 1; } }
    }
    const t1 = performance.now();
    const blk = new Float32Array(128 * 128 * C);
    for (let y = 0; y < N; y += 128) for (let x = 0; x < N; x += 128)
      for (let r = 0; r < 128; r++) { const o = ((y + r) * N + x) * C;
        for (let i = 0; i < 128 * C; i++) blk[r * 128 * C + i] = sums[o + i] / wts[o + i]; }
    fin = performance.now() - t1;
    console.log(JSON.stringify({ n, acc: t1 - t0, fin, rss: process.resourceUsage().maxRSS / 1024 }));
  }
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`load: ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log('| impl | windows/s | MB/s | finalize ms | peak RSS MB |\n|---|---|---|---|---|');
  for (const m of ['stitcher', 'stitcher-memmap-64MB', 'dense']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, m], { encoding: 'utf8' });
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const wps = o.n / (o.acc / 1000);
    console.log(`| ${m} | ${wps.toFixed(0)} | ${(wps * P * P * C * 4 / 1e6).toFixed(0)} | ${o.fin.toFixed(0)} | ${o.rss.toFixed(0)} |`);
  }
  console.log(`(float32 sums = ${(N * N * C * 4 / 2 ** 20).toFixed(0)} MB)`);
}
