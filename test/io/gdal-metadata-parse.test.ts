/**
 * GDAL_METADATA / GDAL_NODATA parsing, case by case. The XML samples are the
 * shapes GDAL writes (checked with `strings` on GDAL 3.6 files): values
 * escaped twice, band items with `sample` and `role`, other domains.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGdalBandScales, parseGdalMetadata, parseGdalMetadataItems, parseGdalNodata, xmlUnescape } from '../../src/io/gdal-metadata-parse.ts';
import { gdalMetadataXml } from '../../src/io/cog/gdal-metadata-write.ts';

describe('parseGdalMetadata', () => {
  const cases: [string, string | null, Record<string, string>][] = [
    ['absent tag', null, {}],
    ['empty document', '<GDALMetadata>\n</GDALMetadata>', {}],
    ['plain items', '<GDALMetadata>\n  <Item name="a">1</Item>\n  <Item name="b">two words</Item>\n</GDALMetadata>\n', { a: '1', b: 'two words' }],
    // GDAL 3.6 wrote {"a": "<&>"} as this (double escaped)
    ['double-escaped JSON value as GDAL writes it',
      '<GDALMetadata><Item name="q">{&amp;quot;a&amp;quot;: &amp;quot;&amp;lt;&amp;amp;&amp;gt;&amp;quot;}</Item></GDALMetadata>',
      { q: '{"a": "<&>"}' }],
    ['band items, roles and other domains are not dataset metadata',
      '<GDALMetadata><Item name="x">1</Item><Item name="OFFSET" sample="0" role="offset">2</Item>' +
      '<Item name="DESCRIPTION" sample="1" role="description">b</Item><Item name="y" domain="OTHER">3</Item>' +
      '<Item name="z" domain="">4</Item></GDALMetadata>',
      { x: '1', z: '4' }],
    ['empty value and self-closing item', '<GDALMetadata><Item name="e"></Item><Item name="s"/></GDALMetadata>', { e: '', s: '' }],
    ['escaped attribute name, numeric references, newlines kept',
      '<GDALMetadata><Item name="a&amp;b">x&amp;#65;&amp;#x42;\nline</Item></GDALMetadata>', { 'a&b': 'xAB\nline' }],
    ['later duplicate wins', '<GDALMetadata><Item name="k">1</Item><Item name="k">2</Item></GDALMetadata>', { k: '2' }],
  ];
  for (const [label, xml, want] of cases) {
    it(label, () => assert.deepEqual(parseGdalMetadata(xml), want));
  }

  it('items keep sample, domain and role', () => {
    const items = parseGdalMetadataItems('<GDALMetadata><Item name="SCALE" sample="2" role="scale">0.5</Item><Item name="d" domain="D">v</Item></GDALMetadata>');
    assert.deepEqual(items, [
      { name: 'SCALE', value: '0.5', sample: 2, domain: '', role: 'scale' },
      { name: 'd', value: 'v', sample: null, domain: 'D', role: '' },
    ]);
  });

  it('xmlUnescape decodes the five entities and character references once', () => {
    assert.equal(xmlUnescape('&lt;&gt;&amp;&quot;&apos;&#233;&#x1F600;&amp;lt;'), '<>&"\'é😀&lt;');
  });
});

describe('parseGdalNodata', () => {
  const cases: [string | null | undefined, number | null][] = [
    [null, null], [undefined, null], ['', null], ['\0', null], ['garbage', null],
    ['-9999\0', -9999], ['0', 0], ['  3.5 ', 3.5], ['1e+20', 1e20], ['-3.4028234663852886e+38', -3.4028234663852886e38],
    ['inf', Infinity], ['-inf', -Infinity], ['INF', Infinity],
  ];
  for (const [text, want] of cases) {
    it(`${JSON.stringify(text)} -> ${want}`, () => assert.equal(parseGdalNodata(text), want));
  }
  for (const text of ['nan', 'NaN', 'nan\0', '-nan']) {
    it(`${JSON.stringify(text)} -> NaN`, () => assert.ok(Number.isNaN(parseGdalNodata(text))));
  }
});

describe('band scale and offset (GDAL_METADATA items with role scale / offset)', () => {
  it('parseGdalBandScales: per band, 1 and 0 where a band has none, null without any; other domains and bad values ignored', () => {
    // as GDAL 3.6 writes them (SetScale / SetOffset on an int16 GTiff, read back from the file)
    const gdal = '<GDALMetadata>\n  <Item name="quantization">x</Item>\n  <Item name="OFFSET" sample="0" role="offset">-1</Item>\n'
      + '  <Item name="SCALE" sample="0" role="scale">6.1037018895149231e-05</Item>\n  <Item name="SCALE" sample="2" role="scale">2</Item>\n'
      + '  <Item name="SCALE" sample="1" role="scale" domain="OTHER">7</Item>\n  <Item name="OFFSET" sample="1" role="offset">abc</Item>\n'
      + '  <Item name="SCALE" sample="9" role="scale">3</Item>\n</GDALMetadata>\n';
    assert.deepEqual(parseGdalBandScales(gdal, 3), [{ scale: 6.1037018895149231e-05, offset: -1 }, { scale: 1, offset: 0 }, { scale: 2, offset: 0 }]);
    assert.equal(parseGdalBandScales('<GDALMetadata><Item name="a">1</Item></GDALMetadata>', 2), null);
    assert.equal(parseGdalBandScales(null, 2), null);
  });

  it('gdalMetadataXml writes each band OFFSET then SCALE, as GDAL does, and reads back to the same doubles', () => {
    const s = { scale: 1 / 32767 * 3, offset: -0.1 + 1e-17 };
    const xml = gdalMetadataXml({ quantization: 'q' }, s, 2)!;
    assert.match(xml, /<Item name="quantization">q<\/Item>\n {2}<Item name="OFFSET" sample="0" role="offset">[^<]+<\/Item>\n {2}<Item name="SCALE" sample="0" role="scale">/);
    assert.deepEqual(parseGdalBandScales(xml, 2), [s, s]);
    assert.deepEqual(parseGdalMetadata(xml), { quantization: 'q' });
    assert.equal(gdalMetadataXml({}, null, 3), null);
    assert.equal(gdalMetadataXml({}, s, 1)!.includes('sample="1"'), false);
  });
});
