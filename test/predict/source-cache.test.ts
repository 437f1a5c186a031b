/**
 * SourceCache: a manifest is parsed once per version of its file (the same
 * dataset object comes back), read again when the file changes or is
 * replaced, and a failed load is neither cached nor hiding the path.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceCache } from '../../src/predict/source-cache.ts';
import { scratchDir } from '../helpers/scratch.ts';

const manifest = (n: number) => JSON.stringify({
  images: Array.from({ length: n }, (_, i) => ({ id: i + 1, file_name: `img${i + 1}.png`, width: 4, height: 4 })),
});

describe('SourceCache', () => {
  const root = scratchDir('source-cache-');
  const dst = join(root, 'out.kwcoco.json');

  it('the same file gives the same dataset; an edit, a replacement or a new mtime reads it again', async () => {
    const src = join(root, 'a.kwcoco.json');
    writeFileSync(src, manifest(2));
    const cache = new SourceCache();
    const first = await cache.load(src, { dst });
    assert.equal(first.imageIds().length, 2);
    assert.equal(await cache.load(src, { dst }), first, 'parsed again though the file did not change');
    assert.equal(first.fpath, src);

    writeFileSync(src, manifest(3)); // edited in place
    const second = await cache.load(src, { dst });
    assert.notEqual(second, first);
    assert.equal(second.imageIds().length, 3);

    writeFileSync(`${src}.new`, manifest(3).replace('img1.png', 'img9.png')); // same size, another file
    renameSync(`${src}.new`, src);
    const third = await cache.load(src, { dst });
    assert.notEqual(third, second);
    assert.equal(third.index.imgs.get(1)?.file_name, 'img9.png');

    const later = new Date(Date.now() + 60_000);
    utimesSync(src, later, later); // touched
    assert.notEqual(await cache.load(src, { dst }), third);
  });

  it('a missing or broken manifest fails naming the path, and is read again once it is there', async () => {
    const src = join(root, 'late.kwcoco.json');
    const cache = new SourceCache();
    await assert.rejects(cache.load(src, { dst }), (err: Error) => err.message.includes(src));
    writeFileSync(src, '{"images": [');
    await assert.rejects(cache.load(src, { dst }), (err: Error) => err.message.includes(src));
    writeFileSync(src, manifest(1));
    assert.equal((await cache.load(src, { dst })).imageIds().length, 1);
  });

  it('keeps at most `max` manifests, the least recently used going first', async () => {
    const cache = new SourceCache(2);
    const paths = ['x', 'y', 'z'].map((n) => join(root, `${n}.kwcoco.json`));
    for (const p of paths) writeFileSync(p, manifest(1));
    const x = await cache.load(paths[0], { dst });
    const y = await cache.load(paths[1], { dst });
    assert.equal(await cache.load(paths[0], { dst }), x); // x used last: y goes first
    await cache.load(paths[2], { dst });
    assert.equal(await cache.load(paths[0], { dst }), x);
    assert.notEqual(await cache.load(paths[1], { dst }), y);
  });
});
