/**
 * Batch GDAL fixtures for the reader tests: one Debian python3 call writes
 * every requested raster with GDAL and reads each back with GDAL (the
 * oracle), dumping pixels (float64 HWC, per level) and the facts gdalinfo
 * reports (nodata, metadata, EPSG, geotransform, overview sizes).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gdalPython } from './gdal.ts';

/** One raster for GDAL to write. */
export interface GdalFixtureSpec {
  name: string;
  dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'uint32' | 'float32' | 'float64' | 'cfloat32';
  height: number;
  width: number;
  bands: number;
  /** 'COG', 'GTiff' or 'PNG' */
  driver: 'COG' | 'GTiff' | 'PNG';
  /** creation options, e.g. ['COMPRESS=DEFLATE', 'PREDICTOR=2'] */
  options?: string[];
  nodata?: number | 'nan';
  metadata?: Record<string, string>;
  epsg?: number;
  geotransform?: number[];
  /** GTiff: overview factors built with BuildOverviews (NEAREST) */
  overviews?: number[];
  /** set NaN at every (7th row, 5th col) of float data */
  nans?: boolean;
  /** write only the block(s) intersecting rows/cols [y0, y1) x [x0, x1) (GTiff with SPARSE_OK=TRUE) */
  sparseWrite?: [number, number, number, number];
  /** add a per-dataset mask band (GDAL writes it as mask IFDs), 0 on the top-left quarter */
  mask?: boolean;
  /** AREA_OR_POINT=Point */
  pixelIsPoint?: boolean;
  seed?: number;
}

/** What GDAL reports for a fixture. */
export interface GdalFixtureTruth {
  path: string;
  dtype: string;
  nodata: number | null;
  metadata: Record<string, string>;
  epsg: number | null;
  geotransform: number[] | null;
  overviews: [number, number][];
  /** level 0 = full resolution, then each overview: shape and float64 HWC pixels as GDAL reads them */
  levels: { shape: [number, number, number]; data: Float64Array }[];
}

const SCRIPT = String.raw`
import sys, json, os
import numpy as np
from osgeo import gdal, osr
gdal.UseExceptions()
specs = json.load(sys.stdin)
outdir = sys.argv[1]
GT = {'uint8': gdal.GDT_Byte, 'int8': gdal.GDT_Byte, 'uint16': gdal.GDT_UInt16, 'int16': gdal.GDT_Int16,
      'int32': gdal.GDT_Int32, 'uint32': gdal.GDT_UInt32, 'float32': gdal.GDT_Float32, 'float64': gdal.GDT_Float64,
      'cfloat32': gdal.GDT_CFloat32}
ext = {'COG': '.tif', 'GTiff': '.tif', 'PNG': '.png'}
result = {}
for s in specs:
    rng = np.random.default_rng(s.get('seed', 0))
    dt = s['dtype']; h, w, c = s['height'], s['width'], s['bands']
    if dt in ('float32', 'float64'):
        a = (rng.normal(0, 100, (c, h, w)) * rng.integers(0, 2, (c, h, w))).astype(dt)
        if s.get('nans'): a[:, ::7, ::5] = np.nan
    elif dt == 'cfloat32':
        a = rng.normal(0, 1, (c, h, w)).astype('complex64')
    else:
        info = np.iinfo(dt)
        # half random, half smooth, so predictors and compressors both get exercised
        a = rng.integers(info.min, info.max, (c, h, w), endpoint=True, dtype=dt)
        a[:, :, : w // 2] = (np.arange(w // 2) % 50).astype(dt)
    opts = list(s.get('options', []))
    mem_opts = []
    if dt == 'int8': opts.append('PIXELTYPE=SIGNEDBYTE')
    path = os.path.join(outdir, s['name'] + ext[s['driver']])
    def setup(ds):
        for b in range(c):
            band = ds.GetRasterBand(b + 1)
            if s.get('nodata') is not None:
                band.SetNoDataValue(float('nan') if s['nodata'] == 'nan' else s['nodata'])
        if s.get('metadata'): ds.SetMetadata(s['metadata'])
        if s.get('pixelIsPoint'): ds.SetMetadataItem('AREA_OR_POINT', 'Point')
        if s.get('epsg'):
            srs = osr.SpatialReference(); srs.ImportFromEPSG(s['epsg']); ds.SetProjection(srs.ExportToWkt())
        if s.get('geotransform'): ds.SetGeoTransform(s['geotransform'])
    if s.get('sparseWrite'):
        ds = gdal.GetDriverByName('GTiff').Create(path, w, h, c, GT[dt], options=opts + ['SPARSE_OK=TRUE'] + mem_opts)
        setup(ds)
        y0, y1, x0, x1 = s['sparseWrite']
        for b in range(c):
            ds.GetRasterBand(b + 1).WriteArray(a[b, y0:y1, x0:x1], x0, y0)
        ds = None
    else:
        mem = gdal.GetDriverByName('MEM').Create('', w, h, c, GT[dt], options=mem_opts)
        setup(mem)
        for b in range(c):
            mem.GetRasterBand(b + 1).WriteArray(a[b])
        if s.get('mask'):
            mem.CreateMaskBand(gdal.GMF_PER_DATASET)
            m = np.full((h, w), 255, np.uint8); m[: h // 2, : w // 2] = 0
            mem.GetRasterBand(1).GetMaskBand().WriteArray(m)
        gdal.GetDriverByName(s['driver']).CreateCopy(path, mem, options=opts)
        mem = None
        if s.get('overviews'):
            ds = gdal.Open(path, gdal.GA_Update)
            ds.BuildOverviews('NEAREST', s['overviews'])
            ds = None
    ds = gdal.Open(path)
    b1 = ds.GetRasterBand(1)
    signed = b1.GetMetadataItem('PIXELTYPE', 'IMAGE_STRUCTURE') == 'SIGNEDBYTE'
    levels = []
    nov = b1.GetOverviewCount()
    for lv in range(-1, nov):
        bands = [ds.GetRasterBand(i + 1) for i in range(ds.RasterCount)]
        if lv >= 0: bands = [bb.GetOverview(lv) for bb in bands]
        arr = np.stack([bb.ReadAsArray() for bb in bands], axis=-1)
        if signed: arr = arr.view(np.int8)
        if np.iscomplexobj(arr): arr = arr.real
        fn = '%s.L%d.bin' % (s['name'], lv + 1)
        arr.astype('<f8').tofile(os.path.join(outdir, fn))
        levels.append({'shape': list(arr.shape), 'file': fn})
    srs = ds.GetSpatialRef()
    epsg = None
    if srs is not None:
        srs.AutoIdentifyEPSG()
        code = srs.GetAuthorityCode(None)
        epsg = int(code) if code else None
    nd = b1.GetNoDataValue()
    result[s['name']] = {
        'path': path, 'dtype': 'int8' if signed else gdal.GetDataTypeName(b1.DataType),
        'nodata': None if nd is None else ('nan' if nd != nd else nd),
        'metadata': ds.GetMetadata() or {},
        'epsg': epsg,
        'geotransform': list(ds.GetGeoTransform(can_return_null=True) or []) or None,
        'overviews': [[b1.GetOverview(i).YSize, b1.GetOverview(i).XSize] for i in range(nov)],
        'levels': levels,
    }
    ds = None
print(json.dumps(result))
`;

/** Writes every spec with GDAL into a fresh temp folder; returns the truth per name and a cleanup function. */
export function makeGdalFixtures(specs: GdalFixtureSpec[]): { dir: string; truth: Record<string, GdalFixtureTruth>; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'reader-fixtures-'));
  const out = JSON.parse(gdalPython(SCRIPT, [dir], Buffer.from(JSON.stringify(specs))));
  const truth: Record<string, GdalFixtureTruth> = {};
  for (const [name, t] of Object.entries<any>(out)) {
    truth[name] = {
      path: t.path, dtype: t.dtype, nodata: t.nodata === 'nan' ? NaN : t.nodata, metadata: t.metadata,
      epsg: t.epsg, geotransform: t.geotransform, overviews: t.overviews,
      levels: t.levels.map((l: any) => {
        const buf = readFileSync(join(dir, l.file));
        return { shape: l.shape, data: new Float64Array(new Uint8Array(buf).buffer) };
      }),
    };
  }
  return { dir, truth, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const READ_MANY = String.raw`
import sys, json, os
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
paths = json.load(sys.stdin); outdir = sys.argv[1]; res = []
for i, p in enumerate(paths):
    ds = gdal.Open(p)
    arr = np.stack([ds.GetRasterBand(b + 1).ReadAsArray() for b in range(ds.RasterCount)], axis=-1)
    fn = os.path.join(outdir, 'gdalread-%d.bin' % i)
    arr.astype('<f8').tofile(fn)
    res.append({'shape': list(arr.shape), 'dtype': str(arr.dtype), 'file': fn})
    ds = None
print(json.dumps(res))
`;

/** Reads several rasters with GDAL in one python call: shape, numpy dtype and float64 HWC pixels of each. */
export function gdalReadMany(paths: string[]): { shape: [number, number, number]; dtype: string; data: Float64Array }[] {
  const dir = mkdtempSync(join(tmpdir(), 'reader-gdalread-'));
  try {
    const out = JSON.parse(gdalPython(READ_MANY, [dir], Buffer.from(JSON.stringify(paths))));
    return out.map((o: any) => ({ shape: o.shape, dtype: o.dtype, data: new Float64Array(new Uint8Array(readFileSync(o.file)).buffer) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
