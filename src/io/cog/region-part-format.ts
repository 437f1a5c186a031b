/**
 * The region part file (issue 14): one region's compressed tiles, framed
 * exactly as they go into the COG, so assembly copies them as runs.
 *
 *   0   8  magic "CSCOGPRT"
 *   8   4  version (u32 LE, 1)
 *   12  4  descriptor length L (u32 LE, at most 64 KiB)
 *   16  8  total file size (f64 LE)
 *   24  L  descriptor: JSON {kind, fingerprint, region: {x, y}, levels: [{width, height}]}
 *          (levels 0..m: full resolution, then the region-made overviews), zero-padded to 8 bytes
 *   ..     data bytes of each level (f64 LE, levels 0..m)
 *   ..     compressed size of each tile (u32 LE, 0 = sparse), level 0's tiles first, row-major
 *   ..     the levels' data, level m first and level 0 last (GDAL's order): each tile
 *          as in the COG, a 4-byte size leader, the data, its last 4 bytes again
 *
 * Offsets are not stored: tiles follow each other, so a tile's offset is
 * the sum of the framed sizes before it. Everything read back is checked
 * (against the grid and options assembly is given, and against the file's
 * size) before anything it sizes is allocated.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { checkAllocation } from '../../array/memory-budget.ts';
import { FormatError, IoError } from '../errors.ts';
import type { CogPlan } from './options.ts';
import { checkRegion, regionLevels, type CogRegionGrid, type LevelSize } from './region-grid.ts';

const MAGIC = 'CSCOGPRT';
const VERSION = 1;
const FIXED_BYTES = 24;
const MAX_DESCRIPTOR = 64 * 1024;
const KIND = 'coco-stitcher COG region part';

const pad8 = (n: number) => Math.ceil(n / 8) * 8;
const tilesOf = (l: { width: number; height: number }, bs: number) => Math.ceil(l.width / bs) * Math.ceil(l.height / bs);

/** The head of a part being written: everything before the level data. */
export class PartHead {
  readonly descriptor: Uint8Array;
  /** bytes before the first level's data */
  readonly bytes: number;

  constructor(fingerprint: Record<string, unknown>, region: { x: number; y: number }, readonly levels: readonly LevelSize[], readonly blocksize: number) {
    const desc = { kind: KIND, fingerprint, region: { x: region.x, y: region.y }, levels: levels.map((l) => ({ width: l.width, height: l.height })) };
    this.descriptor = new TextEncoder().encode(JSON.stringify(desc));
    let tiles = 0;
    for (const l of levels) tiles += tilesOf(l, blocksize);
    this.bytes = FIXED_BYTES + pad8(this.descriptor.length) + 8 * levels.length + 4 * tiles;
  }

  /** The encoded head, given each level's data bytes and tile sizes (index 0 = full resolution). */
  encode(dataBytes: readonly number[], counts: readonly (readonly number[])[]): Uint8Array {
    const out = new Uint8Array(this.bytes);
    const dv = new DataView(out.buffer);
    out.set(new TextEncoder().encode(MAGIC), 0);
    dv.setUint32(8, VERSION, true);
    dv.setUint32(12, this.descriptor.length, true);
    let total = this.bytes;
    for (const b of dataBytes) total += b;
    dv.setFloat64(16, total, true);
    out.set(this.descriptor, FIXED_BYTES);
    let at = FIXED_BYTES + pad8(this.descriptor.length);
    for (const b of dataBytes) { dv.setFloat64(at, b, true); at += 8; }
    for (const level of counts) for (const c of level) { dv.setUint32(at, c, true); at += 4; }
    return out;
  }
}

/** One level of a part as read back. */
export interface PartLevel {
  width: number;
  height: number;
  tilesAcross: number;
  tilesDown: number;
  /** compressed size of each tile, 0 = sparse */
  counts: Uint32Array;
  /** file offset of the level's data */
  dataAt: number;
  /** offset of each tile row's first byte within the level's data (tilesDown + 1 entries) */
  rowStart: Float64Array;
}

/** A checked part: where its region is and where its tiles are. */
export interface PartIndex {
  path: string;
  x: number;
  y: number;
  col: number;
  row: number;
  levels: PartLevel[];
}

/** The name of a region in messages. */
export const regionName = (x: number, y: number, col: number, row: number) => `region (column ${col}, row ${row}) at x=${x}, y=${y}`;

async function readExactly(fh: FileHandle, path: string, buf: Uint8Array, position: number, what: string): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new FormatError(`${path}: region part ends inside ${what} (at byte ${position + off})`, path);
    off += bytesRead;
  }
}

/**
 * Reads and checks the head of the part at `path` against the whole
 * image's `plan`, `grid`, region-local level count `m` and `fingerprint`.
 * FormatError naming the file (and the region, once known) when it is not
 * a part, was written for another grid or options, or is truncated.
 */
export async function readPartIndex(path: string, plan: CogPlan, grid: CogRegionGrid, m: number, fingerprint: Record<string, unknown>): Promise<PartIndex> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new IoError(`cannot open region part ${path}: ${(err as Error).message}`, path, { cause: err });
  }
  try {
    const size = (await fh.stat()).size;
    if (size < FIXED_BYTES) throw new FormatError(`${path}: ${size} bytes is too short for a region part (truncated or not a part)`, path);
    const fixed = new Uint8Array(FIXED_BYTES);
    await readExactly(fh, path, fixed, 0, 'the header');
    const dv = new DataView(fixed.buffer);
    if (new TextDecoder().decode(fixed.subarray(0, 8)) !== MAGIC) throw new FormatError(`${path}: not a COG region part (no ${MAGIC} magic)`, path);
    const version = dv.getUint32(8, true);
    if (version !== VERSION) throw new FormatError(`${path}: region part version ${version}, expected ${VERSION}`, path);
    const descLength = dv.getUint32(12, true);
    const total = dv.getFloat64(16, true);
    if (descLength < 2 || descLength > MAX_DESCRIPTOR) {
      throw new FormatError(`${path}: region part descriptor of ${descLength} bytes, expected 2..${MAX_DESCRIPTOR}`, path);
    }
    if (FIXED_BYTES + descLength > size) throw new FormatError(`${path}: region part truncated to ${size} bytes, inside its descriptor`, path);
    checkAllocation(descLength, `${path}: a region part's descriptor`);
    const descBytes = new Uint8Array(descLength);
    await readExactly(fh, path, descBytes, FIXED_BYTES, 'the descriptor');
    let desc: { kind?: unknown; fingerprint?: Record<string, unknown>; region?: { x?: unknown; y?: unknown }; levels?: unknown };
    try {
      desc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(descBytes));
    } catch (err) {
      throw new FormatError(`${path}: region part descriptor is not JSON: ${(err as Error).message}`, path, { cause: err });
    }
    if (!desc || typeof desc !== 'object' || desc.kind !== KIND || !desc.fingerprint || typeof desc.fingerprint !== 'object' || !desc.region || typeof desc.region !== 'object') {
      throw new FormatError(`${path}: region part descriptor lacks kind, fingerprint or region`, path);
    }
    const { x, y } = desc.region as { x: number; y: number };
    const where = `${path} (region at x=${x}, y=${y})`;
    for (const [key, want] of Object.entries(fingerprint)) {
      const got = desc.fingerprint[key];
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        throw new FormatError(`${where}: part written for ${key} ${JSON.stringify(got)}, but assembly is for ${key} ${JSON.stringify(want)} (a part of another grid or options)`, path);
      }
    }
    let pos: ReturnType<typeof checkRegion>;
    try {
      pos = checkRegion({ ...grid, x, y }, plan.blocksize);
    } catch (err) {
      throw new FormatError(`${where}: not a region of the grid: ${(err as Error).message}`, path, { cause: err });
    }
    const name = `${path} (${regionName(x, y, pos.col, pos.row)})`;
    const expected = regionLevels(plan, m, pos.width, pos.height);
    const levels = desc.levels as { width?: unknown; height?: unknown }[];
    if (!Array.isArray(levels) || levels.length !== expected.length || levels.some((l, i) => l?.width !== expected[i].width || l?.height !== expected[i].height)) {
      throw new FormatError(`${name}: part levels ${JSON.stringify(levels)} differ from the expected ${JSON.stringify(expected.map((l) => ({ width: l.width, height: l.height })))}`, path);
    }
    const bs = plan.blocksize;
    let tiles = 0;
    for (const l of expected) tiles += tilesOf(l, bs);
    const indexAt = FIXED_BYTES + pad8(descLength);
    const indexBytes = 8 * expected.length + 4 * tiles;
    const headBytes = indexAt + indexBytes;
    if (total !== size) {
      throw new FormatError(`${name}: region part is ${size} bytes, but its header says ${total} (${size < total ? 'truncated' : 'trailing bytes'})`, path);
    }
    if (headBytes > size) throw new FormatError(`${name}: region part truncated to ${size} bytes, inside its tile index (${headBytes} bytes)`, path);
    checkAllocation(indexBytes, `${name}: a region part's tile index (${tiles} tiles)`);
    const index = new Uint8Array(indexBytes);
    await readExactly(fh, path, index, indexAt, 'the tile index');
    const idv = new DataView(index.buffer);
    const dataBytes = expected.map((_, i) => idv.getFloat64(8 * i, true));
    let sum = headBytes;
    for (const b of dataBytes) {
      if (!Number.isSafeInteger(b) || b < 0) throw new FormatError(`${name}: a level's data size ${b} is not a byte count`, path);
      sum += b;
    }
    if (sum !== size) throw new FormatError(`${name}: head (${headBytes} bytes) and level data (${dataBytes.join(' + ')}) do not add up to the file's ${size} bytes`, path);
    const out: PartLevel[] = [];
    let at = 8 * expected.length;
    expected.forEach((l, i) => {
      const tilesAcross = Math.ceil(l.width / bs), tilesDown = Math.ceil(l.height / bs);
      const counts = new Uint32Array(tilesAcross * tilesDown);
      for (let t = 0; t < counts.length; t++, at += 4) counts[t] = idv.getUint32(at, true);
      const rowStart = new Float64Array(tilesDown + 1);
      let bytes = 0;
      for (let ty = 0; ty < tilesDown; ty++) {
        rowStart[ty] = bytes;
        for (let tx = 0; tx < tilesAcross; tx++) { const c = counts[ty * tilesAcross + tx]; if (c > 0) bytes += c + 8; }
      }
      rowStart[tilesDown] = bytes;
      if (bytes !== dataBytes[i]) throw new FormatError(`${name}: level ${i}'s tiles add up to ${bytes} bytes, its header says ${dataBytes[i]}`, path);
      out.push({ width: l.width, height: l.height, tilesAcross, tilesDown, counts, dataAt: 0, rowStart });
    });
    // levels are stored m..0 after the head
    let cursor = headBytes;
    for (let i = out.length - 1; i >= 0; i--) { out[i].dataAt = cursor; cursor += dataBytes[i]; }
    return { path, x, y, col: pos.col, row: pos.row, levels: out };
  } finally {
    await fh.close().catch(() => {});
  }
}
