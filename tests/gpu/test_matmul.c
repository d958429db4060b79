/* test_matmul.c: the matmul family (Y = X.W^T + b, dX = dY.W, dW += dY^T.X, db += colsum dY)
 * against a CPU reference on fresh random inputs with awkward sizes, for f32 and f16 weights,
 * for every kernel variant (register tiles in several tile shapes, and the shared-memory GPU
 * variant at small sizes), with overwrite and accumulate; tiling under a lowered binding limit
 * (SRLM_MAX_BINDING_BYTES) and the real 151936 x 896 f16 LM head over 128 MiB; determinism of
 * the weight gradient; argument errors. Tolerance: normalised squared error < 1e-7 against the
 * reference computed on the same (f16-rounded) weights. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define TOL 1e-7

/* ---- CPU reference: runtime/ops/ref.h (float, fixed order; the _f16 forms widen the same
 * bits exactly). The forward and input-gradient references overwrite, so the accumulate
 * cases add the old contents here. ---- */

static float half_to_float(uint16_t h) { return srlm_ref_f16_to_f32(h); }

/* Random normal f16 values in +-[0.125, 2). */
static void random_halves(uint16_t *h, size_t n, unsigned long long *seed) {
    for (size_t i = 0; i < n; i++) {
        uint64_t r = test_rand_u64(seed);
        h[i] = (uint16_t)(((r >> 63) << 15) | ((12 + (r >> 20) % 4) << 10) | (r & 1023));
    }
}

static void ref_fwd(float *y, const float *x, const float *w, const uint16_t *wh, const float *b, int M, int N, int K,
                    int acc) {
    float *t = malloc((size_t)M * N * 4);
    if (wh) srlm_ref_matmul_fwd_f16(t, x, wh, b, M, K, N);
    else srlm_ref_matmul_fwd(t, x, w, b, M, K, N);
    for (size_t i = 0; i < (size_t)M * N; i++) y[i] = acc ? y[i] + t[i] : t[i];
    free(t);
}

static void ref_bwd_inp(float *dx, const float *dy, const float *w, const uint16_t *wh, int M, int N, int K, int acc) {
    float *t = malloc((size_t)M * K * 4);
    if (wh) srlm_ref_matmul_bwd_inp_f16(t, dy, wh, M, K, N);
    else srlm_ref_matmul_bwd_inp(t, dy, w, M, K, N);
    for (size_t i = 0; i < (size_t)M * K; i++) dx[i] = acc ? dx[i] + t[i] : t[i];
    free(t);
}

static void ref_bwd_weight(float *dw, float *db, const float *dy, const float *x, int M, int N, int K) {
    srlm_ref_matmul_bwd_weight(dw, db, dy, x, M, K, N);
}

/* ---- one case: all three forms for one shape, weight type and kernel configuration ---- */

typedef struct mm_case {
    int M, N, K;
} mm_case;

static unsigned long long seed = 0x5eed1234abcdull;

static void run_case(gpu_env *g, mm_case s, srlm_mm_wtype wt, const srlm_mm_cfg *cfg, const char *label, int forms) {
    size_t M = s.M, N = s.N, K = s.K;
    float *x = malloc(M * K * 4), *w = malloc(N * K * 4), *b = malloc(N * 4), *y = malloc(M * N * 4);
    float *want = malloc(M * N * 4), *got = malloc((M * N > M * K ? M * N : M * K) * 4);
    float *dx = malloc(M * K * 4), *dxw = malloc(M * K * 4), *dw = malloc(N * K * 4), *dww = malloc(N * K * 4);
    float *db = malloc(N * 4), *dbw = malloc(N * 4);
    uint16_t *wh = wt == SRLM_MM_W_F16 ? malloc(N * K * 2 + 2) : NULL;
    fill_random(x, M * K, &seed, -1, 1);
    fill_random(b, N, &seed, -1, 1);
    fill_random(y, M * N, &seed, -1, 1);
    if (wh) {
        random_halves(wh, N * K, &seed);
        for (size_t i = 0; i < N * K; i++) w[i] = half_to_float(wh[i]);
    } else {
        fill_random(w, N * K, &seed, -1, 1);
    }
    srlm_arena_reset(g->arena);
    uint64_t wb = wh ? (N * K * 2 + 3) / 4 * 4 : N * K * 4;
    srlm_buf bx = gpu_alloc(g, M * K * 4, x), bw = gpu_alloc(g, wb, wh ? (void *)wh : (void *)w);
    srlm_buf bb = gpu_alloc(g, N * 4, b), by = gpu_alloc(g, M * N * 4, y);
    char what[160];
    const char *wn = wh ? "f16" : "f32";
    for (int acc = 0; acc < 2 && (forms & 1); acc++) {
        /* forward: with bias and overwrite, then without bias accumulating onto y */
        CHECK_OK(srlm_buf_write(g->ctx, by, 0, y, M * N * 4));
        memcpy(want, y, M * N * 4);
        ref_fwd(want, x, w, wh, acc ? NULL : b, s.M, s.N, s.K, acc);
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_matmul_fwd(g->cmd, by, bx, bw, wt, acc ? NULL : &bb, s.M, s.N, s.K, acc, cfg));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, by, got, M * N * 4);
        snprintf(what, sizeof what, "%s fwd %s %s %dx%dx%d", label, wn, acc ? "acc" : "bias", s.M, s.N, s.K);
        check_close(what, got, want, M * N, TOL);
    }
    if (forms & 2) {
        /* input gradient: dY = y (random), overwrite then accumulate */
        srlm_buf bdx = gpu_alloc(g, M * K * 4, NULL);
        for (int acc = 0; acc < 2; acc++) {
            fill_random(dx, M * K, &seed, -1, 1);
            memcpy(dxw, dx, M * K * 4);
            CHECK_OK(srlm_buf_write(g->ctx, bdx, 0, dx, M * K * 4));
            CHECK_OK(srlm_buf_write(g->ctx, by, 0, y, M * N * 4));
            ref_bwd_inp(dxw, y, w, wh, s.M, s.N, s.K, acc);
            CHECK_OK(srlm_cmd_begin(g->cmd));
            CHECK_OK(srlm_op_matmul_bwd_inp(g->cmd, bdx, by, bw, wt, s.M, s.N, s.K, acc, cfg));
            CHECK_OK(srlm_cmd_run(g->cmd));
            gpu_read(g, bdx, got, M * K * 4);
            snprintf(what, sizeof what, "%s dX %s %s %dx%dx%d", label, wn, acc ? "acc" : "set", s.M, s.N, s.K);
            check_close(what, got, dxw, M * K, TOL);
        }
    }
    if ((forms & 4) && !wh) {
        /* weight gradient (f32 only): dW += dY^T X, db += colsum dY, onto random contents */
        fill_random(dw, N * K, &seed, -1, 1);
        fill_random(db, N, &seed, -1, 1);
        memcpy(dww, dw, N * K * 4);
        memcpy(dbw, db, N * 4);
        srlm_buf bdw = gpu_alloc(g, N * K * 4, dw), bdb = gpu_alloc(g, N * 4, db);
        CHECK_OK(srlm_buf_write(g->ctx, by, 0, y, M * N * 4));
        ref_bwd_weight(dww, dbw, y, x, s.M, s.N, s.K);
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_matmul_bwd_weight(g->cmd, bdw, &bdb, by, bx, s.M, s.N, s.K, cfg));
        CHECK_OK(srlm_cmd_run(g->cmd));
        float *gw = malloc(N * K * 4);
        gpu_read(g, bdw, gw, N * K * 4);
        snprintf(what, sizeof what, "%s dW %dx%dx%d", label, s.M, s.N, s.K);
        check_close(what, gw, dww, N * K, TOL);
        gpu_read(g, bdb, got, N * 4);
        snprintf(what, sizeof what, "%s db %dx%dx%d", label, s.M, s.N, s.K);
        check_close(what, got, dbw, N, TOL);
        free(gw);
    }
    free(x), free(w), free(b), free(y), free(want), free(got), free(dx), free(dxw), free(dw), free(dww), free(db), free(dbw);
    free(wh);
}

static const mm_case shapes[] = {
    {1, 1, 1},     {1, 4099, 1000}, {1, 127, 4099}, {7, 1000, 13}, {13, 7, 1000}, {16, 1000, 1000},
    {127, 1000, 127}, {1000, 13, 1000}, {4099, 7, 13}, {127, 4099, 8},
};
static const mm_case small_shapes[] = {{13, 127, 1000}, {127, 7, 13}, {1, 1, 1}, {1, 127, 1000}, {7, 13, 127}, {70, 130, 40}};
#define COUNT(a) (sizeof(a) / sizeof *(a))

static void test_defaults(gpu_env *g) {
    srlm_mm_cfg r;
    srlm_mm_cfg_resolve(g->ctx, 0, 512, 1024, NULL, &r);
    printf("default kernel on this device: %s\n", r.kernel == SRLM_MM_REGTILE ? "register tiles" : "shared memory");
    for (size_t i = 0; i < COUNT(shapes); i++) {
        double t0 = now_s();
        for (int t = 0; t < 2; t++) run_case(g, shapes[i], (srlm_mm_wtype)t, NULL, "auto", 7);
        printf("shape %dx%dx%d: %.2f s\n", shapes[i].M, shapes[i].N, shapes[i].K, now_s() - t0);
    }
}

/* Every variant runs everywhere at small sizes, so each path is checked on every device: the
 * register tiles with odd tile sizes, the one-subgroup matrix-vector kernel with odd sizes, the
 * 64-bit loads (opt-in, where the device has shaderInt64), and the GPU's shared-memory kernel,
 * with small tiles on all shapes and with its default 64x64 tiles on two. The tile sizes are
 * few on purpose: lavapipe compiles each pipeline on first use, seconds for large tiles. */
static void test_variants(gpu_env *g) {
    const struct {
        const char *name;
        srlm_mm_cfg cfg;
        int forms, f16_only, nshapes;
    } v[] = {
        {"rt3x1", {.kernel = SRLM_MM_REGTILE, .wg = 8, .t1 = 3, .t2 = 1}, 7, 0, 6},
        {"rt2x2-ld64", {.kernel = SRLM_MM_REGTILE, .wg = 8, .t1 = 2, .t2 = 2, .ld64 = 1}, 1, 0, 6},
        {"mv2x2-ld64", {.kernel = SRLM_MM_MATVEC, .t1 = 2, .t2 = 2, .ld64 = 1}, 1, 0, 6},
        {"mv2x3", {.kernel = SRLM_MM_MATVEC, .t1 = 2, .t2 = 3}, 1, 0, 6},
        {"sm16", {.kernel = SRLM_MM_SHARED, .wg = 64, .bi = 16, .bj = 16, .bp = 8, .ti = 2, .tj = 2}, 7, 0, 6},
        {"sm64", {.kernel = SRLM_MM_SHARED}, 7, 0, 1}, /* the GPU default: 64x64x16 tiles, 4x4 each */
    };
    for (size_t c = 0; c < COUNT(v); c++) {
        srlm_mm_cfg cfg = v[c].cfg;
        if (cfg.kernel == SRLM_MM_MATVEC) {
            cfg.wg = g->ctx->caps.subgroup_size;
            srlm_mm_cfg r;
            srlm_mm_cfg_resolve(g->ctx, 0, 1, 1024, NULL, &r);
            if (r.kernel != SRLM_MM_MATVEC) {
                printf("variant %s: not used on this device (no subgroup arithmetic or varying subgroup size)\n", v[c].name);
                continue;
            }
        }
        double t0 = now_s();
        for (int i = 0; i < v[c].nshapes && i < (int)COUNT(small_shapes); i++)
            for (int t = v[c].f16_only; t < 2; t++) {
                mm_case sh = small_shapes[i];
                if (cfg.kernel == SRLM_MM_MATVEC && sh.M > 16) sh.M = 13; /* several dispatches of TM rows */
                run_case(g, sh, (srlm_mm_wtype)t, &cfg, v[c].name, v[c].forms);
            }
        printf("variant %s: %.2f s (first use compiles the pipelines)\n", v[c].name, now_s() - t0);
    }
}

/* A lowered binding limit forces tiles of W rows (Y column ranges) and of X rows. */
static void test_tiling(gpu_env *g) {
    setenv("SRLM_MAX_BINDING_BYTES", "16384", 1);
    CHECK(srlm_ops_binding_limit(g->ctx) == 16384, "env lowers the binding limit");
    const mm_case t[] = {{13, 1000, 127}, {127, 300, 40}, {1, 4000, 8}};
    const srlm_mm_cfg sm = {.kernel = SRLM_MM_SHARED, .wg = 64, .bi = 16, .bj = 16, .bp = 8, .ti = 2, .tj = 2};
    for (size_t i = 0; i < COUNT(t); i++)
        for (int w = 0; w < 2; w++) {
            run_case(g, t[i], (srlm_mm_wtype)w, NULL, "tiled16K", 7);
            run_case(g, t[i], (srlm_mm_wtype)w, &sm, "tiled16K-sm16", 7);
        }
    setenv("SRLM_MAX_BINDING_BYTES", "100", 1);
    CHECK(srlm_ops_binding_limit(g->ctx) == 4 * srlm_ops_align(g->ctx), "tiny values are raised to a few alignment units");
    setenv("SRLM_MAX_BINDING_BYTES", "64G", 1);
    CHECK(srlm_ops_binding_limit(g->ctx) == g->ctx->caps.max_storage_buffer_range, "the limit is never raised");
    unsetenv("SRLM_MAX_BINDING_BYTES");
}

/* The Qwen2.5-0.5B tied LM head: 151936 x 896 f16 = 260 MiB, over lavapipe's 128 MiB range. */
static void test_lm_head(gpu_env *g) {
    const int M = 2, N = 151936, K = 896;
    size_t nw = (size_t)N * K;
    uint16_t *wh = malloc(nw * 2);
    float *x = malloc((size_t)M * K * 4), *y = malloc((size_t)M * N * 4), *want = malloc((size_t)M * N * 4);
    random_halves(wh, nw, &seed);
    fill_random(x, (size_t)M * K, &seed, -1, 1);
    srlm_arena *big;
    CHECK_OK(srlm_arena_create(g->ctx, "lmhead", 0, &big));
    srlm_buf bw, bx, by;
    CHECK_OK(srlm_arena_alloc(big, nw * 2, &bw));
    CHECK_OK(srlm_arena_alloc(big, (size_t)M * K * 4, &bx));
    CHECK_OK(srlm_arena_alloc(big, (size_t)M * N * 4, &by));
    CHECK_OK(srlm_buf_write(g->ctx, bw, 0, wh, nw * 2));
    CHECK_OK(srlm_buf_write(g->ctx, bx, 0, x, (size_t)M * K * 4));
    CHECK(bw.size > g->ctx->caps.max_storage_buffer_range || g->ctx->caps.max_storage_buffer_range >= (1ull << 31),
          "the LM head should exceed the binding range");
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_matmul_fwd(g->cmd, by, bx, bw, SRLM_MM_W_F16, NULL, M, N, K, 0, NULL));
    int dispatches = g->cmd->dispatches;
    CHECK_OK(srlm_cmd_run(g->cmd));
    CHECK_OK(srlm_buf_read(g->ctx, by, 0, y, (size_t)M * N * 4));
    /* reference in blocks of W rows (a column range of Y) */
    float *t = malloc((size_t)M * 4096 * 4);
    for (int n0 = 0; n0 < N; n0 += 4096) {
        int nc = N - n0 < 4096 ? N - n0 : 4096;
        srlm_ref_matmul_fwd_f16(t, x, wh + (size_t)n0 * K, NULL, M, K, nc);
        for (int m = 0; m < M; m++) memcpy(want + (size_t)m * N + n0, t + (size_t)m * nc, (size_t)nc * 4);
    }
    free(t);
    char what[96];
    snprintf(what, sizeof what, "LM head 2x151936x896 f16 (%d dispatches)", dispatches);
    check_close(what, y, want, (size_t)M * N, TOL);
    CHECK(dispatches >= 2 || g->ctx->caps.max_storage_buffer_range >= (1ull << 31), "tiled into several dispatches");
    free(wh), free(x), free(y), free(want);
    srlm_arena_destroy(big);
}

/* The weight gradient is deterministic: two runs from the same state agree bit for bit. */
static void test_determinism(gpu_env *g) {
    const int M = 300, N = 70, K = 96;
    float *x = malloc((size_t)M * K * 4), *dy = malloc((size_t)M * N * 4), *r1 = malloc((size_t)N * K * 4), *r2 = malloc((size_t)N * K * 4);
    fill_random(x, (size_t)M * K, &seed, -1, 1);
    fill_random(dy, (size_t)M * N, &seed, -1, 1);
    srlm_arena_reset(g->arena);
    srlm_buf bx = gpu_alloc(g, (size_t)M * K * 4, x), by = gpu_alloc(g, (size_t)M * N * 4, dy), bw = gpu_alloc(g, (size_t)N * K * 4, NULL);
    for (int rep = 0; rep < 2; rep++) {
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_fill(g->cmd, bw, (uint64_t)N * K, 0.0f));
        CHECK_OK(srlm_op_matmul_bwd_weight(g->cmd, bw, NULL, by, bx, M, N, K, NULL));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, bw, rep ? r2 : r1, (size_t)N * K * 4);
    }
    CHECK(!memcmp(r1, r2, (size_t)N * K * 4), "dW differs between two identical runs");
    printf("  dW deterministic over 2 runs ok\n");
    free(x), free(dy), free(r1), free(r2);
}

static void test_errors(gpu_env *g) {
    srlm_arena_reset(g->arena);
    srlm_buf small = gpu_alloc(g, 64, NULL), big = gpu_alloc(g, 4096, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_ERR(srlm_op_matmul_fwd(g->cmd, small, big, big, SRLM_MM_W_F32, NULL, 8, 8, 8, 0, NULL), SRLM_ERR_INVALID, "Y is 64 bytes");
    CHECK_ERR(srlm_op_matmul_bwd_inp(g->cmd, big, big, small, SRLM_MM_W_F16, 8, 8, 16, 0, NULL), SRLM_ERR_INVALID, "W is 64 bytes");
    srlm_mm_cfg bad = {.kernel = SRLM_MM_SHARED, .wg = 100, .bi = 16, .bj = 16, .bp = 8, .ti = 2, .tj = 2};
    CHECK_ERR(srlm_op_matmul_bwd_weight(g->cmd, big, NULL, big, big, 4, 4, 4, &bad), SRLM_ERR_INVALID, "workgroup size");
    CHECK_OK(srlm_cmd_end(g->cmd));
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    test_errors(&g);
    test_defaults(&g);
    test_variants(&g);
    test_tiling(&g);
    test_determinism(&g);
    test_lm_head(&g);
    return gpu_test_finish(&g, "test_matmul");
}
