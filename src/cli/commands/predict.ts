/**
 * `coco-stitcher predict`: run an ONNX model over a kwcoco dataset and
 * register the stitched predictions.
 */
import { Command, Option } from 'commander';
import { CliExit, EXIT } from '../exit.ts';
import { parseFraction, parseNumber, parseNumberList, parseMinmax } from '../parse.ts';
import { cliIo } from '../io.ts';
import { setMemoryBudget } from '../../array/memory-budget.ts';
import { memoryBudgetOption } from '../memory-budget-option.ts';

export function predictCommand(): Command {
  return new Command('predict')
    .description('run an ONNX model with a sliding window over every image and write stitched predictions')
    .requiredOption('--src <manifest>', 'input kwcoco manifest (.kwcoco.json, .json, .kwcoco.zip), or image files (GeoTIFF, PNG, JPEG): a path, a quoted glob like "scenes/*.tif", or a URL; their manifest is written as <dst name>-inputs.kwcoco.json')
    .option('--src-channels <code>', 'channel code of --src image files (default u0|u1|... from their band count)')
    .requiredOption('--dst <manifest>', 'output kwcoco manifest; predictions go to <dst folder>/_assets/<short-code>/')
    .requiredOption('--model <file.onnx>', 'ONNX model: one NCHW float input, NCHW float output')
    .requiredOption('--channels <code>', 'input channel code, e.g. "r|g|b"; an asset without channels but with num_bands n has bands u0|u1|...|u{n-1}, e.g. "u0|u2"')
    .option('--chan-code <code>', 'output channel code (default <short-code>.0|... from the model output size)')
    .option('--window <px>', 'window size in pixels of the (input-scaled) stitching space (default 256, or the model\'s fixed input height and width)', parseNumber('window'))
    .option('--overlap <frac>', 'window overlap in [0, 1)', parseNumber('overlap'), 0.3)
    .addOption(new Option('--space <space>', 'stitching space (default: video when the manifest has videos, else image; images without a video are read in image space)').choices(['video', 'image']))
    .addOption(new Option('--missing-channels <how>', 'a --channels band an image lacks (multi-sensor data): nan reads it as NaN, given to the model as 0 after --mean/--std (the channel\'s mean); error refuses the run').choices(['nan', 'error']).default('nan'))
    .option('--input-scale <s>', 'read windows at this scale of the stitching space', parseNumber('input-scale'), 1)
    .option('--output-scale <s>', 'model output size relative to its input', parseNumber('output-scale'), 1)
    .option('--batch-size <n>', 'windows per model call (default: about 128 x 128 pixels per call, so 1 for windows of 128 px and more, at most 8; a model with a fixed batch dimension sets it)', parseNumber('batch-size'))
    .option('--pad-to <n>', 'give the model each window padded (below and right, with 0 after normalisation) to a multiple of n pixels, e.g. 32 for most fully convolutional networks, and crop its output back', parseNumber('pad-to'))
    .option('--downweight-edges', 'weight window centres more than their edges', false)
    .addOption(new Option('--prob-format <fmt>', 'output format').choices(['cog', 'tif', 'png']).default('cog'))
    .addOption(new Option('--compress <c>', 'COG compression').choices(['DEFLATE', 'LZW', 'ZSTD', 'NONE']).default('DEFLATE'))
    .option('--quantize', 'quantize to int16 (uint8 for png) with the range stored in the manifest and, for GDAL-based tools, as each band\'s scale / offset (default)', true)
    .option('--no-quantize', 'write float32 values as they are')
    .option('--expected-minmax <min,max>', 'fixed value range for quantization, e.g. 0,1', parseMinmax)
    .option('--short-code <name>', 'folder name of the new assets', 'pred')
    .option('--memmap [folder]', 'keep stitching canvases in a file (in <folder>, or a temp folder)')
    .option('--threads <n>', 'model threads (default: onnxruntime decides)', parseNumber('threads'))
    .option('--scale <s>', 'multiply raw pixel values by s first, e.g. 1/255 (then --mean and --std are in the scaled units, as model cards give them)', parseFraction('scale'))
    .option('--mean <values>', 'per-channel mean subtracted before the model, in raw pixel units (or after --scale), e.g. 0.5 or 0.485,0.456,0.406', parseNumberList('mean'))
    .option('--std <values>', 'per-channel divisor after the mean, in raw pixel units (or after --scale), e.g. 255 or 0.229,0.224,0.225', parseNumberList('std'))
    .addOption(new Option('--nan-policy <policy>', 'NaN in the model output: omit (no weight for that value) or raise (stop with an error)').choices(['omit', 'raise']).default('omit'))
    .addOption(new Option('--inf-policy <policy>', 'Inf in the model output: raise (stop with an error) or omit (no weight, as NaN)').choices(['raise', 'omit']).default('raise'))
    .addOption(memoryBudgetOption())
    .option('--no-progress', 'no progress bars')
    .option('--queue <redis-url>', 'run through the workers of this Redis (redis://HOST:PORT[/DB]); see `coco-stitcher worker`')
    .option('--run-id <id>', 'with --queue: names the run (default: derived from --dst, so the same command resumes)')
    .option('--shard <by>', 'with --queue: one job per video, per image, or per SIZE x SIZE region of each image\'s output (region:SIZE, SIZE a multiple of 128; region: 6144)', 'video')
    .option('--attempts <n>', 'with --queue: runs of a failing shard before it is reported', parseNumber('attempts'), 3)
    .option('--backoff <s>', 'with --queue: wait before the first retry of a shard, doubled for each next one', parseNumber('backoff'), 1)
    .option('--redis-timeout <s>', 'with --queue: stop when Redis has not answered for this long', parseNumber('redis-timeout'), 60)
    .action(async (o) => {
      if (o.memoryBudget !== undefined) setMemoryBudget(o.memoryBudget);
      // SIGTERM (timeout, docker, Slurm, systemd) and SIGHUP (a closed terminal) stop as Ctrl-C does
      const controller = new AbortController();
      let stoppedBy: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals) => {
        stoppedBy ??= signal;
        cliIo.err(`\n${SIGNAL_WORD[signal]}: finishing images already being written, then saving a partial manifest\n`);
        controller.abort();
      };
      for (const sig of STOP_SIGNALS) process.once(sig, onSignal);
      try {
        // loaded on use: the other commands start without the model runtime and the stitcher
        const options = {
          src: o.src, srcChannels: o.srcChannels, dst: o.dst, model: o.model, channels: o.channels, chanCode: o.chanCode,
          window: o.window, overlap: o.overlap, space: o.space, missingChannels: o.missingChannels, inputScale: o.inputScale,
          outputScale: o.outputScale, batchSize: o.batchSize, padTo: o.padTo, scale: o.scale, downweightEdges: o.downweightEdges,
          probFormat: o.probFormat, compress: o.compress, quantize: o.quantize,
          expectedMinmax: o.expectedMinmax, shortCode: o.shortCode, memmap: o.memmap ?? false,
          threads: o.threads, mean: o.mean, std: o.std, nanPolicy: o.nanPolicy, infPolicy: o.infPolicy,
          progress: o.progress, signal: controller.signal,
          onWarning: (m: string) => cliIo.err(`warning: ${m}\n`),
        };
        if (o.queue !== undefined) return await (await import('./predict-distributed.ts')).predictDistributedCommand(options, o);
        const { runPredict } = await import('../../predict/run-predict.ts');
        const { PartialResultError } = await import('../../predict/errors.ts');
        let summary;
        try {
          summary = await runPredict(options);
        } catch (err) {
          if (!(err instanceof PartialResultError)) throw err;
          cliIo.err(`coco-stitcher: error: ${err.message}\n`);
          throw new CliExit(EXIT.partial, err.message);
        }
        const s = summary.seconds;
        cliIo.out(
          `${summary.interrupted ? `${SIGNAL_WORD[stoppedBy ?? 'SIGINT']}: wrote` : 'wrote'} ${summary.images} image(s), ${summary.windows} window(s) in ${summary.space} space -> ${summary.dst}\n`
          + (summary.emptyImages.length ? `${summary.emptyImages.length} image(s) all nodata: the model output no finite value for them (image ids ${summary.emptyImages.slice(0, 20).join(', ')}${summary.emptyImages.length > 20 ? ', ...' : ''})\n` : '')
          + `time ${s.total.toFixed(2)} s (read ${s.read.toFixed(2)}, model ${s.model.toFixed(2)}, stitch ${s.stitch.toFixed(2)}, write ${s.write.toFixed(2)})\n`,
        );
        if (summary.interrupted) throw new CliExit(SIGNAL_EXIT[stoppedBy ?? 'SIGINT']);
      } finally {
        for (const sig of STOP_SIGNALS) process.removeListener(sig, onSignal);
        if (o.memoryBudget !== undefined) setMemoryBudget(undefined);
      }
    });
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_WORD: Record<string, string> = { SIGINT: 'interrupted', SIGTERM: 'terminated', SIGHUP: 'hung up' };
const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.interrupted, SIGTERM: EXIT.terminated, SIGHUP: EXIT.hangup };
