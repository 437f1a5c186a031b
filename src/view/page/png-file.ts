/// <reference lib="dom" />
/**
 * A PNG asset (e.g. a stitched channel written with probFormat 'png'),
 * fetched whole (PNG has no tiles) and decoded with fast-png so 16-bit and
 * 2-band files keep their values (the browser's decoder would make 8-bit
 * premultiplied RGBA). Offered as one level of 256 px tiles, like a COG.
 */
import { decode } from 'fast-png';
import type { RasterFile, RasterLevel, Samples } from './raster-file.ts';

const TILE = 256;

export class PngFile implements RasterFile {
  readonly url: string;
  readonly levels: RasterLevel[];
  readonly bands: number;
  readonly nodata = null;
  readonly geo = null;
  readonly #data: ArrayLike<number>;

  private constructor(url: string, width: number, height: number, bands: number, data: ArrayLike<number>) {
    this.url = url;
    this.levels = [{ width, height, tileWidth: TILE, tileHeight: TILE }];
    this.bands = bands;
    this.#data = data;
  }

  static async open(url: string): Promise<PngFile> {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`cannot read ${url}: HTTP ${res.status}`);
    let png;
    try {
      png = decode(new Uint8Array(await res.arrayBuffer()));
    } catch (err) {
      throw new Error(`cannot read ${url}: ${(err as Error).message}`);
    }
    if (png.palette) throw new Error(`cannot read ${url}: palette PNGs are not drawn (their values are colours, not data)`);
    return new PngFile(url, png.width, png.height, png.channels, png.data);
  }

  async tile(_level: number, tx: number, ty: number): Promise<Samples> {
    const { width, height } = this.levels[0];
    const out = Array.from({ length: this.bands }, () => new Float64Array(TILE * TILE).fill(NaN));
    const x0 = tx * TILE;
    const y0 = ty * TILE;
    const c = this.bands;
    for (let y = 0; y < TILE && y0 + y < height; y++) {
      for (let x = 0; x < TILE && x0 + x < width; x++) {
        const o = ((y0 + y) * width + x0 + x) * c;
        for (let b = 0; b < c; b++) out[b][y * TILE + x] = this.#data[o + b];
      }
    }
    return out;
  }

  async pixel(x: number, y: number): Promise<number[] | null> {
    const { width, height } = this.levels[0];
    if (x < 0 || y < 0 || x >= width || y >= height) return null;
    const o = (y * width + x) * this.bands;
    return Array.from({ length: this.bands }, (_, b) => this.#data[o + b]);
  }

  async smallest(): Promise<{ bands: Samples; width: number; height: number }> {
    const { width: W, height: H } = this.levels[0];
    const step = Math.max(1, Math.ceil(Math.max(W, H) / 512));
    const width = Math.ceil(W / step);
    const height = Math.ceil(H / step);
    const bands = Array.from({ length: this.bands }, () => new Float64Array(width * height));
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const o = (y * step * W + x * step) * this.bands;
      for (let b = 0; b < this.bands; b++) bands[b][y * width + x] = this.#data[o + b];
    }
    return { bands, width, height };
  }
}
