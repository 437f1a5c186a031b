/**
 * The read stage: windows are read ahead of the model, so that while
 * onnxruntime computes on its own threads the event loop decodes and
 * resamples the next windows. At most `depth` reads are in flight.
 */
import type { Raster } from '../array/raster.ts';
import type { CocoDataset } from '../coco/dataset.ts';
import type { PlannedWindow } from './plan.ts';
import { readInputWindow } from './read-window.ts';

export interface ReadWindow {
  window: PlannedWindow;
  raster: Raster;
}

/** Reads the planned windows in order, `depth` ahead of the consumer. */
export class ReadAhead {
  readonly #dset: CocoDataset;
  readonly #windows: Iterator<PlannedWindow>;
  readonly #channels: string;
  readonly #inputScale: number;
  readonly #depth: number;
  readonly #ahead: { window: PlannedWindow; read: Promise<Raster> }[] = [];
  #done = false;

  constructor(dset: CocoDataset, windows: Iterable<PlannedWindow>, channels: string, inputScale: number, depth: number) {
    this.#dset = dset;
    this.#windows = windows[Symbol.iterator]();
    this.#channels = channels;
    this.#inputScale = inputScale;
    this.#depth = depth;
  }

  /** Starts reads until `depth` are in flight. */
  fill(): void {
    while (!this.#done && this.#ahead.length < this.#depth) {
      const it = this.#windows.next();
      if (it.done) { this.#done = true; break; }
      const w = it.value;
      const read = readInputWindow(this.#dset.cocoImage(w.plan.gid), this.#channels, w.plan.space, w.rows, w.cols, this.#inputScale);
      read.catch(() => {}); // rejections surface when awaited in next(); this only marks them handled
      this.#ahead.push({ window: w, read });
    }
  }

  /** The next window and its pixels, or null after the last. */
  async next(): Promise<ReadWindow | null> {
    this.fill();
    const head = this.#ahead.shift();
    if (!head) return null;
    return { window: head.window, raster: await head.read };
  }

  /** Waits for the reads still in flight (their results are dropped). */
  async drain(): Promise<void> {
    const pending = this.#ahead.splice(0);
    await Promise.allSettled(pending.map((p) => p.read));
  }
}
