/**
 * Loading a 10,000-image kwcoco manifest (100 videos x 100 frames, 4 assets
 * per image, 3 annotations with polygons per image): CocoDataset.load (JSON
 * and zip) and dump, against the naive baseline readFile + JSON.parse in the
 * same run. Each measurement runs in its own process so its peak RSS is its
 * own; times are the median of 3 processes.
 *
 *   npm run bench -- dataset
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CocoDataset } from '../src/coco/dataset.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

const NUM_VIDEOS = 100;
const FRAMES = 100;
const REPEATS = 3;

function generate(): Record<string, unknown> {
  const videos = [];
  const images = [];
  const annotations = [];
  const categories = ['building', 'road', 'water', 'field', 'change'].map((name, i) => ({ id: i + 1, name }));
  let gid = 0;
  let aid = 0;
  for (let v = 1; v <= NUM_VIDEOS; v++) {
    videos.push({ id: v, name: `video_${v}`, width: 1000, height: 800, target_gsd: 10 });
    for (let f = 0; f < FRAMES; f++) {
      gid++;
      images.push({
        id: gid, file_name: null, name: `video_${v}_frame_${f}`, video_id: v, frame_index: f,
        width: 1000, height: 800, sensor: f % 2 ? 'S2' : 'L8', date_captured: `2020-01-${String((f % 28) + 1).padStart(2, '0')}`,
        warp_img_to_vid: { scale: 1.0, type: 'affine' },
        assets: [
          { file_name: `_assets/v${v}/f${f}_rgb.tif`, channels: 'red|green|blue', width: 1000, height: 800, warp_aux_to_img: { type: 'affine' } },
          { file_name: `_assets/v${v}/f${f}_nir.tif`, channels: 'nir', width: 500, height: 400, warp_aux_to_img: { scale: 2.0, type: 'affine' } },
          { file_name: `_assets/v${v}/f${f}_swir.tif`, channels: 'swir16|swir22', width: 500, height: 400, warp_aux_to_img: { scale: 2.0, type: 'affine' } },
          { file_name: `_assets/v${v}/f${f}_feat.tif`, channels: 'feat.0:8', width: 250, height: 200, warp_aux_to_img: { scale: 4.0, offset: [0.5, 0.25], type: 'affine' },
            quantization: { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 } },
        ],
      });
      for (let k = 0; k < 3; k++) {
        aid++;
        const x = (aid * 37) % 900;
        const y = (aid * 53) % 700;
        annotations.push({
          id: aid, image_id: gid, category_id: (aid % 5) + 1, track_id: (v - 1) * 3 + k + 1, score: 0.5 + (aid % 50) / 100,
          bbox: [x, y, 60.5, 40.25],
          segmentation: { exterior: [[x, y], [x + 60.5, y], [x + 60.5, y + 40.25], [x + 30, y + 50], [x, y + 40.25]], interiors: [] },
        });
      }
    }
  }
  return { info: [], licenses: [], categories, videos, images, annotations };
}

interface Measure { ms: number; maxRssMB: number; heapMB: number }

async function child(mode: string, path: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const t0 = performance.now();
  let keep: unknown;
  if (mode === 'naive') {
    const data = JSON.parse(await readFile(path, 'utf8')) as { images: { id: number }[] };
    const imgs = new Map(data.images.map((g) => [g.id, g]));
    keep = [data, imgs];
  } else if (mode === 'load' || mode === 'load-zip') {
    keep = await CocoDataset.load(path);
  } else if (mode === 'dump') {
    const dset = await CocoDataset.load(path);
    const t1 = performance.now();
    await dset.dump(join(dirname(path), `dump-${process.pid}.kwcoco.json`));
    const ms = performance.now() - t1;
    rmSync(join(dirname(path), `dump-${process.pid}.kwcoco.json`), { force: true });
    gc?.();
    process.stdout.write(JSON.stringify({ ms, maxRssMB: peakRssMB(), heapMB: process.memoryUsage().heapUsed / 2 ** 20 }));
    return;
  }
  const ms = performance.now() - t0;
  gc?.();
  const out: Measure = { ms, maxRssMB: peakRssMB(), heapMB: process.memoryUsage().heapUsed / 2 ** 20 };
  if (!keep) throw new Error('nothing loaded');
  process.stdout.write(JSON.stringify(out));
}

function runChild(mode: string, path: string): Measure {
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, path], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${mode} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Measure;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coco-bench-'));
  try {
    const dset = CocoDataset.fromJSON(generate(), { bundleDpath: dir });
    const jsonPath = join(dir, 'big.kwcoco.json');
    const zipPath = join(dir, 'big.kwcoco.zip');
    await dset.dump(jsonPath);
    await dset.dump(zipPath);
    const mb = (p: string) => (statSync(p).size / 2 ** 20).toFixed(1);
    console.log(`manifest: ${dset.index.imgs.size} images, ${dset.index.videos.size} videos, ${dset.index.anns.size} annotations, ` +
      `4 assets/image; ${mb(jsonPath)} MB json, ${mb(zipPath)} MB zip; node ${process.version}\n`);
    const rows: [string, string, string][] = [
      ['naive: readFile + JSON.parse + Map of images', 'naive', jsonPath],
      ['CocoDataset.load (.kwcoco.json)', 'load', jsonPath],
      ['CocoDataset.load (.kwcoco.zip)', 'load-zip', zipPath],
      ['dump (.kwcoco.json, same folder, after load)', 'dump', jsonPath],
    ];
    console.log('| what | time (median of 3) | peak RSS | heap after |');
    console.log('|---|---|---|---|');
    for (const [label, mode, path] of rows) {
      const ms: Measure[] = [];
      for (let i = 0; i < REPEATS; i++) ms.push(runChild(mode, path));
      console.log(`| ${label} | ${median(ms.map((m) => m.ms)).toFixed(0)} ms | ${median(ms.map((m) => m.maxRssMB)).toFixed(0)} MB | ${median(ms.map((m) => m.heapMB)).toFixed(0)} MB |`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await main();
