/**
 * What the model's declared input shape ([N, C, H, W], numbers fixed, names
 * symbolic) means for the run: a fixed H and W set the window (and a
 * different --window is refused), a fixed C must be the --channels count, a
 * fixed N is the batch size; and the shape each window is given to the
 * model: padded up to a multiple of --pad-to, or to the fixed H x W (the
 * windows of an image smaller than the window are smaller than that).
 * Padding goes below and to the right of the window, with 0 after
 * normalisation, the value nodata (NaN) is given too.
 */
import { ValueError } from '../array/errors.ts';
import { ModelError } from './errors.ts';
import type { Settings } from './options.ts';

const fixedDim = (d: number | string | undefined): number | null => (typeof d === 'number' && Number.isInteger(d) && d > 0 ? d : null);

/** The settings with the model's fixed dimensions applied; throws naming the option that contradicts them. */
export function applyModelInput(s: Settings, declared: readonly (number | string)[] | undefined, where: string): Settings {
  if (!declared || declared.length === 0) return s;
  const shape = `[${declared.join(', ')}]`;
  if (declared.length !== 4) throw new ModelError(`model ${where} declares its input as ${shape}; predict needs NCHW (4 dimensions)`);
  const [n, c, h, w] = declared.map(fixedDim);
  const nIn = s.inChannels.numel();
  if (c !== null && c !== nIn) {
    throw new ValueError(`model ${where} takes ${c} input channels (input ${shape}) but --channels ${s.inChannels.spec} has ${nIn}`);
  }
  let out = s;
  if (n !== null) {
    if (s.batchSize !== null && s.batchSize !== n) throw new ValueError(`--batch-size ${s.batchSize} conflicts with model ${where}, whose input ${shape} takes batches of exactly ${n}; leave --batch-size out`);
    out = { ...out, batchSize: n };
  }
  if (h !== null || w !== null) {
    const wh: [number, number] = [h ?? s.window, w ?? s.window];
    if (s.windowGiven && (wh[0] !== s.window || wh[1] !== s.window)) {
      throw new ValueError(`--window ${s.window} conflicts with model ${where}, whose input ${shape} is fixed at ${h ?? 'any'} x ${w ?? 'any'} pixels (height x width); leave --window out to use the model's size`);
    }
    out = { ...out, windowShape: wh, window: Math.max(wh[0], wh[1]) };
  }
  return { ...out, fixedInput: [h, w], fixedBatch: n !== null };
}

/** The [h, w] a window of h x w pixels is given to the model as. */
export function modelInputSize(s: Settings, h: number, w: number): [number, number] {
  const [fh, fw] = s.fixedInput ?? [null, null];
  return [fh ?? Math.ceil(h / s.padTo) * s.padTo, fw ?? Math.ceil(w / s.padTo) * s.padTo];
}
