/**
 * The model stage: windows of one shape are normalised straight into a
 * batch's input (padded to the model's input size, see model-input.ts) and
 * run through the model in batches. One batch is in the model (on its own
 * thread) while the next is read and normalised here; the outputs, cropped
 * back to the windows, are handed on in order, one batch at a time. A model
 * failure names the image, the window and the shape it was given.
 */
import type { Raster } from '../array/raster.ts';
import { InternalError } from '../array/errors.ts';
import { ModelError } from './errors.ts';
import type { Model } from './model.ts';
import type { PlannedWindow } from './plan.ts';

/** One batch's model output, NCHW float32, with the windows it came from. */
export interface BatchOutput {
  windows: PlannedWindow[];
  data: Float32Array;
  /** [n, c, h, w] */
  dims: [number, number, number, number];
}

export interface ModelStageOptions {
  nIn: number;
  /** x' = (x * scale - mean) / std */
  scale: number;
  mean: Float32Array;
  std: Float32Array;
  batchSize: number;
  /** the model takes exactly `batchSize` windows: a short last batch is filled with zeros */
  fixedBatch: boolean;
  outputScale: number;
  /** the [h, w] a window of h x w is given to the model as (>= h, w) */
  inputSize: (h: number, w: number) => [number, number];
  /** `image 3 (name)` for messages */
  label: (gid: number) => string;
  onOutput: (out: BatchOutput) => Promise<void>;
}

/** The usual total stride of fully convolutional networks: a size not a multiple of it is the likely cause of a failure. */
const USUAL_STRIDE = 32;

export class ModelStage {
  readonly #model: Model;
  readonly #nIn: number;
  readonly #scale: number;
  readonly #mean: Float32Array;
  readonly #std: Float32Array;
  readonly #batchSize: number;
  readonly #fixedBatch: boolean;
  readonly #outputScale: number;
  readonly #inputSize: (h: number, w: number) => [number, number];
  readonly #label: (gid: number) => string;
  readonly #onOutput: (out: BatchOutput) => Promise<void>;
  #batch: PlannedWindow[] = [];
  #input: Float32Array | null = null;
  #inflight: Promise<void> = Promise.resolve();
  /** seconds spent waiting for the model (not overlapped by reading) */
  waited = 0;

  constructor(model: Model, opts: ModelStageOptions) {
    this.#model = model;
    this.#nIn = opts.nIn;
    this.#scale = opts.scale;
    this.#mean = opts.mean;
    this.#std = opts.std;
    this.#batchSize = opts.batchSize;
    this.#fixedBatch = opts.fixedBatch;
    this.#outputScale = opts.outputScale;
    this.#inputSize = opts.inputSize;
    this.#label = opts.label;
    this.#onOutput = opts.onOutput;
  }

  /** Adds one window's pixels (HWC float32); runs the batch when it is full or the window's shape differs. */
  async add(w: PlannedWindow, raster: Raster): Promise<void> {
    const h = w.rows[1] - w.rows[0];
    const wd = w.cols[1] - w.cols[0];
    const first = this.#batch[0];
    if (first && (first.rows[1] - first.rows[0] !== h || first.cols[1] - first.cols[0] !== wd)) await this.flush();
    const [rh, rw, rc] = raster.shape;
    if (rh !== h || rw !== wd || rc !== this.#nIn) {
      throw new InternalError(`the window at rows ${w.rows.join(':')}, cols ${w.cols.join(':')} of image ${w.plan.gid} was read as ${rh}x${rw}x${rc}, expected ${h}x${wd}x${this.#nIn}`);
    }
    const [ph, pw] = this.#inputSize(h, wd);
    // a fresh (zeroed) buffer per batch: the padding is 0 after normalisation
    this.#input ??= new Float32Array(this.#batchSize * this.#nIn * ph * pw);
    normaliseInto(raster, this.#scale, this.#mean, this.#std, this.#input, this.#batch.length * this.#nIn * ph * pw, pw, ph * pw);
    this.#batch.push(w);
    if (this.#batch.length >= this.#batchSize) await this.flush();
  }

  /** Sends the batch being filled to the model (after the one in it is handed on). */
  async flush(): Promise<void> {
    const batch = this.#batch;
    const input = this.#input;
    this.#batch = [];
    this.#input = null;
    const t = performance.now();
    await this.#inflight;
    this.waited += (performance.now() - t) / 1000;
    if (batch.length === 0 || !input) return;
    this.#inflight = this.#run(batch, input);
    this.#inflight.catch(() => {}); // handled when awaited
  }

  /** Waits until the batch in the model is handed on; rejects with its error. */
  async settle(): Promise<void> {
    await this.flush();
    await this.#inflight;
  }

  /** Drops the batch being filled (after an interrupt or a failure). */
  discard(): void {
    this.#batch = [];
    this.#input = null;
  }

  async #run(batch: PlannedWindow[], input: Float32Array): Promise<void> {
    const h = batch[0].rows[1] - batch[0].rows[0];
    const w = batch[0].cols[1] - batch[0].cols[0];
    const [ph, pw] = this.#inputSize(h, w);
    const n = this.#fixedBatch ? this.#batchSize : batch.length;
    const used = n * this.#nIn * ph * pw;
    const dims = [n, this.#nIn, ph, pw] as const;
    let out;
    try {
      out = await this.#model.run(input.length === used ? input : input.subarray(0, used), dims, true);
    } catch (err) {
      throw new ModelError(`${this.#where(batch, dims)} failed in the model: ${String((err as Error)?.message ?? err).trim()}${this.#hint(ph, pw)}`, { cause: err });
    }
    const [on, c, oh, ow] = out.dims;
    const eh = Math.round(ph * this.#outputScale);
    const ew = Math.round(pw * this.#outputScale);
    if (out.dims.length !== 4 || on !== n || Math.abs(oh - eh) > 1 || Math.abs(ow - ew) > 1 || !(c >= 1)) {
      throw new ModelError(`model output ${out.dims.join('x')} does not fit window ${ph}x${pw} at output scale ${this.#outputScale} (expected ${n}x${c}x${eh}x${ew}; ${this.#where(batch, dims)})${this.#hint(ph, pw)}`);
    }
    if (out.data.length !== on * c * oh * ow) {
      throw new ModelError(`model output of shape ${out.dims.join('x')} holds ${out.data.length} values, expected ${on * c * oh * ow}`);
    }
    if (ph === h && pw === w && on === batch.length) {
      await this.#onOutput({ windows: batch, data: out.data, dims: [on, c, oh, ow] });
      return;
    }
    // crop each window's output out of the padded one (and drop a fixed batch's filler windows)
    const ch = Math.min(oh, Math.round(h * this.#outputScale));
    const cw = Math.min(ow, Math.round(w * this.#outputScale));
    const cropped = new Float32Array(batch.length * c * ch * cw);
    for (let plane = 0; plane < batch.length * c; plane++) {
      for (let y = 0; y < ch; y++) {
        const from = plane * oh * ow + y * ow;
        cropped.set(out.data.subarray(from, from + cw), (plane * ch + y) * cw);
      }
    }
    await this.#onOutput({ windows: batch, data: cropped, dims: [batch.length, c, ch, cw] });
  }

  /** Which windows a batch holds, and the shape it was given as. */
  #where(batch: PlannedWindow[], dims: readonly number[]): string {
    const first = batch[0];
    const more = batch.length > 1 ? ` and ${batch.length - 1} more window(s) of the batch` : '';
    return `the window at rows ${first.rows.join(':')}, cols ${first.cols.join(':')} of ${this.#label(first.plan.gid)}${more}, given as an input of shape [${dims.join(', ')}]`;
  }

  /** The likely cause when the model fails on a size that is not a multiple of its stride. */
  #hint(ph: number, pw: number): string {
    if (ph % USUAL_STRIDE === 0 && pw % USUAL_STRIDE === 0) return '';
    return `. ${ph} x ${pw} pixels is not a multiple of ${USUAL_STRIDE}: fully convolutional models with strided layers need sizes that are a multiple of their total stride (often ${USUAL_STRIDE}); --pad-to ${USUAL_STRIDE} pads every window to one and crops the output back`;
  }
}

/**
 * Writes `r` into `out` from `offset` as CHW float32 for the model:
 * (x * scale - mean) / std per channel, each row `rowStride` apart and each
 * channel `planeStride` apart (a padded frame; what is outside `r` is left as
 * it is); NaN (nodata) becomes 0.
 */
export function normaliseInto(
  r: Raster, scale: number, mean: Float32Array, std: Float32Array, out: Float32Array, offset: number,
  rowStride = r.shape[1], planeStride = r.shape[0] * r.shape[1],
): void {
  const [h, w, c] = r.shape;
  const src = r.data;
  for (let b = 0; b < c; b++) {
    const m = mean[b];
    const s = std[b];
    for (let y = 0; y < h; y++) {
      const dst = offset + b * planeStride + y * rowStride;
      for (let x = 0, i = y * w * c + b; x < w; x++, i += c) {
        const v = (src[i] * scale - m) / s;
        out[dst + x] = v === v ? v : 0;
      }
    }
  }
}
