/**
 * Worker threads on our own modules, built or not: the compiled .js runs as
 * it is, and the .ts source (under the tsx loader, as in tests and benches
 * before a build) first registers tsx in the worker's own thread, which has
 * no loader otherwise. No node flags are inherited: some (--input-type, say)
 * stop a worker from loading a file.
 */
import { Worker } from 'node:worker_threads';

/** The URL of module `name` beside the module at `base` (its import.meta.url), with base's extension. */
export function siblingModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/** Starts a worker thread running the module at `url`, with `workerData`. */
export function startModuleWorker(url: URL, workerData?: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { execArgv: [], workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, execArgv: [], workerData });
}

/** Why a worker is gone: it threw, or it exited. */
export type WorkerEnd = { error: Error } | { exitCode: number };

/**
 * A module worker that answers requests: each request carries an `id`, and
 * each reply names the id it answers. The worker keeps the process alive
 * only while a reply is awaited. Once it fails or exits, every awaited reply
 * and every later request rejects with the error `gone` makes of why.
 */
export class RequestWorker<Reply extends { id: number }> {
  readonly worker: Worker;
  readonly #awaited = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();
  #gone: Error | null = null;

  constructor(url: URL, workerData: unknown, gone: (end: WorkerEnd) => Error) {
    this.worker = startModuleWorker(url, workerData);
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const p = this.#awaited.get(reply.id);
      if (!p) return;
      this.#awaited.delete(reply.id);
      this.#hold();
      p.resolve(reply);
    });
    const fail = (err: Error) => {
      this.#gone ??= err;
      for (const p of this.#awaited.values()) p.reject(this.#gone);
      this.#awaited.clear();
      this.#hold();
    };
    this.worker.on('error', (error) => fail(gone({ error })));
    this.worker.on('exit', (exitCode) => fail(gone({ exitCode })));
  }

  /** Replies awaited now. */
  get awaited(): number { return this.#awaited.size; }

  /** Why the worker is gone, or null while it runs. */
  get gone(): Error | null { return this.#gone; }

  /** Awaits the reply with `id`; `send` posts the request (none: the worker speaks first). */
  request(id: number, send?: () => void): Promise<Reply> {
    if (this.#gone) return Promise.reject(this.#gone);
    const reply = new Promise<Reply>((resolve, reject) => this.#awaited.set(id, { resolve, reject }));
    this.#hold();
    send?.();
    return reply;
  }

  /** A reply awaited keeps the process alive; an idle worker does not. */
  #hold(): void {
    if (this.#awaited.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
