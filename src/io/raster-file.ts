/**
 * The open-raster interface shared by the TIFF and PNG readers, and the
 * window arithmetic both use. Windows are `[rows, cols]` half-open slices in
 * the pixel grid of the level being read (full resolution or an overview).
 */
import type { Affine } from '../array/affine.ts';
import { DTYPES, type Dtype } from '../array/dtypes.ts';
import { Raster } from '../array/raster.ts';
import type { Slice, SpaceSlice } from '../array/slices.ts';
import { ValueError } from '../array/errors.ts';

/** Options of `RasterFile.read` / `readRaster`. */
export interface RasterReadOptions {
  /** `[rows, cols]` half-open slices (null bounds = open, step null or 1); default the whole level */
  window?: SpaceSlice;
  /** overview index, 0 = the first (largest) reduced level, as GDAL's GetOverview(i); default full resolution */
  overview?: number;
  /**
   * When true, a window reaching outside the raster is allowed and the part
   * outside is filled with `fill` (default: the nodata value, or 0 without
   * one). When false (default) such a window is an error.
   */
  boundless?: boolean;
  /** fill value for the outside part of a boundless window */
  fill?: number;
  /**
   * Keep the decoded tiles in the process's tile cache, and take tiles from
   * it (TIFF): for reads of overlapping windows, which would decode the same
   * tiles again. Default false, so a whole-file read does not fill it.
   */
  cacheTiles?: boolean;
}

/**
 * An open raster file. The header is parsed once at open; `read` decodes only
 * the tiles a window needs. Rasters come back HWC (pixel-interleaved) in the
 * file's own dtype. `transform` maps full-resolution pixel corners to the CRS
 * (pixel-is-area): pixel (row r, col c) covers x in [c, c+1], y in [r, r+1].
 */
export interface RasterFile {
  readonly path: string;
  /** 'tiff', 'png' or 'jpeg' (detected from the content, not the file name) */
  readonly format: 'tiff' | 'png' | 'jpeg';
  readonly width: number;
  readonly height: number;
  readonly bands: number;
  readonly dtype: Dtype;
  /** GDAL_NODATA (may be NaN), null when none */
  readonly nodata: number | null;
  /** dataset-level GDAL_METADATA items (default domain) */
  readonly metadata: Record<string, string>;
  /**
   * each band's GDAL scale and offset (GDAL_METADATA), null when the file has
   * none; never applied by `read`, which gives raw samples as kwcoco reads them
   */
  readonly bandScales: readonly { scale: number; offset: number }[] | null;
  readonly epsg: number | null;
  readonly transform: Affine | null;
  /** reduced-resolution levels, largest first; `read({overview: i})` reads `overviews[i]` */
  readonly overviews: readonly { width: number; height: number }[];
  /** Reads a window (default: all) of the full-resolution raster or of one overview. */
  read(options?: RasterReadOptions): Promise<Raster>;
  /**
   * Decodes every block of every level, keeping no pixels, and throws what
   * `read` would throw on the first bad one (truncated, corrupt, bad offset,
   * unsupported codec, over the memory budget). `headersOnly`: check block
   * offsets and byte counts and that the codec is supported, decode nothing.
   */
  verify(options?: { headersOnly?: boolean }): Promise<void>;
  /** Releases the file handle; later reads fail. Idempotent. */
  close(): Promise<void>;
}

/** A pixel rectangle: rows [y0, y0+h), cols [x0, x0+w). */
export interface PixelWindow { y0: number; x0: number; h: number; w: number }

function bound(v: number | null | undefined, dflt: number, what: string): number {
  if (v === null || v === undefined) return dflt;
  if (!Number.isInteger(v)) throw new ValueError(`window ${what} ${v} is not an integer`);
  return v;
}

function resolveAxis(sl: Slice, size: number, axis: 'rows' | 'cols'): [number, number] {
  if (sl === null || typeof sl !== 'object') {
    throw new ValueError(`window ${axis} must be a slice {start, stop, step}, got ${JSON.stringify(sl)}`);
  }
  if (sl.step !== null && sl.step !== undefined && sl.step !== 1) {
    throw new ValueError(`window ${axis} step ${sl.step} is not supported (expected null or 1)`);
  }
  const start = bound(sl.start, 0, `${axis} start`);
  const stop = bound(sl.stop, size, `${axis} stop`);
  if (stop < start) throw new ValueError(`window ${axis} ${start}..${stop} has stop before start`);
  return [start, stop];
}

/**
 * Turns a `[rows, cols]` window into a pixel rectangle of a `height x width`
 * level. Without `boundless`, a rectangle not inside the level is a
 * ValueError that names the window, the level's size and the file.
 */
export function resolveWindow(window: SpaceSlice | undefined, height: number, width: number,
  opts: { path: string; level: string; boundless?: boolean }): PixelWindow {
  if (window === undefined || window === null) return { y0: 0, x0: 0, h: height, w: width };
  if (!Array.isArray(window) || window.length !== 2) {
    throw new ValueError(`window must be [rows, cols] slices, got ${JSON.stringify(window)}`);
  }
  const [y0, y1] = resolveAxis(window[0], height, 'rows');
  const [x0, x1] = resolveAxis(window[1], width, 'cols');
  if (!opts.boundless && (y0 < 0 || x0 < 0 || y1 > height || x1 > width)) {
    throw new ValueError(
      `window rows ${y0}..${y1}, cols ${x0}..${x1} is outside ${opts.path} ${opts.level} ` +
      `(height ${height}, width ${width}); pass {boundless: true} to fill the outside`);
  }
  return { y0, x0, h: y1 - y0, w: x1 - x0 };
}

/**
 * Reads `win` of a `height x width x bands` level through `readInside`, which
 * is only ever asked for rectangles inside the level. Parts outside are
 * filled with `fill` (boundless reads).
 */
export async function readWindowed(win: PixelWindow, height: number, width: number, bands: number, dtype: Dtype,
  fill: number, readInside: (w: PixelWindow) => Promise<Raster>): Promise<Raster> {
  const iy0 = Math.max(win.y0, 0), ix0 = Math.max(win.x0, 0);
  const iy1 = Math.min(win.y0 + win.h, height), ix1 = Math.min(win.x0 + win.w, width);
  if (iy0 === win.y0 && ix0 === win.x0 && iy1 === win.y0 + win.h && ix1 === win.x0 + win.w) {
    return readInside(win);
  }
  const out = Raster.full([win.h, win.w, bands], fillValueFor(fill, dtype), dtype);
  if (iy1 <= iy0 || ix1 <= ix0) return out;
  const inner = await readInside({ y0: iy0, x0: ix0, h: iy1 - iy0, w: ix1 - ix0 });
  const rowLen = (ix1 - ix0) * bands;
  for (let r = 0; r < iy1 - iy0; r++) {
    const dst = ((iy0 - win.y0 + r) * win.w + (ix0 - win.x0)) * bands;
    out.data.set(inner.data.subarray(r * rowLen, (r + 1) * rowLen) as never, dst);
  }
  return out;
}

/**
 * A fill value as a sample of `dtype`, converted as GDAL converts a nodata
 * value: integers round to nearest and clamp to the dtype's range, NaN is 0.
 */
export function fillValueFor(value: number, dtype: Dtype): number {
  const info = DTYPES[dtype];
  if (info.isFloat) return value;
  if (Number.isNaN(value)) return 0;
  return Math.min(info.max, Math.max(info.min, Math.round(value)));
}

/** Checks an overview index against the number of levels; ValueError when out of range. */
export function checkOverview(overview: number | undefined | null, count: number, path: string): number | null {
  if (overview === undefined || overview === null) return null;
  if (!Number.isInteger(overview) || overview < 0 || overview >= count) {
    throw new ValueError(`overview ${overview} does not exist in ${path}: it has ${count} overview level(s)` +
      (count ? ` (indices 0..${count - 1})` : ''));
  }
  return overview;
}
