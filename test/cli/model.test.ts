/**
 * loadModel: the model on its own worker thread (the default) computes the
 * same outputs as in the calling thread, moves a batch it is given, reports
 * failures (a corrupt model, a wrong input shape, use after close) as clear
 * errors, and does not keep a process alive while idle.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { loadModel } from '../../src/predict/model.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const skip = ort ? false : 'onnxruntime-node not installed';
const bytes = buildPointwiseModel([[1, 2], [0.5, -1]], [0.25, 3]);

describe('loadModel on a worker thread', { skip }, () => {
  it('computes what the calling thread computes, and W x + b by hand', async () => {
    const worker = await loadModel(bytes);
    const caller = await loadModel(bytes, { thread: 'caller' });
    try {
      assert.deepEqual([worker.inputName, worker.outputName], [caller.inputName, caller.outputName]);
      const x = Float32Array.from({ length: 3 * 2 * 5 * 4 }, (_, i) => (i * 37) % 11 - 5);
      const a = await worker.run(x, [3, 2, 5, 4]);
      const b = await caller.run(x, [3, 2, 5, 4]);
      assert.deepEqual(a.dims, [3, 2, 5, 4]);
      assert.deepEqual(a.data, b.data);
      for (let n = 0; n < 3; n++) for (let p = 0; p < 20; p++) {
        const [x0, x1] = [x[n * 40 + p], x[n * 40 + 20 + p]];
        assert.equal(a.data[n * 40 + p], x0 + 2 * x1 + 0.25);
        assert.equal(a.data[n * 40 + 20 + p], 0.5 * x0 - x1 + 3);
      }
      assert.equal(x.length, 120, 'without transfer the batch stays the caller\'s');
      const moved = x.slice();
      await worker.run(moved, [3, 2, 5, 4], true);
      assert.equal(moved.length, 0, 'with transfer the batch moved to the model\'s thread');
    } finally {
      await worker.close();
      await caller.close();
    }
  });

  it('reports a corrupt model, a wrong input shape and use after close clearly', async () => {
    await assert.rejects(loadModel(new Uint8Array([1, 2, 3, 4, 5])), /cannot load ONNX model <built-in model>/);
    const m = await loadModel(bytes);
    await assert.rejects(m.run(new Float32Array(3 * 4), [1, 3, 2, 2]), /model <built-in model> failed on an input of shape \[1, 3, 2, 2\]/);
    assert.equal((await m.run(new Float32Array(8), [1, 2, 2, 2])).data.length, 8, 'still usable after a failed run');
    await m.close();
    await assert.rejects(m.run(new Float32Array(8), [1, 2, 2, 2]), /the model is closed/);
  });

  it('an idle model does not keep the process alive', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const script = `
const { loadModel } = await import(${JSON.stringify(`${root}src/predict/model.ts`)});
const { buildPointwiseModel } = await import(${JSON.stringify(`${root}src/cli/onnx/build-model.ts`)});
const m = await loadModel(buildPointwiseModel([[1]], [1]));
const out = await m.run(new Float32Array([2]), [1, 1, 1, 1]);
console.log(out.data[0]);`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.error, undefined, `${res.error?.message} (the model's worker kept the process alive?)`);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), '3');
  });
});
