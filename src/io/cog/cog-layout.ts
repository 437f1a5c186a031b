/**
 * The byte layout of a COG once every level's compressed size is known:
 * header + ghost, one IFD per level (full resolution first), then the level
 * data from the smallest overview to the full resolution. Classic TIFF
 * unless asked for BigTIFF or (bigtiff 'auto') the file would pass 4 GiB,
 * decided from the exact size.
 */
import { DTYPES } from '../../array/dtypes.ts';
import { IoError } from '../errors.ts';
import { COMPRESSION_CODES } from './compress.ts';
import { gdalMetadataXml, gdalNodataText } from './gdal-metadata-write.ts';
import { geoTiffEntries } from './geokeys.ts';
import type { CogPlan } from './options.ts';
import { FieldType, Photometric, Predictor, SampleFormat, Tag } from '../tiff-tags.ts';
import { BIG_TIFF, CLASSIC_TIFF, encodeHeader, encodeIfd, gdalGhostHeader, ifdByteLength, type IfdEntry, type TiffFormat } from './tiff-encode.ts';

/** One level as the layout needs it. */
export interface LevelLayoutInput {
  width: number;
  height: number;
  /** offset of each tile's data within the level's bytes, -1 for a sparse tile */
  offsets: readonly number[];
  /** compressed size of each tile, 0 for a sparse tile */
  counts: readonly number[];
  /** total bytes of the level's (framed) tile data */
  dataBytes: number;
}

/** The encoded head of the file (header, ghost, IFDs) and where each level's data goes. */
export interface CogLayout {
  bigtiff: boolean;
  head: Uint8Array[];
  /** file offset of each level's data (index 0 = full resolution) */
  dataAt: number[];
  totalBytes: number;
}

const SAMPLE_FORMATS = { uint8: SampleFormat.Uint, uint16: SampleFormat.Uint, int8: SampleFormat.Int, int16: SampleFormat.Int,
  int32: SampleFormat.Int, float32: SampleFormat.IEEEFP, float64: SampleFormat.IEEEFP } as const;

/** The IFD entries of level `i`, with tile offsets `offsets` (absolute, 0 = sparse). */
function levelEntries(plan: CogPlan, level: LevelLayoutInput, i: number, fmt: TiffFormat, offsets: readonly number[]): IfdEntry[] {
  const c = plan.bands;
  const e: IfdEntry[] = [];
  const short = (tag: Tag, v: number | number[]) => e.push({ tag, type: FieldType.SHORT, values: typeof v === 'number' ? [v] : v });
  const long = (tag: Tag, v: number) => e.push({ tag, type: FieldType.LONG, values: [v] });
  if (i > 0) long(Tag.NewSubfileType, 1);
  long(Tag.ImageWidth, level.width);
  long(Tag.ImageLength, level.height);
  short(Tag.BitsPerSample, new Array(c).fill(DTYPES[plan.dtype].bytes * 8));
  short(Tag.Compression, COMPRESSION_CODES[plan.compress]);
  short(Tag.PhotometricInterpretation, Photometric.MinIsBlack);
  short(Tag.SamplesPerPixel, c);
  short(Tag.PlanarConfiguration, 1);
  if (plan.predictor !== Predictor.None) short(Tag.Predictor, plan.predictor);
  long(Tag.TileWidth, plan.blocksize);
  long(Tag.TileLength, plan.blocksize);
  e.push({ tag: Tag.TileOffsets, type: fmt.offsetType, values: offsets });
  e.push({ tag: Tag.TileByteCounts, type: fmt.offsetType, values: level.counts });
  if (c > 1) short(Tag.ExtraSamples, new Array(c - 1).fill(0));
  short(Tag.SampleFormat, new Array(c).fill(SAMPLE_FORMATS[plan.dtype]));
  if (i === 0) {
    e.push(...geoTiffEntries(plan.epsg, plan.transform));
    const xml = gdalMetadataXml(plan.metadata, plan.bandScale, plan.bands);
    if (xml) e.push({ tag: Tag.GdalMetadata, type: FieldType.ASCII, values: xml });
  }
  if (plan.nodata !== null) e.push({ tag: Tag.GdalNodata, type: FieldType.ASCII, values: gdalNodataText(plan.nodata, plan.dtype) });
  return e;
}

/** Lays out the file; throws IoError naming `path` when bigtiff is false and the file would pass 4 GiB. */
export function layoutCog(plan: CogPlan, levels: readonly LevelLayoutInput[], path: string): CogLayout {
  const ghost = gdalGhostHeader();
  const place = (fmt: TiffFormat) => {
    const header = encodeHeader(fmt, ghost);
    const ifdAt: number[] = [];
    let pos = header.firstIfd;
    levels.forEach((l, i) => {
      ifdAt.push(pos);
      pos += ifdByteLength(levelEntries(plan, l, i, fmt, l.offsets.map(() => 0)), fmt);
    });
    const dataAt: number[] = new Array(levels.length);
    for (let i = levels.length - 1; i >= 0; i--) {
      dataAt[i] = pos;
      pos += levels[i].dataBytes;
    }
    return { header, ifdAt, dataAt, total: pos };
  };
  let fmt = plan.bigtiff === true ? BIG_TIFF : CLASSIC_TIFF;
  let at = place(fmt);
  if (at.total > fmt.maxOffset) {
    if (plan.bigtiff === false) {
      throw new IoError(`${path} would be ${at.total} bytes, past classic TIFF's 4 GiB limit; write it with bigtiff: true or 'auto'`, path);
    }
    fmt = BIG_TIFF;
    at = place(fmt);
  }
  const head: Uint8Array[] = [at.header.bytes];
  levels.forEach((l, i) => {
    const offsets = l.offsets.map((o) => (o < 0 ? 0 : at.dataAt[i] + o));
    const next = i + 1 < levels.length ? at.ifdAt[i + 1] : 0;
    head.push(encodeIfd(levelEntries(plan, l, i, fmt, offsets), fmt, at.ifdAt[i], next));
  });
  return { bigtiff: fmt.bigtiff, head, dataAt: at.dataAt, totalBytes: at.total };
}

/**
 * Where the full resolution's data will start, when that is known before
 * its tiles are compressed: the overviews' sizes are known, and the TIFF
 * format does not hang on the full resolution's compressed size. That holds
 * unless bigtiff is 'auto' (or false) and a bound of twice the raw tiles,
 * past any codec's worst case, would pass classic TIFF's 4 GiB; then null.
 * The returned offset equals layoutCog's dataAt[0] for any compressed size
 * within that bound.
 */
export function fullResolutionOffset(plan: CogPlan, size: { width: number; height: number }, tileBytes: number,
  overviews: readonly LevelLayoutInput[], path: string): number | null {
  const tiles = Math.ceil(size.width / plan.blocksize) * Math.ceil(size.height / plan.blocksize);
  const none = new Array<number>(tiles).fill(0);
  const levels = [{ ...size, offsets: none, counts: none, dataBytes: tiles * (2 * tileBytes + 64) }, ...overviews];
  let laid: CogLayout;
  try {
    laid = layoutCog(plan, levels, path);
  } catch {
    return null; // bigtiff: false and the bound passes 4 GiB: the exact size decides, later
  }
  return plan.bigtiff === true || !laid.bigtiff ? laid.dataAt[0] : null;
}
