/**
 * `coco-stitcher validate`: one line per problem, exit code 1 when any.
 */
import { Command } from 'commander';
import { validateBundle } from '../validate/validate-bundle.ts';
import { CliExit, EXIT } from '../exit.ts';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a manifest against kwcoco\'s schema and every asset (exists, readable, size, bands, COG layout, quantization)')
    .argument('<manifest>', 'kwcoco manifest')
    .action(async (manifest: string) => {
      const problems = await validateBundle(manifest);
      for (const p of problems) process.stdout.write(`${p.where}: ${p.message}\n`);
      if (problems.length) {
        process.stderr.write(`${problems.length} problem(s) in ${manifest}\n`);
        throw new CliExit(EXIT.problems);
      }
      process.stdout.write(`${manifest}: valid\n`);
    });
}
