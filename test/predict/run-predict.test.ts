/**
 * runPredict as a library (what the distributed runner uses) and the
 * predict command's behaviour on re-runs, mixed manifests, NaN / Inf from
 * models, memory bombs in its options, outputs it cannot write and failures
 * part-way. Values are checked against GDAL's reading of the input and a
 * model whose output is known in closed form (y = r / 255).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { attr, buildOnnxModel, buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { runPredict, type PredictProgress } from '../../src/predict/run-predict.ts';
import { loadModel } from '../../src/predict/model.ts';
import { PartialResultError } from '../../src/predict/errors.ts';
import { ModelLane } from '../../src/predict/model-lane.ts';
import { SourceCache } from '../../src/predict/source-cache.ts';
import { WriterQueue } from '../../src/stitch/writer-queue.ts';
import type { Model } from '../../src/predict/model.ts';
import { gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];
const HALF_STEP = 1 / 32767 / 2;
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO, 'src', 'cli', 'main.ts');

/** Checks that image `img`'s asset of `channels` is r / 255 of its r|g|b input, read by GDAL (within half a quantization step). */
function assertRedOver255(dst: string, img: any, input: CocoDataset, channels = 'pred.0'): void {
  const pred = assetsOf(img).find((a) => a.channels === channels);
  assert.ok(pred, `image ${img.id} has no ${channels} asset`);
  // frames of the second video are scaled 1.5 into video space: their values go through resampling (checked by the manager's tests)
  if (pred.width !== img.width) return;
  const got = gdalRead(resolve(dirname(dst), pred.file_name));
  const rgbAsset = assetsOf(input.index.imgs.get(img.id)).find((a: any) => a.channels === 'r|g|b');
  const rgb = gdalRead(resolve(input.bundleDpath, rgbAsset.file_name));
  assert.deepEqual(got.shape, [img.height, img.width, 1]);
  const q = pred.quantization;
  const scale = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
  for (let p = 0; p < img.height * img.width; p++) {
    const v = (got.data[p] - q.quant_min) * scale + q.orig_min;
    assert.ok(Math.abs(v - rgb.data[p * 3] / 255) <= HALF_STEP + 1e-6, `image ${img.id} pixel ${p}: ${v} vs ${rgb.data[p * 3] / 255}`);
  }
}

describe('runPredict', needsOrt, () => {
  let root: string;
  let src: string;
  let red: string;
  const base = () => ({ channels: 'r|g|b', window: 16, overlap: 0.25, expectedMinmax: [0, 1] as [number, number], model: red });
  before(async () => {
    root = scratchDir('run-predict-');
    const dset = await CocoDataset.demo('vidshapes-msi', { numVideos: 2, numFrames: 2, imageSize: 32, geodata: true, dpath: join(root, 'input'), seed: 3 });
    src = dset.fpath!;
    red = join(root, 'red.onnx');
    writeFileSync(red, buildPointwiseModel([[1 / 255, 0, 0]], [0]));
  });

  it('imageIds, writeManifest: false, onProgress per batch and image, a loaded Model kept open, summary.dataset', async () => {
    const model = await loadModel(red);
    const dst = join(root, 'some', 'out.kwcoco.json');
    const calls: PredictProgress[] = [];
    try {
      const input = await CocoDataset.load(src);
      const [g1, g2, g3] = input.imageIds();
      const summary = await runPredict({
        ...base(), src, dst, model, imageIds: [g3, g1], writeManifest: false, batchSize: 3,
        onProgress: (p) => calls.push({ ...p }),
      });
      assert.equal(existsSync(dst), false, 'no manifest written');
      assert.equal(summary.images, 2);
      const got = summary.dataset;
      for (const gid of input.imageIds()) {
        const has = assetsOf(got.index.imgs.get(gid)).some((a) => a.channels === 'pred.0');
        assert.equal(has, gid === g1 || gid === g3, `image ${gid}`);
        if (has) assertRedOver255(dst, got.index.imgs.get(gid), input);
      }
      // the others as they were, their files found from the output's folder
      assert.deepEqual(assetsOf(got.index.imgs.get(g2)), assetsOf(input.index.imgs.get(g2)).map((a) => ({ ...a, file_name: resolve(input.bundleDpath, a.file_name) })));
      // per batch and per image, never per window: 16 px windows at 0.25 overlap start at 0, 12, 16 over 32 px
      // (image g1) and at 0, 12, 24, 32 over 48 px (image g3, its video is scaled 1.5): 9 + 16 windows, batches of 3
      const last = calls.at(-1)!;
      assert.deepEqual(last, { windowsDone: 25, windowsTotal: 25, imagesDone: 2, imagesTotal: 2 });
      assert.ok(calls.length <= Math.ceil(25 / 3) + 2, `${calls.length} progress calls`);
      for (let i = 1; i < calls.length; i++) {
        assert.ok(calls[i].windowsDone >= calls[i - 1].windowsDone && calls[i].imagesDone >= calls[i - 1].imagesDone);
      }
      // the caller's model is still open
      const out = await model.run(new Float32Array(3 * 4), [1, 3, 2, 2]);
      assert.deepEqual(out.dims, [1, 1, 2, 2]);
    } finally {
      await model.close();
    }
  });

  it('runs sharing a model turn, a writer queue and the parsed src (a worker\'s shards): the model goes to the next run before the first one\'s writes end; output as one run', async () => {
    const model = await loadModel(red);
    const lane = new ModelLane(1);
    const writerQueue = new WriterQueue({ maxInFlight: 2 });
    const sources = new SourceCache();
    const dst = join(root, 'shared', 'out.kwcoco.json');
    const events: string[] = [];
    // the same loaded model, seen through one wrapper per run to tell whose batch it runs
    const seenAs = (name: string): Model => ({ ...model, run: (b, d, t) => { events.push(`model ${name}`); return model.run(b, d, t); } });
    try {
      const cached = await sources.load(src, { dst });
      const before = JSON.stringify(cached.dataset);
      const [videoA, videoB] = [...cached.index.vidToGids.values()];
      const run = (name: string, imageIds: number[]) => {
        const modelTurn = lane.take();
        void modelTurn.ready.then(() => events.push(`turn ${name}`));
        return runPredict({
          ...base(), src, dst, model: seenAs(name), imageIds: [...imageIds], writeManifest: false, batchSize: 2,
          shared: { modelTurn, writerQueue, loadSource: sources.load },
          onProgress: (p) => { if (p.imagesDone === p.imagesTotal && !events.includes(`written ${name}`)) events.push(`written ${name}`); },
        });
      };
      const [a, b] = await Promise.all([run('A', videoA), run('B', videoB)]);
      // every batch of A before any of B; B's turn came before A's last image was written
      const models = events.filter((e) => e.startsWith('model')).join(',');
      assert.match(models, /^(model A,)+(model B,)*model B$/, models);
      assert.ok(events.includes('written A'));
      assert.ok(events.indexOf('turn B') < events.indexOf('written A'), events.join(', '));
      assert.equal(JSON.stringify(cached.dataset), before, 'a run changed the cached src');
      assert.ok(writerQueue.peakInFlight <= 2);

      const ref = join(root, 'shared-ref', 'out.kwcoco.json');
      const whole = await runPredict({ ...base(), src, dst: ref, model, batchSize: 2, writeManifest: false });
      for (const [summary, gids] of [[a, videoA], [b, videoB]] as const) {
        for (const gid of gids) {
          const got = summary.dataset.index.imgs.get(gid);
          const want = whole.dataset.index.imgs.get(gid);
          assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(want)), `image ${gid}`);
          const file = assetsOf(want).find((x) => x.channels === 'pred.0').file_name;
          assert.ok(readFileSync(resolve(dirname(dst), file)).equals(readFileSync(resolve(dirname(ref), file))), `${file} differs`);
        }
      }
    } finally {
      await model.close();
    }
  });

  it('bad imageIds are refused naming the id', async () => {
    const dst = join(root, 'bad-ids', 'out.kwcoco.json');
    await assert.rejects(runPredict({ ...base(), src, dst, imageIds: [999] }), /image 999 is not in/);
    await assert.rejects(runPredict({ ...base(), src, dst, imageIds: [1, 1] }), /lists image 1 twice/);
    await assert.rejects(runPredict({ ...base(), src, dst, imageIds: [1.5] }), /integer image ids, got 1.5/);
  });

  it('re-running replaces this channel code\'s assets (src = dst, on its own output elsewhere) and keeps relative paths relative', async () => {
    const bundle = join(root, 'rerun');
    cpSync(dirname(src), bundle, { recursive: true });
    const manifest = join(bundle, 'data.kwcoco.json');
    const before = JSON.parse(readFileSync(manifest, 'utf8'));
    const input = await CocoDataset.load(manifest);
    for (let run = 0; run < 3; run++) {
      const r = await runCli(['predict', '--src', manifest, '--dst', manifest, '--model', red, '--channels', 'r|g|b',
        '--window', '16', '--expected-minmax', '0,1', '--no-progress']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(readFileSync(manifest, 'utf8'));
      for (const img of out.images) {
        const preds = assetsOf(img).filter((a) => a.channels === 'pred.0');
        assert.equal(preds.length, 1, `run ${run}, image ${img.id}: ${preds.length} pred.0 assets`);
        assert.equal(preds[0].file_name.startsWith('_assets/pred/'), true, preds[0].file_name);
        const old = before.images.find((i: any) => i.id === img.id);
        // the inputs' file names are exactly as they were
        assert.deepEqual(assetsOf(img).filter((a) => a.channels !== 'pred.0').map((a) => a.file_name), assetsOf(old).map((a: any) => a.file_name));
        assertRedOver255(manifest, img, input);
      }
      assert.deepEqual(readdirSync(join(bundle, '_assets', 'pred')).length, out.images.length);
    }
    // its own output as input, written to another folder: one asset each; files inside the new folder relative, inputs absolute
    const other = join(root, 'rerun-elsewhere', 'out.kwcoco.json');
    const r = await runCli(['predict', '--src', manifest, '--dst', other, '--model', red, '--channels', 'r|g|b',
      '--window', '16', '--expected-minmax', '0,1', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(readFileSync(other, 'utf8'));
    for (const img of out.images) {
      const preds = assetsOf(img).filter((a) => a.channels === 'pred.0');
      assert.equal(preds.length, 1);
      assert.equal(preds[0].file_name.startsWith('_assets/pred/'), true, preds[0].file_name);
      for (const a of assetsOf(img).filter((x) => x.channels !== 'pred.0')) {
        assert.ok(isAbsolute(a.file_name) && existsSync(a.file_name), a.file_name);
      }
    }
    const v = await runCli(['validate', other]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  it('video space: images without a video are stitched in image space next to the video frames', async () => {
    const bundle = join(root, 'mixed');
    cpSync(dirname(src), bundle, { recursive: true });
    const manifest = join(bundle, 'data.kwcoco.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    // two loose images: copies of frames of both videos (the second video is scaled 1.5 into video space)
    for (const [k, img] of [m.images[0], m.images.at(-1)].entries()) {
      const loose = structuredClone(img);
      loose.id = 100 + k;
      loose.name = `loose-${k}`;
      delete loose.video_id; delete loose.frame_index; delete loose.warp_img_to_vid;
      m.images.push(loose);
    }
    writeFileSync(manifest, JSON.stringify(m));
    const dst = join(bundle, 'out.kwcoco.json');
    const r = await runCli(['predict', '--src', manifest, '--dst', dst, '--model', red, '--channels', 'r|g|b',
      '--window', '16', '--expected-minmax', '0,1', '--space', 'video', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const input = await CocoDataset.load(manifest);
    assert.equal(out.images.length, m.images.length);
    for (const img of out.images.filter((i: any) => i.video_id === undefined)) {
      const pred = assetsOf(img).find((a) => a.channels === 'pred.0');
      assert.deepEqual([pred.width, pred.height, pred.warp_aux_to_img], [img.width, img.height, { type: 'affine' }]);
      assertRedOver255(dst, img, input);
    }
    for (const img of out.images) assert.ok(assetsOf(img).some((a) => a.channels === 'pred.0'), `image ${img.id}`);
  });

  it('a model that outputs NaN everywhere: a warning per image, the summary says so, exit 0; --nan-policy raise stops', async () => {
    const nan = join(root, 'nan.onnx');
    writeFileSync(nan, buildPointwiseModel([[1, 0, 0]], [NaN]));
    const dst = join(root, 'nan', 'out.kwcoco.json');
    const args = ['predict', '--src', src, '--dst', dst, '--model', nan, '--channels', 'r|g|b', '--window', '16', '--no-progress'];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/^warning: image \d+ .*NaN for every value of its windows; its asset is all nodata$/gm)?.length, 4, r.stderr);
    assert.match(r.stdout, /4 image\(s\) all nodata: the model output no finite value for them \(image ids 1, 2, 3, 4\)/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    for (const img of out.images) {
      const pred = assetsOf(img).find((a) => a.channels === 'pred.0');
      const g = gdalRead(resolve(dirname(dst), pred.file_name));
      assert.ok(g.data.every((v: number) => v === pred.quantization.nodata));
    }
    const raise = await runCli([...args, '--nan-policy', 'raise', '--dst', join(root, 'nan-raise', 'out.kwcoco.json')]);
    assert.equal(raise.code, 2, raise.stderr);
    assert.match(raise.stderr, /the model output NaN at output pixel \(0, 0\) band 0 of the window at rows 0:16, cols 0:16 of image 1 .*--nan-policy raise/);
    // NaN on part of the image only (sqrt of r / 255 - 0.5): no warning
    const half = join(root, 'half-nan.onnx');
    writeFileSync(half, buildOnnxModel({
      inputs: [{ name: 'x', shape: ['N', 3, 'H', 'W'] }],
      outputs: [{ name: 'y', shape: ['N', 1, 'H', 'W'] }],
      initializers: [{ name: 'w', dims: [1, 3, 1, 1], data: Float32Array.from([1 / 255, 0, 0]) }, { name: 'b', dims: [1], data: Float32Array.from([-0.5]) }],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attributes: { kernel_shape: attr.ints([1, 1]) } },
        { op: 'Sqrt', inputs: ['c'], outputs: ['y'] },
      ],
    }));
    const partly = await runCli([...args.slice(0, 5), '--model', half, '--channels', 'r|g|b', '--window', '16', '--no-progress', '--dst', join(root, 'half', 'out.kwcoco.json')]);
    assert.equal(partly.code, 0, partly.stderr);
    assert.doesNotMatch(partly.stderr + partly.stdout, /nodata|warning/);
  });

  it('Inf from the model: an error naming --inf-policy by default; --inf-policy omit writes nodata and warns', async () => {
    const inf = join(root, 'inf.onnx');
    writeFileSync(inf, buildPointwiseModel([[1, 0, 0]], [Infinity]));
    const args = ['predict', '--src', src, '--model', inf, '--channels', 'r|g|b', '--window', '16', '--no-progress'];
    const r = await runCli([...args, '--dst', join(root, 'inf', 'out.kwcoco.json')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the model output Infinity at .* of image 1 .*--inf-policy omit gives such values no weight/);
    assert.ok(!existsSync(join(root, 'inf', 'out.kwcoco.json')));
    const omit = await runCli([...args, '--dst', join(root, 'inf-omit', 'out.kwcoco.json'), '--inf-policy', 'omit']);
    assert.equal(omit.code, 0, omit.stderr);
    assert.equal(omit.stderr.match(/Inf for every value/g)?.length, 4, omit.stderr);
    const bad = await runCli([...args, '--dst', join(root, 'inf-bad', 'out.kwcoco.json'), '--inf-policy', 'ignore']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--inf-policy.*ignore/);
  });

  it('sizes from options: each works in bounded memory or stops at once naming the option and the limit', async () => {
    const dst = join(root, 'bombs', 'out.kwcoco.json');
    const base = ['predict', '--src', src, '--dst', dst, '--model', red, '--channels', 'r|g|b', '--expected-minmax', '0,1', '--no-progress'];
    const refused: [string[], RegExp][] = [
      [['--input-scale', '1000'], /--input-scale 1000 .*32000 x 32000 pixels.*over the memory budget of 64 MiB/],
      [['--output-scale', '500', '--window', '16'], /--output-scale 500 .*16000 x 16000 pixels.*over the memory budget/],
      [['--input-scale', '0.0001', '--window', '1'], /leaves no pixel to predict/],
      [['--memory-budget', '0.1', '--window', '32', '--batch-size', '100000000'], /--batch-size 100000000 windows of --window 32 .*over the memory budget of 0\.10 MiB/],
      [['--memory-budget', '-3'], /--memory-budget must be a positive number of MiB, got "-3"/],
    ];
    for (const [extra, re] of refused) {
      const argv = [...base, '--memory-budget', '64', ...extra];
      const r = await runCli(argv);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, extra.join(' '));
      assert.ok(!existsSync(dirname(dst)), `${extra.join(' ')}: nothing written`);
    }
    // clipped to the image / to the windows there are: these work
    for (const extra of [['--window', '1e9'], ['--window', '12000'], ['--batch-size', '1e8', '--window', '16']]) {
      const r = await runCli([...base, '--memory-budget', '64', ...extra]);
      assert.equal(r.code, 0, `${extra.join(' ')}: ${r.stderr}`);
      const out = JSON.parse(readFileSync(dst, 'utf8'));
      const input = await CocoDataset.load(src);
      for (const img of out.images) assertRedOver255(dst, img, input);
      rmSync(dirname(dst), { recursive: true });
    }
  });

  it('--window 12000 on 32 px images runs in bounded memory (no model probe at the nominal window)', () => {
    const script = join(root, 'peak.mts');
    writeFileSync(script, `
      import { main } from ${JSON.stringify(join(REPO, 'src/cli/main.ts'))};
      import { peakRssMB } from ${JSON.stringify(join(REPO, 'test/helpers/peak-rss.ts'))};
      const code = await main(process.argv.slice(2), { out: () => {}, err: (t) => { process.stderr.write(t); } });
      console.log(JSON.stringify({ code, peak: peakRssMB() }));
    `);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, 'predict', '--src', src, '--dst', join(root, 'wide', 'out.kwcoco.json'),
      '--model', red, '--channels', 'r|g|b', '--window', '12000', '--expected-minmax', '0,1', '--no-progress'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    const { code, peak } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(code, 0, r.stderr);
    // a probe at 12000 x 12000 x 3 float32 alone is 1.6 GiB (onnxruntime's buffers come on top)
    assert.ok(peak < 600, `peak RSS ${peak} MB`);
  });

  it('an output it cannot write is refused before any work: a folder, a path under a file', async () => {
    const folder = join(root, 'dst-folder');
    mkdirSync(folder);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const cases: [string, RegExp][] = [
      [folder, /--dst .*dst-folder is a folder; give the path of the manifest to write/],
      [join(file, 'out.kwcoco.json'), /a-file is a file, not a folder/],
      [join(file, 'deeper', 'out.kwcoco.json'), /a-file is a file, not a folder/],
    ];
    for (const [dst, re] of cases) {
      // a model that does not exist: the output is checked first
      const r = await runCli(['predict', '--src', src, '--dst', dst, '--model', join(root, 'missing.onnx'), '--channels', 'r|g|b', '--no-progress']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
    assert.deepEqual(readdirSync(folder), []);
  });

  // root writes anywhere: the command runs as nobody when this test runs as root, which needs a checkout nobody can read
  const asRoot = process.getuid?.() === 0;
  const nobodyCannotRead = asRoot
    && spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(MAIN)})`], { uid: 65534, gid: 65534 }).status !== 0;
  it('a read-only output folder is refused at once, saying "read-only" (exit 2, no COG written)', {
    skip: nobodyCannotRead ? `running as root, and uid 65534 cannot read ${MAIN} (a folder above it is closed to others), so no unprivileged run can show a read-only folder` : false,
  }, () => {
    const ro = join(root, 'read-only');
    mkdirSync(join(ro, 'sub'), { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(ro, 0o555);
    chmodSync(join(ro, 'sub'), 0o555);
    try {
      for (const dst of [join(ro, 'out.kwcoco.json'), join(ro, 'sub', 'deeper', 'out.kwcoco.json')]) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'predict', '--src', src, '--dst', dst, '--model', red,
          '--channels', 'r|g|b', '--no-progress'], { encoding: 'utf8', timeout: 120_000, cwd: REPO, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /cannot write --dst .*: the folder .*read-only.* is read-only \(EACCES\)/);
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
      assert.deepEqual(readdirSync(ro), ['sub']);
      assert.deepEqual(readdirSync(join(ro, 'sub')), []);
    } finally {
      chmodSync(ro, 0o755);
      chmodSync(join(ro, 'sub'), 0o755);
    }
  });

  it('a failure after some images were written keeps them registered and says so (PartialResultError, exit 3)', async () => {
    const bundle = join(root, 'partial');
    cpSync(dirname(src), bundle, { recursive: true });
    const manifest = join(bundle, 'data.kwcoco.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    const lastImg = m.images.at(-1);
    rmSync(join(bundle, assetsOf(lastImg).find((a: any) => a.channels === 'r|g|b').file_name));
    const dst = join(root, 'partial-out', 'out.kwcoco.json');
    const err = await runPredict({ ...base(), src: manifest, dst, batchSize: 1 }).then(() => null, (e) => e);
    assert.ok(err instanceof PartialResultError, String(err));
    assert.match(err.message, /generated-2-1_r_g_b\.tif.*\(\d of 4 image\(s\) were written and registered in/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const registered = out.images.filter((img: any) => assetsOf(img).some((a) => a.channels === 'pred.0'));
    assert.equal(registered.length, err.summary.images);
    assert.ok(registered.length >= 1 && registered.length < 4);
    assert.deepEqual(err.summary.notWritten.sort(), out.images.filter((i: any) => !registered.includes(i)).map((i: any) => i.id).sort());
    assert.deepEqual(readdirSync(join(dirname(dst), '_assets', 'pred')).sort(),
      registered.map((img: any) => assetsOf(img).find((a) => a.channels === 'pred.0').file_name.split('/').pop()).sort());
    const r = await runCli(['predict', '--src', manifest, '--dst', join(root, 'partial-cli', 'out.kwcoco.json'), '--model', red,
      '--channels', 'r|g|b', '--window', '16', '--batch-size', '1', '--no-progress']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /were written and registered in/);
  });
});
