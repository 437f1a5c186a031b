/**
 * The Python kwcoco fixtures (fixtures/kwcoco-py in the shared folder, see
 * shared.ts): the request index and the expected arrays (raw little-endian
 * float32, H x W x C).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath, skipWithoutShared } from './shared.ts';

export const KWCOCO_FIXTURES = sharedPath('fixtures', 'kwcoco-py');

/** false when the fixtures are there, otherwise why the tests that read them skip. */
export const SKIP_WITHOUT_FIXTURES = skipWithoutShared('fixtures', 'kwcoco-py');

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
  if (SKIP_WITHOUT_FIXTURES) return [];
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
