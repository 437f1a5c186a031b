/**
 * One memory budget for the process. Sizes come from untrusted files and
 * arguments (a manifest may declare a 1e9 x 1e9 image, a 3 MB zip may inflate
 * to gigabytes), so every allocation whose size such an input decides is
 * checked against this budget first, and refused with an error naming the
 * input and the limit instead of taking the process down.
 *
 * The budget is `setMemoryBudget(bytes)` (the CLI's `--memory-budget`), else
 * the environment variable COCO_STITCHER_MEMORY_MB, else half of the
 * machine's memory.
 */
import { totalmem } from 'node:os';
import { MemoryBudgetError, ValueError } from './errors.ts';

const MB = 1024 * 1024;
let explicit: number | undefined;

/** Sets the budget in bytes for this process; `undefined` goes back to the environment / default. */
export function setMemoryBudget(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isFinite(bytes) && bytes > 0)) {
    throw new ValueError(`the memory budget must be a positive number of bytes, got ${bytes}`);
  }
  explicit = bytes;
}

/** Parses a budget given in MiB (an option or the environment variable), naming `what` on error. */
export function parseMemoryBudgetMb(text: string, what: string): number {
  const mb = Number(text);
  if (!(text.trim() !== '' && Number.isFinite(mb) && mb > 0)) {
    throw new ValueError(`${what} must be a positive number of MiB, got ${JSON.stringify(text)}`);
  }
  return mb * MB;
}

/** The budget in bytes now in force. */
export function memoryBudgetBytes(): number {
  if (explicit !== undefined) return explicit;
  const env = process.env.COCO_STITCHER_MEMORY_MB;
  if (env !== undefined && env !== '') return parseMemoryBudgetMb(env, 'COCO_STITCHER_MEMORY_MB');
  return Math.floor(totalmem() / 2);
}

function mib(bytes: number): string {
  return bytes >= 10 * MB ? `${Math.round(bytes / MB)} MiB` : `${(bytes / MB).toFixed(2)} MiB`;
}

/**
 * Throws MemoryBudgetError unless `bytes` (what `what` would allocate) fits
 * the budget. `what` names the input, e.g. "image 3 (a.tif) declared 1e9 x 1e9".
 * Non-finite or negative sizes are refused too: they come from bad input.
 */
export function checkAllocation(bytes: number, what: string): void {
  const budget = memoryBudgetBytes();
  if (!(Number.isFinite(bytes) && bytes >= 0)) {
    throw new MemoryBudgetError(`${what} needs an impossible amount of memory (${bytes} bytes)`, bytes, budget);
  }
  if (bytes > budget) {
    throw new MemoryBudgetError(
      `${what} needs ${mib(bytes)}, over the memory budget of ${mib(budget)} (raise it with --memory-budget MiB or COCO_STITCHER_MEMORY_MB)`,
      bytes, budget,
    );
  }
}
