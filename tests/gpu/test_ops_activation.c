/* test_ops_activation.c: SiLU and SwiGLU forward and backward (shaders/silu.comp) against
 * srlm_ref_silu_* / srlm_ref_swiglu_* on fresh random inputs (including large |x| where
 * exp overflows) at awkward sizes, and with a lowered binding limit (pieces). Tolerance:
 * f32, normalised squared error < 1e-7. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

#define TOL 1e-7

static void run(gpu_env *g, unsigned long long *seed, uint64_t n, const char *tag) {
    size_t b = n * 4;
    float *x = malloc(b), *u = malloc(b), *dy = malloc(b), *w1 = malloc(b), *w2 = malloc(b), *got = malloc(b);
    fill_random(x, n, seed, -8, 8);
    if (n > 4) x[0] = -100.0f, x[1] = 100.0f, x[2] = -90.0f; /* exp(-x) overflows to inf */
    fill_random(u, n, seed, -2, 2);
    fill_random(dy, n, seed, -1, 1);
    srlm_buf X = gpu_alloc(g, b, x), U = gpu_alloc(g, b, u), DY = gpu_alloc(g, b, dy);
    srlm_buf Y1 = gpu_alloc(g, b, NULL), Y2 = gpu_alloc(g, b, NULL), Y3 = gpu_alloc(g, b, NULL), Y4 = gpu_alloc(g, b, NULL),
             Y5 = gpu_alloc(g, b, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_silu_fwd(g->cmd, Y1, X, n));
    CHECK_OK(srlm_op_silu_bwd(g->cmd, Y2, DY, X, n));
    CHECK_OK(srlm_op_swiglu_fwd(g->cmd, Y3, X, U, n));
    CHECK_OK(srlm_op_swiglu_bwd(g->cmd, Y4, Y5, DY, X, U, n));
    CHECK_OK(srlm_cmd_run(g->cmd));
    char what[96];
    srlm_ref_silu_fwd(w1, x, n);
    gpu_read(g, Y1, got, b);
    snprintf(what, sizeof what, "%ssilu_fwd n=%llu", tag, (unsigned long long)n);
    check_close(what, got, w1, n, TOL);
    srlm_ref_silu_bwd(w1, dy, x, n);
    gpu_read(g, Y2, got, b);
    snprintf(what, sizeof what, "%ssilu_bwd n=%llu", tag, (unsigned long long)n);
    check_close(what, got, w1, n, TOL);
    srlm_ref_swiglu_fwd(w1, x, u, n);
    gpu_read(g, Y3, got, b);
    snprintf(what, sizeof what, "%sswiglu_fwd n=%llu", tag, (unsigned long long)n);
    check_close(what, got, w1, n, TOL);
    srlm_ref_swiglu_bwd(w1, w2, dy, x, u, n);
    gpu_read(g, Y4, got, b);
    snprintf(what, sizeof what, "%sswiglu_bwd dgate n=%llu", tag, (unsigned long long)n);
    check_close(what, got, w1, n, TOL);
    gpu_read(g, Y5, got, b);
    snprintf(what, sizeof what, "%sswiglu_bwd dup n=%llu", tag, (unsigned long long)n);
    check_close(what, got, w2, n, TOL);
    free(x), free(u), free(dy), free(w1), free(w2), free(got);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0006ull;
    const uint64_t sizes[] = {1, 2, 7, 13, 127, 1000, 4099, 70001}; /* every n % 4 */
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) run(&g, &seed, sizes[s], "");
    setenv("SRLM_MAX_BINDING_BYTES", "1024", 1);
    run(&g, &seed, 4099, "[1 KiB limit] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    return gpu_test_finish(&g, "test_ops_activation");
}
