import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { checkAllocation, memoryBudgetBytes, parseMemoryBudgetMb, setMemoryBudget } from '../../src/array/memory-budget.ts';
import { MemoryBudgetError, ValueError } from '../../src/array/errors.ts';

test('memory budget: explicit, then COCO_STITCHER_MEMORY_MB, then half the machine', (t) => {
  const saved = process.env.COCO_STITCHER_MEMORY_MB;
  t.after(() => { setMemoryBudget(undefined); if (saved === undefined) delete process.env.COCO_STITCHER_MEMORY_MB; else process.env.COCO_STITCHER_MEMORY_MB = saved; });
  delete process.env.COCO_STITCHER_MEMORY_MB;
  assert.equal(memoryBudgetBytes(), Math.floor(totalmem() / 2));
  process.env.COCO_STITCHER_MEMORY_MB = '64';
  assert.equal(memoryBudgetBytes(), 64 * 1024 * 1024);
  setMemoryBudget(1000);
  assert.equal(memoryBudgetBytes(), 1000);
  setMemoryBudget(undefined);
  process.env.COCO_STITCHER_MEMORY_MB = 'lots';
  assert.throws(() => memoryBudgetBytes(), (e: unknown) => e instanceof ValueError && /COCO_STITCHER_MEMORY_MB.*"lots"/.test(e.message));
});

test('checkAllocation names the input, the size and the limit; refuses NaN, Inf and negative sizes', (t) => {
  t.after(() => setMemoryBudget(undefined));
  setMemoryBudget(100 * 1024 * 1024);
  checkAllocation(100 * 1024 * 1024, 'fits exactly');
  assert.throws(() => checkAllocation(200 * 1024 * 1024, 'image 7 declared 1e5 x 1e5'),
    (e: unknown) => e instanceof MemoryBudgetError && /image 7 declared 1e5 x 1e5 needs 200 MiB, over the memory budget of 100 MiB/.test(e.message));
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
    assert.throws(() => checkAllocation(bad, 'x'), (e: unknown) => e instanceof MemoryBudgetError && /impossible/.test(e.message));
  }
  for (const bad of ['0', '-3', 'abc', '', 'Infinity']) {
    assert.throws(() => parseMemoryBudgetMb(bad, '--memory-budget'), (e: unknown) => e instanceof ValueError && e.message.includes('--memory-budget'));
  }
  assert.equal(parseMemoryBudgetMb('1.5', '--memory-budget'), 1.5 * 1024 * 1024);
});
