/**
 * GeoTIFF / COG reading: geotiff.js parses the IFDs and GeoKeys and supplies
 * the decoders; the tiles a window needs are fetched and placed into an HWC
 * raster here, with typed-array row copies. Sparse tiles (TileOffsets or
 * TileByteCounts 0, written by GDAL with SPARSE_OK and by our writer) read as
 * the nodata value (0 without one), as GDAL reads them.
 */
// geotiff.js is loaded when the first TIFF is opened (it adds ~10 MB to every process that imports the package)
import { Affine } from '../../array/affine.ts';
import { allocate, DTYPES, type Dtype, type TypedArray } from '../../array/dtypes.ts';
import { Raster } from '../../array/raster.ts';
import { CocoStitcherError } from '../../array/errors.ts';
import { checkAllocation } from '../../array/memory-budget.ts';
import { forEachLimit } from '../concurrency.ts';
import { FormatError, IoError, UnsupportedError } from '../errors.ts';
import { parseGdalBandScales, parseGdalMetadata, parseGdalNodata } from '../gdal-metadata-parse.ts';
import {
  checkOverview, fillValueFor, readWindowed, resolveWindow, type PixelWindow, type RasterFile, type RasterReadOptions,
} from '../raster-file.ts';
import type { ByteSource } from './byte-source.ts';
import { checkIfdExtents } from './check-extents.ts';
import { epsgFromGeoKeys, transformMatrix, type GeoKeys } from './geo.ts';
import { IfdTags, type GeotiffIfd } from './ifd.ts';
import { Compression, Photometric, SampleFormat, SubfileType, Tag } from '../tiff-tags.ts';
import { forgetTiles, sharedTileCache, type TileCache } from './tile-cache.ts';
import { readStripRows } from './strip-rows.ts';
import { compressionName, createTileDecoder, sampleFinisher, type TileDecode, type TileLayout } from './tile-decoder.ts';

/** How many tile groups one read keeps in flight (fetch + decode) at once. */
const TILES_IN_FLIGHT = 8;
/** At most this many contiguous tiles, and this many bytes, are fetched with one read. */
const GROUP_TILES = 16;
const GROUP_BYTES = 4 << 20;
/** Uncompressed or DEFLATE strips that decode to more than this are read by rows (only the rows a window needs). */
export const STRIP_ROWS_BYTES = 16 << 20;

/** Node's Buffer#copy: copies bytes between Uint8Arrays without allocating views. */
const copyBytes = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

/** One tile (or strip) a read needs: plane, grid position, index, file extent and tile-cache key ('' = not cached). */
interface TileJob { p: number; ty: number; tx: number; index: number; offset: number; count: number; key: string }

/** Numbers each open file, so its cached tiles are never taken for another's (or for a later open of the same path). */
let nextFileId = 0;

/** The dtype of samples with this TIFF SampleFormat and BitsPerSample, or null. */
export function dtypeFromTiff(sampleFormat: number, bits: number): Dtype | null {
  const key = `${sampleFormat}:${bits}`;
  const table: Record<string, Dtype> = {
    '1:8': 'uint8', '2:8': 'int8', '1:16': 'uint16', '2:16': 'int16', '2:32': 'int32',
    '3:32': 'float32', '3:64': 'float64',
  };
  return table[key] ?? null;
}

const FORMAT_NAMES: Record<number, string> = { 1: 'unsigned integer', 2: 'signed integer', 3: 'float', 4: 'undefined', 5: 'complex integer', 6: 'complex float' };

/** One image (full resolution or overview) of the file and its tile grid. */
class Level {
  offsets: ArrayLike<number> | null = null;
  counts: ArrayLike<number> | null = null;
  decode: TileDecode | null = null;
  #loading: Promise<void> | null = null;

  constructor(readonly index: number, readonly tags: IfdTags, readonly width: number, readonly height: number,
    readonly tiled: boolean, readonly tileWidth: number, readonly tileHeight: number,
    readonly planar: 1 | 2, readonly layout: TileLayout) {}

  /** Samples per pixel in one block (1 for planar files, else the band count). */
  samplesPerBlockPixel(bands: number): number { return this.planar === 2 ? 1 : bands; }

  /** True when this level's blocks are large uncompressed or DEFLATE strips, read by row ranges. */
  readsByRows(blockBytes: number): boolean {
    const c = this.layout.compression;
    return !this.tiled && blockBytes > STRIP_ROWS_BYTES && (c === Compression.None || c === Compression.Deflate || c === Compression.AdobeDeflate);
  }

  get tilesAcross(): number { return Math.ceil(this.width / this.tileWidth); }
  get tilesDown(): number { return Math.ceil(this.height / this.tileHeight); }

  /** Loads the tile offset / byte count arrays and the decoder (once). */
  load(path: string): Promise<void> {
    this.#loading ??= (async () => {
      const [offTag, cntTag] = this.tiled ? [Tag.TileOffsets, Tag.TileByteCounts] : [Tag.StripOffsets, Tag.StripByteCounts];
      let offsets, counts;
      try {
        offsets = await this.tags.value(offTag);
        counts = await this.tags.value(cntTag);
      } catch (err) {
        throw new FormatError(`${path}: cannot read ${Tag[offTag]}/${Tag[cntTag]} of IFD ${this.index}: ${(err as Error).message}`, path, { cause: err });
      }
      const need = this.tilesAcross * this.tilesDown * (this.planar === 2 ? this.layout.bitsPerSample.length : 1);
      const asArr = (v: unknown) => (typeof v === 'number' || typeof v === 'bigint') ? [Number(v)] : v as ArrayLike<number> | undefined;
      this.offsets = asArr(offsets) ?? null;
      this.counts = asArr(counts) ?? null;
      if (!this.offsets || !this.counts || this.offsets.length < need || this.counts.length < need) {
        throw new FormatError(`${path}: IFD ${this.index} lists ${this.offsets?.length ?? 0} ${Tag[offTag]} and ` +
          `${this.counts?.length ?? 0} ${Tag[cntTag]} but its ${this.width}x${this.height} image needs ${need}`, path);
      }
      this.decode = await createTileDecoder(this.layout);
    })();
    return this.#loading;
  }
}

/** Reads the full set of header facts of one IFD; throws for layouts we do not read. */
async function describeLevel(index: number, ifd: GeotiffIfd, path: string, littleEndian: boolean, pool: TileLayout['pool']):
  Promise<{ level: Level; dtype: Dtype; bands: number }> {
  const tags = new IfdTags(ifd, path, index);
  const num = (tag: Tag, dflt?: number) => tags.number(tag, dflt);
  const width = await num(Tag.ImageWidth);
  const height = await num(Tag.ImageLength);
  const bands = await num(Tag.SamplesPerPixel, 1);
  const bits = await tags.numbers(Tag.BitsPerSample, [1]);
  const formats = await tags.numbers(Tag.SampleFormat, [SampleFormat.Uint]);
  for (let b = 0; b < bands; b++) {
    const bb = bits[Math.min(b, bits.length - 1)], ff = formats[Math.min(b, formats.length - 1)];
    if (bb !== bits[0] || ff !== formats[0]) {
      throw new UnsupportedError(`${path}: bands of different sample types (band ${b} has ${bb}-bit format ${ff}, band 0 ${bits[0]}-bit format ${formats[0]}) are not supported`, path);
    }
  }
  const dtype = dtypeFromTiff(formats[0], bits[0]);
  if (!dtype) {
    throw new UnsupportedError(`${path}: ${bits[0]}-bit ${FORMAT_NAMES[formats[0]] ?? `format ${formats[0]}`} samples are not supported ` +
      `(expected uint8, int8, uint16, int16, int32, float32 or float64)`, path);
  }
  const planarRaw = await num(Tag.PlanarConfiguration, 1);
  if (planarRaw !== 1 && planarRaw !== 2) throw new FormatError(`${path}: PlanarConfiguration ${planarRaw} is invalid`, path);
  const tiled = tags.has(Tag.TileWidth);
  if (!tiled && !tags.has(Tag.StripOffsets)) throw new FormatError(`${path}: IFD ${index} has neither tiles nor strips`, path);
  const tileWidth = tiled ? await num(Tag.TileWidth) : width;
  const tileHeight = tiled ? await num(Tag.TileLength) : Math.min(await num(Tag.RowsPerStrip, height), height) || height;
  if (!(width > 0 && height > 0 && tileWidth > 0 && tileHeight > 0)) {
    throw new FormatError(`${path}: IFD ${index} has invalid size ${width}x${height} or block ${tileWidth}x${tileHeight}`, path);
  }
  const layout: TileLayout = {
    path, compression: await num(Tag.Compression, Compression.None), predictor: await num(Tag.Predictor, 1),
    tileWidth, tileHeight, bitsPerSample: Array.from({ length: bands }, () => bits[0]),
    planarConfiguration: planarRaw, littleEndian, pool,
    ycbcrToRgb: (await num(Tag.Compression, Compression.None)) === Compression.JPEG &&
      (await num(Tag.PhotometricInterpretation, Photometric.MinIsBlack)) === Photometric.YCbCr &&
      bands === 3 && bits[0] === 8 && planarRaw === 1,
    extra: {
      JPEGTables: tags.has(Tag.JPEGTables) ? await tags.value(Tag.JPEGTables) : undefined,
      LercParameters: tags.has(Tag.LercParameters) ? await tags.value(Tag.LercParameters) : undefined,
    },
  };
  return { level: new Level(index, tags, width, height, tiled, tileWidth, tileHeight, planarRaw, layout), dtype, bands };
}

/** Options of `openTiff`. */
export interface OpenTiffOptions {
  /** a geotiff.js `Pool` to decode non-DEFLATE tiles in web workers (default: decode in this thread) */
  pool?: TileLayout['pool'];
}

/**
 * Opens a TIFF already opened as `source`: parses every IFD, keeps the
 * full-resolution image and its reduced-resolution levels (masks skipped).
 * Takes ownership of `source` (closed on failure and by `close()`).
 */
export async function openTiff(source: ByteSource, options: OpenTiffOptions = {}): Promise<RasterFile> {
  const path = source.path;
  try {
    let tiff: any;
    const { GeoTIFF } = await import('geotiff');
    try {
      tiff = await (GeoTIFF as any).fromSource(source.asGeotiffSource());
    } catch (err) {
      throw new FormatError(`${path} is not a readable TIFF: ${(err as Error).message}`, path, { cause: err });
    }
    await checkIfdExtents(source, Number(tiff.firstIFDOffset), tiff.littleEndian, tiff.bigTiff);
    let count: number;
    try {
      count = await tiff.getImageCount();
    } catch (err) {
      throw new FormatError(`${path}: cannot walk the IFD chain: ${(err as Error).message}`, path, { cause: err });
    }
    const levels: Level[] = [];
    let dtype: Dtype | null = null;
    let bands = 0;
    let ifd0: IfdTags | null = null;
    for (let i = 0; i < count; i++) {
      let ifd: GeotiffIfd;
      try {
        ifd = (await tiff.getImage(i)).fileDirectory as GeotiffIfd;
      } catch (err) {
        throw new FormatError(`${path}: cannot parse IFD ${i}: ${(err as Error).message}`, path, { cause: err });
      }
      if (i > 0) {
        const sub = await new IfdTags(ifd, path, i).number(Tag.NewSubfileType, 0);
        // Only plain reduced-resolution images are overviews (not masks, not pages).
        if (sub !== SubfileType.ReducedResolution) continue;
      }
      const d = await describeLevel(i, ifd, path, tiff.littleEndian, options.pool);
      if (i === 0) {
        dtype = d.dtype; bands = d.bands; ifd0 = d.level.tags;
      } else if (d.dtype !== dtype || d.bands !== bands) {
        continue; // an overview that does not match the main image is not one of its levels
      }
      levels.push(d.level);
    }
    if (!ifd0 || !dtype) throw new FormatError(`${path} has no image`, path);
    const nodata = parseGdalNodata(await ifd0.value(Tag.GdalNodata) as string | undefined);
    const metadataXml = await ifd0.value(Tag.GdalMetadata) as string | undefined;
    const metadata = parseGdalMetadata(metadataXml);
    const bandScales = parseGdalBandScales(metadataXml, bands);
    let keys: GeoKeys = null;
    try {
      keys = ifd0.ifd.parseGeoKeyDirectory();
    } catch { keys = null; }
    const m = transformMatrix({
      modelTransformation: await ifd0.value(Tag.ModelTransformation) as ArrayLike<number> | undefined,
      modelTiepoint: await ifd0.value(Tag.ModelTiepoint) as ArrayLike<number> | undefined,
      modelPixelScale: await ifd0.value(Tag.ModelPixelScale) as ArrayLike<number> | undefined,
    }, keys);
    return new TiffRasterFile(source, levels, dtype, bands, nodata, metadata, bandScales, epsgFromGeoKeys(keys), m ? new Affine(m) : null);
  } catch (err) {
    await source.close().catch(() => {});
    throw err;
  }
}

/** A TIFF open for reading; see `RasterFile`. */
class TiffRasterFile implements RasterFile {
  readonly format = 'tiff' as const;
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly overviews: readonly { width: number; height: number }[];
  #source: ByteSource;
  #levels: Level[];
  #closed = false;
  /** this open file's prefix of tile-cache keys */
  readonly #cacheKey = `${nextFileId++}/`;

  constructor(source: ByteSource, levels: Level[], readonly dtype: Dtype, readonly bands: number,
    readonly nodata: number | null, readonly metadata: Record<string, string>,
    readonly bandScales: readonly { scale: number; offset: number }[] | null,
    readonly epsg: number | null, readonly transform: Affine | null) {
    this.#source = source;
    this.path = source.path;
    this.#levels = levels;
    this.width = levels[0].width;
    this.height = levels[0].height;
    this.overviews = levels.slice(1).map((l) => ({ width: l.width, height: l.height }));
  }

  async read(options: RasterReadOptions = {}): Promise<Raster> {
    if (this.#closed) throw new IoError(`cannot read ${this.path}: it is closed`, this.path);
    const ov = checkOverview(options.overview, this.overviews.length, this.path);
    const level = this.#levels[ov === null ? 0 : ov + 1];
    const win = resolveWindow(options.window, level.height, level.width, {
      path: this.path, level: ov === null ? 'full resolution' : `overview ${ov}`, boundless: options.boundless,
    });
    const fill = options.fill ?? this.nodata ?? 0;
    const cache = options.cacheTiles ? sharedTileCache() : null;
    return readWindowed(win, level.height, level.width, this.bands, this.dtype, fill, (w) => this.#readInside(level, w, cache));
  }

  async #readInside(level: Level, win: PixelWindow, cache: TileCache | null): Promise<Raster> {
    const { bands, dtype } = this;
    checkAllocation(win.h * win.w * bands * DTYPES[dtype].bytes, `${this.path}: a window of ${win.w} x ${win.h} pixels x ${bands} band(s) of ${dtype}`);
    const out = allocate(dtype, win.h * win.w * bands);
    if (win.h === 0 || win.w === 0) return new Raster(out, [win.h, win.w, bands]);
    await level.load(this.path);
    const { tileWidth: tw, tileHeight: th } = level;
    const spp = level.samplesPerBlockPixel(bands);
    const blockBytes = tw * th * spp * DTYPES[dtype].bytes;
    const codec = level.layout.compression;
    const byRows = level.readsByRows(blockBytes);
    let checked = byRows;
    const streamed: TileJob[] = [];
    const ty0 = Math.floor(win.y0 / th), ty1 = Math.ceil((win.y0 + win.h) / th);
    const tx0 = Math.floor(win.x0 / tw), tx1 = Math.ceil((win.x0 + win.w) / tw);
    const planes = level.planar === 2 ? bands : 1;
    // Tiles stored back to back in the file are fetched with one read (COGs store each tile row in order).
    const groups: TileJob[][] = [];
    const cached: [TileJob, Uint8Array][] = [];
    let group: TileJob[] = [];
    let groupEnd = -1, groupBytes = 0;
    const gap = this.#source.mergeGap ?? 0;
    for (let p = 0; p < planes; p++) {
      for (let ty = ty0; ty < ty1; ty++) {
        for (let tx = tx0; tx < tx1; tx++) {
          const index = p * level.tilesAcross * level.tilesDown + ty * level.tilesAcross + tx;
          const key = cache ? `${this.#cacheKey}${level.index}/${index}` : '';
          const job = { p, ty, tx, index, offset: Number(level.offsets![index]), count: Number(level.counts![index]), key };
          const sparse = job.offset === 0 || job.count === 0;
          if (byRows && !sparse) { streamed.push(job); continue; }
          if (!checked && !sparse) {
            checkAllocation(blockBytes, `${this.path}: decoding ${this.#describe(level, job)} (${tw} x ${th} pixels x ${spp} sample(s) of ${dtype}, ` +
              `${compressionName(codec)} compressed, decoded whole)`);
            checked = true;
          }
          const hit = key && !sparse ? cache!.get(key) : undefined;
          if (hit) {
            cached.push([job, hit]);
            groupEnd = -1;
            continue;
          }
          const skipped = job.offset - groupEnd; // bytes between the group and this tile (COGs: 8 of size leader and trailer)
          if (!sparse && groupEnd >= 0 && skipped >= 0 && skipped <= gap && group.length < GROUP_TILES && groupBytes + skipped + job.count <= GROUP_BYTES) {
            group.push(job);
            groupBytes += skipped;
          } else {
            if (group.length) groups.push(group);
            group = [job];
            groupBytes = 0;
          }
          groupEnd = sparse ? -1 : job.offset + job.count;
          groupBytes += sparse ? 0 : job.count;
        }
      }
    }
    if (group.length) groups.push(group);
    for (const [job, bytes] of cached) this.#placeDecoded(level, job, bytes, win, out);
    await forEachLimit(groups, TILES_IN_FLIGHT, (g) => this.#placeGroup(level, g, win, out));
    // one strip at a time: each holds only the window's rows
    for (const job of streamed) await this.#placeStripRows(level, job, win, out);
    return new Raster(out, [win.h, win.w, bands]);
  }

  /** Reads only the rows of strip `job` inside `win` (a large uncompressed or DEFLATE strip) and places them. */
  async #placeStripRows(level: Level, job: TileJob, win: PixelWindow, out: TypedArray): Promise<void> {
    const { iy0, iy1, spp } = this.#extent(level, job, win);
    const first = job.ty * level.tileHeight;
    const rowBytes = level.tileWidth * spp * DTYPES[this.dtype].bytes;
    const what = this.#describe(level, job);
    checkAllocation((iy1 - iy0) * rowBytes, `${this.path}: rows ${iy0}..${iy1} of ${what}`);
    const codec = level.layout.compression === Compression.None ? 'none' : 'deflate';
    const raw = await readStripRows(this.#source, { offset: job.offset, count: job.count, codec, rowBytes, what }, iy0 - first, iy1 - first);
    const bytes = sampleFinisher(level.layout)(raw);
    this.#placeDecoded(level, job, bytes, win, out, { row0: iy0, rows: iy1 - iy0 });
  }

  #describe(level: Level, job: TileJob): string {
    return `${level.tiled ? 'tile' : 'strip'} ${job.index} (row ${job.ty}, col ${job.tx}${level.planar === 2 ? `, band ${job.p}` : ''}) of IFD ${level.index}`;
  }

  /** Fetches a run of contiguous tiles with one read (sparse ones need none), then decodes and places each. */
  async #placeGroup(level: Level, group: TileJob[], win: PixelWindow, out: TypedArray): Promise<void> {
    const first = group[0];
    if (first.offset === 0 || first.count === 0) return this.#placeTile(level, first, null, win, out);
    for (const job of group) this.#source.checkRange(job.offset, job.count, this.#describe(level, job));
    const last = group[group.length - 1];
    const bytes = await this.#source.readExact(first.offset, last.offset + last.count - first.offset, this.#describe(level, first));
    await Promise.all(group.map((job) =>
      this.#placeTile(level, job, bytes.subarray(job.offset - first.offset, job.offset - first.offset + job.count), win, out)));
  }

  /** Decodes tile `job` (null data = sparse) and copies its part inside `win` into `out`; keeps the decoded tile in the tile cache when the job has a key. */
  async #placeTile(level: Level, job: TileJob, compressed: Uint8Array | null, win: PixelWindow, out: TypedArray): Promise<void> {
    if (compressed === null) {
      const { bands, dtype } = this;
      const { iy0, iy1, ix0, ix1, spp } = this.#extent(level, job, win);
      const p = job.p;
      const fill = fillValueFor(this.nodata ?? 0, dtype);
      for (let y = iy0; y < iy1; y++) {
        const row = ((y - win.y0) * win.w + (ix0 - win.x0)) * bands;
        if (spp === bands) out.fill(fill, row, row + (ix1 - ix0) * bands);
        else for (let i = row + p, e = row + (ix1 - ix0) * bands; i < e; i += bands) out[i] = fill;
      }
      return;
    }
    const bytes = await this.#decodeBlock(level, job, compressed);
    this.#placeDecoded(level, job, bytes, win, out);
    if (job.key) sharedTileCache().set(job.key, bytes); // after placing: it is checked there
  }

  /** Decodes block `job`; a codec's own error becomes a FormatError naming the file and the block. */
  async #decodeBlock(level: Level, job: TileJob, compressed: Uint8Array): Promise<Uint8Array> {
    try {
      return await level.decode!(compressed);
    } catch (err) {
      if (err instanceof CocoStitcherError) throw err;
      throw new FormatError(`${this.path}: ${this.#describe(level, job)} is corrupt: ${(err as Error)?.message ?? String(err)}`, this.path, { cause: err });
    }
  }

  /** Rows and columns of tile `job` inside the image and `win`, and its samples per pixel. */
  #extent(level: Level, job: TileJob, win: PixelWindow) {
    const { tileWidth: tw, tileHeight: th } = level;
    const { ty, tx } = job;
    // Rows of this block inside the image (strips: the last one is short) and inside the window.
    const blockRows = level.tiled ? th : Math.min(th, level.height - ty * th);
    return {
      blockRows,
      iy0: Math.max(win.y0, ty * th), iy1: Math.min(win.y0 + win.h, ty * th + blockRows),
      ix0: Math.max(win.x0, tx * tw), ix1: Math.min(win.x0 + win.w, tx * tw + tw, level.width),
      spp: level.planar === 2 ? 1 : this.bands,
    };
  }

  /**
   * Copies the part of decoded tile `job` inside `win` into `out`. `held`:
   * `bytes` holds only image rows row0..row0+rows of the block (a strip read by rows).
   */
  #placeDecoded(level: Level, job: TileJob, bytes: Uint8Array, win: PixelWindow, out: TypedArray, held?: { row0: number; rows: number }): void {
    const { bands, dtype } = this;
    const { tileWidth: tw, tileHeight: th } = level;
    const { p, tx } = job;
    const ext = this.#extent(level, job, win);
    const { iy0, iy1, ix0, ix1, spp } = ext;
    const blockRows = held ? held.rows : ext.blockRows;
    // image row of the first row in `bytes`
    const top = held ? held.row0 : job.ty * th;
    const sampleBytes = DTYPES[dtype].bytes;
    const need = tw * blockRows * spp * sampleBytes;
    if (bytes.byteLength < need) {
      throw new FormatError(`${this.path}: ${this.#describe(level, job)} decodes to ${bytes.byteLength} bytes, expected ${need} ` +
        `(${tw}x${blockRows} pixels x ${spp} samples x ${sampleBytes} bytes)`, this.path);
    }
    const info = DTYPES[dtype];
    const src: TypedArray = bytes.byteOffset % sampleBytes === 0
      ? new info.ctor(bytes.buffer, bytes.byteOffset, need / sampleBytes)
      : new info.ctor(bytes.slice(0, need).buffer, 0, need / sampleBytes);
    const n = ix1 - ix0;
    if (spp === bands) {
      // Row copies as byte copies between the two buffers (no per-row view allocation).
      const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      const srcBytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
      const rowBytes = n * bands * sampleBytes;
      for (let y = iy0; y < iy1; y++) {
        const s = ((y - top) * tw + (ix0 - tx * tw)) * spp * sampleBytes;
        const d = ((y - win.y0) * win.w + (ix0 - win.x0)) * bands * sampleBytes;
        copyBytes.call(srcBytes, outBytes, d, s, s + rowBytes);
      }
    } else {
      for (let y = iy0; y < iy1; y++) {
        const s = ((y - top) * tw + (ix0 - tx * tw)) * spp;
        const d = ((y - win.y0) * win.w + (ix0 - win.x0)) * bands;
        for (let i = 0, di = d + p; i < n; i++, di += bands) out[di] = src[s + i];
      }
    }
  }

  async verify(options: { headersOnly?: boolean } = {}): Promise<void> {
    if (this.#closed) throw new IoError(`cannot verify ${this.path}: it is closed`, this.path);
    for (const level of this.#levels) {
      await level.load(this.path);
      const { tileWidth: tw, tileHeight: th } = level;
      const spp = level.samplesPerBlockPixel(this.bands);
      const sampleBytes = DTYPES[this.dtype].bytes;
      const codec = level.layout.compression;
      const byRows = level.readsByRows(tw * th * spp * sampleBytes);
      const jobs: TileJob[] = [];
      const planes = level.planar === 2 ? this.bands : 1;
      for (let p = 0; p < planes; p++) {
        for (let ty = 0; ty < level.tilesDown; ty++) {
          for (let tx = 0; tx < level.tilesAcross; tx++) {
            const index = p * level.tilesAcross * level.tilesDown + ty * level.tilesAcross + tx;
            const job = { p, ty, tx, index, offset: Number(level.offsets![index]), count: Number(level.counts![index]), key: '' };
            if (job.offset === 0 || job.count === 0) continue;
            this.#source.checkRange(job.offset, job.count, this.#describe(level, job));
            jobs.push(job);
          }
        }
      }
      if (options.headersOnly) continue;
      let next = 0;
      let failed = false;
      const worker = async () => {
        while (next < jobs.length && !failed) {
          const job = jobs[next++]!;
          try {
            await verifyBlock(job);
          } catch (err) {
            failed = true; // the other workers stop at their next block
            throw err;
          }
        }
      };
      const verifyBlock = async (job: TileJob) => {
        const what = this.#describe(level, job);
        const rows = level.tiled ? th : Math.min(th, level.height - job.ty * th);
        const need = tw * rows * spp * sampleBytes;
        if (byRows) {
          // inflated as a stream to the block's last row, nothing kept
          const rowBytes = tw * spp * sampleBytes;
          await readStripRows(this.#source, { offset: job.offset, count: job.count, codec: codec === Compression.None ? 'none' : 'deflate', rowBytes, what }, rows, rows);
          return;
        }
        checkAllocation(tw * th * spp * sampleBytes, `${this.path}: decoding ${what} (${tw} x ${th} pixels x ${spp} sample(s) of ${this.dtype}, ` +
          `${compressionName(codec)} compressed, decoded whole)`);
        const bytes = await this.#decodeBlock(level, job, await this.#source.readExact(job.offset, job.count, what));
        if (bytes.byteLength < need) {
          throw new FormatError(`${this.path}: ${what} decodes to ${bytes.byteLength} bytes, expected ${need} ` +
            `(${tw}x${rows} pixels x ${spp} samples x ${sampleBytes} bytes)`, this.path);
        }
      };
      await Promise.all(Array.from({ length: Math.min(TILES_IN_FLIGHT, jobs.length) }, worker));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    forgetTiles(this.#cacheKey);
    await this.#source.close();
  }
}
