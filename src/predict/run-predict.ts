/**
 * The predict pipeline: slide a window over every frame, read each window
 * through the delayed loader, run the model in batches, stitch the outputs
 * with a CocoStitchingManager and finalize each image as soon as its last
 * window is in. Stops cleanly on an AbortSignal: images already finalized
 * stay registered, nothing half-written is kept.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Raster } from '../array/raster.ts';
import { SlidingWindow } from '../array/sliding-window.ts';
import { slice, type SpaceSlice } from '../array/slices.ts';
import { CocoDataset } from '../coco/dataset.ts';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import { CocoStitchingManager } from '../stitch/manager.ts';
import { loadModel, type Model } from './model.ts';
import { readInputWindow } from './read-window.ts';
import { createProgress } from './progress.ts';

export interface PredictOptions {
  /** input manifest */
  src: string;
  /** output manifest; new assets go to {dirname(dst)}/_assets/{shortCode}/ */
  dst: string;
  /** ONNX model: a path, the model's bytes, or a loaded model (which the caller keeps and closes) */
  model: string | Uint8Array | Model;
  /** input channel code, e.g. 'r|g|b' */
  channels: string;
  /** output channel code; default `{shortCode}.0|...|{shortCode}.{C-1}` from the model's output */
  chanCode?: string;
  window?: number;
  overlap?: number;
  space?: 'video' | 'image';
  /** windows are read at this scale of the stitching space */
  inputScale?: number;
  /** model output size relative to its input */
  outputScale?: number;
  batchSize?: number;
  downweightEdges?: boolean;
  probFormat?: 'cog' | 'tif' | 'png';
  compress?: 'DEFLATE' | 'LZW' | 'ZSTD' | 'NONE';
  quantize?: boolean;
  expectedMinmax?: [number, number];
  shortCode?: string;
  memmap?: boolean | string;
  threads?: number;
  /** per input channel: x' = (x - mean) / std */
  mean?: number[];
  std?: number[];
  progress?: boolean;
  signal?: AbortSignal;
  /** predict only these images (stitching order is kept); the others stay as they are */
  imageIds?: number[];
  /** false: do not dump the manifest (the caller takes `dataset` from the summary) */
  writeManifest?: boolean;
  /** called after every batch of windows and every finished image */
  onProgress?: (p: PredictProgress) => void;
}

export interface PredictProgress { windowsDone: number; windowsTotal: number; imagesDone: number; imagesTotal: number }

export interface PredictSummary {
  dst: string;
  images: number;
  windows: number;
  interrupted: boolean;
  assets: string[];
  /** the result dataset, with the new assets registered */
  dataset: CocoDataset;
  seconds: { total: number; read: number; model: number; stitch: number; write: number };
}

interface PendingWindow {
  gid: number;
  /** window in the (input-scaled) stitching space */
  rows: [number, number];
  cols: [number, number];
  assetDsize: [number, number];
}

interface ImagePlan {
  gid: number;
  /** canvas of the stitching space, [h, w] */
  canvas: [number, number];
  windows: SpaceSlice[];
}

function checkPositive(name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
  return v;
}

function perChannel(name: string, values: number[] | undefined, n: number, fallback: number): Float32Array {
  if (!values) return new Float32Array(n).fill(fallback);
  if (values.length === 1) return new Float32Array(n).fill(values[0]);
  if (values.length !== n) {
    throw new Error(`--${name} has ${values.length} values but --channels has ${n} channels; give 1 or ${n}`);
  }
  return Float32Array.from(values);
}

function now(): number { return performance.now() / 1000; }

/** Runs a model over a kwcoco dataset and writes the stitched predictions. */
export async function runPredict(opts: PredictOptions): Promise<PredictSummary> {
  const t0 = now();
  const window = checkPositive('window', opts.window ?? 256, true);
  const overlap = opts.overlap ?? 0.3;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`--overlap must be in [0, 1), got ${overlap}`);
  const inputScale = checkPositive('input-scale', opts.inputScale ?? 1);
  const outputScale = checkPositive('output-scale', opts.outputScale ?? 1);
  const batchSize = checkPositive('batch-size', opts.batchSize ?? 8, true);
  const space = opts.space ?? 'video';
  if (space !== 'video' && space !== 'image') throw new Error(`--space must be video or image, got ${space}`);
  const shortCode = opts.shortCode ?? 'pred';
  const inChannels = FusedChannelSpec.coerce(opts.channels);
  const nIn = inChannels.numel();
  const mean = perChannel('mean', opts.mean, nIn, 0);
  const std = perChannel('std', opts.std, nIn, 1);
  if (std.some((s) => s === 0 || !Number.isFinite(s))) throw new Error(`--std values must be finite and non-zero, got ${[...std].join(', ')}`);

  if (typeof opts.memmap === 'string') await mkdir(opts.memmap, { recursive: true });
  const src = await CocoDataset.load(opts.src);
  const ownModel = typeof opts.model === 'string' || opts.model instanceof Uint8Array;
  const model = ownModel ? await loadModel(opts.model as string | Uint8Array, { threads: opts.threads }) : opts.model as Model;
  const result = src.copy();
  // inputs keep working wherever the output manifest goes
  result.reroot({ absolute: true });
  result.fpath = resolve(opts.dst);

  const plans = planImages(result, space, window, overlap, inputScale, inChannels, opts.imageIds);
  const totalWindows = plans.reduce((n, p) => n + p.windows.length, 0);

  // the output channel count comes from the model itself: one probe run
  const probe = await model.run(new Float32Array(nIn * window * window), [1, nIn, window, window]);
  const nOut = probe.dims[1];
  const chanCode = opts.chanCode ?? Array.from({ length: nOut }, (_, i) => `${shortCode}.${i}`).join('|');
  const nDeclared = FusedChannelSpec.coerce(chanCode).numel();
  if (nDeclared !== nOut) {
    throw new Error(`--chan-code ${chanCode} has ${nDeclared} channels but the model outputs ${nOut}`);
  }

  const manager = new CocoStitchingManager(result, {
    shortCode, chanCode, stitchingSpace: space, probFormat: opts.probFormat ?? 'cog',
    probCompress: opts.compress ?? 'DEFLATE', quantize: opts.quantize ?? true,
    expectedMinmax: opts.expectedMinmax, memmap: opts.memmap ?? false, writePredictionAttrs: true,
  });

  const progress = createProgress(opts.progress ?? false);
  const windowsBar = progress.bar('windows', totalWindows);
  const imagesBar = progress.bar('images', plans.length);
  const seconds = { total: 0, read: 0, model: 0, stitch: 0, write: 0 };
  const assets: string[] = [];
  let windowsDone = 0;
  let imagesDone = 0;
  let interrupted = false;
  const report = () => opts.onProgress?.({ windowsDone, windowsTotal: totalWindows, imagesDone, imagesTotal: plans.length });

  // Finished images waiting for the writer queue (which runs 2 at once). Up to
  // MAX_WAITING_IMAGES may wait without holding up the model, so a burst of
  // finished images does not stall it; past that the loop waits, so finished
  // canvases do not pile up in memory when the model outruns the writer
  // (unbounded, 15 stitchers were alive at once on the predict bench).
  const waiting: Promise<void>[] = [];
  const finalizeReady = async () => {
    for (const gid of manager.readyImageIds()) {
      waiting.push(manager.submitFinalizeImage(gid).then(() => { imagesDone++; imagesBar.increment(); report(); }));
    }
    const t = now();
    while (waiting.length > MAX_WAITING_IMAGES) await waiting.shift();
    seconds.write += now() - t;
  };

  /** `input`: the batch's windows, normalised CHW one after the other (its memory moves to the model's thread). */
  const runBatch = async (batch: PendingWindow[], input: Float32Array) => {
    if (batch.length === 0) return;
    const [h, w] = [batch[0].rows[1] - batch[0].rows[0], batch[0].cols[1] - batch[0].cols[0]];
    const used = batch.length * nIn * h * w;
    const out = await model.run(input.length === used ? input : input.subarray(0, used), [batch.length, nIn, h, w], true);
    const [, c, oh, ow] = out.dims;
    const eh = Math.round(h * outputScale);
    const ew = Math.round(w * outputScale);
    if (Math.abs(oh - eh) > 1 || Math.abs(ow - ew) > 1) {
      throw new Error(`model output ${out.dims.join('x')} does not fit window ${h}x${w} at output scale ${outputScale} (expected ${batch.length}x${c}x${eh}x${ew})`);
    }
    const t = now();
    const per = c * oh * ow;
    for (let i = 0; i < batch.length; i++) {
      const b = batch[i];
      const data = Raster.fromCHW(out.data.subarray(i * per, (i + 1) * per), [c, oh, ow]); // a new HWC copy
      const r0 = Math.round(b.rows[0] * outputScale);
      const c0 = Math.round(b.cols[0] * outputScale);
      manager.accumulateImage(b.gid, [slice(r0, r0 + eh), slice(c0, c0 + ew)], data, {
        assetDsize: b.assetDsize,
        scaleAssetFromStitchspace: inputScale * outputScale,
        downweightEdges: opts.downweightEdges ?? false,
        isReady: false,
      });
      windowsDone++;
      windowsBar.increment();
    }
    seconds.stitch += now() - t;
    report();
    await finalizeReady();
  };

  // one batch is in the model (on its own thread) while the next is read and
  // normalised here; results are stitched in order, one batch at a time
  let inflight: Promise<void> = Promise.resolve();
  const launch = async (batch: PendingWindow[], input: Float32Array | null) => {
    const t = now();
    await inflight;
    seconds.model += now() - t; // waiting for the model, not overlapped by reading
    inflight = input ? runBatch(batch, input) : Promise.resolve();
    inflight.catch(() => {}); // handled when awaited
  };

  const onAbort = () => { interrupted = true; };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let failure: unknown;
  try {
    // windows of one shape batch together; a smaller edge window flushes the batch.
    // Each window is normalised straight into the batch's input as it arrives.
    let batch: PendingWindow[] = [];
    let input: Float32Array | null = null;
    // reads run ahead of the model: while onnxruntime computes on its own
    // threads, the event loop decodes and resamples the next windows
    const jobs = plans.flatMap((plan) => {
      const assetDsize: [number, number] = [
        Math.round(plan.canvas[1] * outputScale), Math.round(plan.canvas[0] * outputScale),
      ];
      return plan.windows.map(([rs, cs], i) => ({
        plan, first: i === 0, assetDsize,
        rows: [rs.start!, rs.stop!] as [number, number], cols: [cs.start!, cs.stop!] as [number, number],
      }));
    });
    const ahead: Promise<Raster>[] = [];
    const prefetch = Math.max(2, 2 * batchSize);
    let next = 0;
    const fill = () => {
      while (ahead.length < prefetch && next < jobs.length) {
        const { plan, rows, cols } = jobs[next++];
        const read = readInputWindow(result.cocoImage(plan.gid), inChannels.spec, space, rows, cols, inputScale);
        read.catch(() => {}); // rejections surface when awaited below; this only marks them handled
        ahead.push(read);
      }
    };
    for (let j = 0; j < jobs.length; j++) {
      if (interrupted || opts.signal?.aborted) { interrupted = true; break; }
      const { plan, first, assetDsize, rows, cols } = jobs[j];
      if (first) manager.expectWindows(plan.gid, plan.windows.length);
      fill();
      const t = now();
      const raster = await ahead.shift()!;
      seconds.read += now() - t;
      const [h, w] = [rows[1] - rows[0], cols[1] - cols[0]];
      const sameShape = batch.length === 0
        || (batch[0].rows[1] - batch[0].rows[0] === h && batch[0].cols[1] - batch[0].cols[0] === w);
      if (!sameShape) { await launch(batch, input); batch = []; input = null; }
      const [rh, rw, rc] = raster.shape;
      if (rh !== h || rw !== w || rc !== nIn) {
        throw new Error(`internal: the window at rows ${rows.join(':')}, cols ${cols.join(':')} of image ${plan.gid} was read as ${rh}x${rw}x${rc}, expected ${h}x${w}x${nIn}`);
      }
      input ??= new Float32Array(batchSize * nIn * h * w);
      normaliseInto(raster, mean, std, input, batch.length * nIn * h * w);
      batch.push({ gid: plan.gid, rows, cols, assetDsize });
      if (batch.length >= batchSize) { fill(); await launch(batch, input); batch = []; input = null; }
    }
    if (!interrupted) await launch(batch, input);
    await launch([], null); // the last batch's results
  } catch (err) {
    failure = err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  // a batch still in the model after a failure or an interrupt is stitched first
  await inflight.catch((err: unknown) => { failure ??= err; });
  // finish what was handed to the writer, even after an error or an interrupt
  const t = now();
  for (const w of waiting) await w.catch((err: unknown) => { failure ??= err; });
  const flush = await manager.flushImages().then(() => null, (err: unknown) => err);
  seconds.write += now() - t;
  progress.stop();
  await manager.dispose?.();
  if (ownModel) await model.close();
  if (failure) throw failure;
  if (flush) throw flush;
  for (const gid of result.imageIds()) {
    const img = result.index.imgs.get(gid);
    const list = (img?.assets ?? img?.auxiliary ?? []) as { file_name: string; channels?: string }[];
    for (const a of list) if (a.channels === chanCode) assets.push(resolve(dirname(result.fpath!), a.file_name));
  }
  if (opts.writeManifest ?? true) await result.dump(resolve(opts.dst));
  seconds.total = now() - t0;
  return { dst: resolve(opts.dst), images: imagesDone, windows: windowsDone, interrupted, assets, dataset: result, seconds };
}

/** Finished images that may wait for the writer queue before the window loop waits too. */
const MAX_WAITING_IMAGES = 2;

/** Writes `r` into `out` from `offset` as CHW float32 for the model: (x - mean) / std per channel; NaN (nodata) becomes 0. */
function normaliseInto(r: Raster, mean: Float32Array, std: Float32Array, out: Float32Array, offset: number): void {
  const [h, w, c] = r.shape;
  const plane = h * w;
  const src = r.data;
  for (let b = 0; b < c; b++) {
    const m = mean[b];
    const s = std[b];
    const dst = offset + b * plane;
    for (let p = 0, i = b; p < plane; p++, i += c) {
      const v = (src[i] - m) / s;
      out[dst + p] = v === v ? v : 0;
    }
  }
}

/** Which images to predict, in stitching order (videos by frame), and their windows. */
function planImages(
  dset: CocoDataset, space: 'video' | 'image', window: number, overlap: number,
  inputScale: number, channels: FusedChannelSpec, only?: number[],
): ImagePlan[] {
  const order: number[] = [];
  if (space === 'video') {
    for (const gids of dset.index.vidToGids.values()) order.push(...gids);
    const inVideo = new Set(order);
    for (const gid of dset.imageIds()) if (!inVideo.has(gid)) order.push(gid);
  } else {
    order.push(...dset.imageIds());
  }
  if (only) {
    for (const gid of only) dset.cocoImage(gid); // an unknown id is an error naming it
    const wanted = new Set(only);
    order.splice(0, order.length, ...order.filter((gid) => wanted.has(gid)));
  }
  return order.map((gid) => {
    const img = dset.cocoImage(gid);
    const missing = channels.parsed.filter((c) => !img.channels.has(c));
    if (missing.length) {
      throw new Error(`image ${gid} (${img.img.name ?? img.img.file_name ?? 'unnamed'}) has no channel(s) ${missing.join('|')} for --channels ${channels.spec}; it has ${img.channels.spec || 'no channels'}`);
    }
    const frame = space === 'video' && img.video ? img.video : img.img;
    const canvas: [number, number] = [
      Math.round(frame.height * inputScale), Math.round(frame.width * inputScale),
    ];
    const win = [Math.min(window, canvas[0]), Math.min(window, canvas[1])];
    const windows = [...new SlidingWindow(canvas, win, { overlap, keepbound: true, allowOvershoot: true })] as unknown as SpaceSlice[];
    return { gid, canvas, windows };
  });
}
