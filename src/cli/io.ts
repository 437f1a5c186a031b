/**
 * Where the CLI prints. Commands write through `cliIo` rather than to
 * process.stdout directly, so `main(argv, io)` can be run in-process with
 * its output captured (tests) or redirected (embedding).
 */

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

/** The sink of the command being run; `main` sets it for the duration of a run. */
export const cliIo: CliIo = { out: processIo.out, err: processIo.err };

/** Points `cliIo` at `io` until the returned restore function is called. */
export function useIo(io: CliIo): () => void {
  const prev = { out: cliIo.out, err: cliIo.err };
  cliIo.out = io.out;
  cliIo.err = io.err;
  return () => { cliIo.out = prev.out; cliIo.err = prev.err; };
}
