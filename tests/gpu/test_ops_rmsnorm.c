/* test_ops_rmsnorm.c: RMSNorm forward and backward (shaders/rmsnorm_fwd.comp,
 * rmsnorm_bwd.comp) against srlm_ref_rmsnorm_fwd/_bwd on fresh random inputs, rows of
 * awkward widths (C not a multiple of the workgroup), dx and dw accumulating onto non-zero
 * values, the backward replayed for determinism, and again with the binding limit lowered so
 * rows run in windowed chunks, and with 64-invocation workgroups (several subgroups). Widths
 * that are a multiple of 4 (1000, 896, 100, 24) run the vec4 variants, the others the scalar ones. Tolerance: f32, normalised squared error < 1e-7. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

#define TOL 1e-7

static void run(gpu_env *g, unsigned long long *seed, int N, int C, const char *tag) {
    size_t nc = (size_t)N * C;
    float *x = malloc(nc * 4), *w = malloc(C * 4), *dy = malloc(nc * 4), *dx0 = malloc(nc * 4), *dw0 = malloc(C * 4);
    float *y = malloc(nc * 4), *rs = malloc(N * 4), *dx = malloc(nc * 4), *dw = malloc(C * 4), *got = malloc(nc * 4);
    fill_random(x, nc, seed, -2, 2);
    fill_random(w, C, seed, 0.5f, 1.5f);
    fill_random(dy, nc, seed, -1, 1);
    fill_random(dx0, nc, seed, -1, 1);
    fill_random(dw0, C, seed, -1, 1);
    const float eps = 1e-6f;
    srlm_buf X = gpu_alloc(g, nc * 4, x), W = gpu_alloc(g, C * 4, w), DY = gpu_alloc(g, nc * 4, dy);
    srlm_buf Y = gpu_alloc(g, nc * 4, NULL), R = gpu_alloc(g, N * 4, NULL), DX = gpu_alloc(g, nc * 4, dx0), DW = gpu_alloc(g, C * 4, dw0);
    srlm_buf S = gpu_alloc(g, srlm_op_rmsnorm_bwd_scratch_bytes(g->ctx, N, C), NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_rmsnorm_fwd(g->cmd, Y, R, X, W, N, C, eps));
    CHECK_OK(srlm_op_rmsnorm_bwd(g->cmd, DX, DW, S, DY, X, W, R, N, C));
    CHECK_OK(srlm_cmd_end(g->cmd));
    CHECK_OK(srlm_cmd_run(g->cmd));
    srlm_ref_rmsnorm_fwd(y, rs, x, w, N, C, eps);
    memcpy(dx, dx0, nc * 4);
    memcpy(dw, dw0, C * 4);
    srlm_ref_rmsnorm_bwd(dx, dw, dy, x, w, rs, N, C);
    char what[96];
    snprintf(what, sizeof what, "%srmsnorm_fwd y (%d,%d)", tag, N, C);
    gpu_read(g, Y, got, nc * 4);
    check_close(what, got, y, nc, TOL);
    snprintf(what, sizeof what, "%srmsnorm_fwd rstd (%d,%d)", tag, N, C);
    gpu_read(g, R, got, N * 4);
    check_close(what, got, rs, N, TOL);
    snprintf(what, sizeof what, "%srmsnorm_bwd dx += (%d,%d)", tag, N, C);
    gpu_read(g, DX, got, nc * 4);
    check_close(what, got, dx, nc, TOL);
    snprintf(what, sizeof what, "%srmsnorm_bwd dw += (%d,%d)", tag, N, C);
    float *gdw = malloc(C * 4);
    gpu_read(g, DW, gdw, C * 4);
    check_close(what, gdw, dw, C, TOL);
    /* Determinism: reset dx, dw and replay; the bits must repeat. */
    CHECK_OK(srlm_buf_write(g->ctx, DX, 0, dx0, nc * 4));
    CHECK_OK(srlm_buf_write(g->ctx, DW, 0, dw0, C * 4));
    CHECK_OK(srlm_cmd_run(g->cmd));
    float *again = malloc(C * 4);
    gpu_read(g, DW, again, C * 4);
    CHECK(memcmp(again, gdw, C * 4) == 0, "rmsnorm_bwd dw differs between two runs (%d,%d)", N, C);
    free(again), free(gdw);
    free(x), free(w), free(dy), free(dx0), free(dw0), free(y), free(rs), free(dx), free(dw), free(got);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    printf("row workgroup size %u\n", srlm_ops_row_wg(g.ctx));
    unsigned long long seed = 0x5eed0004ull;
    const int shapes[][2] = {{1, 1}, {7, 13}, {13, 127}, {127, 7}, {5, 1000}, {3, 4099}, {100, 896}, {1000, 13}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) run(&g, &seed, shapes[s][0], shapes[s][1], "");
    /* several subgroups per workgroup: the shared-memory half of wg_sum */
    setenv("SRLM_ROW_WG", "64", 1);
    printf("row workgroup size forced to %u\n", srlm_ops_row_wg(g.ctx));
    run(&g, &seed, 13, 127, "[wg 64] ");
    run(&g, &seed, 3, 4099, "[wg 64] ");
    run(&g, &seed, 100, 896, "[wg 64] ");
    unsetenv("SRLM_ROW_WG");
    /* 1 KiB limit: 1 row of 127 floats per window, 9 rows of 13; chunks of 9 rows give dw
     * blocks of 9 rows */
    setenv("SRLM_MAX_BINDING_BYTES", "1024", 1);
    run(&g, &seed, 37, 127, "[1 KiB limit] ");
    run(&g, &seed, 1000, 13, "[1 KiB limit] ");
    run(&g, &seed, 50, 100, "[1 KiB limit, vec4] ");
    run(&g, &seed, 40, 24, "[1 KiB limit, vec4] ");
    /* a row wider than the limit is refused */
    srlm_buf b = gpu_alloc(&g, 4096 * 4, NULL);
    CHECK_OK(srlm_cmd_begin(g.cmd));
    CHECK_ERR(srlm_op_rmsnorm_fwd(g.cmd, b, b, b, b, 1, 1000, 1e-6f), SRLM_ERR_UNSUPPORTED, "binding limit");
    CHECK_OK(srlm_cmd_end(g.cmd));
    unsetenv("SRLM_MAX_BINDING_BYTES");
    return gpu_test_finish(&g, "test_ops_rmsnorm");
}
