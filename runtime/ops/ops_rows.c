/* ops_rows.c: host bindings of the one-workgroup-per-row ops: shaders/rmsnorm_fwd.comp,
 * rmsnorm_bwd.comp and softmax.comp. Rows are processed in chunks whose windows fit the
 * binding limit; each window's offset is aligned and the row-0 element index inside it goes
 * to the shader as a push constant. Rows of a multiple of 4 floats use the vec4 variants. */
#include "ops/ops.h"

#define DW_ROWS_PER_BLOCK 32

static srlm_status check_rows(const char *what, const char *name, srlm_buf b, int N, int C) {
    if (N < 0 || C < 0) return srlm_errorf(SRLM_ERR_INVALID, "%s: shape (%d,%d) of %s", what, N, C, name);
    if ((uint64_t)N * (uint64_t)C * 4 > b.size)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: %s holds %llu bytes, (%d,%d) floats need %llu", what, name,
                           (unsigned long long)b.size, N, C, (unsigned long long)N * (uint64_t)C * 4);
    return NULL;
}

static srlm_status chunk_rows(srlm_cmd *c, const char *what, int C, uint64_t *rows) {
    if (C <= 0) return srlm_errorf(SRLM_ERR_INVALID, "%s: C = %d", what, C);
    *rows = srlm_ops_rows_per_window(c->ctx, (uint64_t)C * 4);
    if (*rows == 0)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: a row of %d floats does not fit the %llu-byte binding limit", what, C,
                           (unsigned long long)srlm_ops_binding_limit(c->ctx));
    if (*rows > 0x7fffffff) *rows = 0x7fffffff;
    return NULL;
}

/* The vec4 variants need whole vec4 rows: C % 4 == 0, every row window starting on a vec4
 * (base % 4 == 0) and w 16-byte aligned. They then take C and those bases in vec4 units. */
static int vec4_ok(int C, const uint32_t *bases, int nb, const srlm_buf *w) {
    if (C % 4) return 0;
    for (int i = 0; i < nb; i++)
        if (bases[i] % 4) return 0;
    return !w || w->offset % 16 == 0;
}

srlm_status srlm_op_rmsnorm_fwd(srlm_cmd *c, srlm_buf y, srlm_buf rstd, srlm_buf x, srlm_buf w, int N, int C,
                                float eps) {
    SRLM_TRY(check_rows("rmsnorm_fwd", "y", y, N, C));
    SRLM_TRY(check_rows("rmsnorm_fwd", "x", x, N, C));
    SRLM_TRY(check_rows("rmsnorm_fwd", "rstd", rstd, N, 1));
    SRLM_TRY(check_rows("rmsnorm_fwd", "weight", w, 1, C));
    uint64_t R;
    SRLM_TRY(chunk_rows(c, "rmsnorm_fwd", C, &R));
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += R) {
        uint64_t k = (uint64_t)N - r0 < R ? (uint64_t)N - r0 : R;
        srlm_push_rows p = {.N = (uint32_t)k, .C = (uint32_t)C, .eps = eps};
        srlm_buf b[4] = {srlm_ops_window(c->ctx, y, 4, r0 * C, k * C, &p.b0), srlm_ops_window(c->ctx, rstd, 4, r0, k, &p.b1),
                         srlm_ops_window(c->ctx, x, 4, r0 * C, k * C, &p.b2), srlm_buf_slice(w, 0, (uint64_t)C * 4)};
        int op = SRLM_OP_RMSNORM_FWD_F32;
        if (vec4_ok(C, (uint32_t[]){p.b0, p.b2}, 2, &b[3])) op = SRLM_OP_RMSNORM_FWD_F32_V4, p.C /= 4, p.b0 /= 4, p.b2 /= 4;
        SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 4, &p, sizeof p, srlm_ops_groups(c->ctx, k, 1), 1, 1));
    }
    return NULL;
}

/* Rows per dw block, and rows per chunk (a multiple of it so no block straddles chunks). */
static srlm_status bwd_blocking(srlm_cmd *c, int C, uint64_t *rb, uint64_t *chunk) {
    SRLM_TRY(chunk_rows(c, "rmsnorm_bwd", C, chunk));
    *rb = *chunk < DW_ROWS_PER_BLOCK ? *chunk : DW_ROWS_PER_BLOCK;
    *chunk = *chunk / *rb * *rb;
    return NULL;
}

uint64_t srlm_op_rmsnorm_bwd_scratch_bytes(const srlm_ctx *ctx, int N, int C) {
    uint64_t chunk = C > 0 ? srlm_ops_rows_per_window(ctx, (uint64_t)C * 4) : 0;
    uint64_t rb = chunk < DW_ROWS_PER_BLOCK ? chunk : DW_ROWS_PER_BLOCK;
    if (rb == 0 || N <= 0) return 4;
    return ((uint64_t)N + rb - 1) / rb * (uint64_t)C * 4;
}

srlm_status srlm_op_rmsnorm_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf dw, srlm_buf scratch, srlm_buf dy, srlm_buf x,
                                srlm_buf w, srlm_buf rstd, int N, int C) {
    const char *what = "rmsnorm_bwd";
    SRLM_TRY(check_rows(what, "dinp", dx, N, C));
    SRLM_TRY(check_rows(what, "dout", dy, N, C));
    SRLM_TRY(check_rows(what, "inp", x, N, C));
    SRLM_TRY(check_rows(what, "rstd", rstd, N, 1));
    SRLM_TRY(check_rows(what, "weight", w, 1, C));
    SRLM_TRY(check_rows(what, "dweight", dw, 1, C));
    uint64_t rb, R;
    SRLM_TRY(bwd_blocking(c, C, &rb, &R));
    uint64_t nblocks = ((uint64_t)N + rb - 1) / rb;
    uint64_t need = srlm_op_rmsnorm_bwd_scratch_bytes(c->ctx, N, C);
    if (scratch.size < need)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: scratch holds %llu bytes, needs %llu", what, (unsigned long long)scratch.size,
                           (unsigned long long)need);
    if (N <= 0) return NULL;
    srlm_buf part = srlm_buf_slice(scratch, 0, need);
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    uint32_t cwg = srlm_op_table[SRLM_OP_RMSNORM_BWD_DW_PARTIAL_F32].spec[0];
    /* the partials have the same (nblocks, C) layout whether a chunk used vec4 or not */
    int dw4 = vec4_ok(C, NULL, 0, &dw) && part.offset % 16 == 0;
    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += R) {
        uint64_t k = (uint64_t)N - r0 < R ? (uint64_t)N - r0 : R;
        srlm_push_rows p = {.N = (uint32_t)k, .C = (uint32_t)C};
        srlm_buf b[5] = {srlm_ops_window(c->ctx, dx, 4, r0 * C, k * C, &p.b0), srlm_ops_window(c->ctx, dy, 4, r0 * C, k * C, &p.b1),
                         srlm_ops_window(c->ctx, x, 4, r0 * C, k * C, &p.b2), srlm_buf_slice(w, 0, (uint64_t)C * 4),
                         srlm_ops_window(c->ctx, rstd, 4, r0, k, &p.b4)};
        srlm_push_rows pd = p;
        int op = SRLM_OP_RMSNORM_BWD_DX_F32;
        if (vec4_ok(C, (uint32_t[]){p.b0, p.b1, p.b2}, 3, &b[3]))
            op = SRLM_OP_RMSNORM_BWD_DX_F32_V4, pd.C /= 4, pd.b0 /= 4, pd.b1 /= 4, pd.b2 /= 4;
        SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 5, &pd, sizeof pd, srlm_ops_groups(c->ctx, k, 1), 1, 1));
        /* dw partials of this chunk's blocks, rows in order within each block */
        uint64_t kb = (k + rb - 1) / rb;
        p.b0 = (uint32_t)(r0 / rb);
        p.b3 = (uint32_t)rb;
        op = SRLM_OP_RMSNORM_BWD_DW_PARTIAL_F32;
        if (dw4 && vec4_ok(C, (uint32_t[]){p.b1, p.b2}, 2, NULL))
            op = SRLM_OP_RMSNORM_BWD_DW_PARTIAL_F32_V4, p.C /= 4, p.b1 /= 4, p.b2 /= 4;
        srlm_buf q[4] = {part, b[1], b[2], b[4]};
        SRLM_TRY(srlm_cmd_dispatch(c, op, NULL, q, 4, &p, sizeof p, (p.C + cwg - 1) / cwg, kb < 65535 ? (uint32_t)kb : 65535, 1));
    }
    srlm_push_rows p = {.N = (uint32_t)nblocks, .C = (uint32_t)(dw4 ? C / 4 : C)};
    srlm_buf b[2] = {srlm_buf_slice(dw, 0, (uint64_t)C * 4), part};
    return srlm_cmd_dispatch(c, dw4 ? SRLM_OP_RMSNORM_BWD_DW_REDUCE_F32_V4 : SRLM_OP_RMSNORM_BWD_DW_REDUCE_F32, NULL, b, 2, &p,
                             sizeof p, (p.C + cwg - 1) / cwg, 1, 1);
}

srlm_status srlm_op_softmax_fwd(srlm_cmd *c, srlm_buf y, srlm_buf x, int N, int C) {
    SRLM_TRY(check_rows("softmax_fwd", "out", y, N, C));
    SRLM_TRY(check_rows("softmax_fwd", "inp", x, N, C));
    uint64_t R;
    SRLM_TRY(chunk_rows(c, "softmax_fwd", C, &R));
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += R) {
        uint64_t k = (uint64_t)N - r0 < R ? (uint64_t)N - r0 : R;
        srlm_push_rows p = {.N = (uint32_t)k, .C = (uint32_t)C};
        srlm_buf b[2] = {srlm_ops_window(c->ctx, y, 4, r0 * C, k * C, &p.b0), srlm_ops_window(c->ctx, x, 4, r0 * C, k * C, &p.b1)};
        int op = SRLM_OP_SOFTMAX_FWD_F32;
        if (vec4_ok(C, (uint32_t[]){p.b0, p.b1}, 2, NULL)) op = SRLM_OP_SOFTMAX_FWD_F32_V4, p.C /= 4, p.b0 /= 4, p.b1 /= 4;
        SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 2, &p, sizeof p, srlm_ops_groups(c->ctx, k, 1), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_softmax_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf dy, srlm_buf y, int N, int C) {
    SRLM_TRY(check_rows("softmax_bwd", "dinp", dx, N, C));
    SRLM_TRY(check_rows("softmax_bwd", "dout", dy, N, C));
    SRLM_TRY(check_rows("softmax_bwd", "out", y, N, C));
    uint64_t R;
    SRLM_TRY(chunk_rows(c, "softmax_bwd", C, &R));
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += R) {
        uint64_t k = (uint64_t)N - r0 < R ? (uint64_t)N - r0 : R;
        srlm_push_rows p = {.N = (uint32_t)k, .C = (uint32_t)C};
        srlm_buf b[3] = {srlm_ops_window(c->ctx, dx, 4, r0 * C, k * C, &p.b0), srlm_ops_window(c->ctx, dy, 4, r0 * C, k * C, &p.b1),
                         srlm_ops_window(c->ctx, y, 4, r0 * C, k * C, &p.b2)};
        int op = SRLM_OP_SOFTMAX_BWD_F32;
        if (vec4_ok(C, (uint32_t[]){p.b0, p.b1, p.b2}, 3, NULL))
            op = SRLM_OP_SOFTMAX_BWD_F32_V4, p.C /= 4, p.b0 /= 4, p.b1 /= 4, p.b2 /= 4;
        SRLM_TRY(srlm_cmd_dispatch(c, op, spec, b, 3, &p, sizeof p, srlm_ops_groups(c->ctx, k, 1), 1, 1));
    }
    return NULL;
}
