/**
 * Exit codes of the CLI, and an error that carries one.
 */

export const EXIT = {
  ok: 0,
  /** validate found problems */
  problems: 1,
  /** bad arguments or bad input (missing file, unknown channel, ...) */
  usage: 2,
  /** failed part-way (predict), or some shards failed every attempt (distributed predict): what finished is registered in the output */
  partial: 3,
  /** an unexpected error: a bug (sysexits.h's EX_SOFTWARE) */
  internal: 70,
  /** stopped by SIGHUP (128 + 1); what was finished is kept */
  hangup: 129,
  /** stopped by SIGINT (128 + 2); what was finished is kept */
  interrupted: 130,
  /** stopped by SIGTERM (128 + 15); what was finished is kept */
  terminated: 143,
} as const;

/** Thrown by a command that has already reported its outcome and wants this exit code. */
export class CliExit extends Error {
  override name = 'CliExit';
  constructor(readonly code: number, message = `exit ${code}`) {
    super(message);
  }
}
