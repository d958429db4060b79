/* test_ops_softmax.c: row softmax forward and backward (shaders/softmax.comp) against
 * srlm_ref_softmax_fwd/_bwd on fresh random rows (wide value ranges, so the max shift
 * matters), awkward widths, one-subgroup and several-subgroup workgroups, and windowed
 * chunks under a lowered binding limit. Widths that are a multiple of 4 run the vec4
 * variants, the others the scalar ones. Tolerance: f32, normalised squared error < 1e-7. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

#define TOL 1e-7

static void run(gpu_env *g, unsigned long long *seed, int N, int C, const char *tag) {
    size_t nc = (size_t)N * C;
    float *x = malloc(nc * 4), *dy = malloc(nc * 4), *y = malloc(nc * 4), *dx = malloc(nc * 4), *got = malloc(nc * 4);
    fill_random(x, nc, seed, -30, 30);
    for (size_t i = 0; i < nc; i += 7) x[i] += 60; /* large logits: exp overflows without the shift */
    /* masked entries (-inf), whole runs of them so some invocations see nothing else; every
     * row keeps a finite entry (a fully masked row is NaN, in the reference too) */
    for (int r = 0; r < N; r++)
        for (int c = 1; c < C; c++)
            if ((c / 9 + r) % 3 == 0) x[(size_t)r * C + c] = -INFINITY;
    fill_random(dy, nc, seed, -1, 1);
    srlm_buf X = gpu_alloc(g, nc * 4, x), DY = gpu_alloc(g, nc * 4, dy), Y = gpu_alloc(g, nc * 4, NULL), DX = gpu_alloc(g, nc * 4, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_softmax_fwd(g->cmd, Y, X, N, C));
    CHECK_OK(srlm_op_softmax_bwd(g->cmd, DX, DY, Y, N, C));
    CHECK_OK(srlm_cmd_run(g->cmd));
    srlm_ref_softmax_fwd(y, x, N, C);
    char what[96];
    snprintf(what, sizeof what, "%ssoftmax_fwd (%d,%d)", tag, N, C);
    gpu_read(g, Y, got, nc * 4);
    check_close(what, got, y, nc, TOL);
    /* the backward is checked on the GPU's own y, so it is judged alone */
    srlm_ref_softmax_bwd(dx, dy, got, N, C);
    snprintf(what, sizeof what, "%ssoftmax_bwd (%d,%d)", tag, N, C);
    gpu_read(g, DX, got, nc * 4);
    check_close(what, got, dx, nc, TOL);
    free(x), free(dy), free(y), free(dx), free(got);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0005ull;
    const int shapes[][2] = {{1, 1}, {1, 7}, {7, 13}, {13, 127}, {127, 13}, {5, 1000}, {3, 4099}, {64, 1024}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) run(&g, &seed, shapes[s][0], shapes[s][1], "");
    setenv("SRLM_ROW_WG", "64", 1);
    run(&g, &seed, 13, 127, "[wg 64] ");
    run(&g, &seed, 3, 4099, "[wg 64] ");
    run(&g, &seed, 2, 5, "[wg 64] ");
    unsetenv("SRLM_ROW_WG");
    setenv("SRLM_MAX_BINDING_BYTES", "1024", 1);
    run(&g, &seed, 37, 127, "[1 KiB limit] ");
    run(&g, &seed, 100, 13, "[1 KiB limit] ");
    run(&g, &seed, 50, 100, "[1 KiB limit, vec4] ");
    run(&g, &seed, 40, 24, "[1 KiB limit, vec4] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    return gpu_test_finish(&g, "test_ops_softmax");
}
