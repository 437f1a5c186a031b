/**
 * Where the compressed tiles of one resolution level wait until the file is
 * assembled: in memory while small, spilled to a temporary file beside the
 * target once past `memoryLimit` bytes. Tiles are stored framed as GDAL's COG
 * layout wants them in the final file: a 4-byte little-endian size leader,
 * the data, and its last 4 bytes repeated, so the level's bytes are copied
 * to the final file as one run.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';

const COPY_CHUNK = 8 << 20;

/** Compressed, framed tiles of one level: in memory, then in a spill file. */
export class LevelSink {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #fh: FileHandle | null = null;
  #spillPath: string | null = null;

  constructor(readonly makeSpillPath: () => string, readonly memoryLimit: number) {}

  /** Bytes stored so far. */
  get size(): number { return this.#size; }

  /** Appends one framed tile; returns the offset of its data (after the leader) within the level. */
  async appendTile(data: Uint8Array): Promise<number> {
    // a codec may return a view on a worst-case-sized buffer (zstd, LZW): keep
    // only the bytes, or a few KB of tile pin 100+ KB each while they wait here
    if (!this.#fh && data.byteLength < data.buffer.byteLength / 2) data = data.slice();
    const n = data.length;
    const leader = new Uint8Array(4);
    new DataView(leader.buffer).setUint32(0, n, true);
    const trailer = new Uint8Array(4);
    trailer.set(data.subarray(Math.max(0, n - 4)), Math.max(0, 4 - n));
    const at = this.#size + 4;
    const parts = [leader, data, trailer];
    if (!this.#fh && this.#size + n + 8 > this.memoryLimit) await this.#spill();
    if (this.#fh) {
      await writeAll(this.#fh, parts, this.#size);
    } else {
      this.#chunks.push(leader, data, trailer);
    }
    this.#size += n + 8;
    return at;
  }

  async #spill(): Promise<void> {
    this.#spillPath = this.makeSpillPath();
    this.#fh = await open(this.#spillPath, 'wx+');
    let pos = 0;
    for (let i = 0; i < this.#chunks.length; i += 1024) {
      const batch = this.#chunks.slice(i, i + 1024);
      await writeAll(this.#fh, batch, pos);
      for (const c of batch) pos += c.length;
    }
    this.#chunks = [];
  }

  /** Writes the level's bytes into `out` from `position`. */
  async copyTo(out: FileHandle, position: number): Promise<void> {
    if (!this.#fh) {
      let pos = position;
      for (let i = 0; i < this.#chunks.length; i += 1024) {
        const batch = this.#chunks.slice(i, i + 1024);
        await writeAll(out, batch, pos);
        for (const c of batch) pos += c.length;
      }
      return;
    }
    const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, this.#size)));
    for (let off = 0; off < this.#size;) {
      const { bytesRead } = await this.#fh.read(buf, 0, Math.min(buf.length, this.#size - off), off);
      if (bytesRead === 0) throw new Error(`temporary tile file ${this.#spillPath} ended at ${off} of ${this.#size} bytes`);
      await writeAll(out, [buf.subarray(0, bytesRead)], position + off);
      off += bytesRead;
    }
  }

  /** Frees memory and removes the spill file. */
  async dispose(): Promise<void> {
    this.#chunks = [];
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
