// zstd-napi is an optional dependency that compiles C at install, so it is
// absent where that fails; the build must not need its types (its loaders in
// io/ cast what they import).
declare module 'zstd-napi';
