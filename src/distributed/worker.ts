/**
 * The worker side: runs shard jobs of every run in progress on a Redis
 * server, each through the same runPredict as local predict (a shard is
 * "predict these image ids", the manifest is not written: the result goes
 * back through Redis). Runs are found in the RUNS_KEY set, which
 * coordinators keep up to date; one BullMQ Worker per run queue.
 *
 * A job is refused with a clear failure when this host cannot see the src
 * manifest or the dst folder (the bundle must be on a shared filesystem) or
 * when its model file's sha256 is not the one the coordinator hashed.
 *
 * One process holds one shard more than it computes: the next one is set up
 * (src parsed once per process, model loaded once, first windows read) and
 * waits for its turn at the model (../predict/model-lane.ts), which it gets
 * as soon as the running shard's model work is done, while that shard's
 * last images are still being written. So the model does not idle between
 * shards, as it does not between videos of a local predict. Images of every
 * shard go through one writer queue, so memory stays as a local run's.
 * A new run is noticed at once through a Redis message (and by polling the
 * run list, in case one was missed); each finished job is announced to its
 * coordinator the same way.
 */
import { access, mkdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Job, Worker } from 'bullmq';
import { RunCancelledError } from '../predict/errors.ts';
import { loadModel, type Model } from '../predict/model.ts';
import { ModelLane, type ModelTurn } from '../predict/model-lane.ts';
import { runPredict, type SharedRun } from '../predict/run-predict.ts';
import { quantizeRegionPart } from '../stitch/region-quantize.ts';
import { SourceCache } from '../predict/source-cache.ts';
import { WriterQueue } from '../stitch/writer-queue.ts';
import { bullConnection, describeConnection, openClient, subscribe, type RedisConnection } from './connection.ts';
import {
  JOB_FORMAT, QUEUE_PREFIX, RUNS_CHANNEL, RUNS_KEY, checkJobData, doneChannel, sha256File,
  type ShardJobData, type ShardProgress, type ShardResult,
} from './job-data.ts';
import { DistributedError } from './errors.ts';
import { InternalError } from '../array/errors.ts';

export interface StartWorkerOptions {
  connection: RedisConnection;
  /** shards whose model work runs at once in this process (default 1); the process holds one shard more, ready to start */
  concurrency?: number;
  /** stop after this many seconds without a job (default: never) */
  idleExitSeconds?: number;
  /** only this run's queue (its --run-id); default: every run in progress */
  runId?: string;
  /** a job whose worker stops renewing its lock (killed) is given to another worker after this long (default 30000) */
  lockMs?: number;
  /** how often the run list is read again (default 500) */
  discoverMs?: number;
  /** onnxruntime threads per model (default: onnxruntime decides) */
  threads?: number;
  /** least time between two progress reports of one job, besides one per finished image (default 1000) */
  progressMs?: number;
  /** one line per event (job started, done, failed) */
  log?: (line: string) => void;
}

export interface WorkerHandle {
  /** stops taking jobs; `force` false: waits for the running jobs to finish; true: hands them back at once (they run again elsewhere after the lock time) */
  close(force?: boolean): Promise<void>;
  /** resolves when the worker has stopped (closed, or idle past idleExitSeconds) */
  readonly done: Promise<void>;
  /** jobs this process finished and failed so far */
  readonly counts: { completed: number; failed: number };
}

/** Loaded models, by path, sha256 and threads; each loaded once per process. */
class ModelCache {
  #models = new Map<string, Promise<Model>>();
  #sha = new Map<string, { size: number; mtimeMs: number; sha256: Promise<string> }>();

  /** The model of `path` after checking its content is `sha256`. */
  async get(path: string, sha256: string, threads: number | undefined): Promise<Model> {
    const st = await stat(path).catch((err: Error) => {
      throw new DistributedError(`host ${hostname()} cannot read the model file ${path}: ${err.message} (it must be on a filesystem every worker sees)`);
    });
    let known = this.#sha.get(path);
    if (!known || known.size !== st.size || known.mtimeMs !== st.mtimeMs) {
      known = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256File(path) };
      known.sha256.catch(() => {});
      this.#sha.set(path, known);
    }
    const got = await known.sha256;
    if (got !== sha256) {
      throw new DistributedError(`model file ${path} on host ${hostname()} has sha256 ${got}, but the run was started with sha256 ${sha256}: the file changed since, or this host sees another file at that path`);
    }
    const key = `${path}\0${sha256}\0${threads ?? 0}`;
    let model = this.#models.get(key);
    if (!model) {
      model = loadModel(path, { threads });
      this.#models.set(key, model);
      model.catch(() => this.#models.delete(key));
    }
    return model;
  }

  async closeAll(): Promise<void> {
    const all = [...this.#models.values()];
    this.#models.clear();
    for (const m of all) await m.then((x) => x.close(), () => {});
  }
}

/** Fails (naming the path and this host) unless the src manifest is readable and the dst folder writable here. */
async function checkSharedPaths(job: ShardJobData): Promise<void> {
  await access(job.src, constants.R_OK).catch((err: Error) => {
    throw new DistributedError(`host ${hostname()} cannot read the src manifest ${job.src} (${err.message}); the bundle must be on a filesystem every worker sees (NFS, EFS, Lustre, a mounted bucket)`);
  });
  const dir = dirname(job.dst);
  await access(dir, constants.W_OK).catch((err: Error) => {
    throw new DistributedError(`host ${hostname()} cannot write the dst folder ${dir} (${err.message}); the bundle must be on a filesystem every worker sees (NFS, EFS, Lustre, a mounted bucket)`);
  });
}

/** Runs one shard: the predicted image entries, taken from the result dataset. */
async function runShard(job: Job, models: ModelCache, shared: SharedRun, threads: number | undefined, progressMs: number, onFirstOutput: () => void): Promise<ShardResult> {
  const t0 = performance.now();
  const data = checkJobData(job.data, job.id);
  await checkSharedPaths(data);
  if (data.quantizeRegion) {
    const { report, quantization } = data.quantizeRegion;
    const region = await quantizeRegionPart(report, quantization);
    return { format: JOB_FORMAT, host: hostname(), pid: process.pid, windows: 0, seconds: (performance.now() - t0) / 1000, images: [], region };
  }
  const model = await models.get(data.model.path, data.model.sha256, threads);
  if (typeof data.options.memmap === 'string') await mkdir(data.options.memmap, { recursive: true });
  let last = 0;
  let imagesReported = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const onProgress = (p: ShardProgress) => {
    if (p.windowsDone > 0) onFirstOutput();
    const t = performance.now();
    // one report per finished image, and at most one per progressMs between: never one per window
    if (p.imagesDone === imagesReported && t - last < progressMs) return;
    last = t;
    imagesReported = p.imagesDone;
    pending = job.updateProgress({ ...p }).catch(() => {}); // progress is best effort
  };
  const summary = await runPredict({
    ...data.options, src: data.src, dst: data.dst, model, imageIds: data.imageIds,
    ...(data.region ? { region: { imageId: data.imageIds[0], ...data.region } } : {}),
    writeManifest: false, progress: false, onProgress, shared,
  });
  await pending;
  if (summary.interrupted) throw new DistributedError(`shard ${data.shard} was interrupted`);
  const images = data.imageIds.map((gid) => {
    const img = summary.dataset.index.imgs.get(gid);
    if (!img) throw new InternalError(`image ${gid} is missing from the result dataset`);
    return JSON.parse(JSON.stringify(img)) as Record<string, unknown>;
  });
  if (data.region && !summary.region) throw new InternalError(`shard ${data.shard}: the region's part was not reported`);
  return {
    format: JOB_FORMAT, host: hostname(), pid: process.pid, windows: summary.windows,
    seconds: (performance.now() - t0) / 1000, images, ...(summary.region ? { region: summary.region } : {}),
  };
}

/** Starts a worker process's job loop; returns at once (after checking Redis answers). */
export async function startWorker(opts: StartWorkerOptions): Promise<WorkerHandle> {
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new DistributedError(`--concurrency must be a positive integer, got ${concurrency}`);
  const idle = opts.idleExitSeconds;
  if (idle !== undefined && !(idle > 0)) throw new DistributedError(`--idle-exit must be a positive number of seconds, got ${idle}`);
  const lockMs = opts.lockMs ?? 30_000;
  if (!(lockMs >= 100)) throw new DistributedError(`the lock time must be at least 100 ms, got ${lockMs}`);
  const log = opts.log ?? (() => {});
  const where = describeConnection(opts.connection);
  const only = opts.runId === undefined ? undefined : QUEUE_PREFIX + opts.runId;

  const client = await openClient(opts.connection); // throws naming the URL when Redis is not there
  client.on('error', () => {}); // outages are retried below
  const { Worker, WaitingError } = await import('bullmq');
  const models = new ModelCache();
  const lane = new ModelLane(concurrency);
  const writerQueue = new WriterQueue({ maxInFlight: 2 });
  const sources = new SourceCache();
  // resolves once the shard taken last has its first model output (or ended)
  let lastWarm: Promise<void> = Promise.resolve();
  const workers = new Map<string, Worker>();
  const counts = { completed: 0, failed: 0 };
  let active = 0;
  const activeIn = new Map<string, number>();
  let lastActivity = performance.now();
  let closing: Promise<void> | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });

  const startQueue = (name: string) => {
    const processor = async (job: Job, token?: string) => {
      activeIn.set(name, (activeIn.get(name) ?? 0) + 1);
      active++;
      lastActivity = performance.now();
      const what = `job ${job.id} (images ${(job.data as ShardJobData).imageIds?.join(',')})`;
      const attempt = `attempt ${job.attemptsMade + 1}`;
      const turn: ModelTurn = lane.take();
      const ahead = lastWarm;
      let warm!: () => void;
      lastWarm = new Promise<void>((r) => { warm = r; });
      if (turn.granted) log(`${what} started, ${attempt}`);
      else {
        log(`${what} taken, ${attempt}: set up while the shard ahead of it uses the model`);
        turn.ready.then(() => log(`${what} started, ${attempt}`), () => {});
      }
      try {
        // a shard that must wait sets up (src, plan, first reads) once the one ahead has the model busy, so it does not slow that one's start
        if (!turn.granted) await ahead;
        return await runShard(job, models, { modelTurn: turn, writerQueue, loadSource: sources.load }, opts.threads, opts.progressMs ?? 1000, warm);
      } catch (err) {
        if (err instanceof RunCancelledError && token !== undefined) {
          // the worker is stopping and this job never reached the model: back to the queue for another worker, no attempt spent
          await job.moveToWait(token);
          log(`job ${job.id} handed back before it started`);
          throw new WaitingError();
        }
        throw err;
      } finally {
        warm();
        turn.release();
        activeIn.set(name, activeIn.get(name)! - 1);
        active--;
        lastActivity = performance.now();
      }
    };
    const w = new Worker(name, processor, {
      connection: bullConnection(opts.connection, true) as never,
      concurrency: concurrency + 1,
      lockDuration: lockMs,
      stalledInterval: Math.max(100, Math.round(lockMs / 2)),
      maxStalledCount: 2,
      autorun: true,
    });
    // the coordinator waits for these (and polls, in case one is lost)
    const announce = (id: string | undefined) => {
      if (id) void (client.publish as (c: string, m: string) => Promise<number>)(doneChannel(name), id).catch(() => 0);
    };
    w.on('completed', (job) => {
      announce(job.id);
      counts.completed++;
      const r = job.returnvalue as ShardResult;
      log(`job ${job.id} done: ${r.windows} window(s) in ${r.seconds.toFixed(2)} s`);
    });
    w.on('failed', (job, err) => {
      if (job) counts.failed++;
      announce(job?.id);
      log(`job ${job?.id ?? '?'} failed: ${err.message}`);
    });
    w.on('error', (err) => log(`queue ${name}: ${err.message}`));
    workers.set(name, w);
    log(`watching run queue ${name} on ${where}`);
  };

  const discover = async () => {
    if (only) { if (!workers.has(only)) startQueue(only); return; }
    const names = await (client.smembers as (k: string) => Promise<string[]>)(RUNS_KEY).catch(() => null);
    if (!names) return; // Redis away for a moment: keep the queues we have
    for (const n of names) if (n.startsWith(QUEUE_PREFIX) && !workers.has(n)) startQueue(n);
    // a finished run's queue is let go once none of its jobs runs here
    const listed = new Set(names);
    for (const [n, w] of workers) {
      if (listed.has(n) || (activeIn.get(n) ?? 0) > 0) continue;
      workers.delete(n);
      void w.close().catch(() => {});
      log(`run queue ${n} is finished: no longer watched`);
    }
  };

  const close = (force = false): Promise<void> => {
    if (closing && !force) return closing;
    clearInterval(timer);
    lane.close(); // shards waiting for the model go back to the queue
    closing = (async () => {
      runsChanged.close();
      await Promise.all([...workers.values()].map((w) => w.close(force).catch(() => {})));
      await models.closeAll();
      client.disconnect();
      resolveDone();
    })();
    return closing;
  };

  await discover();
  // a new run is picked up at once; the poll below stays for messages missed while Redis was away
  const runsChanged = await subscribe(opts.connection, RUNS_CHANNEL, () => { if (!closing) void discover(); });
  const timer = setInterval(() => {
    if (closing) return;
    if (idle !== undefined && active === 0 && performance.now() - lastActivity > idle * 1000) {
      log(`no job for ${idle} s: stopping`);
      void close();
      return;
    }
    void discover();
  }, Math.min(opts.discoverMs ?? 500, idle !== undefined ? Math.max(100, idle * 250) : Infinity));

  return { close, done, counts };
}
