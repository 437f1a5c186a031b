/**
 * A raster decoded whole (formats without tiles) as a `RasterFile`: windows
 * are crops of the decoded image; no nodata, metadata, CRS, transform or
 * overviews.
 */
import type { Raster } from '../array/raster.ts';
import { IoError } from './errors.ts';
import { checkOverview, readWindowed, resolveWindow, type RasterFile, type RasterReadOptions } from './raster-file.ts';

export function wholeImageFile(path: string, format: RasterFile['format'], image: Raster): RasterFile {
  let closed = false;
  return {
    format, path, width: image.width, height: image.height, bands: image.bands, dtype: image.dtype,
    nodata: null, metadata: {}, bandScales: null, epsg: null, transform: null, overviews: [],
    async read(options: RasterReadOptions = {}) {
      if (closed) throw new IoError(`cannot read ${path}: it is closed`, path);
      checkOverview(options.overview, 0, path);
      const win = resolveWindow(options.window, image.height, image.width, { path, level: 'image', boundless: options.boundless });
      return readWindowed(win, image.height, image.width, image.bands, image.dtype, options.fill ?? 0,
        async (w) => image.crop(w.y0, w.x0, w.h, w.w));
    },
    // decoded whole at open: nothing is left to check
    async verify() {
      if (closed) throw new IoError(`cannot verify ${path}: it is closed`, path);
    },
    async close() { closed = true; },
  };
}
