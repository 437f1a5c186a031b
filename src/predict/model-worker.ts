/**
 * The worker thread behind ./model.ts's default model: opens the session
 * (workerData: the model's path or bytes, and the thread count) and answers
 * { id, ok, value } to each request: the input / output names and the input's declared shape once loaded
 * (id 0), then each run's output, whose memory is moved, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSession, type Model, type ModelReply } from './model.ts';

const port = parentPort!;
const { source, threads } = workerData as { source: string | Uint8Array; threads?: number };
const fail = (id: number, err: unknown) => port.postMessage({ id, ok: false, message: (err as Error)?.message ?? String(err) } satisfies ModelReply);

const session: Promise<Model> = openSession(source, threads);
session.then((m) => port.postMessage({ id: 0, ok: true, value: { inputName: m.inputName, outputName: m.outputName, inputShape: m.inputShape } } satisfies ModelReply), (err) => fail(0, err));

port.on('message', async (msg: { type: 'run'; id: number; batch: Float32Array; dims: [number, number, number, number] } | { type: 'close' }) => {
  if (msg.type === 'close') {
    await (await session.catch(() => null))?.close().catch(() => {});
    port.close();
    return;
  }
  try {
    const out = await (await session).run(msg.batch, msg.dims);
    const reply = { id: msg.id, ok: true, value: out } satisfies ModelReply;
    try {
      port.postMessage(reply, [out.data.buffer as ArrayBuffer]);
    } catch {
      port.postMessage(reply); // memory onnxruntime does not let go of: copied
    }
  } catch (err) {
    fail(msg.id, err);
  }
});
