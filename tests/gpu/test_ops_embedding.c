/* test_ops_embedding.c: embedding lookup (f32 and f16 tables) and its backward
 * (shaders/embedding_fwd.comp, embedding_bwd.comp) against srlm_ref_embedding_* on random ids
 * with padding (-1) and out-of-range ids, many repeated ids in the backward, odd widths (f16
 * rows starting mid-word), and TILED tables: with SRLM_MAX_BINDING_BYTES lowered to 2 KiB
 * the table is cut into dozens of row tiles, one dispatch each (a real table over 128 MiB
 * is too slow for lavapipe in CI; the code path is the same). Tolerance: the forward is a
 * copy (exact); the backward sums each row's tokens in the reference's order, so it is
 * checked for exact equality too (and f32 nse < 1e-7 reported). */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

static void check_exact(const char *what, const float *got, const float *want, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], 4) != 0 && bad++ < 8) fprintf(stderr, "    [%zu] got %.9g want %.9g\n", i, got[i], want[i]);
    printf("  %-68s n=%-8zu %zu mismatches (exact)\n", what, n, bad);
    CHECK(bad == 0, "%s: %zu mismatches", what, bad);
}

static void run(gpu_env *g, unsigned long long *seed, int N, int V, int C, int id_range, const char *tag) {
    size_t nc = (size_t)N * C, vc = (size_t)V * C;
    int *ids = malloc(N * sizeof(int));
    for (int i = 0; i < N; i++) {
        uint64_t r = test_rand_u64(seed);
        ids[i] = (int)(r % (uint64_t)id_range);
        if (r % 17 == 3) ids[i] = -1;     /* padding */
        if (r % 23 == 5) ids[i] = V + 2;  /* out of range: zero row, no gradient */
        if (r % 29 == 7) ids[i] = V - 1;  /* the last row (last tile) */
    }
    float *wte = malloc(vc * 4), *want = malloc(nc * 4), *got = malloc(nc * 4);
    fill_random(wte, vc, seed, -1, 1);
    uint16_t *wte16 = malloc(vc * 2 + 4);
    srlm_ref_f32_to_f16_fwd(wte16, wte, vc);
    srlm_buf I = gpu_alloc(g, N * 4, ids), W = gpu_alloc(g, vc * 4, wte), W16 = gpu_alloc(g, (vc + 1) / 2 * 4, NULL);
    CHECK_OK(srlm_buf_write(g->ctx, W16, 0, wte16, vc * 2));
    srlm_buf Y = gpu_alloc(g, nc * 4, NULL);
    char what[128];
    for (int f16 = 0; f16 < 2; f16++) {
        for (size_t i = 0; i < nc; i++) got[i] = 123.0f; /* rows of invalid ids must be overwritten with zeros */
        CHECK_OK(srlm_buf_write(g->ctx, Y, 0, got, nc * 4));
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_embedding_fwd(g->cmd, Y, I, f16 ? W16 : W, f16, N, V, C));
        int nd = g->cmd->dispatches;
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, Y, got, nc * 4);
        if (f16) srlm_ref_embedding_fwd_f16(want, ids, wte16, N, V, C);
        else srlm_ref_embedding_fwd(want, ids, wte, N, V, C);
        snprintf(what, sizeof what, "%sembedding_fwd %s N=%d V=%d C=%d (%d dispatches)", tag, f16 ? "f16" : "f32", N, V, C, nd);
        if (tag[0]) CHECK(nd > 1, "the lowered limit should tile the table (%d dispatch)", nd);
        check_exact(what, got, want, nc);
    }
    /* backward: dwte starts non-zero (it accumulates) */
    float *dy = malloc(nc * 4), *dw = malloc(vc * 4), *gdw = malloc(vc * 4);
    fill_random(dy, nc, seed, -1, 1);
    fill_random(dw, vc, seed, -1, 1);
    srlm_buf DY = gpu_alloc(g, nc * 4, dy), DW = gpu_alloc(g, vc * 4, dw);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_embedding_bwd(g->cmd, DW, DY, I, N, V, C));
    CHECK_OK(srlm_cmd_run(g->cmd));
    gpu_read(g, DW, gdw, vc * 4);
    srlm_ref_embedding_bwd(dw, dy, ids, N, V, C);
    snprintf(what, sizeof what, "%sembedding_bwd dwte += N=%d V=%d C=%d ids<%d", tag, N, V, C, id_range);
    check_close(what, gdw, dw, vc, 1e-7);
    check_exact(what, gdw, dw, vc);
    free(ids), free(wte), free(want), free(got), free(wte16), free(dy), free(dw), free(gdw);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0008ull;
    run(&g, &seed, 1, 1, 1, 1, "");
    run(&g, &seed, 7, 13, 7, 13, "");
    run(&g, &seed, 13, 127, 13, 127, "");
    run(&g, &seed, 127, 1000, 64, 1000, "");
    run(&g, &seed, 1000, 4099, 7, 50, "");      /* many repeats of few ids */
    run(&g, &seed, 64, 300, 896, 300, "");      /* Qwen's C */
    setenv("SRLM_MAX_BINDING_BYTES", "2048", 1);
    printf("binding limit lowered to 2 KiB: %llu rows of 13 f32 per tile, %llu of 13 f16\n",
           (unsigned long long)srlm_ops_rows_per_window(g.ctx, 13 * 4), (unsigned long long)srlm_ops_rows_per_window(g.ctx, 13 * 2));
    run(&g, &seed, 200, 1000, 13, 1000, "[2 KiB limit] ");
    run(&g, &seed, 300, 127, 13, 40, "[2 KiB limit] ");
    run(&g, &seed, 50, 97, 127, 97, "[2 KiB limit] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    return gpu_test_finish(&g, "test_ops_embedding");
}
