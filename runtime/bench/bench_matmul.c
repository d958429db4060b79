/* bench_matmul.c: `srlm bench matmul` (the f16-weight 4096x14336 shape at 1, 8, 16 and 512
 * columns, f32 at 1024^3, the Qwen2.5-0.5B shapes, the backward forms) and the matmul rows of
 * `srlm bench ops`. Timing: one recorded command buffer replayed (srlm_bench_run). Targets and
 * results are in docs/perf.md. */
#include "bench/bench.h"

#include <string.h>

typedef struct mm_arg {
    int form;
    srlm_mm_wtype wt;
    uint32_t M, N, K;
    srlm_buf a, b, w;
    const srlm_mm_cfg *cfg;
} mm_arg;

static srlm_status record_mm(srlm_cmd *c, void *arg) {
    mm_arg *a = arg;
    switch (a->form) {
    case 0: return srlm_op_matmul_fwd(c, a->a, a->b, a->w, a->wt, NULL, a->M, a->N, a->K, 0, a->cfg);
    case 1: return srlm_op_matmul_bwd_inp(c, a->a, a->b, a->w, a->wt, a->M, a->N, a->K, 0, a->cfg);
    default: return srlm_op_matmul_bwd_weight(c, a->w, NULL, a->b, a->a, a->M, a->N, a->K, a->cfg);
    }
}

static void cfg_text(const srlm_ctx *ctx, int form, uint32_t M, uint32_t K, const srlm_mm_cfg *cfg, char *s, size_t n) {
    srlm_mm_cfg r;
    srlm_mm_cfg_resolve(ctx, form, M, K, cfg, &r);
    if (r.kernel == SRLM_MM_REGTILE) snprintf(s, n, "rt%ux%u/%u", r.t1, r.t2, r.wg);
    else if (r.kernel == SRLM_MM_MATVEC) snprintf(s, n, "mv%ux%u/%u", r.t1, r.t2, r.wg);
    else snprintf(s, n, "sm%ux%ux%u/%ux%u", r.bi, r.bj, r.bp, r.ti, r.tj);
}

srlm_status srlm_bench_matmul_one(srlm_bench *b, int form, srlm_mm_wtype wt, uint32_t M, uint32_t N, uint32_t K,
                                  const srlm_mm_cfg *cfg, double *gflops) {
    mm_arg a = {.form = form, .wt = wt, .M = M, .N = N, .K = K, .cfg = cfg};
    uint64_t wel = (uint64_t)N * K, wbytes = wt == SRLM_MM_W_F16 ? (wel * 2 + 15) / 16 * 16 : wel * 4;
    /* form 0: a = Y (M,N), b = X (M,K); 1: a = dX (M,K), b = dY (M,N); 2: a = X (M,K), b = dY, w = dW */
    uint64_t abytes = 4ull * M * (form == 0 ? N : K), bbytes = 4ull * M * (form == 0 ? K : N);
    SRLM_TRY(srlm_arena_alloc(b->arena, abytes, &a.a));
    SRLM_TRY(srlm_arena_alloc(b->arena, bbytes, &a.b));
    SRLM_TRY(srlm_arena_alloc(b->arena, wbytes, &a.w));
    /* inputs: small finite values (the f32 pattern of 0.01 read as halves is finite too) */
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    SRLM_TRY(srlm_op_fill(b->cmd, a.a, abytes / 4, 0.01f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.b, bbytes / 4, 0.01f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.w, wbytes / 4, 0.01f));
    SRLM_TRY(srlm_cmd_run(b->cmd));
    static const char *forms[] = {"Y=X.W^T", "dX=dY.W", "dW+=dY^T.X"};
    char op[64], size[64], ct[48];
    cfg_text(b->ctx, form, M, K, cfg, ct, sizeof ct);
    snprintf(op, sizeof op, "%s %s %s", forms[form], wt == SRLM_MM_W_F16 ? "f16" : "f32", ct);
    snprintf(size, sizeof size, "M%u N%u K%u", M, N, K);
    uint64_t flops = 2ull * M * N * K;
    uint64_t bytes = wel * (wt == SRLM_MM_W_F16 ? 2 : 4) + abytes + bbytes;
    int inner = flops < 50000000ull ? 8 : 1;
    double ms;
    SRLM_TRY(srlm_bench_run(b, op, size, bytes, flops, inner, record_mm, &a, &ms));
    if (gflops) *gflops = (double)flops / (ms * 1e6);
    return NULL;
}

/* `srlm bench ops --only matmul`: small shapes, the default kernels. */
srlm_status srlm_bench_ops_matmul(srlm_bench *b) {
    const uint32_t s[][3] = {{1, 896, 896}, {16, 896, 896}, {128, 896, 896}};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
        SRLM_TRY(srlm_bench_matmul_one(b, 0, SRLM_MM_W_F16, s[i][0], s[i][1], s[i][2], NULL, NULL));
        srlm_arena_reset(b->arena);
    }
    return NULL;
}

srlm_status srlm_bench_matmul(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *opts, srlm_matmul_bench_result *res) {
    srlm_matmul_bench_result r;
    memset(&r, 0, sizeof r);
    srlm_bench b;
    srlm_status st = srlm_bench_begin(ctx, out, opts, &b);
    if (st) { srlm_bench_end(&b); return st; }
    int quick = b.opts.quick;
    /* llama.cpp's meaning of "4096x14336": a weight of K = 4096 inputs by N = 14336 outputs */
    uint32_t K = quick ? 1024 : 4096, N = quick ? 2048 : 14336;
    srlm_bench_header(&b, "srlm bench matmul");
    fprintf(out, "f16 weights (N,K) = (%u,%u): K = %u inputs, N = %u outputs; GFLOP/s = 2*M*N*K / time%s\n", N, K, K, N,
            quick ? " (--quick: smaller shape)" : "");
    const uint32_t cols[4] = {1, 8, 16, quick ? 64 : 512};
    for (int i = 0; i < 4 && !st; i++) {
        st = srlm_bench_matmul_one(&b, 0, SRLM_MM_W_F16, cols[i], N, K, NULL, &r.f16_gflops[i]);
        srlm_arena_reset(b.arena);
    }
    uint32_t c = quick ? 256 : 1024;
    if (!st) st = srlm_bench_matmul_one(&b, 0, SRLM_MM_W_F32, c, c, c, NULL, &r.f32_gflops);
    srlm_arena_reset(b.arena);
    if (!quick) {
        /* the Qwen2.5-0.5B projections, for the record: decode (1, 16 columns) and prefill (512) */
        const uint32_t q[][2] = {{896, 896}, {4864, 896}, {896, 4864}};
        const uint32_t qm[] = {1, 16, 512};
        for (size_t i = 0; i < 3 && !st; i++)
            for (size_t j = 0; j < 3 && !st; j++) {
                st = srlm_bench_matmul_one(&b, 0, SRLM_MM_W_F16, qm[j], q[i][0], q[i][1], NULL, NULL);
                srlm_arena_reset(b.arena);
            }
        /* the training forms at a Qwen shape */
        for (int f = 1; f < 3 && !st; f++) {
            st = srlm_bench_matmul_one(&b, f, f == 1 ? SRLM_MM_W_F16 : SRLM_MM_W_F32, 512, 4864, 896, NULL, NULL);
            srlm_arena_reset(b.arena);
        }
    }
    if (!st)
        fprintf(out, "best f16 matmul rate: 1 column %.2f, 8 columns %.2f, 16 columns %.2f, %u columns %.2f GFLOP/s; f32 %u^3 %.2f GFLOP/s\n",
                r.f16_gflops[0], r.f16_gflops[1], r.f16_gflops[2], cols[3], r.f16_gflops[3], c, r.f32_gflops);
    srlm_bench_end(&b);
    if (res) *res = r;
    return st;
}
