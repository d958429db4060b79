/* ops_embedding.c: host bindings of shaders/embedding_fwd.comp and embedding_bwd.comp. The
 * (V,C) table is cut into tiles of whole rows, each bound as one aligned window under the
 * binding limit; every tile gets one dispatch that handles the tokens whose id it holds. */
#include "ops/ops.h"

static srlm_status check(srlm_cmd *c, const char *what, srlm_buf y, srlm_buf ids, srlm_buf wte, uint64_t eb, int N, int V,
                         int C, uint64_t *tile_rows) {
    if (N < 0 || V <= 0 || C <= 0) return srlm_errorf(SRLM_ERR_INVALID, "%s: shape N=%d V=%d C=%d", what, N, V, C);
    uint64_t ybytes = (uint64_t)N * C * 4;
    uint64_t tbytes = eb == 2 ? ((uint64_t)V * C + 1) / 2 * 4 : (uint64_t)V * C * 4;
    if (y.size < ybytes || ids.size < (uint64_t)N * 4 || wte.size < tbytes)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: buffers of %llu, %llu, %llu bytes are too small for N=%d V=%d C=%d", what,
                           (unsigned long long)y.size, (unsigned long long)ids.size, (unsigned long long)wte.size, N, V, C);
    if (ybytes > srlm_ops_binding_limit(c->ctx))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: %d tokens of %d floats exceed the binding limit; split the tokens", what,
                           N, C);
    *tile_rows = srlm_ops_rows_per_window(c->ctx, (uint64_t)C * eb);
    if (*tile_rows == 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: one table row does not fit the binding limit", what);
    return NULL;
}

srlm_status srlm_op_embedding_fwd(srlm_cmd *c, srlm_buf y, srlm_buf ids, srlm_buf wte, int wte_f16, int N, int V,
                                  int C) {
    uint64_t eb = wte_f16 ? 2 : 4, R;
    SRLM_TRY(check(c, "embedding_fwd", y, ids, wte, eb, N, V, C, &R));
    if (N == 0) return NULL;
    int op = wte_f16 ? SRLM_OP_EMBEDDING_FWD_F16 : SRLM_OP_EMBEDDING_FWD_F32;
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    srlm_buf yb = srlm_buf_slice(y, 0, (uint64_t)N * C * 4), ib = srlm_buf_slice(ids, 0, (uint64_t)N * 4);
    for (uint64_t r0 = 0; r0 < (uint64_t)V; r0 += R) {
        uint64_t k = (uint64_t)V - r0 < R ? (uint64_t)V - r0 : R;
        srlm_push_embedding p = {.N = (uint32_t)N, .C = (uint32_t)C, .V = (uint32_t)V, .row0 = (uint32_t)r0,
                                 .rows = (uint32_t)k, .zero_invalid = r0 == 0};
        srlm_buf b[3] = {yb, ib, srlm_ops_window(c->ctx, wte, eb, r0 * C, k * C, &p.tb)};
        SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 3, &p, sizeof p, srlm_ops_groups(c->ctx, (uint64_t)N, 1), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_embedding_bwd(srlm_cmd *c, srlm_buf dwte, srlm_buf dy, srlm_buf ids, int N, int V, int C) {
    uint64_t R;
    SRLM_TRY(check(c, "embedding_bwd", dy, ids, dwte, 4, N, V, C, &R));
    if (N == 0) return NULL;
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    srlm_buf yb = srlm_buf_slice(dy, 0, (uint64_t)N * C * 4), ib = srlm_buf_slice(ids, 0, (uint64_t)N * 4);
    for (uint64_t r0 = 0; r0 < (uint64_t)V; r0 += R) {
        uint64_t k = (uint64_t)V - r0 < R ? (uint64_t)V - r0 : R;
        srlm_push_embedding p = {.N = (uint32_t)N, .C = (uint32_t)C, .V = (uint32_t)V, .row0 = (uint32_t)r0, .rows = (uint32_t)k};
        srlm_buf b[3] = {srlm_ops_window(c->ctx, dwte, 4, r0 * C, k * C, &p.tb), yb, ib};
        SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_EMBEDDING_BWD_F32, spec, b, 3, &p, sizeof p, srlm_ops_groups(c->ctx, (uint64_t)N, 1),
                                   1, 1));
    }
    return NULL;
}
