/**
 * Quantization and polygon benchmarks. `npm run bench -- quantize`
 *
 * 1. quantize a 4096x4096x4 float32 canvas (5% NaN) to int16, block by block
 *    (1024 blocks of 128x128x4, as finalize streams them into the writer) and
 *    as one image (min/max scan + quantize); references measured in the same
 *    run: a naive JS port of the original's numpy passes (clip, scale, cast,
 *    NaN mask, each into a temporary array) and the original `quantize_image`
 *    in numpy (GDAL_PYTHON, by default /usr/bin/python3).
 * 2. polygons of a 4096x4096 random-blob mask: maskToMultiPolygon and
 *    scoredPolygons vs GDAL Polygonize (8-connected) on the same mask.
 */
import { spawnSync } from 'node:child_process';
import { GDAL_PYTHON } from '../test/helpers/gdal.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Raster } from '../src/array/raster.ts';
import type { Quantization } from '../src/coco/quantization.ts';
import { quantizationFor, quantizeBlock, quantizeImage } from '../src/stitch/quantize.ts';
import { maskToMultiPolygon, scoredPolygons } from '../src/stitch/polygons.ts';

const N = 4096, C = 4, B = 128;
const MB = (N * N * C * 4) / 1e6; // float32 input megabytes

function lcg(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

/** The original's numpy passes, one temporary array per step (what quantize_image does). */
function naiveQuantize(src: Float32Array, q: Quantization): Int16Array {
  const n = src.length;
  const invalid = new Uint8Array(n);
  for (let i = 0; i < n; i++) invalid[i] = Number.isNaN(src[i]) ? 1 : 0;
  const clipped = new Float32Array(n);
  for (let i = 0; i < n; i++) clipped[i] = Math.min(Math.max(src[i], q.orig_min), q.orig_max);
  const f = (q.quant_max - q.quant_min) / (q.orig_max - q.orig_min);
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = (clipped[i] - q.orig_min) * f + q.quant_min;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(scaled[i]);
  for (let i = 0; i < n; i++) if (invalid[i]) out[i] = q.nodata!;
  return out;
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** Best wall-clock and best CPU time (ms) over `runs` runs; CPU time is steadier on a loaded machine. */
function best(runs: number, fn: () => void): { wall: number; cpu: number } {
  let wall = Infinity, cpu = Infinity;
  for (let r = 0; r < runs; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now(), c0 = cpuMs();
    fn();
    wall = Math.min(wall, performance.now() - t0);
    cpu = Math.min(cpu, cpuMs() - c0);
  }
  return { wall, cpu };
}

const py = (code: string, args: string[] = []) => {
  const r = spawnSync(GDAL_PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
};

console.log(`load: ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);

// ---- 1. quantize -------------------------------------------------------------
{
  const rnd = lcg(1);
  const full = new Float32Array(N * N * C);
  for (let i = 0; i < full.length; i++) full[i] = rnd() < 0.05 ? NaN : rnd() * 1.2 - 0.1;
  const img = new Raster(full, [N, N, C]);
  const q = quantizationFor('int16', 0, 1);
  // 16 distinct blocks cycled through the 1024 block positions (crop copies are not what we measure)
  const blocks = Array.from({ length: 16 }, (_, k) => img.crop((k % 4) * B, Math.floor(k / 4) * B, B, B));
  const nBlocks = (N / B) * (N / B);
  let sink = 0;
  const tBlock = best(3, () => { for (let k = 0; k < nBlocks; k++) sink += quantizeBlock(blocks[k & 15], q).data[7]; });
  const tNaiveBlock = best(3, () => { for (let k = 0; k < nBlocks; k++) sink += naiveQuantize(blocks[k & 15].data as Float32Array, q)[7]; });
  const tWhole = best(2, () => { sink += quantizeImage(img).data!.data[7]; });
  const tNaiveWhole = best(2, () => { sink += naiveQuantize(full, q)[7]; });
  const ref = py(`
import time, json
import numpy as np
rng = np.random.default_rng(1)
a = (rng.random((4096, 4096, 4), dtype=np.float32) * 1.2 - 0.1).astype(np.float32)
a[rng.random(a.shape) < 0.05] = np.nan
def quantize_image(imdata, old_min=None, old_max=None, quantize_dtype=np.int16):
    # the original (geowatch coco_stitcher), truncating cast
    if old_min is None: old_min = np.floor(np.nanmin(imdata))
    if old_max is None: old_max = np.ceil(np.nanmax(imdata))
    info = np.iinfo(quantize_dtype)
    qmin, qnan = (1, 0) if info.kind == 'u' else (0, max(-9999, info.min))
    invalid = np.isnan(imdata)
    f = (info.max - qmin) / (old_max - old_min)
    new = ((imdata.clip(old_min, old_max) - old_min) * f + qmin).astype(quantize_dtype)
    new[invalid] = qnan
    return new
best = cbest = 1e9
for _ in range(2):
    t0 = time.perf_counter(); c0 = time.process_time(); quantize_image(a)
    best = min(best, time.perf_counter() - t0); cbest = min(cbest, time.process_time() - c0)
blocks = [np.ascontiguousarray(a[(k % 4) * 128:(k % 4 + 1) * 128, (k // 4) * 128:(k // 4 + 1) * 128]) for k in range(16)]
bb = cbb = 1e9
for _ in range(2):
    t0 = time.perf_counter(); c0 = time.process_time()
    for k in range(1024): quantize_image(blocks[k & 15], 0, 1)
    bb = min(bb, time.perf_counter() - t0); cbb = min(cbb, time.process_time() - c0)
print(json.dumps({"whole": {"wall": best * 1000, "cpu": cbest * 1000}, "blocks": {"wall": bb * 1000, "cpu": cbb * 1000}}))
`);
  console.log(`\nquantize ${N}x${N}x${C} float32 (${MB.toFixed(0)} MB) -> int16, 5% NaN (best of runs)`);
  console.log('| impl | blockwise 1024 x 128x128x4: wall ms / CPU ms | MB/s (CPU) | whole image: wall ms / CPU ms | MB/s (CPU) |\n|---|---|---|---|---|');
  type T = { wall: number; cpu: number };
  const row = (name: string, tb: T, tw: T) =>
    console.log(`| ${name} | ${tb.wall.toFixed(0)} / ${tb.cpu.toFixed(0)} | ${(MB / (tb.cpu / 1000)).toFixed(0)} | ${tw.wall.toFixed(0)} / ${tw.cpu.toFixed(0)} | ${(MB / (tw.cpu / 1000)).toFixed(0)} |`);
  row('quantizeBlock / quantizeImage (ours)', tBlock, tWhole);
  row('naive JS (numpy-style passes)', tNaiveBlock, tNaiveWhole);
  row('original quantize_image (numpy)', ref.blocks, ref.whole);
  if (sink === 0.5) console.log(sink);
}

// ---- 2. polygons -------------------------------------------------------------
{
  const rnd = lcg(2);
  const mask = new Uint8Array(N * N);
  // random blobs: smooth field from a few hundred random bumps on a coarse grid, plus noise
  const G = 64, grid = new Float32Array((N / G + 2) ** 2).map(() => rnd());
  const gw = N / G + 2;
  for (let y = 0; y < N; y++) {
    const gy = y / G, y0 = Math.floor(gy), fy = gy - y0;
    for (let x = 0; x < N; x++) {
      const gx = x / G, x0 = Math.floor(gx), fx = gx - x0;
      const v = (grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x0 + 1] * fx) * (1 - fy) +
        (grid[(y0 + 1) * gw + x0] * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1] * fx) * fy;
      mask[y * N + x] = v + (rnd() - 0.5) * 0.08 > 0.6 ? 1 : 0;
    }
  }
  const m = new Raster(mask, [N, N, 1]);
  let fg = 0; for (const v of mask) fg += v;
  const probs = new Raster(Float32Array.from(mask, (v) => (v ? 0.9 : 0.1)), [N, N, 1]);
  let nPoly = 0, nVert = 0, nRegions = 0;
  const tMask = best(2, () => {
    const mp = maskToMultiPolygon(m);
    nPoly = mp.coordinates.length;
    nVert = 0; for (const p of mp.coordinates) for (const r of p) nVert += r.length - 1;
  });
  const tScored = best(2, () => { nRegions = scoredPolygons(probs, 0.5).length; });
  const dir = mkdtempSync(join(tmpdir(), 'polybench-'));
  try {
    writeFileSync(join(dir, 'mask.u8'), mask);
    const ref = py(`
import sys, time, json
import numpy as np
from osgeo import gdal, ogr
gdal.UseExceptions()
a = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(4096, 4096)
ds = gdal.GetDriverByName('MEM').Create('', 4096, 4096, 1, gdal.GDT_Byte)
ds.GetRasterBand(1).WriteArray(a)
band = ds.GetRasterBand(1)
best = cbest = 1e9
for _ in range(2):
    drv = ogr.GetDriverByName('Memory')
    src = drv.CreateDataSource('m')
    lyr = src.CreateLayer('p', geom_type=ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn('v', ogr.OFTInteger))
    t0 = time.perf_counter(); c0 = time.process_time()
    gdal.Polygonize(band, band, lyr, 0, ['8CONNECTED=8'])
    best = min(best, time.perf_counter() - t0); cbest = min(cbest, time.process_time() - c0)
    n = lyr.GetFeatureCount()
print(json.dumps({"ms": best * 1000, "cpu": cbest * 1000, "n": n}))
`, [join(dir, 'mask.u8')]);
    console.log(`\npolygons of a ${N}x${N} random-blob mask (${(100 * fg / (N * N)).toFixed(1)}% set, best of 2)`);
    console.log('| impl | wall ms | CPU ms | output |\n|---|---|---|---|');
    console.log(`| maskToMultiPolygon (ours) | ${tMask.wall.toFixed(0)} | ${tMask.cpu.toFixed(0)} | ${nPoly} polygons (4-connected pieces), ${nVert} vertices |`);
    console.log(`| scoredPolygons (ours, 8-conn, incl. threshold + mean) | ${tScored.wall.toFixed(0)} | ${tScored.cpu.toFixed(0)} | ${nRegions} regions |`);
    console.log(`| GDAL Polygonize 8CONNECTED (Python, Memory layer) | ${ref.ms.toFixed(0)} | ${ref.cpu.toFixed(0)} | ${ref.n} polygons |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
