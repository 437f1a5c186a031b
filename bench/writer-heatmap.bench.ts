/**
 * The foundation issue's writer benchmark: the same 4096 x 4096 x 4 int16
 * smooth heatmap (a quantized probability field) written as a COG with
 * 128 px tiles and 2 overview levels, by our writeCog (streamed from a block
 * source, and from a Raster in memory) and by GDAL's COG driver from a MEM
 * dataset holding the same pixels (python3-gdal; only CreateCopy is timed),
 * in the same run. DEFLATE level 6 + predictor 2 is the headline case, with
 * libdeflate (the optional addon, as GDAL) and with node:zlib; LZW and ZSTD
 * follow. Each case runs HEATMAP_REPS times (default 3), ours and GDAL
 * alternating, and medians are reported. Then geotiff.js, our reader and
 * GDAL read our files back.
 *
 * "Streamed memory" is the peak RSS growth of the child process while
 * writing from the block source (its RSS before the write is subtracted), to
 * compare with the raster's own size.
 *
 *   npm run bench -- writer-heatmap
 */
import { existsSync, mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromArrayBuffer } from 'geotiff';
import { writeCog, type BlockSource } from '../src/io/cog/write-cog.ts';
import { readRaster } from '../src/io/read-raster.ts';
import { Raster } from '../src/array/raster.ts';
import { gdalPython } from '../test/helpers/gdal.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

const N = Number(process.env.HEATMAP_SIZE ?? 4096);
const C = 4;
type Compress = 'DEFLATE' | 'LZW' | 'ZSTD';
/** A case: the compression, and for DEFLATE the engine ('auto' = libdeflate when its addon is built). */
type Case = `${Compress}` | 'DEFLATE/zlib' | 'DEFLATE/libdeflate';

// The children write through the built package when there is one (`npm run bench` builds
// it), as a user's program runs it: its LZW / ZSTD worker threads then load plain JS, not
// the tsx loader (which adds tens of MB to each worker). Else through src/.
const DIST = new URL('../dist/index.js', import.meta.url);
const api: { writeCog: typeof writeCog; Raster: typeof Raster } = existsSync(DIST) ? await import(DIST.href) : { writeCog, Raster };

// sin and cos tables, so the block source costs little next to the writer.
const SIN = Float64Array.from({ length: N * C }, (_, i) => Math.sin(Math.floor(i / C) / 97 + (i % C)));
const COS = Float64Array.from({ length: N }, (_, y) => Math.cos(y / 61));

/**
 * Quantized smooth heatmap in 0..32767, one phase per band. Rounds half up
 * with `(v + 0.5) | 0`, which equals Math.round for these non-negative
 * values and costs a fifth of it here (0.2 s instead of 0.9 s for the
 * whole raster), so the streamed case times the writer more than the source.
 */
function fill(r: Raster, y0: number, x0: number): void {
  const [h, w, c] = r.shape;
  const d = r.data as Int16Array;
  for (let y = 0, i = 0; y < h; y++) {
    const cy = COS[y0 + y];
    for (let j = x0 * c, end = (x0 + w) * c; j < end; j++) d[i++] = (32767 * (0.5 + 0.5 * SIN[j] * cy) + 0.5) | 0;
  }
}

// The source hands out one buffer again and again, as the Stitcher's does (the writer copies each block).
const block = api.Raster.zeros([128, 128, C], 'int16');
const source: BlockSource = {
  height: N, width: N, bands: C, dtype: 'int16',
  readBlock(y0, x0, h, w) { const r = h === 128 && w === 128 ? block : api.Raster.zeros([h, w, C], 'int16'); fill(r, y0, x0); return r; },
};

function options(name: Case) {
  const [compress, engine] = name.split('/') as [Compress, 'zlib' | 'libdeflate' | undefined];
  return { compress, blocksize: 128, overviews: 2, overviewResample: 'nearest' as const,
    ...(compress === 'DEFLATE' ? { level: 6, predictor: 2 as const, deflateEngine: engine ?? ('auto' as const) } : { predictor: 2 as const }) };
}

async function child(kind: string, compress: Case, out: string): Promise<void> {
  if (kind === 'input') {
    await api.writeCog(out, source, { compress: 'NONE', blocksize: 256 });
    return;
  }
  let input: Raster | BlockSource = source;
  if (kind === 'raster') { const r = api.Raster.zeros([N, N, C], 'int16'); fill(r, 0, 0); input = r; }
  const before = process.memoryUsage().rss / 2 ** 20;
  const t = performance.now();
  await api.writeCog(out, input, options(compress));
  const seconds = (performance.now() - t) / 1000;
  const peak = peakRssMB();
  console.log(JSON.stringify({ seconds, peak, before, sourceSeconds: input === source ? sourceAlone() : 0 }));
}

/** Seconds the block source takes to hand out every block, without a writer: its share of the streamed time. */
function sourceAlone(): number {
  const t = performance.now();
  for (let y0 = 0; y0 < N; y0 += 128) for (let x0 = 0; x0 < N; x0 += 128) source.readBlock(y0, x0, Math.min(128, N - y0), Math.min(128, N - x0));
  return (performance.now() - t) / 1000;
}

/** Flush dirty pages first, so the kernel writing back the previous run's file does not share the cores with the next one. */
function settle(): void {
  spawnSync('sync');
}

function runChild(kind: string, compress: Case, out: string): { seconds: number; peak: number; before: number; sourceSeconds: number } {
  settle();
  const res = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, compress, out], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`child ${kind} failed: ${res.stderr}`);
  return kind === 'input' ? { seconds: 0, peak: 0, before: 0, sourceSeconds: 0 } : JSON.parse(res.stdout.trim().split('\n').at(-1)!);
}

function runGdal(input: string, out: string, compress: Compress): { seconds: number } {
  settle();
  const script = `
import sys, json, time
from osgeo import gdal
gdal.UseExceptions()
src = gdal.Open(sys.argv[1])
mem = gdal.GetDriverByName('MEM').CreateCopy('', src)
opts = ['COMPRESS=' + sys.argv[3], 'PREDICTOR=2', 'BLOCKSIZE=128', 'OVERVIEW_COUNT=2', 'RESAMPLING=NEAREST', 'NUM_THREADS=ALL_CPUS']
if sys.argv[3] == 'DEFLATE':
    opts.append('LEVEL=6')
t = time.perf_counter()
gdal.GetDriverByName('COG').CreateCopy(sys.argv[2], mem, options=opts)
print(json.dumps({'seconds': time.perf_counter() - t}))
`;
  return JSON.parse(gdalPython(script, [input, out, compress]));
}

async function readTimes(path: string): Promise<[number, number, number]> {
  let t = performance.now();
  await readRaster(path);
  const ours = performance.now() - t;
  t = performance.now();
  const bytes = readFileSync(path);
  const tiff = await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  await (await tiff.getImage(0)).readRasters({ interleave: true });
  const gjs = performance.now() - t;
  const g = JSON.parse(gdalPython(`
import sys, json, time
from osgeo import gdal
t = time.perf_counter(); gdal.Open(sys.argv[1]).ReadAsArray(); print(json.dumps(time.perf_counter() - t))
`, [path]));
  return [ours, gjs, g * 1000];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'writer-heatmap-'));
  const rasterMB = (N * N * C * 2) / 2 ** 20;
  const rows: string[] = [];
  const reads: string[] = [];
  try {
    const input = join(dir, 'input.tif');
    runChild('input', 'DEFLATE', input);
    const cases = (process.env.HEATMAP_CASES?.split(',') ?? ['DEFLATE/libdeflate', 'DEFLATE/zlib', 'LZW', 'ZSTD']) as Case[];
    // each case runs REPS times, ours and GDAL alternating; medians are reported
    const reps = Number(process.env.HEATMAP_REPS ?? 3);
    const gdalSeconds = new Map<Compress, number[]>();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    for (const name of cases) {
      const compress = name.split('/')[0] as Compress;
      const ours = join(dir, `ours-${name.replace('/', '-')}.tif`);
      const gdal = join(dir, `gdal-${compress}.tif`);
      const runs: { s: ReturnType<typeof runChild>; r: ReturnType<typeof runChild> }[] = [];
      let gdalError = '';
      for (let k = 0; k < reps; k++) {
        runs.push({ s: runChild('blocks', name, ours), r: runChild('raster', name, join(dir, 'ours-raster.tif')) });
        try { gdalSeconds.set(compress, [...(gdalSeconds.get(compress) ?? []), runGdal(input, gdal, compress).seconds]); } catch (err) { gdalError = (err as Error).message.split('\n')[0]; }
      }
      if (gdalError) rows.push(`| ${name} | GDAL failed: ${gdalError} | | | | | |`);
      const gs = gdalSeconds.get(compress);
      const g = gs ? median(gs) : NaN;
      const ss = median(runs.map((x) => x.s.seconds));
      const rs = median(runs.map((x) => x.r.seconds));
      const src = median(runs.map((x) => x.s.sourceSeconds));
      const growth = median(runs.map((x) => x.s.peak - x.s.before));
      const sizeOurs = statSync(ours).size / 2 ** 20;
      const sizeGdal = gs ? statSync(gdal).size / 2 ** 20 : NaN;
      const ratio = (x: number) => (x / g).toFixed(2);
      rows.push(`| ${name} | ${ss.toFixed(2)} (${src.toFixed(2)}) | ${rs.toFixed(2)} | ${g.toFixed(2)} | ${ratio(ss)} / ${ratio(rs)} | ${sizeOurs.toFixed(1)} / ${sizeGdal.toFixed(1)} (${((100 * (sizeOurs - sizeGdal)) / sizeGdal).toFixed(1)}%) | ${growth.toFixed(0)} MB = ${((100 * growth) / rasterMB).toFixed(0)}% |`);
      const [ro, rg, rgd] = await readTimes(ours);
      reads.push(`| ${name} | ${ro.toFixed(0)} | ${rg.toFixed(0)} | ${rgd.toFixed(0)} |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`ours: ${existsSync(DIST) ? 'the built package (dist/)' : 'src/ under tsx (no dist/)'}`);
  console.log(`${N}x${N}x${C} int16 smooth heatmap (${rasterMB.toFixed(0)} MiB), 128 px tiles, 2 overviews, predictor 2; GDAL: MEM -> COG, NUM_THREADS=ALL_CPUS; medians of ${process.env.HEATMAP_REPS ?? 3} runs`);
  console.log('| compression | ours streamed s (source alone) | ours from Raster s | GDAL s | ours / GDAL: streamed / from Raster | MB ours / GDAL | streamed memory growth |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('\nfull read of our files, ms');
  console.log('| compression | our reader | geotiff.js | GDAL |');
  console.log('|---|---|---|---|');
  for (const r of reads) console.log(r);
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4] as Case, process.argv[5]!);
else await main();
