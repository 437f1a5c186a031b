/**
 * The one table of TIFF constants (src/io/tiff-tags.ts) against geotiff.js's
 * own tables (an independent list from the TIFF 6.0 / GeoTIFF specs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FIELD_TYPE_BYTES, FieldType, GeoKey, Tag } from '../../src/io/tiff-tags.ts';

// geotiff.js does not export its tables: load the module file itself
const globals = await import(new URL('globals.js', import.meta.resolve('geotiff')).href) as {
  tagDefinitions: Record<number, { name: string }>;
  fieldTypes: Record<string, number>;
  fieldTypeSizes: Record<number, number>;
  geoKeyNames: Record<number, string>;
};

/** Our names of GDAL's private tags, and geotiff.js's. */
const GDAL_NAMES: Record<string, string> = { GdalMetadata: 'GDAL_METADATA', GdalNodata: 'GDAL_NODATA' };

test('every Tag has the number geotiff.js gives its name, and Tag[n] names it', () => {
  const members = Object.entries(Tag).filter(([, v]) => typeof v === 'number') as [string, number][];
  assert.ok(members.length >= 25);
  for (const [name, n] of members) {
    assert.equal(globals.tagDefinitions[n]?.name, GDAL_NAMES[name] ?? name, `Tag.${name} = ${n}`);
    assert.equal(Tag[n], name);
  }
});

test('field types and their sizes agree with geotiff.js', () => {
  for (const [name, n] of [['BYTE', FieldType.BYTE], ['ASCII', FieldType.ASCII], ['SHORT', FieldType.SHORT], ['LONG', FieldType.LONG],
    ['DOUBLE', FieldType.DOUBLE], ['LONG8', FieldType.LONG8]] as const) {
    assert.equal(globals.fieldTypes[name], n, name);
    assert.equal(FIELD_TYPE_BYTES[n], globals.fieldTypeSizes[n], `${name} size`);
  }
});

test('GeoKey ids agree with geotiff.js', () => {
  for (const [name, n] of [['GTModelTypeGeoKey', GeoKey.GTModelType], ['GTRasterTypeGeoKey', GeoKey.GTRasterType],
    ['GeographicTypeGeoKey', GeoKey.GeographicType], ['ProjectedCSTypeGeoKey', GeoKey.ProjectedCSType]] as const) {
    assert.equal(globals.geoKeyNames[n], name);
  }
});
