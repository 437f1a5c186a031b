#ifndef COCO_STITCHER_COPY_RANGE_H
#define COCO_STITCHER_COPY_RANGE_H
#include <node_api.h>
#include <stdbool.h>

/* Adds copyFileRange to `exports`; false on failure. */
bool register_copy_range(napi_env env, napi_value exports);

#endif
