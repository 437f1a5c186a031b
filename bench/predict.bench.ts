/**
 * `predict` end to end: a 4-video x 10-frame, 600 px georeferenced demo bundle
 * through the built-in heatmap model (window 256, overlap 0.3, edges
 * down-weighted, int16 DEFLATE COGs). Reports windows/s, images/s, peak RSS
 * and where the time goes. Reference measured in the same run: the model
 * alone on the same number of windows (the floor any pipeline pays).
 *
 *   npm run bench -- predict          (BATCH=1 for one window per model call)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CocoDataset } from '../src/coco/dataset.ts';
import { buildHeatmapModel } from '../src/cli/onnx/build-model.ts';
import { loadModel } from '../src/predict/model.ts';
import { runPredict } from '../src/predict/run-predict.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

const VIDEOS = Number(process.env.VIDEOS ?? 4);
const FRAMES = Number(process.env.FRAMES ?? 10);
const SIZE = Number(process.env.SIZE ?? 600);
const WINDOW = 256;
const BATCH = Number(process.env.BATCH ?? 8);

const root = mkdtempSync(join(tmpdir(), 'predict-bench-'));
try {
  let t = performance.now();
  const dset = await CocoDataset.demo('vidshapes-msi', {
    numVideos: VIDEOS, numFrames: FRAMES, imageSize: SIZE, geodata: true, dpath: join(root, 'input'), seed: 0,
  });
  const makeSeconds = (performance.now() - t) / 1000;
  const modelPath = join(root, 'heatmap.onnx');
  writeFileSync(modelPath, buildHeatmapModel(3));

  const rssBefore = peakRssMB();
  t = performance.now();
  const summary = await runPredict({
    src: dset.fpath!, dst: join(root, 'out', 'pred.kwcoco.json'), model: modelPath, channels: 'r|g|b',
    std: [255], window: WINDOW, overlap: 0.3, downweightEdges: true, expectedMinmax: [0, 1], batchSize: BATCH,
  });
  const total = (performance.now() - t) / 1000;
  const peak = peakRssMB();

  // reference: the model alone on as many windows, same batch size
  const model = await loadModel(modelPath);
  const input = new Float32Array(BATCH * 3 * WINDOW * WINDOW).map((_, i) => (i % 251) / 251);
  t = performance.now();
  for (let done = 0; done < summary.windows; done += BATCH) await model.run(input, [BATCH, 3, WINDOW, WINDOW]);
  const modelAlone = (performance.now() - t) / 1000;
  await model.close();

  const s = summary.seconds;
  const share = (x: number) => `${((100 * x) / s.total).toFixed(0)}%`;
  console.log(`bundle: ${VIDEOS} videos x ${FRAMES} frames of ${SIZE}px (made in ${makeSeconds.toFixed(2)} s)`);
  console.log('| what | value |');
  console.log('|---|---|');
  console.log(`| images / windows | ${summary.images} / ${summary.windows} |`);
  console.log(`| total | ${total.toFixed(2)} s |`);
  console.log(`| windows/s | ${(summary.windows / total).toFixed(1)} |`);
  console.log(`| images/s | ${(summary.images / total).toFixed(2)} |`);
  console.log(`| read / model / stitch / write (wait) | ${share(s.read)} / ${share(s.model)} / ${share(s.stitch)} / ${share(s.write)} |`);
  console.log(`| peak RSS (process, incl. the bundle maker before) | ${peak.toFixed(0)} MB (${rssBefore.toFixed(0)} MB before predict) |`);
  console.log(`| reference: model alone, same windows | ${modelAlone.toFixed(2)} s (${(summary.windows / modelAlone).toFixed(1)} windows/s) |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
