/**
 * The src manifest parsed once per file version for a process that runs
 * many predicts over it (a distributed worker runs one shard after another
 * of the same manifest): kept by path, and read again when its size, inode,
 * modification or change time differ (an edited or replaced manifest). Runs work on a copy (runPredict copies its
 * source first), so the cached dataset is never changed. Image files
 * (globs, URLs) are not cached: their manifest is made per run.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CocoDataset } from '../coco/dataset.ts';
import { isManifestPath, loadSource, type LoadSourceOptions } from './load-source.ts';

export class SourceCache {
  readonly #entries = new Map<string, { version: string; dset: Promise<CocoDataset> }>();
  readonly #max: number;

  /** `max`: manifests kept (the least recently used goes first) */
  constructor(max = 4) {
    this.#max = max;
  }

  /** As loadSource; a manifest that did not change comes from the cache. */
  readonly load = async (src: string, opts: LoadSourceOptions): Promise<CocoDataset> => {
    if (!isManifestPath(src)) return loadSource(src, opts);
    const path = resolve(src);
    const st = await stat(path).catch(() => null);
    if (!st) return loadSource(src, opts); // its own error names the path
    const version = `${st.size}:${st.ino}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = this.#entries.get(path);
    if (known && known.version === version) {
      this.#entries.delete(path);
      this.#entries.set(path, known); // most recently used last
      return known.dset;
    }
    const entry = { version, dset: loadSource(path, opts) };
    this.#entries.set(path, entry);
    entry.dset.catch(() => { if (this.#entries.get(path) === entry) this.#entries.delete(path); });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    return entry.dset;
  };
}
