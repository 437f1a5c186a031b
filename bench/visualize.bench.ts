/**
 * visualize over many small images (64 px, one video of all frames, one
 * asset file pair per image): milliseconds per image and peak RSS at 1,000
 * and 4,000 images, each in its own process. Linear work means the same
 * time per image and a peak RSS that does not grow with the count (contact
 * sheets are written as they fill, so one sheet's thumbnails are held).
 *
 *   npm run bench -- visualize            (VISUALIZE_BENCH_COUNTS=1000,20000 for other sizes)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Raster } from '../src/array/raster.ts';
import { writeCog } from '../src/io/cog/write-cog.ts';
import { runVisualize } from '../src/cli/visualize/run-visualize.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

const S = 64;

async function one(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'visualize-bench-'));
  try {
    await writeCog(join(dir, 'rgb.tif'), new Raster(Uint8Array.from({ length: S * S * 3 }, (_, i) => (i * 7) % 256), [S, S, 3]), { compress: 'NONE', overviews: [] });
    await writeCog(join(dir, 'pred.tif'), new Raster(Float32Array.from({ length: S * S }, (_, i) => (i % 17) / 17), [S, S, 1]), { compress: 'NONE', overviews: [] });
    const images = [];
    for (let i = 1; i <= n; i++) {
      copyFileSync(join(dir, 'rgb.tif'), join(dir, `rgb${i}.tif`));
      copyFileSync(join(dir, 'pred.tif'), join(dir, `pred${i}.tif`));
      images.push({ id: i, name: `img${i}`, width: S, height: S, video_id: 1, frame_index: i,
        assets: [{ file_name: `rgb${i}.tif`, channels: 'r|g|b', width: S, height: S }, { file_name: `pred${i}.tif`, channels: 'pred.0', width: S, height: S }] });
    }
    writeFileSync(join(dir, 'data.kwcoco.json'), JSON.stringify({ videos: [{ id: 1, name: 'v', width: S, height: S }], images, categories: [] }));
    const rss0 = peakRssMB();
    const t = performance.now();
    const res = await runVisualize({ src: join(dir, 'data.kwcoco.json'), channels: 'pred.0', out: join(dir, 'vis') });
    const ms = performance.now() - t;
    console.log(`${String(n).padStart(6)} images: ${(ms / 1000).toFixed(1)} s, ${(ms / n).toFixed(2)} ms per image, ${res.sheets.length} sheet(s), peak RSS ${peakRssMB().toFixed(0)} MB (${rss0.toFixed(0)} MB before)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const arg = process.argv[2];
if (arg) {
  await one(Number(arg));
} else {
  const counts = (process.env.VISUALIZE_BENCH_COUNTS ?? '1000,4000').split(',').map(Number);
  for (const n of counts) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(n)], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
