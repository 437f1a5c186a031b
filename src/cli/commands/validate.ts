/**
 * `coco-stitcher validate`: one line per problem, exit code 1 when any.
 */
import { Command } from 'commander';
import { validateBundle } from '../validate/validate-bundle.ts';
import { CliExit, EXIT } from '../exit.ts';
import { cliIo } from '../io.ts';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a manifest against kwcoco\'s schema and every asset (exists, readable, size, bands, COG layout, quantization)')
    .argument('<manifest>', 'kwcoco manifest')
    .action(async (manifest: string) => {
      const problems = await validateBundle(manifest);
      for (const p of problems) cliIo.out(`${p.where}: ${p.message}\n`);
      if (problems.length) {
        cliIo.err(`${problems.length} problem(s) in ${manifest}\n`);
        throw new CliExit(EXIT.problems);
      }
      cliIo.out(`${manifest}: valid\n`);
    });
}
