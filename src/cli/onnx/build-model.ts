/**
 * Builds ONNX models in code, so the CLI ships a working model without
 * downloading weights, and tests can make models whose output is known in
 * closed form. Field numbers follow onnx.proto (IR version 8, opset 13).
 */
import { ValueError } from '../../array/errors.ts';
import { ProtoWriter } from './protobuf.ts';

/** onnx.proto TensorProto.DataType values used here. */
export const enum OnnxDataType { Float = 1 }

/** onnx.proto AttributeProto.AttributeType values. */
const enum AttributeType { Float = 1, Int = 2, String = 3, Floats = 6, Ints = 7 }

/** An attribute value: a tagged number, list or string. */
export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
};

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, OnnxAttribute>;
}

/** A float32 constant (weights, biases). */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

/** A graph input or output: float32 tensor; a string dimension is symbolic (e.g. 'N'). */
export interface OnnxValue {
  name: string;
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name?: string;
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  nodes: readonly OnnxNode[];
  initializers?: readonly OnnxInitializer[];
}

function encodeAttribute(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case 'float': return w.float(2, a.value).int(20, AttributeType.Float);
    case 'int': return w.int(3, a.value).int(20, AttributeType.Int);
    case 'string': return w.string(4, a.value).int(20, AttributeType.String);
    case 'ints': return w.packedInts(8, a.value).int(20, AttributeType.Ints);
  }
}

function encodeValueInfo(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, OnnxDataType.Float).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function encodeInitializer(t: OnnxInitializer): ProtoWriter {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new ValueError(`initializer ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}] (needs ${expected})`);
  }
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  const raw = new Uint8Array(t.data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < t.data.length; i++) dv.setFloat32(i * 4, t.data[i], true);
  return w.int(2, OnnxDataType.Float).string(8, t.name).bytes(9, raw);
}

/** Encodes a graph as a serialized ONNX ModelProto. */
export function buildOnnxModel(graph: OnnxGraph, producer = 'coco-stitcher'): Uint8Array {
  const g = new ProtoWriter();
  graph.nodes.forEach((n, i) => {
    const node = new ProtoWriter();
    for (const inp of n.inputs) node.string(1, inp);
    for (const out of n.outputs) node.string(2, out);
    node.string(3, `${n.op.toLowerCase()}_${i}`).string(4, n.op);
    for (const [k, a] of Object.entries(n.attributes ?? {})) node.message(5, encodeAttribute(k, a));
    g.message(1, node);
  });
  g.string(2, graph.name ?? 'graph');
  for (const t of graph.initializers ?? []) g.message(5, encodeInitializer(t));
  for (const v of graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of graph.outputs) g.message(12, encodeValueInfo(v));
  const opset = new ProtoWriter().string(1, '').int(2, 13);
  return new ProtoWriter()
    .int(1, 8)
    .string(2, producer)
    .string(3, '0.1')
    .message(7, g)
    .message(8, opset)
    .finish();
}

/**
 * A 1x1 convolution model: out[o] = sum_i weights[o][i] * x[i] + bias[o].
 * Its output is known in closed form, which makes it the reference model of
 * the predict tests.
 */
export function buildPointwiseModel(weights: readonly (readonly number[])[], bias: readonly number[]): Uint8Array {
  const outC = weights.length;
  const inC = weights[0]?.length ?? 0;
  if (outC === 0 || inC === 0 || weights.some((r) => r.length !== inC) || bias.length !== outC) {
    throw new ValueError(`pointwise model needs an outC x inC weight matrix and outC biases, got ${outC} rows and ${bias.length} biases`);
  }
  return buildOnnxModel({
    name: 'pointwise',
    inputs: [{ name: 'x', shape: ['N', inC, 'H', 'W'] }],
    outputs: [{ name: 'y', shape: ['N', outC, 'H', 'W'] }],
    initializers: [
      { name: 'w', dims: [outC, inC, 1, 1], data: Float32Array.from(weights.flat()) },
      { name: 'b', dims: [outC], data: Float32Array.from(bias) },
    ],
    nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attributes: { kernel_shape: attr.ints([1, 1]) } }],
  });
}

/**
 * The built-in demo model: a 2-class heatmap of "bright structure". A 5x5
 * box filter of the channel mean (weighted by `channelWeights`, default
 * equal) against a fixed threshold, through a softmax over the two classes:
 * class 1 ("shape") is high where the smoothed brightness is above
 * `threshold` (in normalised input units).
 */
export function buildHeatmapModel(inChannels: number, threshold = 0.35, gain = 12, channelWeights?: readonly number[]): Uint8Array {
  const k = 5;
  const mix = channelWeights ?? new Array<number>(inChannels).fill(1);
  const total = mix.reduce((a, b) => a + b, 0);
  if (mix.length !== inChannels || !mix.every((v) => Number.isFinite(v) && v >= 0) || !(total > 0)) {
    throw new ValueError(`channelWeights must be ${inChannels} non-negative numbers with a positive sum, got [${mix.join(', ')}]`);
  }
  const w = new Float32Array(2 * inChannels * k * k);
  // class 0 ("background") gets a constant bias, class 1 the smoothed weighted brightness
  for (let c = 0; c < inChannels; c++) {
    const per = (gain * mix[c]) / (total * k * k);
    for (let i = 0; i < k * k; i++) w[(inChannels + c) * k * k + i] = per;
  }
  return buildOnnxModel({
    name: 'coco-stitcher-heatmap',
    inputs: [{ name: 'x', shape: ['N', inChannels, 'H', 'W'] }],
    outputs: [{ name: 'probs', shape: ['N', 2, 'H', 'W'] }],
    initializers: [
      { name: 'w', dims: [2, inChannels, k, k], data: w },
      { name: 'b', dims: [2], data: Float32Array.from([gain * threshold, 0]) },
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['logits'], attributes: { kernel_shape: attr.ints([k, k]), pads: attr.ints([2, 2, 2, 2]) } },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probs'], attributes: { axis: attr.int(1) } },
    ],
  });
}
