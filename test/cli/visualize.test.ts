/**
 * visualize: bad --max-size values refused, names too long for the file
 * system shortened (as predict names its assets), and work bounded per
 * image: contact sheets are written as they fill, so their total size grows
 * with the number of images and no sheet grows past its bound.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { readPng } from '../../src/io/png.ts';
import { runVisualize } from '../../src/cli/visualize/run-visualize.ts';
import { BACKGROUND } from '../../src/cli/visualize/compose.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const S = 16;
const GAP = 4;

describe('visualize', () => {
  let root: string;
  let manifest: string;
  const longName = `${'very-long-name-'.repeat(30)}end`; // 453 characters: over the 255-byte limit of a file name
  before(async () => {
    root = scratchDir('visualize-');
    await writeCog(join(root, 'rgb.tif'), new Raster(Uint8Array.from({ length: S * S * 3 }, (_, i) => (i * 7) % 256), [S, S, 3]), { compress: 'NONE', overviews: [] });
    await writeCog(join(root, 'pred.tif'), new Raster(Float32Array.from({ length: S * S }, (_, i) => (i % 17) / 17), [S, S, 1]), { compress: 'NONE', overviews: [] });
    const images = [];
    // 40 frames of one video (with a long name), 5 images without a video (one with a long name)
    for (let i = 1; i <= 45; i++) {
      images.push({
        id: i, name: i === 2 || i === 44 ? `${longName}-${i}` : `img${i}`, width: S, height: S,
        ...(i <= 40 ? { video_id: 1, frame_index: i } : {}),
        assets: [{ file_name: 'rgb.tif', channels: 'r|g|b', width: S, height: S }, { file_name: 'pred.tif', channels: 'pred.0', width: S, height: S }],
      });
    }
    manifest = join(root, 'data.kwcoco.json');
    writeFileSync(manifest, JSON.stringify({ videos: [{ id: 1, name: longName, width: S, height: S }], images, categories: [] }));
  });

  it('--max-size must be a positive integer', async () => {
    for (const bad of ['0', '-5', '2.5', 'big', '']) {
      const r = await runCli(['visualize', manifest, '--channels', 'pred.0', '--out', join(root, 'bad'), '--max-size', bad]);
      assert.equal(r.code, 2, `--max-size ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--max-size expects (a positive integer|a number), got/);
    }
    for (const bad of [0, -1, 1.5, NaN]) {
      await assert.rejects(runVisualize({ src: manifest, channels: 'pred.0', out: join(root, 'bad'), maxSize: bad }), /--max-size must be a positive integer/);
    }
  });

  it('names too long for the file system are shortened; sheets are written as they fill, at most sheetSize thumbnails each', async () => {
    const out = join(root, 'out');
    // a killed run's half-written picture (its pid no longer runs) is removed; a live one's is kept
    const dead = spawnSync('true').pid!;
    mkdirSync(join(out, 'no-video'), { recursive: true });
    writeFileSync(join(out, 'no-video', `.img41.png.${dead}.0badc0de.tmp`), 'x');
    writeFileSync(join(out, `.other.png.${process.pid}.0badc0de.tmp`), 'x');
    const res = await runVisualize({ src: manifest, channels: 'pred.0', out, sheetSize: 16 });
    assert.equal(res.images.length, 45);
    for (const p of [...res.images, ...res.sheets]) {
      for (const part of relative(out, p).split('/')) assert.ok(Buffer.byteLength(part) <= 255, `${part.length} characters`);
    }
    assert.equal(new Set(res.images).size, 45, 'two long names must not collide');
    // 40 frames in sheets of 16: 16 + 16 + 8; 5 loose images: one sheet
    const want: [string, number][] = [['_contact.png', 16], ['_contact_2.png', 16], ['_contact_3.png', 8], ['no-video_contact.png', 5]];
    assert.equal(res.sheets.length, want.length);
    for (let k = 0; k < want.length; k++) {
      const [suffix, n] = want[k];
      assert.ok(basename(res.sheets[k]).endsWith(suffix), `${basename(res.sheets[k])} vs ${suffix}`);
      const png = await readPng(res.sheets[k]);
      const cols = Math.ceil(Math.sqrt(n));
      const rows = Math.ceil(n / cols);
      assert.deepEqual([png.height, png.width], [rows * S + (rows + 1) * GAP, cols * S + (cols + 1) * GAP]);
      // exactly n cells hold a picture (a cell left empty is background throughout)
      let filled = 0;
      for (let c = 0; c < rows * cols; c++) {
        const y = GAP + Math.floor(c / cols) * (S + GAP) + S / 2;
        const x = GAP + (c % cols) * (S + GAP) + S / 2;
        const i = (y * png.width + x) * 3;
        if (![0, 1, 2].every((b) => png.data[i + b] === BACKGROUND)) filled++;
      }
      assert.equal(filled, n, basename(res.sheets[k]));
    }
    assert.equal(readdirSync(out).filter((f) => f.endsWith('.png')).length, 4);
    assert.deepEqual(readdirSync(join(out, 'no-video')).filter((f) => f.endsWith('.tmp')), []);
    assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.tmp')), [`.other.png.${process.pid}.0badc0de.tmp`]);
  });
});
