/* The Stitcher's accumulate kernels (accumulate.c), registered on the addon's exports. */
#ifndef COCO_STITCHER_ACCUMULATE_H
#define COCO_STITCHER_ACCUMULATE_H
#include <node_api.h>
#include <stdbool.h>

/* Adds stitchAccumulate, firstNonFinite, streamTriad and accumulateKernel to `exports`; false after throwing. */
bool register_accumulate(napi_env env, napi_value exports);

#endif
