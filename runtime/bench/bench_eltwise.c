/* bench_eltwise.c: `srlm bench ops` rows for the elementwise families: add, mul, scale, axpy
 * (family "eltwise"), SiLU / SwiGLU (family "activation") and the dtype conversions (family
 * "convert"). Bytes are the minimum each op must move; FLOPs count exp as one. */
#include "bench/bench.h"

typedef struct elt_arg {
    srlm_buf a, b, c, d, e;
    uint64_t n;
    int which;
} elt_arg;

enum { ADD, MUL, SCALE, AXPY, SILU_F, SILU_B, SWIGLU_F, SWIGLU_B, TO_F16, TO_BF16, FROM_F16, FROM_BF16 };

static srlm_status record(srlm_cmd *c, void *arg) {
    elt_arg *a = arg;
    switch (a->which) {
    case ADD: return srlm_op_add(c, a->a, a->b, a->c, a->n);
    case MUL: return srlm_op_mul(c, a->a, a->b, a->c, a->n);
    case SCALE: return srlm_op_scale(c, a->a, a->b, 0.5f, a->n);
    case AXPY: return srlm_op_axpy(c, a->a, 0.5f, a->b, a->n);
    case SILU_F: return srlm_op_silu_fwd(c, a->a, a->b, a->n);
    case SILU_B: return srlm_op_silu_bwd(c, a->a, a->b, a->c, a->n);
    case SWIGLU_F: return srlm_op_swiglu_fwd(c, a->a, a->b, a->c, a->n);
    case SWIGLU_B: return srlm_op_swiglu_bwd(c, a->a, a->b, a->c, a->d, a->e, a->n);
    case TO_F16: return srlm_op_f32_to_f16(c, a->a, a->b, a->n);
    case TO_BF16: return srlm_op_f32_to_bf16(c, a->a, a->b, a->n);
    case FROM_F16: return srlm_op_f16_to_f32(c, a->b, a->a, a->n);
    default: return srlm_op_bf16_to_f32(c, a->b, a->a, a->n);
    }
}

typedef struct row {
    const char *name;
    int which;
    int bytes_per_elem; /* f32 traffic; conversions count 6 (4 + 2) */
    int flops_per_elem;
} row;

static srlm_status run_rows(srlm_bench *b, const row *rows, int nrows) {
    const uint64_t full[] = {4099, 1u << 20, 16u << 20}, quick[] = {4099, 1u << 20};
    const uint64_t *sizes = b->opts.quick ? quick : full;
    int ns = b->opts.quick ? 2 : 3;
    for (int s = 0; s < ns; s++) {
        elt_arg a = {.n = sizes[s]};
        uint64_t bytes = a.n * 4;
        SRLM_TRY(srlm_arena_alloc(b->arena, bytes, &a.a));
        SRLM_TRY(srlm_arena_alloc(b->arena, bytes, &a.b));
        SRLM_TRY(srlm_arena_alloc(b->arena, bytes, &a.c));
        SRLM_TRY(srlm_arena_alloc(b->arena, bytes, &a.d));
        SRLM_TRY(srlm_arena_alloc(b->arena, bytes, &a.e));
        /* defined inputs (zeros are fine for timing, and no NaN slow paths) */
        SRLM_TRY(srlm_cmd_begin(b->cmd));
        srlm_buf all[5] = {a.a, a.b, a.c, a.d, a.e};
        for (int i = 0; i < 5; i++) SRLM_TRY(srlm_op_fill(b->cmd, all[i], a.n, 0.25f));
        SRLM_TRY(srlm_cmd_run(b->cmd));
        char size[32];
        snprintf(size, sizeof size, "n=%llu", (unsigned long long)a.n);
        for (int r = 0; r < nrows; r++) {
            a.which = rows[r].which;
            SRLM_TRY(srlm_bench_run(b, rows[r].name, size, a.n * rows[r].bytes_per_elem, a.n * rows[r].flops_per_elem,
                                    a.n < 100000 ? 64 : 1, record, &a, NULL));
        }
        srlm_arena_reset(b->arena);
    }
    return NULL;
}

srlm_status srlm_bench_ops_eltwise(srlm_bench *b) {
    const row rows[] = {{"add_f32", ADD, 12, 1}, {"mul_f32", MUL, 12, 1}, {"scale_f32", SCALE, 8, 1}, {"axpy_f32", AXPY, 12, 2}};
    return run_rows(b, rows, 4);
}

srlm_status srlm_bench_ops_activation(srlm_bench *b) {
    const row rows[] = {{"silu_fwd_f32", SILU_F, 8, 4},
                        {"silu_bwd_f32", SILU_B, 12, 8},
                        {"swiglu_fwd_f32", SWIGLU_F, 12, 5},
                        {"swiglu_bwd_f32", SWIGLU_B, 20, 10}};
    return run_rows(b, rows, 4);
}

srlm_status srlm_bench_ops_convert(srlm_bench *b) {
    const row rows[] = {{"f32_to_f16", TO_F16, 6, 0}, {"f32_to_bf16", TO_BF16, 6, 0}, {"f16_to_f32", FROM_F16, 6, 0},
                        {"bf16_to_f32", FROM_BF16, 6, 0}};
    return run_rows(b, rows, 4);
}
