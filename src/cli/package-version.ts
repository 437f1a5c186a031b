/**
 * The version in our package.json, read at run time so `--version` cannot
 * drift from the release. The file sits two folders up both from src/cli/
 * (under tsx) and from dist/cli/ (built), and npm always ships it.
 */
import { readFileSync } from 'node:fs';
import { InternalError } from '../array/errors.ts';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new InternalError('package.json has no version string');
  return pkg.version;
}
