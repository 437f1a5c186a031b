/*
 * coco-stitcher's optional native helpers, run as N-API async work on libuv's
 * thread pool: zlib-format DEFLATE (both ways) through the system's
 * libdeflate, TIFF LZW decoding, and, when built with their headers, JPEG
 * tiles through libjpeg (HAVE_LIBJPEG) and ZSTD frames through libzstd
 * (HAVE_LIBZSTD); plus prefault and adviseHugePages for the Stitcher's block
 * memory, and its accumulate kernels (accumulate.c).
 *
 * Why: node:zlib's deflate is the writer's bottleneck (about 37 MB/s per core
 * at level 6); libdeflate, which GDAL also uses, is several times faster at
 * the same level and ratio. Each pool thread keeps one compressor per level
 * (and one decompressor), so no job allocates libdeflate state; compression
 * writes into the caller's buffer, so the writer can reuse its buffers
 * instead of leaving garbage for the GC.
 */
#define _DEFAULT_SOURCE
#define NAPI_VERSION 8
#include <libdeflate.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "accumulate.h"
#include "copy-range.h"
#include "typed-array-arg.h"

#define MAX_LEVEL 12
#define JOB_ERROR_BYTES 240

static _Thread_local struct libdeflate_compressor *tl_compressors[MAX_LEVEL + 1];
static _Thread_local struct libdeflate_decompressor *tl_decompressor;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref;  /* keeps the input's memory alive while a pool thread reads it */
  napi_ref output_ref; /* compress: the caller's output buffer, likewise */
  const uint8_t *in;
  size_t in_len;
  int level;           /* compress: level; decompress: 0 */
  size_t out_cap;      /* compress: the output buffer's size; decompress: the expected size */
  uint8_t *out;        /* compress: the caller's buffer; decompress: malloc'd here */
  int pred_bytes;      /* compress: apply TIFF predictor 2 to samples of this size first (0: no) */
  size_t pred_row;     /* samples per row */
  size_t pred_spp;     /* samples per pixel */
  size_t out_len;
  /* jpegDecode: the JPEGTables (abbreviated tables, or none) and the tile's layout */
  napi_ref aux_ref;
  const uint8_t *aux;
  size_t aux_len;
  int jpeg_width, jpeg_height, jpeg_components, jpeg_ycbcr;
  char error[JOB_ERROR_BYTES];
} Job;

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error((env), NULL, "coco-stitcher-native: " #call);  \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static void complete(napi_env env, napi_status status, void *data);

/* A zeroed Job, or NULL with an error thrown. */
static Job *new_job(napi_env env) {
  Job *job = calloc(1, sizeof *job);
  if (job == NULL) napi_throw_error(env, NULL, "out of memory");
  return job;
}

/* Keeps `input` alive and queues `job` on the pool as `name`: its promise (NULL with an error thrown). */
static napi_value start_job(napi_env env, Job *job, napi_value input, const char *name, napi_async_execute_callback execute) {
  napi_value promise, resource;
  CHECK(env, napi_create_reference(env, input, 1, &job->input_ref));
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource));
  CHECK(env, napi_create_async_work(env, NULL, resource, execute, complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

/*
 * TIFF predictor 2 in place: each sample minus the same band of the previous
 * pixel, wrapping, row by row, from the end (as predictor-encode.ts does).
 */
#define DIFFERENCE(T)                                                        \
  do {                                                                       \
    T *a = (T *)buf;                                                         \
    size_t n = len / sizeof(T);                                              \
    for (size_t row = 0; row + row_len <= n; row += row_len)                 \
      for (size_t i = row + row_len - 1; i >= row + spp; i--) a[i] -= a[i - spp]; \
  } while (0)

static void horizontal_predictor(uint8_t *buf, size_t len, int sample_bytes, size_t row_len, size_t spp) {
  if (sample_bytes == 1) DIFFERENCE(uint8_t);
  else if (sample_bytes == 2) DIFFERENCE(uint16_t);
  else DIFFERENCE(uint32_t);
}

static void compress_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  if (job->pred_bytes) horizontal_predictor((uint8_t *)job->in, job->in_len, job->pred_bytes, job->pred_row, job->pred_spp);
  struct libdeflate_compressor **slot = &tl_compressors[job->level];
  if (*slot == NULL) *slot = libdeflate_alloc_compressor(job->level);
  if (*slot == NULL) {
    snprintf(job->error, sizeof job->error, "libdeflate could not allocate a level-%d compressor", job->level);
    return;
  }
  job->out_len = libdeflate_zlib_compress(*slot, job->in, job->in_len, job->out, job->out_cap);
  if (job->out_len == 0) {
    snprintf(job->error, sizeof job->error, "%zu bytes did not compress into the %zu-byte output (zlibCompressBound gives the size needed)", job->in_len, job->out_cap);
  }
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

/*
 * TIFF LZW decoding, the same as src/io/tiff-read/lzw-decode.ts (which stays
 * the fallback and the reference the tests compare with): MSB-first codes of
 * 9 to 12 bits, Clear = 256, EndOfInformation = 257, the code width grown one
 * code early as libtiff does; a stream that ends without EndOfInformation
 * keeps what it decoded; the output grows past `out_cap` if the stream holds
 * more. On the pool, so the tiles of a read decode in parallel.
 */
#define LZW_CLEAR 256
#define LZW_EOI 257
#define LZW_FIRST_FREE 258
#define LZW_MAX_CODES 4096

static void lzw_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  uint16_t prefix[LZW_MAX_CODES], length[LZW_MAX_CODES];
  uint8_t suffix[LZW_MAX_CODES], first[LZW_MAX_CODES];
  for (int i = 0; i < 256; i++) { suffix[i] = (uint8_t)i; first[i] = (uint8_t)i; length[i] = 1; }
  size_t cap = job->out_cap > 16 ? job->out_cap : 16;
  uint8_t *out = malloc(cap);
  if (out == NULL) {
    snprintf(job->error, sizeof job->error, "out of memory for a %zu-byte tile", cap);
    return;
  }
  const uint8_t *in = job->in;
  size_t in_len = job->in_len, in_pos = 0, pos = 0;
  int nbits = 9, next = LZW_FIRST_FREE, old = -1, bit_count = 0;
  uint32_t bit_buf = 0;
  for (;;) {
    while (bit_count < nbits) {
      if (in_pos >= in_len) goto done; /* no EndOfInformation: keep what was decoded, as libtiff */
      bit_buf = ((bit_buf << 8) | in[in_pos++]) & 0xffffff;
      bit_count += 8;
    }
    int code = (int)((bit_buf >> (bit_count - nbits)) & ((1u << nbits) - 1));
    bit_count -= nbits;
    if (code == LZW_EOI) break;
    if (code == LZW_CLEAR) {
      nbits = 9;
      next = LZW_FIRST_FREE;
      old = -1;
      continue;
    }
    int emit;
    if (old == -1) {
      if (code > 255) {
        snprintf(job->error, sizeof job->error, "LZW code %d right after a clear code (expected a literal < 256)", code);
        free(out);
        return;
      }
      emit = code;
    } else if (code < next) {
      emit = code;
      if (next < LZW_MAX_CODES) {
        prefix[next] = (uint16_t)old; suffix[next] = first[code]; first[next] = first[old]; length[next] = (uint16_t)(length[old] + 1);
        next++;
      }
    } else if (code == next && next < LZW_MAX_CODES) {
      prefix[next] = (uint16_t)old; suffix[next] = first[old]; first[next] = first[old]; length[next] = (uint16_t)(length[old] + 1);
      next++;
      emit = code;
    } else {
      snprintf(job->error, sizeof job->error, "LZW code %d is not yet defined (next free code %d) at input byte %zu", code, next, in_pos);
      free(out);
      return;
    }
    size_t n = length[emit];
    if (pos + n > cap) {
      size_t bigger = cap * 2 > pos + n ? cap * 2 : pos + n;
      uint8_t *grown = realloc(out, bigger);
      if (grown == NULL) {
        snprintf(job->error, sizeof job->error, "out of memory for a %zu-byte tile", bigger);
        free(out);
        return;
      }
      out = grown;
      cap = bigger;
    }
    int c = emit;
    for (size_t i = pos + n; i > pos; i--) {
      out[i - 1] = suffix[c];
      c = prefix[c];
    }
    pos += n;
    old = emit;
    if (next >= (1 << nbits) - 1 && nbits < 12) nbits++;
  }
done:
  job->out = out;
  job->out_len = pos;
}

#ifdef HAVE_LIBJPEG
/*
 * JPEG-in-TIFF tiles (Compression 7) through the system's libjpeg (Debian:
 * libjpeg-turbo, which GDAL also reads them with), on the pool: the tile is an
 * abbreviated stream whose tables come from the JPEGTables tag. Three
 * components are YCbCr (Photometric 6) or RGB, and come out RGB; one is gray.
 * A strip may hold fewer rows than the tile height: the rest stays zero.
 */
#include <jpeglib.h>
#include <setjmp.h>

static bool get_bytes(napi_env env, napi_value value, const char *what, uint8_t **ptr, size_t *length);

struct jpeg_failure {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

static void jpeg_fail(j_common_ptr cinfo) {
  struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, f->message);
  longjmp(f->jump, 1);
}

/* libjpeg's warnings (say, a premature end of data) are not errors here, as in GDAL */
static void jpeg_quiet(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level;
}

static void jpeg_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  struct jpeg_decompress_struct cinfo;
  struct jpeg_failure failure;
  const size_t w = (size_t)job->jpeg_width, h = (size_t)job->jpeg_height, c = (size_t)job->jpeg_components;
  uint8_t *volatile out = NULL;
  cinfo.err = jpeg_std_error(&failure.pub);
  failure.pub.error_exit = jpeg_fail;
  failure.pub.emit_message = jpeg_quiet;
  if (setjmp(failure.jump)) {
    snprintf(job->error, sizeof job->error, "JPEG: %s", failure.message);
    jpeg_destroy_decompress(&cinfo);
    free(out);
    return;
  }
  jpeg_create_decompress(&cinfo);
  if (job->aux_len > 0) {
    jpeg_mem_src(&cinfo, (unsigned char *)job->aux, (unsigned long)job->aux_len);
    jpeg_read_header(&cinfo, FALSE); /* tables only */
  }
  jpeg_mem_src(&cinfo, (unsigned char *)job->in, (unsigned long)job->in_len);
  if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
    snprintf(job->error, sizeof job->error, "JPEG: the tile holds no image");
  } else if ((size_t)cinfo.num_components != c) {
    snprintf(job->error, sizeof job->error, "JPEG: the tile has %d components, the TIFF says %zu", cinfo.num_components, c);
  } else {
    if (c == 3) {
      cinfo.jpeg_color_space = job->jpeg_ycbcr ? JCS_YCbCr : JCS_RGB;
      cinfo.out_color_space = JCS_RGB;
    }
    jpeg_start_decompress(&cinfo);
    if ((size_t)cinfo.output_width != w || (size_t)cinfo.output_height > h) {
      snprintf(job->error, sizeof job->error, "JPEG: the tile is %ux%u pixels, the TIFF says %zux%zu", cinfo.output_width, cinfo.output_height, w, h);
    } else {
      out = calloc(w * h * c > 0 ? w * h * c : 1, 1);
      if (out == NULL) {
        snprintf(job->error, sizeof job->error, "out of memory for a %zu-byte tile", w * h * c);
      } else {
        while (cinfo.output_scanline < cinfo.output_height) {
          JSAMPROW row = out + (size_t)cinfo.output_scanline * w * c;
          jpeg_read_scanlines(&cinfo, &row, 1);
        }
        jpeg_finish_decompress(&cinfo);
        job->out = out;
        job->out_len = w * h * c;
      }
    }
  }
  jpeg_destroy_decompress(&cinfo);
}

/* jpegDecode(tile, tables | null, ycbcr, width, height, components): Promise<Buffer> */
static napi_value jpeg_decode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *tile, *tables = NULL;
  size_t tile_len, tables_len = 0;
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "expected (tile: Uint8Array, tables: Uint8Array | null, ycbcr: boolean, width, height, components)");
    return NULL;
  }
  if (!get_bytes(env, argv[0], "tile", &tile, &tile_len)) return NULL;
  napi_valuetype tables_type;
  CHECK(env, napi_typeof(env, argv[1], &tables_type));
  if (tables_type != napi_null && tables_type != napi_undefined && !get_bytes(env, argv[1], "tables", &tables, &tables_len)) return NULL;
  bool ycbcr = false;
  double dims[3];
  if (napi_get_value_bool(env, argv[2], &ycbcr) != napi_ok) {
    napi_throw_type_error(env, NULL, "ycbcr must be a boolean");
    return NULL;
  }
  for (int k = 0; k < 3; k++) {
    if (napi_get_value_double(env, argv[3 + k], &dims[k]) != napi_ok || !(dims[k] >= 1 && dims[k] <= 65535 && dims[k] == (int)dims[k])) {
      napi_throw_range_error(env, NULL, "width, height and components must be whole numbers in 1..65535");
      return NULL;
    }
  }
  if (dims[2] != 1 && dims[2] != 3) {
    napi_throw_range_error(env, NULL, "components must be 1 or 3");
    return NULL;
  }
  Job *job = new_job(env);
  if (job == NULL) return NULL;
  job->in = tile;
  job->in_len = tile_len;
  job->aux = tables;
  job->aux_len = tables_len;
  job->jpeg_width = (int)dims[0];
  job->jpeg_height = (int)dims[1];
  job->jpeg_components = (int)dims[2];
  job->jpeg_ycbcr = ycbcr;
  if (tables != NULL) CHECK(env, napi_create_reference(env, argv[1], 1, &job->aux_ref));
  return start_job(env, job, argv[0], "jpegDecode", jpeg_execute);
}
#endif

#ifdef HAVE_LIBZSTD
/*
 * ZSTD tiles through the system's libzstd (Debian: libzstd-dev) on the pool;
 * zstd-napi decodes on the main thread. The output is sized from the frame's
 * content size when it states one larger than expected.
 */
#include <zstd.h>

static _Thread_local ZSTD_DCtx *tl_zstd;

static void zstd_execute(napi_env env, void *data) {
  (void)env;
  Job *job = data;
  if (tl_zstd == NULL) tl_zstd = ZSTD_createDCtx();
  if (tl_zstd == NULL) {
    snprintf(job->error, sizeof job->error, "libzstd could not allocate a decompression context");
    return;
  }
  size_t cap = job->out_cap > 0 ? job->out_cap : 1;
  unsigned long long stated = ZSTD_getFrameContentSize(job->in, job->in_len);
  if (stated != ZSTD_CONTENTSIZE_ERROR && stated != ZSTD_CONTENTSIZE_UNKNOWN && stated > cap) cap = (size_t)stated;
  job->out = malloc(cap);
  if (job->out == NULL) {
    snprintf(job->error, sizeof job->error, "out of memory for a %zu-byte tile", cap);
    return;
  }
  size_t n = ZSTD_decompressDCtx(tl_zstd, job->out, cap, job->in, job->in_len);
  if (ZSTD_isError(n)) {
    snprintf(job->error, sizeof job->error, "corrupt ZSTD stream (%s)", ZSTD_getErrorName(n));
    free(job->out);
    job->out = NULL;
    return;
  }
  job->out_len = n;
}
#endif

static void free_out(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void complete(napi_env env, napi_status status, void *data) {
  Job *job = data;
  napi_value result;
  int compressing = job->output_ref != NULL;
  if (status != napi_ok && job->error[0] == 0) snprintf(job->error, sizeof job->error, "async work failed (napi status %d)", (int)status);
  if (job->error[0] != 0) {
    napi_value msg;
    napi_create_string_utf8(env, job->error, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    if (!compressing) free(job->out);
    napi_reject_deferred(env, job->deferred, result);
  } else if (compressing) {
    napi_create_double(env, (double)job->out_len, &result);
    napi_resolve_deferred(env, job->deferred, result);
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
  if (compressing) napi_delete_reference(env, job->output_ref);
  if (job->aux_ref != NULL) napi_delete_reference(env, job->aux_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* The bytes of a Uint8Array argument; false (with a TypeError thrown) for anything else. */
static bool get_bytes(napi_env env, napi_value value, const char *what, uint8_t **ptr, size_t *length) {
  return typed_array_arg(env, value, napi_uint8_array, what, "Uint8Array", (void **)ptr, length);
}

/* Reads (input, number[, output]) arguments into a new Job and queues it. */
static napi_value queue_job(napi_env env, napi_callback_info info, napi_async_execute_callback execute, int is_compress, const char *fn_name) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < (is_compress ? 3u : 2u)) {
    napi_throw_type_error(env, NULL, is_compress ? "expected (input: Uint8Array, level: number, output: Uint8Array)" : "expected (input: Uint8Array, size: number)");
    return NULL;
  }
  uint8_t *ptr, *out = NULL;
  size_t length, out_cap = 0;
  if (!get_bytes(env, argv[0], "input", &ptr, &length)) return NULL;
  if (is_compress && !get_bytes(env, argv[2], "output", &out, &out_cap)) return NULL;
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
  /* compress: optional (sampleBytes, width, spp) of predictor 2 to apply first */
  double pred[3] = {0, 0, 0};
  if (is_compress && argc >= 6) {
    for (int k = 0; k < 3; k++) {
      if (napi_get_value_double(env, argv[3 + k], &pred[k]) != napi_ok) {
        napi_throw_type_error(env, NULL, "predictor sampleBytes, width and spp must be numbers");
        return NULL;
      }
    }
    if (pred[0] != 0 && (!(pred[0] == 1 || pred[0] == 2 || pred[0] == 4) || !(pred[1] >= 1 && pred[1] == (double)(size_t)pred[1]) ||
                         !(pred[2] >= 1 && pred[2] == (double)(size_t)pred[2]) || ((uintptr_t)ptr % (size_t)pred[0]) != 0)) {
      char msg[192];
      snprintf(msg, sizeof msg, "predictor (sampleBytes %g, width %g, spp %g) is not 1/2/4-byte samples in whole pixels of an aligned input", pred[0], pred[1], pred[2]);
      napi_throw_range_error(env, NULL, msg);
      return NULL;
    }
  }
  Job *job = new_job(env);
  if (job == NULL) return NULL;
  job->in = ptr;
  job->in_len = length;
  if (is_compress) {
    job->level = (int)number;
    job->pred_bytes = (int)pred[0];
    job->pred_row = (size_t)pred[1] * (size_t)pred[2];
    job->pred_spp = (size_t)pred[2];
    job->out = out;
    job->out_cap = out_cap;
    CHECK(env, napi_create_reference(env, argv[2], 1, &job->output_ref));
  } else {
    job->out_cap = (size_t)number;
  }
  return start_job(env, job, argv[0], fn_name, execute);
}

static napi_value zlib_compress_into(napi_env env, napi_callback_info info) {
  return queue_job(env, info, compress_execute, 1, "zlibCompressInto");
}

/* libdeflate's worst-case zlib size of n input bytes (the same at every level >= 1 in libdeflate 1.14). */
static napi_value zlib_compress_bound(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  double n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_double(env, argv[0], &n) != napi_ok || !(n >= 0 && n <= 9007199254740991.0 && n == (double)(size_t)n)) {
    napi_throw_range_error(env, NULL, "zlibCompressBound expects a byte count");
    return NULL;
  }
  struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
  if (c == NULL) {
    napi_throw_error(env, NULL, "libdeflate could not allocate a compressor");
    return NULL;
  }
  size_t bound = libdeflate_zlib_compress_bound(c, (size_t)n);
  libdeflate_free_compressor(c);
  CHECK(env, napi_create_double(env, (double)bound, &result));
  return result;
}

static napi_value zlib_decompress(napi_env env, napi_callback_info info) {
  return queue_job(env, info, decompress_execute, 0, "zlibDecompress");
}

static napi_value lzw_decode(napi_env env, napi_callback_info info) {
  return queue_job(env, info, lzw_execute, 0, "lzwDecode");
}

#ifdef HAVE_LIBZSTD
static napi_value zstd_decompress(napi_env env, napi_callback_info info) {
  return queue_job(env, info, zstd_execute, 0, "zstdDecompress");
}
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/*
 * The whole 4 KiB pages inside bytes [offset, offset + length) of the
 * ArrayBuffer argv[0] (arguments: buffer, offset, length) as [start, end);
 * false after throwing a RangeError naming `name` when the arguments are not
 * an ArrayBuffer and a range inside it.
 */
static bool page_range(napi_env env, napi_callback_info info, const char *name, uintptr_t *start, uintptr_t *end) {
  size_t argc = 3;
  napi_value argv[3];
  void *data = NULL;
  size_t byte_length = 0;
  double offset, length;
  bool is_ab = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
      argc < 3 || napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], &data, &byte_length) != napi_ok ||
      napi_get_value_double(env, argv[1], &offset) != napi_ok || napi_get_value_double(env, argv[2], &length) != napi_ok ||
      !(offset >= 0 && length >= 0 && offset + length <= (double)byte_length)) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s expects (ArrayBuffer, offset, length) with the range inside the buffer", name);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  const uintptr_t page = 4096;
  *start = ((uintptr_t)data + (uintptr_t)offset + page - 1) & ~(page - 1);
  *end = ((uintptr_t)data + (uintptr_t)offset + (uintptr_t)length) & ~(page - 1);
  return true;
}

/*
 * prefault(buffer: ArrayBuffer, offset: number, length: number): boolean
 * Faults in the whole pages inside bytes [offset, offset + length) of
 * `buffer` for writing, in one call (madvise MADV_POPULATE_WRITE): a new
 * Stitcher block would otherwise take one page fault per 4 KiB on first
 * touch. Memory the kernel has not handed out yet reads as zero either way.
 * False when the kernel cannot (before Linux 5.14); the caller then touches
 * the pages itself.
 */
static napi_value prefault(napi_env env, napi_callback_info info) {
  uintptr_t start, end;
  napi_value result;
  if (!page_range(env, info, "prefault", &start, &end)) return NULL;
  bool ok = end <= start || madvise((void *)start, end - start, MADV_POPULATE_WRITE) == 0;
  CHECK(env, napi_get_boolean(env, ok, &result));
  return result;
}

/*
 * prefaultAsync(buffer: ArrayBuffer, offset: number, length: number): Promise<boolean>
 * prefault's madvise on libuv's pool, so a Stitcher can have the memory its next
 * blocks will take faulted in on another core while it accumulates (on this
 * project's VM backing fresh memory costs about 1 ms a MiB even on huge pages).
 * The call only populates page tables: it never changes the memory, and a range
 * that went away meanwhile is an error code, not a crash. Resolves false when
 * the kernel could not.
 */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref buffer_ref;
  uintptr_t start, end;
  bool ok;
} PrefaultJob;

static void prefault_execute(napi_env env, void *data) {
  (void)env;
  PrefaultJob *job = data;
  job->ok = job->end <= job->start || madvise((void *)job->start, job->end - job->start, MADV_POPULATE_WRITE) == 0;
}

static void prefault_complete(napi_env env, napi_status status, void *data) {
  PrefaultJob *job = data;
  napi_value value;
  napi_get_boolean(env, status == napi_ok && job->ok, &value);
  napi_resolve_deferred(env, job->deferred, value);
  napi_delete_reference(env, job->buffer_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value prefault_async(napi_env env, napi_callback_info info) {
  uintptr_t start, end;
  size_t argc = 1;
  napi_value argv[1], promise, resource;
  if (!page_range(env, info, "prefaultAsync", &start, &end)) return NULL;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  PrefaultJob *job = calloc(1, sizeof *job);
  if (job == NULL) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  job->start = start;
  job->end = end;
  if (napi_create_reference(env, argv[0], 1, &job->buffer_ref) != napi_ok ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "prefaultAsync", NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, NULL, resource, prefault_execute, prefault_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "coco-stitcher-native: prefaultAsync could not be queued");
    return NULL;
  }
  return promise;
}

/*
 * adviseHugePages(buffer: ArrayBuffer, offset: number, length: number): boolean
 * Marks the whole pages inside bytes [offset, offset + length) of `buffer`
 * MADV_HUGEPAGE, so that with transparent huge pages in `madvise` mode the
 * kernel backs the 2 MiB-aligned parts of it with huge pages. For Stitcher
 * blocks (WebAssembly memory, which JavaScript cannot advise): on this
 * project's VM the first write to every new 4 KiB page costs about 5 us even
 * after MADV_POPULATE_WRITE, which made the first accumulate over a fresh
 * canvas 6x slower than later ones; 2 MiB pages do not pay it. False when the
 * kernel refuses (no THP support); the memory is then used as it is.
 */
static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  uintptr_t start, end;
  napi_value result;
  if (!page_range(env, info, "adviseHugePages", &start, &end)) return NULL;
#ifdef MADV_HUGEPAGE
  bool ok = end <= start || madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
#else
  bool ok = false;
#endif
  CHECK(env, napi_get_boolean(env, ok, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, version;
  CHECK(env, napi_create_function(env, "zlibCompressInto", NAPI_AUTO_LENGTH, zlib_compress_into, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "zlibCompressInto", fn));
  CHECK(env, napi_create_function(env, "zlibCompressBound", NAPI_AUTO_LENGTH, zlib_compress_bound, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "zlibCompressBound", fn));
  CHECK(env, napi_create_function(env, "zlibDecompress", NAPI_AUTO_LENGTH, zlib_decompress, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "zlibDecompress", fn));
#ifdef HAVE_LIBZSTD
  CHECK(env, napi_create_function(env, "zstdDecompress", NAPI_AUTO_LENGTH, zstd_decompress, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "zstdDecompress", fn));
#endif
#ifdef HAVE_LIBJPEG
  CHECK(env, napi_create_function(env, "jpegDecode", NAPI_AUTO_LENGTH, jpeg_decode, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "jpegDecode", fn));
#endif
  CHECK(env, napi_create_function(env, "lzwDecode", NAPI_AUTO_LENGTH, lzw_decode, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "lzwDecode", fn));
  CHECK(env, napi_create_function(env, "prefault", NAPI_AUTO_LENGTH, prefault, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "prefault", fn));
  CHECK(env, napi_create_function(env, "prefaultAsync", NAPI_AUTO_LENGTH, prefault_async, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "prefaultAsync", fn));
  CHECK(env, napi_create_function(env, "adviseHugePages", NAPI_AUTO_LENGTH, advise_huge_pages, NULL, &fn));
  CHECK(env, napi_set_named_property(env, exports, "adviseHugePages", fn));
  if (!register_accumulate(env, exports)) return NULL;
  if (!register_copy_range(env, exports)) return NULL;
  CHECK(env, napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &version));
  CHECK(env, napi_set_named_property(env, exports, "libdeflateVersion", version));
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
