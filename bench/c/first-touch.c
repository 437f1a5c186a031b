/*
 * Why the Stitcher's block memory gets huge pages (issue 18), in plain C, no Node:
 * the manager-961x4 job's accumulate (961 windows of 256x256x4 float32 with per-pixel
 * weights into 128x128 blocks of a 4096x4096x4 canvas: sums then one weight plane per
 * block) over memory faulted in slot by slot with MADV_POPULATE_WRITE, three passes,
 * with 4 KiB pages and with MADV_HUGEPAGE first; plus STREAM's triad for the floor.
 * On this project's VM the first pass over 4 KiB pages runs ~6x slower than the second
 * (every first write to a page costs ~5 us even after the populate); with 2 MiB pages the
 * first pass runs as fast as the later ones.
 *   gcc -O2 -ffp-contract=off -o /tmp/first-touch bench/c/first-touch.c && /tmp/first-touch
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  const size_t n = 1 << 23;
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4), *c = aligned_alloc(64, n * 4);
  for (size_t i = 0; i < n; i++) { a[i] = 0; b[i] = i; c[i] = 1; }
  double best = 1e9;
  for (int r = 0; r < 10; r++) {
    double t = now();
    for (size_t i = 0; i < n; i++) a[i] = b[i] + 1.5f * c[i];
    if (now() - t < best) best = now() - t;
  }
  printf("triad: %.1f GB/s (best of 10)\n", 3.0 * n * 4 / best / 1e9);
  const int N = 4096, C = 4, bs = 128, nb = N / bs, P = 256;
  const size_t slot = (size_t)bs * bs * (C + 1), total = (size_t)nb * nb * slot * 4;
  float *patch = aligned_alloc(64, (size_t)P * P * C * 4), *mask = aligned_alloc(64, (size_t)P * P * 4);
  for (int i = 0; i < P * P * C; i++) patch[i] = i % 7;
  for (int i = 0; i < P * P; i++) mask[i] = 0.5f;
  const double moved = 961.0 * P * P * 4 * (3 * C + 3);
  for (int huge = 0; huge < 2; huge++) {
    char *raw = mmap(0, total + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    float *m = (float *)(((uintptr_t)raw + (2 << 20) - 1) & ~(uintptr_t)((2 << 20) - 1));
    double t0 = now();
    if (huge) madvise(m, total, MADV_HUGEPAGE);
    for (size_t o = 0; o < total; o += slot * 4) madvise((char *)m + o, slot * 4 - bs * bs * 4, MADV_POPULATE_WRITE);
    printf("%s: populate %.1f ms\n", huge ? "MADV_HUGEPAGE" : "4 KiB pages", (now() - t0) * 1e3);
    for (int pass = 0; pass < 3; pass++) {
      double t = now();
      for (int wy = 0; wy + P <= N; wy += 128) for (int wx = 0; wx + P <= N; wx += 128)
        for (int by = 0; by < 2; by++) for (int bx = 0; bx < 2; bx++) {
          float *blk = m + (size_t)((wy / bs + by) * nb + (wx / bs + bx)) * slot, *wt = blk + bs * bs * C;
          for (int r = 0; r < bs; r++) {
            const float *s = patch + ((size_t)(by * bs + r) * P + bx * bs) * C, *q = mask + (by * bs + r) * P + bx * bs;
            float *d = blk + r * bs * C, *tw = wt + r * bs;
            for (int p = 0; p < bs; p++) {
              const float w = q[p];
              for (int k = 0; k < C; k++) d[p * C + k] = d[p * C + k] + s[p * C + k] * w;
              tw[p] = tw[p] + w;
            }
          }
        }
      double dt = now() - t;
      printf("  accumulate pass %d: %.1f ms (%.1f GB/s of the job's bytes)\n", pass + 1, dt * 1e3, moved / dt / 1e9);
    }
    munmap(raw, total + (2 << 20));
  }
  return 0;
}
