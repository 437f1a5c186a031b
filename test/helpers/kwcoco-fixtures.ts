/**
 * The Python kwcoco fixtures (/work/shared/fixtures/kwcoco-py): the request
 * index and the expected arrays (raw little-endian float32, H x W x C).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const KWCOCO_FIXTURES = '/work/shared/fixtures/kwcoco-py';

/** One entry of expected/index.json (fields used by the tests). */
export interface FixtureEntry {
  bundle: string;
  manifest: string;
  image_id: number;
  channels: string;
  space: 'image' | 'video' | 'asset';
  interpolation: 'nearest' | 'linear';
  kind: string;
  shape?: [number, number, number];
  file?: string;
  dtype?: string;
  nearest_paths?: string[];
  resample?: string[];
  nan_count?: number;
  error?: string;
}

/** Every entry of expected/index.json. */
export function fixtureEntries(): FixtureEntry[] {
  return JSON.parse(readFileSync(join(KWCOCO_FIXTURES, 'expected', 'index.json'), 'utf8')).entries;
}

/** The expected array of an entry. */
export function expectedArray(e: FixtureEntry): Float32Array {
  if (!e.file) throw new Error(`entry ${e.bundle} ${e.image_id} ${e.channels} has no array (error: ${e.error})`);
  const buf = readFileSync(join(KWCOCO_FIXTURES, e.file));
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** A short name of an entry for test titles. */
export function entryName(e: FixtureEntry): string {
  return `${e.bundle} img${e.image_id} ${e.channels} ${e.space}/${e.interpolation}`;
}
