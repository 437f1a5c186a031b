/**
 * Turning rasters into pictures: contrast-stretched RGB, colour-mapped
 * heatmaps, overlays, and panels laid side by side or in a grid. Everything
 * works on uint8 HxWx3 rasters.
 */
import { Raster } from '../../array/raster.ts';
import { VIRIDIS, lutIndex } from './colormap.ts';
import { ShapeError, ValueError } from '../../array/errors.ts';

/** Grey used for pixels with no data (NaN). */
export const NODATA_GREY = 48;
/** Background between panels. */
export const BACKGROUND = 24;

/** The [lo, hi] percentiles of the finite values of one band (subsampled for speed). */
export function percentiles(r: Raster, band: number, lo = 0.02, hi = 0.98): [number, number] {
  const [h, w, c] = r.shape;
  const n = h * w;
  const stride = Math.max(1, Math.floor(n / 65536));
  const sample: number[] = [];
  for (let p = 0; p < n; p += stride) {
    const v = r.data[p * c + band];
    if (Number.isFinite(v)) sample.push(v);
  }
  if (sample.length === 0) return [0, 1];
  sample.sort((a, b) => a - b);
  const at = (q: number) => sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))];
  return [at(lo), at(hi)];
}

/**
 * A displayable RGB picture of any raster: the first three bands (or band 0
 * as grey), each stretched between its 2nd and 98th percentile.
 */
export function toDisplayRgb(r: Raster): Raster<Uint8Array> {
  const [h, w, c] = r.shape;
  const bands = c >= 3 ? [0, 1, 2] : [0, 0, 0];
  const ranges = bands.map((b) => percentiles(r, b));
  const out = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) {
      const v = r.data[p * c + bands[k]];
      const [lo, hi] = ranges[k];
      out[p * 3 + k] = v === v ? Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo || 1)) * 255))) : NODATA_GREY;
    }
  }
  return new Raster(out, [h, w, 3]);
}

/** One band through the colour map, scaled from [lo, hi]; NaN is grey. */
export function colorize(r: Raster, band: number, lo: number, hi: number): Raster<Uint8Array> {
  const [h, w, c] = r.shape;
  const out = new Uint8Array(h * w * 3);
  for (let p = 0; p < h * w; p++) {
    const i = lutIndex(r.data[p * c + band], lo, hi);
    if (i < 0) {
      out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = NODATA_GREY;
    } else {
      out[p * 3] = VIRIDIS[i * 3];
      out[p * 3 + 1] = VIRIDIS[i * 3 + 1];
      out[p * 3 + 2] = VIRIDIS[i * 3 + 2];
    }
  }
  return new Raster(out, [h, w, 3]);
}

/**
 * The heatmap laid over the picture: each pixel blends towards the heat
 * colour in proportion to its scaled value (times `alpha`), so the picture
 * stays visible where the value is low. NaN leaves the picture as is.
 */
export function overlay(base: Raster<Uint8Array>, r: Raster, band: number, lo: number, hi: number, alpha = 0.65): Raster<Uint8Array> {
  const [h, w] = base.shape;
  if (r.height !== h || r.width !== w) {
    throw new ShapeError(`overlay needs equal sizes: picture ${h}x${w}, heatmap ${r.height}x${r.width}`);
  }
  const c = r.bands;
  const out = new Uint8Array(base.data);
  for (let p = 0; p < h * w; p++) {
    const i = lutIndex(r.data[p * c + band], lo, hi);
    if (i < 0) continue;
    const a = alpha * (i / 255);
    for (let k = 0; k < 3; k++) {
      out[p * 3 + k] = Math.round(base.data[p * 3 + k] * (1 - a) + VIRIDIS[i * 3 + k] * a);
    }
  }
  return new Raster(out, [h, w, 3]);
}

/** Nearest-neighbour resize of an RGB picture (for thumbnails and equal panel heights). */
export function resizeNearest(r: Raster<Uint8Array>, h: number, w: number): Raster<Uint8Array> {
  const [sh, sw, c] = r.shape;
  const out = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / w));
      const s = (sy * sw + sx) * c;
      const d = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = r.data[s + k];
    }
  }
  return new Raster(out, [h, w, c]);
}

/** Panels in a grid of `columns`, each cell the size of the largest panel, `gap` pixels apart. */
export function grid(panels: readonly Raster<Uint8Array>[], columns: number, gap = 4): Raster<Uint8Array> {
  if (panels.length === 0) throw new ValueError('grid needs at least one panel');
  const cellH = Math.max(...panels.map((p) => p.height));
  const cellW = Math.max(...panels.map((p) => p.width));
  const cols = Math.max(1, Math.min(columns, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const H = rows * cellH + (rows + 1) * gap;
  const W = cols * cellW + (cols + 1) * gap;
  const out = new Uint8Array(H * W * 3).fill(BACKGROUND);
  panels.forEach((p, i) => {
    const y0 = gap + Math.floor(i / cols) * (cellH + gap);
    const x0 = gap + (i % cols) * (cellW + gap);
    for (let y = 0; y < p.height; y++) {
      out.set(p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), ((y0 + y) * W + x0) * 3);
    }
  });
  return new Raster(out, [H, W, 3]);
}
