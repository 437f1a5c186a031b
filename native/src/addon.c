/*
 * coco-stitcher's optional native helpers: zlib-format DEFLATE through the
 * system's libdeflate, run as N-API async work on libuv's thread pool.
 *
 * Why: node:zlib's deflate is the writer's bottleneck (about 37 MB/s per core
 * at level 6); libdeflate, which GDAL also uses, is several times faster at
 * the same level and ratio. Each pool thread keeps one compressor per level
 * (and one decompressor), so no job allocates libdeflate state.
 */
#define NAPI_VERSION 8
#include <libdeflate.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVEL 12

static _Thread_local struct libdeflate_compressor *tl_compressors[MAX_LEVEL + 1];
static _Thread_local struct libdeflate_decompressor *tl_decompressor;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref; /* keeps the input's memory alive while a pool thread reads it */
  const uint8_t *in;
  size_t in_len;
  int level;        /* compress: level; decompress: 0 */
  size_t out_cap;   /* decompress: the expected size */
  uint8_t *out;
  size_t out_len;
  char error[160];
} Job;

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error((env), NULL, "coco-stitcher-native: " #call);  \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static void compress_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  struct libdeflate_compressor **slot = &tl_compressors[job->level];
  if (*slot == NULL) *slot = libdeflate_alloc_compressor(job->level);
  if (*slot == NULL) {
    snprintf(job->error, sizeof job->error, "libdeflate could not allocate a level-%d compressor", job->level);
    return;
  }
  size_t bound = libdeflate_zlib_compress_bound(*slot, job->in_len);
  job->out = malloc(bound > 0 ? bound : 1);
  if (job->out == NULL) {
    snprintf(job->error, sizeof job->error, "out of memory for a %zu-byte compressed tile", bound);
    return;
  }
  job->out_len = libdeflate_zlib_compress(*slot, job->in, job->in_len, job->out, bound);
  if (job->out_len == 0) snprintf(job->error, sizeof job->error, "libdeflate_zlib_compress failed on %zu bytes", job->in_len);
}

static void decompress_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  if (tl_decompressor == NULL) tl_decompressor = libdeflate_alloc_decompressor();
  if (tl_decompressor == NULL) {
    snprintf(job->error, sizeof job->error, "libdeflate could not allocate a decompressor");
    return;
  }
  job->out = malloc(job->out_cap > 0 ? job->out_cap : 1);
  if (job->out == NULL) {
    snprintf(job->error, sizeof job->error, "out of memory for a %zu-byte tile", job->out_cap);
    return;
  }
  size_t actual = 0;
  enum libdeflate_result r = libdeflate_zlib_decompress(tl_decompressor, job->in, job->in_len, job->out, job->out_cap, &actual);
  if (r == LIBDEFLATE_SUCCESS) {
    job->out_len = actual;
  } else if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
    snprintf(job->error, sizeof job->error, "zlib stream decompresses to more than the expected %zu bytes", job->out_cap);
  } else {
    snprintf(job->error, sizeof job->error, "corrupt zlib stream (libdeflate result %d)", (int)r);
  }
}

static void free_out(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result;
  if (status != napi_ok && job->error[0] == 0) snprintf(job->error, sizeof job->error, "async work failed (napi status %d)", (int)status);
  if (job->error[0] != 0) {
    napi_value msg;
    napi_create_string_utf8(env, job->error, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    free(job->out);
    napi_reject_deferred(env, job->deferred, result);
  } else if (napi_create_external_buffer(env, job->out_len, job->out, free_out, NULL, &result) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    /* Runtimes that forbid external buffers: copy instead. */
    void *copy;
    napi_create_buffer_copy(env, job->out_len, job->out, &copy, &result);
    free(job->out);
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_reference(env, job->input_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* Reads (typedArray, number) arguments into a new Job and queues it. */
static napi_value queue_job(napi_env env, napi_callback_info info, napi_async_execute_callback execute, int is_compress) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_typed = false;
  if (argc < 2 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, "expected (Uint8Array, number)");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *ptr;
  CHECK(env, napi_get_typedarray_info(env, argv[0], &type, &length, &ptr, NULL, NULL));
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return NULL;
  }
  double number;
  if (napi_get_value_double(env, argv[1], &number) != napi_ok) {
    napi_throw_type_error(env, NULL, is_compress ? "level must be a number" : "size must be a number");
    return NULL;
  }
  if (is_compress ? !(number >= 1 && number <= MAX_LEVEL && number == (int)number) : !(number >= 0 && number <= 9007199254740991.0 && number == (double)(size_t)number)) {
    char msg[96];
    snprintf(msg, sizeof msg, is_compress ? "level %g is not an integer in 1..12" : "size %g is not a byte count", number);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  Job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  job->in = ptr;
  job->in_len = length;
  if (is_compress) job->level = (int)number; else job->out_cap = (size_t)number;
  napi_value promise, name;
  CHECK(env, napi_create_reference(env, argv[0], 1, &job->input_ref));
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, is_compress ? "zlibCompress" : "zlibDecompress", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, NULL, name, execute, complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

static napi_value zlib_compress(napi_env env, napi_callback_info info) {
  return queue_job(env, info, compress_execute, 1);
}

static napi_value zlib_decompress(napi_env env, napi_callback_info info) {
  return queue_job(env, info, decompress_execute, 0);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, version;
  CHECK(env, napi_create_function(env, "zlibCompress", NAPI_AUTO_LENGTH, zlib_compress, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "zlibCompress", fn));
  CHECK(env, napi_create_function(env, "zlibDecompress", NAPI_AUTO_LENGTH, zlib_decompress, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "zlibDecompress", fn));
  CHECK(env, napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &version));
  CHECK(env, napi_set_named_property(env, exports, "libdeflateVersion", version));
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
