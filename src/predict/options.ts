/**
 * What runPredict takes and returns, and the checks that turn its options
 * into settled values before any file is opened. Every bad value is a
 * ValueError naming the option as the command line spells it.
 */
import { ValueError } from '../array/errors.ts';
import type { CocoDataset } from '../coco/dataset.ts';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import type { WriterQueue } from '../stitch/writer-queue.ts';
import type { LoadSourceOptions } from './load-source.ts';
import type { Model } from './model.ts';
import type { ModelTurn } from './model-lane.ts';
import { checkRegionOption, type PredictRegion } from './region.ts';
import type { RegionReport } from '../stitch/region-parts.ts';

/** Counts handed to `onProgress`, once per model batch and once per finished image. */
export interface PredictProgress {
  windowsDone: number;
  windowsTotal: number;
  imagesDone: number;
  imagesTotal: number;
}

export interface PredictOptions {
  /** input manifest, or image files (a path, glob or URL; see load-source.ts) */
  src: string;
  /** channel code of image files given as `src` (see load-source.ts) */
  srcChannels?: string;
  /** output manifest; new assets go to {dirname(dst)}/_assets/{shortCode}/ */
  dst: string;
  /** ONNX model: a path, its bytes, or a model already loaded with `loadModel` (then the caller closes it) */
  model: string | Uint8Array | Model;
  /** input channel code, e.g. 'r|g|b' */
  channels: string;
  /** output channel code; default `{shortCode}.0|...|{shortCode}.{C-1}` from the model's output */
  chanCode?: string;
  /** window side in pixels (default 256, or the model's fixed input H x W) */
  window?: number;
  overlap?: number;
  /** stitching space; default 'video' when the manifest has videos, else 'image' (an image without a video is read in image space either way) */
  space?: 'video' | 'image';
  /** a --channels band an image lacks: 'nan' (default: read as NaN, given to the model as 0 after normalisation) or 'error' (refuse the run) */
  missingChannels?: 'nan' | 'error';
  /** windows are read at this scale of the stitching space */
  inputScale?: number;
  /** model output size relative to its input */
  outputScale?: number;
  /** windows per model call (default: from the window area, see plan.ts batchPlan) */
  batchSize?: number;
  /** pad each window's height and width (with 0 after normalisation) up to a multiple of this for the model, and crop its output back */
  padTo?: number;
  downweightEdges?: boolean;
  probFormat?: 'cog' | 'tif' | 'png';
  compress?: 'DEFLATE' | 'LZW' | 'ZSTD' | 'NONE';
  quantize?: boolean;
  expectedMinmax?: [number, number];
  shortCode?: string;
  memmap?: boolean | string;
  threads?: number;
  /** per input channel: x' = (x * scale - mean) / std, on the raw pixel values */
  scale?: number;
  mean?: number[];
  std?: number[];
  /** NaN in the model's output: 'omit' (default: that value gets no weight) or 'raise' (stop with an error) */
  nanPolicy?: 'omit' | 'raise';
  /** Inf in the model's output: 'raise' (default) or 'omit' (no weight, as NaN) */
  infPolicy?: 'raise' | 'omit';
  /** predict only these images, in stitching order; the others stay in the output as they are */
  imageIds?: number[];
  /**
   * predict one region of one image's output (a shard of `--shard region:SIZE`): only the
   * windows touching it run, and its part file is written instead of the image's COG (needs
   * probFormat 'cog'). Quantized without expectedMinmax, the region's finalized floats are kept
   * instead (phase 1; `summary.region.floats` has its range) for `quantizeRegionPart` (phase 2).
   */
  region?: PredictRegion;
  /** dump the output manifest at the end (default true); false leaves that to the caller (`summary.dataset`) */
  writeManifest?: boolean;
  progress?: boolean;
  onProgress?: (p: PredictProgress) => void;
  /** one line per image whose model output had no valid value, one for the images lacking channels (default: process.emitWarning) */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** what this run shares with other runs of the process (a distributed worker's shards) */
  shared?: SharedRun;
}

/**
 * What runs of one process share when it runs many (a distributed worker
 * runs one shard after another with one model): each is optional.
 */
export interface SharedRun {
  /** the run's turn at the model (./model-lane.ts): awaited before its first batch, released after its last output, so the next run's model work starts while this run's last images are written */
  modelTurn?: ModelTurn;
  /** one writer queue for every run: at most its maxInFlight images are written at once in the process */
  writerQueue?: WriterQueue;
  /** loads the src (e.g. ./source-cache.ts); the run works on a copy and never changes what it returns */
  loadSource?: (src: string, opts: LoadSourceOptions) => Promise<CocoDataset>;
}

export interface PredictSummary {
  dst: string;
  /** the stitching space used (--space, or the manifest's default) */
  space: 'video' | 'image';
  /** images written and registered */
  images: number;
  windows: number;
  interrupted: boolean;
  /** absolute paths of the assets with this run's channel code in the output */
  assets: string[];
  /** the output dataset, with the new assets registered */
  dataset: CocoDataset;
  /** images whose model output was NaN (or omitted Inf) everywhere: written, but all nodata */
  emptyImages: number[];
  /** images of the plan that were not written (interrupted, or after a failure) */
  notWritten: number[];
  /** with `region`: its part file, coverage and COG options, once written */
  region?: RegionReport;
  /** the failure that ended the run early (only on PartialResultError's summary) */
  failed?: unknown;
  seconds: { total: number; read: number; model: number; stitch: number; write: number };
}

/** The options checked and defaulted. */
export interface Settings {
  window: number;
  /** [h, w] of a window before clipping to the canvas: --window, or the model's fixed input (model-input.ts) */
  windowShape: [number, number];
  /** whether --window was given (a model's fixed input size may not contradict it) */
  windowGiven: boolean;
  /** 1: no padding */
  padTo: number;
  /** the model's fixed input height and width (null: symbolic), once it is loaded (model-input.ts) */
  fixedInput?: [number | null, number | null];
  /** the model takes batches of exactly `batchSize` windows */
  fixedBatch?: boolean;
  scale: number;
  overlap: number;
  /** the default ('video') is replaced by the manifest's (plan.ts defaultSpace) once it is loaded, unless --space was given */
  space: 'video' | 'image';
  missingChannels: 'nan' | 'error';
  inputScale: number;
  outputScale: number;
  /** null: chosen from the window area (plan.ts batchPlan) */
  batchSize: number | null;
  shortCode: string;
  inChannels: FusedChannelSpec;
  mean: Float32Array;
  std: Float32Array;
  nanPolicy: 'omit' | 'raise';
  infPolicy: 'raise' | 'omit';
  imageIds: number[] | null;
  region: PredictRegion | null;
}

function positive(name: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new ValueError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  }
  return v;
}

function perChannel(name: string, values: number[] | undefined, n: number, fallback: number): Float32Array {
  if (!values) return new Float32Array(n).fill(fallback);
  if (values.length === 1) return new Float32Array(n).fill(values[0]);
  if (values.length !== n) {
    throw new ValueError(`--${name} has ${values.length} values but --channels has ${n} channels; give 1 or ${n}`);
  }
  return Float32Array.from(values);
}

function oneOf<T extends string>(name: string, v: unknown, choices: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!choices.includes(v as T)) throw new ValueError(`--${name} must be ${choices.join(' or ')}, got ${String(v)}`);
  return v as T;
}

/** Checks every option that needs no file; throws ValueError naming the first bad one. */
export function settle(opts: PredictOptions): Settings {
  const window = positive('window', opts.window ?? 256, true);
  const padTo = positive('pad-to', opts.padTo ?? 1, true);
  const scale = positive('scale', opts.scale ?? 1);
  const overlap = opts.overlap ?? 0.3;
  if (!(overlap >= 0 && overlap < 1)) throw new ValueError(`--overlap must be in [0, 1), got ${overlap}`);
  const inputScale = positive('input-scale', opts.inputScale ?? 1);
  const outputScale = positive('output-scale', opts.outputScale ?? 1);
  const batchSize = opts.batchSize === undefined ? null : positive('batch-size', opts.batchSize, true);
  const space = oneOf('space', opts.space, ['video', 'image'] as const, 'video');
  const missingChannels = oneOf('missing-channels', opts.missingChannels, ['nan', 'error'] as const, 'nan');
  const nanPolicy = oneOf('nan-policy', opts.nanPolicy, ['omit', 'raise'] as const, 'omit');
  const infPolicy = oneOf('inf-policy', opts.infPolicy, ['raise', 'omit'] as const, 'raise');
  const shortCode = opts.shortCode ?? 'pred';
  const inChannels = FusedChannelSpec.coerce(opts.channels);
  const nIn = inChannels.numel();
  const mean = perChannel('mean', opts.mean, nIn, 0);
  const std = perChannel('std', opts.std, nIn, 1);
  if (std.some((s) => s === 0 || !Number.isFinite(s))) throw new ValueError(`--std values must be finite and non-zero, got ${[...std].join(', ')}`);
  let imageIds: number[] | null = null;
  if (opts.imageIds !== undefined) {
    if (!Array.isArray(opts.imageIds)) throw new ValueError(`imageIds must be a list of image ids, got ${typeof opts.imageIds}`);
    const seen = new Set<number>();
    for (const id of opts.imageIds) {
      if (!Number.isInteger(id)) throw new ValueError(`imageIds must hold integer image ids, got ${JSON.stringify(id)}`);
      if (seen.has(id)) throw new ValueError(`imageIds lists image ${id} twice`);
      seen.add(id);
    }
    imageIds = [...opts.imageIds];
  }
  let region: PredictRegion | null = null;
  if (opts.region !== undefined) {
    region = checkRegionOption(opts.region);
    if (imageIds !== null && (imageIds.length !== 1 || imageIds[0] !== region.imageId)) {
      throw new ValueError(`imageIds ${JSON.stringify(imageIds)} disagree with region.imageId ${region.imageId}; give one or the same image`);
    }
    imageIds = [region.imageId];
    if ((opts.probFormat ?? 'cog') !== 'cog') throw new ValueError(`a region is written as part of a COG: --prob-format must be cog, got ${opts.probFormat}`);
  }
  return { window, windowShape: [window, window], windowGiven: opts.window !== undefined, padTo, scale, overlap, space, missingChannels, inputScale, outputScale, batchSize, shortCode, inChannels, mean, std, nanPolicy, infPolicy, imageIds, region };
}
