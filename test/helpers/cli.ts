/**
 * Runs the CLI in-process with its output captured (through main's io
 * argument), so tests check exit codes and messages without a child process.
 */
import { main } from '../../src/cli/main.ts';

export interface CliRun { code: number; stdout: string; stderr: string }

/** `coco-stitcher ...argv`, with what it prints captured. */
export async function runCli(argv: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => { out.push(t); }, err: (t) => { err.push(t); } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}
