/**
 * Reader benchmark: full and windowed reads of GDAL-written COGs through our
 * reader, through geotiff.js's own readRasters (interleaved, no pool), and
 * through GDAL (python, in-process timing, so interpreter start-up is not
 * counted). Prints a markdown table; the machine is shared, so compare rows
 * of the same run only.
 *
 *   npm run bench -- reader
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFile } from 'geotiff';
import { openRaster } from '../src/io/read-raster.ts';
import { slice } from '../src/array/slices.ts';
import { gdalPython } from '../test/helpers/gdal.ts';

const SIZE = Number(process.env.READER_BENCH_SIZE ?? 2048);
const REPEAT = 3;
const dir = mkdtempSync(join(tmpdir(), 'reader-bench-'));

const CASES: { name: string; dtype: string; bands: number; opts: string[] }[] = [
  { name: 'float32 x1 DEFLATE pred3', dtype: 'float32', bands: 1, opts: ['COMPRESS=DEFLATE', 'PREDICTOR=3'] },
  { name: 'int16 x3 DEFLATE pred2', dtype: 'int16', bands: 3, opts: ['COMPRESS=DEFLATE', 'PREDICTOR=2'] },
  { name: 'uint8 x3 LZW', dtype: 'uint8', bands: 3, opts: ['COMPRESS=LZW'] },
  { name: 'float32 x1 ZSTD', dtype: 'float32', bands: 1, opts: ['COMPRESS=ZSTD'] },
  // aerial RGB imagery often comes as JPEG COGs (GDAL writes them YCbCr); geotiff.js decodes those
  { name: 'uint8 x3 JPEG (YCbCr)', dtype: 'uint8', bands: 3, opts: ['COMPRESS=JPEG'] },
];

function makeFiles(): string[] {
  const script = `
import sys, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
size = int(sys.argv[1]); out = sys.argv[2]; cases = json.loads(sys.argv[3])
yy, xx = np.mgrid[0:size, 0:size]
for i, c in enumerate(cases):
    mem = gdal.GetDriverByName('MEM').Create('', size, size, c['bands'], gdal.GetDataTypeByName({'float32': 'Float32', 'int16': 'Int16', 'uint8': 'Byte'}[c['dtype']]))
    for b in range(c['bands']):
        a = (np.sin(yy / 37.0 + b) * np.cos(xx / 23.0) * 100 + np.random.default_rng(b).normal(0, 3, (size, size)))
        mem.GetRasterBand(b + 1).WriteArray(a.astype(c['dtype']) if c['dtype'] != 'uint8' else (a + 128).clip(0, 255).astype('uint8'))
    gdal.GetDriverByName('COG').CreateCopy('%s/%d.tif' % (out, i), mem, options=c['opts'] + ['BLOCKSIZE=256'])
`;
  gdalPython(script, [String(SIZE), dir, JSON.stringify(CASES)]);
  return CASES.map((_, i) => join(dir, `${i}.tif`));
}

function gdalTimes(paths: string[], win: number): { full: number; window: number }[] {
  const script = `
import sys, json, time
from osgeo import gdal
gdal.UseExceptions()
gdal.SetCacheMax(0)
paths = json.loads(sys.argv[1]); win = int(sys.argv[2]); rep = int(sys.argv[3]); res = []
for p in paths:
    best = [1e9, 1e9]
    for _ in range(rep):
        t = time.perf_counter(); ds = gdal.Open(p); ds.ReadAsArray(); ds = None; best[0] = min(best[0], time.perf_counter() - t)
        t = time.perf_counter(); ds = gdal.Open(p); ds.ReadAsArray(300, 500, win, win); ds = None; best[1] = min(best[1], time.perf_counter() - t)
    res.append({'full': best[0] * 1000, 'window': best[1] * 1000})
print(json.dumps(res))
`;
  return JSON.parse(gdalPython(script, [JSON.stringify(paths), String(win), String(REPEAT)]));
}

async function best(fn: () => Promise<unknown>): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

const WIN = 512;
const paths = makeFiles();
const gdal = gdalTimes(paths, WIN);
const rows: string[] = [];
for (let i = 0; i < paths.length; i++) {
  const p = paths[i];
  const ours = await best(async () => { const f = await openRaster(p); await f.read(); await f.close(); });
  const oursWin = await best(async () => {
    const f = await openRaster(p); await f.read({ window: [slice(500, 500 + WIN), slice(300, 300 + WIN)] }); await f.close();
  });
  const gt = await best(async () => { const t = await fromFile(p); const img = await t.getImage(); await img.readRasters({ interleave: true }); await t.close(); });
  const gtWin = await best(async () => {
    const t = await fromFile(p); const img = await t.getImage();
    await img.readRasters({ interleave: true, window: [300, 500, 300 + WIN, 500 + WIN] }); await t.close();
  });
  rows.push(`| ${CASES[i].name} | ${ours.toFixed(0)} | ${gt.toFixed(0)} | ${gdal[i].full.toFixed(0)} | ${oursWin.toFixed(1)} | ${gtWin.toFixed(1)} | ${gdal[i].window.toFixed(1)} |`);
}
console.log(`\nCOG ${SIZE}x${SIZE}, 256 tiles, best of ${REPEAT} (ms); window ${WIN}x${WIN} at (500, 300), open+read+close\n`);
console.log('| file | ours full | geotiff.js full | GDAL full | ours window | geotiff.js window | GDAL window |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
rmSync(dir, { recursive: true, force: true });
