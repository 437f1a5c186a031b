/**
 * Writer benchmark: our writeCog against GDAL's COG driver on the same data,
 * timed in the same run, each case in its own child process so peak RSS
 * (VmHWM, see test/helpers/peak-rss.ts) belongs to that case alone.
 *
 * - Raster sources held in memory: 4096 x 4096 x 4 float32 and 4096 x 4096 x 3
 *   uint8, DEFLATE, predictor (3 / 2), 128 px tiles, 2 nearest overview levels.
 *   GDAL: `gdal_translate -of COG -co COMPRESS=DEFLATE -co PREDICTOR=YES
 *   -co BLOCKSIZE=128 -co OVERVIEW_COUNT=2 -co RESAMPLING=NEAREST` from an
 *   uncompressed GTiff of the same pixels (single-threaded, GDAL's default,
 *   and NUM_THREADS=ALL_CPUS).
 * - Block sources (pixels computed per block, nothing held): 4096^2 x 4 and
 *   8192^2 x 4 float32 (256 MiB and 1 GiB of pixels); peak RSS must not grow
 *   with the image.
 * Our RSS includes the input raster for Raster sources (256 / 48 MiB).
 *
 *   npm run bench -- writer        (WRITER_BENCH_QUICK=1 for 1024 / 2048 px)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCog, type BlockSource } from '../src/io/cog/write-cog.ts';
import { Raster } from '../src/array/raster.ts';
import type { Dtype } from '../src/array/dtypes.ts';
import { gdalPython } from '../test/helpers/gdal.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

const QUICK = process.env.WRITER_BENCH_QUICK === '1';
const N = QUICK ? 1024 : 4096;
const BIG = QUICK ? 2048 : 8192;

interface Spec { dtype: Dtype; size: number; bands: number }

/** Fills rows y0.. of an h x w x bands block at (y0, x0): smooth field + deterministic noise (compressible like real data). */
function fillBlock(r: Raster, y0: number, x0: number): void {
  const [h, w, c] = r.shape;
  const d = r.data;
  const isByte = r.dtype === 'uint8';
  let i = 0;
  for (let y = 0; y < h; y++) {
    const gy = y0 + y;
    let s = (gy * 2654435761) >>> 0;
    for (let x = 0; x < w; x++) {
      const gx = x0 + x;
      const base = Math.sin(gy / 37) * Math.cos(gx / 23) * 100;
      for (let b = 0; b < c; b++) {
        s = (Math.imul(s ^ gx, 1664525) + 1013904223) >>> 0;
        const v = base + b * 10 + ((s >>> 16) % 7) - 3;
        d[i++] = isByte ? Math.max(0, Math.min(255, Math.round(v + 128))) : v;
      }
    }
  }
}

function makeRaster(spec: Spec): Raster {
  const r = Raster.zeros([spec.size, spec.size, spec.bands], spec.dtype);
  fillBlock(r, 0, 0);
  return r;
}

function blockSource(spec: Spec): BlockSource {
  return {
    height: spec.size, width: spec.size, bands: spec.bands, dtype: spec.dtype,
    readBlock(y0, x0, h, w) {
      const r = Raster.zeros([h, w, spec.bands], spec.dtype);
      fillBlock(r, y0, x0);
      return r;
    },
  };
}

const COG_OPTS = { compress: 'DEFLATE', blocksize: 128, overviews: 2, overviewResample: 'nearest' } as const;

/** Child process entry: one case, prints a JSON line. */
async function child(kind: string, spec: Spec, out: string): Promise<void> {
  if (kind === 'input') {
    // uncompressed GTiff input for GDAL (our writer, NONE: a plain tiled GTiff)
    await writeCog(out, makeRaster(spec), { compress: 'NONE', blocksize: 256 });
    return;
  }
  let seconds: number;
  if (kind === 'raster') {
    const r = makeRaster(spec);
    const t = performance.now();
    await writeCog(out, r, COG_OPTS);
    seconds = (performance.now() - t) / 1000;
  } else {
    const t = performance.now();
    await writeCog(out, blockSource(spec), COG_OPTS);
    seconds = (performance.now() - t) / 1000;
  }
  console.log(JSON.stringify({ seconds, maxRssMB: peakRssMB() }));
}

function runChild(kind: string, spec: Spec, out: string): { seconds: number; maxRssMB: number } {
  const res = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, JSON.stringify(spec), out], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (res.status !== 0) throw new Error(`child ${kind} failed: ${res.stderr}`);
  const last = res.stdout.trim().split('\n').at(-1) ?? '';
  return kind === 'input' ? { seconds: 0, maxRssMB: 0 } : JSON.parse(last);
}

function runGdal(input: string, out: string, threads: boolean): { seconds: number; maxRssMB: number } {
  const script = `
import sys, json, time, resource, subprocess
cmd = ['gdal_translate', '-q', '-of', 'COG', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=YES', '-co', 'BLOCKSIZE=128',
       '-co', 'OVERVIEW_COUNT=2', '-co', 'RESAMPLING=NEAREST'] + (['-co', 'NUM_THREADS=ALL_CPUS'] if sys.argv[3] == '1' else []) + [sys.argv[1], sys.argv[2]]
t = time.perf_counter()
subprocess.run(cmd, check=True)
dt = time.perf_counter() - t
print(json.dumps({'seconds': dt, 'maxRssMB': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
`;
  return JSON.parse(gdalPython(script, [input, out, threads ? '1' : '0']));
}

function mb(path: string): string { return (statSync(path).size / 2 ** 20).toFixed(1); }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'writer-bench-'));
  const rows: string[][] = [];
  try {
    for (const spec of [{ dtype: 'float32', size: N, bands: 4 }, { dtype: 'uint8', size: N, bands: 3 }] as Spec[]) {
      const name = `${spec.size}x${spec.size}x${spec.bands} ${spec.dtype}`;
      const input = join(dir, 'input.tif');
      runChild('input', spec, input);
      const ours = join(dir, 'ours.tif');
      const o = runChild('raster', spec, ours);
      rows.push([name, 'ours (Raster source)', o.seconds.toFixed(2), o.maxRssMB.toFixed(0), mb(ours)]);
      const b = runChild('blocks', spec, ours);
      rows.push([name, 'ours (block source)', b.seconds.toFixed(2), b.maxRssMB.toFixed(0), mb(ours)]);
      const gdal = join(dir, 'gdal.tif');
      const g = runGdal(input, gdal, false);
      rows.push([name, 'GDAL gdal_translate -of COG', g.seconds.toFixed(2), g.maxRssMB.toFixed(0), mb(gdal)]);
      const gt = runGdal(input, gdal, true);
      rows.push([name, 'GDAL, NUM_THREADS=ALL_CPUS', gt.seconds.toFixed(2), gt.maxRssMB.toFixed(0), mb(gdal)]);
      rmSync(input);
      rmSync(gdal);
    }
    for (const size of [N, BIG]) {
      const spec: Spec = { dtype: 'float32', size, bands: 4 };
      const ours = join(dir, 'ours.tif');
      const b = runChild('blocks', spec, ours);
      rows.push([`${size}x${size}x4 float32 (${((size * size * 16) / 2 ** 30).toFixed(2)} GiB)`, 'ours (block source)', b.seconds.toFixed(2), b.maxRssMB.toFixed(0), mb(ours)]);
      rmSync(ours);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| data | writer | seconds | peak RSS MB | output MB |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], JSON.parse(process.argv[4]) as Spec, process.argv[5]);
} else {
  await main();
}
