/**
 * The model stage: windows of one shape are normalised straight into a
 * batch's input and run through the model in batches. One batch is in the
 * model (on its own thread) while the next is read and normalised here; the
 * outputs are handed on in order, one batch at a time.
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

export class ModelStage {
  readonly #model: Model;
  readonly #nIn: number;
  readonly #mean: Float32Array;
  readonly #std: Float32Array;
  readonly #batchSize: number;
  readonly #outputScale: number;
  readonly #onOutput: (out: BatchOutput) => Promise<void>;
  #batch: PlannedWindow[] = [];
  #input: Float32Array | null = null;
  #inflight: Promise<void> = Promise.resolve();
  /** seconds spent waiting for the model (not overlapped by reading) */
  waited = 0;

  constructor(model: Model, opts: {
    nIn: number; mean: Float32Array; std: Float32Array; batchSize: number; outputScale: number;
    onOutput: (out: BatchOutput) => Promise<void>;
  }) {
    this.#model = model;
    this.#nIn = opts.nIn;
    this.#mean = opts.mean;
    this.#std = opts.std;
    this.#batchSize = opts.batchSize;
    this.#outputScale = opts.outputScale;
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
    this.#input ??= new Float32Array(this.#batchSize * this.#nIn * h * wd);
    normaliseInto(raster, this.#mean, this.#std, this.#input, this.#batch.length * this.#nIn * h * wd);
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
    const used = batch.length * this.#nIn * h * w;
    const out = await this.#model.run(input.length === used ? input : input.subarray(0, used), [batch.length, this.#nIn, h, w], true);
    const [n, c, oh, ow] = out.dims;
    const eh = Math.round(h * this.#outputScale);
    const ew = Math.round(w * this.#outputScale);
    if (out.dims.length !== 4 || n !== batch.length || Math.abs(oh - eh) > 1 || Math.abs(ow - ew) > 1 || !(c >= 1)) {
      throw new ModelError(`model output ${out.dims.join('x')} does not fit window ${h}x${w} at output scale ${this.#outputScale} (expected ${batch.length}x${c}x${eh}x${ew})`);
    }
    if (out.data.length !== n * c * oh * ow) {
      throw new ModelError(`model output of shape ${out.dims.join('x')} holds ${out.data.length} values, expected ${n * c * oh * ow}`);
    }
    await this.#onOutput({ windows: batch, data: out.data, dims: [n, c, oh, ow] });
  }
}

/** Writes `r` into `out` from `offset` as CHW float32 for the model: (x - mean) / std per channel; NaN (nodata) becomes 0. */
export function normaliseInto(r: Raster, mean: Float32Array, std: Float32Array, out: Float32Array, offset: number): void {
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
