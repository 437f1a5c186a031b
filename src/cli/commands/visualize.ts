/**
 * `coco-stitcher visualize`: pictures of stitched predictions.
 */
import { Command, Option } from 'commander';
import { runVisualize } from '../visualize/run-visualize.ts';
import { parsePositiveInteger } from '../parse.ts';
import { cliIo } from '../io.ts';
import { memoryBudgetOption, withMemoryBudget } from '../memory-budget-option.ts';

export function visualizeCommand(): Command {
  return new Command('visualize')
    .description('render each image with its stitched channels as heatmaps (beside and overlaid), and a contact sheet per video')
    .argument('<manifest>', 'kwcoco manifest with stitched predictions')
    .requiredOption('--channels <code>', 'channels to show as heatmaps, e.g. "pred.1"')
    .option('--out <dir>', 'output folder', 'visualize')
    .option('--base <code>', 'channels of the picture underneath (default r|g|b when present)')
    .addOption(new Option('--space <space>', 'space to render in (default: video when the manifest has videos, else image)').choices(['video', 'image']))
    .option('--max-size <px>', 'longest side of a panel', parsePositiveInteger('max-size'), 512)
    .addOption(memoryBudgetOption())
    .action(async (manifest: string, o) => {
      const res = await withMemoryBudget(o.memoryBudget, () =>
        runVisualize({ src: manifest, channels: o.channels, out: o.out, base: o.base, space: o.space, maxSize: o.maxSize }));
      for (const p of [...res.images, ...res.sheets]) cliIo.out(`${p}\n`);
    });
}
