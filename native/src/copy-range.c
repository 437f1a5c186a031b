/*
 * copyFileRange(fdIn, offsetIn, fdOut, offsetOut, length, leader = -1): Promise<void>
 * Copies bytes between two open files on libuv's pool with copy_file_range,
 * so the data stays in the kernel (a reflink or a page-cache copy): the
 * region-part assembly copies compressed tiles this way at about `cp`'s
 * speed. Where the kernel or the filesystem cannot (ENOSYS, EXDEV, EINVAL,
 * EOPNOTSUPP before any byte moved), it copies through a buffer with pread /
 * pwrite instead. Rejects when the input ends before `length` bytes, and,
 * with `leader` >= 0, when the little-endian uint32 at `offsetIn` is not
 * `leader` (a COG tile's size leader: a corrupt part is refused, not copied).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "copy-range.h"

#define COPY_ERROR_BYTES 200
#define FALLBACK_BUFFER (1 << 20)

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd_in, fd_out;
  int64_t off_in, off_out, length, leader;
  char error[COPY_ERROR_BYTES];
} CopyJob;

static bool fallback_errno(int e) {
  return e == ENOSYS || e == EXDEV || e == EINVAL || e == EOPNOTSUPP;
}

/* pread / pwrite through a buffer, from where copy_file_range stopped. */
static void copy_by_buffer(CopyJob *job, int64_t done) {
  uint8_t *buf = malloc(FALLBACK_BUFFER);
  if (buf == NULL) {
    snprintf(job->error, sizeof job->error, "out of memory for a %d-byte copy buffer", FALLBACK_BUFFER);
    return;
  }
  while (done < job->length) {
    size_t want = (size_t)(job->length - done < FALLBACK_BUFFER ? job->length - done : FALLBACK_BUFFER);
    ssize_t got = pread(job->fd_in, buf, want, job->off_in + done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) { snprintf(job->error, sizeof job->error, "read at byte %lld: %s", (long long)(job->off_in + done), strerror(errno)); break; }
    if (got == 0) { snprintf(job->error, sizeof job->error, "the input ended at byte %lld, %lld bytes short", (long long)(job->off_in + done), (long long)(job->length - done)); break; }
    for (ssize_t w = 0; w < got;) {
      ssize_t put = pwrite(job->fd_out, buf + w, (size_t)(got - w), job->off_out + done + w);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) { snprintf(job->error, sizeof job->error, "write at byte %lld: %s", (long long)(job->off_out + done + w), strerror(errno)); free(buf); return; }
      w += put;
    }
    done += got;
  }
  free(buf);
}

static void copy_execute(napi_env env, void *data) {
  (void)env;
  CopyJob *job = data;
  if (job->leader >= 0) {
    uint8_t b[4];
    ssize_t got;
    do got = pread(job->fd_in, b, 4, job->off_in); while (got < 0 && errno == EINTR);
    if (got != 4) {
      snprintf(job->error, sizeof job->error, "cannot read the size leader at byte %lld: %s", (long long)job->off_in, got < 0 ? strerror(errno) : "the input ends there");
      return;
    }
    uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if ((int64_t)v != job->leader) {
      snprintf(job->error, sizeof job->error, "size leader %u at byte %lld, expected %lld", v, (long long)job->off_in, (long long)job->leader);
      return;
    }
  }
  loff_t in = job->off_in, out = job->off_out;
  int64_t done = 0;
  while (done < job->length) {
    ssize_t n = copy_file_range(job->fd_in, &in, job->fd_out, &out, (size_t)(job->length - done), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && done == 0 && fallback_errno(errno)) { copy_by_buffer(job, 0); return; }
    if (n < 0) { snprintf(job->error, sizeof job->error, "copy_file_range at byte %lld: %s", (long long)in, strerror(errno)); return; }
    if (n == 0) { snprintf(job->error, sizeof job->error, "the input ended at byte %lld, %lld bytes short", (long long)in, (long long)(job->length - done)); return; }
    done += n;
  }
}

static void copy_complete(napi_env env, napi_status status, void *data) {
  CopyJob *job = data;
  napi_value value;
  if (status != napi_ok && job->error[0] == '\0') snprintf(job->error, sizeof job->error, "the copy did not run (status %d)", (int)status);
  if (job->error[0] != '\0') {
    napi_value msg;
    napi_create_string_utf8(env, job->error, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &value);
    napi_reject_deferred(env, job->deferred, value);
  } else {
    napi_get_undefined(env, &value);
    napi_resolve_deferred(env, job->deferred, value);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value copy_file_range_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], promise, resource;
  double v[6] = {0, 0, 0, 0, 0, -1};
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  for (size_t i = 0; i < 6; i++) {
    if (i == 5 && (argc < 6 || (napi_typeof(env, argv[5], &type) == napi_ok && type == napi_undefined))) break;
    if (i >= argc || napi_get_value_double(env, argv[i], &v[i]) != napi_ok || v[i] != (double)(int64_t)v[i] || v[i] < (i == 5 ? -1 : 0) || v[i] > 9007199254740991.0 ||
        ((i == 0 || i == 2) && v[i] > 2147483647.0) || (i == 5 && v[i] > 4294967295.0)) {
      napi_throw_type_error(env, NULL, "copyFileRange(fdIn, offsetIn, fdOut, offsetOut, length[, leader]) takes non-negative integers (leader: -1 or a uint32)");
      return NULL;
    }
  }
  CopyJob *job = calloc(1, sizeof *job);
  if (job == NULL) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  job->fd_in = (int)v[0]; job->off_in = (int64_t)v[1]; job->fd_out = (int)v[2]; job->off_out = (int64_t)v[3]; job->length = (int64_t)v[4]; job->leader = (int64_t)v[5];
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "copyFileRange", NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, NULL, resource, copy_execute, copy_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "coco-stitcher-native: copyFileRange could not be queued");
    return NULL;
  }
  return promise;
}

bool register_copy_range(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "copyFileRange", NAPI_AUTO_LENGTH, copy_file_range_js, NULL, &fn) != napi_ok) return false;
  return napi_set_named_property(env, exports, "copyFileRange", fn) == napi_ok;
}
