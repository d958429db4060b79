/* bench_reduce.c: `srlm bench ops` rows for the deterministic reductions (family "reduce"):
 * sum of squares of one vector, and the global norm over 8 tensors the size of one
 * Qwen2.5-0.5B MLP matrix (896 x 4864) each: per-tensor partials, one final pass. */
#include "bench/bench.h"

typedef struct red_arg {
    srlm_buf out, scratch;
    srlm_buf xs[8];
    uint64_t ns[8];
    int count;
} red_arg;

static srlm_status record_sumsq(srlm_cmd *c, void *arg) {
    red_arg *a = arg;
    return srlm_op_sumsq(c, a->out, a->scratch, a->xs[0], a->ns[0]);
}

static srlm_status record_norm(srlm_cmd *c, void *arg) {
    red_arg *a = arg;
    return srlm_op_global_norm(c, a->out, a->scratch, a->xs, a->ns, a->count);
}

srlm_status srlm_bench_ops_reduce(srlm_bench *b) {
    const uint64_t sizes[] = {4099, 1u << 20, 16u << 20};
    int ns = b->opts.quick ? 2 : 3;
    for (int s = 0; s < ns; s++) {
        red_arg a = {.count = 1, .ns = {sizes[s]}};
        SRLM_TRY(srlm_arena_alloc(b->arena, a.ns[0] * 4, &a.xs[0]));
        SRLM_TRY(srlm_arena_alloc(b->arena, srlm_op_reduce_scratch_bytes(b->ctx, a.ns, 1), &a.scratch));
        SRLM_TRY(srlm_arena_alloc(b->arena, 4, &a.out));
        SRLM_TRY(srlm_cmd_begin(b->cmd));
        SRLM_TRY(srlm_op_fill(b->cmd, a.xs[0], a.ns[0], 0.5f));
        SRLM_TRY(srlm_cmd_run(b->cmd));
        char size[32];
        snprintf(size, sizeof size, "n=%llu", (unsigned long long)a.ns[0]);
        SRLM_TRY(srlm_bench_run(b, "sumsq_f32", size, a.ns[0] * 4, 2 * a.ns[0], a.ns[0] < 100000 ? 64 : 1, record_sumsq, &a, NULL));
        srlm_arena_reset(b->arena);
    }
    /* 8 tensors of 896 x 4864 (one MLP matrix each): 35M floats */
    red_arg a = {.count = b->opts.quick ? 2 : 8};
    uint64_t total = 0;
    for (int t = 0; t < a.count; t++) {
        a.ns[t] = 896ull * 4864;
        total += a.ns[t];
        SRLM_TRY(srlm_arena_alloc(b->arena, a.ns[t] * 4, &a.xs[t]));
    }
    SRLM_TRY(srlm_arena_alloc(b->arena, srlm_op_reduce_scratch_bytes(b->ctx, a.ns, a.count), &a.scratch));
    SRLM_TRY(srlm_arena_alloc(b->arena, 4, &a.out));
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    for (int t = 0; t < a.count; t++) SRLM_TRY(srlm_op_fill(b->cmd, a.xs[t], a.ns[t], 0.5f));
    SRLM_TRY(srlm_cmd_run(b->cmd));
    char size[48];
    snprintf(size, sizeof size, "%dx(896x4864)", a.count);
    return srlm_bench_run(b, "global_norm_f32", size, total * 4, 2 * total, 1, record_norm, &a, NULL);
}
