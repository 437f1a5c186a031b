/**
 * vidshapes-msi demo bundle: time to make a 2-video x 3-frame, 128 px,
 * georeferenced bundle (18 assets). Rows: rendering only (in-memory writer),
 * the whole thing with our writeCog, and as the reference GDAL's COG driver
 * writing the same 18 rasters (DEFLATE) from one Python process.
 *
 *   npm run bench -- demo
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { GDAL_PYTHON } from '../test/helpers/gdal.ts';
import type { Raster } from '../src/array/raster.ts';
import { createVidshapesMsi } from '../src/coco/demo/vidshapes-msi.ts';

const OPTS = { numVideos: 2, numFrames: 3, imageSize: 128, geodata: true, seed: 0 } as const;
const REPS = 5;
const root = mkdtempSync(join(tmpdir(), 'demo-bench-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const rows: [string, number][] = [];
try {
  // rendering + manifest only
  const captured: { raster: Raster; options: any; path: string }[] = [];
  const renderTimes: number[] = [];
  for (let i = 0; i < REPS; i++) {
    captured.length = 0;
    renderTimes.push(await timeIt(async () => {
      await createVidshapesMsi({ ...OPTS, dpath: join(root, `mem${i}`) }, {
        writeCog: async (path, raster, options) => { captured.push({ path, raster, options }); },
      });
    }));
  }
  rows.push(['render + manifest (in-memory writer)', median(renderTimes)]);

  // whole bundle with our writeCog
  try {
    const full: number[] = [];
    for (let i = 0; i < REPS; i++) full.push(await timeIt(async () => { await createVidshapesMsi({ ...OPTS, dpath: join(root, `full${i}`) }); }));
    rows.push(['whole bundle, our writeCog', median(full)]);
  } catch (err) {
    console.log(`(our writeCog not available: ${(err as Error).message})`);
  }

  // reference: GDAL writes the same rasters as DEFLATE COGs
  const items = captured.map((c, k) => {
    const raw = join(root, `r${k}.raw`);
    writeFileSync(raw, Buffer.from(c.raster.data.buffer, c.raster.data.byteOffset, c.raster.data.byteLength));
    return { raw, out: join(root, `gdal${k}.tif`), h: c.raster.height, w: c.raster.width, c: c.raster.bands, dt: c.raster.dtype,
      gt: c.options.transform?.toGdal() ?? null, epsg: c.options.epsg ?? null };
  });
  const res = spawnSync(GDAL_PYTHON, ['-c', `
import sys, json, time, numpy as np
from osgeo import gdal, osr
gdal.UseExceptions()
items = json.loads(sys.stdin.read())
arrs = [np.fromfile(it['raw'], dtype=it['dt']).reshape(it['h'], it['w'], it['c']) for it in items]
mem = gdal.GetDriverByName('MEM'); cog = gdal.GetDriverByName('COG')
times = []
for rep in range(${REPS}):
    t0 = time.perf_counter()
    for it, a in zip(items, arrs):
        ds = mem.Create('', it['w'], it['h'], it['c'], {'uint8': gdal.GDT_Byte, 'uint16': gdal.GDT_UInt16}[it['dt']])
        for i in range(it['c']): ds.GetRasterBand(i + 1).WriteArray(a[:, :, i])
        if it['gt']: ds.SetGeoTransform(it['gt'])
        if it['epsg']:
            s = osr.SpatialReference(); s.ImportFromEPSG(it['epsg']); ds.SetProjection(s.ExportToWkt())
        cog.CreateCopy(it['out'], ds, options=['COMPRESS=DEFLATE', 'BLOCKSIZE=128'])
        ds = None
    times.append((time.perf_counter() - t0) * 1000)
print(sorted(times)[len(times) // 2])
`], { input: JSON.stringify(items), encoding: 'utf8' });
  if (res.status === 0) rows.push(['reference: GDAL COG driver writes the same 18 rasters (write only)', Number(res.stdout.trim())]);
  else console.log(`(GDAL reference failed: ${res.stderr})`);

  console.log(`\n2 videos x 3 frames, 128 px, geodata, 18 assets; median of ${REPS} runs\n`);
  console.log('| step | ms |');
  console.log('|---|---:|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
