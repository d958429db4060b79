/* ops_matmul.c: host bindings of the matmul family (shaders/matmul_*.comp): variant choice
 * from the device caps, tiling of tensors over the binding limit, dispatch. Not the CPU
 * reference (runtime/ops/ref_matmul.c) and not the benchmark (runtime/bench/bench_matmul.c). */
#include "ops/ops.h"

#include <string.h>

/* Register tiles suit devices that run a subgroup as one SIMD thread (lavapipe: 8 lanes, costly
 * barriers, per-lane loads): see ../shared/docs/platform.md and docs/perf.md. */
static bool prefer_regtile(const srlm_ctx *ctx) {
    return ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU || ctx->caps.subgroup_size < 16 ||
           ctx->caps.max_shared_memory < 16384;
}

/* The matrix-vector kernel reduces with subgroupAdd over a workgroup of one subgroup. */
static bool has_matvec(const srlm_ctx *ctx) {
    return ctx->caps.subgroup_in_compute && (ctx->caps.subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
           ctx->caps.min_subgroup_size == ctx->caps.max_subgroup_size;
}

static uint32_t pow2_at_least(uint32_t m, uint32_t cap) {
    uint32_t t = 1;
    while (t < m && t < cap) t *= 2;
    return t;
}

void srlm_mm_cfg_resolve(const srlm_ctx *ctx, int form, uint32_t M, uint32_t K, const srlm_mm_cfg *in, srlm_mm_cfg *out) {
    srlm_mm_cfg c = in ? *in : (srlm_mm_cfg){0};
    bool chosen0 = c.kernel == SRLM_MM_AUTO;
    if (chosen0) c.kernel = prefer_regtile(ctx) ? SRLM_MM_REGTILE : SRLM_MM_SHARED;
    if (chosen0 && c.kernel == SRLM_MM_REGTILE && K % 8 != 0) {
        /* K not a multiple of 8 (no model shape): the scalar-load path, correct but slow, in
         * small tiles because lavapipe's compile time grows with the tile */
        c.wg = c.wg ? c.wg : 8;
        c.t1 = c.t1 ? c.t1 : 2;
        c.t2 = c.t2 ? c.t2 : (form == 0 ? 2 : 1);
        *out = c;
        return;
    }
    if (chosen0 && c.kernel == SRLM_MM_REGTILE && form == 0 && M <= 16 && has_matvec(ctx)) c.kernel = SRLM_MM_MATVEC;
    if (c.kernel == SRLM_MM_MATVEC) {
        if (!c.wg) c.wg = ctx->caps.subgroup_size;
        if (!c.t1) c.t1 = pow2_at_least(M, 16);
        /* measured on lavapipe (docs/perf.md): 8 rows of W per subgroup at 8 columns, else 4 */
        if (!c.t2) c.t2 = c.t1 == 8 ? 8 : 4;
        *out = c;
        return;
    }
    if (c.kernel == SRLM_MM_REGTILE) {
        if (!c.wg) c.wg = ctx->caps.subgroup_size >= 8 && ctx->caps.subgroup_size <= 64 ? ctx->caps.subgroup_size : 8;
        if (form == 0) {
            /* few columns (decode): every column shares each weight load */
            if (!c.t1) c.t1 = M <= 16 ? pow2_at_least(M, 16) : 8;
            if (!c.t2) c.t2 = M <= 16 ? 4 : 4;
        } else if (form == 1) {
            if (!c.t1) c.t1 = M <= 8 ? pow2_at_least(M, 8) : 8;
            if (!c.t2) c.t2 = 1;
        } else {
            if (!c.t1) c.t1 = 4;
            if (!c.t2) c.t2 = 1;
        }
    } else {
        if (!c.bi) c.bi = 64;
        if (!c.bj) c.bj = 64;
        if (!c.bp) c.bp = 16;
        if (!c.ti) c.ti = 4;
        if (!c.tj) c.tj = 4;
        if (!c.wg) c.wg = (c.bi / c.ti) * (c.bj / c.tj);
    }
    *out = c;
}

static srlm_status check_cfg(const srlm_ctx *ctx, const srlm_mm_cfg *c) {
    if (c->kernel == SRLM_MM_MATVEC) {
        if (!has_matvec(ctx) || c->wg != ctx->caps.subgroup_size)
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "matmul: the matrix-vector kernel needs subgroup arithmetic and a "
                               "workgroup of exactly one subgroup (%u lanes)", ctx->caps.subgroup_size);
        if (!c->t1 || !c->t2 || c->t1 > 16 || c->t2 > 64)
            return srlm_errorf(SRLM_ERR_INVALID, "matmul: matrix-vector tile %ux%u out of range", c->t1, c->t2);
        return NULL;
    }
    if (c->kernel == SRLM_MM_SHARED) {
        if (!c->ti || !c->tj || c->bi % c->ti || c->bj % c->tj || c->wg != (c->bi / c->ti) * (c->bj / c->tj))
            return srlm_errorf(SRLM_ERR_INVALID, "matmul: shared tile %ux%ux%u / %ux%u does not match workgroup size %u", c->bi,
                               c->bj, c->bp, c->ti, c->tj, c->wg);
        uint64_t shm = 4ull * c->bp * (c->bi + c->bj);
        if (shm > ctx->caps.max_shared_memory)
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "matmul: shared tile needs %llu bytes, the device has %u",
                               (unsigned long long)shm, ctx->caps.max_shared_memory);
    } else if (!c->t1 || !c->t2 || c->t1 > 64 || c->t2 > 64) {
        return srlm_errorf(SRLM_ERR_INVALID, "matmul: register tile %ux%u out of range", c->t1, c->t2);
    }
    return NULL;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* Rows per tile: the largest count such that rows * row_bytes <= limit, a multiple of `step`
 * (keeps every tile's offset aligned), capped at `cap`. 0: a single row does not fit. */
static uint64_t tile_rows(uint64_t limit, uint64_t row_bytes, uint64_t step, uint64_t total, uint64_t cap) {
    uint64_t r = row_bytes ? limit / row_bytes : total;
    if (r > cap) r = cap;
    if (r >= total) return total;
    return r / step * step;
}

/* Row step keeping offsets of rows of `row_bytes` multiples of the binding alignment. */
static uint64_t align_step(const srlm_ctx *ctx, uint64_t row_bytes) {
    uint64_t a = ctx->caps.min_storage_offset_align < 16 ? 16 : ctx->caps.min_storage_offset_align;
    uint64_t g = a; /* gcd(row_bytes, a) for a power of two a */
    while (g > 1 && row_bytes % g) g /= 2;
    return a / g;
}
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static srlm_status need(const char *op, const char *what, srlm_buf b, uint64_t bytes) {
    if (b.size < bytes)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: %s is %llu bytes, the sizes need %llu", op, what, (unsigned long long)b.size,
                           (unsigned long long)bytes);
    if (!b.buffer) return srlm_errorf(SRLM_ERR_INVALID, "%s: %s has no buffer", op, what);
    return NULL;
}

static uint64_t wbytes(srlm_mm_wtype wt, uint64_t elems) { return wt == SRLM_MM_W_F16 ? elems * 2 : elems * 4; }

/* 64-bit loads (half the load instructions on lavapipe; no gain measurable on the loaded
 * development machine, see docs/perf.md): opt-in, where the device has int64. */
static bool use_u64(const srlm_ctx *ctx, const srlm_mm_cfg *cf) { return ctx->caps.int64 && cf->ld64; }

/* Y (rows m0.., width ldy) = X . W^T over one tile: one dispatch. */
static srlm_status fwd_tile(srlm_cmd *c, const srlm_mm_cfg *cf, srlm_mm_wtype wt, srlm_buf y, srlm_buf x, srlm_buf w,
                            srlm_buf b, uint32_t mt, uint32_t nt, uint32_t K, uint32_t ldy, uint32_t ycol, uint32_t flags) {
    srlm_push_matmul p = {.M = mt, .N = nt, .K = K, .ldy = ldy, .ycol = ycol, .flags = flags};
    srlm_buf bufs[4] = {y, x, w, b};
    if (cf->kernel == SRLM_MM_MATVEC) {
        bool u = use_u64(c->ctx, cf);
        int op = wt == SRLM_MM_W_F16 ? (u ? SRLM_OP_MATMUL_MV_F16_U64 : SRLM_OP_MATMUL_MV_F16)
                                     : (u ? SRLM_OP_MATMUL_MV_F32_U64 : SRLM_OP_MATMUL_MV_F32);
        uint32_t spec[4] = {cf->wg, cf->t1, cf->t2, K % 8 == 0};
        /* blocks of TM rows of X, addressed by offsets inside the same bindings */
        for (uint32_t r0 = 0; r0 < mt; r0 += cf->t1) {
            p.M = mt - r0 < cf->t1 ? mt - r0 : cf->t1;
            p.xoff = r0 * K;
            p.ycol = r0 * ldy + ycol;
            SRLM_TRY(srlm_cmd_dispatch(c, op, spec, bufs, 4, &p, sizeof p, (uint32_t)ceil_div(nt, cf->t2), 1, 1));
        }
        return NULL;
    }
    if (cf->kernel == SRLM_MM_REGTILE) {
        bool u = use_u64(c->ctx, cf);
        int op = wt == SRLM_MM_W_F16 ? (u ? SRLM_OP_MATMUL_NT_F16_U64 : SRLM_OP_MATMUL_NT_F16)
                                     : (u ? SRLM_OP_MATMUL_NT_F32_U64 : SRLM_OP_MATMUL_NT_F32);
        uint32_t spec[4] = {cf->wg, cf->t1, cf->t2, K % 8 == 0};
        return srlm_cmd_dispatch(c, op, spec, bufs, 4, &p, sizeof p, (uint32_t)ceil_div(nt, (uint64_t)cf->t2 * cf->wg),
                                 (uint32_t)ceil_div(mt, cf->t1), 1);
    }
    int op = wt == SRLM_MM_W_F16 ? SRLM_OP_MATMUL_SM_NT_F16 : SRLM_OP_MATMUL_SM_NT_F32;
    uint32_t spec[6] = {cf->wg, cf->bi, cf->bj, cf->bp, cf->ti, cf->tj};
    return srlm_cmd_dispatch(c, op, spec, bufs, 4, &p, sizeof p, (uint32_t)ceil_div(nt, cf->bj), (uint32_t)ceil_div(mt, cf->bi), 1);
}

srlm_status srlm_op_matmul_fwd(srlm_cmd *c, srlm_buf y, srlm_buf x, srlm_buf w, srlm_mm_wtype wt, const srlm_buf *bias,
                               uint32_t M, uint32_t N, uint32_t K, int accumulate, const srlm_mm_cfg *cfg) {
    const char *op = "matmul_fwd";
    srlm_ctx *ctx = c->ctx;
    if (!M || !N) return NULL;
    if (!K) return srlm_errorf(SRLM_ERR_INVALID, "%s: K = 0", op);
    SRLM_TRY(need(op, "Y", y, 4ull * M * N));
    SRLM_TRY(need(op, "X", x, 4ull * M * K));
    SRLM_TRY(need(op, "W", w, wbytes(wt, (uint64_t)N * K)));
    if (bias) SRLM_TRY(need(op, "bias", *bias, 4ull * N));
    srlm_mm_cfg cf;
    srlm_mm_cfg_resolve(ctx, 0, M, K, cfg, &cf);
    SRLM_TRY(check_cfg(ctx, &cf));
    uint64_t lim = srlm_ops_binding_limit(ctx);
    uint64_t tm = cf.kernel == SRLM_MM_SHARED ? cf.bi : cf.t1;
    uint64_t tn = cf.kernel == SRLM_MM_REGTILE ? (uint64_t)cf.t2 * cf.wg : cf.kernel == SRLM_MM_MATVEC ? cf.t2 : cf.bj;
    /* W tiles: whole rows under the limit; bias offsets aligned too */
    uint64_t nstep = max_u64(align_step(ctx, wbytes(wt, K)), bias ? align_step(ctx, 4) : 1);
    uint64_t nt = tile_rows(lim, wbytes(wt, K), nstep, N, (uint64_t)ctx->caps.max_wg_count[0] * tn);
    /* X / Y tiles: rows of X (K floats) and of Y (N floats) */
    uint64_t mstep = max_u64(align_step(ctx, 4ull * K), align_step(ctx, 4ull * N));
    uint64_t mt = tile_rows(lim, 4ull * (K > N ? K : N), mstep, M, (uint64_t)ctx->caps.max_wg_count[1] * tm);
    if (!nt || !mt)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: a row of %u elements does not fit the %llu-byte binding limit", op,
                           K > N ? K : N, (unsigned long long)lim);
    uint32_t flags = (bias ? SRLM_MM_BIAS : 0) | (accumulate ? SRLM_MM_ACC : 0);
    for (uint64_t m0 = 0; m0 < M; m0 += mt) {
        uint64_t mc = M - m0 < mt ? M - m0 : mt;
        srlm_buf xs = srlm_buf_slice(x, m0 * K * 4, mc * K * 4);
        srlm_buf ys = srlm_buf_slice(y, m0 * N * 4, mc * N * 4);
        for (uint64_t n0 = 0; n0 < N; n0 += nt) {
            uint64_t nc = N - n0 < nt ? N - n0 : nt;
            srlm_buf ws = srlm_buf_slice(w, wbytes(wt, n0 * K), wbytes(wt, nc * K));
            srlm_buf bs = bias ? srlm_buf_slice(*bias, n0 * 4, nc * 4) : ws; /* unused binding when no bias */
            SRLM_TRY(fwd_tile(c, &cf, wt, ys, xs, ws, bs, (uint32_t)mc, (uint32_t)nc, K, N, (uint32_t)n0, flags));
        }
    }
    return NULL;
}

srlm_status srlm_op_matmul_bwd_inp(srlm_cmd *c, srlm_buf dx, srlm_buf dy, srlm_buf w, srlm_mm_wtype wt, uint32_t M, uint32_t N,
                                   uint32_t K, int accumulate, const srlm_mm_cfg *cfg) {
    const char *op = "matmul_bwd_inp";
    srlm_ctx *ctx = c->ctx;
    if (!M || !K) return NULL;
    SRLM_TRY(need(op, "dX", dx, 4ull * M * K));
    SRLM_TRY(need(op, "dY", dy, 4ull * M * N));
    SRLM_TRY(need(op, "W", w, wbytes(wt, (uint64_t)N * K)));
    if (!N) return accumulate ? NULL : srlm_op_fill(c, dx, (uint64_t)M * K, 0.0f);
    srlm_mm_cfg cf;
    srlm_mm_cfg_resolve(ctx, 1, M, K, cfg, &cf);
    SRLM_TRY(check_cfg(ctx, &cf));
    uint64_t lim = srlm_ops_binding_limit(ctx);
    uint64_t tm = cf.kernel == SRLM_MM_REGTILE ? cf.t1 : cf.bi;
    uint64_t nt = tile_rows(lim, wbytes(wt, K), align_step(ctx, wbytes(wt, K)), N, UINT32_MAX);
    uint64_t mstep = max_u64(align_step(ctx, 4ull * K), align_step(ctx, 4ull * N));
    uint64_t mt = tile_rows(lim, 4ull * (K > N ? K : N), mstep, M, (uint64_t)ctx->caps.max_wg_count[1] * tm);
    if (!nt || !mt)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: a row of %u elements does not fit the %llu-byte binding limit", op,
                           K > N ? K : N, (unsigned long long)lim);
    for (uint64_t m0 = 0; m0 < M; m0 += mt) {
        uint64_t mc = M - m0 < mt ? M - m0 : mt;
        srlm_buf xs = srlm_buf_slice(dx, m0 * K * 4, mc * K * 4);
        srlm_buf ys = srlm_buf_slice(dy, m0 * N * 4, mc * N * 4);
        for (uint64_t n0 = 0; n0 < N; n0 += nt) {
            uint64_t nc = N - n0 < nt ? N - n0 : nt;
            srlm_buf ws = srlm_buf_slice(w, wbytes(wt, n0 * K), wbytes(wt, nc * K));
            /* later W tiles add their share to what the first wrote */
            srlm_push_matmul p = {.M = (uint32_t)mc, .N = (uint32_t)nc, .K = K, .ldy = N, .ycol = (uint32_t)n0,
                                  .flags = (accumulate || n0 > 0) ? SRLM_MM_ACC : 0};
            srlm_buf bufs[3] = {xs, ys, ws};
            if (cf.kernel == SRLM_MM_REGTILE) {
                int o = wt == SRLM_MM_W_F16 ? SRLM_OP_MATMUL_NN_F16 : SRLM_OP_MATMUL_NN_F32;
                uint32_t spec[4] = {cf.wg, cf.t1, cf.t2, K % 8 == 0};
                SRLM_TRY(srlm_cmd_dispatch(c, o, spec, bufs, 3, &p, sizeof p, (uint32_t)ceil_div(K, 8ull * cf.t2 * cf.wg),
                                           (uint32_t)ceil_div(mc, cf.t1), 1));
            } else {
                int o = wt == SRLM_MM_W_F16 ? SRLM_OP_MATMUL_SM_NN_F16 : SRLM_OP_MATMUL_SM_NN_F32;
                uint32_t spec[6] = {cf.wg, cf.bi, cf.bj, cf.bp, cf.ti, cf.tj};
                SRLM_TRY(srlm_cmd_dispatch(c, o, spec, bufs, 3, &p, sizeof p, (uint32_t)ceil_div(K, cf.bj),
                                           (uint32_t)ceil_div(mc, cf.bi), 1));
            }
        }
    }
    return NULL;
}

srlm_status srlm_op_matmul_bwd_weight(srlm_cmd *c, srlm_buf dw, const srlm_buf *db, srlm_buf dy, srlm_buf x, uint32_t M,
                                      uint32_t N, uint32_t K, const srlm_mm_cfg *cfg) {
    const char *op = "matmul_bwd_weight";
    srlm_ctx *ctx = c->ctx;
    if (!M || !N) return NULL;
    if (!K) return srlm_errorf(SRLM_ERR_INVALID, "%s: K = 0", op);
    SRLM_TRY(need(op, "dW", dw, 4ull * N * K));
    SRLM_TRY(need(op, "dY", dy, 4ull * M * N));
    SRLM_TRY(need(op, "X", x, 4ull * M * K));
    if (db) SRLM_TRY(need(op, "db", *db, 4ull * N));
    srlm_mm_cfg cf;
    srlm_mm_cfg_resolve(ctx, 2, M, K, cfg, &cf);
    SRLM_TRY(check_cfg(ctx, &cf));
    uint64_t lim = srlm_ops_binding_limit(ctx);
    uint64_t ti = cf.kernel == SRLM_MM_REGTILE ? cf.t1 : cf.bi;
    uint64_t nstep = max_u64(align_step(ctx, 4ull * K), db ? align_step(ctx, 4) : 1);
    uint64_t nt = tile_rows(lim, 4ull * K, nstep, N, (uint64_t)ctx->caps.max_wg_count[1] * ti);
    uint64_t mstep = max_u64(align_step(ctx, 4ull * K), align_step(ctx, 4ull * N));
    uint64_t mt = tile_rows(lim, 4ull * (K > N ? K : N), mstep, M, UINT32_MAX);
    if (!nt || !mt)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: a row of %u elements does not fit the %llu-byte binding limit", op,
                           K > N ? K : N, (unsigned long long)lim);
    for (uint64_t n0 = 0; n0 < N; n0 += nt) {
        uint64_t nc = N - n0 < nt ? N - n0 : nt;
        srlm_buf ws = srlm_buf_slice(dw, n0 * K * 4, nc * K * 4);
        for (uint64_t m0 = 0; m0 < M; m0 += mt) {
            uint64_t mc = M - m0 < mt ? M - m0 : mt;
            srlm_buf xs = srlm_buf_slice(x, m0 * K * 4, mc * K * 4);
            srlm_buf ys = srlm_buf_slice(dy, m0 * N * 4, mc * N * 4);
            srlm_push_matmul p = {.M = (uint32_t)mc, .N = (uint32_t)nc, .K = K, .ldy = N, .ycol = (uint32_t)n0, .flags = SRLM_MM_ACC};
            srlm_buf bufs[3] = {ws, ys, xs};
            if (cf.kernel == SRLM_MM_REGTILE) {
                uint32_t spec[4] = {cf.wg, cf.t1, cf.t2, K % 8 == 0};
                SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_MATMUL_TN_F32, spec, bufs, 3, &p, sizeof p,
                                           (uint32_t)ceil_div(K, 8ull * cf.t2 * cf.wg), (uint32_t)ceil_div(nc, cf.t1), 1));
            } else {
                uint32_t spec[6] = {cf.wg, cf.bi, cf.bj, cf.bp, cf.ti, cf.tj};
                SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_MATMUL_SM_TN_F32, spec, bufs, 3, &p, sizeof p,
                                           (uint32_t)ceil_div(K, cf.bj), (uint32_t)ceil_div(nc, cf.bi), 1));
            }
            if (db) {
                srlm_buf dbs = srlm_buf_slice(*db, n0 * 4, nc * 4);
                srlm_buf b2[2] = {dbs, ys};
                SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_MATMUL_COLSUM_F32, NULL, b2, 2, &p, sizeof p,
                                           (uint32_t)ceil_div(nc, srlm_op_table[SRLM_OP_MATMUL_COLSUM_F32].spec[0]), 1, 1));
            }
        }
    }
    return NULL;
}
