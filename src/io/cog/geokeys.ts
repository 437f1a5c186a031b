/**
 * GeoTIFF georeferencing tags: the GeoKey directory for an EPSG CRS and the
 * pixel-corner -> CRS transform as ModelPixelScale + ModelTiepoint (north-up,
 * as GDAL writes it) or ModelTransformation (rotation or shear).
 */
import type { Affine } from '../../array/affine.ts';
import type { IfdEntry } from './tiff-encode.ts';
import { FieldType, GeoKey, GeoKeyValue, Tag } from '../tiff-tags.ts';

/**
 * EPSG codes of geographic 2D CRSs are (nearly all) in 4000-4999; these
 * sub-ranges of it are projected CRSs (EPSG registry), and a few geographic
 * CRSs lie outside it.
 */
const PROJECTED_IN_4000S: readonly (readonly [number, number])[] = [
  [4087, 4088], [4390, 4398], [4399, 4463], [4484, 4489], [4491, 4554], [4559, 4559], [4568, 4589],
  [4647, 4647], [4652, 4656], [4766, 4800], [4812, 4812], [4822, 4822], [4826, 4826], [4839, 4839], [4855, 4880],
  [4908, 4909],
];
const GEOGRAPHIC_OUTSIDE: ReadonlySet<number> = new Set([
  3819, 3821, 3824, 3889, 3906, 5013, 5132, 5228, 5229, 5233, 5246, 5252, 5264, 5324, 5340, 5354, 5360, 5365, 5371,
  5373, 5381, 5393, 5451, 5464, 5467, 5489, 5524, 5527, 5546, 6135, 6207, 6311, 6318, 6322, 6325, 6365, 6668, 6706,
  6783, 6990, 7035, 7037, 7039, 7041, 7073, 7084, 7086, 7133, 7136, 7139, 7373, 7683, 7686, 7798, 7844, 7881, 8086,
  8232, 8237, 8240, 8246, 8249, 8252, 8255, 8351, 8427, 8545, 8685, 8694, 8699, 8818, 8860, 8888, 8900, 8902, 8907,
  8949, 8972, 8997, 8999, 9000, 9140, 9148, 9153, 9248, 9251, 9253, 9294, 9299, 9308, 9333, 9364, 9372, 9380, 9384,
  9403, 9453, 9474, 9475, 9547, 9696, 9702, 9739, 9755, 9758, 9763, 9777, 9782, 9784, 9866, 9871, 9939, 9964, 9969,
  9975, 9990, 10089, 10176, 10185, 10193, 10284, 10299, 10305, 10307, 10310, 10328, 10345, 10346, 10413, 10468,
]);

/** True when EPSG `code` is a geographic (lat/long) CRS rather than a projected one. */
export function isGeographicEpsg(code: number): boolean {
  if (code >= 4000 && code <= 4999) return !PROJECTED_IN_4000S.some(([a, b]) => code >= a && code <= b);
  return GEOGRAPHIC_OUTSIDE.has(code);
}

/** The GeoTIFF tags for `epsg` and `transform` (pixel corner -> CRS); empty when both are null. */
export function geoTiffEntries(epsg: number | null, transform: Affine | null): IfdEntry[] {
  const entries: IfdEntry[] = [];
  if (transform) {
    const [a, b, c, d, e, f] = transform.matrix;
    if (b === 0 && d === 0 && e < 0) {
      entries.push({ tag: Tag.ModelPixelScale, type: FieldType.DOUBLE, values: [a, -e, 0] });
      entries.push({ tag: Tag.ModelTiepoint, type: FieldType.DOUBLE, values: [0, 0, 0, c, f, 0] });
    } else {
      entries.push({ tag: Tag.ModelTransformation, type: FieldType.DOUBLE, values: [a, b, 0, c, d, e, 0, f, 0, 0, 0, 0, 0, 0, 0, 1] });
    }
  }
  // Without a CRS no GeoKey directory (GDAL would report a made-up LOCAL_CS; it reads
  // the transform alone as a geotransform with no projection, and writes it so too).
  if (epsg !== null) {
    const geographic = isGeographicEpsg(epsg);
    const keys: [number, number][] = [
      [GeoKey.GTRasterType, GeoKeyValue.RasterPixelIsArea],
      [GeoKey.GTModelType, geographic ? GeoKeyValue.ModelGeographic : GeoKeyValue.ModelProjected],
      [geographic ? GeoKey.GeographicType : GeoKey.ProjectedCSType, epsg],
    ];
    keys.sort((p, q) => p[0] - q[0]);
    const dir = [1, 1, 0, keys.length];
    for (const [id, value] of keys) dir.push(id, 0, 1, value);
    entries.push({ tag: Tag.GeoKeyDirectory, type: FieldType.SHORT, values: dir });
  }
  return entries;
}
