/// <reference lib="dom" />
/**
 * OpenLayers tile layers over COGs placed in display space: a tile grid per
 * file whose levels are the file's levels (so OpenLayers asks for exactly
 * the file's tiles of the level that fits the zoom), and a loader that
 * colours the decoded tile on a canvas: imagery as stretched RGB, stitched
 * channels through a colour map in the model's units (nodata transparent).
 */
import DataTileSource from 'ol/source/DataTile.js';
import TileLayer from 'ol/layer/Tile.js';
import TileGrid from 'ol/tilegrid/TileGrid.js';
import type Projection from 'ol/proj/Projection.js';
import type { RasterFile, Samples } from './raster-file.ts';
import { dequantize, type Placement, type Quantization } from './bundle-model.ts';
import { lutIndex } from './colormap.ts';

/** Map coordinates are display pixels with y pointing up: (x, -y). */
export function tileGridFor(cog: RasterFile, p: Placement): TileGrid {
  const full = cog.levels[0];
  const levels = [...cog.levels].reverse();
  return new TileGrid({
    extent: [p.tx, -(p.ty + p.sy * full.height), p.tx + p.sx * full.width, -p.ty],
    origin: [p.tx, -p.ty],
    resolutions: levels.map((L) => p.sx * (full.width / L.width)),
    tileSizes: levels.map((L) => [L.tileWidth, L.tileHeight]),
  });
}

/** An ImageBitmap (made off the main thread where the browser can) rather than a canvas per tile. */
function bitmapOf(rgba: Uint8ClampedArray, w: number, h: number): Promise<ImageBitmap> {
  return createImageBitmap(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, w, h));
}

export interface HeatmapStyle { band: number; quantization: Quantization | null; nodata: number | null; lut: Uint8Array; lo: number; hi: number }

/** RGBA of one band through a colour map; nodata and NaN transparent. */
export function colourHeatmap(bands: Samples, s: HeatmapStyle, out: Uint8ClampedArray): void {
  const b = bands[s.band];
  for (let i = 0; i < b.length; i++) {
    const v = dequantize(b[i], s.quantization, s.nodata);
    if (v === null) { out[4 * i + 3] = 0; continue; }
    const k = 3 * lutIndex(v, s.lo, s.hi);
    out[4 * i] = s.lut[k];
    out[4 * i + 1] = s.lut[k + 1];
    out[4 * i + 2] = s.lut[k + 2];
    out[4 * i + 3] = 255;
  }
}

/** One RGB channel of the imagery: which file, which band, and its stretch. */
export interface RgbChannel { cog: RasterFile; band: number; lo: number; hi: number; nodata: number | null }

interface LayerArgs {
  projection: Projection;
  grid: TileGrid;
  levels: number;
  onError: (message: string) => void;
}

function layerFrom(args: LayerArgs, colour: (level: number, x: number, y: number, w: number, h: number) => Promise<Uint8ClampedArray>): TileLayer<DataTileSource> {
  const source = new DataTileSource({
    projection: args.projection,
    tileGrid: args.grid,
    wrapX: false,
    interpolate: false,
    transition: 0,
    loader: async (z, x, y) => {
      const size = args.grid.getTileSize(z) as number[];
      const [w, h] = Array.isArray(size) ? size : [size, size];
      try {
        return await bitmapOf(await colour(args.levels - 1 - z, x, y, w, h), w, h);
      } catch (err) {
        args.onError((err as Error).message);
        throw err;
      }
    },
  });
  return new TileLayer({ source, preload: 0 });
}

export function heatmapLayer(cog: RasterFile, p: Placement, style: HeatmapStyle, projection: Projection, onError: (m: string) => void): TileLayer<DataTileSource> {
  const args = { projection, grid: tileGridFor(cog, p), levels: cog.levels.length, onError };
  return layerFrom(args, async (level, x, y, w, h) => {
    const out = new Uint8ClampedArray(4 * w * h);
    colourHeatmap(await cog.tile(level, x, y), style, out);
    return out;
  });
}

/** RGB from up to three channels of files on one grid (the first channel's). */
export function imageryLayer(channels: RgbChannel[], p: Placement, projection: Projection, onError: (m: string) => void): TileLayer<DataTileSource> {
  const first = channels[0].cog;
  const args = { projection, grid: tileGridFor(first, p), levels: first.levels.length, onError };
  return layerFrom(args, async (level, x, y, w, h) => {
    const tiles = await Promise.all(channels.map((c) => c.cog.tile(level, x, y)));
    const out = new Uint8ClampedArray(4 * w * h);
    const n = w * h;
    for (let i = 0; i < n; i++) {
      let valid = false;
      for (let c = 0; c < 3; c++) {
        const ch = channels[Math.min(c, channels.length - 1)];
        const v = tiles[Math.min(c, channels.length - 1)][ch.band][i];
        if (v === v && v !== ch.nodata) valid = true;
        const t = (v - ch.lo) / (ch.hi - ch.lo);
        out[4 * i + c] = t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
      }
      out[4 * i + 3] = valid ? 255 : 0;
    }
    return out;
  });
}
