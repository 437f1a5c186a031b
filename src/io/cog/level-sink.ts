/**
 * Where the compressed tiles of one resolution level wait until the file is
 * assembled: in memory while small, spilled to a temporary file beside the
 * target once past `memoryLimit` bytes. Tiles are stored framed as GDAL's COG
 * layout wants them in the final file: a 4-byte little-endian size leader,
 * the data, and its last 4 bytes repeated, so the level's bytes are copied
 * to the final file as one run. A level whose place in the final file is
 * known before its tiles are compressed is written there directly
 * ({@link LevelSink.inPlace}), never copied.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { InternalError } from '../../array/errors.ts';
import { IoError } from '../errors.ts';

/** Size of the slabs tiles are copied into (at most the memory limit), and of the copy buffer. */
const SLAB_BYTES = 1 << 20;
const COPY_CHUNK = SLAB_BYTES;

/** Compressed, framed tiles of one level: in memory, then in a spill file. */
export class LevelSink {
  /** in-memory bytes: full slabs, then the last one filled to #slabUsed */
  #slabs: Uint8Array[] = [];
  #slabUsed = 0;
  #size = 0;
  /** bytes in the spill file (or written in place) */
  #fileBytes = 0;
  #fh: FileHandle | null = null;
  #spillPath: string | null = null;
  /** in place: where the level starts in #fh, which belongs to the caller */
  #base = 0;
  #inPlace = false;
  /** size leader and trailer of the tile being appended (appends never overlap) */
  readonly #frame = { leader: new Uint8Array(4), trailer: new Uint8Array(4) };

  constructor(readonly makeSpillPath: () => string, readonly memoryLimit: number) {}

  /**
   * A sink that writes the level straight into the final file `fh` from
   * byte `position` (in 1 MiB slabs, as a spill does); copyTo then only
   * writes out the last slab.
   */
  static inPlace(fh: FileHandle, position: number): LevelSink {
    const sink = new LevelSink(() => { throw new InternalError('an in-place level does not spill'); }, SLAB_BYTES);
    sink.#fh = fh;
    sink.#base = position;
    sink.#inPlace = true;
    return sink;
  }

  /** Bytes stored so far. */
  get size(): number { return this.#size; }

  /**
   * Appends one framed tile; returns the offset of its data (after the
   * leader) within the level. `data` is copied before this resolves, so the
   * caller may reuse its buffer then.
   */
  async appendTile(data: Uint8Array): Promise<number> {
    const n = data.length;
    const { leader, trailer } = this.#frame;
    new DataView(leader.buffer).setUint32(0, n, true);
    trailer.fill(0);
    trailer.set(data.subarray(Math.max(0, n - 4)), Math.max(0, 4 - n));
    const at = this.#size + 4;
    if (!this.#fh && this.#size + n + 8 > this.memoryLimit) await this.#spill();
    await this.#put(leader);
    await this.#put(data);
    await this.#put(trailer);
    this.#size += n + 8;
    return at;
  }

  /**
   * Copies `bytes` into the slabs. Once spilled, a full slab is written to
   * the file and reused: one write per slab, not one per tile (tile-sized
   * writes queued behind compression jobs on the same thread pool).
   */
  async #put(bytes: Uint8Array): Promise<void> {
    for (let done = 0; done < bytes.length;) {
      let slab = this.#slabs.at(-1);
      if (slab && this.#slabUsed === slab.length && this.#fh) {
        await this.#flush();
        continue;
      }
      if (!slab || this.#slabUsed === slab.length) {
        slab = new Uint8Array(Math.min(SLAB_BYTES, Math.max(this.memoryLimit, 8)));
        this.#slabs.push(slab);
        this.#slabUsed = 0;
      }
      const k = Math.min(bytes.length - done, slab.length - this.#slabUsed);
      slab.set(bytes.subarray(done, done + k), this.#slabUsed);
      this.#slabUsed += k;
      done += k;
    }
  }

  /** The in-memory bytes, in order. */
  #memoryParts(): Uint8Array[] {
    return this.#slabs.map((slab, i) => (i === this.#slabs.length - 1 ? slab.subarray(0, this.#slabUsed) : slab));
  }

  /** Spilled: writes the in-memory bytes to the end of the file, keeping the last slab for reuse. */
  async #flush(): Promise<void> {
    const parts = this.#memoryParts();
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    await writeAll(this.#fh!, parts, this.#base + this.#fileBytes);
    this.#fileBytes += bytes;
    this.#slabs = this.#slabs.slice(-1);
    this.#slabUsed = 0;
  }

  async #spill(): Promise<void> {
    this.#spillPath = this.makeSpillPath();
    this.#fh = await open(this.#spillPath, 'wx+');
    await this.#flush();
  }

  /** Writes the level's bytes into `out` from `position`. */
  async copyTo(out: FileHandle, position: number): Promise<void> {
    if (this.#inPlace) {
      if (out !== this.#fh || position !== this.#base) throw new InternalError(`level written in place at ${this.#base} asked to move to ${position}`);
      await this.#flush();
      return;
    }
    if (!this.#fh) {
      await writeAll(out, this.#memoryParts(), position);
      return;
    }
    await this.#flush();
    const buf = this.#slabs[0] ?? new Uint8Array(COPY_CHUNK);
    for (let off = 0; off < this.#size;) {
      const { bytesRead } = await this.#fh.read(buf, 0, Math.min(buf.length, this.#size - off), off);
      if (bytesRead === 0) throw new IoError(`temporary tile file ${this.#spillPath} ended at ${off} of ${this.#size} bytes`, this.#spillPath ?? undefined);
      await writeAll(out, [buf.subarray(0, bytesRead)], position + off);
      off += bytesRead;
    }
  }

  /** Frees memory and removes the spill file. */
  async dispose(): Promise<void> {
    this.#slabs = [];
    if (this.#inPlace) this.#fh = null; // the caller's file
    if (this.#fh) await this.#fh.close().catch(() => {});
    this.#fh = null;
    if (this.#spillPath) await rm(this.#spillPath, { force: true }).catch(() => {});
  }
}

/** writev that retries short writes. */
export async function writeAll(fh: FileHandle, parts: Uint8Array[], position: number): Promise<void> {
  let total = 0;
  for (const p of parts) total += p.length;
  const { bytesWritten } = await fh.writev(parts, position);
  if (bytesWritten === total) return;
  const joined = Buffer.concat(parts);
  for (let off = bytesWritten; off < total;) {
    const { bytesWritten: n } = await fh.write(joined, off, total - off, position + off);
    off += n;
  }
}
