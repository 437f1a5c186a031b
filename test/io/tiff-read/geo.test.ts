/**
 * GeoKeys -> EPSG and tags -> pixel-corner transform, case by case (the
 * GDAL-written files in read-raster.test.ts check the common paths end to end).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { epsgFromGeoKeys, transformMatrix } from '../../../src/io/tiff-read/geo.ts';

describe('epsgFromGeoKeys', () => {
  const cases: [string, Record<string, unknown> | null, number | null][] = [
    ['no keys', null, null],
    ['projected', { GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32618, GeographicTypeGeoKey: 4326 }, 32618],
    ['geographic', { GTModelTypeGeoKey: 2, GeographicTypeGeoKey: 4326 }, 4326],
    ['geographic model ignores a projected key', { GTModelTypeGeoKey: 2, ProjectedCSTypeGeoKey: 32618, GeographicTypeGeoKey: 4269 }, 4269],
    ['user-defined projected CRS (32767)', { GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32767 }, null],
    ['no model type: projected first', { ProjectedCSTypeGeoKey: 3857, GeographicTypeGeoKey: 4326 }, 3857],
    ['no model type, geographic only', { GeographicTypeGeoKey: 4326 }, 4326],
  ];
  for (const [label, keys, want] of cases) it(label, () => assert.equal(epsgFromGeoKeys(keys), want));
});

describe('transformMatrix', () => {
  it('tie point + pixel scale, pixel-is-area', () => {
    assert.deepEqual(transformMatrix({ modelTiepoint: [0, 0, 0, 500000, 4600000, 0], modelPixelScale: [10, 20, 0] }, { GTRasterTypeGeoKey: 1 }),
      [10, 0, 500000, 0, -20, 4600000, 0, 0, 1]);
  });

  it('a tie point at another pixel is moved to pixel (0, 0)', () => {
    assert.deepEqual(transformMatrix({ modelTiepoint: [2, 3, 0, 100, 200, 0], modelPixelScale: [10, 20, 0] }, null),
      [10, 0, 80, 0, -20, 260, 0, 0, 1]);
  });

  it('pixel-is-point shifts by half a pixel to the corner, as GDAL does', () => {
    assert.deepEqual(transformMatrix({ modelTiepoint: [0, 0, 0, 1001, 1998.5, 0], modelPixelScale: [2, 3, 0] }, { GTRasterTypeGeoKey: 2 }),
      [2, 0, 1000, 0, -3, 2000, 0, 0, 1]);
  });

  it('ModelTransformation (rotation / shear kept)', () => {
    const mt = [2, 0.5, 0, 1000, 0.25, -3, 0, 2000, 0, 0, 0, 0, 0, 0, 0, 1];
    assert.deepEqual(transformMatrix({ modelTransformation: mt }, null), [2, 0.5, 1000, 0.25, -3, 2000, 0, 0, 1]);
  });

  it('no georeferencing, or several tie points (GCPs): null', () => {
    assert.equal(transformMatrix({}, null), null);
    assert.equal(transformMatrix({ modelTiepoint: [0, 0, 0, 1, 2, 0, 10, 10, 0, 3, 4, 0], modelPixelScale: [1, 1, 0] }, null), null);
    assert.equal(transformMatrix({ modelPixelScale: [1, 1, 0] }, null), null);
  });
});
