/**
 * Turns at one model for runs of one process (a distributed worker runs
 * shard after shard): a run holds its turn from its first batch to its last
 * output, then lets the next run's model work start while its own last
 * images are still being written. Without it, each run would end with the
 * model idle while its writes drain. Turns are taken when a run is handed
 * to the process, so they go first come, first served.
 */
import { RunCancelledError } from './errors.ts';

/** A run's place at the model. */
export interface ModelTurn {
  /** true once the run may use the model (at once when the lane had room) */
  readonly granted: boolean;
  /** resolves when granted; rejects with RunCancelledError when the lane closes first */
  readonly ready: Promise<void>;
  /** gives the turn back (or leaves the queue); more calls do nothing */
  release(): void;
}

export class ModelLane {
  readonly #width: number;
  #running = 0;
  #closed = false;
  readonly #queue: { grant: () => void; cancel: () => void }[] = [];

  /** `width`: runs that may use the model at once */
  constructor(width = 1) {
    if (!Number.isInteger(width) || width < 1) throw new RangeError(`a model lane needs a width of at least 1, got ${width}`);
    this.#width = width;
  }

  /** Runs holding a turn. */
  get running(): number { return this.#running; }
  /** Runs waiting for one. */
  get waiting(): number { return this.#queue.length; }

  /** Takes the next place: granted now when fewer than `width` runs hold a turn, else queued. */
  take(): ModelTurn {
    let granted = false;
    let done = false;
    let grant!: () => void;
    let cancel!: () => void;
    const ready = new Promise<void>((resolve, reject) => {
      grant = () => { granted = true; this.#running++; resolve(); };
      cancel = () => { done = true; reject(new RunCancelledError('the run was called off before its turn at the model: this process takes no more work')); };
    });
    ready.catch(() => {}); // a run that never awaits its turn (it failed before) must not leave an unhandled rejection
    const entry = { grant, cancel };
    if (this.#closed) cancel();
    else if (this.#running < this.#width && this.#queue.length === 0) grant();
    else this.#queue.push(entry);
    return {
      get granted() { return granted; },
      ready,
      release: () => {
        if (done) return;
        done = true;
        if (granted) {
          this.#running--;
          this.#next();
        } else {
          const i = this.#queue.indexOf(entry);
          if (i >= 0) this.#queue.splice(i, 1);
          cancel();
        }
      },
    };
  }

  /** Calls off every queued run (their `ready` rejects) and every later one; turns held run on. */
  close(): void {
    this.#closed = true;
    for (const e of this.#queue.splice(0)) e.cancel();
  }

  #next(): void {
    while (this.#running < this.#width && this.#queue.length > 0) this.#queue.shift()!.grant();
  }
}
