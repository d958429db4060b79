/* test_ops_eltwise.c: add, mul, scale, axpy (shaders/eltwise.comp) against the CPU
 * references on fresh random inputs at awkward sizes, in place where the op allows it, and
 * again with the binding limit lowered (SRLM_MAX_BINDING_BYTES) so every op runs in many
 * pieces. f32 tolerance: normalised squared error < 1e-7 (these ops are exact in practice). */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

static const uint64_t sizes[] = {1, 2, 7, 13, 127, 1000, 4099, 70001}; /* every n % 4 */
#define TOL 1e-7

static void run_sizes(gpu_env *g, unsigned long long *seed, const char *tag) {
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint64_t n = sizes[s];
        size_t bytes = n * 4;
        float *a = malloc(bytes), *b = malloc(bytes), *want = malloc(bytes), *got = malloc(bytes);
        fill_random(a, n, seed, -2, 2);
        fill_random(b, n, seed, -2, 2);
        float sc = test_rand_uniform(seed, -3, 3);
        srlm_buf A = gpu_alloc(g, bytes, a), B = gpu_alloc(g, bytes, b), Y = gpu_alloc(g, bytes + 16, NULL);
        const float sentinel[4] = {-7, -7, -7, -7};
        CHECK_OK(srlm_buf_write(g->ctx, Y, bytes, sentinel, 16));
        char what[96];

        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_add(g->cmd, Y, A, B, n));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, Y, got, bytes);
        float after[4];
        CHECK_OK(srlm_buf_read(g->ctx, Y, bytes, after, 16));
        CHECK(!memcmp(after, sentinel, 16), "add n=%llu wrote past element n-1", (unsigned long long)n);
        srlm_ref_add_fwd(want, a, b, n);
        snprintf(what, sizeof what, "%sadd n=%llu", tag, (unsigned long long)n);
        check_close(what, got, want, n, TOL);

        /* the residual form: in place, R = R + B */
        srlm_buf R = gpu_alloc(g, bytes, a);
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_add(g->cmd, R, R, B, n));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, R, got, bytes);
        snprintf(what, sizeof what, "%sadd (in place) n=%llu", tag, (unsigned long long)n);
        check_close(what, got, want, n, TOL);

        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_mul(g->cmd, Y, A, B, n));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, Y, got, bytes);
        srlm_ref_mul_fwd(want, a, b, n);
        snprintf(what, sizeof what, "%smul n=%llu", tag, (unsigned long long)n);
        check_close(what, got, want, n, TOL);

        /* scale in place: A = sc * A */
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_scale(g->cmd, A, A, sc, n));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, A, got, bytes);
        srlm_ref_scale_fwd(want, a, sc, n);
        snprintf(what, sizeof what, "%sscale (in place) n=%llu", tag, (unsigned long long)n);
        check_close(what, got, want, n, TOL);

        /* axpy: B += sc * (sc * a), recorded once and replayed twice */
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_axpy(g->cmd, B, sc, A, n));
        CHECK_OK(srlm_cmd_end(g->cmd));
        CHECK_OK(srlm_cmd_run(g->cmd));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, B, got, bytes);
        memcpy(want, b, bytes);
        float *sa = malloc(bytes);
        srlm_ref_scale_fwd(sa, a, sc, n);
        srlm_ref_axpy(want, sc, sa, n);
        srlm_ref_axpy(want, sc, sa, n);
        free(sa);
        snprintf(what, sizeof what, "%saxpy x2 (replayed) n=%llu", tag, (unsigned long long)n);
        check_close(what, got, want, n, TOL);

        free(a), free(b), free(want), free(got);
        srlm_arena_reset(g->arena);
    }
}

static void test_errors(gpu_env *g) {
    srlm_buf A = gpu_alloc(g, 64, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_ERR(srlm_op_add(g->cmd, A, A, A, 17), SRLM_ERR_INVALID, "17 floats");
    CHECK_OK(srlm_cmd_end(g->cmd));
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0001ull;
    run_sizes(&g, &seed, "");
    /* Lower the binding limit to 1 KiB: 256 floats per piece, so n=70001 runs in 274 pieces. */
    setenv("SRLM_MAX_BINDING_BYTES", "1024", 1);
    printf("binding limit lowered to %llu bytes (%llu floats per piece)\n",
           (unsigned long long)srlm_ops_binding_limit(g.ctx), (unsigned long long)srlm_ops_piece_elems(g.ctx, 4));
    CHECK(srlm_ops_piece_elems(g.ctx, 4) == 256, "piece of %llu floats under a 1 KiB limit",
          (unsigned long long)srlm_ops_piece_elems(g.ctx, 4));
    run_sizes(&g, &seed, "[1 KiB limit] ");
    /* The variable can only lower the device limit. */
    setenv("SRLM_MAX_BINDING_BYTES", "99999999999999", 1);
    CHECK(srlm_ops_binding_limit(g.ctx) == g.ctx->caps.max_storage_buffer_range, "SRLM_MAX_BINDING_BYTES raised the limit");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    test_errors(&g);
    return gpu_test_finish(&g, "test_ops_eltwise");
}
