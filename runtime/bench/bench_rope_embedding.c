/* bench_rope_embedding.c: `srlm bench ops` rows for RoPE (family "rope", Qwen2.5-0.5B's 14
 * query heads of 64) and the embedding lookup and backward (family "embedding", the 0.5B
 * vocabulary of 151,936 x 896: 260 MiB in f16, so the lookup runs in table tiles). */
#include "bench/bench.h"

#include <stdlib.h>

typedef struct re_arg {
    srlm_buf x, pos, table, y, ids, wte;
    int N, NH, HS, V, C, which;
} re_arg;

static srlm_status record(srlm_cmd *c, void *arg) {
    re_arg *a = arg;
    switch (a->which) {
    case 0: return srlm_op_rope_fwd(c, a->x, a->pos, a->table, a->N, a->NH, a->HS, 0);
    case 1: return srlm_op_rope_bwd(c, a->x, a->pos, a->table, a->N, a->NH, a->HS, 1);
    case 2: return srlm_op_embedding_fwd(c, a->y, a->ids, a->wte, 1, a->N, a->V, a->C);
    default: return srlm_op_embedding_bwd(c, a->wte, a->y, a->ids, a->N, a->V, a->C);
    }
}

srlm_status srlm_bench_ops_rope(srlm_bench *b) {
    const int Ns[] = {1, 512, 4096};
    for (int s = 0; s < (b->opts.quick ? 2 : 3); s++) {
        re_arg a = {.N = Ns[s], .NH = 14, .HS = 64};
        uint64_t n = (uint64_t)a.N * a.NH * a.HS;
        SRLM_TRY(srlm_arena_alloc(b->arena, n * 4, &a.x));
        SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a.N * 4, &a.pos));
        SRLM_TRY(srlm_arena_alloc(b->arena, srlm_op_rope_table_bytes(a.HS), &a.table));
        SRLM_TRY(srlm_op_rope_table_write(b->ctx, a.table, a.HS, 1000000.0f));
        SRLM_TRY(srlm_cmd_begin(b->cmd));
        SRLM_TRY(srlm_op_fill(b->cmd, a.x, n, 0.5f));
        SRLM_TRY(srlm_op_fill(b->cmd, a.pos, (uint64_t)a.N, 0.0f)); /* bits 0: position 0 */
        SRLM_TRY(srlm_cmd_run(b->cmd));
        char size[32];
        snprintf(size, sizeof size, "(%d,%d,%d)", a.N, a.NH, a.HS);
        int inner = a.N < 100 ? 64 : 1;
        a.which = 0;
        SRLM_TRY(srlm_bench_run(b, "rope_fwd_neox_f32", size, 8 * n, 3 * n, inner, record, &a, NULL));
        a.which = 1;
        SRLM_TRY(srlm_bench_run(b, "rope_bwd_interleaved_f32", size, 8 * n, 3 * n, inner, record, &a, NULL));
        srlm_arena_reset(b->arena);
    }
    return NULL;
}

srlm_status srlm_bench_ops_embedding(srlm_bench *b) {
    const int Ns[] = {1, 512};
    re_arg a = {.V = b->opts.quick ? 32000 : 151936, .C = 896};
    uint64_t vc = (uint64_t)a.V * a.C;
    SRLM_TRY(srlm_arena_alloc(b->arena, (vc + 1) / 2 * 4, &a.wte));
    SRLM_TRY(srlm_arena_alloc(b->arena, 512ull * a.C * 4, &a.y));
    SRLM_TRY(srlm_arena_alloc(b->arena, 512ull * 4, &a.ids));
    int *ids = malloc(512 * sizeof(int));
    if (!ids) return srlm_errorf(SRLM_ERR_OOM, "bench embedding: out of memory");
    for (int i = 0; i < 512; i++) ids[i] = (int)((i * 2654435761u) % (unsigned)a.V); /* spread over every tile */
    srlm_status st = srlm_buf_write(b->ctx, a.ids, 0, ids, 512 * sizeof(int));
    free(ids);
    SRLM_TRY(st);
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    SRLM_TRY(srlm_op_fill(b->cmd, a.wte, (vc + 1) / 2, 0.0f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.y, 512ull * a.C, 0.5f));
    SRLM_TRY(srlm_cmd_run(b->cmd));
    for (int s = 0; s < 2; s++) {
        a.N = Ns[s];
        a.which = 2;
        char size[48];
        snprintf(size, sizeof size, "N=%d V=%d C=%d f16", a.N, a.V, a.C);
        uint64_t nc = (uint64_t)a.N * a.C;
        SRLM_TRY(srlm_bench_run(b, "embedding_fwd_f16", size, 6 * nc, 0, a.N < 100 ? 64 : 4, record, &a, NULL));
    }
    /* backward into an f32 gradient table of a smaller vocabulary (its cost is per token) */
    srlm_arena_reset(b->arena);
    a.V = 32000;
    vc = (uint64_t)a.V * a.C;
    SRLM_TRY(srlm_arena_alloc(b->arena, vc * 4, &a.wte));
    SRLM_TRY(srlm_arena_alloc(b->arena, 512ull * a.C * 4, &a.y));
    SRLM_TRY(srlm_arena_alloc(b->arena, 512ull * 4, &a.ids));
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    SRLM_TRY(srlm_op_fill(b->cmd, a.wte, vc, 0.0f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.y, 512ull * a.C, 0.5f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.ids, 512, 0.0f)); /* every token id 0: the worst case of repeats */
    SRLM_TRY(srlm_cmd_run(b->cmd));
    a.N = 512;
    a.which = 3;
    char size[48];
    snprintf(size, sizeof size, "N=%d V=%d C=%d ids=0", a.N, a.V, a.C);
    uint64_t nc = (uint64_t)a.N * a.C;
    return srlm_bench_run(b, "embedding_bwd_f32", size, 4 * nc, nc, 1, record, &a, NULL);
}
