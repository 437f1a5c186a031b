/**
 * The worker thread behind ./worker-codecs.ts: compresses tiles with the
 * codecs that would otherwise run on the main thread one tile at a time
 * (our LZW, ZSTD through zstd-napi), applying predictor 2 first. The raw
 * tile and the room for its output are one shared slot of the main
 * thread's; the reply is { id, length } or { id, error }. Nothing here
 * allocates per tile, so an idle worker holds no dead tiles.
 */
import { parentPort } from 'node:worker_threads';
import { lzwEncode } from './lzw-encode.ts';
import { applyHorizontal } from './predictor-encode.ts';
import type { WorkerJob, WorkerReply } from './worker-codecs.ts';
import { InternalError } from '../../array/errors.ts';

interface ZstdContext { compress(dst: Uint8Array, src: Uint8Array, level: number): number }
let zstd: ZstdContext | null = null;

async function compress(job: WorkerJob): Promise<number> {
  const raw = new Uint8Array(job.slot, 0, job.rawLength);
  const out = new Uint8Array(job.slot, job.outOffset, job.slot.byteLength - job.outOffset);
  const h = job.horizontal;
  if (h) applyHorizontal(raw, h.sampleBytes, h.width, h.spp);
  if (job.codec === 'LZW') {
    const stream = lzwEncode(raw, out);
    if (stream.buffer !== job.slot) throw new InternalError(`LZW stream of ${stream.length} bytes is past the slot's ${out.length}`);
    return stream.length;
  }
  if (job.codec !== 'ZSTD') throw new InternalError(`unknown codec ${JSON.stringify(job.codec)} (expected LZW or ZSTD)`);
  if (!zstd) {
    const binding = (await import('zstd-napi/binding.js' as string)) as { default?: { CCtx: new () => ZstdContext }; CCtx?: new () => ZstdContext };
    zstd = new (binding.CCtx ?? binding.default!.CCtx)();
  }
  return zstd.compress(out, raw, job.level);
}

parentPort!.on('message', (job: WorkerJob) => {
  compress(job).then(
    (length) => parentPort!.postMessage({ id: job.id, length } satisfies WorkerReply),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: (err as Error)?.message ?? String(err) } satisfies WorkerReply),
  );
});
