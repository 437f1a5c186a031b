/**
 * The coordinator side of distributed predict: plans one job per shard,
 * adds them to the run's BullMQ queue under deterministic ids (adding again
 * is a no-op, so the same command resumes the same run), watches them
 * finish, merges their results into the src dataset and writes the output
 * manifest once, atomically. Results stay in Redis until that write, so a
 * killed coordinator loses nothing; the queue is removed after it.
 *
 * The watch is a poll with a watchdog: a job that vanished from Redis
 * (restarted without persistence) is added again, and Redis not answering
 * for `redisTimeoutSeconds` stops the run with an error naming the server.
 * Nothing here waits on Redis without a deadline. Workers announce each
 * finished job on the run's channel, which cuts the wait for the next poll
 * short, so the end of a run is seen at once; the poll stays the truth.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { settle } from '../predict/options.ts';
import { planImages } from '../predict/plan.ts';
import type { Queue, JobType } from 'bullmq';
import { CocoDataset } from '../coco/dataset.ts';
import { loadSource } from '../predict/load-source.ts';
import { moveToOutput } from '../predict/output.ts';
import type { PredictOptions } from '../predict/run-predict.ts';
import { createProgress } from '../predict/progress.ts';
import { bullConnection, describeConnection, loadIoRedis, openClient, RedisUnreachableError, subscribe, type RedisConnection } from './connection.ts';
import {
  JOB_FORMAT, RUNS_CHANNEL, RUNS_KEY, checkResult, doneChannel, jobId, queueName, sha256File,
  type ShardJobData, type ShardPredictOptions, type ShardProgress, type ShardResult,
} from './job-data.ts';
import { parseShard, planRegionShards, planShards, type ShardSpec } from './shards.ts';
import { mergeShardResult, removeStaleTempFiles } from './merge-results.ts';
import { assembleRegions, combinePhases, removeRegionParts, type RegionJob } from './assemble-regions.ts';
import { imageQuantization } from '../stitch/region-quantize.ts';
import type { Quantization } from '../coco/quantization.ts';
import { DistributedError } from './errors.ts';

export interface PredictDistributedOptions extends Omit<PredictOptions, 'model' | 'signal' | 'imageIds' | 'writeManifest' | 'onProgress' | 'shared' | 'region'> {
  /** the ONNX model file; every worker must see it at this path */
  model: string;
  /** names the run's queue; default derived from the resolved dst */
  runId?: string;
  /** one job per video (default), per image, or per SIZE x SIZE region of each image (`region:SIZE`, `region`: the default size) */
  shard?: ShardSpec;
  /** runs of a failing shard before it is reported (default 3) */
  attempts?: number;
  /** wait before the first retry, doubled for each next one (default 1000) */
  backoffMs?: number;
  /** how often the queue is looked at (default 500) */
  pollMs?: number;
  /** stop with an error when Redis has not answered for this long (default 60) */
  redisTimeoutSeconds?: number;
  /** stops waiting (the jobs stay queued; the same command resumes) */
  signal?: AbortSignal;
  /** one line per notable event */
  log?: (line: string) => void;
}

export interface FailedShard {
  shard: string;
  jobId: string;
  imageIds: number[];
  attempts: number;
  error: string;
}

export interface DistributedSummary {
  dst: string;
  /** the BullMQ queue of the run */
  queue: string;
  shards: number;
  /** images predicted (in shards that finished) */
  images: number;
  windows: number;
  /** shards whose results were already in Redis when this coordinator started */
  resumed: number;
  /** jobs added again after they vanished from Redis */
  readded: number;
  failed: FailedShard[];
  assets: string[];
  seconds: number;
}

/** Every state a job can be in: a job in none of them is gone. */
const ALL_STATES: JobType[] = ['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'];

/** Redis may go quiet this long within one poll before the poll counts as failed. */
const POLL_TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DistributedError(`no answer to ${what} within ${ms / 1000} s`)), ms); }),
  ]);
}

/** Least time between two polls, however many announcements come (a burst of small shards costs one poll). */
const MIN_POLL_GAP_MS = 20;

/** A sleep that an announcement cuts short; one that came while nobody slept cuts the next. */
class Wakeup {
  #pending = false;
  #wake: (() => void) | null = null;

  ring(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  /** Waits `ms`, or less when rung or when the signal aborts. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#pending || signal?.aborted) { this.#pending = false; return Promise.resolve(); }
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() { clearTimeout(t); self.#wake = null; signal?.removeEventListener('abort', done); resolve(); }
      this.#wake = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

interface PlannedJob { id: string; data: ShardJobData }

/** Runs predict through the workers of a Redis server and writes the output manifest. */
export async function predictDistributed(opts: PredictDistributedOptions, conn: { connection: RedisConnection }): Promise<DistributedSummary> {
  const t0 = performance.now();
  const {
    src: srcArg, dst: dstArg, model: modelArg, runId, shard = 'video', attempts = 3, backoffMs = 1000,
    pollMs = 500, redisTimeoutSeconds = 60, signal, log = () => {}, progress = false, ...rest
  } = opts;
  if (typeof modelArg !== 'string') throw new DistributedError('distributed predict needs the model as a file path every worker can read, not its bytes');
  if (!Number.isInteger(attempts) || attempts < 1) throw new DistributedError(`--attempts must be a positive integer, got ${attempts}`);
  if (!(backoffMs >= 0)) throw new DistributedError(`the retry backoff must be >= 0 ms, got ${backoffMs}`);
  if (!(pollMs > 0)) throw new DistributedError(`the poll interval must be > 0 ms, got ${pollMs}`);
  if (!(redisTimeoutSeconds > 0)) throw new DistributedError(`the Redis timeout must be > 0 s, got ${redisTimeoutSeconds}`);
  const bullmq = import('bullmq'); // loaded while the model is hashed and the src read
  bullmq.catch(() => {}); // awaited below
  const options: ShardPredictOptions = JSON.parse(JSON.stringify(rest));
  const src = resolve(srcArg);
  const dst = resolve(dstArg);
  const modelPath = resolve(modelArg);
  const name = queueName(runId, dst);
  const where = describeConnection(conn.connection);

  const modelSha = await sha256File(modelPath).catch((err: Error) => {
    throw new DistributedError(`model file ${modelPath} does not exist or is not readable: ${err.message}`);
  });
  const shardBy = parseShard(shard);
  if (shardBy.by === 'region' && (options.probFormat ?? 'cog') !== 'cog') {
    throw new DistributedError(`--shard region writes one COG per image from its regions' parts: --prob-format must be cog, got ${options.probFormat}`);
  }
  const input = await loadSource(src, { dst, channels: options.srcChannels });
  const shards = shardBy.by === 'region'
    // the asset grid of each image, as runPredict plans it (sizes only: nothing is allocated here)
    ? planRegionShards(planImages(input, settle({ ...options, src, dst, model: modelPath }), { memmap: true }), shardBy.size)
    : planShards(input, shardBy.by);
  const jobs: PlannedJob[] = shards.map((s) => {
    const data = {
      format: JOB_FORMAT, shard: s.key, src, dst, model: { path: modelPath, sha256: modelSha }, imageIds: s.imageIds,
      ...(s.region ? { region: s.region } : {}), options,
    };
    return { id: jobId(data), data: { ...data, run: name } };
  });
  const byId = new Map(jobs.map((j) => [j.id, j]));
  await mkdir(dirname(dst), { recursive: true });

  const client = await openClient(conn.connection); // RedisUnreachableError naming the URL
  client.on('error', () => {}); // outages show up as failing polls
  const { Queue } = await bullmq;
  // our own connection, so it can be cut when Redis is gone (closing the queue then never ends)
  const Redis = await loadIoRedis();
  const queueConn = new Redis(bullConnection(conn.connection, false));
  queueConn.on('error', () => {});
  const queue: Queue = new Queue(name, { connection: queueConn as never });
  queue.on('error', () => {});
  const wakeup = new Wakeup();
  const announcements = await subscribe(conn.connection, doneChannel(name), () => wakeup.ring());

  const jobOpts = (id: string) => ({
    jobId: id, attempts, backoff: { type: 'exponential', delay: backoffMs },
    removeOnComplete: false, removeOnFail: false,
  });
  const addJobs = (list: PlannedJob[]) => queue.addBulk(list.map((j) => ({ name: 'shard', data: j.data, opts: jobOpts(j.id) })));

  const results = new Map<string, ShardResult>();
  const failed = new Map<string, FailedShard>();
  let resumed = 0;
  let readded = 0;
  let finished = false;
  try {
    await withTimeout((async () => {
      await (client.sadd as (k: string, m: string) => Promise<number>)(RUNS_KEY, name);
      const present = await queue.getRanges(ALL_STATES, 0, -1);
      for (const id of new Set(present)) {
        if (!byId.has(id)) {
          // an earlier run with other arguments: its results are not ours
          await queue.remove(id).catch(() => 0);
          continue;
        }
        const state = await queue.getJobState(id);
        if (state === 'completed') resumed++;
        if (state === 'failed') await (await queue.getJob(id))?.retry('failed').catch(() => {});
      }
      await addJobs(jobs);
      // idle workers start on it now instead of at their next look at the run list
      await (client.publish as (c: string, m: string) => Promise<number>)(RUNS_CHANNEL, name);
    })(), 4 * POLL_TIMEOUT_MS, `setting up queue ${name} on ${where}`).catch((err: Error) => {
      throw new RedisUnreachableError(where, `could not set up queue ${name} on Redis at ${where}: ${err.message}; run the same command again to retry`, { cause: err });
    });
    log(`run queue ${name} on ${where}: ${jobs.length} shard(s)${resumed ? `, ${resumed} already done` : ''}`);

    const bars = createProgress(progress);
    const shardsBar = bars.bar('shards', jobs.length);
    const windowsBar = bars.bar('windows', 0);
    let windowsShown = 0;
    let windowsTotalShown = 0;
    const live = new Map<string, ShardProgress>();
    const showWindows = () => {
      let done = 0;
      let total = 0;
      for (const r of results.values()) { done += r.windows; total += r.windows; }
      for (const [id, p] of live) if (!results.has(id)) { done += p.windowsDone; total += p.windowsTotal; }
      if (total > windowsTotalShown) { windowsTotalShown = total; windowsBar.setTotal(total); }
      if (done > windowsShown) { windowsBar.increment(done - windowsShown); windowsShown = done; }
    };

    const collect = async () => {
      const [completed, failedIds] = await Promise.all([queue.getRanges(['completed'], 0, -1), queue.getRanges(['failed'], 0, -1)]);
      for (const id of completed) {
        const planned = byId.get(id);
        if (!planned || results.has(id)) continue;
        const job = await queue.getJob(id);
        if (!job) continue;
        results.set(id, checkResult(job.returnvalue, planned.data, id));
        failed.delete(id);
        shardsBar.increment();
      }
      for (const id of failedIds) {
        const planned = byId.get(id);
        if (!planned || failed.has(id) || results.has(id)) continue;
        const job = await queue.getJob(id);
        if (!job) continue;
        failed.set(id, { shard: planned.data.shard, jobId: id, imageIds: planned.data.imageIds, attempts: job.attemptsMade, error: job.failedReason ?? 'unknown error' });
        log(`shard ${planned.data.shard} (images ${planned.data.imageIds.join(',')}) failed after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
        shardsBar.increment();
      }
      if (progress) {
        for (const job of await queue.getJobs(['active'])) {
          const p = job.progress as ShardProgress | number;
          if (job.id && typeof p === 'object' && p !== null) live.set(job.id, p);
        }
        showWindows();
      }
    };

    // jobs that vanished (Redis restarted without persistence) are added again
    const reconcile = async () => {
      await (client.sadd as (k: string, m: string) => Promise<number>)(RUNS_KEY, name);
      const present = new Set(await queue.getRanges(ALL_STATES, 0, -1));
      const gone: PlannedJob[] = [];
      for (const j of jobs) {
        if (results.has(j.id) || failed.has(j.id) || present.has(j.id)) continue;
        // a job between two lists is in neither for a moment; its hash says it exists
        if (!(await queue.getJob(j.id))) gone.push(j);
      }
      if (gone.length) {
        await addJobs(gone);
        readded += gone.length;
        log(`${gone.length} job(s) had vanished from Redis at ${where} (restarted without persistence?): added again`);
      }
    };

    let lastReconcile = -Infinity;
    // two-phase regions: once every region of an image reported its range, phase 2 jobs quantize them with the image's
    const phase1 = jobs.filter((j) => j.data.region);
    const phase1ByImage = new Map<number, PlannedJob[]>();
    for (const j of phase1) {
      const list = phase1ByImage.get(j.data.imageIds[0]);
      if (list) list.push(j);
      else phase1ByImage.set(j.data.imageIds[0], [j]);
    }
    const phase2 = new Map<number, { quantization: Quantization; byPhase1: Map<string, PlannedJob> }>();
    const advance = async () => {
      for (const [gid, list] of phase1ByImage) {
        if (phase2.has(gid) || !list.every((j) => results.has(j.id))) continue;
        const reports = list.map((j) => results.get(j.id)!.region!);
        if (!reports.every((r) => r.floats)) continue; // one phase: the parts are written
        const quantization = imageQuantization(reports, `image ${gid}`);
        const byPhase1 = new Map<string, PlannedJob>();
        for (const j of list) {
          const data = { ...j.data, shard: `${j.data.shard}-q`, quantizeRegion: { report: results.get(j.id)!.region!, quantization } };
          const { run: _, ...rest } = data;
          const planned = { id: jobId(rest), data };
          byPhase1.set(j.id, planned);
          jobs.push(planned);
          byId.set(planned.id, planned);
        }
        await addJobs([...byPhase1.values()]);
        phase2.set(gid, { quantization, byPhase1 });
        shardsBar.setTotal(jobs.length);
        log(`image ${gid}: every region reported its range; quantizing ${list.length} region(s) with [${quantization.orig_min}, ${quantization.orig_max}]`);
      }
    };
    let lastAnswer = performance.now();
    let lastError = '';
    try {
      while (results.size + failed.size < jobs.length) {
        if (signal?.aborted) {
          throw Object.assign(new DistributedError(`stopped waiting; ${results.size} of ${jobs.length} shard(s) done. The jobs stay in queue ${name}: run the same command again to resume`), { interrupted: true });
        }
        const pollStarted = performance.now();
        try {
          await withTimeout(collect(), POLL_TIMEOUT_MS, `a poll of queue ${name}`);
          if (phase1.length) await withTimeout(advance(), POLL_TIMEOUT_MS, `adding phase 2 jobs to queue ${name}`);
          if (performance.now() - lastReconcile >= 5000) {
            await withTimeout(reconcile(), POLL_TIMEOUT_MS, `a check of queue ${name}`);
            lastReconcile = performance.now();
          }
          lastAnswer = performance.now();
          if (lastError !== '') log(`Redis at ${where} answers again`);
          lastError = '';
        } catch (err) {
          if (err instanceof Error && /^the result of job/.test(err.message)) throw err;
          const message = /enableOfflineQueue|Connection is closed/.test((err as Error).message) ? 'not connected' : (err as Error).message;
          if (lastError === '') log(`Redis at ${where} does not answer (${message}); retrying for up to ${redisTimeoutSeconds} s`);
          lastError = message;
          if (performance.now() - lastAnswer > redisTimeoutSeconds * 1000) {
            throw new RedisUnreachableError(where, `lost Redis at ${where}: no answer for ${redisTimeoutSeconds} s (${lastError}). `
              + `The finished shards are kept in Redis (unless it lost its data); run the same command again once it is back to resume`);
          }
        }
        if (results.size + failed.size < jobs.length) {
          await wakeup.sleep(pollMs, signal);
          const since = performance.now() - pollStarted;
          if (since < MIN_POLL_GAP_MS) await new Promise((r) => setTimeout(r, MIN_POLL_GAP_MS - since));
        }
      }
    } finally {
      bars.stop();
    }

    if (results.size === 0 && failed.size > 0) {
      const first = [...failed.values()][0];
      await queue.obliterate({ force: true }).catch(() => {});
      await (client.srem as (k: string, m: string) => Promise<number>)(RUNS_KEY, name).catch(() => 0);
      throw new DistributedError(`every shard failed (${failed.size}); the first, ${first.shard} (images ${first.imageIds.join(',')}), after ${first.attempts} attempt(s): ${first.error}`);
    }

    const out = input.copy();
    // as runPredict: the same paths, relative where the output stays in the bundle
    moveToOutput(out, dst);
    const claimed = new Map<string, number>();
    const assets: string[] = [];
    let images = 0;
    let windows = 0;
    const regionJobs: RegionJob[] = [];
    for (const j of jobs) {
      const r = results.get(j.id);
      if (j.data.quantizeRegion) continue; // with its phase 1 job
      if (j.data.region) {
        const p2 = phase2.get(j.data.imageIds[0]);
        const q = p2?.byPhase1.get(j.id);
        const r2 = q ? results.get(q.id) : undefined;
        // a two-phase region is done when its phase 2 is
        const result = !r || !r.region?.floats ? r ?? null : r2 && p2 ? combinePhases(r, r2.region!, p2.quantization, dst) : null;
        regionJobs.push({ id: q && r2 ? q.id : j.id, data: j.data, result });
        continue;
      }
      if (!r) continue;
      assets.push(...mergeShardResult(out, r, j.data.shard, claimed));
      images += r.images.length;
      windows += r.windows;
    }
    let partDirs: string[] = [];
    if (regionJobs.length) {
      // a part that is gone (removed by hand, a lost disk) is redone by the next run of this command
      const assembled = await assembleRegions(regionJobs, {
        log, onMissingPart: async (id) => { await queue.remove(id).catch(() => 0); },
      });
      for (const a of assembled.images) {
        assets.push(...mergeShardResult(out, a.result, a.shard, claimed));
        images++;
      }
      windows += assembled.windows;
      partDirs = assembled.partDirs;
    }
    await removeStaleTempFiles(assets);
    await out.dump(dst);
    // the parts are in the assembled COGs, which the manifest lists now
    await removeRegionParts(partDirs);
    // the manifest holds everything now: the queue and its results can go
    await queue.obliterate({ force: true }).catch((err: Error) => log(`could not remove queue ${name}: ${err.message}`));
    await (client.srem as (k: string, m: string) => Promise<number>)(RUNS_KEY, name).catch(() => 0);
    finished = true;
    return {
      dst, queue: name, shards: jobs.length, images, windows, resumed, readded,
      failed: [...failed.values()], assets, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await withTimeout(queue.close(), POLL_TIMEOUT_MS, `closing queue ${name}`).catch(() => {});
    // closing writes the queue's meta key again; nothing of a finished run stays
    if (finished) await (client.del as (k: string) => Promise<number>)(`bull:${name}:meta`).catch(() => 0);
    announcements.close();
    client.disconnect();
    queueConn.disconnect();
  }
}
