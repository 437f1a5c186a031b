/**
 * Block storage of a Stitcher: fixed-size slots (sums of `bands` values per pixel, then one
 * weight plane) inside WebAssembly memories ("arenas", at most 2 GiB each so that the kernels'
 * signed 32-bit addresses stay valid), allocated lazily per block key. Only touched blocks are
 * indexed (maps by key), so a huge canvas costs memory for the blocks windows touched, not for
 * its extent. A "wide" block (one weight plane per band) moves to a larger slot of its own
 * (`widen`); the narrow slots, the usual ones, stay packed.
 * In memmap mode every block written out gets the next place in a file (in the order blocks are
 * first evicted), and only a bounded number of slots (the LRU cache of `cacheBytes`) are
 * resident; the file lives in a fresh temp folder that is removed by `dispose()`, and at process
 * exit if never disposed.
 * Scratch space for one operation sits at the start of every arena (below its slots), so the patch
 * copies of successive windows land in the same, cache-warm bytes.
 * With the native addon, an arena whose blocks use weight planes is backed by transparent huge
 * pages (`Arena.useHugePages`): on this project's VM first writes to fresh 4 KiB pages cost more
 * than the accumulate itself.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddon } from '../io/native-addon.ts';
import { StitchError } from './errors.ts';
import { instantiateKernels, type Kernels, Wasm, type WasmMemory } from './wasm-kernels.ts';

const PAGE = 65536;
/** Memory above the last slot faulted in ahead on the pool, and the size of one request (huge pages: 2 MiB). */
const PREFAULT_AHEAD = 16 * 2 ** 20;
const PREFAULT_CHUNK = 2 * 2 ** 20;
/** Most an arena's memory grows past what it needs now (when its canvas can take that much more). */
const GROW_AHEAD = 512 * 2 ** 20;
/** Largest arena (bytes): addresses stay below 2^31. */
export const ARENA_MAX = 2 ** 31 - PAGE;

/**
 * Memories of disposed stitchers, kept for the next ones (their pages are already faulted in, so a
 * manager stitching image after image skips the kernel's page zeroing). At most {@link POOL_MAX_BYTES}
 * of faulted-in pages are kept; {@link releasePooledMemory} drops them. Each remembers how far it may
 * hold old data (`dirty`) and how far it is faulted in (`touched`).
 */
interface Pooled { memory: WasmMemory; dirty: number; touched: number }
const pool: Pooled[] = [];
let pooledBytes = 0;
/** Largest total size of idle memories kept for reuse. */
export const POOL_MAX_BYTES = 512 * 2 ** 20;

/** Drop the idle memories kept for reuse (they are freed by the garbage collector). */
export function releasePooledMemory(): void {
  pool.length = 0;
  pooledBytes = 0;
}

/** Keeps `a`'s memory for the next arena when the pool has room for the pages it faulted in. */
function recycle(a: Arena): void {
  const touched = a.touchedEnd;
  if (pooledBytes + touched > POOL_MAX_BYTES) return;
  pool.push({ memory: a.memory, dirty: a.dirtyEnd, touched });
  pooledBytes += touched;
}

/** A new arena memory; V8 reserves ~10 GiB of address space for each, which a low `ulimit -v` refuses. */
function newMemory(): WasmMemory {
  try {
    return new Wasm.Memory({ initial: 1, maximum: ARENA_MAX / PAGE });
  } catch (e) {
    throw new StitchError(`cannot reserve memory for the stitcher's blocks: ${(e as Error).message} (V8 reserves about 10 GiB of address space for each WebAssembly memory; is the process's address space limited, e.g. by ulimit -v?)`);
  }
}

/** One WebAssembly memory with its kernels: scratch at [0, reserve), slots from `reserve` upward. */
export class Arena {
  readonly memory: WasmMemory;
  readonly k: Kernels;
  /** End of the slots (they start at the reserve). */
  top: number;
  /** Offsets of released narrow and wide slots. */
  readonly free: number[] = [];
  readonly freeWide: number[] = [];
  readonly #F: Float32ArrayConstructor | Float64ArrayConstructor;
  readonly #reserve: number;
  /** Bytes below which the memory may hold old data; above, it is still zero from the kernel. */
  readonly #dirtyEnd: number;
  #huge = false;
  /** End of the memory handed to a background prefault (huge-page arenas with the addon only). */
  #aheadEnd = 0;
  constructor(dtype: 'float32' | 'float64', reserve: number) {
    // page-aligned, so with page-multiple slots a slot's weight plane starts on its own page
    this.#reserve = (reserve + 4095) & ~4095;
    this.top = this.#reserve;
    const reused = pool.pop();
    if (reused) pooledBytes -= reused.touched;
    // slots start above the scratch, so in a new memory they are all zero; a reused one was
    // written below its last user's top only, and faulted in up to what that user's look-ahead reached
    this.#dirtyEnd = reused ? Math.max(reused.dirty, this.#reserve) : this.#reserve;
    this.#aheadEnd = reused ? reused.touched : 0;
    this.memory = reused?.memory ?? newMemory();
    const k = instantiateKernels(this.memory, dtype);
    if (!k) throw new StitchError('this JavaScript runtime has no WebAssembly SIMD (needed by Stitcher); use Node.js >= 20');
    this.k = k;
    this.#F = dtype === 'float64' ? Float64Array : Float32Array;
    this.ensure(this.#reserve);
  }
  /** Bytes of the memory that may hold data: this arena's slots, or an earlier user's. */
  get dirtyEnd(): number { return Math.max(this.top, this.#dirtyEnd); }
  /** Bytes of the memory that may be resident: written, or faulted in ahead. */
  get touchedEnd(): number { return Math.max(this.dirtyEnd, this.#aheadEnd); }
  /**
   * Make the memory at least `bytes` long; when it must grow, up to `room` bytes if more (the
   * most the store's blocks can still take), at most GROW_AHEAD past `bytes`: untouched pages
   * cost no RSS, and every grow makes V8 count more external memory, which starts a full
   * garbage collection; the cap bounds what a strict-overcommit host charges for memory a
   * sparse canvas never touches. When that larger grow is refused, only `bytes` is asked for.
   */
  ensure(bytes: number, room = 0): void {
    if (bytes > ARENA_MAX) throw new StitchError(`stitcher scratch of ${bytes} bytes exceeds the ${ARENA_MAX}-byte arena limit`);
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const want = Math.min(ARENA_MAX, Math.max(bytes, Math.min(room, bytes + GROW_AHEAD), have + Math.min(have / 4, 256 * 2 ** 20), 16 * 2 ** 20));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch {
      try {
        this.memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch (e) {
        throw new StitchError(`cannot grow the stitcher's block memory from ${have} to ${bytes} bytes: ${(e as Error).message} (memmap mode needs less memory)`);
      }
    }
    if (this.#huge) nativeAddon()?.adviseHugePages?.(this.memory.buffer, have, this.memory.buffer.byteLength - have);
  }
  /**
   * From now on, asks the kernel to back this memory with transparent huge pages (through the
   * addon: JavaScript cannot madvise; without it, or where the kernel has no THP, nothing changes).
   * With 4 KiB pages the first write to each new page costs about 5 us on this project's VM even
   * after prefaulting (shadow paging), which made the first accumulate over a fresh canvas 6x
   * slower than a second one; 2 MiB pages do not pay it. Called once blocks use their weight
   * planes: a huge page commits the lazy tails (planes of uniform blocks) inside it as well.
   */
  useHugePages(): void {
    if (this.#huge) return;
    this.#huge = true;
    nativeAddon()?.adviseHugePages?.(this.memory.buffer, 0, this.memory.buffer.byteLength);
  }
  /**
   * Zeroes a new slot at [off, off + bytes) (slots are handed out upward).
   * Memory the kernel has not given out yet is zero already: there it is only
   * faulted in for writing (the kernels' load-then-store would take a read
   * fault, then a write fault), at a fraction of the cost of writing every
   * byte; its last `lazyTail` bytes are left alone (a weight plane that may
   * never be used costs no memory until it is). `room`: where the slots the
   * store may still need end (the look-ahead stops there).
   */
  zeroNewSlot(off: number, bytes: number, lazyTail = 0, room = Infinity): void {
    const u8 = new Uint8Array(this.memory.buffer, off, bytes);
    const dirty = Math.min(bytes, Math.max(0, this.#dirtyEnd - off));
    if (dirty > 0) u8.fill(0, 0, dirty);
    const touch = bytes - lazyTail, from = dirty === 0 ? 0 : (dirty + 4095) & ~4095;
    if (from < touch) this.prefault(off + from, touch - from);
    if (this.#huge) this.#prefaultAhead(off + bytes, room);
  }
  /**
   * Has the pool fault in the memory up to PREFAULT_AHEAD bytes above `end` (where the next
   * slots go), PREFAULT_CHUNK at a time, while this thread accumulates: backing fresh memory
   * is most of a first accumulate's time on this project's VM, and the other core is often
   * idle. Only for huge-page arenas, whose pages commit lazy tails anyway. It stops at `room`,
   * so a canvas whose blocks all get used faults in nothing it does not use, and a sparse one
   * at most PREFAULT_AHEAD bytes. Requests go out without waiting for the ones before (a
   * window loop may never yield to the event loop).
   */
  #prefaultAhead(end: number, room: number): void {
    const lib = nativeAddon();
    if (!lib?.prefaultAsync) return;
    const limit = Math.min(this.memory.buffer.byteLength, end + PREFAULT_AHEAD, room);
    let from = Math.max(end, this.#aheadEnd, this.#dirtyEnd);
    while (limit - from >= PREFAULT_CHUNK) {
      lib.prefaultAsync(this.memory.buffer, from, PREFAULT_CHUNK).catch(() => {});
      from += PREFAULT_CHUNK;
    }
    this.#aheadEnd = Math.max(this.#aheadEnd, from);
  }
  /**
   * Faults in [off, off + bytes) for writing without changing it: one madvise call with the
   * native addon, else one write of the byte already there per page (a trap per page).
   */
  prefault(off: number, bytes: number): void {
    if (nativeAddon()?.prefault(this.memory.buffer, off, bytes)) return;
    const u8 = new Uint8Array(this.memory.buffer, off, bytes);
    for (let i = 0; i < bytes; i += 4096) u8[i] = u8[i];
    if (bytes > 0) u8[bytes - 1] = u8[bytes - 1];
  }
  /** Bytes of scratch at the start of the arena. */
  get reserve(): number { return this.#reserve; }
  /** Scratch offset (0) with `bytes` available (at most the reserve). */
  scratch(bytes: number): number {
    if (bytes > this.#reserve) throw new StitchError(`stitcher scratch of ${bytes} bytes exceeds the arena's ${this.#reserve}-byte reserve`);
    return 0;
  }
  /** Element view (valid until the memory grows). */
  view(byteOffset: number, length: number): Float32Array | Float64Array {
    return new this.#F(this.memory.buffer, byteOffset, length);
  }
  bytes(byteOffset: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, byteOffset, length);
  }
}

/** Prefix of memmap folders: `coco-stitcher-<pid>-<random>`, so a later process can tell whose they are. */
const MEMMAP_PREFIX = 'coco-stitcher-';

/**
 * Removes memmap folders in `parent` left by processes that no longer run
 * (killed before their exit handler could remove them: SIGKILL, the OOM
 * killer, a signal nobody handled). A folder whose process still runs, or
 * that is not named by our pattern, is left alone; failures are ignored (best
 * effort: another process may be removing the same folder).
 */
export function removeStaleMemmaps(parent: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try { names = readdirSync(parent); } catch { return removed; }
  for (const name of names) {
    const m = /^coco-stitcher-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isRunning(pid)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
      removed.push(name);
    } catch { /* best effort */ }
  }
  return removed;
}

/** Whether process `pid` exists (one owned by another user counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** memmap folders still to remove at process exit (one listener for all stores). */
const liveDirs = new Set<string>();
let exitHooked = false;
function removeAtExit(dir: string): void {
  liveDirs.add(dir);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const d of liveDirs) { try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort at exit */ } }
  });
}

/** A resident block: its arena, byte offset of its slot, whether it changed since it was read from the file, and whether the slot is wide. */
export interface Slot { arena: Arena; off: number; dirty: boolean; wide: boolean }

export interface BlockStoreOptions {
  dtype: 'float32' | 'float64';
  /** Elements per slot (blocksize^2 * (bands + 1): sums and one weight plane). */
  slotElems: number;
  /** Elements per wide slot (blocksize^2 * 2 * bands: sums and one weight plane per band; default slotElems). */
  wideElems?: number;
  memmap?: boolean | string;
  cacheBytes?: number;
  /** Largest scratch one operation needs (reserved at the start of every arena). */
  scratchBytes: number;
  /** Arena size limit (default {@link ARENA_MAX}; smaller values exercise several arenas in tests). */
  arenaBytes?: number;
  /** Bytes at the end of each slot that a new slot need not fault in (they are zero until written). */
  lazyTailBytes?: number;
  /** Most blocks the store will be asked for (a canvas's blocks): bounds how far memory is grown and faulted in ahead. */
  maxBlocks?: number;
}

/** Lazily allocated blocks by integer key, in WebAssembly arenas; optional file backing with an LRU cache. */
export class BlockStore {
  readonly dtype: 'float32' | 'float64';
  readonly slotElems: number;
  readonly slotBytes: number;
  readonly wideElems: number;
  readonly wideBytes: number;
  readonly lazyTailBytes: number;
  readonly arenas: Arena[] = [];
  /** Resident blocks; in memmap mode in LRU order (oldest first). */
  readonly #resident = new Map<number, Slot>();
  /** memmap: byte offset in the file of every block written to it at least once */
  readonly #filePos = new Map<number, number>();
  /** memmap: blocks whose place in the file has room for a wide slot */
  readonly #wideOnDisk = new Set<number>();
  #fileEnd = 0;
  /** blocks with one weight plane per band */
  readonly #wide = new Set<number>();
  readonly #maxResident: number;
  /** Most narrow slots the store can need (blocks it may hold at once), and those taken from arena tops so far. */
  readonly #maxSlots: number;
  #newSlots = 0;
  readonly #arenaBytes: number;
  readonly #reserve: number;
  #fd = -1;
  #dir: string | null = null;
  #pinned = new Set<number>();
  #disposed = false;

  constructor(opts: BlockStoreOptions) {
    this.dtype = opts.dtype;
    this.slotElems = opts.slotElems;
    this.slotBytes = opts.slotElems * (opts.dtype === 'float64' ? 8 : 4);
    this.wideElems = opts.wideElems ?? opts.slotElems;
    this.wideBytes = this.wideElems * (opts.dtype === 'float64' ? 8 : 4);
    this.lazyTailBytes = opts.lazyTailBytes ?? 0;
    this.#arenaBytes = Math.min(ARENA_MAX, opts.arenaBytes ?? ARENA_MAX);
    this.#reserve = Math.max(opts.scratchBytes, this.slotBytes) + 64;
    if (Math.max(this.slotBytes, this.wideBytes) + ((this.#reserve + 15) & ~15) > this.#arenaBytes) {
      throw new StitchError(`a block of ${Math.max(this.slotBytes, this.wideBytes)} bytes plus a scratch row of blocks (${opts.scratchBytes} bytes) does not fit `
        + `a ${this.#arenaBytes}-byte arena: use a smaller blocksize`);
    }
    if (opts.memmap) {
      const cache = opts.cacheBytes ?? 256 * 2 ** 20;
      if (!(cache > 0)) throw new StitchError(`cacheBytes ${cache} must be a positive number`);
      // narrow blocks (the usual ones) are what the budget counts; wide ones may exceed it
      this.#maxResident = Math.max(1, Math.floor(Math.min(cache, this.#arenaBytes - this.#reserve) / this.slotBytes));
      const parent = typeof opts.memmap === 'string' ? opts.memmap : tmpdir();
      removeStaleMemmaps(parent);
      let dir: string;
      try { dir = mkdtempSync(join(parent, `${MEMMAP_PREFIX}${process.pid}-`)); }
      catch (e) { throw new StitchError(`cannot create the memmap folder in ${parent}: ${(e as Error).message}`); }
      this.#dir = dir;
      removeAtExit(dir);
      this.#fd = openSync(join(dir, 'blocks.bin'), 'w+');
    } else {
      this.#maxResident = Infinity;
    }
    this.#maxSlots = Math.min(opts.maxBlocks ?? Infinity, this.#maxResident);
  }

  /** Path of the backing file (memmap mode) or null. */
  get path(): string | null { return this.#dir ? join(this.#dir, 'blocks.bin') : null; }
  get memmap(): boolean { return this.#fd >= 0; }

  /** Keys of every allocated block (resident or on disk). */
  keys(): number[] {
    const s = new Set<number>(this.#resident.keys());
    for (const k of this.#filePos.keys()) s.add(k);
    return [...s];
  }
  has(key: number): boolean { return this.#resident.has(key) || this.#filePos.has(key); }
  /** Number of allocated blocks. */
  get size(): number {
    if (this.#filePos.size === 0) return this.#resident.size;
    let n = this.#filePos.size;
    for (const k of this.#resident.keys()) if (!this.#filePos.has(k)) n++;
    return n;
  }

  /** Whether block `key` has one weight plane per band. */
  isWide(key: number): boolean { return this.#wide.has(key); }
  /** Bytes of block `key`'s slot. */
  usedBytes(key: number): number { return this.#wide.has(key) ? this.wideBytes : this.slotBytes; }

  /**
   * Moves resident (pinned) narrow block `key` to a wide slot: `fill(from, to)` writes the new
   * slot from the old one, which is then released. Returns the new slot.
   */
  widen(key: number, fill: (from: Slot, to: Slot) => void): Slot {
    const from = this.#resident.get(key);
    if (!from || from.wide) throw new StitchError(`block ${key} is not a resident narrow block`);
    const to = this.#alloc(true);
    fill(from, to);
    this.#release(from);
    this.#resident.set(key, to);
    this.#wide.add(key);
    return to;
  }

  /** Keep `key` resident until {@link unpinAll} (blocks of one operation). */
  pin(key: number): void { this.#pinned.add(key); }
  unpinAll(): void { this.#pinned.clear(); }

  /** An arena for scratch work (the first one, created when no block exists yet). */
  scratchArena(): Arena {
    return this.arenas[0] ?? this.#arenaWithRoom();
  }

  #arenaWithRoom(bytes = this.slotBytes): Arena {
    let a = this.arenas[this.arenas.length - 1];
    if (!a || a.top + bytes > this.#arenaBytes) {
      a = new Arena(this.dtype, this.#reserve);
      this.arenas.push(a);
    }
    return a;
  }

  /**
   * Slot of block `key`: loaded from disk if evicted, zero-filled if new and `create`; null if absent.
   * `write`: the caller will modify it (memmap: it is written back when evicted).
   */
  get(key: number, create: boolean, write = true): Slot | null {
    if (this.#disposed) throw new StitchError('stitcher used after dispose()');
    const r = this.#resident.get(key);
    if (r) {
      if (this.#fd >= 0) { this.#resident.delete(key); this.#resident.set(key, r); }
      if (write) r.dirty = true;
      return r;
    }
    const onDisk = this.#filePos.has(key);
    if (!onDisk && !create) return null;
    const wide = this.#wide.has(key);
    let slot: Slot | null = null;
    // over budget (after an operation that pinned many blocks): evict down to it, freeing slots
    while (this.#resident.size >= this.#maxResident) {
      const s = this.#evictOne();
      if (!s) break;
      if (slot || s.wide !== wide) this.#release(s);
      else { slot = s; s.arena.view(s.off, wide ? this.wideElems : this.slotElems).fill(0); }
    }
    slot ??= this.#alloc(wide);
    if (onDisk) this.#read(key, slot);
    slot.dirty = write || !onDisk;
    this.#resident.set(key, slot);
    return slot;
  }

  /** A zeroed slot: a released one, else a new one at the top of an arena. */
  #alloc(wide: boolean): Slot {
    for (const a of this.arenas) {
      const off = (wide ? a.freeWide : a.free).pop();
      if (off !== undefined) {
        a.view(off, wide ? this.wideElems : this.slotElems).fill(0);
        return { arena: a, off, dirty: true, wide };
      }
    }
    const bytes = wide ? this.wideBytes : this.slotBytes;
    const a = this.#arenaWithRoom(bytes);
    const off = a.top;
    if (!wide) this.#newSlots++;
    // where the slots the store may still need end in this arena
    const room = Math.min(this.#arenaBytes, off + bytes + Math.max(0, this.#maxSlots - this.#newSlots) * this.slotBytes);
    a.ensure(off + bytes, room);
    a.top = off + bytes;
    a.zeroNewSlot(off, bytes, wide ? 0 : this.lazyTailBytes, room);
    return { arena: a, off, dirty: true, wide };
  }

  #release(s: Slot): void {
    (s.wide ? s.arena.freeWide : s.arena.free).push(s.off);
  }

  /** Evict the least recently used unpinned block (written out if changed); returns its slot, not zeroed. */
  #evictOne(): Slot | null {
    for (const [k, s] of this.#resident) {
      if (this.#pinned.has(k)) continue;
      if (s.dirty) this.#write(k, s);
      this.#resident.delete(k);
      return s;
    }
    return null; // everything pinned: exceed the budget for this operation
  }

  #write(key: number, s: Slot): void {
    const wide = this.#wide.has(key);
    let pos = this.#filePos.get(key);
    // places are handed out at the end of the file, narrow ones sized for a narrow block (a block widened since gets a new one)
    if (pos === undefined || (wide && !this.#wideOnDisk.has(key))) {
      pos = this.#fileEnd;
      this.#fileEnd += this.usedBytes(key);
      this.#filePos.set(key, pos);
      if (wide) this.#wideOnDisk.add(key);
    }
    const b = s.arena.bytes(s.off, this.usedBytes(key));
    let done = 0;
    while (done < b.length) done += writeSync(this.#fd, b, done, b.length - done, pos + done);
  }
  #read(key: number, s: Slot): void {
    const b = s.arena.bytes(s.off, this.usedBytes(key)), pos = this.#filePos.get(key)!;
    let done = 0;
    while (done < b.length) {
      const n = readSync(this.#fd, b, done, b.length - done, pos + done);
      if (n === 0) throw new StitchError(`memmap file ${this.path} is truncated at block ${key}`);
      done += n;
    }
  }

  /** Release memory and remove the memmap folder. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#resident.clear();
    this.#filePos.clear();
    this.#wideOnDisk.clear();
    this.#wide.clear();
    for (const a of this.arenas) recycle(a);
    this.arenas.length = 0;
    if (this.#fd >= 0) { try { closeSync(this.#fd); } catch { /* already closed */ } this.#fd = -1; }
    if (this.#dir) {
      try { rmSync(this.#dir, { recursive: true, force: true }); }
      finally { liveDirs.delete(this.#dir); this.#dir = null; }
    }
  }
}
