/* test_membw.c: the bandwidth probes of `srlm bench membw` (shaders/membw.comp) against their
 * CPU reference on random words: every per-invocation partial sum of READ and every word of
 * COPY must be exact (integer arithmetic), at sizes that leave a short last workgroup and
 * workgroups with idle lanes. */
#include "gpu_test.h"
#include "ops/op_table.h"
#include "ops/push.h"
#include "ops/ref.h"

#include <stdint.h>

static void run_case(gpu_env *g, unsigned long long *seed, uint32_t n, uint32_t chunk) {
    uint32_t wg = srlm_op_table[SRLM_OP_MEMBW_READ].spec[0];
    uint32_t groups = (n + chunk - 1) / chunk;
    uint32_t *x = malloc((size_t)n * 16), *want = malloc((size_t)groups * wg * 4 + (size_t)n * 16),
             *got = malloc((size_t)groups * wg * 4 + (size_t)n * 16);
    for (size_t i = 0; i < (size_t)n * 4; i++) x[i] = (uint32_t)test_rand_u64(seed);
    srlm_buf X = gpu_alloc(g, (uint64_t)n * 16, x), P = gpu_alloc(g, (uint64_t)groups * wg * 4, NULL),
             Y = gpu_alloc(g, (uint64_t)n * 16, NULL);
    srlm_push_membw p = {.n = n, .chunk = chunk};

    CHECK_OK(srlm_cmd_begin(g->cmd));
    srlm_buf rb[2] = {X, P};
    CHECK_OK(srlm_cmd_dispatch(g->cmd, SRLM_OP_MEMBW_READ, NULL, rb, 2, &p, sizeof p, groups, 1, 1));
    srlm_buf cb[2] = {X, Y};
    CHECK_OK(srlm_cmd_dispatch(g->cmd, SRLM_OP_MEMBW_COPY, NULL, cb, 2, &p, sizeof p, groups, 1, 1));
    CHECK_OK(srlm_cmd_run(g->cmd));

    srlm_ref_membw_read(want, x, n, chunk, wg);
    gpu_read(g, P, got, (uint64_t)groups * wg * 4);
    size_t bad = 0;
    for (size_t i = 0; i < (size_t)groups * wg; i++) bad += got[i] != want[i];
    printf("  read  n=%-7u chunk=%-5u wg=%u: %zu of %zu partials wrong (exact)\n", n, chunk, wg, bad, (size_t)groups * wg);
    CHECK(bad == 0, "membw read n=%u chunk=%u: %zu wrong partials", n, chunk, bad);

    srlm_ref_membw_copy(want, x, n);
    gpu_read(g, Y, got, (uint64_t)n * 16);
    bad = 0;
    for (size_t i = 0; i < (size_t)n * 4; i++) bad += got[i] != want[i];
    printf("  copy  n=%-7u chunk=%-5u: %zu of %zu words wrong (exact)\n", n, chunk, bad, (size_t)n * 4);
    CHECK(bad == 0, "membw copy n=%u chunk=%u: %zu wrong words", n, chunk, bad);
    free(x), free(want), free(got);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0xc0de0b3full;
    run_case(&g, &seed, 1, 4096);
    run_case(&g, &seed, 1000, 37);    /* last group short, lanes idle in every group */
    run_case(&g, &seed, 12289, 4096); /* the bench's chunk, a one-word last group */
    run_case(&g, &seed, 70001, 513);
    return gpu_test_finish(&g, "membw");
}
