/**
 * The worker thread behind ./worker-codecs.ts: compresses tiles with the
 * codecs that would otherwise run on the main thread one tile at a time
 * (our LZW, zstd-napi's synchronous ZSTD), applying predictor 2 first.
 * One message in, one out: { id, out } with the output's memory
 * transferred, or { id, error }.
 */
import { parentPort } from 'node:worker_threads';
import { lzwEncode } from './lzw-encode.ts';
import { applyHorizontal } from './predictor-encode.ts';
import type { WorkerJob, WorkerReply } from './worker-codecs.ts';

type ZstdCompress = (data: Uint8Array, params?: { compressionLevel?: number }) => Uint8Array;
let zstd: ZstdCompress | null = null;

async function compress(job: WorkerJob): Promise<Uint8Array> {
  const { raw, horizontal: h } = job;
  if (h) applyHorizontal(raw, h.sampleBytes, h.width, h.spp);
  if (job.codec === 'LZW') return lzwEncode(raw);
  if (job.codec !== 'ZSTD') throw new Error(`unknown codec ${JSON.stringify(job.codec)} (expected LZW or ZSTD)`);
  zstd ??= ((await import('zstd-napi')) as unknown as { compress: ZstdCompress }).compress;
  return zstd(raw, { compressionLevel: job.level });
}

parentPort!.on('message', (job: WorkerJob) => {
  compress(job).then(
    (out) => {
      // only memory the output owns alone can be handed over
      const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
      parentPort!.postMessage({ id: job.id, out: own } satisfies WorkerReply, [own.buffer as ArrayBuffer]);
    },
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: (err as Error)?.message ?? String(err) } satisfies WorkerReply),
  );
});
