/**
 * LZW and ZSTD tiles compressed on worker threads, one per CPU, so they
 * compress in parallel as DEFLATE does on libuv's pool: our LZW encoder is
 * JavaScript, and zstd-napi's simple API is synchronous, so on the main
 * thread either compresses one tile at a time. The workers start on first
 * use, are shared by every write of the process, and do not keep it alive
 * while idle. A raw tile is copied to its worker (the caller keeps and
 * reuses its buffer); the compressed tile's memory comes back transferred.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HorizontalLayout } from './compress.ts';

/** A codec run on the workers. */
export type WorkerCodecName = 'LZW' | 'ZSTD';

/** What the main thread sends a worker. */
export interface WorkerJob { id: number; codec: WorkerCodecName; level: number; horizontal: HorizontalLayout | null; raw: Uint8Array }
/** What a worker sends back. */
export type WorkerReply = { id: number; out: Uint8Array; error?: undefined } | { id: number; error: string; out?: undefined };

interface Pending { resolve: (out: Uint8Array) => void; reject: (err: Error) => void }

class CompressWorker {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;

  constructor(url: URL, onGone: (w: CompressWorker) => void) {
    // no inherited node flags: some (--input-type, say) stop a worker from loading a file
    this.worker = url.pathname.endsWith('.ts') ? tsxWorker(url) : new Worker(url, { execArgv: [] });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.error !== undefined) p.reject(new Error(`tile compression failed in a worker thread: ${reply.error}`));
      else p.resolve(reply.out);
    });
    const fail = (why: string) => {
      onGone(this);
      for (const p of this.pending.values()) p.reject(new Error(`tile compression worker thread ${why}`));
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(`failed: ${err.message}`));
    this.worker.on('exit', (code) => fail(`exited with code ${code}`));
  }

  run(job: WorkerJob): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref(); // a job in flight keeps the process alive
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job);
    });
  }
}

/**
 * Runs the worker's .ts module (under the tsx loader, as in tests and
 * benches, before a build): a worker thread has no loader of its own until
 * it registers one.
 */
function tsxWorker(url: URL): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, execArgv: [] });
}

const workers: CompressWorker[] = [];
let nextId = 0;
// the worker's module beside this one: .ts under the tsx loader, .js once built
const workerUrl = new URL(`./compress-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** Compresses `raw` (not modified, and free for reuse once this returns) on the least busy worker. */
export function compressOnWorker(codec: WorkerCodecName, level: number, horizontal: HorizontalLayout | null, raw: Uint8Array): Promise<Uint8Array> {
  const want = Math.max(1, availableParallelism());
  if (workers.length < want && workers.every((w) => w.pending.size > 0)) {
    workers.push(new CompressWorker(workerUrl, (gone) => {
      const i = workers.indexOf(gone);
      if (i >= 0) workers.splice(i, 1);
    }));
  }
  let best = workers[0];
  for (const w of workers) if (w.pending.size < best.pending.size) best = w;
  return best.run({ id: nextId++, codec, level, horizontal, raw });
}
