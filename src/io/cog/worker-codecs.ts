/**
 * LZW and ZSTD tiles compressed on worker threads, one per CPU, so they
 * compress in parallel as DEFLATE does on libuv's pool: our LZW encoder is
 * JavaScript, and zstd-napi's simple API is synchronous, so on the main
 * thread either compresses one tile at a time. The workers start on first
 * use, are shared by every write of the process, and do not keep it alive
 * while idle. Each tile in flight has a slot of shared memory, reused from
 * tile to tile: the raw tile is copied in, the worker predicts it in place
 * and compresses it into the rest of the slot, and the writer stores the
 * result from there, so neither side makes garbage per tile.
 */
import { availableParallelism } from 'node:os';
import { RequestWorker, siblingModule } from '../module-worker.ts';
import type { CompressName, HorizontalLayout, TileCompressor } from './compress.ts';
import { lzwBound } from './lzw-encode.ts';
import { InternalError } from '../../array/errors.ts';

/** A codec run on the workers. */
export type WorkerCodecName = Extract<CompressName, 'LZW' | 'ZSTD'>;

/** What the main thread sends a worker: the raw tile is slot[0, rawLength), the output goes from outOffset. */
export interface WorkerJob { id: number; codec: WorkerCodecName; level: number; horizontal: HorizontalLayout | null; slot: SharedArrayBuffer; rawLength: number; outOffset: number }
/** What a worker sends back: the output's length, or why it failed. */
export type WorkerReply = { id: number; length: number; error?: undefined } | { id: number; error: string; length?: undefined };

const workerUrl = siblingModule('compress-worker', import.meta.url);
const workers: RequestWorker<WorkerReply>[] = [];
let nextId = 0;

const startWorker = () => new RequestWorker<WorkerReply>(workerUrl, undefined, (end) => ('error' in end
  ? new InternalError(`tile compression worker thread failed: ${end.error.message}`, { cause: end.error })
  : new InternalError(`tile compression worker thread exited with code ${end.exitCode}`)));

/** Runs `job` (without its id) on the least busy worker; resolves with the output's length. */
export async function runOnWorker(job: Omit<WorkerJob, 'id'>): Promise<number> {
  for (let i = workers.length - 1; i >= 0; i--) if (workers[i].gone) workers.splice(i, 1);
  if (workers.length < Math.max(1, availableParallelism()) && workers.every((w) => w.awaited > 0)) workers.push(startWorker());
  let best = workers[0];
  for (const w of workers) if (w.awaited < best.awaited) best = w;
  const id = nextId++;
  const reply = await best.request(id, () => best.worker.postMessage({ ...job, id } satisfies WorkerJob));
  if (reply.error !== undefined) throw new InternalError(`tile compression failed in a worker thread: ${reply.error}`);
  return reply.length;
}

/** Room for the output of `n` raw bytes: LZW's worst case, which is past ZSTD's bound (n + n / 256 + 64 at most). */
const outputRoom = (n: number) => lzwBound(n) + 1024;

/**
 * A TileCompressor running `codec` on the workers for tiles of up to
 * `tileBytes` (a larger one gets a slot of its own). Its results are views
 * on slots, valid until release().
 */
export function workerCompressor(codec: WorkerCodecName, level: number, horizontal: HorizontalLayout | null, tileBytes: number): TileCompressor {
  const free: SharedArrayBuffer[] = [];
  const pooledSlots = new WeakSet<SharedArrayBuffer>();
  const newSlot = (n: number) => new SharedArrayBuffer(n + outputRoom(n));
  return {
    predicts: horizontal !== null,
    async compress(raw) {
      const pooled = raw.length <= tileBytes;
      let slot = pooled ? free.pop() : undefined;
      if (!slot) {
        slot = newSlot(pooled ? tileBytes : raw.length);
        if (pooled) pooledSlots.add(slot);
      }
      const outOffset = pooled ? tileBytes : raw.length;
      new Uint8Array(slot, 0, raw.length).set(raw); // the caller reuses raw once this resolves
      try {
        const length = await runOnWorker({ codec, level, horizontal, slot, rawLength: raw.length, outOffset });
        return new Uint8Array(slot, outOffset, length);
      } catch (err) {
        if (pooled) free.push(slot);
        throw err;
      }
    },
    release(out) {
      const slot = out.buffer;
      if (slot instanceof SharedArrayBuffer && pooledSlots.has(slot) && !free.includes(slot)) free.push(slot);
    },
  };
}
