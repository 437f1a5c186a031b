/**
 * GDAL as an independent oracle. GDAL's Python bindings belong to one
 * interpreter (Debian's /usr/bin/python3; the python3 first on PATH may be
 * another), so every oracle call runs it explicitly: GDAL_PYTHON when set.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const GDAL_PYTHON = process.env.GDAL_PYTHON || '/usr/bin/python3';

/** Runs a Python snippet under GDAL's python3; returns stdout. */
export function gdalPython(script: string, args: readonly string[] = [], input?: Buffer | string): string {
  const res = spawnSync(GDAL_PYTHON, ['-c', script, ...args], {
    input, maxBuffer: 1 << 30, encoding: 'buffer',
  });
  if (res.status !== 0) {
    throw new Error(`GDAL python failed (exit ${res.status}): ${res.stderr?.toString() ?? ''}`);
  }
  return res.stdout.toString();
}

/** Runs a Python snippet and returns stdout as raw bytes. */
export function gdalPythonBytes(script: string, args: readonly string[] = []): Buffer {
  const res = spawnSync(GDAL_PYTHON, ['-c', script, ...args], { maxBuffer: 1 << 30 });
  if (res.status !== 0) throw new Error(`GDAL python failed (exit ${res.status}): ${res.stderr.toString()}`);
  return res.stdout;
}

/** `gdalinfo -json` of a file, parsed. */
export function gdalinfo(path: string, extra: readonly string[] = []): any {
  return JSON.parse(execFileSync('gdalinfo', ['-json', ...extra, path], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

/**
 * Runs osgeo_utils' validate_cloud_optimized_geotiff on a file.
 * Returns {valid, errors, warnings}.
 */
export function validateCog(path: string): { valid: boolean; errors: string[]; warnings: string[] } {
  const out = gdalPython(`
import json, sys
from osgeo_utils.samples.validate_cloud_optimized_geotiff import validate
warnings, errors, details = validate(sys.argv[1], full_check=True)
print(json.dumps({"errors": errors, "warnings": warnings}))
`, [path]);
  const { errors, warnings } = JSON.parse(out);
  return { valid: errors.length === 0, errors, warnings };
}

/**
 * Reads a raster with GDAL and returns its pixels as float64 HWC values plus
 * shape, so tests compare our files with what GDAL decodes.
 */
export function gdalRead(path: string, overview?: number): { shape: [number, number, number]; data: Float64Array; dtype: string; nodata: (number | null)[] } {
  const script = `
import sys, json
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
ov = int(sys.argv[2])
bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
if ov >= 0:
    bands = [b.GetOverview(ov) for b in bands]
arrs = [b.ReadAsArray() for b in bands]
a = np.stack(arrs, axis=-1)
head = json.dumps({"shape": list(a.shape), "dtype": str(arrs[0].dtype), "nodata": [None if v is None else ("NaN" if v != v else v) for v in (b.GetNoDataValue() for b in bands)]}).encode()
sys.stdout.buffer.write(len(head).to_bytes(4, "little") + head + a.astype("<f8").tobytes())
`;
  const buf = gdalPythonBytes(script, [path, String(overview ?? -1)]);
  const n = buf.readUInt32LE(0);
  const head = JSON.parse(buf.subarray(4, 4 + n).toString());
  const bytes = buf.subarray(4 + n);
  const data = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { shape: head.shape, data, dtype: head.dtype, nodata: head.nodata.map((v: number | string | null) => (v === 'NaN' ? NaN : v)) };
}
