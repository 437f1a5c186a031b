/**
 * Serialisation of TIFF headers and IFDs, classic TIFF and BigTIFF, little
 * endian. An IFD is written as its entry table followed by the values that
 * do not fit inline, so `ifdByteLength` can size every IFD before the tile
 * offsets they hold are known.
 */
import { FIELD_TYPE_BYTES, FieldType, type Tag } from '../tiff-tags.ts';

/** Sizes that differ between classic TIFF and BigTIFF. */
export interface TiffFormat {
  readonly bigtiff: boolean;
  readonly headerBytes: number;
  /** size of the entry count at the start of an IFD */
  readonly countBytes: number;
  readonly entryBytes: number;
  /** size of an offset (next-IFD pointer, out-of-line value pointer) */
  readonly offsetBytes: number;
  /** field type for tile offsets and byte counts */
  readonly offsetType: FieldType;
  /** largest offset the format can hold */
  readonly maxOffset: number;
}

/** Classic TIFF: 32-bit offsets, 12-byte entries. */
export const CLASSIC_TIFF: TiffFormat = {
  bigtiff: false, headerBytes: 8, countBytes: 2, entryBytes: 12, offsetBytes: 4, offsetType: FieldType.LONG, maxOffset: 0xffffffff,
};
/** BigTIFF: 64-bit offsets, 20-byte entries. */
export const BIG_TIFF: TiffFormat = {
  bigtiff: true, headerBytes: 16, countBytes: 8, entryBytes: 20, offsetBytes: 8, offsetType: FieldType.LONG8, maxOffset: Number.MAX_SAFE_INTEGER,
};

/** One IFD entry: numeric values, or text for ASCII fields (NUL added here). */
export interface IfdEntry {
  tag: Tag;
  type: FieldType;
  values: ArrayLike<number> | string;
}

function valueCount(e: IfdEntry): number {
  return typeof e.values === 'string' ? Buffer.byteLength(e.values, 'latin1') + 1 : e.values.length;
}

function valueBytes(e: IfdEntry): number {
  return valueCount(e) * FIELD_TYPE_BYTES[e.type];
}

const even = (n: number) => n + (n & 1);

/** Bytes taken by an IFD with these entries, including its out-of-line values. */
export function ifdByteLength(entries: readonly IfdEntry[], fmt: TiffFormat): number {
  let n = fmt.countBytes + entries.length * fmt.entryBytes + fmt.offsetBytes;
  for (const e of entries) {
    const b = valueBytes(e);
    if (b > fmt.offsetBytes) n += even(b);
  }
  return n;
}

function writeValues(dv: DataView, at: number, e: IfdEntry): void {
  if (typeof e.values === 'string') {
    const s = Buffer.from(e.values, 'latin1');
    for (let i = 0; i < s.length; i++) dv.setUint8(at + i, s[i]);
    dv.setUint8(at + s.length, 0);
    return;
  }
  const v = e.values;
  switch (e.type) {
    case FieldType.BYTE: for (let i = 0; i < v.length; i++) dv.setUint8(at + i, v[i]); break;
    case FieldType.SHORT: for (let i = 0; i < v.length; i++) dv.setUint16(at + 2 * i, v[i], true); break;
    case FieldType.LONG: for (let i = 0; i < v.length; i++) dv.setUint32(at + 4 * i, v[i], true); break;
    case FieldType.DOUBLE: for (let i = 0; i < v.length; i++) dv.setFloat64(at + 8 * i, v[i], true); break;
    case FieldType.LONG8: for (let i = 0; i < v.length; i++) dv.setBigUint64(at + 8 * i, BigInt(v[i]), true); break;
    default: throw new RangeError(`field type ${e.type as number} is not written by this encoder`);
  }
}

function setOffset(dv: DataView, at: number, value: number, fmt: TiffFormat): void {
  if (fmt.bigtiff) dv.setBigUint64(at, BigInt(value), true);
  else dv.setUint32(at, value, true);
}

/**
 * Encodes an IFD to be placed at byte `at` of the file, pointing to the next
 * IFD at `nextIfd` (0 for the last). Entries are sorted by tag here.
 */
export function encodeIfd(entries: readonly IfdEntry[], fmt: TiffFormat, at: number, nextIfd: number): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const out = new Uint8Array(ifdByteLength(sorted, fmt));
  const dv = new DataView(out.buffer);
  if (fmt.bigtiff) dv.setBigUint64(0, BigInt(sorted.length), true);
  else dv.setUint16(0, sorted.length, true);
  let extra = fmt.countBytes + sorted.length * fmt.entryBytes + fmt.offsetBytes;
  sorted.forEach((e, i) => {
    const p = fmt.countBytes + i * fmt.entryBytes;
    dv.setUint16(p, e.tag, true);
    dv.setUint16(p + 2, e.type, true);
    setOffset(dv, p + 4, valueCount(e), fmt);
    const valueAt = p + 4 + fmt.offsetBytes;
    const bytes = valueBytes(e);
    if (bytes <= fmt.offsetBytes) {
      writeValues(dv, valueAt, e);
    } else {
      setOffset(dv, valueAt, at + extra, fmt);
      writeValues(dv, extra, e);
      extra += even(bytes);
    }
  });
  setOffset(dv, fmt.countBytes + sorted.length * fmt.entryBytes, nextIfd, fmt);
  return out;
}

/**
 * The file header ("II", magic 42 or 43, first IFD offset) followed by
 * `ghost` (GDAL's structural metadata) and padding up to the first IFD,
 * which starts at the returned `firstIfd` (even, right after the ghost).
 */
export function encodeHeader(fmt: TiffFormat, ghost: string): { bytes: Uint8Array; firstIfd: number } {
  const g = Buffer.from(ghost, 'latin1');
  const firstIfd = even(fmt.headerBytes + g.length);
  const out = new Uint8Array(firstIfd);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0x4949, false); // "II": little endian
  if (fmt.bigtiff) {
    dv.setUint16(2, 43, true);
    dv.setUint16(4, 8, true); // offset size
    dv.setUint16(6, 0, true);
    dv.setBigUint64(8, BigInt(firstIfd), true);
  } else {
    dv.setUint16(2, 42, true);
    dv.setUint32(4, firstIfd, true);
  }
  out.set(g, fmt.headerBytes);
  return { bytes: out, firstIfd };
}

/**
 * GDAL's COG "ghost" structural metadata: IFDs before the data, tiles in
 * row-major order, each preceded by its size as a little-endian uint32 and
 * followed by a repeat of its last 4 bytes.
 */
export function gdalGhostHeader(): string {
  const body = 'LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\n'
    + 'BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n ';
  return `GDAL_STRUCTURAL_METADATA_SIZE=${String(body.length).padStart(6, '0')} bytes\n${body}`;
}
