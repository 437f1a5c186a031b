/**
 * Manifests that would take the process down: zips inflating to gigabytes,
 * corrupt zips, JSON nested 200k deep, files over the manifest limit. Each
 * must stop early with a ManifestError naming the file (and member) and the
 * limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { ManifestError } from '../../src/coco/errors.ts';
import { MAX_NESTING, manifestByteLimit } from '../../src/coco/manifest-io.ts';
import { setMemoryBudget } from '../../src/array/memory-budget.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { deflateMember, deflateZeros, zipBytes } from './zip-bytes.ts';

const dir = scratchDir('manifest-bombs-');
const MiB = 1024 * 1024;
const write = (name: string, bytes: Uint8Array | string) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
const isManifestError = (re: RegExp) => (e: unknown) => e instanceof ManifestError && re.test(e.message);

test('a zip member that inflates past the limit stops at the limit, whatever size it declares', async (t) => {
  t.after(() => setMemoryBudget(undefined));
  setMemoryBudget(64 * MiB); // manifest limit 8 MiB
  assert.equal(manifestByteLimit(), 8 * MiB);
  const prefix = Buffer.from('{"images": [], "x": "');
  const data = deflateZeros(prefix, 3 * 1024); // 3 GiB of zeros in a few KB
  assert.ok(data.length < 4 * MiB);
  for (const declared of [100, 3 * 1024 * MiB, 0xffffffff]) {
    const path = write(`bomb-${declared}.kwcoco.zip`, zipBytes([{ name: 'bomb.kwcoco.json', method: 8, data, crc: 0, size: declared }]));
    const before = process.memoryUsage().rss;
    await assert.rejects(CocoDataset.load(path),
      isManifestError(new RegExp(`${path.replace(/[.]/g, '\\.')}: member bomb\\.kwcoco\\.json (inflates to|declares).* more than 8\\.00 MiB, the limit for a manifest.*--memory-budget`)));
    assert.ok(process.memoryUsage().rss - before < 200 * MiB, 'bounded memory');
  }
});

test('at the default budget a 3 GiB member is refused without dying', async () => {
  const data = deflateZeros(Buffer.from('{"a": "'), 3 * 1024);
  const path = write('default.kwcoco.zip', zipBytes([{ name: 'a.json', method: 8, data, crc: 0, size: 1 }]));
  await assert.rejects(CocoDataset.load(path), isManifestError(/member a\.json inflates to more than \d+ MiB/));
});

test('zip CRC errors, truncated members and unknown methods are reported, naming the zip and member', async () => {
  const json = Buffer.from(JSON.stringify({ images: [{ id: 1, file_name: 'a.tif' }] }));
  const good = write('good.kwcoco.zip', zipBytes([deflateMember('good.kwcoco.json', json)]));
  assert.equal((await CocoDataset.load(good)).index.imgs.size, 1);
  const badCrc = write('crc.kwcoco.zip', zipBytes([deflateMember('crc.kwcoco.json', json, crc32(json) ^ 1)]));
  await assert.rejects(CocoDataset.load(badCrc), isManifestError(/crc\.kwcoco\.zip: member crc\.kwcoco\.json of the zip is corrupt: CRC-32 of its \d+ bytes is 0x[0-9a-f]{8}, the zip says 0x/));
  // a bit flipped inside the stored data: CRC catches what inflate cannot
  const stored = { name: 's.json', method: 0 as const, data: Buffer.from(json), crc: crc32(json), size: json.length };
  stored.data[5] ^= 0x20;
  await assert.rejects(CocoDataset.load(write('stored.kwcoco.zip', zipBytes([stored]))), isManifestError(/member s\.json of the zip is corrupt: CRC-32/));
  const m = deflateMember('t.json', json);
  const truncated = { ...m, data: m.data.subarray(0, m.data.length >> 1) };
  await assert.rejects(CocoDataset.load(write('trunc.kwcoco.zip', zipBytes([truncated]))), isManifestError(/trunc\.kwcoco\.zip: member t\.json of the zip is corrupt|not a readable zip/));
  const lzma = { ...deflateMember('l.json', json), method: 14 as never };
  await assert.rejects(CocoDataset.load(write('lzma.kwcoco.zip', zipBytes([lzma]))), isManifestError(/lzma\.kwcoco\.zip.*(compression method 14|not a readable zip)/));
});

test('JSON nested 200k deep, or past the limit anywhere, is a ManifestError naming the file', async () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const cases: [string, string][] = [
    ['top.kwcoco.json', deep(200_000)],
    ['inner.kwcoco.json', `{"images": [{"id": 1, "file_name": "a.tif", "extra": ${deep(200_000)}}]}`],
    ['objects.kwcoco.json', `{"info": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}`],
    ['justover.kwcoco.json', `{"info": ${deep(MAX_NESTING)}}`],
    ['syntax.kwcoco.json', `{"info": ${'['.repeat(50_000)}`], // invalid and deep
    ['nan.kwcoco.json', `{"info": ${'['.repeat(5000)}NaN${']'.repeat(5000)}}`], // Python tokens take the other parser
  ];
  for (const [name, text] of cases) {
    const path = write(name, text);
    await assert.rejects(CocoDataset.load(path), isManifestError(new RegExp(`${name.replace(/[.]/g, '\\.')}.*(nests|nested) deeper than ${MAX_NESTING} levels`)), name);
  }
  const zpath = write('deep.kwcoco.zip', zipBytes([deflateMember('deep.kwcoco.json', Buffer.from(deep(200_000)))]));
  await assert.rejects(CocoDataset.load(zpath), isManifestError(/deep\.kwcoco\.zip!deep\.kwcoco\.json: the manifest nests deeper than 1000 levels/));
  // just under the limit loads
  const ok = write('ok.kwcoco.json', `{"info": ${deep(MAX_NESTING - 2)}}`);
  assert.ok(await CocoDataset.load(ok));
});

test('a manifest file over the limit is refused before it is read', async (t) => {
  t.after(() => setMemoryBudget(undefined));
  setMemoryBudget(8 * MiB); // limit 1 MiB
  const path = write('big.kwcoco.json', `{"images": [], "pad": "${' '.repeat(2 * MiB)}"}`);
  await assert.rejects(CocoDataset.load(path), isManifestError(/big\.kwcoco\.json: the manifest file has 2\.00 MiB, over the limit of 1\.00 MiB/));
  setMemoryBudget(64 * MiB);
  assert.ok(await CocoDataset.load(path));
});
