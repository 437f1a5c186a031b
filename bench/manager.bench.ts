/**
 * CocoStitchingManager benchmark: one 4096x4096 image stitched through
 * `accumulateImage` (downweightEdges) and `finalizeImage` to an int16 DEFLATE COG
 * (128 tiles, quantized), vs a naive reference in the same run: a dense float32
 * accumulator (sums + one weight plane) in this process, quantized densely, then
 * GDAL (Debian python3-gdal, COG driver, same options) writing the same COG.
 *
 * Cases (each in its own child process, so peak RSS is per case):
 * - `manager`: 256 windows of 360x360x2 (overlap 0.3): the brief's case
 * - `naive`: the dense reference of the same job (+ GDAL writing its output)
 * - `manager-961x4`: the issue's baseline job: 961 windows of 256x256x4 (overlap 0.5)
 * - `naive-961x4`: its dense reference (+ GDAL)
 * - `manager-961x4-noise`, `naive-961x4-noise`: the same job on hash-pattern windows (hardly compressible)
 * - `manager-961x4-memmap`: the same with `memmap` (blocks in a temp file, 256 MB cache)
 * - `manager-16k-memmap` (only with --only=manager-16k-memmap): 16384x16384x4 with memmap, 512 px windows
 * - `manager-961x4-noaddon`: the same job without the native addon (the WebAssembly path: staged windows, 4 KiB pages)
 * - `manager-40-images`: 4 videos x 10 frames of 1024x1024x2 (256 px windows, overlap 0.3) through the
 *   readiness heuristic and `submitFinalizeImage`: RSS after each video shows memory staying flat
 *
 * Before the cases, in its own child: the memory-bandwidth floor of this run, STREAM's triad
 * (a = b + s c over three 32 MiB float32 arrays, best of 10) in WebAssembly SIMD and in C through
 * the addon. Each manager case then reports the bytes its accumulate must move (per window:
 * the patch read, sums read and written, weight plane read and written, the edge mask read) over
 * the faster triad's bandwidth as the floor, accumulate as a multiple of it, and the part of
 * accumulate spent faulting in new block memory (Arena.prefault: first touch of fresh pages,
 * which the triad, running over warm arrays, does not pay).
 *
 * `npm run bench -- manager`; one case: `node --import tsx bench/manager.bench.ts --only=manager,naive`.
 */
import { spawnSync } from 'node:child_process';
import { GDAL_PYTHON } from '../test/helpers/gdal.ts';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Raster } from '../src/array/raster.ts';
import { SlidingWindow } from '../src/array/sliding-window.ts';
import { CocoDataset } from '../src/coco/dataset.ts';
import { CocoStitchingManager } from '../src/stitch/manager.ts';
import { quantizationFor, quantizeBlock } from '../src/stitch/quantize.ts';
import { upweightCenterMask } from '../src/stitch/weights.ts';
import { Arena } from '../src/stitch/block-store.ts';
import { instantiateKernels, Wasm } from '../src/stitch/wasm-kernels.ts';
import { nativeAddon } from '../src/io/native-addon.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

/**
 * `noise`: every window is the same hash pattern (uniform in [0, 1], hardly
 * compressible: the worst case for DEFLATE); otherwise the windows sample one
 * smooth field of canvas position, as a model's heatmaps of one scene do.
 */
interface Case { N: number; P: number; C: number; overlap: number; naive?: boolean; memmap?: boolean; videos?: number; noise?: boolean; noAddon?: boolean }
const CASES: Record<string, Case> = {
  manager: { N: 4096, P: 360, C: 2, overlap: 0.3 },
  naive: { N: 4096, P: 360, C: 2, overlap: 0.3, naive: true },
  'manager-961x4': { N: 4096, P: 256, C: 4, overlap: 0.5 },
  'naive-961x4': { N: 4096, P: 256, C: 4, overlap: 0.5, naive: true },
  'manager-961x4-noise': { N: 4096, P: 256, C: 4, overlap: 0.5, noise: true },
  'naive-961x4-noise': { N: 4096, P: 256, C: 4, overlap: 0.5, naive: true, noise: true },
  'manager-961x4-memmap': { N: 4096, P: 256, C: 4, overlap: 0.5, memmap: true },
  'manager-961x4-noaddon': { N: 4096, P: 256, C: 4, overlap: 0.5, noAddon: true },
  'manager-40-images': { N: 1024, P: 256, C: 2, overlap: 0.3, videos: 4 },
  // the issue's large case: 16384x16384x4 (5.4 GB of sums + weights) with memmap; off by default (minutes, disk)
  'manager-16k-memmap': { N: 16384, P: 512, C: 4, overlap: 0.25, memmap: true },
};
const OPT_IN = new Set(['manager-16k-memmap']);

async function runManyImages(c: Case, dir: string) {
  const { N, P, C, overlap } = c;
  const V = c.videos!, F = 10;
  const videos = Array.from({ length: V }, (_, i) => ({ id: i + 1, name: `v${i + 1}`, width: N, height: N }));
  const images = videos.flatMap((v) => Array.from({ length: F }, (_, f) => ({ id: (v.id - 1) * F + f + 1, name: `v${v.id}-f${f}`, width: N, height: N, video_id: v.id, frame_index: f })));
  const dset = CocoDataset.fromJSON({ videos, images }, { bundleDpath: dir });
  const m = new CocoStitchingManager(dset, { shortCode: 'many', chanCode: 'p.0|p.1', stitchingSpace: 'video' });
  const { patch, fill } = windowData(c);
  const wins = [...new SlidingWindow([N, N], [P, P], { overlap, keepbound: true, allowOvershoot: true })];
  const rssAfterVideo: number[] = [];
  const t0 = performance.now();
  let n = 0;
  for (const v of videos) {
    for (const gid of dset.index.vidToGids.get(v.id)!) {
      for (const [rs, cs] of wins) { fill(rs.start!, cs.start!); m.accumulateImage(gid, [rs, cs], patch, { downweightEdges: true }); n++; }
      for (const ready of m.readyImageIds()) await m.submitFinalizeImage(ready);
    }
    (globalThis as { gc?: () => void }).gc?.();
    rssAfterVideo.push(process.memoryUsage().rss / 2 ** 20);
  }
  for (const gid of m.managedImageIds()) await m.submitFinalizeImage(gid);
  await m.flushImages();
  const total = performance.now() - t0;
  m.dispose();
  return { n, total, rss: peakRssMB(), rssAfterVideo, images: images.length };
}

const GDAL_WRITE = `
import sys, time, resource, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
raw, out, h, w, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
a = np.fromfile(raw, dtype='<i2').reshape(h, w, c)
res = {}
for name, extra in [('gdal', []), ('gdal-threads', ['NUM_THREADS=ALL_CPUS'])]:
    t = time.perf_counter()
    mem = gdal.GetDriverByName('MEM').Create('', w, h, c, gdal.GDT_Int16)
    for b in range(c):
        band = mem.GetRasterBand(b + 1)
        band.WriteArray(a[:, :, b])
        band.SetNoDataValue(-9999)
    gdal.GetDriverByName('COG').CreateCopy(out, mem, options=['COMPRESS=DEFLATE', 'LEVEL=6', 'PREDICTOR=YES', 'BLOCKSIZE=128', 'OVERVIEWS=NONE', 'INTERLEAVE=PIXEL'] + extra)
    mem = None
    res[name] = (time.perf_counter() - t) * 1000
res['rss'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(res))
`;

/** The data of each window of a case: `fill(y0, x0)` makes `patch` the window at (y0, x0). */
function windowData(c: Case): { patch: Raster; fill: (y0: number, x0: number) => void } {
  const { N, P, C } = c;
  const d = new Float32Array(P * P * C);
  const patch = new Raster(d, [P, P, C]);
  if (c.noise) {
    for (let i = 0; i < d.length; i++) d[i] = ((i * 2654435761) >>> 0) / 2 ** 32;
    return { patch, fill: () => {} };
  }
  // 0.5 + 0.5 sin(x / 97 + b) cos(y / 61) over the canvas, from tables (cheap next to the stitching)
  const SIN = Float32Array.from({ length: (N + P) * C }, (_, i) => 0.5 * Math.sin(Math.floor(i / C) / 97 + (i % C)));
  const COS = Float32Array.from({ length: N + P }, (_, y) => Math.cos(y / 61));
  return {
    patch,
    fill(y0, x0) {
      for (let r = 0, i = 0; r < P; r++) {
        const cy = COS[y0 + r];
        for (let j = x0 * C, end = (x0 + P) * C; j < end; j++) d[i++] = 0.5 + SIN[j] * cy;
      }
    },
  };
}

/** Bandwidth (GB/s, STREAM's convention: 3 arrays of bytes per pass) of the triad in WebAssembly SIMD and in C (addon; 0 without it). */
function runFloor() {
  const n = 8 * 2 ** 20, bytes = 3 * n * 4, reps = 10;
  const mem = new Wasm.Memory({ initial: (3 * n * 4) / 65536 });
  const k = instantiateKernels(mem, 'float32')!;
  const f = new Float32Array(mem.buffer);
  f.fill(1);
  let wasm = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    k.triad(0, n * 4, 2 * n * 4, n, 1.5);
    wasm = Math.min(wasm, performance.now() - t);
  }
  const lib = nativeAddon();
  let c = Infinity;
  if (lib) {
    const a = new Float32Array(n).fill(1), b = new Float32Array(n).fill(1), d = new Float32Array(n).fill(1);
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      lib.streamTriad(a, b, d, 1.5);
      c = Math.min(c, performance.now() - t);
    }
  }
  return { wasm: bytes / wasm / 1e6, c: lib ? bytes / c / 1e6 : 0, kernel: lib?.accumulateKernel ?? 'none' };
}

/** Bytes accumulate must move for windows of `P`x`P`x`C` float32 at (y, x) on an N x N canvas, with per-pixel weights. */
function jobBytes(N: number, P: number, C: number, wins: { start: number | null }[][]): number {
  let px = 0;
  for (const [rs, cs] of wins) px += (Math.min(N, rs.start! + P) - Math.max(0, rs.start!)) * (Math.min(N, cs.start! + P) - Math.max(0, cs.start!));
  // patch read (C), sums read + written (2C), weight plane read + written (2), mask read (1)
  return px * 4 * (3 * C + 3);
}

async function runManager(c: Case, dir: string) {
  // time spent faulting in new block memory (first touch), inside accumulate
  let fault = 0;
  const prefault = Arena.prototype.prefault;
  Arena.prototype.prefault = function (this: Arena, off: number, bytes: number) {
    const t = performance.now();
    prefault.call(this, off, bytes);
    fault += performance.now() - t;
  };
  const { N, P, C, overlap } = c;
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, name: 'big', width: N, height: N }] }, { bundleDpath: dir });
  const chanCode = Array.from({ length: C }, (_, i) => `p.${i}`).join('|');
  const m = new CocoStitchingManager(dset, { shortCode: 'bench', chanCode, stitchingSpace: 'image', memmap: c.memmap ?? false, memmapCacheBytes: 256 * 2 ** 20, writePredictionAttrs: true });
  const { patch, fill } = windowData(c);
  const wins = [...new SlidingWindow([N, N], [P, P], { overlap, keepbound: true, allowOvershoot: true })];
  let acc = 0, cpu = 0; // accumulateImage calls only, not making the window data (wall and CPU ms)
  for (const [rs, cs] of wins) {
    fill(rs.start!, cs.start!);
    // getrusage stays outside the timed span: on this VM it took up to 0.1 ms a call while the pool faults memory in
    const c0 = process.cpuUsage(), t = performance.now();
    m.accumulateImage(1, [rs, cs], patch, { downweightEdges: true });
    const t1 = performance.now(), c1 = process.cpuUsage(c0);
    acc += t1 - t;
    cpu += (c1.user + c1.system) / 1000;
  }
  const f0 = performance.now();
  await m.finalizeImage(1);
  const f1 = performance.now();
  const asset = dset.cocoImage(1).assets.at(-1)!;
  const bytes = statSync(join(dir, asset.file_name)).size;
  m.dispose();
  return { n: wins.length, acc, cpu, fault, fin: f1 - f0, rss: peakRssMB(), bytes, moved: jobBytes(N, P, C, wins), addon: nativeAddon() !== null };
}

function runNaive(c: Case, dir: string) {
  const { N, P, C, overlap } = c;
  const { patch, fill } = windowData(c);
  const pd = patch.data as Float32Array;
  const wd = upweightCenterMask([P, P]).data;
  const wins = [...new SlidingWindow([N, N], [P, P], { overlap, keepbound: true, allowOvershoot: true })];
  let acc = 0;
  const sums = new Float32Array(N * N * C), wts = new Float32Array(N * N);
  for (const [rs, cs] of wins) {
    const y = rs.start!, x = cs.start!;
    fill(y, x);
    const t = performance.now();
    const h = Math.min(P, N - y), w = Math.min(P, N - x);
    for (let r = 0; r < h; r++) {
      const o = (y + r) * N + x, po = r * P;
      for (let i = 0; i < w; i++) {
        const wt = wd[po + i];
        wts[o + i] += wt;
        for (let b = 0; b < C; b++) sums[(o + i) * C + b] += pd[(po + i) * C + b] * wt;
      }
    }
    acc += performance.now() - t;
  }
  const t1 = performance.now();
  // dense finalize + range + quantization (the original's stitcher.finalize() + quantize_image)
  let mn = Infinity, mx = -Infinity;
  for (let p = 0; p < N * N; p++) for (let b = 0; b < C; b++) {
    const v = sums[p * C + b] / wts[p];
    sums[p * C + b] = v;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const q = quantizationFor('int16', Math.floor(mn), Math.ceil(mx));
  const quant = quantizeBlock(new Raster(sums, [N, N, C]), q);
  const t2 = performance.now();
  const raw = join(dir, 'quant.i16');
  writeFileSync(raw, new Uint8Array(quant.data.buffer, quant.data.byteOffset, quant.data.byteLength));
  const rss = peakRssMB();
  const out = join(dir, 'gdal.tif');
  const r = spawnSync(GDAL_PYTHON, ['-c', GDAL_WRITE, raw, out, String(N), String(N), String(C)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`GDAL failed: ${r.stderr}`);
  const g = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { n: wins.length, acc, quant: t2 - t1, gdal: g.gdal, gdalThreads: g['gdal-threads'], gdalRss: g.rss, rss, bytes: statSync(out).size };
}

const arg = process.argv[2];
const mode = arg && !arg.startsWith('--') ? arg : undefined;
if (mode === 'floor') {
  console.log(JSON.stringify(runFloor()));
} else if (mode) {
  const c = CASES[mode];
  const dir = mkdtempSync(join(tmpdir(), 'mgr-bench-'));
  try {
    const o = c.naive ? runNaive(c, dir) : c.videos ? await runManyImages(c, dir) : await runManager(c, dir);
    console.log(JSON.stringify(o));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const self = fileURLToPath(import.meta.url);
  const only = arg?.startsWith('--only=') ? arg.slice(7).split(',') : [];
  const loadavg = async () => (await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ');
  console.log(`load: ${await loadavg()}`);
  const fl = spawnSync(process.execPath, ['--import', 'tsx', self, 'floor'], { encoding: 'utf8' });
  if (fl.status !== 0) throw new Error(`floor failed: ${fl.stderr}`);
  const floor = JSON.parse(fl.stdout.trim().split('\n').pop()!) as { wasm: number; c: number; kernel: string };
  const bw = Math.max(floor.wasm, floor.c);
  console.log(`floor: triad ${floor.wasm.toFixed(1)} GB/s in WebAssembly SIMD, ${floor.c ? `${floor.c.toFixed(1)} GB/s in C (addon)` : 'no addon'}; addon accumulate kernel: ${floor.kernel}`);
  // a child where the addon cannot load (as on a machine without libdeflate-dev)
  const blocker = join(mkdtempSync(join(tmpdir(), 'mgr-bench-noaddon-')), 'no-addon.cjs');
  writeFileSync(blocker, `const M = require('node:module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) { if (req === 'coco-stitcher-native') throw new Error('blocked by the benchmark'); return r.call(this, req, ...a); };`);
  console.log('| case | job | windows | accumulate ms (CPU ms) | of which first touch of block memory ms | floor ms (bytes moved / triad) | accumulate / floor | finalize ms (quantize + write) | peak RSS MB | file MB |\n|---|---|---|---|---|---|---|---|---|---|');
  for (const m of Object.keys(CASES)) {
    if (only.length ? !only.includes(m) : OPT_IN.has(m)) continue;
    const { N, P, C, overlap, naive } = CASES[m];
    const r = spawnSync(process.execPath, [...(CASES[m].noAddon ? ['--require', blocker] : []), '--expose-gc', '--import', 'tsx', self, m], { encoding: 'utf8' });
    if (r.status !== 0) { console.log(`| ${m} | failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')} |`); continue; }
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const job = `${N}x${N}x${C}, ${P}px overlap ${overlap}`;
    if (CASES[m].videos) {
      console.log(`| ${m} | ${o.images} images ${N}x${N}x${C} in ${CASES[m].videos} videos, ${P}px overlap ${overlap} | ${o.n} | total ${o.total.toFixed(0)} (accumulate + finalize, overlapped) | | | | | ${o.rss.toFixed(0)}; RSS after each video: ${o.rssAfterVideo.map((r: number) => r.toFixed(0)).join(', ')} | |`);
    } else if (naive) {
      console.log(`| ${m} (dense JS) | ${job} | ${o.n} | ${o.acc.toFixed(0)} | | | | ${o.quant.toFixed(0)} dense finalize+quantize | ${o.rss.toFixed(0)} | |`);
      console.log(`| ${m} GDAL COG write | same int16 data | | | | | | ${o.gdal.toFixed(0)} (NUM_THREADS=ALL_CPUS: ${o.gdalThreads.toFixed(0)}) | ${o.gdalRss.toFixed(0)} (python) | ${(o.bytes / 2 ** 20).toFixed(1)} |`);
    } else {
      const fms = o.moved / bw / 1e6;
      console.log(`| ${m}${o.addon ? '' : ' (no addon)'} | ${job} | ${o.n} | ${o.acc.toFixed(0)} (${o.cpu.toFixed(0)}) | ${o.fault.toFixed(0)} | ${fms.toFixed(0)} (${(o.moved / 2 ** 30).toFixed(2)} GiB) | ${(o.acc / fms).toFixed(1)}x (CPU: ${(o.cpu / fms).toFixed(1)}x; without first touch: ${((o.acc - o.fault) / fms).toFixed(1)}x) | ${o.fin.toFixed(0)} | ${o.rss.toFixed(0)} | ${(o.bytes / 2 ** 20).toFixed(1)} |`);
    }
  }
  rmSync(dirname(blocker), { recursive: true, force: true });
  console.log(`load at the end: ${await loadavg()}`);
}
