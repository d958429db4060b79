/* ops_embedding.c: host bindings of shaders/embedding_fwd.comp and embedding_bwd.comp. The
 * (V,C) table is cut into tiles of whole rows, each bound as one aligned window under the
 * binding limit; the tokens likewise into chunks. Every (chunk, tile) pair gets one dispatch
 * that handles the chunk's tokens whose id the tile holds. Chunks run in token order, so the
 * backward's per-row sums keep the reference's order. */
#include "ops/ops.h"

typedef struct emb_plan {
    uint64_t tile_rows, chunk_tokens;
} emb_plan;

static srlm_status plan(srlm_cmd *c, const char *what, srlm_buf y, srlm_buf ids, srlm_buf wte, uint64_t eb, int N, int V,
                        int C, emb_plan *pl) {
    if (N < 0 || V <= 0 || C <= 0) return srlm_errorf(SRLM_ERR_INVALID, "%s: shape N=%d V=%d C=%d", what, N, V, C);
    uint64_t ybytes = (uint64_t)N * C * 4;
    uint64_t tbytes = eb == 2 ? ((uint64_t)V * C + 1) / 2 * 4 : (uint64_t)V * C * 4;
    if (y.size < ybytes || ids.size < (uint64_t)N * 4 || wte.size < tbytes)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: buffers of %llu, %llu, %llu bytes are too small for N=%d V=%d C=%d", what,
                           (unsigned long long)y.size, (unsigned long long)ids.size, (unsigned long long)wte.size, N, V, C);
    pl->tile_rows = srlm_ops_rows_per_window(c->ctx, (uint64_t)C * eb);
    pl->chunk_tokens = srlm_ops_rows_per_window(c->ctx, (uint64_t)C * 4);
    if (pl->tile_rows == 0 || pl->chunk_tokens == 0)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: one row of %d does not fit the binding limit", what, C);
    return NULL;
}

/* One dispatch per (token chunk, table tile); `table` is wte (fwd) or dwte (bwd). */
static srlm_status dispatch_all(srlm_cmd *c, int op, int bwd, srlm_buf y, srlm_buf ids, srlm_buf table, uint64_t eb, int N, int V,
                       int C, const emb_plan *pl) {
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    for (uint64_t t0 = 0; t0 < (uint64_t)N; t0 += pl->chunk_tokens) {
        uint64_t nt = (uint64_t)N - t0 < pl->chunk_tokens ? (uint64_t)N - t0 : pl->chunk_tokens;
        for (uint64_t r0 = 0; r0 < (uint64_t)V; r0 += pl->tile_rows) {
            uint64_t k = (uint64_t)V - r0 < pl->tile_rows ? (uint64_t)V - r0 : pl->tile_rows;
            srlm_push_embedding p = {.N = (uint32_t)nt, .C = (uint32_t)C, .V = (uint32_t)V, .row0 = (uint32_t)r0,
                                     .rows = (uint32_t)k, .zero_invalid = !bwd && r0 == 0};
            srlm_buf tw = srlm_ops_window(c->ctx, table, eb, r0 * C, k * C, &p.tb);
            srlm_buf yw = srlm_ops_window(c->ctx, y, 4, t0 * C, nt * C, &p.yb);
            srlm_buf iw = srlm_ops_window(c->ctx, ids, 4, t0, nt, &p.ib);
            srlm_buf b[3] = {bwd ? tw : yw, bwd ? yw : iw, bwd ? iw : tw};
            SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 3, &p, sizeof p, srlm_ops_groups(c->ctx, nt, 1), 1, 1));
        }
    }
    return NULL;
}

srlm_status srlm_op_embedding_fwd(srlm_cmd *c, srlm_buf y, srlm_buf ids, srlm_buf wte, int wte_f16, int N, int V,
                                  int C) {
    uint64_t eb = wte_f16 ? 2 : 4;
    emb_plan pl;
    SRLM_TRY(plan(c, "embedding_fwd", y, ids, wte, eb, N, V, C, &pl));
    return dispatch_all(c, wte_f16 ? SRLM_OP_EMBEDDING_FWD_F16 : SRLM_OP_EMBEDDING_FWD_F32, 0, y, ids, wte, eb, N, V, C, &pl);
}

srlm_status srlm_op_embedding_bwd(srlm_cmd *c, srlm_buf dwte, srlm_buf dy, srlm_buf ids, int N, int V, int C) {
    emb_plan pl;
    SRLM_TRY(plan(c, "embedding_bwd", dy, ids, dwte, 4, N, V, C, &pl));
    return dispatch_all(c, SRLM_OP_EMBEDDING_BWD_F32, 1, dy, ids, dwte, 4, N, V, C, &pl);
}
