/**
 * The project's shared folder (Python kwcoco's fixtures, kwcoco's schema):
 * COCO_STITCHER_SHARED when set, otherwise `shared` beside the repository
 * (../shared from its root). Tests that need it skip, saying why, when it is
 * absent, so a checkout without it still runs every other test.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SHARED_DIR = process.env.COCO_STITCHER_SHARED || join(REPO_ROOT, '..', 'shared');

/** A path inside the shared folder. */
export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

/** false when `parts` exists in the shared folder, otherwise why a test needing it skips. */
export function skipWithoutShared(...parts: string[]): string | false {
  const path = sharedPath(...parts);
  return existsSync(path) ? false : `${path} is absent (COCO_STITCHER_SHARED names the shared folder; default ../shared from the repository root)`;
}
