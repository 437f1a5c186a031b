import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { Affine } from '../../src/array/affine.ts';
import type { Raster } from '../../src/array/raster.ts';
import { ValueError } from '../../src/array/errors.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { createVidshapesMsi } from '../../src/coco/demo/vidshapes-msi.ts';
import { gdalinfo, gdalRead } from '../helpers/gdal.ts';
import { sharedPath, skipWithoutShared } from '../helpers/shared.ts';

const SKIP_WITHOUT_SCHEMA = skipWithoutShared('spec', 'coco_schema.json');

const root = mkdtempSync(join(tmpdir(), 'vidshapes-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const OPTS = { numVideos: 2, numFrames: 3, imageSize: 64, geodata: true, seed: 3 } as const;
let dset: CocoDataset;
let manifest: any;

before(async () => {
  dset = await createVidshapesMsi({ ...OPTS, dpath: join(root, 'a') });
  manifest = JSON.parse(readFileSync(join(root, 'a', 'data.kwcoco.json'), 'utf8'));
});

const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

/** Naive even-odd point in polygon (independent of the generator's). */
function inside(poly: number[][], x: number, y: number): boolean {
  let c = false;
  for (let i = 0; i < poly.length; i++) {
    const [x1, y1] = poly[i]!;
    const [x2, y2] = poly[(i + 1) % poly.length]!;
    if ((y1! > y) !== (y2! > y)) {
      const xc = x1! + ((y - y1!) / (y2! - y1!)) * (x2! - x1!);
      if (x < xc) c = !c;
    }
  }
  return c;
}

test('the manifest is written to {dpath}/data.kwcoco.json and returned as a CocoDataset', () => {
  assert.equal(dset.fpath, join(root, 'a', 'data.kwcoco.json'));
  assert.equal(dset.bundleDpath, join(root, 'a'));
  assert.deepEqual(JSON.parse(JSON.stringify(dset.dataset)), manifest);
  assert.equal(manifest.videos.length, 2);
  assert.equal(manifest.images.length, 6);
  assert.deepEqual(manifest.categories.map((c: any) => c.name), ['ellipse', 'rectangle', 'star']);
  assert.deepEqual(dset.index.vidToGids.get(1), [1, 2, 3]);
  assert.deepEqual(manifest.images.map((i: any) => i.frame_index), [0, 1, 2, 0, 1, 2]);
  // video 1 identity, video 2 a 1.5 scale with a 96 x 96 canvas
  assert.deepEqual(manifest.images[0].warp_img_to_vid, { type: 'affine' });
  assert.deepEqual(manifest.images[3].warp_img_to_vid, { scale: 1.5, type: 'affine' });
  assert.deepEqual([manifest.videos[1].width, manifest.videos[1].height], [96, 96]);
  // every image: three assets, one per resolution, channels as documented
  for (const img of manifest.images) {
    const a = assetsOf(img);
    assert.deepEqual(a.map((x) => x.channels), ['r|g|b', 'B1', 'B8|B11']);
    assert.deepEqual(a[0].warp_aux_to_img, { type: 'affine' });
    assert.deepEqual(a[2].warp_aux_to_img, { scale: 3, type: 'affine' });
    assert.deepEqual([a[2].width, a[2].height], [22, 22]);
    assert.ok('theta' in a[1].warp_aux_to_img && 'offset' in a[1].warp_aux_to_img, JSON.stringify(a[1].warp_aux_to_img));
    assert.deepEqual(img.wld_crs_info, { auth: ['EPSG', '32618'], axis_mapping: 'OAMS_TRADITIONAL_GIS_ORDER' });
    assert.equal(img.wld_to_pxl.type, 'affine');
  }
  // annotations: one per shape per frame, tracks continue across the frames of a video
  const perImage = new Map<number, number>();
  for (const ann of manifest.annotations) perImage.set(ann.image_id, (perImage.get(ann.image_id) ?? 0) + 1);
  for (const img of manifest.images) assert.ok((perImage.get(img.id) ?? 0) >= 2);
  const tracks = new Set(manifest.annotations.map((a: any) => a.track_id));
  assert.equal(manifest.annotations.length, tracks.size * 3);
});

test('the manifest validates against kwcoco\'s JSON schema (ajv)', (t) => {
  if (SKIP_WITHOUT_SCHEMA) return t.skip(SKIP_WITHOUT_SCHEMA);
  const schema = JSON.parse(readFileSync(sharedPath('spec', 'coco_schema.json'), 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const ok = validate(manifest);
  assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5)));
});

test('annotations: bbox and segmentation are in image space and agree', () => {
  for (const ann of manifest.annotations) {
    const ext: number[][] = ann.segmentation[0].exterior;
    const xs = ext.map((p) => p[0]!);
    const ys = ext.map((p) => p[1]!);
    const [x, y, w, h] = ann.bbox;
    assert.ok(Math.abs(x - Math.min(...xs)) < 1e-9 && Math.abs(y - Math.min(...ys)) < 1e-9);
    assert.ok(Math.abs(x + w - Math.max(...xs)) < 1e-3 && Math.abs(y + h - Math.max(...ys)) < 1e-3);
    assert.ok(x >= 0 && y >= 0 && x + w <= 64 && y + h <= 64, `bbox ${ann.bbox} inside the 64 x 64 image`);
  }
});

test('every asset exists and GDAL reads it with the size, bands, dtype, CRS and geotransform of the manifest', () => {
  for (const img of manifest.images) {
    const wldFromImg = Affine.coerce(img.wld_to_pxl).inv();
    for (const a of assetsOf(img)) {
      const path = join(root, 'a', a.file_name);
      assert.ok(existsSync(path), path);
      const info = gdalinfo(path);
      assert.deepEqual(info.size, [a.width, a.height], a.file_name);
      assert.equal(info.bands.length, a.num_bands);
      assert.equal(info.bands[0].type, a.channels === 'r|g|b' ? 'Byte' : 'UInt16');
      assert.match(info.coordinateSystem.wkt, /ID\["EPSG",32618\]\]$/);
      const want = wldFromImg.matmul(Affine.coerce(a.warp_aux_to_img)).toGdal();
      info.geoTransform.forEach((v: number, i: number) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `${a.file_name} gt[${i}] ${v} vs ${want[i]}`));
    }
  }
});

test('r|g|b pixels show the annotated shapes (naive point-in-polygon at pixel centres)', () => {
  for (const img of manifest.images) {
    const polys = manifest.annotations.filter((a: any) => a.image_id === img.id).map((a: any) => a.segmentation[0].exterior);
    const { shape, data } = gdalRead(join(root, 'a', assetsOf(img)[0].file_name));
    const [h, w] = shape;
    let mismatches = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inShape = polys.some((p: number[][]) => inside(p, x + 0.5, y + 0.5));
        const o = (y * w + x) * 3;
        const bright = Math.max(data[o]!, data[o + 1]!, data[o + 2]!) > 100;
        if (inShape !== bright) mismatches++;
      }
    }
    assert.ok(mismatches <= 2, `image ${img.id}: ${mismatches} pixels disagree with the annotations`);
  }
});

test('B1 (rotated, scale 1.25) and B8|B11 (scale 3) put the shapes where the warps say', () => {
  for (const img of manifest.images) {
    const anns = manifest.annotations.filter((a: any) => a.image_id === img.id);
    const [, b1, b8] = assetsOf(img);
    const r1 = gdalRead(join(root, 'a', b1.file_name));
    const r8 = gdalRead(join(root, 'a', b8.file_name));
    for (const ann of anns) {
      const ext: number[][] = ann.segmentation[0].exterior;
      const cx = ext.reduce((s, p) => s + p[0]!, 0) / ext.length;
      const cy = ext.reduce((s, p) => s + p[1]!, 0) / ext.length;
      const [[u, v]] = Affine.coerce(b1.warp_aux_to_img).inv().apply([[cx, cy]]);
      const val = r1.data[Math.floor(v!) * r1.shape[1] + Math.floor(u!)]!;
      assert.ok(val > 2500, `B1 at the centre of annotation ${ann.id}: ${val}`);
    }
    // background corner: top-left pixels of the 1/3 asset are background unless a shape is there
    const corner = anns.some((a: any) => a.bbox[0] < 3 && a.bbox[1] < 3);
    if (!corner) assert.ok(r8.data[0]! < 2000, `B8 background ${r8.data[0]}`);
  }
});

test('determinism: the same seed gives the same manifest and pixels; another seed differs', async () => {
  const again = await createVidshapesMsi({ ...OPTS, dpath: join(root, 'b') });
  const m2 = JSON.parse(readFileSync(join(root, 'b', 'data.kwcoco.json'), 'utf8'));
  assert.deepEqual(m2, manifest);
  assert.deepEqual(JSON.parse(JSON.stringify(again.dataset)), manifest);
  for (const img of manifest.images.slice(0, 2)) {
    for (const a of assetsOf(img)) {
      const x = gdalRead(join(root, 'a', a.file_name));
      const y = gdalRead(join(root, 'b', a.file_name));
      assert.deepEqual(y.shape, x.shape);
      assert.ok(x.data.every((v, i) => v === y.data[i]), a.file_name);
    }
  }
  const other = await createVidshapesMsi({ ...OPTS, seed: 4, dpath: join(root, 'c') });
  assert.notDeepEqual(JSON.parse(JSON.stringify(other.dataset)).annotations, manifest.annotations);
});

test('defaults: one video of two 128 px frames without geodata', async () => {
  const d = await createVidshapesMsi({ dpath: join(root, 'd') });
  const m = d.dataset as any;
  assert.equal(m.videos.length, 1);
  assert.equal(m.images.length, 2);
  assert.deepEqual([m.images[0].width, m.images[0].height], [128, 128]);
  assert.ok(!('wld_crs_info' in m.images[0]));
  const info = gdalinfo(join(root, 'd', assetsOf(m.images[0])[0].file_name));
  assert.deepEqual(info.size, [128, 128]);
  assert.ok(!info.coordinateSystem?.wkt, 'no CRS without geodata');
  // [w, h] image size
  const e = await createVidshapesMsi({ dpath: join(root, 'e'), imageSize: [40, 24], numFrames: 1 });
  assert.deepEqual([(e.dataset as any).images[0].width, (e.dataset as any).images[0].height], [40, 24]);
});

test('CocoDataset.demo("vidshapes-msi") delegates here', async () => {
  const d = await CocoDataset.demo('vidshapes-msi', { dpath: join(root, 'f'), numFrames: 1, imageSize: 32, seed: 9 });
  assert.equal(d.fpath, join(root, 'f', 'data.kwcoco.json'));
  assert.equal(d.imageIds().length, 1);
});

/** Runs the generator with an in-memory writer (no files): path -> {raster, options}. */
async function inMemory(opts: Parameters<typeof createVidshapesMsi>[0]) {
  const written = new Map<string, { raster: Raster; options: any }>();
  const d = await createVidshapesMsi(opts, { writeCog: async (path, raster, options) => { written.set(path, { raster, options }); } });
  return { d, written };
}

test('injected writer: one raster per asset with the manifest size, bands, dtype and georeference', async () => {
  const dpath = join(root, 'mem');
  const { d, written } = await inMemory({ ...OPTS, dpath });
  const m = d.dataset as any;
  assert.equal(written.size, m.images.length * 3);
  for (const img of m.images) {
    const wldFromImg = Affine.coerce(img.wld_to_pxl).inv();
    for (const a of assetsOf(img)) {
      const w = written.get(join(dpath, a.file_name));
      assert.ok(w, a.file_name);
      assert.deepEqual(w.raster.shape, [a.height, a.width, a.num_bands]);
      assert.equal(w.raster.dtype, a.channels === 'r|g|b' ? 'uint8' : 'uint16');
      assert.equal(w.options.epsg, 32618);
      assert.ok(w.options.transform.equals(wldFromImg.matmul(Affine.coerce(a.warp_aux_to_img)), 1e-9));
    }
  }
  // the manifest is still written (by the dataset layer)
  assert.ok(existsSync(join(dpath, 'data.kwcoco.json')));
});

test('injected writer: r|g|b pixels show the annotated shapes; same seed, same pixels', async () => {
  const a = await inMemory({ ...OPTS, dpath: join(root, 'mem1') });
  const b = await inMemory({ ...OPTS, dpath: join(root, 'mem2') });
  const ma = a.d.dataset as any;
  assert.deepEqual(JSON.parse(JSON.stringify(b.d.dataset)), JSON.parse(JSON.stringify(ma)));
  for (const img of ma.images) {
    for (const asset of assetsOf(img)) {
      const ra = a.written.get(join(root, 'mem1', asset.file_name))!.raster;
      const rb = b.written.get(join(root, 'mem2', asset.file_name))!.raster;
      assert.ok(ra.data.every((v, i) => v === rb.data[i]), `${asset.file_name} differs between runs`);
    }
    const polys = ma.annotations.filter((x: any) => x.image_id === img.id).map((x: any) => x.segmentation[0].exterior);
    const r = a.written.get(join(root, 'mem1', assetsOf(img)[0].file_name))!.raster;
    let mismatches = 0;
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const inShape = polys.some((p: number[][]) => inside(p, x + 0.5, y + 0.5));
        const bright = Math.max(r.get(y, x, 0), r.get(y, x, 1), r.get(y, x, 2)) > 100;
        if (inShape !== bright) mismatches++;
      }
    }
    assert.ok(mismatches <= 2, `image ${img.id}: ${mismatches} pixels disagree with the annotations`);
  }
  const c = await inMemory({ ...OPTS, seed: 99, dpath: join(root, 'mem3') });
  assert.notDeepEqual((c.d.dataset as any).annotations, ma.annotations);
});

test('bad options are ValueErrors naming the option', async () => {
  await assert.rejects(createVidshapesMsi({} as never), (e: unknown) => e instanceof ValueError && /needs dpath/.test((e as Error).message));
  await assert.rejects(createVidshapesMsi({ dpath: root, imageSize: 4 }), /imageSize must be an integer >= 8 or \[width, height\] of such, got 4/);
  await assert.rejects(createVidshapesMsi({ dpath: root, numFrames: 0 }), /numFrames must be an integer >= 1, got 0/);
  await assert.rejects(createVidshapesMsi({ dpath: root, seed: 1.5 }), /seed must be an integer, got 1.5/);
  await assert.rejects(createVidshapesMsi({ dpath: root, geodata: 'yes' } as never), /geodata must be a boolean/);
});
