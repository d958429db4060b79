/* ops_loss.c: host bindings of shaders/crossentropy.comp and kl.comp: the loss over logits
 * tiled over the vocabulary and over rows so that no binding passes the binding limit. Not
 * the training loop: the caller computes logits for a chunk of tokens, records these, then
 * backpropagates the gradient they leave in place. */
#include "ops/ops.h"

/* The tiling of an (N,V) call: TV columns per tile, T tiles per row, windows of R rows x VW
 * columns (VW a multiple of TV, or V), RF rows per one-invocation-per-row dispatch. */
typedef struct tiling {
    uint64_t TV, T, R, VW, RF;
} tiling;

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static srlm_status make_tiling(const srlm_ctx *ctx, const char *what, int N, int V, uint64_t stat_bytes, tiling *t) {
    if (N < 0 || V <= 0) return srlm_errorf(SRLM_ERR_INVALID, "%s: shape (%d,%d)", what, N, V);
    uint64_t lim = srlm_ops_binding_limit(ctx), room = 2 * srlm_ops_align(ctx) + 4;
    uint64_t cap = lim > room ? (lim - room) / 4 : 0; /* floats per window */
    if (cap == 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: binding limit %llu too small", what, (unsigned long long)lim);
    /* the tile width depends on V and the limit only, so the partials (and the bits) are the
     * same for any window size that holds a tile */
    t->TV = cap < SRLM_LOSS_TILE ? cap : SRLM_LOSS_TILE;
    t->T = ((uint64_t)V + t->TV - 1) / t->TV;
    if ((uint64_t)V <= cap) {
        t->VW = (uint64_t)V;
        t->R = cap / (uint64_t)V;
    } else {
        t->VW = cap / t->TV * t->TV;
        t->R = 1;
    }
    uint64_t gx = ctx->caps.max_wg_count[0] < 65535 ? ctx->caps.max_wg_count[0] : 65535;
    if (t->VW > gx * t->TV) t->VW = gx * t->TV; /* one workgroup per tile of a window */
    uint64_t rs = cap * 4 / (t->T * stat_bytes); /* rows whose tile statistics fit a window */
    if (rs == 0)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: the %llu tile statistics of a row of %d do not fit the %llu-byte binding limit",
                           what, (unsigned long long)t->T, V, (unsigned long long)lim);
    if (t->R > rs) t->R = rs;
    uint64_t gy = ctx->caps.max_wg_count[1] < 65535 ? ctx->caps.max_wg_count[1] : 65535;
    if (t->R > gy) t->R = gy;
    t->RF = rs;
    if (t->RF > gx * 64) t->RF = gx * 64;
    return NULL;
}

static srlm_status check_buf(const char *what, const char *name, srlm_buf b, uint64_t bytes) {
    if (b.size < bytes)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: %s holds %llu bytes, needs %llu", what, name, (unsigned long long)b.size,
                           (unsigned long long)bytes);
    return NULL;
}

/* Scratch regions, each aligned so the windows of one never reach into another. */
static uint64_t region(const srlm_ctx *ctx, uint64_t bytes) { return align_up(bytes ? bytes : 4, srlm_ops_align(ctx)); }

uint64_t srlm_op_crossentropy_scratch_bytes(const srlm_ctx *ctx, int N, int V) {
    tiling t;
    srlm_status st = make_tiling(ctx, "crossentropy", N, V, 16, &t);
    if (st) {
        srlm_status_free(st);
        return 4;
    }
    return region(ctx, (uint64_t)N * t.T * 16) + region(ctx, (uint64_t)N * 4);
}

uint64_t srlm_op_kl_scratch_bytes(const srlm_ctx *ctx, int N, int V) {
    tiling t;
    srlm_status st = make_tiling(ctx, "kl", N, V, 16, &t);
    if (st) {
        srlm_status_free(st);
        return 4;
    }
    return region(ctx, (uint64_t)N * t.T * 16) + region(ctx, (uint64_t)N * t.T * 4) + region(ctx, (uint64_t)N * 16);
}

/* One binding of a tiled dispatch: a row-major (rows, cols) buffer windowed at (r0, v0), or
 * a per-row buffer of `elem` bytes per row (per tile when tiles is set) windowed at r0, or
 * (B_ROWK) `elem` 4-byte elements per row, windowed at r0 with a base in elements. */
enum { B_MAT, B_ROW, B_TILE, B_ROWK };
typedef struct bind {
    srlm_buf buf;
    int kind;
    uint64_t elem; /* bytes per element (B_ROW, B_TILE) */
} bind;

static srlm_buf window(const srlm_ctx *ctx, const tiling *t, bind b, int V, uint64_t r0, uint64_t k, uint64_t v0,
                       uint64_t vw, uint32_t *base) {
    switch (b.kind) {
    case B_MAT: return srlm_ops_window(ctx, b.buf, 4, r0 * (uint64_t)V + v0, (k - 1) * (uint64_t)V + vw, base);
    case B_TILE: return srlm_ops_window(ctx, b.buf, b.elem, r0 * t->T, k * t->T, base);
    case B_ROWK: return srlm_ops_window(ctx, b.buf, 4, r0 * b.elem, k * b.elem, base);
    default: return srlm_ops_window(ctx, b.buf, b.elem, r0, k, base);
    }
}

/* Records op over every (row block, column window) with one workgroup per (tile, row). K > 0:
 * the push constants are srlm_push_kl_topk (srlm_push_loss then K). */
static srlm_status tiled(srlm_cmd *c, int op, const tiling *t, const bind *bs, int nb, int N, int V, float k, float scale,
                         uint32_t mode, uint32_t K) {
    uint32_t spec[1] = {srlm_ops_row_wg(c->ctx)};
    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += t->R) {
        uint64_t kr = (uint64_t)N - r0 < t->R ? (uint64_t)N - r0 : t->R;
        for (uint64_t v0 = 0; v0 < (uint64_t)V; v0 += t->VW) {
            uint64_t vw = (uint64_t)V - v0 < t->VW ? (uint64_t)V - v0 : t->VW;
            srlm_push_kl_topk p = {.l = {.N = (uint32_t)kr, .V = (uint32_t)V, .TV = (uint32_t)t->TV, .T = (uint32_t)t->T,
                                         .v0 = (uint32_t)v0, .vw = (uint32_t)vw, .k = k, .scale = scale, .mode = mode},
                                   .K = K};
            srlm_buf w[8];
            for (int i = 0; i < nb; i++) w[i] = window(c->ctx, t, bs[i], V, r0, kr, v0, vw, &p.l.b[i]);
            uint32_t gx = (uint32_t)((vw + t->TV - 1) / t->TV);
            SRLM_TRY(srlm_cmd_dispatch(c, op, spec, w, nb, &p, K ? sizeof p : sizeof p.l, gx, (uint32_t)kr, 1));
        }
    }
    return NULL;
}

/* Records op over row blocks with one invocation per row. */
static srlm_status per_row(srlm_cmd *c, int op, const tiling *t, const bind *bs, int nb, int N, int V, float k, uint32_t mode,
                           uint32_t K) {
    uint32_t wg = srlm_op_table[op].spec[0];
    for (uint64_t r0 = 0; r0 < (uint64_t)N; r0 += t->RF) {
        uint64_t kr = (uint64_t)N - r0 < t->RF ? (uint64_t)N - r0 : t->RF;
        srlm_push_kl_topk p = {.l = {.N = (uint32_t)kr, .V = (uint32_t)V, .TV = (uint32_t)t->TV, .T = (uint32_t)t->T, .k = k,
                                     .mode = mode},
                               .K = K};
        srlm_buf w[8];
        for (int i = 0; i < nb; i++) w[i] = window(c->ctx, t, bs[i], V, r0, kr, 0, 0, &p.l.b[i]);
        SRLM_TRY(srlm_cmd_dispatch(c, op, NULL, w, nb, &p, K ? sizeof p : sizeof p.l, (uint32_t)((kr + wg - 1) / wg), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_crossentropy(srlm_cmd *c, srlm_buf loss, srlm_buf logprob, srlm_buf entropy, srlm_buf scratch,
                                 srlm_buf logits, srlm_buf targets, srlm_buf weights, int N, int V, float inv_temp,
                                 float scale, int grad) {
    const char *what = "crossentropy";
    tiling t;
    SRLM_TRY(make_tiling(c->ctx, what, N, V, 16, &t));
    uint64_t n = (uint64_t)N;
    SRLM_TRY(check_buf(what, "logits", logits, n * (uint64_t)V * 4));
    SRLM_TRY(check_buf(what, "targets", targets, n * 4));
    SRLM_TRY(check_buf(what, "weights", weights, n * 4));
    SRLM_TRY(check_buf(what, "loss", loss, n * 4));
    SRLM_TRY(check_buf(what, "logprob", logprob, n * 4));
    SRLM_TRY(check_buf(what, "entropy", entropy, n * 4));
    SRLM_TRY(check_buf(what, "scratch", scratch, srlm_op_crossentropy_scratch_bytes(c->ctx, N, V)));
    if (N == 0) return NULL;
    uint64_t sb = region(c->ctx, n * t.T * 16);
    srlm_buf stats = srlm_buf_slice(scratch, 0, n * t.T * 16), lse = srlm_buf_slice(scratch, sb, n * 4);
    bind s[3] = {{stats, B_TILE, 16}, {logits, B_MAT, 4}, {targets, B_ROW, 4}};
    SRLM_TRY(tiled(c, SRLM_OP_CROSSENTROPY_STATS_F32, &t, s, 3, N, V, inv_temp, scale, 0, 0));
    bind f[7] = {{loss, B_ROW, 4},  {logprob, B_ROW, 4}, {entropy, B_ROW, 4}, {lse, B_ROW, 4},
                 {stats, B_TILE, 16}, {targets, B_ROW, 4}, {weights, B_ROW, 4}};
    SRLM_TRY(per_row(c, SRLM_OP_CROSSENTROPY_FINAL_F32, &t, f, 7, N, V, 0.0f, 0, 0));
    if (!grad) return NULL;
    bind g[4] = {{logits, B_MAT, 4}, {lse, B_ROW, 4}, {targets, B_ROW, 4}, {weights, B_ROW, 4}};
    return tiled(c, SRLM_OP_CROSSENTROPY_GRAD_F32, &t, g, 4, N, V, inv_temp, scale, 0, 0);
}

srlm_status srlm_op_kl(srlm_cmd *c, srlm_buf kl, srlm_buf scratch, srlm_buf student, srlm_buf teacher, srlm_buf weights,
                       int N, int V, float tau, int dir, float scale, int grad) {
    const char *what = "kl";
    if (!(tau > 0.0f)) return srlm_errorf(SRLM_ERR_INVALID, "%s: temperature %g is not positive", what, (double)tau);
    if (dir != 0 && dir != 1) return srlm_errorf(SRLM_ERR_INVALID, "%s: direction %d (0 forward, 1 reverse)", what, dir);
    tiling t;
    SRLM_TRY(make_tiling(c->ctx, what, N, V, 16, &t));
    uint64_t n = (uint64_t)N;
    SRLM_TRY(check_buf(what, "student", student, n * (uint64_t)V * 4));
    SRLM_TRY(check_buf(what, "teacher", teacher, n * (uint64_t)V * 4));
    SRLM_TRY(check_buf(what, "weights", weights, n * 4));
    SRLM_TRY(check_buf(what, "kl", kl, n * 4));
    SRLM_TRY(check_buf(what, "scratch", scratch, srlm_op_kl_scratch_bytes(c->ctx, N, V)));
    if (N == 0) return NULL;
    uint64_t o1 = region(c->ctx, n * t.T * 16), o2 = o1 + region(c->ctx, n * t.T * 4);
    srlm_buf stats = srlm_buf_slice(scratch, 0, n * t.T * 16), part = srlm_buf_slice(scratch, o1, n * t.T * 4),
             rs = srlm_buf_slice(scratch, o2, n * 16);
    float k = 1.0f / tau;
    bind s[3] = {{stats, B_TILE, 16}, {student, B_MAT, 4}, {teacher, B_MAT, 4}};
    SRLM_TRY(tiled(c, SRLM_OP_KL_STATS_F32, &t, s, 3, N, V, k, scale, (uint32_t)dir, 0));
    bind r[2] = {{rs, B_ROW, 16}, {stats, B_TILE, 16}};
    SRLM_TRY(per_row(c, SRLM_OP_KL_ROW_F32, &t, r, 2, N, V, 0.0f, 0, 0));
    bind d[4] = {{part, B_TILE, 4}, {student, B_MAT, 4}, {teacher, B_MAT, 4}, {rs, B_ROW, 16}};
    SRLM_TRY(tiled(c, SRLM_OP_KL_DIV_F32, &t, d, 4, N, V, k, scale, (uint32_t)dir, 0));
    bind u[3] = {{kl, B_ROW, 4}, {rs, B_ROW, 16}, {part, B_TILE, 4}};
    SRLM_TRY(per_row(c, SRLM_OP_KL_SUM_F32, &t, u, 3, N, V, 0.0f, 0, 0));
    if (!grad) return NULL;
    bind g[4] = {{student, B_MAT, 4}, {teacher, B_MAT, 4}, {rs, B_ROW, 16}, {weights, B_ROW, 4}};
    return tiled(c, SRLM_OP_KL_GRAD_F32, &t, g, 4, N, V, k, scale, (uint32_t)dir, 0);
}

uint64_t srlm_op_kl_topk_scratch_bytes(const srlm_ctx *ctx, int N, int V, int K) {
    tiling t;
    srlm_status st = make_tiling(ctx, "kl_topk", N, V, 8, &t);
    if (st) {
        srlm_status_free(st);
        return 4;
    }
    return region(ctx, (uint64_t)N * t.T * 8) + region(ctx, (uint64_t)N * (uint64_t)K * 4) + region(ctx, (uint64_t)N * 16);
}

srlm_status srlm_op_kl_topk(srlm_cmd *c, srlm_buf kl, srlm_buf scratch, srlm_buf student, srlm_buf ids, srlm_buf tlogp,
                            srlm_buf weights, int N, int V, int K, float tau, int dir, float scale, int grad) {
    const char *what = "kl_topk";
    if (!(tau > 0.0f)) return srlm_errorf(SRLM_ERR_INVALID, "%s: temperature %g is not positive", what, (double)tau);
    if (dir != 0 && dir != 1) return srlm_errorf(SRLM_ERR_INVALID, "%s: direction %d (0 forward, 1 reverse)", what, dir);
    if (K < 1 || K > V) return srlm_errorf(SRLM_ERR_INVALID, "%s: K = %d for a vocabulary of %d", what, K, V);
    tiling t;
    SRLM_TRY(make_tiling(c->ctx, what, N, V, 8, &t));
    /* the (rows, K) windows must fit a binding too */
    uint64_t lim = srlm_ops_binding_limit(c->ctx), room = 2 * srlm_ops_align(c->ctx) + 4;
    uint64_t rk = lim > room ? (lim - room) / (4 * (uint64_t)K) : 0;
    if (rk == 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: %d entries per row do not fit the binding limit", what, K);
    if (t.R > rk) t.R = rk;
    if (t.RF > rk) t.RF = rk;
    uint64_t n = (uint64_t)N, nk = n * (uint64_t)K;
    SRLM_TRY(check_buf(what, "student", student, n * (uint64_t)V * 4));
    SRLM_TRY(check_buf(what, "ids", ids, nk * 4));
    SRLM_TRY(check_buf(what, "tlogp", tlogp, nk * 4));
    SRLM_TRY(check_buf(what, "weights", weights, n * 4));
    SRLM_TRY(check_buf(what, "kl", kl, n * 4));
    SRLM_TRY(check_buf(what, "scratch", scratch, srlm_op_kl_topk_scratch_bytes(c->ctx, N, V, K)));
    if (N == 0) return NULL;
    uint64_t o1 = region(c->ctx, n * t.T * 8), o2 = o1 + region(c->ctx, nk * 4);
    srlm_buf stats = srlm_buf_slice(scratch, 0, n * t.T * 8), sk = srlm_buf_slice(scratch, o1, nk * 4),
             rs = srlm_buf_slice(scratch, o2, n * 16);
    float k = 1.0f / tau;
    uint32_t uk = (uint32_t)K, m = (uint32_t)dir;
    bind s[4] = {{stats, B_TILE, 8}, {student, B_MAT, 4}, {ids, B_ROWK, uk}, {sk, B_ROWK, uk}};
    SRLM_TRY(tiled(c, SRLM_OP_KL_TOPK_STATS_F32, &t, s, 4, N, V, k, scale, m, uk));
    bind r[6] = {{kl, B_ROW, 4}, {rs, B_ROW, 16}, {stats, B_TILE, 8}, {sk, B_ROWK, uk}, {tlogp, B_ROWK, uk}, {ids, B_ROWK, uk}};
    SRLM_TRY(per_row(c, SRLM_OP_KL_TOPK_ROW_F32, &t, r, 6, N, V, k, m, uk));
    if (!grad) return NULL;
    bind g[3] = {{student, B_MAT, 4}, {rs, B_ROW, 16}, {weights, B_ROW, 4}};
    SRLM_TRY(tiled(c, SRLM_OP_KL_TOPK_GRAD_REST_F32, &t, g, 3, N, V, k, scale, m, uk));
    bind h[6] = {{student, B_MAT, 4}, {rs, B_ROW, 16}, {weights, B_ROW, 4}, {ids, B_ROWK, uk}, {sk, B_ROWK, uk}, {tlogp, B_ROWK, uk}};
    return tiled(c, SRLM_OP_KL_TOPK_GRAD_TOP_F32, &t, h, 6, N, V, k, scale, m, uk);
}
