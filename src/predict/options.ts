/**
 * What runPredict takes and returns, and the checks that turn its options
 * into settled values before any file is opened. Every bad value is a
 * ValueError naming the option as the command line spells it.
 */
import { ValueError } from '../array/errors.ts';
import type { CocoDataset } from '../coco/dataset.ts';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import type { Model } from './model.ts';

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
  space?: 'video' | 'image';
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
  /** dump the output manifest at the end (default true); false leaves that to the caller (`summary.dataset`) */
  writeManifest?: boolean;
  progress?: boolean;
  onProgress?: (p: PredictProgress) => void;
  /** one line per image whose model output had no valid value (default: process.emitWarning) */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface PredictSummary {
  dst: string;
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
  space: 'video' | 'image';
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
  return { window, windowShape: [window, window], windowGiven: opts.window !== undefined, padTo, scale, overlap, space, inputScale, outputScale, batchSize, shortCode, inChannels, mean, std, nanPolicy, infPolicy, imageIds };
}
