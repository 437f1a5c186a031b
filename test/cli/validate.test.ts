import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { checkQuantization } from '../../src/cli/validate/validate-bundle.ts';
import { KWCOCO_FIXTURES as FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

describe('coco-stitcher validate', () => {
  let root: string;
  before(() => { root = mkdtempSync(join(tmpdir(), 'validate-test-')); });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const bundle of ['bundle-msi', 'bundle-probe', 'bundle-stitched']) {
    it(`says the Python-written ${bundle} is valid (exit 0)`, { skip: SKIP_WITHOUT_FIXTURES }, async () => {
      const r = await runCli(['validate', join(FIXTURES, bundle, 'data.kwcoco.json')]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /: valid\n$/);
    });
  }

  it('reports one line per problem and exits 1 on a damaged bundle', { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    const dir = join(root, 'damaged');
    cpSync(join(FIXTURES, 'bundle-stitched'), dir, { recursive: true });
    const path = join(dir, 'data.kwcoco.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    const preds = (img: any) => (img.auxiliary ?? img.assets).find((a: any) => a.channels === 'pred.0|pred.1');
    const [a1, a2, a3, a4] = manifest.images.map(preds);
    unlinkSync(join(dir, a1.file_name));                      // missing file
    a2.num_bands = 3;                                          // band count disagrees
    truncateSync(join(dir, a3.file_name), 200);                // corrupt file
    a4.quantization = { ...a4.quantization, nodata: 5 };       // nodata inside the valid range
    writeFileSync(path, JSON.stringify(manifest));
    const r = await runCli(['validate', path]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4, r.stdout);
    assert.match(lines.find((l) => l.includes(a1.file_name))!, /does not exist/);
    assert.match(lines.find((l) => l.includes(a2.file_name))!, /num_bands 3 but the file has 2 band/);
    assert.match(lines.find((l) => l.includes(a3.file_name))!, /cannot read/);
    assert.match(lines.find((l) => l.includes(a4.file_name))!, /nodata 5 lies inside the valid range 0\.\.32767/);
    assert.match(r.stderr, /4 problem\(s\)/);
  });

  it('reports schema violations and unreadable manifests', async () => {
    const bad = join(root, 'schema.kwcoco.json');
    writeFileSync(bad, JSON.stringify({ images: [{ id: 'one', file_name: 'x.tif' }] }));
    let r = await runCli(['validate', bad]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.split('\n').some((l) => l.includes('(schema)') || l.includes('id')), r.stdout);
    const broken = join(root, 'broken.kwcoco.json');
    writeFileSync(broken, '{"images": [');
    r = await runCli(['validate', broken]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes(broken), r.stdout);
    r = await runCli(['validate', join(root, 'nope.kwcoco.json')]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes('nope.kwcoco.json'), r.stdout);
  });

  it('checkQuantization: sane dicts pass, broken ones name the problem', () => {
    assert.deepEqual(checkQuantization({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 }, 'int16'), []);
    assert.match(checkQuantization({ orig_min: 2, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 }, 'int16')[0], /orig_min 2 > orig_max 1/);
    assert.match(checkQuantization({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 65535, nodata: -9999 }, 'int16')[0], /does not fit int16/);
    assert.match(checkQuantization({ orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 1, nodata: -1 }, 'float32')[0], /float32 file/);
    assert.match(checkQuantization({ orig_min: 0, quant_min: 0, quant_max: 1 }, 'uint8')[0], /lacks numeric orig_max/);
  });

  it('usage errors exit 2', async () => {
    const r = await runCli(['validate']);
    assert.equal(r.code, 2);
    const u = await runCli(['frobnicate']);
    assert.equal(u.code, 2);
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
  });
});
