/// <reference lib="dom" />
/**
 * What the layers and the hover read-out need from an asset file, whatever
 * its format: COGs and other TIFFs through geotiff.js (cog-file.ts), PNGs
 * through fast-png (png-file.ts). Each URL is opened once per page.
 */
import { CogFile } from './cog-file.ts';
import { PngFile } from './png-file.ts';

export type Samples = ArrayLike<number>[];

export interface RasterLevel { width: number; height: number; tileWidth: number; tileHeight: number }

export interface RasterFile {
  readonly url: string;
  /** full resolution first, then smaller levels */
  readonly levels: RasterLevel[];
  readonly bands: number;
  readonly nodata: number | null;
  readonly geo: { crs: string | null; origin: [number, number]; resolution: [number, number] } | null;
  /** every band of one tile, tile-sized arrays (NaN past the image's edge) */
  tile(level: number, tx: number, ty: number): Promise<Samples>;
  pixel(x: number, y: number): Promise<number[] | null>;
  smallest(): Promise<{ bands: Samples; width: number; height: number }>;
}

const opened = new Map<string, Promise<RasterFile>>();

export function openRasterFile(url: string): Promise<RasterFile> {
  let p = opened.get(url);
  if (!p) {
    p = /\.png$/i.test(url) ? PngFile.open(url) : CogFile.open(url);
    opened.set(url, p);
  }
  return p;
}
