/**
 * WriterQueue: runs finalize jobs (stitch -> quantize -> compress -> write) with a
 * bounded number in flight. `submit` waits while `maxInFlight` jobs are running
 * (backpressure: the producer cannot run ahead and pile up finished canvases in
 * memory), and resolves as soon as its job has started. Compression inside a job
 * runs on libuv's thread pool (async zlib), so jobs in flight overlap.
 *
 * Errors are never swallowed: every job's outcome is recorded, `flush()` waits for
 * every job and then rejects with the first error (in order of failure) that no
 * earlier flush has reported; the other jobs still run to the end.
 * One queue can be shared between several managers (pass it as `writerQueue`).
 */
import { Limiter } from '../io/concurrency.ts';
import { StitchError } from './errors.ts';

/** Options of {@link WriterQueue}. */
export interface WriterQueueOptions {
  /** jobs allowed to run at once (default 2) */
  maxInFlight?: number;
}

/** A started job; `done` settles with its result (it never causes an unhandled rejection). */
export interface QueuedJob<T> {
  readonly done: Promise<T>;
}

/**
 * @example
 * const queue = new WriterQueue({ maxInFlight: 2 });
 * for (const gid of ready) await queue.submit(() => writeImage(gid)); // waits when 2 are running
 * await queue.flush(); // rejects with the first failure, after all jobs ended
 */
export class WriterQueue {
  readonly maxInFlight: number;
  #slots: Limiter;
  #pending = new Map<Promise<unknown>, unknown>();
  #errors: { owner: unknown; error: unknown }[] = [];
  #submitted = 0;
  #turn: Promise<void> = Promise.resolve();

  constructor(options: WriterQueueOptions = {}) {
    const m = options.maxInFlight ?? 2;
    if (!Number.isInteger(m) || m < 1) throw new StitchError(`WriterQueue maxInFlight must be an integer >= 1, got ${JSON.stringify(m)}`);
    this.maxInFlight = m;
    this.#slots = new Limiter(m);
  }

  /**
   * Reserve the next turn of an ordered step (the manager registers finished images in
   * turn, so the dataset changes in submission order even when writes finish out of
   * order, across every manager sharing this queue). `wait` resolves once every
   * earlier turn has been released; `release` must always be called.
   */
  turn(): { wait: Promise<void>; release: () => void } {
    const wait = this.#turn;
    let release!: () => void;
    this.#turn = new Promise<void>((res) => { release = res; });
    return { wait, release };
  }

  /** Jobs running now. */
  get inFlight(): number { return this.#slots.active; }
  /** Most jobs ever running at once. */
  get peakInFlight(): number { return this.#slots.peak; }
  /** Jobs submitted so far. */
  get submitted(): number { return this.#submitted; }
  /** Errors recorded and not yet reported by a flush. */
  get pendingErrors(): number { return this.#errors.length; }

  /**
   * Start `job` as soon as fewer than `maxInFlight` jobs run (FIFO among waiting
   * submitters). Resolves once the job has started, with a handle on its outcome.
   * `owner` (e.g. a manager) tags the job so `flush(owner)` waits for and reports only its jobs.
   */
  async submit<T>(job: () => Promise<T>, owner?: unknown): Promise<QueuedJob<T>> {
    this.#submitted++;
    // `done` is guarded against unhandled rejection: its outcome is delivered by flush(); callers may also await it
    const { result: done } = await this.#slots.start(job);
    const tracked = done.then(() => {}, (err: unknown) => { this.#errors.push({ owner, error: err }); });
    this.#pending.set(tracked, owner);
    void tracked.finally(() => this.#pending.delete(tracked));
    return { done };
  }

  /**
   * Resolves once no job runs or waits (with `owner`: once none of that owner's jobs
   * runs); then rejects with the first error not reported by an earlier flush (of that
   * owner when given). Jobs that fail do not stop the others.
   */
  async flush(owner?: unknown): Promise<void> {
    const mine = (o: unknown) => owner === undefined || o === owner;
    for (;;) {
      const waiting = [...this.#pending].filter(([, o]) => mine(o)).map(([p]) => p);
      if (waiting.length > 0) { await Promise.allSettled(waiting); continue; }
      // a submitter still waiting for a slot has not started its job yet
      if (owner === undefined && (this.#slots.waiting > 0 || this.#slots.active > 0)) { await new Promise((res) => setImmediate(res)); continue; }
      break;
    }
    const errs = this.#errors.filter((e) => mine(e.owner));
    if (errs.length === 0) return;
    this.#errors = this.#errors.filter((e) => !mine(e.owner));
    const first = errs[0].error;
    if (errs.length > 1 && first instanceof Error && !('otherFailures' in first)) {
      Object.assign(first, { otherFailures: errs.slice(1).map((e) => e.error) });
      first.message += ` (and ${errs.length - 1} more failed job${errs.length > 2 ? 's' : ''})`;
    }
    throw first;
  }
}
