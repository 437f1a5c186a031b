/**
 * `coco-stitcher demo`: the main job end to end on built-in data. Makes a
 * georeferenced multispectral demo bundle, runs a small built-in ONNX model
 * over it with a sliding window, stitches and writes COGs, registers them in
 * a manifest, validates it and renders pictures.
 */
import { Command } from 'commander';
import { mkdir, readdir, rm, writeFile, access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CocoDataset } from '../../coco/dataset.ts';
import { openRaster } from '../../io/read-raster.ts';
import { buildHeatmapModel } from '../onnx/build-model.ts';
import { runVisualize } from '../visualize/run-visualize.ts';
import { validateBundle } from '../validate/validate-bundle.ts';
import { parseNumber } from '../parse.ts';
import { CliExit, EXIT } from '../exit.ts';
import { cliIo } from '../io.ts';
import { InternalError } from '../../array/errors.ts';
import { UsageError } from '../errors.ts';

const MARKER = '.coco-stitcher-demo';

export interface DemoOptions {
  out: string;
  videos: number;
  frames: number;
  size: number;
  window: number;
  progress: boolean;
  log: (line: string) => void;
}

/** Prepares the output folder: refuses a non-empty folder that is not an earlier demo's. */
async function prepareOut(out: string): Promise<void> {
  const entries = await readdir(out).catch(() => null);
  if (entries && entries.length > 0 && !entries.includes(MARKER)) {
    throw new UsageError(`--out ${out} is not empty and was not made by coco-stitcher demo; choose another folder`);
  }
  for (const e of entries ?? []) await rm(join(out, e), { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await writeFile(join(out, MARKER), 'made by coco-stitcher demo; the folder is replaced on the next run\n');
}

/** A gdalinfo-like summary of one raster, read with our own reader. */
async function describe(path: string): Promise<string[]> {
  const r = await openRaster(path);
  try {
    const lines = [`  size ${r.width} x ${r.height}, ${r.bands} band(s) of ${r.dtype}`];
    if (r.epsg) lines.push(`  CRS EPSG:${r.epsg}`);
    if (r.transform) {
      const [c, a, b, f, d, e] = r.transform.toGdal();
      lines.push(`  origin (${c.toFixed(3)}, ${f.toFixed(3)}), pixel size (${a.toFixed(4)}, ${e.toFixed(4)})${b || d ? ', rotated' : ''}`);
    }
    if (r.overviews.length) lines.push(`  overviews ${r.overviews.map((o) => `${o.width}x${o.height}`).join(', ')}`);
    if (r.nodata !== null) lines.push(`  nodata ${r.nodata}`);
    for (const [k, v] of Object.entries(r.metadata)) lines.push(`  metadata ${k}=${v}`);
    return lines;
  } finally {
    await r.close();
  }
}

/** Runs the demo and returns the output manifest path. */
export async function runDemo(o: DemoOptions): Promise<string> {
  const t0 = performance.now();
  const out = resolve(o.out);
  await prepareOut(out);
  const log = o.log;

  log(`1/5 making demo data: ${o.videos} video(s) x ${o.frames} frame(s) of ${o.size}px, georeferenced`);
  const inputDir = join(out, 'input');
  const input = await CocoDataset.demo('vidshapes-msi', {
    numVideos: o.videos, numFrames: o.frames, imageSize: o.size, geodata: true, dpath: inputDir, seed: 0,
  });
  const src = input.fpath ?? join(inputDir, 'data.kwcoco.json');
  await access(src);

  log('2/5 building the built-in ONNX model (5x5 smoothing of (r+g)/2 + softmax: background|shapes)');
  const modelPath = join(out, 'heatmap.onnx');
  // the demo's background is blue: red and green tell the shapes apart from it
  await writeFile(modelPath, buildHeatmapModel(3, 0.34, 40, [1, 1, 0]));

  log(`3/5 predicting with a ${o.window}px window, overlap 0.3, edges down-weighted`);
  const dst = join(out, 'predicted.kwcoco.json');
  const { runPredict } = await import('../../predict/run-predict.ts');
  const summary = await runPredict({
    src, dst, model: modelPath, channels: 'r|g|b', std: [255], chanCode: 'background|shapes',
    window: o.window, overlap: 0.3, downweightEdges: true, shortCode: 'heatmap',
    expectedMinmax: [0, 1], progress: o.progress,
  });

  log('4/5 validating the output manifest and every asset');
  const problems = await validateBundle(dst);
  for (const p of problems) log(`  problem: ${p.where}: ${p.message}`);
  if (problems.length) throw new InternalError(`the demo output has ${problems.length} problem(s); see above`);
  log('  valid: schema, files, sizes, band counts, COG layout, quantization');

  log('5/5 rendering pictures');
  const vis = await runVisualize({ src: dst, channels: 'shapes', out: join(out, 'visualize') });

  const s = summary.seconds;
  log('');
  log(`wrote ${summary.assets.length} COG(s) from ${summary.windows} windows in ${s.total.toFixed(2)} s `
    + `(read ${s.read.toFixed(2)}, model ${s.model.toFixed(2)}, stitch ${s.stitch.toFixed(2)}, write ${s.write.toFixed(2)})`);
  log(`manifest: ${relative(process.cwd(), dst) || dst}`);
  if (summary.assets[0]) {
    log(`first COG: ${relative(process.cwd(), summary.assets[0])}`);
    for (const line of await describe(summary.assets[0])) log(line);
  }
  log(`pictures: ${relative(process.cwd(), vis.sheets[0] ?? vis.images[0] ?? '')} (+${vis.images.length + vis.sheets.length - 1} more in ${relative(process.cwd(), join(out, 'visualize'))})`);
  log('open them:');
  log(`  gdalinfo ${relative(process.cwd(), summary.assets[0] ?? dst)}`);
  log(`  QGIS: drag the .tif files from ${relative(process.cwd(), join(out, '_assets', 'heatmap'))} onto the map`);
  log(`  Python: kwcoco.CocoDataset('${dst}').coco_image(1).imdelay('shapes').finalize()`);
  log(`  coco-stitcher validate ${relative(process.cwd(), dst)}`);
  log(`total ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return dst;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the whole job on built-in demo data: make data, predict with a built-in ONNX model, stitch, write COGs, validate, visualize')
    .option('--out <dir>', 'output folder (replaced on the next run)', 'coco-stitcher-demo')
    .option('--videos <n>', 'number of videos', parseNumber('videos'), 2)
    .option('--frames <n>', 'frames per video', parseNumber('frames'), 3)
    .option('--size <px>', 'image size', parseNumber('size'), 256)
    .option('--window <px>', 'window size', parseNumber('window'), 128)
    .option('--no-progress', 'no progress bars')
    .action(async (o) => {
      try {
        await runDemo({ ...o, log: (line: string) => cliIo.out(`${line}\n`) });
      } catch (err) {
        if (err instanceof CliExit) throw err;
        cliIo.err(`coco-stitcher demo: ${(err as Error).message}\n`);
        throw new CliExit(EXIT.usage);
      }
    });
}
