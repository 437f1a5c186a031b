/**
 * scripts/test-setup.sh, the set-up `npm test` runs first: with every
 * package installed (as dpkg says) it does nothing; where it can neither be
 * root nor use sudo, a missing package gives one message naming it and a
 * failing exit, without touching apt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-setup.sh', import.meta.url));
// the packages of the script's one list (REQUIREMENTS: one line per package, its name first)
const PACKAGES = /^REQUIREMENTS='\n([^']*)'$/m.exec(readFileSync(SCRIPT, 'utf8'))![1]!.split('\n').filter(Boolean).map((line) => line.split(' ')[0]!);

const dpkgInstalled = (pkg: string) =>
  spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' }).stdout === 'install ok installed';
const isRoot = process.getuid?.() === 0;
const hasNobody = spawnSync('id', ['-u', 'nobody']).status === 0;

test('its list holds what the tests need: GDAL, the addon\'s libraries and pkg-config, redis-server', () => {
  for (const pkg of ['gdal-bin', 'python3-gdal', 'libdeflate-dev', 'libjpeg-dev', 'libzstd-dev', 'pkg-config', 'redis-server']) assert.ok(PACKAGES.includes(pkg), pkg);
});

test('with every package installed it does nothing, silently', { skip: PACKAGES.every(dpkgInstalled) ? false : 'not every package is installed here' }, () => {
  const res = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout + res.stderr, '');
});

test('neither root nor sudo: one message listing what is missing, exit 1', { skip: isRoot && hasNobody ? false : 'needs root, to run the script as nobody' }, () => {
  // python3-gdal counts as missing when GDAL_PYTHON cannot import osgeo.gdal; the script comes on stdin, since nobody may not read the checkout
  const res = spawnSync('su', ['-s', '/bin/bash', 'nobody', '-c', 'GDAL_PYTHON=/nonexistent/python3 bash -s'], { input: readFileSync(SCRIPT), encoding: 'utf8' });
  assert.equal(res.status, 1, res.stdout + res.stderr);
  assert.equal(res.stdout, '');
  assert.match(res.stderr, /^test-setup: the tests need these Debian packages, which are missing:\n {2}python3-gdal\n/);
  assert.match(res.stderr, /sudo apt-get install -y python3-gdal\n$/);
});
