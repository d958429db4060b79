/* test_ops_rope.c: RoPE forward and backward in both layouts (shaders/rope.comp, in place)
 * against srlm_ref_rope_fwd/_bwd (angles in double) on random (N,NH,HS) tensors and random
 * positions up to 2^20 (the angles are reduced exactly, so large positions keep full
 * accuracy), plus forward-then-backward returning the input, and token chunks under a
 * lowered binding limit. Tolerance: f32, normalised squared error < 1e-7. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

static void run(gpu_env *g, unsigned long long *seed, int N, int NH, int HS, int maxpos, double tol, const char *tag) {
    size_t n = (size_t)N * NH * HS;
    float *x = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    int *pos = malloc(N * sizeof(int));
    fill_random(x, n, seed, -2, 2);
    for (int i = 0; i < N; i++) pos[i] = (int)(test_rand_u64(seed) % (uint64_t)maxpos);
    const float theta = 1000000.0f; /* Qwen2.5's rope_theta */
    srlm_buf X = gpu_alloc(g, n * 4, x), P = gpu_alloc(g, N * 4, pos), T = gpu_alloc(g, srlm_op_rope_table_bytes(HS), NULL);
    CHECK_OK(srlm_op_rope_table_write(g->ctx, T, HS, theta));
    for (int layout = 0; layout < 2; layout++) {
        const char *ln = layout ? "interleaved" : "neox";
        char what[128];
        CHECK_OK(srlm_buf_write(g->ctx, X, 0, x, n * 4));
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_rope_fwd(g->cmd, X, P, T, N, NH, HS, layout));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, X, got, n * 4);
        srlm_ref_rope_fwd(want, x, pos, N, NH, HS, theta, (srlm_rope_layout)layout);
        snprintf(what, sizeof what, "%srope_fwd %s (%d,%d,%d) pos<%d", tag, ln, N, NH, HS, maxpos);
        check_close(what, got, want, n, tol);
        /* backward of the GPU's forward output: must match the reference backward of it, and
         * give back x */
        float *back = malloc(n * 4);
        srlm_ref_rope_bwd(back, got, pos, N, NH, HS, theta, (srlm_rope_layout)layout);
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_rope_bwd(g->cmd, X, P, T, N, NH, HS, layout));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, X, got, n * 4);
        snprintf(what, sizeof what, "%srope_bwd %s (%d,%d,%d)", tag, ln, N, NH, HS);
        check_close(what, got, back, n, tol);
        snprintf(what, sizeof what, "%srope bwd(fwd(x)) == x %s", tag, ln);
        check_close(what, got, x, n, tol);
        free(back);
    }
    free(x), free(want), free(got), free(pos);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0007ull;
    run(&g, &seed, 1, 1, 2, 7, 1e-7, "");
    run(&g, &seed, 7, 3, 14, 64, 1e-7, "");
    run(&g, &seed, 13, 14, 64, 1000, 1e-7, "");   /* Qwen 0.5B: 14 heads of 64 */
    run(&g, &seed, 127, 2, 64, 4096, 1e-7, "");   /* its 2 KV heads */
    run(&g, &seed, 5, 4, 128, 4096, 1e-7, "");
    run(&g, &seed, 33, 2, 64, 32768, 1e-7, "");
    run(&g, &seed, 9, 2, 64, 1 << 20, 1e-7, "");
    setenv("SRLM_ROW_WG", "64", 1);              /* 64 invocations over the 64 pairs of HS=128 */
    run(&g, &seed, 5, 4, 128, 4096, 1e-7, "[wg 64] ");
    run(&g, &seed, 7, 3, 14, 64, 1e-7, "[wg 64] ");
    unsetenv("SRLM_ROW_WG");
    setenv("SRLM_MAX_BINDING_BYTES", "2048", 1);  /* 2 tokens of (2,64) per window */
    run(&g, &seed, 13, 2, 64, 1000, 1e-7, "[2 KiB limit] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    srlm_buf b = gpu_alloc(&g, 4096, NULL);
    CHECK_OK(srlm_cmd_begin(g.cmd));
    CHECK_ERR(srlm_op_rope_fwd(g.cmd, b, b, b, 1, 1, 7, 0), SRLM_ERR_INVALID, "even");
    CHECK_ERR(srlm_op_rope_table_write(g.ctx, b, 7, 10000.0f), SRLM_ERR_INVALID, "even");
    CHECK_OK(srlm_cmd_end(g.cmd));
    return gpu_test_finish(&g, "test_ops_rope");
}
