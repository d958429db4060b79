/* bench_norm.c: `srlm bench ops` rows for the one-workgroup-per-row ops: RMSNorm forward and
 * backward (family "rmsnorm") and row softmax forward and backward (family "softmax"), at
 * decode (1 row), prefill and training shapes of Qwen2.5-0.5B (C = 896; attention rows of
 * 512; one vocabulary row of 151,936). */
#include "bench/bench.h"

typedef struct rows_arg {
    srlm_buf x, y, dy, dx, w, dw, rstd, scratch;
    int N, C, which;
} rows_arg;

static srlm_status record(srlm_cmd *c, void *arg) {
    rows_arg *a = arg;
    switch (a->which) {
    case 0: return srlm_op_rmsnorm_fwd(c, a->y, a->rstd, a->x, a->w, a->N, a->C, 1e-6f);
    case 1: return srlm_op_rmsnorm_bwd(c, a->dx, a->dw, a->scratch, a->dy, a->x, a->w, a->rstd, a->N, a->C);
    case 2: return srlm_op_softmax_fwd(c, a->y, a->x, a->N, a->C);
    default: return srlm_op_softmax_bwd(c, a->dx, a->dy, a->y, a->N, a->C);
    }
}

static srlm_status setup(srlm_bench *b, rows_arg *a) {
    uint64_t nc = (uint64_t)a->N * a->C;
    srlm_buf *big[] = {&a->x, &a->y, &a->dy, &a->dx};
    for (int i = 0; i < 4; i++) SRLM_TRY(srlm_arena_alloc(b->arena, nc * 4, big[i]));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a->C * 4, &a->w));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a->C * 4, &a->dw));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a->N * 4, &a->rstd));
    SRLM_TRY(srlm_arena_alloc(b->arena, srlm_op_rmsnorm_bwd_scratch_bytes(b->ctx, a->N, a->C), &a->scratch));
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    for (int i = 0; i < 4; i++) SRLM_TRY(srlm_op_fill(b->cmd, *big[i], nc, 0.01f));
    SRLM_TRY(srlm_op_fill(b->cmd, a->w, (uint64_t)a->C, 1.0f));
    SRLM_TRY(srlm_op_fill(b->cmd, a->rstd, (uint64_t)a->N, 1.0f));
    return srlm_cmd_run(b->cmd);
}

srlm_status srlm_bench_ops_rmsnorm(srlm_bench *b) {
    const int Ns[] = {1, 512, 4096};
    for (int s = 0; s < (b->opts.quick ? 2 : 3); s++) {
        rows_arg a = {.N = Ns[s], .C = 896};
        SRLM_TRY(setup(b, &a));
        uint64_t nc = (uint64_t)a.N * a.C;
        char size[32];
        snprintf(size, sizeof size, "(%d,%d)", a.N, a.C);
        int inner = a.N < 100 ? 64 : 1;
        a.which = 0;
        SRLM_TRY(srlm_bench_run(b, "rmsnorm_fwd_f32", size, 8 * nc, 4 * nc, inner, record, &a, NULL));
        a.which = 1; /* dy, x read, dx read+written */
        SRLM_TRY(srlm_bench_run(b, "rmsnorm_bwd_f32", size, 16 * nc, 10 * nc, inner, record, &a, NULL));
        srlm_arena_reset(b->arena);
    }
    return NULL;
}

srlm_status srlm_bench_ops_softmax(srlm_bench *b) {
    const int shapes[][2] = {{64, 1024}, {14 * 512, 512}, {1, 151936}};
    for (int s = 0; s < (b->opts.quick ? 2 : 3); s++) {
        rows_arg a = {.N = shapes[s][0], .C = shapes[s][1]};
        SRLM_TRY(setup(b, &a));
        uint64_t nc = (uint64_t)a.N * a.C;
        char size[32];
        snprintf(size, sizeof size, "(%d,%d)", a.N, a.C);
        int inner = nc < 100000 ? 64 : 1;
        a.which = 2; /* x read twice in the two passes, y written: 8 bytes minimum */
        SRLM_TRY(srlm_bench_run(b, "softmax_fwd_f32", size, 8 * nc, 5 * nc, inner, record, &a, NULL));
        a.which = 3;
        SRLM_TRY(srlm_bench_run(b, "softmax_bwd_f32", size, 12 * nc, 4 * nc, inner, record, &a, NULL));
        srlm_arena_reset(b->arena);
    }
    return NULL;
}
