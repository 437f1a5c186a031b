#ifndef COCO_STITCHER_TYPED_ARRAY_ARG_H
#define COCO_STITCHER_TYPED_ARRAY_ARG_H
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>

/*
 * The data and element count of a typed-array argument of `type`; false,
 * with a TypeError "<what> must be a <type_name>" thrown, for anything else.
 */
static inline bool typed_array_arg(napi_env env, napi_value v, napi_typedarray_type type, const char *what, const char *type_name,
                                   void **data, size_t *len) {
  napi_typedarray_type got;
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &got, len, data, NULL, NULL) != napi_ok || got != type) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a %s", what, type_name);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

#endif
