import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const BIN = fileURLToPath(new URL('../../bin/coco-stitcher.js', import.meta.url));

test('--version prints package.json\'s version (sources under tsx)', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), PACKAGE.version);
});

test('--version prints package.json\'s version (the bin, from dist/)', () => {
  const out = execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
  assert.equal(out.trim(), PACKAGE.version);
});
