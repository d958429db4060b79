/* ops_fill.c: host binding of shaders/fill.comp. */
#include "ops/ops.h"

srlm_status srlm_op_fill(srlm_cmd *c, srlm_buf y, uint64_t n, float value) {
    if (n * 4 > y.size) return srlm_errorf(SRLM_ERR_INVALID, "fill: %llu floats do not fit a %llu-byte buffer",
                                           (unsigned long long)n, (unsigned long long)y.size);
    const srlm_op_desc *d = &srlm_op_table[SRLM_OP_FILL_F32];
    uint64_t piece = srlm_ops_piece_elems(c->ctx, 4);
    for (uint64_t off = 0; off < n; off += piece) {
        uint64_t k = n - off < piece ? n - off : piece;
        srlm_push_fill p = {.n = (uint32_t)k, .value = value};
        srlm_buf b = srlm_buf_slice(y, off * 4, k * 4);
        SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_FILL_F32, NULL, &b, 1, &p, sizeof p, srlm_ops_groups(c->ctx, k, d->spec[0]), 1, 1));
    }
    return NULL;
}
