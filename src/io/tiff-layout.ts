/**
 * Reads the structure of a TIFF (not its pixels): each IFD's size, tiling
 * and tile offsets, and GDAL's ghost header. `checkCogLayout` turns that into
 * the list of ways a file breaks the Cloud Optimized GeoTIFF layout, the same
 * rules GDAL's validate_cloud_optimized_geotiff.py applies.
 */
import { FormatError } from './errors.ts';
import { openByteSource } from './open-byte-source.ts';
import { FieldType, Tag } from './tiff-tags.ts';

/** The tags this inspector reads, and the (integer) field types it reads them in. */
const LAYOUT_TAGS: ReadonlySet<number> = new Set([
  Tag.NewSubfileType, Tag.ImageWidth, Tag.ImageLength, Tag.StripOffsets, Tag.StripByteCounts,
  Tag.TileWidth, Tag.TileLength, Tag.TileOffsets, Tag.TileByteCounts,
]);
const INTEGER_TYPES: ReadonlySet<number> = new Set([FieldType.SHORT, FieldType.LONG, FieldType.LONG8]);

export interface IfdLayout {
  /** byte offset of the IFD itself */
  offset: number;
  width: number;
  height: number;
  subfileType: number;
  tiled: boolean;
  tileWidth: number;
  tileHeight: number;
  /** offsets of the image data (tiles or strips); 0 for a sparse tile */
  dataOffsets: number[];
  dataByteCounts: number[];
}

export interface TiffLayout {
  bigtiff: boolean;
  littleEndian: boolean;
  /** the GDAL_STRUCTURAL_METADATA ghost header, when present */
  ghostHeader: string | null;
  ifds: IfdLayout[];
}

const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8 };

/** Reads the IFD chain of a TIFF file. */
export async function readTiffLayout(path: string): Promise<TiffLayout> {
  // a local file, or a remote one (header reads go through its block cache)
  const source = await openByteSource(path);
  try {
    const size = source.size;
    const read = async (offset: number, length: number): Promise<DataView> => {
      if (offset < 0 || offset + length > size) {
        throw new FormatError(`${path} is truncated: needs bytes ${offset}..${offset + length} of a ${size}-byte file`, path);
      }
      const buf = await source.readPadded(offset, length);
      return new DataView(buf.buffer, buf.byteOffset, length);
    };
    const head = await read(0, Math.min(size, 16));
    if (size < 8) throw new FormatError(`${path} is not a TIFF: only ${size} bytes`, path);
    const order = head.getUint16(0, false);
    if (order !== 0x4949 && order !== 0x4d4d) throw new FormatError(`${path} is not a TIFF (bytes 0-1 are 0x${order.toString(16)})`, path);
    const le = order === 0x4949;
    const magic = head.getUint16(2, le);
    if (magic !== 42 && magic !== 43) throw new FormatError(`${path} is not a TIFF (magic ${magic}, expected 42 or 43)`, path);
    const big = magic === 43;
    const u = (dv: DataView, off: number, bytes: number): number =>
      bytes === 1 ? dv.getUint8(off) : bytes === 2 ? dv.getUint16(off, le) : bytes === 4 ? dv.getUint32(off, le) : Number(dv.getBigUint64(off, le));
    let next = big ? u(head, 8, 8) : u(head, 4, 4);
    const headerEnd = big ? 16 : 8;

    let ghostHeader: string | null = null;
    const ghost = await read(headerEnd, Math.min(size - headerEnd, 512)).catch(() => null);
    if (ghost) {
      const text = Buffer.from(ghost.buffer, ghost.byteOffset, ghost.byteLength).toString('latin1');
      const m = /^GDAL_STRUCTURAL_METADATA_SIZE=(\d+) bytes\n/.exec(text);
      if (m) ghostHeader = text.slice(0, m[0].length + Number(m[1]));
    }

    const ifds: IfdLayout[] = [];
    const seen = new Set<number>();
    while (next !== 0) {
      if (seen.has(next)) throw new FormatError(`${path} has an IFD loop at offset ${next}`, path);
      seen.add(next);
      const countBytes = big ? 8 : 2;
      const entryBytes = big ? 20 : 12;
      const n = u(await read(next, countBytes), 0, countBytes);
      const entries = await read(next + countBytes, n * entryBytes + (big ? 8 : 4));
      const values = new Map<number, number[]>();
      for (let i = 0; i < n; i++) {
        const e = i * entryBytes;
        const tag = u(entries, e, 2);
        const type = u(entries, e + 2, 2);
        const count = u(entries, e + 4, big ? 8 : 4);
        const tsize = TYPE_SIZES[type] ?? 1;
        if (!LAYOUT_TAGS.has(tag) || !INTEGER_TYPES.has(type)) continue;
        const inline = tsize * count <= (big ? 8 : 4);
        const valueOff = e + (big ? 12 : 8);
        const dv = inline ? new DataView(entries.buffer, entries.byteOffset + valueOff, big ? 8 : 4) : await read(u(entries, valueOff, big ? 8 : 4), tsize * count);
        const list: number[] = new Array(count);
        for (let k = 0; k < count; k++) list[k] = u(dv, k * tsize, tsize);
        values.set(tag, list);
      }
      next = u(entries, n * entryBytes, big ? 8 : 4);
      const tiled = values.has(Tag.TileWidth);
      ifds.push({
        offset: [...seen].at(-1)!,
        width: values.get(Tag.ImageWidth)?.[0] ?? 0,
        height: values.get(Tag.ImageLength)?.[0] ?? 0,
        subfileType: values.get(Tag.NewSubfileType)?.[0] ?? 0,
        tiled,
        tileWidth: values.get(Tag.TileWidth)?.[0] ?? 0,
        tileHeight: values.get(Tag.TileLength)?.[0] ?? 0,
        dataOffsets: values.get(tiled ? Tag.TileOffsets : Tag.StripOffsets) ?? [],
        dataByteCounts: values.get(tiled ? Tag.TileByteCounts : Tag.StripByteCounts) ?? [],
      });
    }
    return { bigtiff: big, littleEndian: le, ghostHeader, ifds };
  } finally {
    await source.close();
  }
}

/**
 * The ways a TIFF breaks the COG layout (empty when it is a valid COG):
 * tiled full resolution (beyond 512 px), overviews each smaller than the
 * last, every IFD before any image data, and image data ordered from the
 * smallest overview to the full resolution.
 */
export function checkCogLayout(layout: TiffLayout): string[] {
  const problems: string[] = [];
  const [main, ...overviews] = layout.ifds;
  if (!main) return ['no image in the file'];
  if (!main.tiled && (main.width > 512 || main.height > 512)) problems.push(`full resolution ${main.width}x${main.height} is not tiled`);
  overviews.forEach((ov, i) => {
    const prev = layout.ifds[i];
    if (!ov.tiled && (ov.width > 512 || ov.height > 512)) problems.push(`overview ${i + 1} (${ov.width}x${ov.height}) is not tiled`);
    if (!(ov.width < prev.width || ov.height < prev.height)) problems.push(`overview ${i + 1} (${ov.width}x${ov.height}) is not smaller than the level before (${prev.width}x${prev.height})`);
  });
  const firstData = (ifd: IfdLayout) => Math.min(...ifd.dataOffsets.filter((o) => o > 0));
  const lastIfd = Math.max(...layout.ifds.map((d) => d.offset));
  const dataStart = Math.min(...layout.ifds.map(firstData));
  if (Number.isFinite(dataStart) && lastIfd > dataStart) problems.push(`an IFD (at byte ${lastIfd}) comes after image data (from byte ${dataStart})`);
  for (let i = layout.ifds.length - 1; i > 0; i--) {
    const smaller = firstData(layout.ifds[i]);
    const larger = firstData(layout.ifds[i - 1]);
    if (Number.isFinite(smaller) && Number.isFinite(larger) && smaller > larger) {
      problems.push(`data of level ${i} (${layout.ifds[i].width}x${layout.ifds[i].height}) comes after data of the larger level ${i - 1}`);
    }
  }
  for (const [k, ifd] of layout.ifds.entries()) {
    for (let t = 1; t < ifd.dataOffsets.length; t++) {
      if (ifd.dataOffsets[t] !== 0 && ifd.dataOffsets[t - 1] !== 0 && ifd.dataOffsets[t] < ifd.dataOffsets[t - 1]) {
        problems.push(`level ${k}: tile ${t} is stored before tile ${t - 1} (tiles must be in row-major order)`);
        break;
      }
    }
  }
  return problems;
}
