import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { crc32 } from 'node:zlib';
import { checkQuantization } from '../../src/cli/validate/validate-bundle.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { gdalPython } from '../helpers/gdal.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { deflateMember, zipBytes } from '../coco/zip-bytes.ts';
import { KWCOCO_FIXTURES as FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

describe('coco-stitcher validate', () => {
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'validate-test-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const bundle of ['bundle-msi', 'bundle-probe', 'bundle-stitched']) {
    it(`says the Python-written ${bundle} is valid (exit 0)`, { skip: SKIP_WITHOUT_FIXTURES }, async () => {
      const r = await runCli(['validate', join(FIXTURES, bundle, 'data.kwcoco.json')]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: valid\n$/);
    });
  }

  it('reports one line per problem and exits 1 on a damaged bundle', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    const dir = join(root, 'damaged');
    cpSync(join(FIXTURES, 'bundle-stitched'), dir, { recursive: true });
    const path = join(dir, 'data.kwcoco.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    const preds = (img: any) => (img.auxiliary ?? img.assets).find((a: any) => a.channels === 'pred.0|pred.1');
    const [a1, a2, a3, a4] = manifest.images.map(preds);
    unlinkSync(join(dir, a1.file_name));                      // missing file
    a2.num_bands = 3;                                          // band count disagrees
    truncateSync(join(dir, a3.file_name), 200);                // corrupt file
    a4.quantization = { ...a4.quantization, nodata: 5 };       // nodata inside the valid range
    writeFileSync(path, JSON.stringify(manifest));
    const r = await runCli(['validate', path]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4, r.stdout);
    assert.match(lines.find((l) => l.includes(a1.file_name))!, /does not exist/);
    assert.match(lines.find((l) => l.includes(a2.file_name))!, /file has 2 band\(s\) but its record says num_bands 3/);
    assert.match(lines.find((l) => l.includes(a3.file_name))!, /cannot read/);
    assert.match(lines.find((l) => l.includes(a4.file_name))!, /nodata 5 lies inside the valid range 0\.\.32767/);
    assert.match(r.stderr, /4 problem\(s\)/);
  });

  it('reports schema violations and unreadable manifests', async () => {
    const bad = join(root, 'schema.kwcoco.json');
    writeFileSync(bad, JSON.stringify({ images: [{ id: 'one', file_name: 'x.tif' }] }));
    let r = await runCli(['validate', bad]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.split('\n').some((l) => l.includes('(schema)') || l.includes('id')), r.stdout);
    const broken = join(root, 'broken.kwcoco.json');
    writeFileSync(broken, '{"images": [');
    r = await runCli(['validate', broken]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes(broken), r.stdout);
    r = await runCli(['validate', join(root, 'nope.kwcoco.json')]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes('nope.kwcoco.json'), r.stdout);
  });

  it('checkQuantization: sane dicts pass, broken ones name the problem', () => {
    assert.deepEqual(checkQuantization({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 }, 'int16'), []);
    assert.match(checkQuantization({ orig_min: 2, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 }, 'int16')[0], /orig_min 2 > orig_max 1/);
    assert.match(checkQuantization({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 65535, nodata: -9999 }, 'int16')[0], /does not fit int16/);
    assert.match(checkQuantization({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 1, nodata: -1 }, 'float32')[0], /float32 file/);
    assert.match(checkQuantization({ orig_min: 0, quant_min: 0, quant_max: 1 }, 'uint8')[0], /lacks numeric orig_max/);
  });

  it('usage errors exit 2', async () => {
    const r = await runCli(['validate']);
    assert.equal(r.code, 2);
    const u = await runCli(['frobnicate']);
    assert.equal(u.code, 2);
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
  });
});

describe('validate reads what predict reads', () => {
  const dir = process.env.KEEP_VALIDATE_DIR ?? scratchDir('validate-damaged-');
  const W = 300;
  /** image name -> what was done to its asset file */
  const damages = ['good', 'truncated', 'garbage-tile', 'offset-past-eof', 'bytecount-past-eof', 'unsupported-codec', 'zeroed-tile', 'good-jpeg'] as const;
  type Damage = typeof damages[number];
  const file = (d: Damage) => join(dir, `${d}.tif`);
  let manifest: string;

  /** Offset in the file of IFD 0's value array for `tag` (classic little-endian TIFF), and its count. */
  function ifd0Array(bytes: Buffer, tag: number): { at: number; count: number } {
    const ifd = bytes.readUInt32LE(4);
    const n = bytes.readUInt16LE(ifd);
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + 12 * i;
      if (bytes.readUInt16LE(e) !== tag) continue;
      const count = bytes.readUInt32LE(e + 4);
      return { at: count * 4 <= 4 ? e + 8 : bytes.readUInt32LE(e + 8), count };
    }
    throw new Error(`no tag ${tag}`);
  }

  before(() => {
    gdalPython(`
import sys, numpy as np
from osgeo import gdal
gdal.UseExceptions()
d = sys.argv[1]
rng = np.random.default_rng(1)
for name in ${JSON.stringify(damages.filter((d) => d !== 'good-jpeg'))}:
    mem = gdal.GetDriverByName('MEM').Create('', ${W}, ${W}, 2, gdal.GDT_UInt16)
    for b in (1, 2): mem.GetRasterBand(b).WriteArray(rng.integers(0, 1000, (${W}, ${W})).astype('uint16'))
    gdal.GetDriverByName('COG').CreateCopy(d + '/' + name + '.tif', mem, options=['COMPRESS=DEFLATE', 'BLOCKSIZE=128'])
mem = gdal.GetDriverByName('MEM').Create('', ${W}, ${W}, 3, gdal.GDT_Byte)
for b in (1, 2, 3): mem.GetRasterBand(b).WriteArray(rng.integers(0, 255, (${W}, ${W})).astype('uint8'))
gdal.GetDriverByName('COG').CreateCopy(d + '/good-jpeg.tif', mem, options=['COMPRESS=JPEG', 'BLOCKSIZE=128'])
`, [dir]);
    const patch = (d: Damage, fn: (b: Buffer) => Buffer | void) => {
      const b = readFileSync(file(d));
      writeFileSync(file(d), fn(b) ?? b);
    };
    const tile4 = (b: Buffer) => {
      const off = ifd0Array(b, 324), cnt = ifd0Array(b, 325);
      return { off: b.readUInt32LE(off.at + 16), count: b.readUInt32LE(cnt.at + 16), offAt: off.at + 16, cntAt: cnt.at + 16 };
    };
    patch('truncated', (b) => b.subarray(0, Math.floor(b.length * 0.6)));
    patch('garbage-tile', (b) => { const t = tile4(b); for (let i = 0; i < t.count; i++) b[t.off + i] = (i * 151 + 7) & 0xff; });
    patch('zeroed-tile', (b) => { const t = tile4(b); b.fill(0, t.off, t.off + t.count); });
    patch('offset-past-eof', (b) => { b.writeUInt32LE(b.length + 1000, tile4(b).offAt); });
    patch('bytecount-past-eof', (b) => { b.writeUInt32LE(b.length, tile4(b).cntAt); });
    patch('unsupported-codec', (b) => { const c = ifd0Array(b, 259); b.writeUInt16LE(34712, c.at); }); // JPEG 2000
    manifest = join(dir, 'data.kwcoco.json');
    writeFileSync(manifest, JSON.stringify({
      images: damages.map((d, i) => ({
        id: i + 1, name: d, width: W, height: W,
        assets: [{ file_name: `${d}.tif`, channels: d === 'good-jpeg' ? 'r|g|b' : 'a|b', width: W, height: W }],
      })),
    }));
  });

  const expected: Record<Exclude<Damage, 'good' | 'good-jpeg'>, RegExp> = {
    'truncated': /cannot decode: .*truncated\.tif.*truncated or corrupt: tile \d+ .* needs bytes .* but the file has \d+ bytes/,
    'garbage-tile': /cannot decode: .*garbage-tile\.tif.*tile 4 \(row 1, col 1\) of IFD 0 (is corrupt|decodes to)/,
    'zeroed-tile': /cannot decode: .*zeroed-tile\.tif.*tile 4 \(row 1, col 1\) of IFD 0 (is corrupt|decodes to)/,
    'offset-past-eof': /cannot decode: .*offset-past-eof\.tif.*tile 4 \(row 1, col 1\) of IFD 0 needs bytes \d+\.\.\d+ but the file has \d+ bytes/,
    'bytecount-past-eof': /cannot decode: .*bytecount-past-eof\.tif.*tile 4 \(row 1, col 1\) of IFD 0 needs bytes/,
    'unsupported-codec': /cannot decode: .*unsupported-codec\.tif.*TIFF compression code 34712 is not supported/,
  };

  it('decodes every tile: one line per damaged file, naming it and what is wrong; good files (DEFLATE, JPEG) pass', async () => {
    const r = await runCli(['validate', manifest]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const [d, re] of Object.entries(expected)) {
      const mine = lines.filter((l) => l.startsWith(`image ${damages.indexOf(d as Damage) + 1} asset ${d}.tif: `));
      assert.ok(mine.some((l) => re.test(l)), `${d}: ${mine.join('\n') || '(no line)'}`);
      assert.ok(mine.filter((l) => l.includes('cannot decode')).length === 1, `one decode line for ${d}`);
    }
    for (const d of ['good', 'good-jpeg']) assert.ok(!lines.some((l) => l.includes(`${d}.tif`)), `${d} reported: ${r.stdout}`);
  });

  it('--quick checks headers only: offsets, byte counts, truncation and codecs, not tile contents', async () => {
    const r = await runCli(['validate', '--quick', manifest]);
    assert.equal(r.code, 1);
    for (const d of ['truncated', 'offset-past-eof', 'bytecount-past-eof', 'unsupported-codec'] as const) {
      assert.ok(r.stdout.split('\n').some((l) => l.includes(`${d}.tif`) && expected[d].test(l)), `${d}: ${r.stdout}`);
    }
    for (const d of ['garbage-tile', 'zeroed-tile', 'good', 'good-jpeg']) assert.ok(!r.stdout.includes(`${d}.tif`), d);
  });

  it('every file predict\'s reader refuses, validate reports, and no other', async () => {
    const r = await runCli(['validate', manifest]);
    const dset = await CocoDataset.load(manifest);
    for (const [i, d] of damages.entries()) {
      const read = await dset.cocoImage(i + 1).imdelay().finalize().then(() => null, (e: Error) => e.message);
      const reported = r.stdout.split('\n').some((l) => l.startsWith(`image ${i + 1} asset `));
      assert.equal(reported, read !== null, `${d}: imdelay says ${read ?? 'fine'}; validate ${reported ? 'reports it' : 'does not'}`);
    }
  });

  it('impossible sizes and degenerate warps: each named with its value and what was expected', async () => {
    const good = file('good');
    const text = JSON.stringify({
      videos: [{ id: 1, name: 'v', width: 0, height: 0 }, { id: 2, name: 'w', width: 1e9, height: 1e9 }],
      images: [
        { id: 1, width: -5, height: W, assets: [{ file_name: good, channels: 'a|b', width: W, height: W }] },
        { id: 2, width: W, height: W, assets: [{ file_name: good, channels: 'a|b', width: '300', height: W }] },
        { id: 3, width: 1e9, height: 1e9, assets: [{ file_name: good, channels: 'a|b', width: W, height: W }] },
        { id: 4, width: W, height: W, assets: [{ file_name: good, channels: 'a|b', width: W, height: 'NAN' }] },
        { id: 5, width: W, height: W, assets: [{ file_name: good, channels: 'a|b', width: W, height: W, warp_aux_to_img: { scale: 0 } }] },
        { id: 6, width: W, height: W, assets: [{ file_name: good, channels: 'a|b', width: W, height: W, warp_aux_to_img: { scale: 'NAN' } }] },
        { id: 7, width: W, height: W, video_id: 2, file_name: good, channels: 'a|b' },
        { id: 8, width: W, height: W, assets: [{ file_name: good, channels: 'a|b', width: 3 * W, height: W }] },
      ],
    }).replaceAll('"NAN"', 'NaN');
    const path = join(dir, 'sizes.kwcoco.json');
    writeFileSync(path, text);
    const r = await runCli(['validate', path]);
    assert.equal(r.code, 1);
    const out = r.stdout;
    assert.match(out, /^video 1: width is 0; expected a positive integer number of pixels/m);
    assert.match(out, /^video 2: declares 1000000000 x 1000000000 pixels but its frames cover only 300 x 300/m);
    assert.match(out, /^image 1: width is -5; expected a positive integer number of pixels/m);
    assert.match(out, /^image 2 asset .*good\.tif"?: width is the string "300"; expected a positive integer number of pixels/m);
    assert.doesNotMatch(out, /width 300 but the file is 300 wide/);
    assert.match(out, /^image 3: declares 1000000000 x 1000000000 pixels but its assets cover only 300 x 300/m);
    assert.match(out, /^image 4 asset .*good\.tif"?: height is NaN; expected a positive integer/m);
    assert.match(out, /^image 5 asset .*good\.tif"?: warp_aux_to_img \{"scale":0\} is degenerate/m);
    assert.match(out, /^image 6 asset .*good\.tif"?: warp_aux_to_img \{"scale":NaN\} has non-finite entries/m);
    assert.match(out, /^image 8 asset .*good\.tif"?: file is 300x300 but its record says 900x300 \(width x height\)/m);
    // predict (CocoDataset.load) refuses this manifest, naming the first problem
    await assert.rejects(CocoDataset.load(path), /sizes\.kwcoco\.json: image 1: width is -5.*and \d+ more such problem/);
  });

  it('zip CRC errors and absurd nesting are reported as one line naming the file', async () => {
    const json = Buffer.from(JSON.stringify({ images: [] }));
    const zip = join(dir, 'crc.kwcoco.zip');
    writeFileSync(zip, zipBytes([deflateMember('crc.kwcoco.json', json, crc32(json) ^ 0xff)]));
    let r = await runCli(['validate', zip]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /crc\.kwcoco\.zip: .*member crc\.kwcoco\.json of the zip is corrupt: CRC-32/);
    const deep = join(dir, 'deep.kwcoco.json');
    writeFileSync(deep, `{"images": [], "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    r = await runCli(['validate', deep]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.trim().split('\n').length, 1);
    assert.match(r.stdout, /deep\.kwcoco\.json: the manifest nests deeper than 1000 levels/);
  });

  it('--memory-budget: a block too large to decode is reported naming the file, the strip and the budget; bad values exit 2', async () => {
    const big = join(dir, 'big-strip.tif');
    gdalPython(`
import sys, numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.GetDriverByName('GTiff').Create(sys.argv[1], 1000, 1000, 1, gdal.GDT_Float64, options=['COMPRESS=LZW', 'BLOCKYSIZE=1000'])
ds.GetRasterBand(1).WriteArray(np.ones((1000, 1000)))
ds = None
`, [big]);
    const path = join(dir, 'big.kwcoco.json');
    writeFileSync(path, JSON.stringify({ images: [{ id: 1, width: 1000, height: 1000, file_name: big, channels: 'x' }] }));
    let r = await runCli(['validate', '--memory-budget', '4', path]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /cannot decode: .*big-strip\.tif: decoding strip 0 \(row 0, col 0\) of IFD 0 \(1000 x 1000 pixels x 1 sample\(s\) of float64, LZW compressed, decoded whole\) needs 7\.63 MiB, over the memory budget of 4\.00 MiB/);
    r = await runCli(['validate', '--memory-budget', '64', path]);
    assert.ok(!r.stdout.includes('memory budget'), r.stdout);
    for (const bad of ['0', '-3', 'lots', 'NaN']) {
      r = await runCli(['validate', '--memory-budget', bad, path]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--memory-budget must be a positive number of MiB/);
    }
    r = await runCli(['visualize', '--memory-budget', 'x', '--channels', 'x', path]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--memory-budget must be a positive number of MiB/);
  });
});
