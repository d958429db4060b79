/* ops_rope.c: host binding of shaders/rope.comp: rotary embedding in place on (N,NH,HS), in
 * token chunks whose windows fit the binding limit. */
#include "ops/ops.h"

static srlm_status rope(srlm_cmd *c, const char *what, srlm_buf x, srlm_buf pos, int N, int NH, int HS, float theta,
                        int layout, float sign) {
    if (N < 0 || NH <= 0 || HS <= 0 || HS % 2)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: shape N=%d NH=%d HS=%d (HS must be even)", what, N, NH, HS);
    if (layout != 0 && layout != 1) return srlm_errorf(SRLM_ERR_INVALID, "%s: unknown layout %d", what, layout);
    uint64_t row = (uint64_t)NH * HS;
    if ((uint64_t)N * row * 4 > x.size || (uint64_t)N * 4 > pos.size)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: x holds %llu bytes and pos %llu for N=%d NH=%d HS=%d", what,
                           (unsigned long long)x.size, (unsigned long long)pos.size, N, NH, HS);
    uint64_t R = srlm_ops_rows_per_window(c->ctx, row * 4);
    if (R == 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: one token's heads do not fit the binding limit", what);
    int op = layout ? SRLM_OP_ROPE_INTERLEAVED_F32 : SRLM_OP_ROPE_NEOX_F32;
    uint32_t wg = srlm_op_table[op].spec[0];
    for (uint64_t n0 = 0; n0 < (uint64_t)N; n0 += R) {
        uint64_t k = (uint64_t)N - n0 < R ? (uint64_t)N - n0 : R;
        srlm_push_rope p = {.N = (uint32_t)k, .NH = (uint32_t)NH, .HS = (uint32_t)HS, .theta = theta, .sign = sign};
        srlm_buf b[2] = {srlm_ops_window(c->ctx, x, 4, n0 * row, k * row, &p.xb), srlm_ops_window(c->ctx, pos, 4, n0, k, &p.pb)};
        SRLM_TRY(srlm_cmd_dispatch(c, op, NULL, b, 2, &p, sizeof p, srlm_ops_groups(c->ctx, k * row / 2, wg * 2ull), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_rope_fwd(srlm_cmd *c, srlm_buf x, srlm_buf pos, int N, int NH, int HS, float theta, int layout) {
    return rope(c, "rope_fwd", x, pos, N, NH, HS, theta, layout, 1.0f);
}

srlm_status srlm_op_rope_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf pos, int N, int NH, int HS, float theta, int layout) {
    return rope(c, "rope_bwd", dx, pos, N, NH, HS, theta, layout, -1.0f);
}
