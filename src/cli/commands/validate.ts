/**
 * `coco-stitcher validate`: one line per problem, exit code 1 when any.
 */
import { Command } from 'commander';
import { validateBundle } from '../validate/validate-bundle.ts';
import { CliExit, EXIT } from '../exit.ts';
import { cliIo } from '../io.ts';
import { memoryBudgetOption, withMemoryBudget } from '../memory-budget-option.ts';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a manifest as predict reads it: kwcoco\'s schema, declared sizes and warps, and every asset ' +
      '(exists, every block decodes, size, bands, channels, quantization; a TIFF that is not a COG is a note, not a problem)')
    .argument('<manifest>', 'kwcoco manifest')
    .option('--quick', 'check file headers only (block offsets, codecs); decode no block')
    .addOption(memoryBudgetOption())
    .action(async (manifest: string, o: { quick?: boolean; memoryBudget?: number }) => {
      const found = await withMemoryBudget(o.memoryBudget, () => validateBundle(manifest, { quick: o.quick === true }));
      for (const p of found) if (p.note) cliIo.err(`note: ${p.where}: ${p.message}\n`);
      const problems = found.filter((p) => !p.note);
      for (const p of problems) cliIo.out(`${p.where}: ${p.message}\n`);
      if (problems.length) {
        cliIo.err(`${problems.length} problem(s) in ${manifest}\n`);
        throw new CliExit(EXIT.problems);
      }
      cliIo.out(`${manifest}: valid\n`);
    });
}
