/**
 * The `--memory-budget MiB` option shared by commands: it sets the process's
 * memory budget (array/memory-budget.ts) for the command's run.
 */
import { InvalidArgumentError, Option } from 'commander';
import { parseMemoryBudgetMb, setMemoryBudget } from '../array/memory-budget.ts';

/** The option; its value is the budget in bytes. */
export function memoryBudgetOption(): Option {
  return new Option('--memory-budget <MiB>',
    'memory budget in MiB: inputs that would need more are refused (default COCO_STITCHER_MEMORY_MB, else half the machine\'s memory)')
    .argParser((v: string) => {
      try {
        return parseMemoryBudgetMb(v, '--memory-budget');
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
}

/** Runs `fn` with the budget `bytes` (when given) in force, then restores the default. */
export async function withMemoryBudget<T>(bytes: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (bytes === undefined) return fn();
  setMemoryBudget(bytes);
  try {
    return await fn();
  } finally {
    setMemoryBudget(undefined);
  }
}
