/**
 * The write stage: images whose last window is in are finalized (written as
 * a COG and registered) through a writer queue, two at a time. Up to
 * MAX_WAITING_IMAGES more may wait for it without holding up the model, so
 * a burst of finished images does not stall it; past that the window loop
 * waits, so finished canvases do not pile up in memory when the model
 * outruns the writer. The queue may be shared by the runs of a process
 * (SharedRun.writerQueue); each stage waits only for its own images.
 */
import { WriterQueue } from '../stitch/writer-queue.ts';
import type { CocoStitchingManager, FinalizeInfo } from '../stitch/manager.ts';

/** Finished images that may wait for the writer queue before the window loop waits too. */
export const MAX_WAITING_IMAGES = 2;

export class WriteStage {
  readonly #queue: WriterQueue;
  readonly #onWritten: (gid: number, info: FinalizeInfo) => void;
  readonly #submitted = new Set<number>();
  readonly #waiting: Promise<unknown>[] = [];
  readonly #jobs: Promise<void>[] = [];
  /** images written and registered, in order */
  readonly written: number[] = [];
  /** the first failed write */
  failure: unknown = undefined;
  seconds = 0;

  constructor(onWritten: (gid: number, info: FinalizeInfo) => void, queue?: WriterQueue) {
    this.#onWritten = onWritten;
    this.#queue = queue ?? new WriterQueue({ maxInFlight: 2 });
  }

  /** Hands the manager's ready images to the queue; waits while too many wait for it. */
  async finalizeReady(manager: CocoStitchingManager): Promise<void> {
    for (const gid of manager.readyImageIds()) {
      if (this.#submitted.has(gid)) continue;
      this.#submitted.add(gid);
      const started = this.#queue.submit(() => manager.finalizeImage(gid), this);
      this.#waiting.push(started);
      this.#jobs.push(started.then((job) => job.done).then(
        (info) => { this.written.push(gid); this.#onWritten(gid, info); },
        (err: unknown) => { this.failure ??= err; },
      ));
    }
    const t = performance.now();
    while (this.#waiting.length > MAX_WAITING_IMAGES) await this.#waiting.shift();
    this.seconds += (performance.now() - t) / 1000;
  }

  /** Waits until every image handed over is written (or failed). */
  async drain(): Promise<void> {
    const t = performance.now();
    await Promise.all(this.#jobs);
    await this.#queue.flush(this).catch(() => {}); // failures were taken from each job above
    this.seconds += (performance.now() - t) / 1000;
  }
}
