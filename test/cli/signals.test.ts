/**
 * What survives a signal, as real child processes: SIGTERM (timeout,
 * docker, Slurm, systemd) and SIGHUP (a closed terminal) stop predict the
 * way SIGINT does (images already finished stay registered, the manifest
 * lists only complete files, no temporary file is left, exit 128 + the
 * signal number); and after a kill -9 mid-write, the next run removes the
 * dead process's temporary files and never a live process's.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { removeStaleTempFiles, tempFileOwner } from '../../src/io/stale-temp.ts';
import { validateCog } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(REPO, 'src', 'cli', 'main.ts');
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];
const tmpFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : []);

describe('signals and leftovers', needsOrt, () => {
  let root: string;
  let src: string;
  let model: string;
  before(async () => {
    root = scratchDir('signals-');
    const dset = await CocoDataset.demo('vidshapes-msi', { numVideos: 2, numFrames: 3, imageSize: 96, geodata: true, dpath: join(root, 'input'), seed: 5 });
    src = dset.fpath!;
    model = join(root, 'red.onnx');
    writeFileSync(model, buildPointwiseModel([[1 / 255, 0, 0]], [0]));
  });

  for (const [signal, code, word] of [['SIGTERM', 143, 'terminated'], ['SIGHUP', 129, 'hung up'], ['SIGINT', 130, 'interrupted']] as const) {
    it(`${signal} during predict: exit ${code}, finished images registered, only complete files, no temp file`, async () => {
      const out = join(root, `out-${signal}`);
      const dst = join(out, 'out.kwcoco.json');
      const assetDir = join(out, '_assets', 'pred');
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'predict', '--src', src, '--dst', dst, '--model', model,
        '--channels', 'r|g|b', '--window', '16', '--overlap', '0.5', '--batch-size', '1', '--expected-minmax', '0,1', '--no-progress'],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.stdout.on('data', (d) => { stdout += d; });
      const timer = setInterval(() => {
        if (existsSync(assetDir) && readdirSync(assetDir).some((f) => f.endsWith('.tif'))) {
          clearInterval(timer);
          child.kill(signal);
        }
      }, 2);
      const exit = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
      clearInterval(timer);
      assert.equal(exit, code, stderr);
      assert.match(stderr, new RegExp(`${word}: finishing images already being written`));
      assert.match(stdout, new RegExp(`${word}: wrote \\d image\\(s\\)`));
      const manifest = JSON.parse(readFileSync(dst, 'utf8'));
      const registered = manifest.images.flatMap((img: any) => assetsOf(img).filter((a: any) => a.channels === 'pred.0'));
      assert.ok(registered.length >= 1 && registered.length < 6, `registered ${registered.length}`);
      assert.deepEqual(readdirSync(assetDir).sort(), registered.map((a: any) => a.file_name.split('/').pop()).sort());
      for (const a of registered) assert.deepEqual(validateCog(join(out, a.file_name)).errors, []);
      assert.deepEqual([...tmpFiles(out), ...tmpFiles(assetDir)], []);
    });
  }

  it('kill -9 in the middle of a COG write leaves temp files; the next run removes them, and never a live process\'s', async () => {
    const out = join(root, 'killed');
    const assetDir = join(out, '_assets', 'pred');
    mkdirSync(assetDir, { recursive: true });
    // a writer that kills itself once the tiles have spilled to temporary files (NONE: 64 KiB a tile, 1 MiB kept in memory)
    const script = join(root, 'kill-mid-write.mts');
    writeFileSync(script, `
      import { writeCog } from ${JSON.stringify(join(REPO, 'src/io/cog/write-cog.ts'))};
      import { Raster } from ${JSON.stringify(join(REPO, 'src/array/raster.ts'))};
      let blocks = 0;
      const source = { height: 1024, width: 1024, bands: 1, dtype: 'float32',
        readBlock(y0: number, x0: number, h: number, w: number) {
          if (++blocks === 56) process.kill(process.pid, 'SIGKILL');
          return new Raster(Float32Array.from({ length: h * w }, () => Math.random()), [h, w, 1]);
        } };
      await writeCog(${JSON.stringify(join(assetDir, 'victim.tif'))}, source, { compress: 'NONE', overviews: [] });
    `);
    const killed = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const left = tmpFiles(assetDir);
    assert.ok(left.length >= 1, `no temp file left by the killed writer: ${readdirSync(assetDir)}`);
    assert.ok(left.every((f) => tempFileOwner(f) === killed.pid), left.join(', '));
    // a live process's temp files (a sleeping child's, and this process's) are not touched
    const sleeper = spawn('sleep', ['120']);
    const live = [`.other.tif.${sleeper.pid}.0badc0de.tmp`, `.mine.tif.${process.pid}.0badc0de.tmp`, 'notes.tmp', '.x.12345.tmp'];
    for (const f of live) writeFileSync(join(assetDir, f), 'live');
    writeFileSync(join(out, `.out.kwcoco.json.${killed.pid}.12345678.tmp`), '{');
    try {
      const r = await runCli(['predict', '--src', src, '--dst', join(out, 'out.kwcoco.json'), '--model', model, '--channels', 'r|g|b',
        '--window', '48', '--expected-minmax', '0,1', '--no-progress']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(tmpFiles(assetDir).sort(), [...live].sort());
      assert.deepEqual(tmpFiles(out), []);
      assert.equal(existsSync(join(assetDir, 'victim.tif')), false);
    } finally {
      sleeper.kill();
    }
    await new Promise((res) => sleeper.once('exit', res));
    // once its process is gone, the sleeper's file is a leftover too
    assert.deepEqual(removeStaleTempFiles(assetDir), [live[0]]);
    assert.equal(removeStaleTempFiles(dirname(assetDir)).length, 0);
  });
});
