/**
 * The package root exports every name of design.md's public API contract,
 * each of the right kind, and every type its signatures use; other code and
 * tests rely on these names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import * as api from '../src/index.ts';
// Type-level check (tsc --noEmit runs in npm test): each name must be a type the root exports.
import type {
  AccumulateOptions, AddOptions, AddResult, AffineDecomposition, AffineParams, AssetWriters, BlockSource, ChannelCode,
  CocoAnnotationDict, CocoAssetDict, CocoCategoryDict, CocoImageDict, CocoIndex, CocoManifest, CocoStitchingManagerOptions,
  CocoVideoDict, CompressName, ConciseAffine, DeflateEngine, DelayedImage, DemoStitchingOptions, DestWindow, Dtype, DtypeInfo,
  FinalizeInfo, FinishedBlock, FromJSONOptions, ImdelayOptions, ImdelaySpace, Interpolation, JsonFields, LoadOptions,
  ManifestValidation, MaskLike, MultiPolygon, OpenTiffOptions, OverviewResample, Pair, PolygonOptions, Position, ProbCompress,
  Quantization, QuantizeDtype, QuantizeOptions, QueuedJob, RasterFile, RasterReadOptions, ReadRasterResult, ScoredPolygon,
  Shape3, Slice, SlidingWindowOptions, SpaceSlice, StitcherOptions, TransformSpec, TypedArray, VidshapesMsiOptions,
  WarpAffineOptions, WriteCogOptions, WriterQueueOptions,
} from '../src/index.ts';

/** Every runtime name the package root exports, sorted: adding or removing one is a deliberate API change. */
const RUNTIME_EXPORTS = [
  'Affine', 'ChannelError', 'ChannelSpec', 'CocoDataset', 'CocoImage', 'CocoStitcherError', 'CocoStitchingManager',
  'CoordinateCompatibilityError', 'DTYPES', 'DtypeError', 'FormatError', 'FusedChannelSpec', 'InternalError', 'IoError', 'ManifestError',
  'MemoryBudgetError', 'Raster', 'RemoteFileChangedError', 'ShapeError', 'SlidingWindow', 'StitchError', 'StitchStateError', 'Stitcher',
  'UnknownIdError', 'UnsupportedError', 'ValueError', 'WriterOptionError', 'WriterQueue', 'demoCocoStitchingManager',
  'dequantize', 'fixSlice', 'httpOptions', 'maskToMultiPolygon', 'memoryBudgetBytes', 'openRaster', 'predictDistributed', 'quantizeBlock', 'quantizeImage',
  'readPng', 'readRaster', 'scoredPolygons', 'setHttpOptions', 'setMemoryBudget', 'setTileCacheBytes', 'slice', 'startWorker', 'upweightCenterMask',
  'validateManifest', 'warpAffine', 'warpMultiPolygon', 'writeCog', 'writePng',
];

test('the package root exports exactly the pinned runtime names', () => {
  assert.deepEqual(Object.keys(api).sort(), RUNTIME_EXPORTS);
});

test('types of the public signatures are usable from the root', async () => {
  // values typed with the exported types: a wrong or missing export fails tsc, a changed shape fails here
  const q: Quantization = api.quantizeImage(null, { oldMin: 0, oldMax: 1 }).quantization;
  assert.deepEqual(q, { orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999 });
  const manifest: CocoManifest = { images: [{ id: 1, file_name: 'a.png', width: 4, height: 3 } as CocoImageDict] };
  const dset = api.CocoDataset.fromJSON(manifest);
  const img: CocoImageDict | undefined = dset.index.imgs.get(1);
  assert.equal(img?.width, 4);
  const compress: CompressName = 'ZSTD';
  const opts: WriteCogOptions = { compress, blocksize: 16 };
  assert.equal(opts.compress, 'ZSTD');
  const info: FinalizeInfo = { nAnns: 0, totalProb: 0, validValues: 0, allNodata: true };
  assert.equal(info.nAnns, 0);
});

const CLASSES = [
  'Raster', 'SlidingWindow', 'Affine', 'Stitcher', 'FusedChannelSpec', 'ChannelSpec', 'CocoDataset', 'CocoImage',
  'CocoStitchingManager', 'WriterQueue',
];
const FUNCTIONS = [
  'writeCog', 'writePng', 'readRaster', 'readPng', 'slice', 'fixSlice', 'quantizeImage', 'dequantize',
  'maskToMultiPolygon', 'scoredPolygons', 'upweightCenterMask', 'warpAffine', 'demoCocoStitchingManager',
];

test('the package root exports the contract names', () => {
  const exported = api as Record<string, unknown>;
  for (const name of [...CLASSES, ...FUNCTIONS]) assert.equal(typeof exported[name], 'function', `${name} is not exported`);
  for (const name of CLASSES) assert.match(String(exported[name]), /^class /, `${name} is not a class`);
  for (const k of ['fromCHW', 'zeros']) assert.equal(typeof (api.Raster as any)[k], 'function', `Raster.${k}`);
  for (const k of ['coerce', 'eye', 'scale']) assert.equal(typeof (api.Affine as any)[k], 'function', `Affine.${k}`);
  for (const k of ['load', 'fromJSON', 'demo']) assert.equal(typeof (api.CocoDataset as any)[k], 'function', `CocoDataset.${k}`);
  for (const k of ['accumulateImage', 'managedImageIds', 'readyImageIds', 'submitFinalizeImage', 'flushImages', 'finalizeImage']) {
    assert.equal(typeof (api.CocoStitchingManager.prototype as any)[k], 'function', `CocoStitchingManager.${k}`);
  }
  for (const k of ['add', 'finalize', 'merge']) assert.equal(typeof (api.Stitcher.prototype as any)[k], 'function', `Stitcher.${k}`);
});

test('error classes share one base, so callers can catch ours apart from bugs', () => {
  for (const E of [api.ShapeError, api.DtypeError, api.ValueError, api.IoError, api.FormatError, api.UnsupportedError,
    api.WriterOptionError, api.ManifestError, api.UnknownIdError, api.ChannelError, api.StitchError, api.StitchStateError]) {
    assert.ok(new E('x') instanceof api.CocoStitcherError, E.name);
  }
  // a bug is not an error about the caller's input
  assert.ok(!(new api.InternalError('x') instanceof api.CocoStitcherError));
});

test('the built package (dist/, what `import "coco-stitcher"` loads, without tsx) exports the same names and works', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  // a plain node process (no tsx loader) importing the package by name through its "exports"
  const script = `
const m = await import('coco-stitcher');
const s = new m.Stitcher([4, 4, 1], { blocksize: 16 });
s.add([m.slice(0, 2), m.slice(0, 2)], m.Raster.full([2, 2, 1], 3), 2);
console.log(JSON.stringify({ names: Object.keys(m).sort(), v: s.finalize().get(1, 1), nan: Number.isNaN(s.finalize().get(3, 3)) }));`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const got = JSON.parse(res.stdout);
  assert.deepEqual(got.names, Object.keys(api).sort());
  assert.equal(got.v, 3);
  assert.equal(got.nan, true);
});

test('every named type of ours that a public signature uses is exported from the root', async () => {
  // walks the declared types of the root's exports (parameters, results, properties, members) with the compiler
  const ts = (await import('typescript')).default;
  const root = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
  const program = ts.createProgram([root], {
    allowImportingTsExtensions: true, noEmit: true, strict: true, skipLibCheck: true, types: ['node'],
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const checker = program.getTypeChecker();
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(root)!)!);
  const exported = new Set(exports.map((s) => s.name));
  const NAMED = ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class | ts.SymbolFlags.Enum;
  const ours = (s: import('typescript').Symbol | undefined) => !!s?.declarations?.some((d) => d.getSourceFile().fileName.startsWith(srcDir));
  const missing = new Map<string, string>();
  const seen = new Set<import('typescript').Type>();
  const isPublic = (d: import('typescript').Declaration) => {
    const name = (d as { name?: import('typescript').Node }).name;
    return !(ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) && !(name && ts.isPrivateIdentifier(name));
  };
  const visit = (t: import('typescript').Type, where: string): void => {
    for (const s of [t.aliasSymbol, t.getSymbol()]) {
      if (s && s.flags & NAMED && ours(s) && !exported.has(s.name)) missing.set(s.name, where);
    }
    if (seen.has(t)) return;
    seen.add(t);
    for (const a of [...(t.aliasTypeArguments ?? []), ...((t as { typeArguments?: import('typescript').Type[] }).typeArguments ?? [])]) visit(a, where);
    if (t.isUnionOrIntersection()) for (const u of t.types) visit(u, where);
    for (const sig of [...t.getCallSignatures(), ...t.getConstructSignatures()]) {
      for (const p of sig.getParameters()) visit(checker.getTypeOfSymbol(p), `${where}(${p.name})`);
      visit(sig.getReturnType(), `${where}()`);
    }
    const s = t.getSymbol();
    if (t.flags & ts.TypeFlags.Object && (ours(s) || s?.name === '__type' || s?.name === '__object')) {
      for (const p of t.getProperties()) {
        const d = p.valueDeclaration ?? p.declarations?.[0];
        if (d && isPublic(d)) visit(checker.getTypeOfSymbol(p), `${where}.${p.name}`);
      }
    }
  };
  for (const e of exports) {
    const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
    visit(s.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable) ? checker.getTypeOfSymbol(s) : checker.getDeclaredTypeOfSymbol(s), e.name);
    if (s.flags & ts.SymbolFlags.Class) visit(checker.getDeclaredTypeOfSymbol(s), e.name);
  }
  assert.deepEqual([...missing].map(([name, where]) => `${name} (used by ${where})`), []);
});
