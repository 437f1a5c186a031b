/**
 * `coco-stitcher predict`: run an ONNX model over a kwcoco dataset and
 * register the stitched predictions.
 */
import { Command, Option } from 'commander';
import { CliExit, EXIT } from '../exit.ts';
import { parseNumber, parseNumberList, parseMinmax } from '../parse.ts';
import { cliIo } from '../io.ts';

export function predictCommand(): Command {
  return new Command('predict')
    .description('run an ONNX model with a sliding window over every image and write stitched predictions')
    .requiredOption('--src <manifest>', 'input kwcoco manifest (.kwcoco.json, .json, .kwcoco.zip)')
    .requiredOption('--dst <manifest>', 'output kwcoco manifest; predictions go to <dst folder>/_assets/<short-code>/')
    .requiredOption('--model <file.onnx>', 'ONNX model: one NCHW float input, NCHW float output')
    .requiredOption('--channels <code>', 'input channel code, e.g. "r|g|b"')
    .option('--chan-code <code>', 'output channel code (default <short-code>.0|... from the model output size)')
    .option('--window <px>', 'window size in pixels of the (input-scaled) stitching space', parseNumber('window'), 256)
    .option('--overlap <frac>', 'window overlap in [0, 1)', parseNumber('overlap'), 0.3)
    .addOption(new Option('--space <space>', 'stitching space').choices(['video', 'image']).default('video'))
    .option('--input-scale <s>', 'read windows at this scale of the stitching space', parseNumber('input-scale'), 1)
    .option('--output-scale <s>', 'model output size relative to its input', parseNumber('output-scale'), 1)
    .option('--batch-size <n>', 'windows per model call', parseNumber('batch-size'), 8)
    .option('--downweight-edges', 'weight window centres more than their edges', false)
    .addOption(new Option('--prob-format <fmt>', 'output format').choices(['cog', 'tif', 'png']).default('cog'))
    .addOption(new Option('--compress <c>', 'COG compression').choices(['DEFLATE', 'LZW', 'ZSTD', 'NONE']).default('DEFLATE'))
    .option('--quantize', 'quantize to int16 (uint8 for png) with the range stored in the manifest (default)', true)
    .option('--no-quantize', 'write float32 values as they are')
    .option('--expected-minmax <min,max>', 'fixed value range for quantization, e.g. 0,1', parseMinmax)
    .option('--short-code <name>', 'folder name of the new assets', 'pred')
    .option('--memmap [folder]', 'keep stitching canvases in a file (in <folder>, or a temp folder)')
    .option('--threads <n>', 'model threads (default: onnxruntime decides)', parseNumber('threads'))
    .option('--mean <values>', 'per-channel mean subtracted before the model, e.g. 0.5 or 0.4,0.5,0.6', parseNumberList('mean'))
    .option('--std <values>', 'per-channel divisor after the mean, e.g. 255', parseNumberList('std'))
    .option('--no-progress', 'no progress bars')
    .option('--queue <redis-url>', 'run through the workers of this Redis (redis://HOST:PORT[/DB]); see `coco-stitcher worker`')
    .option('--run-id <id>', 'with --queue: names the run (default: derived from --dst, so the same command resumes)')
    .addOption(new Option('--shard <by>', 'with --queue: one job per video or per image').choices(['video', 'image']).default('video'))
    .option('--attempts <n>', 'with --queue: runs of a failing shard before it is reported', parseNumber('attempts'), 3)
    .option('--backoff <s>', 'with --queue: wait before the first retry of a shard, doubled for each next one', parseNumber('backoff'), 1)
    .option('--redis-timeout <s>', 'with --queue: stop when Redis has not answered for this long', parseNumber('redis-timeout'), 60)
    .action(async (o) => {
      const controller = new AbortController();
      const onSigint = () => {
        cliIo.err('\ninterrupted: finishing images already being written, then saving a partial manifest\n');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        // loaded on use: the other commands start without the model runtime and the stitcher
        const options = {
          src: o.src, dst: o.dst, model: o.model, channels: o.channels, chanCode: o.chanCode,
          window: o.window, overlap: o.overlap, space: o.space, inputScale: o.inputScale,
          outputScale: o.outputScale, batchSize: o.batchSize, downweightEdges: o.downweightEdges,
          probFormat: o.probFormat, compress: o.compress, quantize: o.quantize,
          expectedMinmax: o.expectedMinmax, shortCode: o.shortCode, memmap: o.memmap ?? false,
          threads: o.threads, mean: o.mean, std: o.std, progress: o.progress, signal: controller.signal,
        };
        if (o.queue !== undefined) return await (await import('./predict-distributed.ts')).predictDistributedCommand(options, o);
        const { runPredict } = await import('../../predict/run-predict.ts');
        const summary = await runPredict(options);
        const s = summary.seconds;
        cliIo.out(
          `${summary.interrupted ? 'interrupted: wrote' : 'wrote'} ${summary.images} image(s), ${summary.windows} window(s) -> ${summary.dst}\n`
          + `time ${s.total.toFixed(2)} s (read ${s.read.toFixed(2)}, model ${s.model.toFixed(2)}, stitch ${s.stitch.toFixed(2)}, write ${s.write.toFixed(2)})\n`,
        );
        if (summary.interrupted) throw new CliExit(EXIT.interrupted);
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
