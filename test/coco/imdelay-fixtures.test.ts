/**
 * imdelay(...).finalize() against every request Python kwcoco answered in
 * ../shared/fixtures/kwcoco-py (README C1-C9): nearest and plain linear
 * bit for bit (NaN positions included), antialiased linear within the
 * README's tolerance (1e-6 for float sources, 1 DN for integer ones, because
 * OpenCV's blur kernels are not reproduced bit for bit). Entries where Python
 * warped by the inverse matrix (C3c) or raised IndexError (C3b) are defects
 * we do not port: they get their own checks below. Crops equal the crop of
 * the whole result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { ChannelError, CoordinateCompatibilityError } from '../../src/coco/errors.ts';
import { ChannelSpec } from '../../src/coco/channel-spec.ts';
import { openRaster, readRaster } from '../../src/io/read-raster.ts';
import { slice } from '../../src/array/slices.ts';
import type { Raster } from '../../src/array/raster.ts';
import { entryName, expectedArray, fixtureEntries, KWCOCO_FIXTURES, SKIP_WITHOUT_FIXTURES, type FixtureEntry } from '../helpers/kwcoco-fixtures.ts';

const ENTRIES = fixtureEntries();
const datasets = new Map<string, Promise<CocoDataset>>();
function dataset(manifest: string): Promise<CocoDataset> {
  let d = datasets.get(manifest);
  if (!d) datasets.set(manifest, (d = CocoDataset.load(join(KWCOCO_FIXTURES, manifest))));
  return d;
}

const isAltMatrix = (e: FixtureEntry) => (e.nearest_paths ?? []).includes('cv2_warp_alt_matrix');
const isIndexError = (e: FixtureEntry) => (e.error ?? '').startsWith('IndexError');

async function load(e: FixtureEntry): Promise<Raster> {
  const d = await dataset(e.manifest);
  return d.cocoImage(e.image_id).imdelay({ channels: e.channels, space: e.space, interpolation: e.interpolation }).finalize();
}

/** Per output band: the absolute tolerance the README allows (0 unless antialiased). */
async function bandTolerances(e: FixtureEntry): Promise<number[]> {
  const names = ChannelSpec.coerce(e.channels).fuse().parsed;
  if (!(e.resample ?? []).includes('linear_aa')) return names.map(() => 0);
  const img = (await dataset(e.manifest)).cocoImage(e.image_id);
  const out: number[] = [];
  for (const name of names) {
    const asset = img.assets.find((a) => typeof a.channels === 'string' && ChannelSpec.coerce(a.channels).fuse().parsed.includes(name));
    if (!asset) { out.push(0); continue; }
    const f = await openRaster(img.resolvePath(asset.file_name));
    const intSource = !asset.quantization && !f.dtype.startsWith('float');
    await f.close();
    out.push(intSource ? 1 : 1e-6);
  }
  return out;
}

interface Agreement { maxAbs: number; maxAbsFloat: number; nanMismatch: number; over: number }

function agreement(ours: Raster, exp: Float32Array, tol: number[]): Agreement {
  const c = ours.bands;
  let maxAbs = 0, maxAbsFloat = 0, nanMismatch = 0, over = 0;
  for (let i = 0; i < exp.length; i++) {
    const a = ours.data[i]!, b = exp[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) !== Number.isNaN(b)) nanMismatch++;
      continue;
    }
    const d = Math.abs(a - b);
    if (d > maxAbs) maxAbs = d;
    if (tol[i % c]! < 1 && d > maxAbsFloat) maxAbsFloat = d;
    if (d > tol[i % c]!) over++;
  }
  return { maxAbs, maxAbsFloat, nanMismatch, over };
}

const worst = new Map<string, number>();

test('fixture integrity: every asset loaded as stored (asset space, no warp) has the statistics index.json recorded', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  // A failure here means a fixture FILE changed after Python wrote index.json (e.g. a test that wrote
  // into the shared fixture folder), not that the resampling is wrong.
  const changed: string[] = [];
  for (const e of ENTRIES) {
    if (e.error || e.space !== 'asset' || (e.resample ?? []).length > 0 || e.kind !== 'asset') continue;
    const r = await load(e);
    let n = 0, nan = 0, sum = 0, min = Infinity, max = -Infinity;
    for (const v of r.data) {
      if (Number.isNaN(v)) { nan++; continue; }
      n++; sum += v; if (v < min) min = v; if (v > max) max = v;
    }
    const x = e as FixtureEntry & { min: number | null; max: number | null; mean: number | null; nan_count: number };
    const close = (a: number, b: number | null) => b !== null && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
    if (nan !== x.nan_count || (n > 0 && !(close(min, x.min) && close(max, x.max) && close(sum / n, x.mean)))) {
      const img = (await dataset(e.manifest)).cocoImage(e.image_id);
      const files = img.assets.filter((a) => typeof a.channels === 'string' && e.channels.split('|').some((c) => ChannelSpec.coerce(a.channels!).fuse().parsed.includes(c))).map((a) => a.file_name);
      changed.push(`${entryName(e)} (${files.join(', ')}): nan ${nan} vs ${x.nan_count}, min ${min} vs ${x.min}, max ${max} vs ${x.max}, mean ${sum / n} vs ${x.mean}`);
    }
  }
  assert.deepEqual(changed, [], `fixture files modified since generation:\n${changed.join('\n')}`);
});

for (const e of ENTRIES) {
  if (e.error || isAltMatrix(e)) continue;
  test(`matches Python: ${entryName(e)} [${(e.resample ?? ['no warp']).join(',')}]`, async () => {
    const ours = await load(e);
    assert.deepEqual([...ours.shape], e.shape);
    // dtype: Python's, except float64 (a missing channel) which is float32 here
    assert.equal(ours.dtype, e.dtype === 'float64' ? 'float32' : e.dtype);
    const tol = await bandTolerances(e);
    const r = agreement(ours, expectedArray(e), tol);
    if ((e.resample ?? []).includes('linear_aa')) {
      worst.set('linear_aa (all sources)', Math.max(worst.get('linear_aa (all sources)') ?? 0, r.maxAbs));
      worst.set('linear_aa (float sources)', Math.max(worst.get('linear_aa (float sources)') ?? 0, r.maxAbsFloat));
    } else {
      worst.set(e.interpolation, Math.max(worst.get(e.interpolation) ?? 0, r.maxAbs));
    }
    assert.equal(r.nanMismatch, 0, `NaN positions differ at ${r.nanMismatch} samples`);
    assert.equal(r.over, 0, `max abs error ${r.maxAbs} exceeds tolerance ${Math.max(...tol)}`);
  });
}

test('worst absolute error per sampler (report)', { skip: SKIP_WITHOUT_FIXTURES }, (t) => {
  for (const [k, v] of worst) t.diagnostic(`${k}: max abs error ${v}`);
  assert.equal(worst.get('nearest') ?? 0, 0);
  assert.equal(worst.get('linear') ?? 0, 0);
  assert.ok((worst.get('linear_aa (float sources)') ?? 0) <= 1e-6);
});

test('crop() equals the crop of the whole result (every answered request, 3 crops each)', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  let seed = 12345;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (const e of ENTRIES) {
    if (e.error) continue;
    const d = await dataset(e.manifest);
    const delayed = d.cocoImage(e.image_id).imdelay({ channels: e.channels, space: e.space, interpolation: e.interpolation });
    const full = await delayed.finalize();
    const [h, w] = full.shape;
    for (let k = 0; k < 3; k++) {
      const y0 = k === 0 ? 0 : rand(h), x0 = k === 0 ? 0 : rand(w);
      const y1 = k === 1 ? h : y0 + 1 + rand(h - y0), x1 = k === 1 ? w : x0 + 1 + rand(w - x0);
      const part = await delayed.crop([slice(y0, y1), slice(x0, x1)]).finalize();
      const ref = full.crop(y0, x0, y1 - y0, x1 - x0);
      assert.equal(part.dtype, ref.dtype);
      assert.deepEqual(part.shape, ref.shape);
      for (let i = 0; i < ref.data.length; i++) {
        const a = part.data[i]!, b = ref.data[i]!;
        if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) {
          assert.fail(`${entryName(e)} crop rows ${y0}..${y1} cols ${x0}..${x1}: sample ${i} is ${a}, whole result has ${b}`);
        }
      }
    }
  }
});

test('crop of a crop composes', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const d = await dataset('bundle-msi/data.kwcoco.json');
  const delayed = d.cocoImage(1).imdelay({ channels: 'r|g|b', space: 'video' });
  const full = await delayed.finalize();
  const cc = delayed.crop([slice(5, 50), slice(10, 60)]).crop([slice(3, 20), slice(null, -5)]);
  assert.deepEqual(cc.shape, [17, 45, 3]);
  const r = await cc.finalize();
  assert.deepEqual(r.data, full.crop(8, 10, 17, 45).data);
});

test('a missing channel is an all-NaN float32 band by default (C8): every `missing` entry of the index, image and asset space', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const missing = ENTRIES.filter((e) => e.kind === 'missing' && !e.error);
  assert.ok(missing.length >= 17, `${missing.length} missing entries`);
  const spaces = new Set<string>();
  for (const e of missing) {
    const r = await load(e);
    spaces.add(e.space);
    assert.deepEqual([...r.shape], e.shape, entryName(e));
    assert.equal(r.dtype, 'float32', entryName(e));
    const names = ChannelSpec.coerce(e.channels).fuse().parsed;
    const nb = names.indexOf('nonexistent');
    // the missing band is NaN everywhere; the present one equals what the image's asset gives alone
    let nan = 0;
    for (let i = nb; i < r.data.length; i += r.bands) if (Number.isNaN(r.data[i]!)) nan++;
    assert.equal(nan, r.height * r.width, entryName(e));
    assert.equal(e.nan_count, r.height * r.width, `${entryName(e)}: Python's NaN count is the missing band's alone`);
    const alone = await (await dataset(e.manifest)).cocoImage(e.image_id)
      .imdelay({ channels: names[1 - nb], space: e.space, interpolation: e.interpolation }).finalize();
    for (let p = 0; p < alone.data.length; p++) {
      const a = r.data[p * 2 + (1 - nb)]!, b = alone.data[p]!;
      assert.ok(a === b || (Number.isNaN(a) && Number.isNaN(b)), `${entryName(e)} pixel ${p}: ${a} vs ${b}`);
    }
  }
  assert.deepEqual([...spaces].sort(), ['asset', 'image']);
});

test("a missing channel in video space: an all-NaN band on the video canvas beside the warped present band (Python's qu8 video result)", { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  // probe image 2: video canvas 34x26, warp_img_to_vid scale 2 offset (1, 1); the index has qu8 alone in video space
  const ref = ENTRIES.find((e) => e.bundle === 'bundle-probe' && e.image_id === 2 && e.channels === 'qu8' && e.space === 'video' && e.interpolation === 'linear' && e.file)!;
  assert.ok(ref);
  const img = (await dataset(ref.manifest)).cocoImage(2);
  for (const channels of ['qu8|nonexistent', 'nonexistent|qu8']) {
    const r = await img.imdelay({ channels, space: 'video' }).finalize();
    const video = img.video!;
    assert.deepEqual(r.shape, [video.height, video.width, 2]);
    assert.equal(r.dtype, 'float32');
    const exp = expectedArray(ref);
    const present = channels.startsWith('qu8') ? 0 : 1;
    for (let p = 0; p < exp.length; p++) {
      assert.ok(Number.isNaN(r.data[p * 2 + 1 - present]!), `${channels} pixel ${p}: missing band not NaN`);
      const a = r.data[p * 2 + present]!, b = exp[p]!;
      assert.ok(a === b || (Number.isNaN(a) && Number.isNaN(b)), `${channels} pixel ${p}: ${a} vs Python's ${b}`);
    }
  }
  // only missing channels: an all-NaN image of the canvas (image and video space)
  for (const space of ['image', 'video'] as const) {
    const r = await img.imdelay({ channels: 'nope1|nope2', space }).finalize();
    const [w, h] = space === 'image' ? [img.img.width!, img.img.height!] : [img.video!.width!, img.video!.height!];
    assert.deepEqual(r.shape, [h, w, 2]);
    assert.ok(r.data.every((v) => Number.isNaN(v)), space);
  }
  // crops of it are the same NaN band
  const crop = await img.imdelay({ channels: 'qu8|nonexistent', space: 'video' }).crop([slice(3, 9), slice(5, 20)]).finalize();
  assert.deepEqual(crop.shape, [6, 15, 2]);
  for (let i = 1; i < crop.data.length; i += 2) assert.ok(Number.isNaN(crop.data[i]!));
});

test("missing: 'error' keeps the strict mode: a ChannelError naming the channel and what the image has", { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const missing = ENTRIES.filter((e) => e.kind === 'missing' && !e.error);
  assert.ok(missing.length > 0);
  for (const e of missing) {
    const img = (await dataset(e.manifest)).cocoImage(e.image_id);
    assert.throws(() => img.imdelay({ channels: e.channels, space: e.space, interpolation: e.interpolation, missing: 'error' }), (err: unknown) => {
      assert.ok(err instanceof ChannelError);
      assert.match(err.message, /nonexistent/);
      assert.ok(err.message.includes(img.channels.spec), err.message);
      return true;
    });
  }
  // 'asset' space with no channel an asset holds has no asset to take the size of
  const img = (await dataset('bundle-probe/data.kwcoco.json')).cocoImage(1);
  assert.throws(() => img.imdelay({ channels: 'nonexistent', space: 'asset' }), (err: unknown) => err instanceof ChannelError && /'asset' space needs at least one channel/.test(err.message));
});

test("'asset' space over several assets: CoordinateCompatibilityError, as Python", { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const errs = ENTRIES.filter((e) => (e.error ?? '').startsWith('CoordinateCompatibilityError'));
  assert.ok(errs.length >= 9);
  for (const e of errs) {
    const img = (await dataset(e.manifest)).cocoImage(e.image_id);
    assert.throws(() => img.imdelay({ channels: e.channels, space: e.space, interpolation: e.interpolation }), CoordinateCompatibilityError, entryName(e));
  }
});

test('C3b IndexError cases load here: the axis-aligned nearest sampler with the border past the edge', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const errs = ENTRIES.filter(isIndexError);
  assert.equal(errs.length, 8);
  for (const e of errs) {
    const r = await load(e);
    const d = await dataset(e.manifest);
    const video = d.cocoImage(e.image_id).video!;
    assert.deepEqual(r.shape.slice(0, 2), [video.height, video.width], entryName(e));
  }
  // independent check on the float32 identity asset of probe image 2 (video warp: scale 2, offset 1):
  // video pixel x samples image column floor((x - 1) / 2); columns >= 16 (Python's IndexError) are NaN here
  const e = errs.find((x) => x.channels === 'qf32')!;
  const r = await load(e);
  const img = (await dataset(e.manifest)).cocoImage(2);
  const src = (await readRaster(img.resolvePath(img.assets.find((a) => a.channels === 'qf32')!.file_name))).raster;
  const [H, W] = r.shape;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = Math.floor((x - 1) / 2), sy = Math.floor((y - 1) / 2);
      const inside = sx >= 0 && sy >= 0 && sx < src.width && sy < src.height;
      const want = inside ? src.get(sy, sx, 0) : NaN;
      const got = r.get(y, x, 0);
      assert.ok(got === want || (Number.isNaN(got) && Number.isNaN(want)), `(${y}, ${x}): ${got} vs ${want}`);
    }
  }
});

test('C3c: where Python warped nearest by the inverse matrix, we warp by the forward one (the linear result agrees)', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
  const alt = ENTRIES.filter(isAltMatrix);
  assert.ok(alt.length >= 9);
  for (const e of alt) {
    if (e.resample?.length !== 1) continue;
    // the nearest result must lie, where both are valid, within the value range of the 2x2 neighbourhood
    // the linear warp used: compare with Python's own linear result of the same request
    const lin = ENTRIES.find((x) => x.manifest === e.manifest && x.image_id === e.image_id && x.channels === e.channels && x.space === e.space && x.interpolation === 'linear' && x.file);
    if (!lin) continue;
    const ours = await load(e);
    const pyLinear = expectedArray(lin);
    let both = 0, close = 0;
    for (let i = 0; i < pyLinear.length; i++) {
      const a = ours.data[i]!, b = pyLinear[i]!;
      if (Number.isNaN(b) || a === 0) continue;
      both++;
      if (Math.abs(a - b) <= 0.35 * (ours.dtype === 'uint16' ? 65535 : 255)) close++;
    }
    assert.ok(both > 0 && close / both > 0.9, `${entryName(e)}: only ${close}/${both} nearest samples near Python's linear result`);
  }
});
