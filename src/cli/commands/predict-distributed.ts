/**
 * `coco-stitcher predict --queue redis://...`: the coordinator of a
 * distributed run (src/distributed), loaded only when --queue is given.
 * Exit codes: 0 all shards done, 3 some failed every attempt (the manifest
 * has all the others), 2 bad input or Redis unreachable, 130 interrupted
 * (the jobs stay queued; the same command resumes).
 */
import type { PredictOptions } from '../../predict/run-predict.ts';
import { CliExit, EXIT } from '../exit.ts';
import { cliIo } from '../io.ts';
import { DistributedError } from '../../distributed/errors.ts';
import type { ShardSpec } from '../../distributed/shards.ts';

interface QueueArgs { queue: string; runId?: string; shard: ShardSpec; attempts: number; backoff: number; redisTimeout: number }

export async function predictDistributedCommand(options: PredictOptions, o: QueueArgs): Promise<void> {
  if (typeof options.model !== 'string') throw new DistributedError('--queue needs --model as a file path');
  const { predictDistributed } = await import('../../distributed/index.ts');
  const { signal, ...rest } = options;
  let summary;
  try {
    summary = await predictDistributed({
      ...rest, model: options.model, runId: o.runId, shard: o.shard, attempts: o.attempts,
      backoffMs: o.backoff * 1000, redisTimeoutSeconds: o.redisTimeout, signal,
      log: (line) => cliIo.err(`${line}\n`),
    }, { connection: o.queue });
  } catch (err) {
    if ((err as { interrupted?: boolean }).interrupted) {
      cliIo.err(`${(err as Error).message}\n`);
      throw new CliExit(EXIT.interrupted);
    }
    throw err;
  }
  const s = summary;
  cliIo.out(
    `wrote ${s.images} image(s), ${s.windows} window(s) from ${s.shards - s.failed.length} of ${s.shards} shard(s) -> ${s.dst}\n`
    + `time ${s.seconds.toFixed(2)} s (queue ${s.queue}${s.resumed ? `, ${s.resumed} shard(s) resumed` : ''}${s.readded ? `, ${s.readded} job(s) re-added after Redis lost them` : ''})\n`,
  );
  if (s.failed.length) {
    for (const f of s.failed) {
      cliIo.err(`shard ${f.shard} failed after ${f.attempts} attempt(s), images ${f.imageIds.join(',')} not predicted: ${f.error}\n`);
    }
    cliIo.err(`partial: ${s.failed.length} of ${s.shards} shard(s) failed; the manifest has every other image\n`);
    throw new CliExit(EXIT.partial);
  }
}
