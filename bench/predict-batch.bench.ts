/**
 * The model call at batch 1 / 2 / 4 / 8 and windows of 256, 512 and 960 px,
 * on the built-in heatmap model (one 5x5 conv + softmax) and on a model with
 * real convolutions (four 3x3 conv layers, 3 -> 16 -> 16 -> 16 -> 2, ReLU).
 * Each case runs in its own process (peak RSS is per process): the model is
 * loaded on its worker thread as predict does, run once at the batch size
 * (onnxruntime sizes its buffers on the first run), then timed over the
 * same windows for every batch size (as many pixels as 8 windows of 512 px). Batch 1 of the same window, in the same
 * run, is the reference each row is compared with.
 *
 *   npm run bench -- predict-batch          (WINDOWS=256,512 BATCHES=1,8 MODELS=conv to narrow)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildHeatmapModel, buildOnnxModel, attr } from '../src/cli/onnx/build-model.ts';
import { loadModel } from '../src/predict/model.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';

/** windows per case: the pixels of 8 windows of 512 px (at least 8 windows), so small windows are timed over enough calls */
const nWindows = (window: number) => Math.max(8, Math.round((8 * 512 * 512) / (window * window) / 8) * 8);

/** Four 3x3 conv layers with ReLU between them: a small real segmentation head. */
export function buildConvStack(inC: number, widths: readonly number[] = [16, 16, 16, 2]): Uint8Array {
  const nodes = [];
  const initializers = [];
  let prev = 'x';
  let c = inC;
  let seed = 1;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  for (let i = 0; i < widths.length; i++) {
    const o = widths[i];
    const w = new Float32Array(o * c * 9).map(() => rnd() / Math.sqrt(c * 9));
    initializers.push({ name: `w${i}`, dims: [o, c, 3, 3], data: w }, { name: `b${i}`, dims: [o], data: new Float32Array(o) });
    const out = i === widths.length - 1 ? 'y' : `h${i}`;
    const conv = i === widths.length - 1 ? out : `c${i}`;
    nodes.push({ op: 'Conv', inputs: [prev, `w${i}`, `b${i}`], outputs: [conv], attributes: { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) } });
    if (i < widths.length - 1) nodes.push({ op: 'Relu', inputs: [conv], outputs: [out] });
    prev = out;
    c = o;
  }
  return buildOnnxModel({
    name: 'conv-stack', nodes, initializers,
    inputs: [{ name: 'x', shape: ['N', inC, 'H', 'W'] }],
    outputs: [{ name: 'y', shape: ['N', c, 'H', 'W'] }],
  });
}

async function child(modelName: string, window: number, batch: number): Promise<void> {
  const bytes = modelName === 'heatmap' ? buildHeatmapModel(3) : buildConvStack(3);
  const model = await loadModel(bytes);
  const input = new Float32Array(batch * 3 * window * window).map((_, i) => (i % 251) / 251);
  const dims = [batch, 3, window, window] as const;
  await model.run(input, dims);
  const t = performance.now();
  for (let done = 0; done < nWindows(window); done += batch) await model.run(input, dims);
  const seconds = (performance.now() - t) / 1000;
  await model.close();
  console.log(JSON.stringify({ seconds, peak: peakRssMB() }));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
} else {
  const list = (v: string | undefined, d: string) => (v ?? d).split(',');
  const models = list(process.env.MODELS, 'heatmap,conv');
  const windows = list(process.env.WINDOWS, '256,512,960').map(Number);
  const batches = list(process.env.BATCHES, '1,2,4,8').map(Number);
  const self = fileURLToPath(import.meta.url);
  console.log(`${windows.map((w) => `${nWindows(w)} windows of ${w} px`).join(', ')} per case; ms per window and peak RSS (ratio to batch 1 of the same model and window)`);
  console.log('| model | window | batch | ms / window | peak RSS MB |');
  console.log('|---|---|---|---|---|');
  for (const m of models) {
    for (const w of windows) {
      let ref: { seconds: number; peak: number } | null = null;
      for (const b of batches) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', m, String(w), String(b)], { encoding: 'utf8' });
        if (r.status !== 0) { console.log(`| ${m} | ${w} | ${b} | failed: ${r.stderr.trim().split('\n').at(-1)} | |`); continue; }
        const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { seconds: number; peak: number };
        ref ??= got;
        const ms = (1000 * got.seconds) / nWindows(w);
        console.log(`| ${m} | ${w} | ${b} | ${ms.toFixed(1)} (${(got.seconds / ref.seconds).toFixed(2)}x) | ${got.peak.toFixed(0)} (${(got.peak / ref.peak).toFixed(2)}x) |`);
      }
    }
  }
}
