/**
 * `coco-stitcher worker --queue redis://...`: runs the shard jobs of every
 * distributed predict run on that Redis (src/distributed). SIGTERM or
 * SIGINT: no new jobs, a shard still waiting for the model goes back to the
 * queue, the running ones finish, exit 0; a second signal hands them back at
 * once (another worker redoes them after the lock time).
 */
import { Command } from 'commander';
import { hostname } from 'node:os';
import { parseNumber } from '../parse.ts';
import { cliIo } from '../io.ts';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run shard jobs of distributed predict runs (`predict --queue`) from a Redis server; the bundle must be on a filesystem every worker sees')
    .requiredOption('--queue <redis-url>', 'the Redis of the runs: redis://HOST:PORT[/DB]')
    .option('--concurrency <n>', 'shards whose model work runs at once in this process (one more is held, set up and waiting)', parseNumber('concurrency'), 1)
    .option('--idle-exit <seconds>', 'exit after this long without a job (default: run until stopped)', parseNumber('idle-exit'))
    .option('--run-id <id>', 'only this run (default: every run on this Redis)')
    .option('--lock <seconds>', 'a job of a worker that stops answering (killed) goes to another worker after this long', parseNumber('lock'), 30)
    .option('--threads <n>', 'model threads (default: onnxruntime decides)', parseNumber('threads'))
    .action(async (o) => {
      const { startWorker } = await import('../../distributed/index.ts');
      const tag = `worker ${hostname()}:${process.pid}`;
      const log = (line: string) => cliIo.err(`${new Date().toISOString()} ${tag}: ${line}\n`);
      const handle = await startWorker({
        connection: o.queue, concurrency: o.concurrency, idleExitSeconds: o.idleExit, runId: o.runId,
        lockMs: o.lock * 1000, threads: o.threads, log,
      });
      let signals = 0;
      const onSignal = (sig: string) => {
        signals++;
        if (signals === 1) {
          log(`${sig}: taking no new jobs, finishing the running ones (send it again to hand them back now)`);
          void handle.close(false);
        } else {
          log(`${sig} again: handing the running jobs back`);
          void handle.close(true);
        }
      };
      const term = () => onSignal('SIGTERM');
      const int = () => onSignal('SIGINT');
      process.on('SIGTERM', term);
      process.on('SIGINT', int);
      log(`started (concurrency ${o.concurrency}${o.idleExit ? `, idle exit ${o.idleExit} s` : ''})`);
      try {
        await handle.done;
      } finally {
        process.removeListener('SIGTERM', term);
        process.removeListener('SIGINT', int);
      }
      log(`stopped: ${handle.counts.completed} job(s) done, ${handle.counts.failed} failed`);
    });
}
