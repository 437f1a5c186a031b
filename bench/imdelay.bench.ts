/**
 * Windowed delayed reads: 512x512 windows of video space from a 4096x4096x3
 * uint8 tiled COG whose image sits in its video at scale 2 (so each window
 * needs a 256x256 region of the file, resampled by 2). Reports reads/s for
 * nearest and linear. Reference in the same run: GDAL (Python bindings)
 * reading the same regions with ReadAsArray's resampling to 512x512.
 *
 *   npm run bench -- imdelay
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { GDAL_PYTHON } from '../test/helpers/gdal.ts';
import { Raster } from '../src/array/raster.ts';
import { slice } from '../src/array/slices.ts';
import { writeCog } from '../src/io/cog/write-cog.ts';
import { CocoDataset } from '../src/coco/dataset.ts';

const SIZE = 4096;
const WIN = 512;
const N = 60;
const root = mkdtempSync(join(tmpdir(), 'imdelay-bench-'));

// a smooth pattern plus texture, written as a DEFLATE COG with 256 px tiles
const file = join(root, 'asset.tif');
await writeCog(file, {
  height: SIZE, width: SIZE, bands: 3, dtype: 'uint8',
  readBlock: (y0, x0, h, w) => {
    const r = Raster.zeros([h, w, 3], 'uint8');
    const d = r.data;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        d[i] = (x0 + x) & 255; d[i + 1] = (y0 + y) & 255; d[i + 2] = ((x0 + x) ^ (y0 + y)) & 255;
      }
    }
    return r;
  },
}, { blocksize: 256 });

const dset = CocoDataset.fromJSON({
  videos: [{ id: 1, name: 'v', width: 2 * SIZE, height: 2 * SIZE }],
  images: [{ id: 1, name: 'im', file_name: null, width: SIZE, height: SIZE, video_id: 1, frame_index: 0,
    warp_img_to_vid: { scale: 2, type: 'affine' },
    assets: [{ file_name: 'asset.tif', channels: 'r|g|b', width: SIZE, height: SIZE, warp_aux_to_img: { type: 'affine' } }] }],
}, { bundleDpath: root });
const image = dset.cocoImage(1);

// the same pseudo-random window origins for us and for GDAL (multiples of 2 so GDAL's source region is whole pixels)
const origins: [number, number][] = [];
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
for (let i = 0; i < N; i++) origins.push([2 * Math.floor(rand() * (SIZE - WIN / 2)), 2 * Math.floor(rand() * (SIZE - WIN / 2))]);

const rows: string[] = [];
for (const interpolation of ['nearest', 'linear'] as const) {
  const delayed = image.imdelay({ channels: 'r|g|b', space: 'video', interpolation });
  await delayed.crop([slice(0, WIN), slice(0, WIN)]).finalize(); // warm-up
  const t = performance.now();
  for (const [y, x] of origins) await delayed.crop([slice(y, y + WIN), slice(x, x + WIN)]).finalize();
  const s = (performance.now() - t) / 1000;
  rows.push(`| ours, ${interpolation} | ${(N / s).toFixed(1)} | ${((1000 * s) / N).toFixed(1)} |`);
}

const py = `
import sys, time, json
from osgeo import gdal
gdal.UseExceptions()
origins = json.loads(sys.argv[2]); win = int(sys.argv[3])
for cache in ['default block cache', 'block cache off']:
    if cache == 'block cache off':
        gdal.SetCacheMax(0)
    for alg, name in [(gdal.GRIORA_NearestNeighbour, 'nearest'), (gdal.GRIORA_Bilinear, 'linear')]:
        ds = gdal.Open(sys.argv[1])
        ds.ReadAsArray(0, 0, win // 2, win // 2, buf_xsize=win, buf_ysize=win, resample_alg=alg)
        t = time.perf_counter()
        for y, x in origins:
            ds.ReadAsArray(x // 2, y // 2, win // 2, win // 2, buf_xsize=win, buf_ysize=win, resample_alg=alg)
        s = time.perf_counter() - t
        print(f"| GDAL ReadAsArray, {name}, {cache} | {len(origins) / s:.1f} | {1000 * s / len(origins):.1f} |")
        ds = None
`;
const gdal = spawnSync(GDAL_PYTHON, ['-c', py, file, JSON.stringify(origins), String(WIN)], { encoding: 'utf8' });
if (gdal.status !== 0) rows.push(`| GDAL reference failed | ${gdal.stderr.trim().split('\n').pop()} | |`);
else rows.push(...gdal.stdout.trim().split('\n'));

console.log(`${N} windows of ${WIN}x${WIN} video space from a ${SIZE}x${SIZE}x3 uint8 COG (256 px tiles, DEFLATE) at video scale 2`);
console.log('| reader | reads/s | ms/read |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
rmSync(root, { recursive: true, force: true });
