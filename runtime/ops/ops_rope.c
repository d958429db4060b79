/* ops_rope.c: host binding of shaders/rope.comp: rotary embedding in place on (N,NH,HS), in
 * token chunks whose windows fit the binding limit, plus the frequency table it reads. */
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>

uint64_t srlm_op_rope_table_bytes(int HS) { return HS > 0 ? (uint64_t)(HS / 2) * 8 : 0; }

srlm_status srlm_op_rope_table_write(srlm_ctx *ctx, srlm_buf table, int HS, float theta) {
    if (HS <= 0 || HS % 2 || !(theta > 1.0f))
        return srlm_errorf(SRLM_ERR_INVALID, "rope table: head size %d (must be even) and theta %g (must be > 1)", HS,
                           (double)theta);
    uint64_t bytes = srlm_op_rope_table_bytes(HS);
    if (table.size < bytes)
        return srlm_errorf(SRLM_ERR_INVALID, "rope table: buffer holds %llu bytes, needs %llu", (unsigned long long)table.size,
                           (unsigned long long)bytes);
    uint32_t *t = malloc(bytes);
    if (!t) return srlm_errorf(SRLM_ERR_OOM, "rope table: out of memory");
    for (int i = 0; i < HS / 2; i++) {
        /* turns per position: theta^(-2i/HS) / (2 pi) < 1, as a 64-bit binary fraction */
        double turns = pow((double)theta, -2.0 * i / HS) / (2.0 * M_PI);
        double hi = floor(ldexp(turns, 32));
        double lo = floor(ldexp(ldexp(turns, 32) - hi, 32));
        t[2 * i] = (uint32_t)hi;
        t[2 * i + 1] = (uint32_t)lo;
    }
    srlm_status st = srlm_buf_write(ctx, table, 0, t, bytes);
    free(t);
    return st;
}

static srlm_status rope(srlm_cmd *c, const char *what, srlm_buf x, srlm_buf pos, srlm_buf table, int N, int NH, int HS,
                        int layout, float sign) {
    if (N < 0 || NH <= 0 || HS <= 0 || HS % 2)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: shape N=%d NH=%d HS=%d (HS must be even)", what, N, NH, HS);
    if (layout != 0 && layout != 1) return srlm_errorf(SRLM_ERR_INVALID, "%s: unknown layout %d", what, layout);
    uint64_t row = (uint64_t)NH * HS;
    if ((uint64_t)N * row * 4 > x.size || (uint64_t)N * 4 > pos.size || table.size < srlm_op_rope_table_bytes(HS))
        return srlm_errorf(SRLM_ERR_INVALID, "%s: x holds %llu bytes, pos %llu, table %llu: too small for N=%d NH=%d HS=%d",
                           what, (unsigned long long)x.size, (unsigned long long)pos.size, (unsigned long long)table.size, N,
                           NH, HS);
    if (N == 0) return NULL;
    uint64_t R = srlm_ops_rows_per_window(c->ctx, row * 4);
    if (R == 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: one token's heads do not fit the binding limit", what);
    int op = layout ? SRLM_OP_ROPE_INTERLEAVED_F32 : SRLM_OP_ROPE_NEOX_F32;
    /* invocations over the HS/2 pairs of a token: no more than a subgroup-rounded HS/2 */
    uint32_t sg = c->ctx->caps.subgroup_size ? c->ctx->caps.subgroup_size : 32;
    uint32_t wg = srlm_ops_row_wg(c->ctx), need = ((uint32_t)HS / 2 + sg - 1) / sg * sg;
    if (wg > need) wg = need;
    uint32_t spec[1] = {wg};
    srlm_buf tb = srlm_buf_slice(table, 0, srlm_op_rope_table_bytes(HS));
    for (uint64_t n0 = 0; n0 < (uint64_t)N; n0 += R) {
        uint64_t k = (uint64_t)N - n0 < R ? (uint64_t)N - n0 : R;
        srlm_push_rope p = {.N = (uint32_t)k, .NH = (uint32_t)NH, .HS = (uint32_t)HS, .sign = sign};
        srlm_buf b[3] = {srlm_ops_window(c->ctx, x, 4, n0 * row, k * row, &p.xb), srlm_ops_window(c->ctx, pos, 4, n0, k, &p.pb),
                         tb};
        SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 3, &p, sizeof p, srlm_ops_groups(c->ctx, k, 1), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_rope_fwd(srlm_cmd *c, srlm_buf x, srlm_buf pos, srlm_buf table, int N, int NH, int HS, int layout) {
    return rope(c, "rope_fwd", x, pos, table, N, NH, HS, layout, 1.0f);
}

srlm_status srlm_op_rope_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf pos, srlm_buf table, int N, int NH, int HS, int layout) {
    return rope(c, "rope_bwd", dx, pos, table, N, NH, HS, layout, -1.0f);
}
