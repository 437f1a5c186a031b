/**
 * The predict pipeline: plan the windows of every image (plan.ts), read them
 * ahead of the model (read-ahead.ts), run the model in batches on its own
 * thread (model-stage.ts), stitch the outputs (stitch-stage.ts) and finalize
 * each image as soon as its last window is in (write-stage.ts); the output
 * is checked before the work and the manifest settled after it (output.ts).
 * Stops cleanly on an AbortSignal: images already finalized stay
 * registered, nothing half-written is kept. Runs of one process may share
 * a turn at the model, the writer queue and the parsed src (SharedRun).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CocoDataset } from '../coco/dataset.ts';
import { sanitizeRelDir } from '../stitch/asset-naming.ts';
import { PartialResultError } from './errors.ts';
import { loadSource } from './load-source.ts';
import { loadModel, type Model } from './model.ts';
import { applyModelInput, modelInputSize } from './model-input.ts';
import { ModelStage } from './model-stage.ts';
import { settle, type PredictOptions, type PredictSummary } from './options.ts';
import { checkOutput, moveToOutput, removeStaleTemps, replaceOlderAssets } from './output.ts';
import { batchPlan, defaultSpace, imageLabel, missingChannelsWarning, planImages, plannedWindows, windowCount } from './plan.ts';
import { createProgress } from './progress.ts';
import { ReadAhead } from './read-ahead.ts';
import { StitchStage } from './stitch-stage.ts';
import { WriteStage } from './write-stage.ts';

export type { PredictOptions, PredictProgress, PredictSummary, SharedRun } from './options.ts';

function now(): number { return performance.now() / 1000; }

function isModel(m: PredictOptions['model']): m is Model {
  return typeof m === 'object' && m !== null && !(m instanceof Uint8Array) && typeof (m as Model).run === 'function';
}

/** Runs a model over a kwcoco dataset and writes the stitched predictions. */
export async function runPredict(opts: PredictOptions): Promise<PredictSummary> {
  const t0 = now();
  const s0 = settle(opts);
  const dst = resolve(opts.dst);
  const assetFolder = join('_assets', sanitizeRelDir(s0.shortCode, '--short-code'));
  checkOutput(opts.dst, assetFolder);
  removeStaleTemps(dst, assetFolder);
  if (typeof opts.memmap === 'string') await mkdir(opts.memmap, { recursive: true });

  const shared = opts.shared ?? {};
  const src = await (shared.loadSource ?? loadSource)(opts.src, { dst: opts.dst, channels: opts.srcChannels });
  const result = src.copy();
  moveToOutput(result, dst);
  if (opts.space === undefined) s0.space = defaultSpace(result);
  // planned before the model is loaded, so bad options fail at once; again if the model's fixed input changes the window
  let plans = planImages(result, s0, { memmap: Boolean(opts.memmap) });
  const model = isModel(opts.model) ? opts.model : await loadModel(opts.model, { threads: opts.threads });
  const ownModel = model !== opts.model;
  let s = s0;
  let batchSize: number;
  let prefetch: number;
  const inputSize = (h: number, w: number) => modelInputSize(s, h, w);
  try {
    s = applyModelInput(s0, model.inputShape, typeof opts.model === 'string' ? opts.model : opts.model instanceof Uint8Array ? '<given as bytes>' : '<given as a Model>');
    if (s.windowShape[0] !== s0.windowShape[0] || s.windowShape[1] !== s0.windowShape[1]) plans = planImages(result, s, { memmap: Boolean(opts.memmap) });
    ({ batchSize, prefetch } = batchPlan(plans, s, inputSize));
  } catch (err) {
    if (ownModel) await model.close();
    throw err;
  }
  const windowsTotal = windowCount(plans);
  const imagesTotal = plans.length;

  const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m, 'CocoStitcherWarning'));
  const lacking = missingChannelsWarning(plans, result, s);
  if (lacking) warn(lacking);
  const progress = createProgress(opts.progress ?? false);
  const windowsBar = progress.bar('windows', windowsTotal);
  const imagesBar = progress.bar('images', imagesTotal);
  const seconds = { total: 0, read: 0, model: 0, stitch: 0, write: 0 };
  const emptyImages: number[] = [];
  const report = () => opts.onProgress?.({ windowsDone: stitch.windowsDone, windowsTotal, imagesDone: write.written.length, imagesTotal });

  const stitch = new StitchStage(result, {
    shortCode: s.shortCode, chanCode: opts.chanCode, space: s.space, inputScale: s.inputScale, outputScale: s.outputScale,
    downweightEdges: opts.downweightEdges ?? false, nanPolicy: s.nanPolicy, infPolicy: s.infPolicy, memmap: opts.memmap ?? false,
    manager: {
      probFormat: opts.probFormat ?? 'cog', probCompress: opts.compress ?? 'DEFLATE', quantize: opts.quantize ?? true,
      expectedMinmax: opts.expectedMinmax,
    },
  });
  const write = new WriteStage((gid) => {
    imagesBar.increment();
    const empty = stitch.emptyWarning(gid);
    if (empty) { emptyImages.push(gid); warn(empty); }
    report();
  }, shared.writerQueue);
  const modelStage = new ModelStage(model, {
    nIn: s.inChannels.numel(), scale: s.scale, mean: s.mean, std: s.std, batchSize, fixedBatch: s.fixedBatch ?? false,
    outputScale: s.outputScale, inputSize, label: (gid) => imageLabel(result, gid),
    onOutput: async (out) => {
      stitch.add(out);
      windowsBar.increment(out.windows.length);
      report();
      await write.finalizeReady(stitch.manager!);
    },
  });
  const reader = new ReadAhead(result, plannedWindows(plans), s.inChannels.spec, s.inputScale, prefetch);

  let interrupted = false;
  let failure: unknown;
  try {
    // the first windows are read while an earlier run of the process still has the model
    reader.fill();
    await shared.modelTurn?.ready;
    for (;;) {
      if (opts.signal?.aborted) { interrupted = true; break; }
      const t = now();
      const next = await reader.next();
      seconds.read += now() - t;
      if (!next) break;
      await modelStage.add(next.window, next.raster);
    }
  } catch (err) {
    failure = err;
  }
  // the batch being filled is dropped after an interrupt or a failure; the one in the model is stitched
  if (interrupted || failure !== undefined) modelStage.discard();
  await modelStage.settle().catch((err: unknown) => { failure ??= err; });
  // the model is free for the next run while this one's last images are written
  shared.modelTurn?.release();
  await reader.drain();
  // finish what was handed to the writer, even after an error or an interrupt
  await write.drain();
  failure ??= write.failure;
  progress.stop();
  stitch.manager?.dispose();
  if (ownModel) await model.close();

  const chanCode = stitch.chanCode;
  if (chanCode) replaceOlderAssets(result, write.written, chanCode);
  const assets: string[] = [];
  if (chanCode) {
    for (const gid of result.imageIds()) {
      const img = result.index.imgs.get(gid);
      const list = (img?.assets ?? img?.auxiliary ?? []) as { file_name: string; channels?: string }[];
      for (const a of list) if (a.channels === chanCode) assets.push(resolve(dirname(dst), a.file_name));
    }
  }
  const done = new Set(write.written);
  seconds.model = modelStage.waited;
  seconds.stitch = stitch.seconds;
  seconds.write = write.seconds;
  const summary: PredictSummary = {
    dst, space: s.space, images: write.written.length, windows: stitch.windowsDone, interrupted, assets, dataset: result,
    emptyImages, notWritten: plans.map((p) => p.gid).filter((g) => !done.has(g)), seconds,
  };
  const regionReport = s.region && done.has(s.region.imageId) ? stitch.manager?.finalizeInfo(s.region.imageId)?.region : undefined;
  if (regionReport) summary.region = regionReport;
  if (failure !== undefined && write.written.length === 0) throw failure;
  if (opts.writeManifest ?? true) await result.dump(dst);
  seconds.total = now() - t0;
  if (failure !== undefined) {
    summary.failed = failure;
    const why = (failure as Error)?.message ?? String(failure);
    throw new PartialResultError(
      `${why} (${write.written.length} of ${imagesTotal} image(s) were written and registered in ${dst} before the failure)`,
      summary, { cause: failure },
    );
  }
  return summary;
}
