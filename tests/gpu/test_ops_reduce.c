/* test_ops_reduce.c: sum, sum of squares and the global norm (shaders/reduce.comp) against
 * the CPU references (double accumulation) at awkward sizes; determinism (a replay gives the
 * same bits); the global norm over several tensors, also with a lowered binding limit so
 * tensors are cut into pieces. Tolerances (docs/ops.md): sum and sumsq |gpu - ref| <=
 * 1e-6 * sum|x| (resp. sum x^2); global norm relative error < 1e-5. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

/* |got - want| <= tol * scale: scale is sum|x| (sum), sum x^2 (sumsq) or |want| (norm) */
static void check_scalar(const char *what, float got, float want, double scale, double tol) {
    double err = fabs((double)got - want);
    int ok = err <= tol * scale || got == want;
    printf("  %-44s got %-14.8g want %-14.8g err %.2g (tol %.0e x %.4g) %s\n", what, got, want, err, tol, scale,
           ok ? "ok" : "FAIL");
    CHECK(ok, "%s: got %.9g want %.9g", what, got, want);
}

static double sum_abs(const float *x, uint64_t n) {
    double s = 0;
    for (uint64_t i = 0; i < n; i++) s += fabs((double)x[i]);
    return s;
}

static void test_sums(gpu_env *g, unsigned long long *seed, const char *tag) {
    const uint64_t sizes[] = {1, 2, 7, 13, 127, 1000, 4098, 4099, 300007}; /* every n % 4 */
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint64_t n = sizes[s];
        float *x = malloc(n * 4);
        fill_random(x, n, seed, -1, 3); /* mean 1: a sum that grows */
        srlm_buf X = gpu_alloc(g, n * 4, x);
        srlm_buf S = gpu_alloc(g, srlm_op_reduce_scratch_bytes(g->ctx, &n, 1), NULL);
        srlm_buf O = gpu_alloc(g, 8, NULL);
        float out[2];
        char what[96];
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_sum(g->cmd, O, S, X, n));
        CHECK_OK(srlm_op_sumsq(g->cmd, srlm_buf_slice(O, 4, 4), S, X, n));
        CHECK_OK(srlm_cmd_end(g->cmd));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, O, out, 8);
        snprintf(what, sizeof what, "%ssum n=%llu", tag, (unsigned long long)n);
        check_scalar(what, out[0], srlm_ref_sum(x, n), sum_abs(x, n), 1e-6);
        snprintf(what, sizeof what, "%ssumsq n=%llu", tag, (unsigned long long)n);
        float ss = srlm_ref_sumsq(x, n);
        check_scalar(what, out[1], ss, ss, 1e-6);
        /* deterministic: the replay reproduces the bits */
        float again[2];
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, O, again, 8);
        CHECK(memcmp(out, again, 8) == 0, "replay changed the sum: %.9g %.9g -> %.9g %.9g", out[0], out[1], again[0], again[1]);
        free(x);
        srlm_arena_reset(g->arena);
    }
}

static void test_global_norm(gpu_env *g, unsigned long long *seed, const char *tag) {
    enum { K = 5 };
    const uint64_t ns[K] = {1, 4099, 127, 70001, 13};
    float *xs[K];
    srlm_buf bufs[K];
    for (int t = 0; t < K; t++) {
        xs[t] = malloc(ns[t] * 4);
        fill_random(xs[t], ns[t], seed, -0.01f * (t + 1), 0.01f * (t + 1));
        bufs[t] = gpu_alloc(g, ns[t] * 4, xs[t]);
    }
    srlm_buf S = gpu_alloc(g, srlm_op_reduce_scratch_bytes(g->ctx, ns, K), NULL), O = gpu_alloc(g, 4, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_global_norm(g->cmd, O, S, bufs, ns, K));
    CHECK_OK(srlm_cmd_run(g->cmd));
    float got;
    gpu_read(g, O, &got, 4);
    size_t sz[K];
    for (int t = 0; t < K; t++) sz[t] = ns[t];
    char what[96];
    snprintf(what, sizeof what, "%sglobal norm of %d tensors", tag, K);
    float norm = srlm_ref_global_norm((const float *const *)xs, sz, K);
    check_scalar(what, got, norm, norm, 1e-5);
    for (int t = 0; t < K; t++) free(xs[t]);
    /* too little scratch is an error, not a wrong answer */
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_ERR(srlm_op_global_norm(g->cmd, O, srlm_buf_slice(S, 0, 4), bufs, ns, K), SRLM_ERR_INVALID, "scratch");
    CHECK_OK(srlm_cmd_end(g->cmd));
    srlm_arena_reset(g->arena);
}

/* An empty tensor sums to 0 (the output is still written). */
static void test_empty(gpu_env *g) {
    uint64_t n = 0;
    srlm_buf X = gpu_alloc(g, 4, NULL), S = gpu_alloc(g, srlm_op_reduce_scratch_bytes(g->ctx, &n, 1), NULL);
    float junk = 5.0f, got = -1;
    srlm_buf O = gpu_alloc(g, 4, &junk);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_sum(g->cmd, O, S, X, 0));
    CHECK_OK(srlm_cmd_run(g->cmd));
    gpu_read(g, O, &got, 4);
    check_scalar("sum n=0", got, 0.0f, 0.0, 0.0);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0003ull;
    test_sums(&g, &seed, "");
    test_global_norm(&g, &seed, "");
    test_empty(&g);
    setenv("SRLM_MAX_BINDING_BYTES", "4096", 1);
    test_sums(&g, &seed, "[4 KiB limit] ");
    test_global_norm(&g, &seed, "[4 KiB limit] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    return gpu_test_finish(&g, "test_ops_reduce");
}
