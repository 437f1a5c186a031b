/**
 * Errors of the distributed runner: each names the shard, job, host, path or
 * Redis URL it is about. They are CocoStitcherErrors (bad input or a broken
 * environment, not a bug), so the CLI exits 2 on them.
 */
import { CocoStitcherError } from '../array/errors.ts';

/** A job, its result, a worker's environment or the run cannot go on as asked. */
export class DistributedError extends CocoStitcherError {
  override name = 'DistributedError';
}
