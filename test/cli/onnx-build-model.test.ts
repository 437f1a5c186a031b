import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPointwiseModel, buildHeatmapModel, buildOnnxModel } from '../../src/cli/onnx/build-model.ts';
import { ProtoWriter } from '../../src/cli/onnx/protobuf.ts';

const ort = await import('onnxruntime-node').then((m) => m.default ?? m).catch(() => null);

test('protobuf varints: 1 byte below 128, 2 bytes at 300, 10 bytes for -1', () => {
  assert.deepEqual([...new ProtoWriter().int(1, 1).finish()], [0x08, 0x01]);
  assert.deepEqual([...new ProtoWriter().int(1, 300).finish()], [0x08, 0xac, 0x02]);
  assert.equal(new ProtoWriter().int(1, -1).finish().length, 11);
  assert.deepEqual([...new ProtoWriter().string(2, 'hi').finish()], [0x12, 2, 0x68, 0x69]);
});

test('pointwise model computes W x + b (checked by onnxruntime)', { skip: ort ? false : 'onnxruntime-node not installed' }, async () => {
  const session = await ort!.InferenceSession.create(buildPointwiseModel([[1, 2], [0.5, -1]], [0.25, 3]));
  const x = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]); // 2 channels of 2x2
  const out = await session.run({ x: new ort!.Tensor('float32', x, [1, 2, 2, 2]) });
  const y = out.y.data as Float32Array;
  assert.deepEqual(out.y.dims, [1, 2, 2, 2]);
  for (let p = 0; p < 4; p++) {
    assert.equal(y[p], 1 * x[p] + 2 * x[4 + p] + 0.25);
    assert.equal(y[4 + p], 0.5 * x[p] - 1 * x[4 + p] + 3);
  }
});

test('heatmap model gives a 2-class softmax that rises with brightness', { skip: ort ? false : 'onnxruntime-node not installed' }, async () => {
  const session = await ort!.InferenceSession.create(buildHeatmapModel(3, 0.35, 12));
  const run = async (v: number) => {
    const out = await session.run({ x: new ort!.Tensor('float32', new Float32Array(3 * 9 * 9).fill(v), [1, 3, 9, 9]) });
    return out.probs.data as Float32Array;
  };
  const dark = await run(0.1);
  const bright = await run(0.9);
  const centre = 4 * 9 + 4;
  // interior pixel: logits are (12*0.35, 12*v), so p1 = sigmoid(12*(v - 0.35))
  const expected = (v: number) => 1 / (1 + Math.exp(-12 * (v - 0.35)));
  assert.ok(Math.abs(dark[81 + centre] - expected(0.1)) < 1e-6);
  assert.ok(Math.abs(bright[81 + centre] - expected(0.9)) < 1e-6);
  assert.ok(Math.abs(dark[centre] + dark[81 + centre] - 1) < 1e-6);
});

test('heatmap model with channel weights: p1 = sigmoid(gain * (weighted mean - threshold))', { skip: ort ? false : 'onnxruntime-node not installed' }, async () => {
  const session = await ort!.InferenceSession.create(buildHeatmapModel(3, 0.34, 40, [1, 1, 0]));
  // channel planes r = 0.6, g = 0.2, b = 0.9: only (r + g) / 2 = 0.4 counts
  const x = new Float32Array(3 * 81);
  x.fill(0.6, 0, 81); x.fill(0.2, 81, 162); x.fill(0.9, 162);
  const out = await session.run({ x: new ort!.Tensor('float32', x, [1, 3, 9, 9]) });
  const p1 = (out.probs.data as Float32Array)[81 + 4 * 9 + 4];
  assert.ok(Math.abs(p1 - 1 / (1 + Math.exp(-40 * (0.4 - 0.34)))) < 1e-5, String(p1));
  assert.throws(() => buildHeatmapModel(3, 0.3, 10, [1, 1]), /channelWeights must be 3 non-negative numbers/);
  assert.throws(() => buildHeatmapModel(2, 0.3, 10, [0, 0]), /positive sum/);
});

test('initializer size mismatch is a clear error', () => {
  assert.throws(() => buildOnnxModel({
    inputs: [{ name: 'x', shape: [1] }], outputs: [{ name: 'x', shape: [1] }], nodes: [],
    initializers: [{ name: 'w', dims: [2, 2], data: new Float32Array(3) }],
  }), /initializer w: 3 values for dims \[2, 2\] \(needs 4\)/);
  assert.throws(() => buildPointwiseModel([[1, 2], [3]], [0, 0]), /outC x inC/);
});
