/**
 * A bundle for the viewer's tests and benchmark: one 4096² image (no video)
 * with RGB imagery (uint8, by default 1024² placed by warp_aux_to_img scale 4) and a
 * 4-band int16 stitched heatmap, both COGs
 * with 128 px tiles and overviews down to one tile, and the heatmap's values
 * known by construction (`heatValue`). Two more images share the imagery:
 * one whose heatmap file is missing, one whose heatmap is not a TIFF, and
 * one whose stitched channel is a 512² PNG placed at scale size/512.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { Affine } from '../../src/array/affine.ts';
import { writePng } from '../../src/io/png.ts';

/** A stitched PNG (uint8 quantization as the manager writes it) of 512², placed at scale 8 over the 4096² image. */
export const PNG_QUANT = { orig_min: 0, orig_max: 1, quant_min: 1, quant_max: 255, nodata: 0 };
export function pngValue(x: number, y: number): number {
  return x < 16 && y < 16 ? 0 : 1 + ((x + 2 * y) % 255);
}

/** The heatmap file's own georeferencing (the manifest has none): EPSG:32631, 2 m pixels from (500000, 4000000). */
export const HEAT_GEO = { epsg: 32631, gdal: [500000, 2, 0, 4000000, 0, -2] };

export const QUANT = { orig_min: -2, orig_max: 3, quant_min: 0, quant_max: 32767, nodata: -9999 };

const SIN = new Map<number, Float64Array>();
const COS = new Map<number, Float64Array>();

/** Stored (quantized) value of band b at pixel (x, y); the top-left 256² is nodata. */
export function heatValue(x: number, y: number, b: number): number {
  if (x < 256 && y < 256) return QUANT.nodata;
  return Math.round(32767 * (0.5 + 0.5 * Math.sin(x / 300 + b) * Math.cos(y / 411)));
}

/** heatValue through tables of the sines and cosines (same numbers, no trigonometry per pixel). */
function heatValueFast(x: number, y: number, b: number, size: number): number {
  if (x < 256 && y < 256) return QUANT.nodata;
  let sin = SIN.get(size);
  if (!sin) { sin = Float64Array.from({ length: size * 4 }, (_, i) => Math.sin((i >> 2) / 300 + (i & 3))); SIN.set(size, sin); }
  let cos = COS.get(size);
  if (!cos) { cos = Float64Array.from({ length: size }, (_, y) => Math.cos(y / 411)); COS.set(size, cos); }
  return Math.round(32767 * (0.5 + 0.5 * sin[x * 4 + b] * cos[y]));
}

export interface LargeBundle { manifest: string; heatmap: string; imagery: string; size: number }

/** `imageryScale`: the imagery is size / imageryScale pixels on a side, placed by warp_aux_to_img scale imageryScale. */
export async function makeLargeBundle(dir: string, size = 4096, imageryScale = 4): Promise<LargeBundle> {
  mkdirSync(join(dir, '_assets', 'heat'), { recursive: true });
  const heatmap = join(dir, '_assets', 'heat', 'big_heat.tif');
  const imagery = join(dir, 'imagery.tif');
  await writeCog(heatmap, {
    height: size, width: size, bands: 4, dtype: 'int16',
    readBlock(y0, x0, h, w) {
      const r = Raster.zeros([h, w, 4], 'int16');
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let b = 0; b < 4; b++) {
        r.data[((y * w) + x) * 4 + b] = heatValueFast(x0 + x, y0 + y, b, size);
      }
      return r;
    },
  }, {
    compress: 'DEFLATE', predictor: 2, blocksize: 128, overviews: 'auto', nodata: QUANT.nodata,
    epsg: HEAT_GEO.epsg, transform: Affine.fromGdal(HEAT_GEO.gdal),
  });
  const small = size / imageryScale;
  await writeCog(imagery, {
    height: small, width: small, bands: 3, dtype: 'uint8',
    readBlock(y0, x0, h, w) {
      const r = Raster.zeros([h, w, 3], 'uint8');
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        r.data[o] = (((x0 + x) * imageryScale) >> 4) & 255;
        r.data[o + 1] = (((y0 + y) * imageryScale) >> 4) & 255;
        r.data[o + 2] = 128;
      }
      return r;
    },
  }, { compress: 'DEFLATE', predictor: 2, blocksize: 128, overviews: 'auto' });
  writeFileSync(join(dir, '_assets', 'heat', 'garbage.tif'), 'this is not a TIFF\n');
  const png = Raster.zeros([512, 512, 1], 'uint8');
  for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) png.data[y * 512 + x] = pngValue(x, y);
  await writePng(join(dir, '_assets', 'heat', 'small.png'), png);
  const imageryAsset = { file_name: 'imagery.tif', channels: 'r|g|b', width: small, height: small, num_bands: 3, warp_aux_to_img: { scale: imageryScale, type: 'affine' } };
  const heat = (file: string) => ({
    file_name: file, channels: 'c0|c1|c2|c3', width: size, height: size, num_bands: 4,
    warp_aux_to_img: { type: 'affine' }, quantization: QUANT,
  });
  const square = { type: 'MultiPolygon', coordinates: [[[[0, 0], [size, 0], [size, size], [0, size], [0, 0]]]] };
  const image = (id: number, name: string, file: string) => ({
    id, name, file_name: null, width: size, height: size,
    assets: [imageryAsset, heat(file)], has_predictions: { 'c0|c1|c2|c3': true }, prediction_region: square,
  });
  const manifest = join(dir, 'big.kwcoco.json');
  writeFileSync(manifest, JSON.stringify({
    info: [], licenses: [], categories: [], videos: [], annotations: [],
    images: [
      image(1, 'big', '_assets/heat/big_heat.tif'),
      image(2, 'missing', '_assets/heat/missing.tif'),
      image(3, 'garbage', '_assets/heat/garbage.tif'),
      {
        id: 4, name: 'png', file_name: null, width: size, height: size, has_predictions: { p0: true },
        assets: [imageryAsset, { file_name: '_assets/heat/small.png', channels: 'p0', width: 512, height: 512, num_bands: 1, warp_aux_to_img: { scale: size / 512 }, quantization: PNG_QUANT }],
      },
    ],
  }));
  return { manifest, heatmap, imagery, size };
}
