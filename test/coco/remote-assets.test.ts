/**
 * Manifests whose assets live on a web server (`/vsicurl/http://…` as
 * Python kwcoco writes them for GDAL, or plain `http://…`), served by a real
 * nginx: paths survive load, reroot, moves and dump untouched; `imdelay`
 * gives the pixels of the same manifest on disk; GDAL reads the same
 * `/vsicurl/` path to the same window; `validate`, `predict` and `visualize`
 * run on it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { slice } from '../../src/array/slices.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { readRaster } from '../../src/io/read-raster.ts';
import { sharedRasterFiles } from '../../src/io/raster-file-cache.ts';
import { validateBundle } from '../../src/cli/validate/validate-bundle.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { gdalPythonBytes } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { nginxMissing, startNginx, type Nginx } from '../helpers/nginx.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);

/** The manifest at `src` with every asset file name turned into `prefix` + its bundle-relative path. */
function remoteCopy(src: string, prefix: string, dst: string): void {
  const data = JSON.parse(readFileSync(src, 'utf8'));
  for (const img of data.images) {
    for (const a of img.assets ?? img.auxiliary ?? []) a.file_name = prefix + a.file_name.replace(/^\.\//, '');
  }
  writeFileSync(dst, JSON.stringify(data));
}

describe('manifests with remote assets (nginx)', { skip: nginxMissing() ?? false }, () => {
  let nginx: Nginx;
  let local: CocoDataset;
  let vsicurl: string;
  let plain: string;
  let work: string;

  before(async () => {
    nginx = await startNginx();
    // the demo bundle lives in the served folder; the remote manifests elsewhere
    local = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 2, imageSize: 96, geodata: true, dpath: join(nginx.root, 'bundle'), seed: 3 });
    work = scratchDir('remote-manifest-');
    vsicurl = join(work, 'vsicurl.kwcoco.json');
    plain = join(work, 'plain.kwcoco.json');
    remoteCopy(local.fpath!, `/vsicurl/${nginx.url}/bundle/`, vsicurl);
    remoteCopy(local.fpath!, `${nginx.url}/bundle/`, plain);
  });
  after(async () => {
    await sharedRasterFiles.closeAll();
    await nginx?.stop();
  });

  it('keeps remote paths through reroot, a move of the manifest and dump', async () => {
    const dset = await CocoDataset.load(vsicurl, { checkAssets: true });
    const names = () => dset.dataset.images!.flatMap((i) => i.assets!.map((a) => a.file_name));
    const before = names();
    assert.ok(before.every((n) => n.startsWith(`/vsicurl/${nginx.url}/bundle/`)));
    dset.reroot({ absolute: true });
    assert.deepEqual(names(), before);
    dset.reroot();
    assert.deepEqual(names(), before);
    dset.fpath = join(work, 'elsewhere', 'moved.kwcoco.json');
    assert.deepEqual(names(), before);
    const img = dset.cocoImage(dset.imageIds()[0]);
    assert.equal(img.resolvePath(before[0]), before[0]);
    await dset.dump(join(work, 'dumped.kwcoco.json'));
    const again = await CocoDataset.load(join(work, 'dumped.kwcoco.json'));
    assert.deepEqual(again.dataset.images!.flatMap((i) => i.assets!.map((a) => a.file_name)), before);
  });

  it('imdelay reads the same pixels as the manifest on disk, for /vsicurl/ and plain URLs', async () => {
    for (const path of [vsicurl, plain]) {
      const remote = await CocoDataset.load(path);
      for (const gid of local.imageIds()) {
        for (const [space, channels] of [['video', 'r|g|b|B1'], ['image', 'B8|B11']] as const) {
          const crop = [slice(10, 70), slice(5, 81)] as const;
          const want = await local.cocoImage(gid).imdelay({ channels, space }).crop([...crop]).finalize();
          const got = await remote.cocoImage(gid).imdelay({ channels, space }).crop([...crop]).finalize();
          assert.deepEqual(got.shape, want.shape);
          assert.deepEqual(Array.from(got.data), Array.from(want.data), `${path} image ${gid} ${channels}`);
        }
      }
    }
  });

  it('GDAL reads the manifest\'s /vsicurl/ path to the same window', async () => {
    const dset = await CocoDataset.load(vsicurl);
    const asset = dset.cocoImage(dset.imageIds()[0]).assets.find((a) => a.channels === 'B8|B11')!;
    const ours = await readRaster(asset.file_name, { window: [slice(3, 25), slice(7, 30)] });
    const gdal = gdalPythonBytes(`
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
ds = gdal.Open(sys.argv[1])
a = np.stack([ds.GetRasterBand(b + 1).ReadAsArray(7, 3, 23, 22) for b in range(ds.RasterCount)], axis=-1)
sys.stdout.buffer.write(a.astype('<u2').tobytes())
`, [asset.file_name]);
    assert.equal(ours.raster.dtype, 'uint16');
    assert.ok(Buffer.from(ours.raster.data.buffer, ours.raster.data.byteOffset, ours.raster.data.byteLength).equals(gdal));
  });

  it('validate checks remote assets (size, bands, COG layout) and finds nothing wrong', async () => {
    assert.deepEqual(await validateBundle(vsicurl), []);
    const broken = JSON.parse(readFileSync(vsicurl, 'utf8'));
    broken.images[0].assets[0].file_name = `/vsicurl/${nginx.url}/bundle/no-such.tif`;
    writeFileSync(join(work, 'broken.kwcoco.json'), JSON.stringify(broken));
    const problems = await validateBundle(join(work, 'broken.kwcoco.json'));
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /no-such\.tif.*HTTP 404/);
  });

  it('predict on the remote manifest writes the same predictions as on the local one', { skip: ort ? false : 'onnxruntime-node is not installed' }, async () => {
    const model = join(work, 'pointwise.onnx');
    writeFileSync(model, buildPointwiseModel([[1 / 255, 0, 0], [0, 0.5 / 255, 0.5 / 255]], [0, 0.1]));
    const outs: CocoDataset[] = [];
    for (const [name, src] of [['local', local.fpath!], ['remote', vsicurl]]) {
      const dst = join(work, `pred-${name}`, 'out.kwcoco.json');
      const r = await runCli(['predict', '--src', src, '--dst', dst, '--model', model, '--channels', 'r|g|b',
        '--window', '40', '--expected-minmax', '0,2', '--no-progress']);
      assert.equal(r.code, 0, r.stderr);
      outs.push(await CocoDataset.load(dst));
    }
    for (const gid of local.imageIds()) {
      const [a, b] = outs.map((d) => d.cocoImage(gid));
      const pa = a.assets.at(-1)!, pb = b.assets.at(-1)!;
      assert.deepEqual({ ...pb, file_name: null }, { ...pa, file_name: null });
      const ra = await readRaster(a.resolvePath(pa.file_name)), rb = await readRaster(b.resolvePath(pb.file_name));
      assert.deepEqual(Array.from(rb.raster.data), Array.from(ra.raster.data));
      // the inputs stay remote in the output manifest
      assert.ok(b.assets.slice(0, -1).every((x) => x.file_name.startsWith('/vsicurl/http://')));
    }
    // visualize over the remote inputs draws the same pictures
    const pictures: Buffer[][] = [];
    for (const name of ['local', 'remote']) {
      const out = join(work, `vis-${name}`);
      const r = await runCli(['visualize', join(work, `pred-${name}`, 'out.kwcoco.json'), '--channels', 'pred.1', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      pictures.push(readdirSync(out, { recursive: true }).map(String).sort().filter((f) => f.endsWith('.png')).map((f) => readFileSync(join(out, f))));
    }
    assert.ok(pictures[0].length > 0);
    assert.deepEqual(pictures[1], pictures[0]);
  });
});
