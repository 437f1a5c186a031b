/**
 * What travels through Redis: a shard job ("predict these image ids of this
 * manifest with this model and these options") and its result (the
 * predicted image entries). Both are plain JSON, versioned, and checked on
 * arrival: a coordinator and a worker of different versions fail a job
 * with a message saying so instead of mixing formats.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { PredictOptions } from '../predict/run-predict.ts';
import type { RegionReport } from '../stitch/region-parts.ts';
import type { Quantization } from '../coco/quantization.ts';
import { DistributedError } from './errors.ts';

/** Bumped whenever ShardJobData or ShardResult change shape. */
export const JOB_FORMAT = 2;

/** Predict options that travel in a job: everything but what the job sets itself. */
export type ShardPredictOptions = Omit<PredictOptions, 'src' | 'dst' | 'model' | 'progress' | 'signal' | 'imageIds' | 'writeManifest' | 'onProgress' | 'shared' | 'region'>;

export interface ShardJobData {
  format: number;
  /** the run's queue name, for messages */
  run: string;
  /** e.g. `video-3` or `image-17` */
  shard: string;
  /** absolute paths on the shared filesystem */
  src: string;
  dst: string;
  model: { path: string; sha256: string };
  imageIds: number[];
  /** a region shard (`--shard region:SIZE`): this region of the one image, in output pixels */
  region?: { x: number; y: number; size: number };
  /** phase 2 of a two-phase region: quantize its kept floats with the whole image's quantization into its part (no model run) */
  quantizeRegion?: { report: RegionReport; quantization: Quantization };
  options: ShardPredictOptions;
}

export interface ShardResult {
  format: number;
  /** host and process that ran the shard */
  host: string;
  pid: number;
  windows: number;
  seconds: number;
  /** each predicted image's whole entry after prediction (kwcoco image dict) */
  images: Record<string, unknown>[];
  /** a region shard's part, coverage and COG options */
  region?: RegionReport;
}

/** Progress a running shard reports through `job.updateProgress`. */
export interface ShardProgress { windowsDone: number; windowsTotal: number; imagesDone: number; imagesTotal: number }

/** Prefix of every queue of ours (BullMQ keys are `bull:{queue}:...`). */
export const QUEUE_PREFIX = 'coco-stitcher-';

/** Redis set of the queues of runs in progress, which workers watch. */
export const RUNS_KEY = 'coco-stitcher:runs';

/** Pub/sub channel a coordinator announces a new run on (the message: its queue), so workers need not wait for their next poll. */
export const RUNS_CHANNEL = 'coco-stitcher:runs-changed';

/** Pub/sub channel a worker announces each finished job of a run on (the message: the job id), so its coordinator need not wait for its next poll. */
export function doneChannel(queue: string): string {
  return `coco-stitcher:done:${queue}`;
}

const RUN_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** The queue of a run: from `--run-id`, or derived from the resolved dst (the same command resumes the same run). */
export function queueName(runId: string | undefined, dst: string): string {
  if (runId !== undefined) {
    if (!RUN_ID.test(runId)) throw new DistributedError(`--run-id must be 1 to 100 letters, digits, '.', '_' or '-', got ${JSON.stringify(runId)}`);
    return QUEUE_PREFIX + runId;
  }
  return QUEUE_PREFIX + createHash('sha256').update(dst).digest('hex').slice(0, 16);
}

/**
 * A deterministic job id: the shard and a hash of everything that decides its
 * output, so re-adding a job is a no-op and a run with other arguments never
 * takes an earlier run's results.
 */
export function jobId(job: Omit<ShardJobData, 'run'>): string {
  const what: unknown[] = [job.format, job.src, job.dst, job.model, job.imageIds, job.options];
  if (job.region) what.push(job.region);
  if (job.quantizeRegion) what.push(job.quantizeRegion);
  const h = createHash('sha256').update(JSON.stringify(what)).digest('hex');
  return `${job.shard}-${h.slice(0, 16)}`;
}

/** sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a job's data as it arrives at a worker; throws naming the first problem. */
export function checkJobData(data: unknown, id: string | undefined): ShardJobData {
  const bad = (what: string) => new DistributedError(`job ${id ?? '?'}: ${what}`);
  if (!isRecord(data)) throw bad(`data must be an object, got ${typeof data}`);
  if (data.format !== JOB_FORMAT) {
    throw bad(`job format ${JSON.stringify(data.format)}, but this worker reads format ${JOB_FORMAT}: run the same coco-stitcher version on the coordinator and the workers`);
  }
  for (const k of ['run', 'shard', 'src', 'dst'] as const) {
    if (typeof data[k] !== 'string' || data[k] === '') throw bad(`${k} must be a non-empty string, got ${JSON.stringify(data[k])}`);
  }
  const m = data.model;
  if (!isRecord(m) || typeof m.path !== 'string' || typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) {
    throw bad(`model must be {path, sha256 (64 hex digits)}, got ${JSON.stringify(m)}`);
  }
  const ids = data.imageIds;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((g) => Number.isInteger(g))) {
    throw bad(`imageIds must be a non-empty list of integers, got ${JSON.stringify(ids)?.slice(0, 200)}`);
  }
  if (!isRecord(data.options)) throw bad(`options must be an object, got ${JSON.stringify(data.options)}`);
  const r = data.region;
  if (r !== undefined && (!isRecord(r) || ids.length !== 1 || !['x', 'y', 'size'].every((k) => Number.isInteger(r[k])))) {
    throw bad(`region must be {x, y, size} (integers) of a shard of one image, got ${JSON.stringify(r)} for images ${JSON.stringify(ids)}`);
  }
  const qr = data.quantizeRegion;
  if (qr !== undefined && (r === undefined || !isRecord(qr) || !isRecord(qr.report) || !isRecord(qr.quantization) || !isRecord(qr.report.floats))) {
    throw bad(`quantizeRegion must be {report (with floats), quantization} of a region shard, got ${JSON.stringify(qr)?.slice(0, 200)}`);
  }
  return data as unknown as ShardJobData;
}

/** Checks a finished job's result against the shard it was for; throws naming the first problem. */
export function checkResult(value: unknown, job: ShardJobData, id: string): ShardResult {
  const bad = (what: string) => new DistributedError(`the result of job ${id} (shard ${job.shard}) ${what}`);
  if (!isRecord(value)) throw bad(`is not an object: ${JSON.stringify(value)?.slice(0, 200)}`);
  if (value.format !== JOB_FORMAT) throw bad(`has format ${JSON.stringify(value.format)}, expected ${JOB_FORMAT} (mixed coco-stitcher versions?)`);
  if (!Array.isArray(value.images)) throw bad('has no images list');
  const got = value.images.map((img) => (isRecord(img) ? img.id : undefined));
  // phase 2 of a region returns no image entry (phase 1 did)
  const want = job.quantizeRegion ? [] : [...job.imageIds].sort((a, b) => a - b);
  const sorted = [...got].sort((a, b) => Number(a) - Number(b));
  if (sorted.length !== want.length || sorted.some((g, i) => g !== want[i])) {
    throw bad(`holds images ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
  if (job.region) {
    const r = value.region as RegionReport | undefined;
    if (!isRecord(r) || r.x !== job.region.x || r.y !== job.region.y || r.size !== job.region.size || typeof r.part !== 'string' || typeof r.asset !== 'string' || !isRecord(r.cog) || !isRecord(r.coverage)) {
      throw bad(`has no report of region x ${job.region.x}, y ${job.region.y} (got ${JSON.stringify(r)?.slice(0, 200)})`);
    }
  }
  return value as unknown as ShardResult;
}
