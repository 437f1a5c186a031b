import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WriterQueue } from '../../src/stitch/writer-queue.ts';
import { StitchError } from '../../src/stitch/errors.ts';

function deferred<T = void>() {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
const tick = () => new Promise((r) => setImmediate(r));

test('maxInFlight must be a positive integer', () => {
  assert.throws(() => new WriterQueue({ maxInFlight: 0 }), StitchError);
  assert.throws(() => new WriterQueue({ maxInFlight: 1.5 }), /maxInFlight/);
  assert.equal(new WriterQueue().maxInFlight, 2);
});

test('backpressure: the third submit waits until one of two running jobs ends', async () => {
  const q = new WriterQueue({ maxInFlight: 2 });
  const gates = [deferred(), deferred(), deferred()];
  const started: number[] = [];
  const s0 = await q.submit(async () => { started.push(0); await gates[0].promise; return 'a'; });
  const s1 = await q.submit(async () => { started.push(1); await gates[1].promise; return 'b'; });
  let thirdQueued = false;
  const p2 = q.submit(async () => { started.push(2); await gates[2].promise; return 'c'; }).then((j) => { thirdQueued = true; return j; });
  await tick(); await tick();
  assert.deepEqual(started, [0, 1]);
  assert.equal(thirdQueued, false, 'submit must wait while 2 jobs run');
  assert.equal(q.inFlight, 2);
  gates[1].resolve();
  const s2 = await p2;
  assert.equal(thirdQueued, true);
  assert.deepEqual(started, [0, 1, 2]);
  gates[0].resolve(); gates[2].resolve();
  assert.deepEqual(await Promise.all([s0.done, s1.done, s2.done]), ['a', 'b', 'c']);
  await q.flush();
  assert.equal(q.peakInFlight, 2);
});

test('flush rejects with the first error after every other job finished; errors are reported once', async () => {
  const q = new WriterQueue({ maxInFlight: 2 });
  const finished: number[] = [];
  const boom = new Error('disk full on image 2');
  for (let i = 0; i < 5; i++) {
    await q.submit(async () => {
      await new Promise((r) => setTimeout(r, 5 * (5 - i)));
      if (i === 2) throw boom;
      finished.push(i);
    });
  }
  await assert.rejects(q.flush(), (e) => e === boom);
  assert.deepEqual(finished.sort(), [0, 1, 3, 4]);
  await q.flush(); // reported already: resolves
});

test('several failures: the first to fail is thrown, the others are attached', async () => {
  const q = new WriterQueue({ maxInFlight: 3 });
  const late = new Error('late'), early = new Error('early');
  await q.submit(async () => { await new Promise((r) => setTimeout(r, 30)); throw late; });
  await q.submit(async () => { await new Promise((r) => setTimeout(r, 5)); throw early; });
  await q.submit(async () => 1);
  await assert.rejects(q.flush(), (e: Error) => e === early && /1 more failed job/.test(e.message) && (e as unknown as { otherFailures: unknown[] }).otherFailures[0] === late);
});

test('a queue shared by two owners: flush(owner) waits for and reports only that owner', async () => {
  const q = new WriterQueue({ maxInFlight: 2 });
  const a = {}, b = {};
  const gate = deferred();
  const errA = new Error('A failed');
  await q.submit(async () => { throw errA; }, a);
  let bDone = false;
  await q.submit(async () => { await gate.promise; bDone = true; }, b);
  await assert.rejects(q.flush(a), (e) => e === errA);
  assert.equal(bDone, false, 'flush(a) does not wait for b');
  gate.resolve();
  await q.flush(b);
  assert.equal(bDone, true);
  await q.flush();
});

test('property: never more than maxInFlight running, every job runs, flush reports the first failure', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 4 }),
    fc.array(fc.record({ ms: fc.integer({ min: 0, max: 4 }), fail: fc.boolean() }), { minLength: 1, maxLength: 12 }),
    async (max, jobs) => {
      const q = new WriterQueue({ maxInFlight: max });
      let running = 0, peak = 0;
      const ran: number[] = [];
      const failOrder: Error[] = [];
      for (let i = 0; i < jobs.length; i++) {
        await q.submit(async () => {
          running++; peak = Math.max(peak, running);
          try {
            await new Promise((r) => setTimeout(r, jobs[i].ms));
            ran.push(i);
            if (jobs[i].fail) { const e = new Error(`job ${i}`); failOrder.push(e); throw e; }
          } finally { running--; }
        });
      }
      const res = await q.flush().then(() => null, (e: unknown) => e);
      assert.ok(peak <= max, `peak ${peak} > ${max}`);
      assert.equal(ran.length, jobs.length);
      assert.equal(running, 0);
      if (failOrder.length) assert.equal(res, failOrder[0]); else assert.equal(res, null);
    }), { numRuns: 40 });
});
