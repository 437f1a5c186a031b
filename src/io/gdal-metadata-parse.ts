/**
 * Parsing of the GDAL_METADATA TIFF tag (42112): an XML fragment
 * `<GDALMetadata><Item name="key">value</Item>...</GDALMetadata>`.
 * Items with a `sample` attribute belong to a band and items with a non-empty
 * `domain` to another metadata domain; only dataset-level items of the
 * default domain are returned, as `gdalinfo` lists them under "Metadata".
 *
 * Escaping: GDAL escapes item values twice when writing (once itself, once
 * more when serialising the XML; `"` is stored as `&amp;quot;`) and
 * unescapes twice when reading. Values are unescaped twice here too, so what
 * GDAL wrote reads back as GDAL reads it. Attributes are escaped once.
 */

const ITEM_RE = /<Item\b([^>]*?)(?:\/>|>([\s\S]*?)<\/Item\s*>)/g;
const ATTR_RE = /([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ENTITY_RE = /&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Replaces the XML character and entity references in `text` by the characters they stand for. */
export function xmlUnescape(text: string): string {
  return text.replace(ENTITY_RE, (_m, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return NAMED[ent];
  });
}

function parseAttributes(text: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of text.matchAll(ATTR_RE)) attrs[m[1]] = xmlUnescape(m[2] ?? m[3] ?? '');
  return attrs;
}

/** One `<Item>` of a GDAL_METADATA tag, with its attributes. */
export interface GdalMetadataItem {
  name: string;
  value: string;
  /** band index (0-based) for band-level items, null for dataset-level */
  sample: number | null;
  /** metadata domain, '' for the default one */
  domain: string;
  /** GDAL's role attribute (e.g. 'offset', 'scale', 'description'), '' if none */
  role: string;
}

/** Every `<Item>` of a GDAL_METADATA XML string, in file order. */
export function parseGdalMetadataItems(xml: string | null | undefined): GdalMetadataItem[] {
  if (!xml) return [];
  const items: GdalMetadataItem[] = [];
  for (const m of xml.matchAll(ITEM_RE)) {
    const attrs = parseAttributes(m[1]);
    if (attrs.name === undefined) continue;
    items.push({
      name: attrs.name,
      value: xmlUnescape(xmlUnescape(m[2] ?? '')),
      sample: attrs.sample === undefined ? null : Number(attrs.sample),
      domain: attrs.domain ?? '',
      role: attrs.role ?? '',
    });
  }
  return items;
}

/**
 * The dataset-level, default-domain items of a GDAL_METADATA XML string as a
 * plain record (later items win on duplicate names, as in GDAL).
 *
 * @example
 * parseGdalMetadata('<GDALMetadata><Item name="a">1 &amp; 2</Item></GDALMetadata>') // {a: '1 & 2'}
 */
export function parseGdalMetadata(xml: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of parseGdalMetadataItems(xml)) {
    if (item.sample === null && item.domain === '' && item.role === '') out[item.name] = item.value;
  }
  return out;
}

/**
 * Parses the GDAL_NODATA tag (42113): an ASCII number, possibly 'nan', 'inf'
 * or '-inf' in any case, with trailing NULs or spaces. Null when absent or empty.
 */
export function parseGdalNodata(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/\u0000+$/g, '').trim().toLowerCase();
  if (s === '') return null;
  if (s === 'nan' || s === '-nan' || s === '+nan') return NaN;
  if (s === 'inf' || s === '+inf' || s === 'infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

/**
 * Each band's GDAL scale and offset (the `role="scale"` / `role="offset"` items
 * with a `sample`, default domain), 1 and 0 where a band has none, as GDAL's
 * GetScale / GetOffset give them; null when no band has either.
 */
export function parseGdalBandScales(xml: string | null | undefined, bands: number): { scale: number; offset: number }[] | null {
  const out = Array.from({ length: bands }, () => ({ scale: 1, offset: 0 }));
  let any = false;
  for (const item of parseGdalMetadataItems(xml)) {
    if (item.domain !== '' || item.sample === null || !(item.sample >= 0 && item.sample < bands)) continue;
    if (item.role !== 'scale' && item.role !== 'offset') continue;
    const v = Number(item.value.trim());
    if (item.value.trim() === '' || !Number.isFinite(v)) continue;
    out[item.sample]![item.role] = v;
    any = true;
  }
  return any ? out : null;
}
