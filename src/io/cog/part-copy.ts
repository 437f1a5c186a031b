/**
 * The streaming copy behind assembleCogFromParts: the runs of part bytes,
 * in the output's order. With the native addon each run is copied inside
 * the kernel (copy_file_range on the thread pool, several at once), as `cp`
 * does; without it they are read straight into a large output buffer
 * (several reads in flight), which is written while the next one fills.
 * Either way no pixel passes through JavaScript and memory is bounded
 * whatever the image.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { FormatError, IoError } from '../errors.ts';
import { Limiter } from '../concurrency.ts';
import { writeAll } from './level-sink.ts';
import type { PartIndex } from './region-part-format.ts';
import { nativeAddon } from '../native-addon.ts';

/** Reads of part bytes in flight at once. */
const READS_IN_FLIGHT = 4;
/** Kernel copies queued at once: enough to keep every thread of libuv's pool busy. */
const COPIES_IN_FLIGHT = 2 * (Number(process.env.UV_THREADPOOL_SIZE) || 4);

/**
 * Open part files, kept open while they are read (a level's runs go round
 * a row of regions), at most `limit` at once: a grid may have thousands of
 * regions. Past the limit the open handles are retired, and closed by
 * `closeRetired` once no read of them can be in flight.
 */
export class PartFiles {
  readonly #open = new Map<string, Promise<FileHandle>>();
  #retired: Promise<FileHandle>[] = [];
  constructor(readonly limit = 256) {}

  get(part: PartIndex): Promise<FileHandle> {
    let fh = this.#open.get(part.path);
    if (fh) return fh;
    if (this.#open.size >= this.limit) {
      this.#retired.push(...this.#open.values());
      this.#open.clear();
    }
    fh = open(part.path, 'r').catch((err: unknown) => {
      throw new IoError(`cannot open region part ${part.path}: ${(err as Error).message}`, part.path, { cause: err });
    });
    fh.catch(() => {}); // awaited by its readers
    this.#open.set(part.path, fh);
    return fh;
  }

  /** Whether handles wait in `closeRetired`. */
  get hasRetired(): boolean { return this.#retired.length > 0; }

  /** Closes the retired handles; call when no read is in flight. */
  async closeRetired(): Promise<void> {
    const all = this.#retired;
    this.#retired = [];
    await Promise.all(all.map((p) => p.then((fh) => fh.close()).catch(() => {})));
  }

  /** Closes every handle; call when no read is in flight. */
  async closeAll(): Promise<void> {
    const all = [...this.#retired, ...this.#open.values()];
    this.#open.clear();
    this.#retired = [];
    await Promise.all(all.map((p) => p.then((fh) => fh.close()).catch(() => {})));
  }
}

/** Reads exactly `length` bytes at `position` into `buf` from `offset`; a short file is a FormatError naming the part. */
export async function readRun(fh: FileHandle, part: PartIndex, buf: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  for (let off = 0; off < length;) {
    const { bytesRead } = await fh.read(buf, offset + off, length - off, position + off);
    if (bytesRead === 0) throw new FormatError(`${part.path}: region part ended at byte ${position + off} while being assembled (changed since it was checked?)`, part.path);
    off += bytesRead;
  }
}

/** A run of bytes of one part, in the order the output wants them; it starts with the size leader of a tile of `firstCount` bytes. */
export interface PartRun { part: PartIndex; at: number; length: number; firstCount: number }

/** The error for a run whose first size leader is not the one its part's index gives. */
function leaderError(run: PartRun, got: number | string): FormatError {
  return new FormatError(`${run.part.path}: the tile at byte ${run.at} has size leader ${got}, the part's index says ${run.firstCount} (a corrupt part)`, run.part.path);
}

/**
 * Copies `runs`, one after the other, to `fh` from `position`; returns the
 * bytes copied. With the addon, through copyRunsInKernel; without it, each
 * output buffer is filled by reads straight into it (several in flight, on
 * libuv's pool), then written while the next one fills.
 */
export async function copyRuns(fh: FileHandle, files: PartFiles, runs: Iterable<PartRun>, position: number, bufferBytes: number): Promise<number> {
  const kernelCopy = nativeAddon()?.copyFileRange;
  if (kernelCopy) return copyRunsInKernel(fh, files, runs, position, kernelCopy);
  const limiter = new Limiter(READS_IN_FLIGHT);
  let bufs = [new Uint8Array(bufferBytes), new Uint8Array(bufferBytes)];
  let used = 0;
  let pos = position;
  let reads: Promise<void>[] = [];
  let writing: Promise<void> = Promise.resolve();
  /** runs starting in the buffer being filled, and where */
  let starts: { run: PartRun; offset: number }[] = [];
  const swap = async () => {
    await Promise.all(reads);
    reads = [];
    const dv = new DataView(bufs[0].buffer, bufs[0].byteOffset, used);
    for (const { run, offset } of starts) {
      if (offset + 4 > used) continue; // a leader cut by the buffer's end: the next run's is checked
      const leader = dv.getUint32(offset, true);
      if (leader !== run.firstCount) throw leaderError(run, leader);
    }
    starts = [];
    await files.closeRetired();
    await writing;
    writing = writeAll(fh, [bufs[0].subarray(0, used)], pos);
    writing.catch(() => {}); // awaited at the next swap or at the end
    pos += used;
    used = 0;
    bufs = [bufs[1], bufs[0]];
  };
  try {
    for (const run of runs) {
      const part = files.get(run.part);
      starts.push({ run, offset: used });
      for (let at = run.at, left = run.length; left > 0;) {
        const k = Math.min(left, bufferBytes - used);
        const [buf, offset, from] = [bufs[0], used, at];
        reads.push((await limiter.start(async () => readRun(await part, run.part, buf, offset, k, from))).result);
        used += k; at += k; left -= k;
        if (used === bufferBytes) await swap();
      }
    }
    if (used > 0) await swap();
    await writing;
  } finally {
    await Promise.allSettled([...reads, writing]);
  }
  return pos - position;
}

/** copyRuns through copy_file_range: each run's first size leader is checked and the run copied by the kernel, in one job on the pool. */
async function copyRunsInKernel(fh: FileHandle, files: PartFiles, runs: Iterable<PartRun>, position: number,
  copy: (fdIn: number, offIn: number, fdOut: number, offOut: number, length: number, leader: number) => Promise<void>): Promise<number> {
  const limiter = new Limiter(COPIES_IN_FLIGHT);
  let pos = position;
  let inFlight: Promise<void>[] = [];
  const failure: { err?: unknown } = {}; // the first failure stops the loop; later copies are not started
  try {
    for (const run of runs) {
      if ('err' in failure) throw failure.err;
      const part = files.get(run.part);
      const to = pos;
      pos += run.length;
      inFlight.push((await limiter.start(async () => {
        const src = await part;
        await copy(src.fd, run.at, fh.fd, to, run.length, run.length >= 4 ? run.firstCount : -1).catch((err: Error) => {
          const leader = /^size leader (\d+)/.exec(err.message);
          if (leader) throw leaderError(run, leader[1]);
          throw new FormatError(`${run.part.path}: copying bytes ${run.at}-${run.at + run.length} into the assembled COG failed: ${err.message}`, run.part.path);
        });
      })).result);
      inFlight.at(-1)!.catch((err: unknown) => { if (!('err' in failure)) failure.err = err; });
      if (files.hasRetired) {
        await Promise.all(inFlight);
        inFlight = [];
        await files.closeRetired();
      }
    }
    await Promise.all(inFlight);
  } finally {
    await Promise.allSettled(inFlight);
  }
  return pos - position;
}
