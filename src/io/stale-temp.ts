/**
 * Temporary files of killed processes. Every temporary file this package
 * writes is named `.<name>.<pid>.<8 hex>.tmp` (atomic.ts's tempPathFor: the
 * atomic writes, the COG writer's temporary file and its spill files), so a
 * later run can tell whose a leftover is: one whose process no longer runs
 * was left by kill -9, the OOM killer or a power cut, and is removed; one of
 * a live process (or of this one) is never touched.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TEMP_NAME = /^\..*\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Whether process `pid` exists (one owned by another user counts as running). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a temporary file's name, or null when the name is not one of ours. */
export function tempFileOwner(name: string): number | null {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Removes from `dir` (not below it) the temporary files of processes that no
 * longer run; returns their names. A missing folder, or a file another
 * process removes first, is not an error.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const removed: string[] = [];
  for (const name of names) {
    const pid = tempFileOwner(name);
    if (pid === null || pid === process.pid || isProcessRunning(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch { /* best effort: it may be a folder, or gone already */ }
  }
  return removed;
}
