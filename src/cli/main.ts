/**
 * The `coco-stitcher` command line. Each command lives in its own file under
 * commands/; this file wires them to commander and turns errors into one
 * clear line and an exit code: 2 for bad arguments or input (commander's
 * errors, our named errors, a missing input file), 70 for anything else,
 * which is a bug. The stack is printed with `--debug` or COCO_STITCHER_DEBUG=1.
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { demoCommand } from './commands/demo.ts';
import { predictCommand } from './commands/predict.ts';
import { visualizeCommand } from './commands/visualize.ts';
import { validateCommand } from './commands/validate.ts';
import { CocoStitcherError } from '../array/errors.ts';
import { viewCommand } from './commands/view.ts';
import { workerCommand } from './commands/worker.ts';
import { EXIT, CliExit } from './exit.ts';
import { cliIo, processIo, useIo, type CliIo } from './io.ts';
import { packageVersion } from './package-version.ts';

/** Builds the program; exported so tests can parse arguments in-process. */
export function buildProgram(): Command {
  const program = new Command('coco-stitcher')
    .description('Stitch sliding-window predictions into Cloud Optimized GeoTIFFs registered in kwcoco manifests')
    .version(packageVersion())
    .option('--debug', 'print the stack trace of an error (or set COCO_STITCHER_DEBUG=1)')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => cliIo.out(s), writeErr: (s) => cliIo.err(s) });
  program.addCommand(demoCommand());
  program.addCommand(predictCommand());
  program.addCommand(visualizeCommand());
  program.addCommand(validateCommand());
  program.addCommand(viewCommand());
  program.addCommand(workerCommand());
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: (s) => cliIo.out(s), writeErr: (s) => cliIo.err(s) });
  return program;
}

/** Error codes of node:fs that mean the path given is wrong (bad input, not a bug). */
const PATH_ERRORS: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'ENAMETOOLONG']);

/** True for a node:fs error about a path (missing, not a folder, not allowed). */
function isPathError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | null;
  return err instanceof Error && typeof e?.code === 'string' && PATH_ERRORS.has(e.code) && typeof e.path === 'string';
}

/** True for errors about what the user passed in (also an error whose cause is a path error); false for bugs. */
export function isUserError(err: unknown): boolean {
  if (err instanceof CocoStitcherError || err instanceof CommanderError) return true;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (isPathError(e)) return true;
  }
  return false;
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code.
 * `build` makes the program (tests pass one with extra commands).
 */
export async function main(argv: readonly string[], io: CliIo = processIo, build: () => Command = buildProgram): Promise<number> {
  const program = build();
  const restore = useIo(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliExit) return err.code;
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version, usage errors)
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const envDebug = process.env.COCO_STITCHER_DEBUG ?? '';
    const debug = argv.includes('--debug') || (envDebug !== '' && envDebug !== '0');
    const e = err as Error | null;
    const message = e?.message ?? String(err);
    if (isUserError(err)) {
      cliIo.err(`coco-stitcher: error: ${message}\n`);
      if (debug) cliIo.err(`${e?.stack ?? ''}\n`);
      return EXIT.usage;
    }
    cliIo.err(`coco-stitcher: internal error (a bug in coco-stitcher; please report it): ${e?.name ?? 'Error'}: ${message}\n`);
    cliIo.err(debug ? `${e?.stack ?? ''}\n` : 'coco-stitcher: run again with --debug (or COCO_STITCHER_DEBUG=1) to see the stack trace\n');
    return EXIT.internal;
  } finally {
    restore();
  }
}

// Run directly (node --import tsx src/cli/main.ts); bin/coco-stitcher.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
