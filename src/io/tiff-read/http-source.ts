/**
 * A byte source over a file on a web server, read with HTTP range requests
 * (../http-request.ts: bounded in flight per host, timeouts, retries).
 *
 * Header parsing asks for small speculative reads; they go through a cache
 * of 64 KiB blocks, and the first request (at open) fetches the first block,
 * which for a COG holds the header and every IFD, so opening takes one
 * request (two for very large tile tables). Tile reads ask for exact ranges
 * (the TIFF reader merges contiguous tiles into one read) and are fetched
 * as asked, unless the blocks already hold them.
 *
 * A server that ignores Range (answers 200 with the whole body) gets its
 * file downloaded once to a temporary file, said with a warning, and read
 * from there; the file is removed at close (or at exit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError, IoError } from '../errors.ts';
import { requestRange } from '../http-request.ts';
import { geotiffSourceOf, type ByteSource, type GeotiffSource } from './byte-source.ts';
import { FileByteSource } from './file-source.ts';

/** A remote file changed on the server while it was open (its size or ETag differs): open it again. */
export class RemoteFileChangedError extends IoError {
  override name = 'RemoteFileChangedError';
}

/** Bytes per header block. */
const BLOCK = 64 << 10;
/** Header blocks kept per open file (least recently used dropped first). */
const MAX_BLOCKS = 64;

const tempDirs = new Set<string>();
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** An open remote file. */
export class HttpByteSource implements ByteSource {
  readonly path: string;
  readonly size: number;
  /** a round trip costs more than reading this many unneeded bytes on loopback or a fast link */
  readonly mergeGap = 64 << 10;
  readonly #etag: string | null;
  /** block index -> its bytes (the last block may be short) */
  readonly #blocks = new Map<number, Promise<Uint8Array>>();
  /** the whole file, downloaded, when the server ignores Range */
  #local: FileByteSource | null;
  #tempDir: string | null;
  #closed = false;

  private constructor(url: string, size: number, etag: string | null, first: Uint8Array | null, local: FileByteSource | null, tempDir: string | null) {
    this.path = url;
    this.size = size;
    this.#etag = etag;
    if (first) this.#blocks.set(0, Promise.resolve(first));
    this.#local = local;
    this.#tempDir = tempDir;
  }

  /** True when reads go to a downloaded copy (the server ignores Range). */
  get downloaded(): boolean { return this.#local !== null; }

  /**
   * Opens `url` with one request for its first block. IoError naming the URL
   * when the server cannot be reached, answers 4xx, or keeps failing.
   */
  static async open(url: string): Promise<HttpByteSource> {
    // a temporary folder only for a server that ignores Range
    let dir: string | null = null;
    const download = () => {
      dir ??= mkdtempSync(join(tmpdir(), 'coco-stitcher-http-'));
      tempDirs.add(dir);
      return join(dir, 'download');
    };
    const dropDir = async () => {
      if (dir === null) return;
      tempDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    };
    try {
      const reply = await requestRange(url, 0, BLOCK - 1, download);
      if (reply.kind === 'unsatisfiable') {
        if (reply.total === 0 || reply.total === null) {
          await dropDir();
          return new HttpByteSource(url, 0, null, new Uint8Array(0), null, null);
        }
        throw new IoError(`cannot read ${url}: the server refused bytes 0..${BLOCK} of a ${reply.total}-byte file`, url);
      }
      if (reply.kind === 'full') {
        process.emitWarning(`${url}: the server ignores Range requests; downloaded the whole file (${reply.total} bytes) to a temporary file to read it`, 'CocoStitcherWarning');
        const local = await FileByteSource.open(reply.file);
        return new HttpByteSource(url, reply.total, reply.etag, null, local, dir);
      }
      await dropDir();
      if (!Number.isSafeInteger(reply.total)) throw new IoError(`cannot read ${url}: the server does not say the file's size (Content-Range total "*")`, url);
      return new HttpByteSource(url, reply.total, reply.etag, reply.body, null, null);
    } catch (err) {
      await dropDir();
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new IoError(`raster ${this.path} is closed`, this.path);
  }

  /** Fetches bytes start..end (inclusive, inside the file) with one request. */
  async #fetch(start: number, end: number): Promise<Uint8Array> {
    const reply = await requestRange(this.path, start, end);
    if (reply.kind === 'unsatisfiable') {
      if (reply.total !== null && reply.total !== this.size) {
        throw new RemoteFileChangedError(`${this.path} changed on the server since it was opened (${this.size} bytes then, ${reply.total} bytes now)`, this.path);
      }
      throw new FormatError(`${this.path} is truncated or changed on the server: bytes ${start}..${end + 1} are past its end (${reply.total ?? 'unknown'} bytes now, ${this.size} at open)`, this.path);
    }
    if (reply.kind !== 'partial') throw new IoError(`cannot read ${this.path}: unexpected answer`, this.path);
    if (reply.total !== this.size || (this.#etag && reply.etag && reply.etag !== this.#etag)) {
      throw new RemoteFileChangedError(`${this.path} changed on the server since it was opened (${this.size} bytes${this.#etag ? `, ETag ${this.#etag}` : ''} then, ` +
        `${reply.total} bytes${reply.etag ? `, ETag ${reply.etag}` : ''} now)`, this.path);
    }
    if (reply.end !== end) {
      throw new FormatError(`${this.path} is truncated: bytes ${start}..${end + 1} came back as ${start}..${reply.end + 1}`, this.path);
    }
    return reply.body;
  }

  /** Blocks b0..b1, from the cache or fetched (each run of missing ones with one request). */
  #ensureBlocks(b0: number, b1: number): Promise<Uint8Array>[] {
    const got: Promise<Uint8Array>[] = [];
    let b = b0;
    while (b <= b1) {
      if (this.#blocks.has(b)) {
        const p = this.#blocks.get(b)!;
        this.#blocks.delete(b);
        this.#blocks.set(b, p); // most recently used last
        got.push(p);
        b++;
        continue;
      }
      let e = b;
      while (e + 1 <= b1 && !this.#blocks.has(e + 1)) e++;
      const start = b * BLOCK, end = Math.min((e + 1) * BLOCK, this.size) - 1;
      const run = this.#fetch(start, end);
      for (let k = b; k <= e; k++) {
        const p = run.then((bytes) => bytes.subarray((k - b) * BLOCK, Math.min((k - b + 1) * BLOCK, bytes.byteLength)));
        // a failed fetch is not kept: the next read tries again
        p.catch(() => { if (this.#blocks.get(k) === p) this.#blocks.delete(k); });
        this.#blocks.set(k, p);
        got.push(p);
      }
      b = e + 1;
    }
    for (const k of this.#blocks.keys()) {
      if (this.#blocks.size <= MAX_BLOCKS) break;
      this.#blocks.delete(k);
    }
    return got;
  }

  /** Copies bytes offset..offset+length (inside the file) out of `blocks` (the blocks from the one holding `offset` on) into a new buffer. */
  async #fromBlocks(offset: number, length: number, blocks: Promise<Uint8Array>[]): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    const b0 = Math.floor(offset / BLOCK);
    const got = await Promise.all(blocks);
    for (let i = 0; i < got.length; i++) {
      const base = (b0 + i) * BLOCK;
      const s = Math.max(offset, base), e = Math.min(offset + length, base + got[i].byteLength);
      if (e > s) out.set(got[i].subarray(s - base, e - base), s - offset);
    }
    return out;
  }

  async readPadded(offset: number, length: number): Promise<Uint8Array> {
    this.#checkOpen();
    if (this.#local) return this.#local.readPadded(offset, length);
    const avail = Math.max(0, Math.min(length, this.size - offset));
    if (!(avail > 0 && offset >= 0)) return new Uint8Array(length);
    const blocks = this.#ensureBlocks(Math.floor(offset / BLOCK), Math.floor((offset + avail - 1) / BLOCK));
    return this.#fromBlocks(offset, length, blocks);
  }

  async readExact(offset: number, length: number, what: string): Promise<Uint8Array> {
    this.#checkOpen();
    this.checkRange(offset, length, what);
    if (this.#local) return this.#local.readExact(offset, length, what);
    if (length === 0) return new Uint8Array(0);
    const b0 = Math.floor(offset / BLOCK), b1 = Math.floor((offset + length - 1) / BLOCK);
    let cached = true;
    for (let b = b0; b <= b1 && cached; b++) cached = this.#blocks.has(b);
    if (cached) return this.#fromBlocks(offset, length, this.#ensureBlocks(b0, b1));
    try {
      return await this.#fetch(offset, offset + length - 1);
    } catch (err) {
      if (err instanceof FormatError) {
        throw new FormatError(`${err.message} (reading ${what})`, this.path, { cause: err });
      }
      throw err;
    }
  }

  checkRange(offset: number, length: number, what: string): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new FormatError(
        `${this.path} is truncated or corrupt: ${what} needs bytes ${offset}..${offset + length} but the file has ${this.size} bytes`,
        this.path);
    }
  }

  asGeotiffSource(): GeotiffSource {
    return geotiffSourceOf(this);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#blocks.clear();
    const local = this.#local, dir = this.#tempDir;
    this.#local = null;
    this.#tempDir = null;
    await local?.close().catch(() => {});
    if (dir) {
      tempDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }
}
