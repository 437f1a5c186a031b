/**
 * CocoDataset against the Python-written fixtures (kwcoco-py): load, index,
 * byte-for-byte kwcoco formatting, JSON / zip round trips, schema validity,
 * reroot / fpath moves, add*, and every bad-input case with its message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync, mkdirSync, readdirSync } from 'node:fs';
import { join, dirname, isAbsolute } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { unzipSync, zipSync, strToU8 } from 'fflate';
import fc from 'fast-check';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { validateManifest } from '../../src/coco/schema.ts';
import { ManifestError, UnknownIdError } from '../../src/coco/errors.ts';
import { IoError } from '../../src/io/errors.ts';
import { ValueError } from '../../src/array/errors.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { GDAL_PYTHON } from '../helpers/gdal.ts';
import { KWCOCO_FIXTURES as FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

const BUNDLES = ['bundle-msi', 'bundle-probe', 'bundle-stitched'];
const manifestOf = (b: string) => join(FIXTURES, b, 'data.kwcoco.json');
const rawOf = (b: string) => JSON.parse(readFileSync(manifestOf(b), 'utf8'));

function tmp(): string {
  return scratchDir('coco-dataset-test-');
}

/** Writes `obj` (or text) as a manifest in a fresh folder and returns its path. */
function writeTmpManifest(content: unknown, name = 'data.kwcoco.json'): string {
  const path = join(tmp(), name);
  writeFileSync(path, typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content));
  return path;
}

for (const bundle of BUNDLES) {
  test(`${bundle}: loads, and the index agrees with the raw JSON`, { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    const raw = rawOf(bundle);
    const dset = await CocoDataset.load(manifestOf(bundle));
    assert.equal(dset.fpath, manifestOf(bundle));
    assert.equal(dset.bundleDpath, join(FIXTURES, bundle));
    assert.deepEqual(dset.dataset, raw);
    assert.equal(dset.index.imgs.size, raw.images.length);
    assert.equal(dset.index.videos.size, raw.videos.length);
    assert.equal(dset.index.anns.size, raw.annotations.length);
    assert.equal(dset.index.cats.size, raw.categories.length);
    assert.deepEqual(dset.imageIds(), raw.images.map((g: { id: number }) => g.id).sort((a: number, b: number) => a - b));
    for (const v of raw.videos) {
      const expected = raw.images.filter((g: { video_id: number }) => g.video_id === v.id)
        .sort((a: { frame_index: number }, b: { frame_index: number }) => a.frame_index - b.frame_index).map((g: { id: number }) => g.id);
      assert.deepEqual(dset.index.vidToGids.get(v.id), expected);
    }
    for (const g of raw.images) {
      const expected = raw.annotations.filter((a: { image_id: number }) => a.image_id === g.id).map((a: { id: number }) => a.id);
      assert.deepEqual(dset.index.gidToAids.get(g.id), expected);
    }
    // live objects, not copies
    assert.equal(dset.index.imgs.get(raw.images[0].id), dset.dataset.images![0]);
    // every asset the fixture lists exists where we resolve it
    assert.deepEqual(await dset.missingAssets(), []);
  });

  test(`${bundle}: dump writes exactly what Python kwcoco wrote (up to Python's "2.0" floats)`, { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    const dset = await CocoDataset.load(manifestOf(bundle));
    const dir = tmp();
    dset.bundleDpath = dir; // same folder as the output: file names are written unchanged
    await dset.dump(join(dir, 'out.kwcoco.json'));
    const ours = readFileSync(join(dir, 'out.kwcoco.json'), 'utf8');
    const python = readFileSync(manifestOf(bundle), 'utf8').replace(/(\d)\.0(?=[,\]}])/g, '$1');
    assert.equal(ours, python);
  });

  test(`${bundle}: JSON round trip load -> dump -> load keeps every field, and validates`, { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    const dset = await CocoDataset.load(manifestOf(bundle));
    const dir = tmp();
    dset.fpath = join(dir, 'copy.kwcoco.json');
    // moving the manifest rewrote the relative paths to point back at the fixture
    const moved = await CocoDataset.load((await dset.dump(), dset.fpath!));
    assert.deepEqual(await moved.missingAssets(), []);
    moved.fpath = manifestOf(bundle); // moving back restores the original names
    assert.deepEqual(moved.dataset, rawOf(bundle));
    const dumped = JSON.parse(readFileSync(join(dir, 'copy.kwcoco.json'), 'utf8'));
    assert.deepEqual(validateManifest(dumped), { valid: true, errors: [] });
  });

  test(`${bundle}: zip round trip (one JSON member named after the zip)`, { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    const dset = await CocoDataset.load(manifestOf(bundle));
    const dir = tmp();
    dset.bundleDpath = dir;
    const zpath = join(dir, 'data.kwcoco.zip');
    await dset.dump(zpath);
    const members = unzipSync(readFileSync(zpath));
    assert.deepEqual(Object.keys(members), ['data.kwcoco.json']);
    const back = await CocoDataset.load(zpath);
    assert.deepEqual(back.dataset, rawOf(bundle));
    assert.equal(back.bundleDpath, dir);
  });
}

test('reads a .kwcoco.zip written by Python zipfile (as kwcoco does)', { skip: SKIP_WITHOUT_FIXTURES }, async (t) => {
  const dir = tmp();
  const zpath = join(dir, 'data.kwcoco.zip');
  const py = spawnSync(GDAL_PYTHON, ['-c', `
import zipfile, sys
with zipfile.ZipFile(sys.argv[2], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], 'data.kwcoco.json')
`, manifestOf('bundle-probe'), zpath]);
  if (py.status !== 0) return t.skip(`python3 unavailable: ${py.stderr}`);
  const dset = await CocoDataset.load(zpath);
  assert.deepEqual(dset.dataset, rawOf('bundle-probe'));
});

test('Python NaN / Infinity tokens load and are written back the same way', async () => {
  const text = '{\n"images": [\n{"id": 1, "file_name": "a.png", "score": NaN, "hi": Infinity, "lo": -Infinity}\n]\n}';
  const path = writeTmpManifest(text);
  const dset = await CocoDataset.load(path);
  const img = dset.dataset.images![0];
  assert.ok(Number.isNaN(img.score));
  assert.equal(img.hi, Infinity);
  assert.equal(img.lo, -Infinity);
  await dset.dump();
  assert.equal(readFileSync(path, 'utf8'), text);
});

test('unknown fields (top level, images, assets) survive a round trip untouched', async () => {
  const obj = {
    info: { note: 'x' }, my_extension: { nested: [1, 2, { a: null }] }, zeta: 1,
    images: [{ id: 3, file_name: 'a.tif', custom: { deep: [true, false] }, assets: [{ file_name: 'b.tif', extra: 'y' }] }],
  };
  const path = writeTmpManifest(obj);
  const dset = await CocoDataset.load(path);
  await dset.dump();
  assert.deepEqual((await CocoDataset.load(path)).dataset, obj);
  const text = readFileSync(path, 'utf8');
  assert.ok(text.indexOf('"my_extension"') < text.indexOf('"zeta"'), 'other keys are sorted after the main keys');
});

test('bad input: malformed JSON names the file, line and column', async () => {
  const path = writeTmpManifest('{\n"images": [\n{"id": 1, "file_name": "a.png"},,\n]\n}');
  await assert.rejects(CocoDataset.load(path), (e: Error) => {
    assert.ok(e instanceof ManifestError);
    assert.match(e.message, new RegExp(`^${path.replace(/[.]/g, '\\.')}: invalid JSON at line 3, column 33`));
    return true;
  });
  const truncated = writeTmpManifest('{"images": [{"id": 1');
  await assert.rejects(CocoDataset.load(truncated), /line 1, column 21 .*end of input/);
  await assert.rejects(CocoDataset.load(writeTmpManifest('')), /manifest is empty/);
  await assert.rejects(CocoDataset.load(writeTmpManifest(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), /not UTF-8/);
});

test('bad input: wrong top-level type / table type / item without id', async () => {
  await assert.rejects(CocoDataset.load(writeTmpManifest('[1, 2]')), /must be a JSON object, got a list/);
  await assert.rejects(CocoDataset.load(writeTmpManifest('"hello"')), /must be a JSON object, got string "hello"/);
  assert.throws(() => CocoDataset.fromJSON(null), /must be a JSON object, got null/);
  assert.throws(() => CocoDataset.fromJSON({ images: {} }), /"images" must be a list, got an object/);
  assert.throws(() => CocoDataset.fromJSON({ images: [{ file_name: 'x' }] }), /images\[0\] has id undefined; expected an integer/);
  assert.throws(() => CocoDataset.fromJSON({ images: [7] }), /images\[0\] must be an object/);
});

test('bad input: duplicate ids name the id and the table', () => {
  assert.throws(
    () => CocoDataset.fromJSON({ images: [{ id: 1 }, { id: 2 }, { id: 1 }] }, { fpath: '/x/d.json' }),
    (e: Error) => e instanceof ManifestError && e.message === '/x/d.json: duplicate id 1 in "images" (items 0 and 2)',
  );
  assert.throws(() => CocoDataset.fromJSON({ annotations: [{ id: 5, image_id: 1 }, { id: 5, image_id: 1 }], images: [{ id: 1 }] }), /duplicate id 5 in "annotations"/);
  assert.throws(() => CocoDataset.fromJSON({ categories: [{ id: 2, name: 'a' }, { id: 2, name: 'b' }] }), /duplicate id 2 in "categories"/);
});

test('bad input: dangling references (image, category, video)', () => {
  assert.throws(() => CocoDataset.fromJSON({ images: [{ id: 1 }], annotations: [{ id: 9, image_id: 4 }] }),
    /annotation 9 references image_id 4, which is not in "images"/);
  assert.throws(() => CocoDataset.fromJSON({ images: [{ id: 1 }], annotations: [{ id: 9, image_id: 1, category_id: 3 }] }),
    /annotation 9 references category_id 3, which is not in "categories"/);
  assert.throws(() => CocoDataset.fromJSON({ images: [{ id: 1, video_id: 2 }] }), /image 1 has video_id 2, which is not in "videos"/);
});

test('bad input: missing asset file is reported on load with {checkAssets: true} (by path), not by default', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const obj = rawOf('bundle-probe');
  const path = writeTmpManifest(obj); // the assets are not beside this copy
  const dset = await CocoDataset.load(path); // default: not checked until read
  assert.equal(dset.index.imgs.size, 4);
  const first = join(dirname(path), '_assets/probe/up_u8.tif');
  await assert.rejects(CocoDataset.load(path, { checkAssets: true }), (e: Error) => {
    assert.ok(e instanceof IoError);
    assert.equal((e as IoError).path, first);
    assert.match(e.message, /17 asset file\(s\) do not exist: image 1: .*up_u8\.tif/);
    return true;
  });
  await CocoDataset.load(manifestOf('bundle-probe'), { checkAssets: true }); // the real bundle is complete
});

test('bad input: zips without one JSON file, files that do not exist', async () => {
  await assert.rejects(CocoDataset.load(writeTmpManifest(zipSync({}), 'e.kwcoco.zip')), /the zip holds no file/);
  const two = zipSync({ 'a.txt': strToU8('x'), 'b.txt': strToU8('y') });
  await assert.rejects(CocoDataset.load(writeTmpManifest(two, 't.kwcoco.zip')), /holds 2 files and 0 \.json files \(a\.txt, b\.txt\)/);
  const notJson = zipSync({ 'readme.txt': strToU8('hello') });
  await assert.rejects(CocoDataset.load(writeTmpManifest(notJson, 'r.kwcoco.zip')), /r\.kwcoco\.zip!readme\.txt: invalid JSON at line 1, column 1/);
  const corrupt = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);
  await assert.rejects(CocoDataset.load(writeTmpManifest(corrupt, 'c.kwcoco.zip')), /not a readable zip file/);
  await assert.rejects(CocoDataset.load('/nonexistent/dir/x.kwcoco.json'), (e: Error) => e instanceof IoError && /no such file/.test(e.message));
});

test('cocoImage of an unknown id names it', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await CocoDataset.load(manifestOf('bundle-probe'));
  assert.throws(() => dset.cocoImage(42), (e: Error) => e instanceof UnknownIdError && /image id 42 is not in .*\(4 images, ids 1, 2, 3, 4\)/.test(e.message));
});

test('add*: ids are max + 1, uniqueness and references are checked, the index follows', () => {
  const dset = CocoDataset.fromJSON({ images: [{ id: 7, name: 'seven' }] });
  const vid = dset.addVideo({ name: 'v', width: 10, height: 10 });
  assert.equal(vid, 1);
  const g2 = dset.addImage({ name: 'f2', video_id: vid, frame_index: 2 });
  const g0 = dset.addImage({ name: 'f0', video_id: vid, frame_index: 0 });
  assert.deepEqual([g2, g0], [8, 9]);
  assert.deepEqual(dset.index.vidToGids.get(vid), [9, 8]);
  assert.equal(dset.dataset.images![1].id, 8);
  assert.equal(Object.keys(dset.dataset.images![1])[0], 'id');
  assert.throws(() => dset.addImage({ id: 7 }), /duplicate id 7/);
  assert.throws(() => dset.addImage({ name: 'seven' }), /name "seven" is taken by id 7/);
  assert.throws(() => dset.addImage({ video_id: 99 }), UnknownIdError);
  const cid = dset.ensureCategory('change');
  assert.equal(dset.ensureCategory('change'), cid);
  assert.equal(dset.addCategory({ name: 'other', id: 10 }), 10);
  assert.equal(dset.addCategory({ name: 'next' }), 11);
  assert.throws(() => dset.addCategory({ name: 'change' }), /taken/);
  const aid = dset.addAnnotation({ image_id: 8, category_id: cid, bbox: [0, 0, 1, 1] });
  assert.deepEqual(dset.index.gidToAids.get(8), [aid]);
  assert.throws(() => dset.addAnnotation({ image_id: 1234 }), (e: Error) => e instanceof UnknownIdError && /image_id 1234/.test(e.message));
  assert.throws(() => dset.addAnnotation({ image_id: 8, category_id: 77 }), /category_id 77/);
  assert.deepEqual(validateManifest(dset.dataset).valid, false); // images without file_name/assets break the schema
  dset.dataset.images!.forEach((g) => { g.file_name = `${g.id}.png`; });
  assert.deepEqual(validateManifest(dset.dataset), { valid: true, errors: [] });
});

test('validateManifest reports schema violations with their location', () => {
  const res = validateManifest({ images: [{ id: 'one', file_name: 'x.png' }], videos: [{ id: 1 }] });
  assert.equal(res.valid, false);
  assert.ok(res.errors.includes('/images/0/id must be integer'), res.errors.join('\n'));
  assert.ok(res.errors.includes("/videos/0 must have required property 'name'"), res.errors.join('\n'));
});

test('reroot: absolute, then relative again (./ prefix as kwcoco), outside paths refused', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await CocoDataset.load(manifestOf('bundle-msi'));
  const before = structuredClone(dset.dataset);
  dset.reroot({ absolute: true });
  const names = dset.dataset.images!.flatMap((g) => g.auxiliary!.map((a) => a.file_name));
  assert.ok(names.every((n) => isAbsolute(n) && n.startsWith(join(FIXTURES, 'bundle-msi') + '/')));
  assert.ok(names.every((n) => existsSync(n)));
  dset.reroot({ absolute: false });
  assert.deepEqual(dset.dataset, before);
  // an absolute path outside the bundle cannot become bundle-relative
  dset.dataset.images![0].auxiliary![0].file_name = '/somewhere/else.tif';
  const snapshot = structuredClone(dset.dataset);
  assert.throws(() => dset.reroot({ absolute: false }), (e: Error) => e instanceof ManifestError && /\/somewhere\/else\.tif \(image 1\).*outside the bundle/.test(e.message));
  assert.deepEqual(dset.dataset, snapshot, 'nothing changed');
});

test('fpath: setting it moves bundleDpath and keeps relative paths pointing at the same files', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await CocoDataset.load(manifestOf('bundle-msi'));
  const img = dset.cocoImage(1);
  const before = img.assets.map((a) => img.resolvePath(a.file_name));
  const dir = tmp();
  dset.fpath = join(dir, 'sub', 'pred.kwcoco.json');
  assert.equal(dset.bundleDpath, join(dir, 'sub'));
  assert.deepEqual(img.assets.map((a) => img.resolvePath(a.file_name)), before);
  assert.match(img.assets[0].file_name, /^\.\.\/.*bundle-msi\/_assets\//);
  // fromJSON without any location: setting fpath just places the bundle
  const bare = CocoDataset.fromJSON({ images: [{ id: 1, file_name: 'a.png' }] });
  bare.fpath = join(dir, 'x.json');
  assert.equal(bare.dataset.images![0].file_name, 'a.png');
  assert.equal(bare.cocoImage(1).resolvePath('a.png'), join(dir, 'a.png'));
});

test('dump to another folder rewrites relative paths in the file only; dump without a path needs fpath', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await CocoDataset.load(manifestOf('bundle-probe'));
  const out = join(tmp(), 'elsewhere', 'd.kwcoco.json');
  mkdirSync(dirname(out), { recursive: true });
  await dset.dump(out);
  assert.deepEqual(dset.dataset, rawOf('bundle-probe'));
  const written = await CocoDataset.load(out);
  assert.deepEqual(await written.missingAssets(), []);
  await assert.rejects(CocoDataset.fromJSON({}).dump(), /needs a path/);
});

test('dump is atomic: no temp file is left and a failed write leaves the old file', async () => {
  const dir = tmp();
  const path = join(dir, 'a.kwcoco.json');
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, file_name: 'x.png' }] }, { fpath: path });
  await dset.dump();
  const good = readFileSync(path, 'utf8');
  (dset.dataset as Record<string, unknown>).bad = 10n; // BigInt cannot be written
  await assert.rejects(dset.dump(), /BigInt/);
  assert.equal(readFileSync(path, 'utf8'), good);
  assert.deepEqual(readdirSync(dir), ['a.kwcoco.json'], 'no temp file left behind');
  rmSync(path);
});

test('copy() is deep and keeps the location', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const dset = await CocoDataset.load(manifestOf('bundle-stitched'));
  const c = dset.copy();
  assert.deepEqual(c.dataset, dset.dataset);
  assert.equal(c.fpath, dset.fpath);
  c.dataset.images![0].auxiliary![0].file_name = 'changed.tif';
  c.addCategory({ name: 'only-in-copy' });
  assert.equal(dset.dataset.images![0].auxiliary![0].file_name, './_assets/auxiliary/aux_r_g_b/img_00001.tif');
  assert.equal(dset.index.cats.size, 3);
  assert.equal(c.index.cats.size, 4);
});

test('demo: unknown names are a clear error', async () => {
  await assert.rejects(CocoDataset.demo('shapes8', { dpath: tmp() }), (e: Error) => e instanceof ValueError && /unknown demo dataset "shapes8"; available: "vidshapes-msi"/.test(e.message));
});

test('demo("vidshapes-msi") delegates to createVidshapesMsi: a loadable, schema-valid bundle', async () => {
  const dir = tmp();
  const dset = await CocoDataset.demo('vidshapes-msi', { dpath: dir, numVideos: 1, numFrames: 2, imageSize: 32 });
  assert.ok(dset instanceof CocoDataset);
  assert.equal(dset.index.imgs.size, 2);
  assert.equal(dset.fpath, join(dir, 'data.kwcoco.json'));
  const back = await CocoDataset.load(dset.fpath!, { checkAssets: true });
  assert.deepEqual(back.dataset, dset.dataset);
  assert.deepEqual(validateManifest(back.dataset), { valid: true, errors: [] });
});

test('dump: objects with toJSON are written as their JSON, typed arrays as lists, cycles refused', async () => {
  const dir = tmp();
  const warp = { matrix: [2, 0, 0, 0, 2, 0], toJSON: () => ({ scale: 2, type: 'affine' }) };
  const dset = CocoDataset.fromJSON({ images: [{ id: 1, file_name: 'a.tif', warp_img_to_vid: warp, hist: new Float32Array([0.5, 1]) }] }, { fpath: join(dir, 'd.json') });
  await dset.dump();
  const back = JSON.parse(readFileSync(join(dir, 'd.json'), 'utf8'));
  assert.deepEqual(back.images[0].warp_img_to_vid, { scale: 2, type: 'affine' });
  assert.deepEqual(back.images[0].hist, [0.5, 1]);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  dset.dataset.images![0].bad = cyclic;
  await assert.rejects(dset.dump(), /reference cycle/);
});

test('property: kwcoco-formatted text parses back to what JSON.stringify would give', async () => {
  const { formatManifest, parseManifestText } = await import('../../src/coco/manifest-io.ts');
  const item = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
  const manifest = fc.record({
    images: fc.array(item, { maxLength: 4 }), annotations: fc.array(item, { maxLength: 3 }),
  }, { requiredKeys: [] }).chain((m) => fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map((extra) => ({ ...extra, ...m })));
  fc.assert(fc.property(manifest, (m) => {
    const text = formatManifest(m as Record<string, unknown>);
    const expected = JSON.parse(JSON.stringify(m, (_k, v) => v)); // native serializer as the reference
    for (const k of ['info', 'licenses', 'categories', 'keypoint_categories', 'videos', 'images', 'annotations']) if (expected[k] === null) delete expected[k];
    assert.deepEqual(parseManifestText(text, 'prop.json'), expected);
    assert.deepEqual(JSON.parse(text), expected);
  }), { numRuns: 200 });
});

test('a UTF-8 byte order mark is accepted; a directory is a clear IoError', async () => {
  const path = writeTmpManifest(new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('{"images": []}')]));
  assert.deepEqual((await CocoDataset.load(path)).dataset, { images: [] });
  await assert.rejects(CocoDataset.load(tmp()), (e: Error) => e instanceof IoError && /is a directory/.test(e.message));
});

test('Python reads what we write: json.load of our .json and zipfile + json of our .zip equal the Python originals', { skip: SKIP_WITHOUT_FIXTURES }, async (t) => {
  const dir = tmp();
  const dset = await CocoDataset.load(manifestOf('bundle-stitched'));
  dset.bundleDpath = dir;
  dset.dataset.annotations![0].score = NaN; // Python writes and reads NaN
  await dset.dump(join(dir, 'ours.kwcoco.json'));
  await dset.dump(join(dir, 'ours.kwcoco.zip'));
  const py = spawnSync(GDAL_PYTHON, ['-c', `
import json, math, sys, zipfile
orig = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
with zipfile.ZipFile(sys.argv[3]) as z:
    names = z.namelist()
    zipped = json.loads(z.read(names[0]).decode('utf8'))
assert names == ['ours.kwcoco.json'], names
for d in (ours, zipped):
    assert math.isnan(d['annotations'][0].pop('score'))
assert ours == orig, 'json differs'
assert zipped == orig, 'zip differs'
print('ok')
`, manifestOf('bundle-stitched'), join(dir, 'ours.kwcoco.json'), join(dir, 'ours.kwcoco.zip')], { encoding: 'utf8' });
  if (py.error) return t.skip('python3 unavailable');
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout.trim(), 'ok');
});
