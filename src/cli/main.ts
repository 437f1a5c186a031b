/**
 * The `coco-stitcher` command line. Each command lives in its own file under
 * commands/; this file wires them to commander and turns errors into one
 * clear line and an exit code (no bare stack traces; set
 * COCO_STITCHER_DEBUG=1 to see them).
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { demoCommand } from './commands/demo.ts';
import { predictCommand } from './commands/predict.ts';
import { visualizeCommand } from './commands/visualize.ts';
import { validateCommand } from './commands/validate.ts';
import { workerCommand } from './commands/worker.ts';
import { EXIT, CliExit } from './exit.ts';
import { cliIo, processIo, useIo, type CliIo } from './io.ts';

/** Builds the program; exported so tests can parse arguments in-process. */
export function buildProgram(): Command {
  const program = new Command('coco-stitcher')
    .description('Stitch sliding-window predictions into Cloud Optimized GeoTIFFs registered in kwcoco manifests')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => cliIo.out(s), writeErr: (s) => cliIo.err(s) });
  program.addCommand(demoCommand());
  program.addCommand(predictCommand());
  program.addCommand(visualizeCommand());
  program.addCommand(validateCommand());
  program.addCommand(workerCommand());
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: (s) => cliIo.out(s), writeErr: (s) => cliIo.err(s) });
  return program;
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram();
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
    const e = err as Error;
    cliIo.err(`coco-stitcher: error: ${e?.message ?? String(err)}\n`);
    if (process.env.COCO_STITCHER_DEBUG) cliIo.err(`${e?.stack ?? ''}\n`);
    return EXIT.usage;
  } finally {
    restore();
  }
}

// Run directly (node --import tsx src/cli/main.ts); bin/coco-stitcher.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
