/**
 * Helpers shared by the writeCog tests: deterministic test rasters and a
 * batched GDAL oracle (read every level of many files and validate each as a
 * COG in one python call).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { DTYPES, type Dtype } from '../../src/array/dtypes.ts';
import { gdalPython } from '../helpers/gdal.ts';

/** Deterministic test data covering the dtype's range (extremes included), NaN/inf free. */
export function patternRaster(shape: [number, number, number], dtype: Dtype, seed = 1): Raster {
  const r = Raster.zeros(shape, dtype);
  const info = DTYPES[dtype];
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  for (let i = 0; i < r.data.length; i++) {
    const u = next();
    if (info.isFloat) r.data[i] = (u - 0.5) * 2e6 * (i % 7 === 0 ? 1e-6 : 1);
    else if (i % 97 === 0) r.data[i] = info.min;
    else if (i % 89 === 0) r.data[i] = info.max;
    else r.data[i] = Math.floor(info.min + u * (info.max - info.min + 1));
  }
  // smooth region so predictors matter
  for (let y = 0; y < Math.min(8, shape[0]); y++) for (let x = 0; x < shape[1]; x++) for (let b = 0; b < shape[2]; b++) r.set(y, x, b, x + b);
  return r;
}

const GDAL_BATCH = `
import sys, json, os
import numpy as np
from osgeo import gdal
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
gdal.UseExceptions()
req = json.loads(sys.stdin.read())
out = []
for i, path in enumerate(req['paths']):
    ds = gdal.Open(path)
    levels = [[ds.GetRasterBand(b + 1) for b in range(ds.RasterCount)]]
    for o in range(ds.GetRasterBand(1).GetOverviewCount()):
        levels.append([bd.GetOverview(o) for bd in levels[0]])
    nd = ds.GetRasterBand(1).GetNoDataValue()
    info = {'levels': [], 'nodata': 'nan' if nd is not None and nd != nd else nd}
    for k, bands in enumerate(levels):
        a = np.stack([bd.ReadAsArray() for bd in bands], axis=-1)
        fn = os.path.join(req['outdir'], 'r%d_%d.bin' % (i, k))
        a.astype('<f8').tofile(fn)
        info['levels'].append({'shape': list(a.shape), 'dtype': str(a.dtype), 'file': fn})
    w, e, _ = validate(path, full_check=True)
    info['errors'] = e
    info['warnings'] = w
    ds = None
    out.append(info)
print(json.dumps(out))
`;

export interface GdalLevel { shape: [number, number, number]; dtype: string; data: Float64Array }
export interface GdalResult { levels: GdalLevel[]; nodata: number | null; errors: string[]; warnings: string[] }

/** Reads every level of several files with GDAL and validates each as a COG, in one python call. */
export function gdalBatch(paths: string[]): GdalResult[] {
  const outdir = mkdtempSync(join(tmpdir(), 'write-cog-gdal-'));
  try {
    const res = JSON.parse(gdalPython(GDAL_BATCH, [], Buffer.from(JSON.stringify({ paths, outdir }))));
    return res.map((r: any) => ({
      ...r,
      nodata: r.nodata === 'nan' ? NaN : r.nodata,
      levels: r.levels.map((l: any) => ({ shape: l.shape, dtype: l.dtype, data: new Float64Array(new Uint8Array(readFileSync(l.file)).buffer) })),
    }));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}


/** Whether the optional zstd-napi loads here (ZSTD cases run only then). */
export const HAVE_ZSTD: boolean = await import('zstd-napi').then(() => true, () => false);

/** The compressions to test: ZSTD only when zstd-napi loads. */
export const TEST_COMPRESSIONS = (['DEFLATE', 'LZW', 'ZSTD', 'NONE'] as const).filter((c) => c !== 'ZSTD' || HAVE_ZSTD);
