/**
 * Channel grammar, case by case from delayed_image's documented examples
 * (channel_spec.py docstrings) and the fixtures README (C8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChannelSpec, FusedChannelSpec, parseSliceCode, expandChannelCode } from '../../src/coco/channel-spec.ts';
import { ChannelError } from '../../src/coco/errors.ts';

const FCS = (s: string) => FusedChannelSpec.coerce(s);
const CS = (s: string) => ChannelSpec.coerce(s);

// [code, expanded names] (normalize)
const EXPANSIONS: [string, string][] = [
  ['r|g|b', 'r|g|b'],
  ['rgb', 'r|g|b'],
  ['rgba', 'r|g|b|a'],
  ['dxdy', 'dx|dy'],
  ['b1|b2|b3|rgb', 'b1|b2|b3|r|g|b'],
  ['demochan.0:3', 'demochan.0|demochan.1|demochan.2'],
  ['mychan.0:4', 'mychan.0|mychan.1|mychan.2|mychan.3'],
  ['B:1:11', 'B.1|B.2|B.3|B.4|B.5|B.6|B.7|B.8|B.9|B.10'],
  ['B.1:11', 'B.1|B.2|B.3|B.4|B.5|B.6|B.7|B.8|B.9|B.10'],
  ['Y:2:6', 'Y.2|Y.3|Y.4|Y.5'],
  ['u:3', 'u.0|u.1|u.2'],
  ['X.2', 'X.2'],
  ['pq8.0|pq8.1|pq8.2', 'pq8.0|pq8.1|pq8.2'],
  ['B.0:10:3', 'B.0|B.3|B.6|B.9'],
  ['B.:10:3', 'B.0|B.3|B.6|B.9'],
  ['B::10:3', 'B.0|B.3|B.6|B.9'],
  ['B:3:10:3', 'B.3|B.6|B.9'],
  ['B.:3', 'B.0|B.1|B.2'],
  ['B.:3:2', 'B.0|B.2'],
  ['B::2:3', 'B.0'],
  ['a:1', 'a.0'],
  ['a chan with space|bar', 'a chan with space|bar'],
];

for (const [code, expected] of EXPANSIONS) {
  test(`FusedChannelSpec ${JSON.stringify(code)} expands to ${expected}`, () => {
    const f = FCS(code);
    assert.equal(f.spec, code);
    assert.deepEqual(f.parsed, expected.split('|'));
    assert.equal(f.numel(), expected.split('|').length);
    assert.equal(f.normalize().spec, expected);
  });
}

test('empty slices and empty specs have no channels (delayed_image: a:0 numel 0, B:10:3 is start 10 stop 3)', () => {
  assert.equal(FCS('a:0').numel(), 0);
  assert.equal(FCS('B:10:3').numel(), 0);
  assert.equal(FCS('').numel(), 0);
  assert.equal(CS('').numel(), 0);
  assert.deepEqual(CS('').streams(), []);
});

test('parseSliceCode follows _parse_concise_slice_syntax', () => {
  const cases: [string, [string, number, number, number]][] = [
    ['B:10', ['B', 0, 10, 1]], ['B.0:10:3', ['B', 0, 10, 3]], ['B.:10:3', ['B', 0, 10, 3]],
    ['B::10:3', ['B', 0, 10, 3]], ['B:10:3', ['B', 10, 3, 1]], ['B:3:10:3', ['B', 3, 10, 3]],
    ['B.:10', ['B', 0, 10, 1]], ['B.:3:', ['B', 0, 3, 1]], ['B.:3:2', ['B', 0, 3, 2]], ['B::2:3', ['B', 0, 2, 3]],
  ];
  for (const [code, [root, start, stop, step]] of cases) {
    assert.deepEqual(parseSliceCode(code), { root, start, stop, step }, code);
  }
});

test('invalid slice codes are ChannelErrors naming the code', () => {
  for (const bad of ['B.0', 'B0', 'B:', 'B:0.10', 'B.::', 'B:1:2:3:4', ':3', 'B.0:3:0', 'B:x']) {
    assert.throws(() => parseSliceCode(bad), (e: Error) => e instanceof ChannelError && e.message.includes(JSON.stringify(bad)), bad);
  }
  // as a whole code, 'B.0' is simply one channel
  assert.deepEqual(expandChannelCode('B.0'), ['B.0']);
  assert.throws(() => FCS('x|B:'), ChannelError);
  assert.throws(() => FCS('a||b'), /empty channel name at position 1/);
  assert.throws(() => FCS('a|b,c'), /use ChannelSpec/);
  assert.throws(() => FCS('huge:100000000'), /expands to 100000000 channels/);
});

test('sizes per atomic code: b1|Z:3|b2|b3|rgb -> [1,3,1,1,3]', () => {
  assert.deepEqual(FCS('b1|Z:3|b2|b3|rgb').sizes(), [1, 3, 1, 1, 3]);
});

test('concise: delayed_image docstring example', () => {
  const self = FCS('b|a|a.0|a.1|a.2|a.5|c|a.8|a.9|b.0:3|c.0');
  const short = self.concise();
  const long = short.normalize();
  assert.equal(short.spec, 'b|a|a:3|a.5|c|a.8:10|b:3|c.0');
  assert.equal(long.spec, 'b|a|a.0|a.1|a.2|a.5|c|a.8|a.9|b.0|b.1|b.2|c.0');
  assert.deepEqual([self, short, long].map((c) => c.numel()), [13, 13, 13]);
  assert.equal(long.concise().spec, short.spec);
});

test('ChannelSpec module example: streams, normalize, fuse, concise', () => {
  const spec = CS('b1|b2|b3,m.0:4|x1|x2,x.3|x.4|x.5');
  assert.deepEqual(spec.streams().map((s) => s.spec), ['b1|b2|b3', 'm.0:4|x1|x2', 'x.3|x.4|x.5']);
  const normalized = spec.normalize();
  assert.equal(normalized.spec, 'b1|b2|b3,m.0|m.1|m.2|m.3|x1|x2,x.3|x.4|x.5');
  assert.equal(normalized.fuse().spec, 'b1|b2|b3|m.0|m.1|m.2|m.3|x1|x2|x.3|x.4|x.5');
  assert.equal(normalized.fuse().concise().spec, 'b1|b2|b3|m:4|x1|x2|x.3:6');
  assert.equal(spec.numel(), 12);
});

test('ChannelSpec normalize / fuse / concise docstring cases', () => {
  assert.equal(CS('b1|b2,b3|rgb,B:3').normalize().spec, 'b1|b2,b3|r|g|b,B.0|B.1|B.2');
  assert.equal(CS('b1|b2,b3|rgb,B:3').fuse().spec, 'b1|b2|b3|rgb|B:3');
  assert.equal(CS('b1|b2,b3|rgb|B.0,B.1|B.2').concise().spec, 'b1|b2,b3|r|g|b|B.0,B.1:3');
  assert.deepEqual(CS('rgb|disparity,flowx|flowy,B:10').sizes(), { 'rgb|disparity': 4, 'flowx|flowy': 2, 'B:10': 10 });
  assert.equal(CS('u:3').normalize().spec, 'u.0|u.1|u.2');
});

test('coerce from integers gives u0..u{n-1}', () => {
  assert.equal(ChannelSpec.coerce(3).spec, 'u0|u1|u2');
  assert.equal(FusedChannelSpec.coerce(3).spec, 'u0|u1|u2');
  assert.equal(ChannelSpec.coerce(FusedChannelSpec.coerce(3)).spec, 'u0|u1|u2');
  assert.equal(FusedChannelSpec.coerce(['a', 'b', 'c']).spec, 'a|b|c');
  assert.throws(() => FusedChannelSpec.coerce(CS('a,b')), /2 streams/);
});

test('has: membership over expanded names', () => {
  assert.equal(FCS('rgb|disparity|flowx|flowy').has('disparity'), true);
  assert.equal(FCS('rgb|disparity|flowx|flowy').has('gray'), false);
  assert.equal(FCS('rgb|disparity').has('g'), true);
  assert.equal(CS('rgb,disparity,flowx|flowy').has('disparity'), true);
  assert.equal(CS('rgb,disparity,flowx|flowy').has('gray'), false);
  assert.equal(CS('Y:2:6').has('Y.5'), true);
  assert.equal(CS('Y:2:6').has('Y.6'), false);
});

test('fused intersection / difference / union (docstring cases)', () => {
  const self = FCS('rgb|disparity|flowx|flowy');
  assert.ok(self.intersection(FCS('r|b|XX')).equals('r|b'));
  assert.equal(self.difference(FCS('r|b')).spec, 'g|disparity|flowx|flowy');
  assert.equal(self.difference(FCS('flowx')).spec, 'r|g|b|disparity|flowy');
  assert.equal(FCS('a').difference(['a']).numel(), 0);
  assert.equal(FCS('a.0:3').difference(['a.0']).numel(), 2);
  assert.ok(self.union(FCS('r|b|XX')).equals('r|g|b|disparity|flowx|flowy|XX'));
  assert.ok(FCS('r|b').issubset(self));
  assert.ok(self.issuperset('r|b'));
});

test('stream intersection / difference / union (docstring cases)', () => {
  const self = CS('r|g|b|disparity,flowx|r|flowy');
  const a = self.intersection(CS('r|g|b'));
  assert.equal(a.spec, 'r|g|b,r');
  assert.equal(a.numel(), 4);
  const b = self.intersection(CS('flowx'));
  assert.equal(b.spec, 'flowx');
  assert.equal(b.numel(), 1);
  const base = CS('rgb|disparity,flowx|r|flowy');
  assert.equal(base.difference(CS('rgb')).spec, 'disparity,flowx|flowy');
  assert.equal(base.difference(CS('flowx')).spec, 'r|g|b|disparity,r|flowy');
  assert.equal(base.intersection(CS('rgb')).numel(), 4);
  assert.equal(CS('a|b,c|d').difference(['a', 'b']).streams().length, 1);
  assert.equal(CS('a|b,c|d').difference(['a', 'b']).difference('c|d').numel(), 0);
  const u = base.union(CS('rgb'));
  assert.equal(u.spec, 'r|g|b|disparity,flowx|r|flowy,r|g|b');
  assert.equal(u.numel(), 10);
  assert.equal(base.union(CS('flowx')).numel(), 8);
});

test('split: one stream per channel', () => {
  assert.equal(FCS('red|green|blue').split().spec, 'red,green,blue');
  assert.equal(FCS('feat.0:3').split().spec, 'feat.0,feat.1,feat.2');
  assert.equal(CS('r|g,B1|B2,fx|fy').split().spec, 'r,g,B1,B2,fx,fy');
  assert.equal(CS('feat.0:3,feat.3:6').split().spec, 'feat.0,feat.1,feat.2,feat.3,feat.4,feat.5');
});

test('ChannelSpec.concat late-fuses and skips empty specs', () => {
  assert.equal(ChannelSpec.concat(['A|B|C,edf', 'A12', '', 'rgb']).spec, 'A|B|C,edf,A12,rgb');
});

test('property: concise() never changes the expanded channels, and normalize is idempotent', () => {
  const name = fc.constantFrom('a', 'b', 'B8', 'pred');
  const code = fc.oneof(
    name,
    fc.tuple(name, fc.nat(12)).map(([n, i]) => `${n}.${i}`),
    fc.tuple(name, fc.nat(5), fc.nat(5)).map(([n, a, k]) => `${n}.${a}:${a + k}`),
    fc.tuple(name, fc.nat(5)).map(([n, k]) => `${n}:${k}`),
    fc.constant('rgb'),
  );
  fc.assert(fc.property(fc.array(code, { minLength: 1, maxLength: 8 }), (codes) => {
    const f = FusedChannelSpec.coerce(codes.join('|'));
    const c = f.concise();
    assert.deepEqual(c.parsed, f.parsed);
    assert.deepEqual(f.normalize().normalize().parsed, f.parsed);
    assert.equal(f.numel(), f.sizes().reduce((s, v) => s + v, 0));
  }));
});
