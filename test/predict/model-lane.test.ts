/**
 * ModelLane against a naive reference: a list of turns in the order they
 * were taken, where a turn is granted when it is among the first `width`
 * turns not yet released. Random sequences of take / release / close
 * (fast-check) must give the same grants, in the same order, and queued
 * turns must be called off by close with RunCancelledError.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelLane, type ModelTurn } from '../../src/predict/model-lane.ts';
import { RunCancelledError } from '../../src/predict/errors.ts';

/** Lets every settled promise's callbacks run. */
const tick = () => new Promise((r) => setImmediate(r));

describe('ModelLane', () => {
  it('width 1: the first turn is granted at once, the next when it is released, first come first served', async () => {
    const lane = new ModelLane();
    const order: string[] = [];
    const a = lane.take();
    const b = lane.take();
    const c = lane.take();
    for (const [n, t] of [['a', a], ['b', b], ['c', c]] as const) void t.ready.then(() => order.push(n));
    await tick();
    assert.deepEqual(order, ['a']);
    assert.equal(a.granted, true);
    assert.equal(b.granted, false);
    assert.deepEqual([lane.running, lane.waiting], [1, 2]);
    a.release();
    a.release(); // twice: nothing more
    await tick();
    assert.deepEqual(order, ['a', 'b']);
    assert.deepEqual([lane.running, lane.waiting], [1, 1]);
    b.release();
    await tick();
    assert.deepEqual(order, ['a', 'b', 'c']);
    c.release();
    assert.deepEqual([lane.running, lane.waiting], [0, 0]);
  });

  it('a queued turn given back leaves the queue; the one after it moves up', async () => {
    const lane = new ModelLane();
    const a = lane.take();
    const b = lane.take();
    const c = lane.take();
    b.release(); // e.g. its run failed before it reached the model
    await assert.rejects(b.ready, RunCancelledError);
    a.release();
    await c.ready;
    assert.equal(c.granted, true);
    assert.equal(b.granted, false);
    assert.deepEqual([lane.running, lane.waiting], [1, 0]);
  });

  it('close calls off the queued turns and every later one; a turn held runs on', async () => {
    const lane = new ModelLane(2);
    const a = lane.take();
    const b = lane.take();
    const c = lane.take();
    assert.equal(a.granted && b.granted, true);
    lane.close();
    await assert.rejects(c.ready, (err: Error) => err instanceof RunCancelledError && /called off before its turn at the model/.test(err.message));
    const d = lane.take();
    await assert.rejects(d.ready, RunCancelledError);
    assert.equal(d.granted, false);
    a.release();
    b.release();
    assert.deepEqual([lane.running, lane.waiting], [0, 0]);
  });

  it('a width below 1 is refused naming it', () => {
    assert.throws(() => new ModelLane(0), /width of at least 1, got 0/);
    assert.throws(() => new ModelLane(1.5), /got 1.5/);
  });

  it('random take / release / close sequences grant as the reference does', async () => {
    const op = fc.oneof(
      { arbitrary: fc.constant({ kind: 'take' as const }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }), weight: 4 },
      { arbitrary: fc.constant({ kind: 'close' as const }), weight: 1 },
    );
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(op, { maxLength: 40 }), async (width, ops) => {
      const lane = new ModelLane(width);
      const turns: ModelTurn[] = [];
      const granted: number[] = [];
      const cancelled = new Set<number>();
      // the reference: turns still in the lane (taken, not released, not called off), in order
      let inLane: number[] = [];
      const refGranted = new Set<number>();
      const refOrder: number[] = [];
      let closed = false;
      const settleRef = () => {
        for (const i of inLane.slice(0, width)) if (!refGranted.has(i)) { refGranted.add(i); refOrder.push(i); }
      };
      for (const o of ops) {
        if (o.kind === 'take') {
          const i = turns.length;
          const t = lane.take();
          turns.push(t);
          t.ready.then(() => granted.push(i), (err) => { assert.ok(err instanceof RunCancelledError); cancelled.add(i); });
          if (!closed) inLane.push(i);
        } else if (o.kind === 'release') {
          if (turns.length === 0) continue;
          const i = o.pick % turns.length;
          turns[i].release();
          inLane = inLane.filter((j) => j !== i);
        } else {
          lane.close();
          closed = true;
          inLane = inLane.filter((j) => refGranted.has(j)); // queued ones are called off
        }
        settleRef();
        await tick();
        assert.deepEqual(granted, refOrder);
        assert.ok(lane.running <= width);
        assert.equal(lane.running + lane.waiting, inLane.length);
      }
      // released in order, every turn ends granted or called off, never both, and the lane is empty
      for (const t of turns) t.release();
      await tick();
      const got = new Set(granted);
      for (let i = 0; i < turns.length; i++) assert.ok(got.has(i) !== cancelled.has(i), `turn ${i}: granted ${got.has(i)}, called off ${cancelled.has(i)}`);
      assert.equal(granted.length, got.size, 'a turn was granted twice');
      assert.deepEqual([lane.running, lane.waiting], [0, 0]);
    }), { numRuns: 200 });
  });
});
