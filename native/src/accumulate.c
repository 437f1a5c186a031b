/*
 * The Stitcher's float32 accumulate in C: sums += value * weight and
 * plane += weight over rows of a block, reading the window straight from its
 * JavaScript Float32Array (the WebAssembly kernels need it copied into their
 * memory first, and scanned there for NaN in a second pass). The results are
 * the WebAssembly kernels' bit for bit: every value is one float32 multiply
 * and one float32 add in the same order (no FMA: the AVX2 code is compiled
 * with target("avx2") only, which does not enable FMA, and binding.gyp passes
 * -ffp-contract=off), and each sum depends on its own inputs only, so the
 * vector width changes nothing.
 *
 * The AVX2 kernels are chosen at load time when the CPU has AVX2; the plain
 * loops run elsewhere, so the addon still loads on any x86-64 (and other
 * architectures).
 */
#include "accumulate.h"
#include "typed-array-arg.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define NAPI_OK(env, call)                                              \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error((env), NULL, "coco-stitcher-native: " #call);    \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

/* One accumulate: `rows` rows of `npix` pixels of `bands` values. */
typedef struct {
  uint8_t *sums;       /* first row of sums; rows `srow` bytes apart */
  ptrdiff_t srow;
  uint8_t *plane;      /* first row of the weight plane (NULL: leave it alone); rows `prow` bytes apart */
  ptrdiff_t prow;
  const float *vals;   /* first value; rows `vstride` values apart */
  ptrdiff_t vstride;
  const float *wts;    /* first pixel weight (NULL: `w` for every pixel); rows `wstride` apart */
  ptrdiff_t wstride;
  int rows, npix, bands;
  float w;
} Acc;

static void acc_plain(const Acc *a) {
  const int C = a->bands, n = a->npix;
  for (int r = 0; r < a->rows; r++) {
    float *d = (float *)(a->sums + r * a->srow);
    float *t = a->plane ? (float *)(a->plane + r * a->prow) : NULL;
    const float *s = a->vals + r * a->vstride;
    const float *q = a->wts ? a->wts + r * a->wstride : NULL;
    for (int p = 0; p < n; p++) {
      const float w = q ? q[p] : a->w;
      for (int c = 0; c < C; c++) d[p * C + c] = d[p * C + c] + s[p * C + c] * w;
      if (t) t[p] = t[p] + w;
    }
  }
}

#ifdef HAVE_X86
/* d[0..8) += s[0..8) * w */
#define ACC8(d, s, w) _mm256_storeu_ps((d), _mm256_add_ps(_mm256_loadu_ps(d), _mm256_mul_ps(_mm256_loadu_ps(s), (w))))

__attribute__((target("avx2"))) static void acc_avx2(const Acc *a) {
  const int C = a->bands, n = a->npix;
  /* lanes -> pixel of the group of 8 pixels, for vector j of the group's C vectors (C = 1, 2, 4) */
  const __m256i c2[2] = {_mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7)};
  const __m256i c4[4] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
                         _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7)};
  for (int r = 0; r < a->rows; r++) {
    float *d = (float *)(a->sums + r * a->srow);
    float *t = a->plane ? (float *)(a->plane + r * a->prow) : NULL;
    const float *s = a->vals + r * a->vstride;
    const float *q = a->wts ? a->wts + r * a->wstride : NULL;
    int p = 0;
    if (!q) {
      /* one weight: the row is one run of npix * C values */
      const __m256 w = _mm256_set1_ps(a->w);
      const int len = n * C;
      int i = 0;
      for (; i + 8 <= len; i += 8) ACC8(d + i, s + i, w);
      for (; i < len; i++) d[i] = d[i] + s[i] * a->w;
      if (t) {
        for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(t + i, _mm256_add_ps(_mm256_loadu_ps(t + i), w));
        for (; i < n; i++) t[i] = t[i] + a->w;
      }
      continue;
    }
    if (C == 1 || C == 2 || C == 4) {
      for (; p + 8 <= n; p += 8) {
        const __m256 w8 = _mm256_loadu_ps(q + p);
        float *dp = d + p * C;
        const float *sp = s + p * C;
        if (C == 1) ACC8(dp, sp, w8);
        else if (C == 2) for (int j = 0; j < 2; j++) ACC8(dp + 8 * j, sp + 8 * j, _mm256_permutevar8x32_ps(w8, c2[j]));
        else for (int j = 0; j < 4; j++) ACC8(dp + 8 * j, sp + 8 * j, _mm256_permutevar8x32_ps(w8, c4[j]));
        if (t) _mm256_storeu_ps(t + p, _mm256_add_ps(_mm256_loadu_ps(t + p), w8));
      }
    } else if (C % 8 == 0) {
      for (; p < n; p++) {
        const __m256 w = _mm256_set1_ps(q[p]);
        for (int c = 0; c < C; c += 8) ACC8(d + p * C + c, s + p * C + c, w);
        if (t) t[p] = t[p] + q[p];
      }
    }
    for (; p < n; p++) {
      const float w = q[p];
      for (int c = 0; c < C; c++) d[p * C + c] = d[p * C + c] + s[p * C + c] * w;
      if (t) t[p] = t[p] + w;
    }
  }
}
#endif

/* Index (r * len + i) of the first NaN or +-Inf in `rows` rows of `len` values `stride` apart, or -1. */
static double first_bad_plain(const float *v, ptrdiff_t stride, int rows, int len) {
  for (int r = 0; r < rows; r++) {
    const uint32_t *u = (const uint32_t *)(v + r * stride);
    for (int i = 0; i < len; i++) if ((u[i] & 0x7f800000u) == 0x7f800000u) return (double)r * len + i;
  }
  return -1;
}

#ifdef HAVE_X86
__attribute__((target("avx2"))) static double first_bad_avx2(const float *v, ptrdiff_t stride, int rows, int len) {
  const __m256 zero = _mm256_setzero_ps();
  for (int r = 0; r < rows; r++) {
    const float *row = v + r * stride;
    int i = 0;
    /* x - x is 0 for finite x and NaN otherwise; NaN survives the adds */
    for (; i + 32 <= len; i += 32) {
      __m256 a = _mm256_loadu_ps(row + i), b = _mm256_loadu_ps(row + i + 8);
      __m256 c = _mm256_loadu_ps(row + i + 16), e = _mm256_loadu_ps(row + i + 24);
      __m256 x = _mm256_add_ps(_mm256_add_ps(_mm256_sub_ps(a, a), _mm256_sub_ps(b, b)),
                               _mm256_add_ps(_mm256_sub_ps(c, c), _mm256_sub_ps(e, e)));
      if (_mm256_movemask_ps(_mm256_cmp_ps(x, zero, _CMP_NEQ_UQ))) break;
    }
    const uint32_t *u = (const uint32_t *)row;
    for (; i < len; i++) if ((u[i] & 0x7f800000u) == 0x7f800000u) return (double)r * len + i;
  }
  return -1;
}
#endif

static void (*acc_kernel)(const Acc *) = acc_plain;
static double (*first_bad_kernel)(const float *, ptrdiff_t, int, int) = first_bad_plain;
static const char *kernel_name = "plain";

/* A Float32Array argument: its data and length; false (after throwing) otherwise. */
static bool f32_array(napi_env env, napi_value v, const char *what, float **data, size_t *len) {
  return typed_array_arg(env, v, napi_float32_array, what, "Float32Array", (void **)data, len);
}

/* Integer arguments argv[from..from+n) into out; false (after throwing) unless all are integers in [-1, 2^53). */
static bool ints(napi_env env, const napi_value *argv, int from, int n, const char *fn, double *out) {
  for (int i = 0; i < n; i++) {
    double d;
    if (napi_get_value_double(env, argv[from + i], &d) != napi_ok || !(d >= -1 && d < 9007199254740992.0) || d != (double)(int64_t)d) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s: argument %d must be an integer >= -1", fn, from + i);
      napi_throw_range_error(env, NULL, msg);
      return false;
    }
    out[i] = d;
  }
  return true;
}

/* Whether start + (rows - 1) * stride + run <= size, all >= 0. */
static bool inside(double start, double stride, double rows, double run, double size) {
  return start >= 0 && stride >= 0 && (rows == 0 || run == 0 || start + (rows - 1) * stride + run <= size);
}

/*
 * stitchAccumulate(memory: ArrayBuffer, sums, sumsStride, plane, planeStride,
 *   values: Float32Array, valuesOffset, valuesStride, weights: Float32Array | null,
 *   weightsOffset, weightsStride, rows, npix, bands, weight): void
 * For each of `rows` rows and each of its `npix` pixels p: the `bands` float32
 * sums at byte `sums` (+ row * sumsStride) of `memory` += the values (from
 * element valuesOffset + row * valuesStride of `values`) times the pixel's
 * weight (weights[weightsOffset + row * weightsStride + p], or `weight` when
 * weights is null), and the float32 at byte `plane` (+ row * planeStride) +=
 * that weight; plane -1: the plane is left alone. Byte offsets multiples of 4.
 */
static napi_value stitch_accumulate(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 15) {
    napi_throw_type_error(env, NULL, "stitchAccumulate expects 15 arguments");
    return NULL;
  }
  void *mem;
  size_t mem_len;
  bool is_ab = false;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab || napi_get_arraybuffer_info(env, argv[0], &mem, &mem_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "stitchAccumulate: memory must be an ArrayBuffer");
    return NULL;
  }
  double g[4], h[2], k[6];
  float *vals, *wts = NULL;
  size_t vlen, wlen = 0;
  napi_valuetype wtype;
  double wscalar;
  if (!ints(env, argv, 1, 4, "stitchAccumulate", g) || !f32_array(env, argv[5], "stitchAccumulate: values", &vals, &vlen) ||
      !ints(env, argv, 6, 2, "stitchAccumulate", h) || napi_typeof(env, argv[8], &wtype) != napi_ok) return NULL;
  if (wtype != napi_null && !f32_array(env, argv[8], "stitchAccumulate: weights", &wts, &wlen)) return NULL;
  if (!ints(env, argv, 9, 5, "stitchAccumulate", k)) return NULL;
  if (napi_get_value_double(env, argv[14], &wscalar) != napi_ok) {
    napi_throw_type_error(env, NULL, "stitchAccumulate: weight must be a number");
    return NULL;
  }
  const double sums = g[0], srow = g[1], plane = g[2], prow = g[3], voff = h[0], vstride = h[1];
  const double woff = k[0], wstride = k[1], rows = k[2], npix = k[3], bands = k[4];
  const double size = (double)mem_len;
  bool ok = bands >= 1 && rows <= 2147483647.0 && npix * bands <= 2147483647.0 && npix >= 0 && rows >= 0 &&
            ((uint64_t)sums | (uint64_t)srow) % 4 == 0 && inside(sums, srow, rows, npix * bands * 4, size) &&
            (plane == -1 || (((uint64_t)plane | (uint64_t)prow) % 4 == 0 && inside(plane, prow, rows, npix * 4, size))) &&
            inside(voff, vstride, rows, npix * bands, (double)vlen) &&
            (!wts || inside(woff, wstride, rows, npix, (double)wlen));
  if (!ok) {
    napi_throw_range_error(env, NULL, "stitchAccumulate: a range lies outside its buffer (or an offset is not a multiple of 4)");
    return NULL;
  }
  if (rows == 0 || npix == 0) return NULL;
  Acc a = {
    .sums = (uint8_t *)mem + (size_t)sums, .srow = (ptrdiff_t)srow,
    .plane = plane == -1 ? NULL : (uint8_t *)mem + (size_t)plane, .prow = (ptrdiff_t)prow,
    .vals = vals + (size_t)voff, .vstride = (ptrdiff_t)vstride,
    .wts = wts ? wts + (size_t)woff : NULL, .wstride = (ptrdiff_t)wstride,
    .rows = (int)rows, .npix = (int)npix, .bands = (int)bands, .w = (float)wscalar,
  };
  acc_kernel(&a);
  return NULL;
}

/*
 * firstNonFinite(values: Float32Array, offset, stride, rows, len): number
 * Index r * len + i of the first NaN or +-Inf among `rows` rows of `len`
 * values (row r from element offset + r * stride), or -1.
 */
static napi_value first_non_finite(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "firstNonFinite expects (values, offset, stride, rows, len)");
    return NULL;
  }
  float *v;
  size_t n;
  double g[4];
  if (!f32_array(env, argv[0], "firstNonFinite: values", &v, &n) || !ints(env, argv, 1, 4, "firstNonFinite", g)) return NULL;
  if (g[2] < 0 || g[3] < 0 || g[2] > 2147483647.0 || g[3] > 2147483647.0 || !inside(g[0], g[1], g[2], g[3], (double)n)) {
    napi_throw_range_error(env, NULL, "firstNonFinite: the rows lie outside the array");
    return NULL;
  }
  const double i = g[2] == 0 || g[3] == 0 ? -1 : first_bad_kernel(v + (size_t)g[0], (ptrdiff_t)g[1], (int)g[2], (int)g[3]);
  NAPI_OK(env, napi_create_double(env, i, &result));
  return result;
}

/*
 * streamTriad(a: Float32Array, b: Float32Array, c: Float32Array, s: number): void
 * a[i] = b[i] + s * c[i] (STREAM's triad) over the shortest of the three: the
 * memory-bandwidth reference the Stitcher's benchmarks measure accumulate
 * against, in the same run.
 */
static napi_value stream_triad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *p[3];
  size_t n[3];
  double s;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "streamTriad expects (Float32Array, Float32Array, Float32Array, number)");
    return NULL;
  }
  for (int i = 0; i < 3; i++) if (!f32_array(env, argv[i], "streamTriad: a, b and c", &p[i], &n[i])) return NULL;
  if (napi_get_value_double(env, argv[3], &s) != napi_ok) {
    napi_throw_type_error(env, NULL, "streamTriad: s must be a number");
    return NULL;
  }
  size_t len = n[0] < n[1] ? n[0] : n[1];
  if (n[2] < len) len = n[2];
  float *restrict a = p[0];
  const float *restrict b = p[1], *restrict c = p[2];
  const float sf = (float)s;
  for (size_t i = 0; i < len; i++) a[i] = b[i] + sf * c[i];
  return NULL;
}

bool register_accumulate(napi_env env, napi_value exports) {
#ifdef HAVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    acc_kernel = acc_avx2;
    first_bad_kernel = first_bad_avx2;
    kernel_name = "avx2";
  }
#endif
  napi_value fn, name;
  if (napi_create_function(env, "stitchAccumulate", NAPI_AUTO_LENGTH, stitch_accumulate, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "stitchAccumulate", fn) != napi_ok ||
      napi_create_function(env, "firstNonFinite", NAPI_AUTO_LENGTH, first_non_finite, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "firstNonFinite", fn) != napi_ok ||
      napi_create_function(env, "streamTriad", NAPI_AUTO_LENGTH, stream_triad, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "streamTriad", fn) != napi_ok ||
      napi_create_string_utf8(env, kernel_name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_set_named_property(env, exports, "accumulateKernel", name) != napi_ok) {
    napi_throw_error(env, NULL, "coco-stitcher-native: registering the accumulate kernels failed");
    return false;
  }
  return true;
}
