/**
 * First touch of the Stitcher's block memory: a fresh WebAssembly memory the size of a
 * 4096x4096x4 float32 canvas's blocks (1024 slots of 320 KiB), faulted in slot by slot as
 * block-store.ts does (MADV_POPULATE_WRITE over each slot's first 256 KiB, through the addon),
 * then written once per 4 KiB page (what the first accumulate does next), then written again:
 * with 4 KiB pages, and advised MADV_HUGEPAGE first. Each run in its own child process
 * (fresh memory), the two kinds alternating; on a VM the cost depends on whether the host still
 * backs the free memory the guest hands out (it does not after the guest reported it free), so
 * several runs show the spread. Needs the addon.
 * `npm run bench -- block-memory`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '../src/io/native-addon.ts';
import { Wasm } from '../src/stitch/wasm-kernels.ts';

const SLOT = 320 * 1024, SLOTS = 1024, LAZY = 64 * 1024;
const mode = process.argv[2];
if (mode === '4k' || mode === 'huge') {
  const lib = nativeAddon()!;
  const m = new Wasm.Memory({ initial: (SLOT * SLOTS) / 65536 + 1, maximum: 32768 });
  const t0 = performance.now();
  if (mode === 'huge') lib.adviseHugePages(m.buffer, 0, m.buffer.byteLength);
  for (let i = 0; i < SLOTS; i++) lib.prefault(m.buffer, 65536 + i * SLOT, SLOT - LAZY);
  const t1 = performance.now();
  const u8 = new Uint8Array(m.buffer);
  for (let o = 65536; o < u8.length; o += 4096) u8[o] = 1;
  const t2 = performance.now();
  for (let o = 65536 + 64; o < u8.length; o += 4096) u8[o] = 2;
  const t3 = performance.now();
  console.log(JSON.stringify({ prefault: t1 - t0, first: t2 - t1, second: t3 - t2 }));
} else {
  if (!nativeAddon()) { console.log('needs the native addon'); process.exit(0); }
  const self = fileURLToPath(import.meta.url);
  const load = async () => (await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ');
  console.log(`load: ${await load()}`);
  console.log(`| pages | prefault ms (${(SLOT * SLOTS / 2 ** 20).toFixed(0)} MiB of slots) | first write per 4 KiB page ms | second write ms | total ms |\n|---|---|---|---|---|`);
  for (let run = 0; run < 3; run++) {
    for (const kind of ['4k', 'huge']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, kind], { encoding: 'utf8' });
      if (r.status !== 0) { console.log(`| ${kind} | failed: ${r.stderr.trim().split('\n').pop()} |`); continue; }
      const o = JSON.parse(r.stdout.trim().split('\n').pop()!);
      console.log(`| ${kind === 'huge' ? 'MADV_HUGEPAGE (2 MiB)' : '4 KiB'} | ${o.prefault.toFixed(0)} | ${o.first.toFixed(0)} | ${o.second.toFixed(0)} | ${(o.prefault + o.first).toFixed(0)} |`);
    }
  }
  console.log(`load at the end: ${await load()}`);
}
