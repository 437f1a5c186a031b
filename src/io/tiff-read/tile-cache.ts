/**
 * Decoded tiles kept between reads, for readers of overlapping windows (a
 * sliding window over an image decodes most of its tiles several times
 * otherwise). One byte budget for every open file, least recently used
 * tiles out first; a file's tiles are dropped when it is closed. Reads use
 * it only when asked (`cacheTiles`), so a one-off read of a whole file does
 * not fill it. The budget is `COCO_STITCHER_TILE_CACHE_MB` (default 64) or
 * what `setTileCacheBytes` sets; 0 turns it off.
 */
import { ValueError } from '../../array/errors.ts';

/** The default budget, in MiB. */
const DEFAULT_MB = 64;

/** An LRU map of decoded tiles with a byte budget. */
export class TileCache {
  readonly #tiles = new Map<string, Uint8Array>();
  #bytes = 0;
  #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = checkBytes(maxBytes);
  }

  /** Bytes of the tiles held. */
  get bytes(): number { return this.#bytes; }
  /** Tiles held. */
  get size(): number { return this.#tiles.size; }
  /** The budget; lowering it drops tiles at once. */
  get maxBytes(): number { return this.#maxBytes; }
  set maxBytes(n: number) {
    this.#maxBytes = checkBytes(n);
    this.#trim();
  }

  /** The tile stored under `key` (now the most recently used), or undefined. */
  get(key: string): Uint8Array | undefined {
    const tile = this.#tiles.get(key);
    if (tile) {
      this.#tiles.delete(key);
      this.#tiles.set(key, tile);
    }
    return tile;
  }

  /**
   * Stores `tile` under `key` (a tile larger than the whole budget is not
   * kept). It must not change afterwards; a view on a larger buffer is
   * copied, so the cache never holds memory beyond its tiles.
   */
  set(key: string, tile: Uint8Array): void {
    this.delete(key);
    if (tile.byteLength > this.#maxBytes) return;
    const own = tile.byteLength === tile.buffer.byteLength ? tile : tile.slice();
    this.#tiles.set(key, own);
    this.#bytes += own.byteLength;
    this.#trim();
  }

  delete(key: string): void {
    const old = this.#tiles.get(key);
    if (!old) return;
    this.#tiles.delete(key);
    this.#bytes -= old.byteLength;
  }

  /** Drops every tile whose key starts with `prefix` (one file's). */
  deletePrefix(prefix: string): void {
    for (const key of [...this.#tiles.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }

  #trim(): void {
    for (const [key, tile] of this.#tiles) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#tiles.delete(key);
      this.#bytes -= tile.byteLength;
    }
  }
}

function checkBytes(n: number): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new ValueError(`tile cache size must be a whole number of bytes >= 0, got ${n}`);
  return n;
}

function defaultBytes(): number {
  const env = process.env.COCO_STITCHER_TILE_CACHE_MB;
  if (env === undefined || env === '') return DEFAULT_MB * 2 ** 20;
  const mb = Number(env);
  if (!(Number.isFinite(mb) && mb >= 0)) throw new ValueError(`COCO_STITCHER_TILE_CACHE_MB must be a number of MiB >= 0, got ${JSON.stringify(env)}`);
  return Math.floor(mb * 2 ** 20);
}

let shared: TileCache | null = null;

/** The process's tile cache (created on first use, so a bad COCO_STITCHER_TILE_CACHE_MB fails the first cached read, clearly). */
export function sharedTileCache(): TileCache {
  shared ??= new TileCache(defaultBytes());
  return shared;
}

/** Sets the byte budget of the process's tile cache (0 turns it off). */
export function setTileCacheBytes(bytes: number): void {
  if (shared) shared.maxBytes = bytes;
  else shared = new TileCache(bytes);
}

/** Drops the tiles under `prefix` (a closed file's) from the process's cache, if it exists. */
export function forgetTiles(prefix: string): void {
  shared?.deletePrefix(prefix);
}
