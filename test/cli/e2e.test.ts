/**
 * The CLI as a user runs it: a child process per command. `demo` on a small
 * size, `validate` on its output, GDAL on its COGs, `visualize` pictures that
 * decode, and a real SIGINT in the middle of `predict`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPng } from '../../src/io/png.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { gdalinfo, validateCog } from '../helpers/gdal.ts';

const BIN = fileURLToPath(new URL('../../bin/coco-stitcher.js', import.meta.url));
const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

describe('coco-stitcher as a subprocess', needsOrt, () => {
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'cli-e2e-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('demo writes valid georeferenced COGs, a valid manifest and pictures; a second run is safe', async () => {
    const args = ['demo', '--out', 'out', '--videos', '1', '--frames', '2', '--size', '64', '--window', '48', '--no-progress'];
    const r = cli(args, root);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /valid: schema, files/);
    assert.match(r.stdout, /CRS EPSG:32618/);
    const dst = join(root, 'out', 'predicted.kwcoco.json');
    const v = cli(['validate', dst], root);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    assert.equal(out.images.length, 2);
    for (const img of out.images) {
      const heat = assetsOf(img).find((a) => a.channels === 'background|shapes');
      assert.ok(heat, `image ${img.id} has no heatmap asset`);
      const file = join(dirname(dst), heat.file_name);
      assert.deepEqual(validateCog(file).errors, []);
      const info = gdalinfo(file);
      assert.match(info.coordinateSystem.wkt, /UTM zone 18N/);
      assert.equal(info.bands.length, 2);
      assert.deepEqual(info.size, [heat.width, heat.height]);
      assert.equal(info.bands[0].noDataValue, heat.quantization.nodata);
      assert.ok(img.prediction_region?.type === 'MultiPolygon', JSON.stringify(img.prediction_region));
    }
    const pics = readdirSync(join(root, 'out', 'visualize'), { recursive: true }).map(String).filter((f) => f.endsWith('.png'));
    assert.ok(pics.length >= 3, pics.join(', '));
    for (const f of pics) {
      const png = await readPng(join(root, 'out', 'visualize', f));
      assert.equal(png.bands, 3);
      assert.ok(png.height >= 64 && png.width >= 64, `${f}: ${png.width}x${png.height}`);
    }
    // again into the same folder: replaced, not mixed
    const again = cli(args, root);
    assert.equal(again.code, 0, again.stderr);
    // a folder that is not a demo's is refused
    const other = join(root, 'precious');
    spawnSync('mkdir', ['-p', other]);
    writeFileSync(join(other, 'keep.txt'), 'mine');
    const refused = cli(['demo', '--out', other, '--no-progress'], root);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /precious is not empty/);
    assert.ok(existsSync(join(other, 'keep.txt')));
  });

  it('SIGINT during predict: exit 130, a valid partial manifest, no stray files', async () => {
    const input = join(root, 'sigint-in');
    const made = cli(['demo', '--out', input, '--videos', '2', '--frames', '3', '--size', '96', '--window', '96', '--no-progress'], root);
    assert.equal(made.code, 0, made.stderr);
    const model = join(root, 'pw.onnx');
    writeFileSync(model, buildPointwiseModel([[1 / 255, 0, 0]], [0]));
    const dst = join(root, 'sigint-out', 'out.kwcoco.json');
    const assetDir = join(root, 'sigint-out', '_assets', 'pred');
    const child = spawn(process.execPath, [BIN, 'predict', '--src', join(input, 'input', 'data.kwcoco.json'), '--dst', dst,
      '--model', model, '--channels', 'r|g|b', '--window', '16', '--overlap', '0.5', '--batch-size', '1',
      '--expected-minmax', '0,1', '--no-progress'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setInterval(() => {
      if (existsSync(assetDir) && readdirSync(assetDir).some((f) => f.endsWith('.tif'))) {
        clearInterval(timer);
        child.kill('SIGINT');
      }
    }, 2);
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    clearInterval(timer);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const registered = out.images.flatMap((img: any) => assetsOf(img).filter((a: any) => a.channels === 'pred.0'));
    assert.ok(registered.length >= 1 && registered.length < 6, `registered ${registered.length}`);
    assert.deepEqual(readdirSync(assetDir).sort(), registered.map((a: any) => a.file_name.split('/').pop()).sort());
    const v = cli(['validate', dst], root);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});
