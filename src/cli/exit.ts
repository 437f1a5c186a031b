/**
 * Exit codes of the CLI, and an error that carries one.
 */

export const EXIT = {
  ok: 0,
  /** validate found problems */
  problems: 1,
  /** bad arguments or bad input (missing file, unknown channel, ...) */
  usage: 2,
  /** distributed predict: some shards failed every attempt; the manifest has all the others */
  partial: 3,
  /** stopped by SIGINT; what was finished is kept */
  interrupted: 130,
} as const;

/** Thrown by a command that has already reported its outcome and wants this exit code. */
export class CliExit extends Error {
  override name = 'CliExit';
  constructor(readonly code: number, message = `exit ${code}`) {
    super(message);
  }
}
