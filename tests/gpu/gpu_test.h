/* gpu_test.h: helpers for tests that run shaders on whatever Vulkan device exists (lavapipe in
 * CI): a context with the validation layer (SRLM_VALIDATE=1 from meson), an arena, upload and
 * read-back of float arrays, and comparison against CPU references. Any validation message
 * fails the test in gpu_test_finish. */
#ifndef SRLM_GPU_TEST_H
#define SRLM_GPU_TEST_H

#include "../test.h"
#include "ops/ops.h"

typedef struct gpu_env {
    srlm_ctx *ctx;
    srlm_arena *arena;
    srlm_cmd *cmd;
} gpu_env;

static inline int gpu_env_init(gpu_env *g) {
    memset(g, 0, sizeof *g);
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    srlm_status st = srlm_ctx_create(&o, &g->ctx);
    if (st) {
        fprintf(stderr, "cannot create a Vulkan context: %s\n", srlm_status_msg(st));
        srlm_status_free(st);
        return 0;
    }
    st = srlm_arena_create(g->ctx, "test", 256ull << 20, &g->arena);
    if (!st) st = srlm_cmd_create(g->ctx, &g->cmd);
    if (st) {
        fprintf(stderr, "setup failed: %s\n", srlm_status_msg(st));
        srlm_status_free(st);
        return 0;
    }
    printf("device: %s\n", srlm_ctx_device_name(g->ctx));
    return 1;
}

/* Allocates a buffer of n floats, optionally filled from host data. */
static inline srlm_buf gpu_alloc(gpu_env *g, uint64_t bytes, const void *init) {
    srlm_buf b = {0};
    CHECK_OK(srlm_arena_alloc(g->arena, bytes, &b));
    if (init && b.buffer) CHECK_OK(srlm_buf_write(g->ctx, b, 0, init, bytes));
    return b;
}

static inline void gpu_read(gpu_env *g, srlm_buf b, void *out, uint64_t bytes) { CHECK_OK(srlm_buf_read(g->ctx, b, 0, out, bytes)); }

/* Normalised squared error sum((a-b)^2)/sum(b^2) (plain squared error when b is all zero). */
static inline double nse(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? num / den : num;
}

/* Compares GPU output `got` with reference `want`; prints the first mismatches on failure. */
static inline void check_close(const char *what, const float *got, const float *want, size_t n, double tol) {
    double e = nse(got, want, n);
    double maxabs = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (d > maxabs || d != d) maxabs = d;
    }
    int bad = !(e <= tol);
    printf("  %-40s n=%-9zu nse=%.3g max|d|=%.3g tol=%.1g %s\n", what, n, e, maxabs, tol, bad ? "FAIL" : "ok");
    CHECK(!bad, "%s: normalised squared error %.3g > %.1g", what, e, tol);
    if (bad) {
        int shown = 0;
        for (size_t i = 0; i < n && shown < 8; i++)
            if (fabs((double)got[i] - (double)want[i]) > 1e-3 * (fabs((double)want[i]) + 1e-3) || got[i] != got[i]) {
                fprintf(stderr, "    [%zu] got %.8g want %.8g\n", i, got[i], want[i]);
                shown++;
            }
    }
}

static inline int gpu_test_finish(gpu_env *g, const char *name) {
    int verr = g->ctx ? srlm_ctx_validation_errors(g->ctx) : 0;
    CHECK(verr == 0, "%d validation-layer message(s)", verr);
    srlm_cmd_destroy(g->cmd);
    srlm_arena_destroy(g->arena);
    srlm_ctx_destroy(g->ctx);
    return test_finish(name);
}

static inline void fill_random(float *x, size_t n, unsigned long long *seed, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = test_rand_uniform(seed, lo, hi);
}

#endif
