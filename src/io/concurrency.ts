/**
 * Bounded concurrency, the one helper every layer uses for it: `Limiter`
 * (start jobs as slots free up, the caller keeps the promise) and
 * `forEachLimit` (run a function over a list with at most N in flight).
 */

/**
 * Bounds concurrent asynchronous jobs: `start` waits for a free slot (first
 * come, first served), starts the job and returns its promise boxed as
 * `result` (already guarded against unhandled rejection; awaiting it still throws).
 */
export class Limiter {
  #active = 0;
  #peak = 0;
  #waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  /** Jobs running now. */
  get active(): number { return this.#active; }
  /** Most jobs ever running at once. */
  get peak(): number { return this.#peak; }
  /** Callers of `start` waiting for a slot. */
  get waiting(): number { return this.#waiting.length; }

  async start<T>(job: () => Promise<T>): Promise<{ result: Promise<T> }> {
    while (this.#active >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#active++;
    if (this.#active > this.#peak) this.#peak = this.#active;
    const p = (async () => job())().finally(() => {
      this.#active--;
      this.#waiting.shift()?.();
    });
    p.catch(() => {});
    return { result: p }; // boxed: awaiting start() must not wait for the job itself
  }
}

/**
 * Runs `fn` on every item with at most `limit` calls in flight. The first
 * failure rejects the whole and no further item is started.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
