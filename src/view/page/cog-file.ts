/// <reference lib="dom" />
/**
 * One COG opened over HTTP with geotiff.js: its resolution levels (full
 * resolution first, then overviews, largest first) and its tiles, read
 * through range requests and kept decoded in a small LRU cache so that
 * recolouring and hovering do not fetch again.
 */
import { fromUrl, Pool, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import type { RasterFile, RasterLevel, Samples } from './raster-file.ts';

/** Tiles are decoded on worker threads (geotiff.js' pool; its worker comes from a blob, no extra file) so panning stays smooth. */
let pool: Pool | null = null;
function decoderPool(): Pool | null {
  if (pool === null && typeof Worker !== 'undefined') {
    try {
      pool = new Pool(Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)));
    } catch {
      pool = null;
    }
  }
  return pool;
}

export interface CogLevel extends RasterLevel { image: GeoTIFFImage }

const TILE_CACHE_LIMIT = 768;
/** Tile key -> decoded bands; Map order is the LRU order. */
const tileCache = new Map<string, Promise<Samples>>();

function remember(key: string, make: () => Promise<Samples>): Promise<Samples> {
  const hit = tileCache.get(key);
  if (hit) {
    tileCache.delete(key);
    tileCache.set(key, hit);
    return hit;
  }
  const p = make();
  tileCache.set(key, p);
  p.catch(() => tileCache.delete(key));
  while (tileCache.size > TILE_CACHE_LIMIT) tileCache.delete(tileCache.keys().next().value as string);
  return p;
}

function geoOf(image: GeoTIFFImage): RasterFile['geo'] {
  try {
    const [ox, oy] = image.getOrigin();
    const [rx, ry] = image.getResolution();
    const keys = image.getGeoKeys() ?? {};
    const code = keys.ProjectedCSTypeGeoKey ?? keys.GeographicTypeGeoKey;
    const crs = Number.isInteger(code) && code > 0 && code < 32767 ? `EPSG:${code}` : null;
    return Number.isFinite(ox + oy + rx + ry) ? { crs, origin: [ox, oy], resolution: [rx, ry] } : null;
  } catch {
    return null; // no geotransform in the file
  }
}

export class CogFile implements RasterFile {
  readonly url: string;
  readonly levels: CogLevel[];
  readonly bands: number;
  /** GDAL_NODATA of the file, if any */
  readonly nodata: number | null;
  /** the file's own georeferencing (north-up): world = origin + resolution * pixel, and its EPSG code */
  readonly geo: { crs: string | null; origin: [number, number]; resolution: [number, number] } | null;

  private constructor(url: string, levels: CogLevel[]) {
    this.url = url;
    this.levels = levels;
    this.bands = levels[0].image.getSamplesPerPixel();
    this.nodata = levels[0].image.getGDALNoData();
    this.geo = geoOf(levels[0].image);
  }

  static async #open(url: string): Promise<CogFile> {
    let tiff: GeoTIFF;
    try {
      // 16 KiB blocks: a 128x128 int16 tile compresses to a few KiB, so larger blocks mostly fetch neighbours
      tiff = await fromUrl(url, { allowFullFile: false, blockSize: 16384, cacheSize: 1024 } as Parameters<typeof fromUrl>[1]);
    } catch (err) {
      throw new Error(`cannot read ${url}: ${(err as Error).message}`);
    }
    const count = await tiff.getImageCount();
    const levels: CogLevel[] = [];
    for (let i = 0; i < count; i++) {
      const image = await tiff.getImage(i);
      const subfile = Number(image.fileDirectory.getValue('NewSubfileType') ?? 0);
      if (subfile & 4) continue; // a mask, not an overview
      const width = image.getWidth();
      const height = image.getHeight();
      if (levels.length && width >= levels[levels.length - 1].width) continue;
      const tiled = image.isTiled;
      levels.push({ image, width, height, tileWidth: tiled ? image.getTileWidth() : 256, tileHeight: tiled ? image.getTileHeight() : 256 });
    }
    if (!levels.length) throw new Error(`${url} holds no image`);
    return new CogFile(url, levels);
  }

  /** Opens `url` (raster-file.ts keeps one per URL). */
  static open(url: string): Promise<CogFile> {
    return CogFile.#open(url);
  }

  /** Every band of tile (tx, ty) of `level`, tile-sized arrays (edge tiles padded with `pad`). */
  tile(level: number, tx: number, ty: number, pad = NaN): Promise<Samples> {
    return remember(`${this.url}|${level}|${tx}|${ty}`, async () => {
      const L = this.levels[level];
      const x0 = tx * L.tileWidth;
      const y0 = ty * L.tileHeight;
      const x1 = Math.min(x0 + L.tileWidth, L.width);
      const y1 = Math.min(y0 + L.tileHeight, L.height);
      if (x0 >= x1 || y0 >= y1) throw new Error(`tile ${tx},${ty} of level ${level} lies outside ${this.url}`);
      const read = await L.image.readRasters({ window: [x0, y0, x1, y1], interleave: false, pool: decoderPool() }) as unknown as ArrayLike<number>[];
      const w = x1 - x0;
      if (w === L.tileWidth && y1 - y0 === L.tileHeight) return [...read];
      return read.map((band) => {
        const out = new Float64Array(L.tileWidth * L.tileHeight).fill(pad);
        for (let y = 0; y < y1 - y0; y++) for (let x = 0; x < w; x++) out[y * L.tileWidth + x] = band[y * w + x];
        return out;
      });
    });
  }

  /** Every band at full-resolution pixel (x, y); null outside the image. */
  async pixel(x: number, y: number): Promise<number[] | null> {
    const L = this.levels[0];
    if (x < 0 || y < 0 || x >= L.width || y >= L.height) return null;
    const tx = Math.floor(x / L.tileWidth);
    const ty = Math.floor(y / L.tileHeight);
    const bands = await this.tile(0, tx, ty);
    const i = (y - ty * L.tileHeight) * L.tileWidth + (x - tx * L.tileWidth);
    return bands.map((b) => b[i]);
  }

  /** Every band of the smallest level, for statistics. */
  async smallest(): Promise<{ bands: Samples; width: number; height: number }> {
    const L = this.levels[this.levels.length - 1];
    const scale = Math.min(1, 512 / Math.max(L.width, L.height));
    const width = Math.max(1, Math.round(L.width * scale));
    const height = Math.max(1, Math.round(L.height * scale));
    const read = await L.image.readRasters({ interleave: false, width, height, resampleMethod: 'nearest' }) as unknown as ArrayLike<number>[];
    return { bands: [...read], width, height };
  }
}
