/* test_ops_adamw.c: the AdamW step (shaders/adamw.comp) and device-side global-norm clipping
 * against srlm_ref_adamw_step / srlm_ref_global_norm / srlm_ref_clip_scale. One command
 * buffer (clip over two tensors, a step with decay on one, without on the other) is recorded
 * once and replayed for several steps with new gradients and a new parameter block (lr, t)
 * each time, as training does; clipping is active on some steps and not on others, with and
 * without a pre-scale (accumulation averaging). Sizes are awkward, and a 64 KiB binding limit
 * splits the tensors into pieces. Each step is compared from the same starting state: the
 * update (new - old parameter) and m, v. Tolerance: nse < 1e-10 (per-element float maths as
 * the reference; only sqrt/division rounding may differ), the norm to 1e-6 relative. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

static void run(gpu_env *g, unsigned long long *seed, uint64_t n0, uint64_t n1, float pre, const char *tag) {
    uint64_t ns[2] = {n0, n1};
    float *p[2], *m[2], *v[2], *gr[2], *rp[2], *rm[2], *rv[2], *gp[2];
    srlm_buf P[2], M[2], V[2], G[2];
    for (int i = 0; i < 2; i++) {
        size_t b = ns[i] * 4;
        p[i] = malloc(b), m[i] = calloc(ns[i], 4), v[i] = calloc(ns[i], 4), gr[i] = malloc(b);
        rp[i] = malloc(b), rm[i] = malloc(b), rv[i] = malloc(b), gp[i] = malloc(b);
        fill_random(p[i], ns[i], seed, -1, 1);
        P[i] = gpu_alloc(g, b, p[i]), M[i] = gpu_alloc(g, b, m[i]), V[i] = gpu_alloc(g, b, v[i]);
        G[i] = gpu_alloc(g, b, NULL);
    }
    srlm_buf HP = gpu_alloc(g, SRLM_ADAMW_PARAM_FLOATS * 4, NULL);
    srlm_buf SC = gpu_alloc(g, srlm_op_reduce_scratch_bytes(g->ctx, ns, 2), NULL);
    const float b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f;
    /* max_norm fixed; the gradient magnitude varies per step so clipping turns on and off */
    const float max_norm = 1.0f, mags[4] = {0.001f, 1.0f, 0.01f, 3.0f};
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_clip_grad_norm(g->cmd, HP, SC, G, ns, 2, max_norm));
    CHECK_OK(srlm_op_adamw(g->cmd, P[0], M[0], V[0], G[0], HP, n0, b1, b2, eps, 1));
    CHECK_OK(srlm_op_adamw(g->cmd, P[1], M[1], V[1], G[1], HP, n1, b1, b2, eps, 0));
    CHECK_OK(srlm_cmd_end(g->cmd));
    for (int t = 1; t <= 4; t++) {
        float lr = 1e-3f * (float)t; /* a schedule: lr changes per step */
        for (int i = 0; i < 2; i++) {
            fill_random(gr[i], ns[i], seed, -mags[t - 1], mags[t - 1]);
            CHECK_OK(srlm_buf_write(g->ctx, G[i], 0, gr[i], ns[i] * 4));
            /* the reference starts from the device's current state */
            gpu_read(g, P[i], rp[i], ns[i] * 4);
            gpu_read(g, M[i], rm[i], ns[i] * 4);
            gpu_read(g, V[i], rv[i], ns[i] * 4);
            memcpy(p[i], rp[i], ns[i] * 4);
        }
        float hp[SRLM_ADAMW_PARAM_FLOATS];
        srlm_adamw_params(hp, lr, b1, b2, wd, t, pre);
        CHECK_OK(srlm_buf_write(g->ctx, HP, 0, hp, sizeof hp));
        CHECK_OK(srlm_cmd_submit(g->cmd));
        CHECK_OK(srlm_cmd_wait(g->cmd));
        const float *cg[2] = {gr[0], gr[1]};
        size_t sz[2] = {(size_t)n0, (size_t)n1};
        float norm = srlm_ref_global_norm(cg, sz, 2);
        float gs = pre * srlm_ref_clip_scale(norm * pre, max_norm);
        float got[SRLM_ADAMW_PARAM_FLOATS];
        gpu_read(g, HP, got, sizeof got);
        printf("  %sstep %d: norm %.7g (ref %.7g) grad scale %.7g (ref %.7g)%s\n", tag, t, got[SRLM_ADAMW_NORM], norm,
               got[SRLM_ADAMW_GRAD_SCALE], gs, gs < pre ? " clipped" : "");
        CHECK(fabsf(got[SRLM_ADAMW_NORM] - norm) <= 1e-6f * norm, "%sstep %d: norm %.9g vs %.9g", tag, t, got[SRLM_ADAMW_NORM], norm);
        CHECK(fabsf(got[SRLM_ADAMW_GRAD_SCALE] - gs) <= 2e-6f * gs, "%sstep %d: grad scale %.9g vs %.9g", tag, t,
              got[SRLM_ADAMW_GRAD_SCALE], gs);
        for (int i = 0; i < 2; i++) {
            srlm_ref_adamw_step(rp[i], rm[i], rv[i], gr[i], ns[i], lr, b1, b2, eps, wd, i == 0, t, gs);
            float *dg = malloc(ns[i] * 4), *dr = malloc(ns[i] * 4), *x = malloc(ns[i] * 4);
            gpu_read(g, P[i], gp[i], ns[i] * 4);
            for (uint64_t j = 0; j < ns[i]; j++) dg[j] = gp[i][j] - p[i][j], dr[j] = rp[i][j] - p[i][j];
            char what[96];
            snprintf(what, sizeof what, "%sadamw t=%d %s update n=%llu", tag, t, i ? "no-decay" : "decay", (unsigned long long)ns[i]);
            check_close(what, dg, dr, ns[i], 1e-10);
            gpu_read(g, M[i], x, ns[i] * 4);
            snprintf(what, sizeof what, "%sadamw t=%d m n=%llu", tag, t, (unsigned long long)ns[i]);
            check_close(what, x, rm[i], ns[i], 1e-10);
            gpu_read(g, V[i], x, ns[i] * 4);
            snprintf(what, sizeof what, "%sadamw t=%d v n=%llu", tag, t, (unsigned long long)ns[i]);
            check_close(what, x, rv[i], ns[i], 1e-10);
            free(dg), free(dr), free(x);
        }
    }
    for (int i = 0; i < 2; i++) free(p[i]), free(m[i]), free(v[i]), free(gr[i]), free(rp[i]), free(rm[i]), free(rv[i]), free(gp[i]);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0adaull;
    run(&g, &seed, 1, 7, 1.0f, "");
    run(&g, &seed, 4099, 1000, 1.0f, "");
    run(&g, &seed, 100003, 13, 0.5f, "[pre 0.5] ");
    setenv("SRLM_MAX_BINDING_BYTES", "65536", 1);
    run(&g, &seed, 100003, 40000, 1.0f, "[64 KiB limit] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    /* errors: a short buffer is named */
    srlm_buf a = gpu_alloc(&g, 64, NULL), b = gpu_alloc(&g, 4096, NULL);
    CHECK_OK(srlm_cmd_begin(g.cmd));
    CHECK_ERR(srlm_op_adamw(g.cmd, b, a, b, b, b, 100, 0.9f, 0.95f, 1e-8f, 1), SRLM_ERR_INVALID, "m holds");
    srlm_buf tiny = gpu_alloc(&g, 16, NULL);
    CHECK_ERR(srlm_op_clip_grad_norm(g.cmd, tiny, b, &b, (uint64_t[]){10}, 1, 1.0f), SRLM_ERR_INVALID, "parameter block");
    CHECK_OK(srlm_cmd_end(g.cmd));
    return gpu_test_finish(&g, "test_ops_adamw");
}
