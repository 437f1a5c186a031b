/**
 * GeoTIFF georeferencing as GDAL reports it: the EPSG code of the CRS from
 * the GeoKey directory and the pixel -> CRS affine transform from
 * ModelTransformation or ModelTiepoint + ModelPixelScale, in the pixel-corner
 * (PixelIsArea) convention: pixel (col, row)'s top-left corner maps to
 * transform.apply([[col, row]]). Files marked PixelIsPoint get the half-pixel
 * shift GDAL applies by default, so the result is always pixel-corner.
 */
import { GeoKeyValue } from '../tiff-tags.ts';

/** Parsed GeoKeys as geotiff.js returns them (key name -> value). */
export type GeoKeys = Partial<Record<string, unknown>> | null;

function epsgCode(v: unknown): number | null {
  const n = typeof v === 'number' ? v : NaN;
  return Number.isInteger(n) && n > 0 && n !== GeoKeyValue.UserDefined ? n : null;
}

/**
 * The EPSG code of the CRS: ProjectedCSTypeGeoKey for projected models,
 * GeographicTypeGeoKey for geographic ones; null when absent or user-defined.
 */
export function epsgFromGeoKeys(keys: GeoKeys): number | null {
  if (!keys) return null;
  const model = keys.GTModelTypeGeoKey;
  const projected = epsgCode(keys.ProjectedCSTypeGeoKey);
  const geographic = epsgCode(keys.GeographicTypeGeoKey);
  if (model === GeoKeyValue.ModelGeographic) return geographic;
  if (model === GeoKeyValue.ModelProjected) return projected;
  return projected ?? geographic;
}

/**
 * The pixel(corner) -> CRS transform as a row-major 3x3 matrix (9 numbers),
 * or null when the file has no (affine) georeferencing: no tags, or several
 * tie points (GCPs) without a pixel scale.
 */
export function transformMatrix(tags: {
  modelTransformation?: ArrayLike<number> | null;
  modelTiepoint?: ArrayLike<number> | null;
  modelPixelScale?: ArrayLike<number> | null;
}, keys: GeoKeys): number[] | null {
  let a: number, b: number, c: number, d: number, e: number, f: number;
  const mt = tags.modelTransformation;
  const tp = tags.modelTiepoint;
  const ps = tags.modelPixelScale;
  if (mt && mt.length >= 16) {
    [a, b, c, d, e, f] = [mt[0], mt[1], mt[3], mt[4], mt[5], mt[7]];
  } else if (tp && tp.length === 6 && ps && ps.length >= 2) {
    const [i, j, , x, y] = [tp[0], tp[1], tp[2], tp[3], tp[4]];
    a = ps[0]; b = 0; d = 0; e = -ps[1];
    c = x - i * a;
    f = y - j * e;
  } else {
    return null;
  }
  if (keys && keys.GTRasterTypeGeoKey === GeoKeyValue.RasterPixelIsPoint) {
    // The tie point refers to the pixel centre: move it to the corner.
    c -= 0.5 * a + 0.5 * b;
    f -= 0.5 * d + 0.5 * e;
  }
  return [a, b, c, d, e, f, 0, 0, 1];
}
