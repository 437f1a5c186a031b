/**
 * The CLI's exit codes: 2 for bad arguments or bad input, 70 for anything
 * else (a bug), and the stack trace only with --debug or COCO_STITCHER_DEBUG.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { buildProgram, main } from '../../src/cli/main.ts';
import { EXIT } from '../../src/cli/exit.ts';
import { ChannelError } from '../../src/coco/errors.ts';
import { InternalError } from '../../src/array/errors.ts';

/** Runs main with its output captured; `extra` adds commands whose action throws what a test needs. */
async function run(argv: string[], extra: Record<string, () => unknown> = {}, env: Record<string, string | undefined> = {}) {
  let out = '', err = '';
  const io = { out: (s: string) => { out += s; }, err: (s: string) => { err += s; } };
  const build = () => {
    const program = buildProgram();
    for (const [name, action] of Object.entries(extra)) program.addCommand(new Command(name).action(async () => { await action(); }));
    return program;
  };
  const saved = process.env.COCO_STITCHER_DEBUG;
  if ('COCO_STITCHER_DEBUG' in env) process.env.COCO_STITCHER_DEBUG = env.COCO_STITCHER_DEBUG;
  else delete process.env.COCO_STITCHER_DEBUG;
  try {
    return { code: await main(argv, io, build), out, err };
  } finally {
    if (saved === undefined) delete process.env.COCO_STITCHER_DEBUG; else process.env.COCO_STITCHER_DEBUG = saved;
  }
}

const STACK_LINE = /\n\s+at /;

describe('exit codes', () => {
  it('are 0 ok, 1 problems, 2 usage, 3 partial, 70 internal (EX_SOFTWARE), 129 / 130 / 143 SIGHUP / SIGINT / SIGTERM', () => {
    assert.deepEqual({ ...EXIT }, { ok: 0, problems: 1, usage: 2, partial: 3, internal: 70, hangup: 129, interrupted: 130, terminated: 143 });
  });

  it('a missing required option is 2, with commander\'s message', async () => {
    const r = await run(['visualize', 'x.json']);
    assert.equal(r.code, 2);
    assert.match(r.err, /required option '--channels <code>' not specified/);
  });

  it('an unknown command is 2', async () => {
    const r = await run(['no-such-command']);
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command 'no-such-command'/);
  });

  it('a missing input file is 2: one line naming it, no stack', async () => {
    const r = await run(['visualize', '/nonexistent/in.kwcoco.json', '--channels', 'x', '--out', '/nonexistent/out']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^coco-stitcher: error: .*\/nonexistent\/in\.kwcoco\.json/);
    assert.doesNotMatch(r.err, STACK_LINE);
  });

  it('a named error of ours is 2; a file-not-found from node:fs on a path is 2', async () => {
    const named = await run(['boom'], { boom: () => { throw new ChannelError('image 3 has no channel "pred"'); } });
    assert.equal(named.code, 2);
    assert.equal(named.err, 'coco-stitcher: error: image 3 has no channel "pred"\n');
    const enoent = await run(['boom'], { boom: () => readFile('/nonexistent/weights.onnx') });
    assert.equal(enoent.code, 2);
    assert.match(enoent.err, /^coco-stitcher: error: ENOENT: no such file or directory, open '\/nonexistent\/weights\.onnx'\n$/);
    // wrapped with the path error as its cause (e.g. 'model file ... does not exist'), still bad input
    const wrapped = await run(['boom'], { boom: () => readFile('/nonexistent/m.onnx').catch((err) => { throw new Error('model file /nonexistent/m.onnx does not exist', { cause: err }); }) });
    assert.equal(wrapped.code, 2);
    assert.equal(wrapped.err, 'coco-stitcher: error: model file /nonexistent/m.onnx does not exist\n');
  });

  it('an unexpected error (a TypeError) is 70, says it is a bug, and hides the stack', async () => {
    const r = await run(['boom'], { boom: () => { (null as unknown as { x: number }).x; } });
    assert.equal(r.code, 70);
    assert.match(r.err, /^coco-stitcher: internal error \(a bug in coco-stitcher; please report it\): TypeError: Cannot read properties of null/);
    assert.match(r.err, /run again with --debug \(or COCO_STITCHER_DEBUG=1\)/);
    assert.doesNotMatch(r.err, STACK_LINE);
  });

  it('an InternalError (a broken invariant) is 70 too', async () => {
    const r = await run(['boom'], { boom: () => { throw new InternalError('level written in place at 8 asked to move to 16'); } });
    assert.equal(r.code, 70);
    assert.match(r.err, /InternalError: level written in place/);
  });

  it('--debug (before or after the command) and COCO_STITCHER_DEBUG=1 print the stack; COCO_STITCHER_DEBUG=0 does not', async () => {
    const boom = { boom: () => { throw new TypeError('wrong turn'); } };
    for (const argv of [['--debug', 'boom'], ['boom', '--debug']]) {
      const r = await run(argv, boom);
      assert.equal(r.code, 70, argv.join(' '));
      assert.match(r.err, /TypeError: wrong turn\n\s+at .*main\.test\.ts/, argv.join(' '));
    }
    assert.match((await run(['boom'], boom, { COCO_STITCHER_DEBUG: '1' })).err, STACK_LINE);
    assert.doesNotMatch((await run(['boom'], boom, { COCO_STITCHER_DEBUG: '0' })).err, STACK_LINE);
    const user = await run(['--debug', 'boom'], { boom: () => { throw new ChannelError('no such channel'); } });
    assert.equal(user.code, 2);
    assert.match(user.err, /ChannelError: no such channel\n\s+at /);
  });
});
