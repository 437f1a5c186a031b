/**
 * Open raster files kept for reuse across reads of the same path. Delayed
 * loading reads many windows of the same few assets, and opening a COG
 * parses its header and tile tables every time (about 4 ms for a 4096²
 * COG, as long as reading a 256 px window of it).
 *
 * An open file is reused only while its path still names the same file
 * (inode, size, modification and change times, one stat per use), so a
 * file rewritten or replaced in between is opened afresh. Files beyond
 * `capacity` (least recently used first) are closed as soon as no read uses
 * them; `closeAll()` closes everything.
 */
import { ValueError } from '../array/errors.ts';
import { stat } from 'node:fs/promises';
import { openRaster } from './read-raster.ts';
import { isRemotePath } from './remote-path.ts';
import { RemoteFileChangedError } from './tiff-read/http-source.ts';
import type { RasterFile } from './raster-file.ts';

interface Entry {
  /** identity of the file it was opened from */
  readonly id: string;
  readonly file: Promise<RasterFile>;
  users: number;
  /** no longer in the cache: close once the last user is done */
  retired: boolean;
}

/** A bounded set of open raster files, keyed by path. */
export class RasterFileCache {
  readonly #entries = new Map<string, Entry>(); // in least-recently-used-first order

  constructor(readonly capacity = 16) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new ValueError(`RasterFileCache capacity must be a positive integer, got ${capacity}`);
  }

  /** Open files held now. */
  get size(): number { return this.#entries.size; }

  /**
   * Runs `use` with the open raster file at `path`, opening it first when it
   * is not held or has changed on disk. Errors of opening are openRaster's.
   */
  async use<T>(path: string, use: (file: RasterFile) => Promise<T>): Promise<T> {
    let id = 'remote'; // a remote file's source notices when it changes (size, ETag) and throws RemoteFileChangedError
    if (!isRemotePath(path)) try {
      const st = await stat(path);
      id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch {
      // missing or unreadable: let openRaster report it in its own words
      const file = await openRaster(path);
      try { return await use(file); } finally { await file.close(); }
    }
    let e = this.#entries.get(path);
    if (e && e.id !== id) {
      this.#retire(path, e);
      e = undefined;
    }
    if (e) {
      this.#entries.delete(path); // most recently used goes last
      this.#entries.set(path, e);
    } else {
      const entry: Entry = { id, file: openRaster(path), users: 0, retired: false };
      // a file that fails to open is not kept: the next use tries again
      entry.file.catch(() => { if (this.#entries.get(path) === entry) this.#entries.delete(path); });
      this.#entries.set(path, entry);
      e = entry;
      for (const [p, old] of this.#entries) {
        if (this.#entries.size <= this.capacity) break;
        this.#retire(p, old);
      }
    }
    e.users++;
    try {
      return await use(await e.file);
    } catch (err) {
      // the next use opens the new version
      if (err instanceof RemoteFileChangedError && this.#entries.get(path) === e) this.#retire(path, e);
      throw err;
    } finally {
      e.users--;
      if (e.retired && e.users === 0) await closeEntry(e);
    }
  }

  /** Closes every held file (files in use are closed when their reads end). */
  async closeAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [p, e] of this.#entries) {
      this.#entries.delete(p);
      e.retired = true;
      if (e.users === 0) closing.push(closeEntry(e));
    }
    await Promise.all(closing);
  }

  #retire(path: string, e: Entry): void {
    this.#entries.delete(path);
    e.retired = true;
    if (e.users === 0) void closeEntry(e);
  }
}

async function closeEntry(e: Entry): Promise<void> {
  const file = await e.file.catch(() => null);
  await file?.close().catch(() => {});
}

/** The cache delayed loading (`imdelay`) reads through. */
export const sharedRasterFiles = new RasterFileCache();
