/**
 * ONNX models through onnxruntime-node, an optional dependency: the library
 * works without it, and only `predict` / `demo` need it. A model runs on a
 * worker thread of its own (./model-worker.ts) unless asked otherwise:
 * onnxruntime-node computes on the thread that calls `run`, so on the main
 * thread it would stop the window reads, resampling and stitching that can
 * go on meanwhile.
 */
import { access } from 'node:fs/promises';
import { RequestWorker, siblingModule } from '../io/module-worker.ts';
import { ModelError } from './errors.ts';

/** A loaded model that maps an NCHW float32 batch to an NCHW float32 output. */
export interface Model {
  readonly inputName: string;
  readonly outputName: string;
  /** the input's declared shape, [N, C, H, W]: a number is fixed, a string symbolic (absent: not known) */
  readonly inputShape?: readonly (number | string)[];
  /** `transfer`: the batch's memory may move to the model's thread (the caller is done with it) instead of being copied */
  run(batch: Float32Array, dims: readonly [number, number, number, number], transfer?: boolean): Promise<{ data: Float32Array; dims: number[] }>;
  close(): Promise<void>;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** onnxruntime's intra-op threads (0 = its default, all cores) */
  threads?: number;
  /** where `run` computes: a worker thread of the model's own (default), or the calling thread */
  thread?: 'worker' | 'caller';
}

type Ort = typeof import('onnxruntime-node');

async function loadOrt(): Promise<Ort> {
  try {
    const mod = await import('onnxruntime-node');
    return ((mod as { default?: Ort }).default ?? mod) as Ort;
  } catch (err) {
    throw new ModelError(
      'onnxruntime-node is not installed, and `predict` needs it to run ONNX models. '
      + 'Install it with `npm install onnxruntime-node` (the rest of coco-stitcher works without it).',
      { cause: err },
    );
  }
}

/** Loads an ONNX model from a file path or from its bytes. */
export async function loadModel(source: string | Uint8Array, options: LoadModelOptions = {}): Promise<Model> {
  if (typeof source === 'string') {
    await access(source).catch((err) => {
      throw new ModelError(`model file ${source} does not exist or is not readable`, { cause: err });
    });
  }
  return options.thread === 'caller' ? openSession(source, options.threads) : workerModel(source, options.threads);
}

/** The model in this thread: `run` computes here. */
export async function openSession(source: string | Uint8Array, threads?: number): Promise<Model> {
  const where = typeof source === 'string' ? source : '<built-in model>';
  const ort = await loadOrt();
  let session: import('onnxruntime-node').InferenceSession;
  try {
    const opts = { intraOpNumThreads: threads ?? 0, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const, extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } };
    session = typeof source === 'string'
      ? await ort.InferenceSession.create(source, opts)
      : await ort.InferenceSession.create(source, opts);
  } catch (err) {
    throw new ModelError(`cannot load ONNX model ${where}: ${(err as Error).message}`, { cause: err });
  }
  if (session.inputNames.length !== 1 || session.outputNames.length < 1) {
    throw new ModelError(`model ${where} has inputs [${session.inputNames.join(', ')}]; predict needs exactly one NCHW float input`);
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  let inputShape: (number | string)[] | undefined;
  try {
    const meta = session.inputMetadata[0];
    if (meta?.isTensor) inputShape = [...meta.shape];
  } catch {
    // a runtime without input metadata: the shape stays unknown, every size is tried
  }
  return {
    inputName,
    outputName,
    inputShape,
    async run(batch, dims) {
      let out;
      try {
        out = await session.run({ [inputName]: new ort.Tensor('float32', batch, [...dims]) });
      } catch (err) {
        throw new ModelError(`model ${where} failed on an input of shape [${dims.join(', ')}]: ${(err as Error).message}`, { cause: err });
      }
      const t = out[outputName];
      if (t.type !== 'float32' || t.dims.length !== 4) {
        throw new ModelError(`model ${where} output ${outputName} is ${t.type} of shape [${t.dims.join(', ')}]; expected float32 NCHW`);
      }
      return { data: t.data as Float32Array, dims: [...t.dims] };
    },
    close: () => session.release(),
  };
}

/** What the model's worker sends back for request `id` (0 = loading). */
export type ModelReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/**
 * The model on a worker thread: each `run` is a message there and back. The
 * worker keeps the process alive only while a request is pending, and exits
 * at close().
 */
async function workerModel(source: string | Uint8Array, threads?: number): Promise<Model> {
  let closed = false;
  const rw = new RequestWorker<ModelReply>(siblingModule('model-worker', import.meta.url), { source, threads }, (end) => ('error' in end
    ? new ModelError(`the model's worker thread failed: ${end.error.message}`, { cause: end.error })
    : new ModelError(closed ? 'the model is closed' : `the model's worker thread exited (code ${end.exitCode})`)));
  const value = async <T>(reply: Promise<ModelReply>): Promise<T> => {
    const m = await reply;
    if (!m.ok) throw new ModelError(m.message);
    return m.value as T;
  };
  const names = await value<{ inputName: string; outputName: string; inputShape?: (number | string)[] }>(rw.request(0)).catch(async (err: Error) => {
    await rw.worker.terminate();
    throw err;
  });
  let nextId = 1;
  return {
    ...names,
    run(batch, dims, transfer = false) {
      const id = nextId++;
      const movable = transfer && batch.byteOffset === 0 && batch.byteLength === batch.buffer.byteLength;
      return value(rw.request(id, () => rw.worker.postMessage({ type: 'run', id, batch, dims: [...dims] }, movable ? [batch.buffer as ArrayBuffer] : [])));
    },
    async close() {
      if (closed) return;
      closed = true;
      if (rw.gone) return;
      const exited = new Promise((resolve) => rw.worker.once('exit', resolve));
      rw.worker.ref();
      rw.worker.postMessage({ type: 'close' });
      await exited;
    },
  };
}
