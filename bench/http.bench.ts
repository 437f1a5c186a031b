/**
 * Delayed reads (`imdelay(...).crop(...).finalize()`) of 256x256 windows of
 * a 4096x4096x3 uint8 DEFLATE COG (256 px tiles) on local disk vs. the same
 * file served by nginx on loopback through HTTP range requests: windows/s,
 * and bytes and requests fetched per window (counted in nginx's access log).
 * Two patterns: a sliding window with 30% overlap along tile rows (as
 * predict reads; the tile cache keeps shared tiles), and random windows
 * with the tile cache off (every window fetches its tiles), one at a time
 * and 4 at a time (predict reads ahead of the model, so round trips overlap).
 *
 *   npm run bench -- http
 */
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { Raster } from '../src/array/raster.ts';
import { slice } from '../src/array/slices.ts';
import { writeCog } from '../src/io/cog/write-cog.ts';
import { CocoDataset } from '../src/coco/dataset.ts';
import { sharedRasterFiles } from '../src/io/raster-file-cache.ts';
import { setTileCacheBytes } from '../src/io/tiff-read/tile-cache.ts';
import { httpStats } from '../src/io/http-request.ts';
import { nginxMissing, startNginx } from '../test/helpers/nginx.ts';

const missing = nginxMissing();
if (missing) {
  console.log(`skipped: ${missing}`);
  process.exit(0);
}

const SIZE = 4096;
const WIN = 256;
const nginx = await startNginx();
const file = join(nginx.root, 'scene.tif');
let seed = 99;
await writeCog(file, {
  height: SIZE, width: SIZE, bands: 3, dtype: 'uint8',
  readBlock: (y0, x0, h, w) => {
    const r = Raster.zeros([h, w, 3], 'uint8');
    const d = r.data;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        const n = seed >>> 28; // texture, so tiles do not compress to nothing
        d[i] = ((x0 + x) + n) & 255; d[i + 1] = ((y0 + y) + n) & 255; d[i + 2] = ((x0 + x) ^ (y0 + y)) & 255;
      }
    }
    return r;
  },
}, { blocksize: 256, overviews: 2 });
const fileBytes = statSync(file).size;

function manifest(fileName: string): CocoDataset {
  return CocoDataset.fromJSON({
    images: [{ id: 1, name: 'im', file_name: null, width: SIZE, height: SIZE,
      assets: [{ file_name: fileName, channels: 'r|g|b', width: SIZE, height: SIZE }] }],
  }, { bundleDpath: nginx.root });
}

const stride = Math.round(WIN * 0.7);
const sliding: [number, number][] = [];
for (let y = 0; y + WIN <= 3 * WIN; y += stride) for (let x = 0; x + WIN <= SIZE; x += stride) sliding.push([y, x]);
const random: [number, number][] = [];
let r = 12345;
const rand = () => ((r = (Math.imul(r, 1103515245) + 12345) >>> 0) / 2 ** 32);
for (let i = 0; i < 60; i++) random.push([Math.floor(rand() * (SIZE - WIN)), Math.floor(rand() * (SIZE - WIN))]);

const rows: string[] = [];
const patterns = [
  ['sliding, 30% overlap', sliding, 64, 1], ['random, tile cache off', random, 0, 1], ['random, tile cache off, 4 at a time', random, 0, 4],
] as const;
for (const [pattern, origins, cacheMb, parallel] of patterns) {
  for (const [where, name] of [['local disk', 'scene.tif'], ['nginx, loopback', `${nginx.url}/scene.tif`]] as const) {
    setTileCacheBytes(cacheMb * 2 ** 20);
    await sharedRasterFiles.closeAll();
    const image = manifest(name).cocoImage(1);
    const delayed = image.imdelay({ channels: 'r|g|b', space: 'image' });
    await delayed.crop([slice(SIZE - WIN, SIZE), slice(SIZE - WIN, SIZE)]).finalize(); // open the file (header)
    nginx.clearLog();
    const before = { ...httpStats };
    const t = performance.now();
    let next = 0;
    const reader = async () => {
      while (next < origins.length) {
        const [y, x] = origins[next++];
        await delayed.crop([slice(y, y + WIN), slice(x, x + WIN)]).finalize();
      }
    };
    await Promise.all(Array.from({ length: parallel }, reader));
    const s = (performance.now() - t) / 1000;
    const log = nginx.log();
    const served = log.reduce((n, l) => n + l.bytes, 0);
    const n = origins.length;
    const remote = where !== 'local disk';
    if (remote && httpStats.bytes - before.bytes !== served) throw new Error(`our count ${httpStats.bytes - before.bytes} != nginx's ${served}`);
    rows.push(`| ${pattern} | ${where} | ${(n / s).toFixed(1)} | ${remote ? (served / n / 1024).toFixed(1) : '-'} | ${remote ? (log.length / n).toFixed(2) : '-'} |`);
  }
}
await sharedRasterFiles.closeAll();
await nginx.stop();

console.log(`\n4096x4096x3 uint8 COG, DEFLATE, 256 px tiles: ${(fileBytes / 2 ** 20).toFixed(1)} MiB; ${WIN}x${WIN} windows (${sliding.length} sliding, ${random.length} random)\n`);
console.log('| windows | file | windows/s | KiB fetched / window | requests / window |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
