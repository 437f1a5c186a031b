/**
 * ONNX models through onnxruntime-node, an optional dependency: the library
 * works without it, and only `predict` / `demo` need it.
 */
import { access } from 'node:fs/promises';

/** A loaded model that maps an NCHW float32 batch to an NCHW float32 output. */
export interface Model {
  readonly inputName: string;
  readonly outputName: string;
  run(batch: Float32Array, dims: readonly [number, number, number, number]): Promise<{ data: Float32Array; dims: number[] }>;
  close(): Promise<void>;
}

type Ort = typeof import('onnxruntime-node');

async function loadOrt(): Promise<Ort> {
  try {
    const mod = await import('onnxruntime-node');
    return ((mod as { default?: Ort }).default ?? mod) as Ort;
  } catch (err) {
    throw new Error(
      'onnxruntime-node is not installed, and `predict` needs it to run ONNX models. '
      + 'Install it with `npm install onnxruntime-node` (the rest of coco-stitcher works without it).',
      { cause: err },
    );
  }
}

/** Loads an ONNX model from a file path or from its bytes. */
export async function loadModel(source: string | Uint8Array, options: { threads?: number } = {}): Promise<Model> {
  const where = typeof source === 'string' ? source : '<built-in model>';
  if (typeof source === 'string') {
    await access(source).catch((err) => {
      throw new Error(`model file ${source} does not exist or is not readable`, { cause: err });
    });
  }
  const ort = await loadOrt();
  let session: import('onnxruntime-node').InferenceSession;
  try {
    const opts = { intraOpNumThreads: options.threads ?? 0, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
    session = typeof source === 'string'
      ? await ort.InferenceSession.create(source, opts)
      : await ort.InferenceSession.create(source, opts);
  } catch (err) {
    throw new Error(`cannot load ONNX model ${where}: ${(err as Error).message}`, { cause: err });
  }
  if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
    throw new Error(`model ${where} has inputs [${session.inputNames.join(', ')}]; predict needs exactly one NCHW float input`);
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  return {
    inputName,
    outputName,
    async run(batch, dims) {
      let out;
      try {
        out = await session.run({ [inputName]: new ort.Tensor('float32', batch, [...dims]) });
      } catch (err) {
        throw new Error(`model ${where} failed on an input of shape [${dims.join(', ')}]: ${(err as Error).message}`, { cause: err });
      }
      const t = out[outputName];
      if (t.type !== 'float32' || t.dims.length !== 4) {
        throw new Error(`model ${where} output ${outputName} is ${t.type} of shape [${t.dims.join(', ')}]; expected float32 NCHW`);
      }
      return { data: t.data as Float32Array, dims: [...t.dims] };
    },
    close: () => session.release(),
  };
}
