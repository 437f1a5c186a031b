/**
 * GDAL's private TIFF tags as text: GDAL_METADATA (XML of dataset items)
 * and GDAL_NODATA. Item values are escaped twice, as GDAL writes them (GDAL
 * unescapes twice when reading: `"` is stored as `&amp;quot;`); names, being
 * attributes, once. Characters outside ASCII become character references so
 * the tag stays 7-bit ASCII as TIFF requires.
 */
import type { Dtype } from '../../array/dtypes.ts';

/** Escapes XML special characters; non-ASCII characters become `&#xHEX;`. */
export function xmlEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (cp > 0x7e || (cp < 0x20 && ch !== '\n' && ch !== '\t' && ch !== '\r')) out += `&#x${cp.toString(16)};`;
    else out += ch;
  }
  return out;
}

/** GDAL's per-band scale and offset: a reader's value is `raw * scale + offset` (GetScale / GetOffset, rasterio's `scales` / `offsets`). */
export interface BandScaleOffset {
  scale: number;
  offset: number;
}

/**
 * The GDAL_METADATA XML for dataset-level items and, with `bandScale`, each of
 * `bands` bands' OFFSET and SCALE items, written as GDAL writes them
 * (`<Item name="OFFSET" sample="0" role="offset">`, then SCALE; samples from 0);
 * null when there is nothing to write. Numbers are written so they parse back
 * to the same double.
 */
export function gdalMetadataXml(items: Readonly<Record<string, string>>, bandScale: BandScaleOffset | null = null, bands = 0): string | null {
  const names = Object.keys(items);
  const lines = names.map((name) => `  <Item name="${xmlEscape(name)}">${xmlEscape(xmlEscape(items[name]))}</Item>`);
  if (bandScale) {
    for (let b = 0; b < bands; b++) {
      lines.push(`  <Item name="OFFSET" sample="${b}" role="offset">${String(bandScale.offset)}</Item>`);
      lines.push(`  <Item name="SCALE" sample="${b}" role="scale">${String(bandScale.scale)}</Item>`);
    }
  }
  if (lines.length === 0) return null;
  return `<GDALMetadata>\n${lines.join('\n')}\n</GDALMetadata>\n`;
}

/** The GDAL_NODATA text for `nodata` (GDAL's spelling of NaN and infinities). */
export function gdalNodataText(nodata: number, dtype: Dtype): string {
  if (Number.isNaN(nodata)) return 'nan';
  if (nodata === Infinity) return 'inf';
  if (nodata === -Infinity) return '-inf';
  // float32 nodata is stored as the exact double of the float32 value, so GDAL's
  // GetNoDataValue() equals the pixels that hold it
  const v = dtype === 'float32' ? Math.fround(nodata) : nodata;
  return String(v);
}
