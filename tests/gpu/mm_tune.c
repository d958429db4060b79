/* mm_tune.c: a developer tool (built, not a test) timing one matmul configuration:
 *   mm_tune FORM(0 fwd|1 dX|2 dW) W(f32|f16) M N K [rt T1 T2 WG | sm BI BJ BP TI TJ]
 * Prints the best wall-clock rate and the rate per CPU second x 2 (process CPU time, llvmpipe's
 * threads included: on a loaded machine a steadier guide than wall time). Used to choose the
 * defaults recorded in docs/perf.md. */
#include "bench/bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static srlm_status run(srlm_ctx *ctx, int form, srlm_mm_wtype wt, uint32_t M, uint32_t N, uint32_t K, const srlm_mm_cfg *cfg,
                       int reps) {
    srlm_arena *ar;
    srlm_cmd *c;
    SRLM_TRY(srlm_arena_create(ctx, "tune", 0, &ar));
    SRLM_TRY(srlm_cmd_create(ctx, &c));
    uint64_t wel = (uint64_t)N * K, wb = wt == SRLM_MM_W_F16 ? (wel * 2 + 15) / 16 * 16 : wel * 4;
    uint64_t ab = 4ull * M * (form == 0 ? N : K), bb = 4ull * M * (form == 0 ? K : N);
    srlm_buf a, b, w;
    SRLM_TRY(srlm_arena_alloc(ar, ab, &a));
    SRLM_TRY(srlm_arena_alloc(ar, bb, &b));
    SRLM_TRY(srlm_arena_alloc(ar, wb, &w));
    SRLM_TRY(srlm_cmd_begin(c));
    SRLM_TRY(srlm_op_fill(c, a, ab / 4, 0.01f));
    SRLM_TRY(srlm_op_fill(c, b, bb / 4, 0.01f));
    SRLM_TRY(srlm_op_fill(c, w, wb / 4, 0.01f));
    SRLM_TRY(srlm_cmd_run(c));
    SRLM_TRY(srlm_cmd_begin(c));
    if (form == 0) SRLM_TRY(srlm_op_matmul_fwd(c, a, b, w, wt, NULL, M, N, K, 0, cfg));
    else if (form == 1) SRLM_TRY(srlm_op_matmul_bwd_inp(c, a, b, w, wt, M, N, K, 0, cfg));
    else SRLM_TRY(srlm_op_matmul_bwd_weight(c, w, NULL, b, a, M, N, K, cfg));
    SRLM_TRY(srlm_cmd_end(c));
    SRLM_TRY(srlm_cmd_run(c)); /* warm-up: JIT compile */
    double flops = 2.0 * M * N * K, best_w = 1e30, best_c = 1e30, sum_w = 0;
    for (int r = 0; r < reps; r++) {
        double w0 = srlm_bench_now(), c0 = cpu_s();
        SRLM_TRY(srlm_cmd_run(c));
        double dw = srlm_bench_now() - w0, dc = cpu_s() - c0;
        sum_w += dw;
        if (dw < best_w) best_w = dw;
        if (dc < best_c) best_c = dc;
    }
    srlm_mm_cfg r;
    srlm_mm_cfg_resolve(ctx, form, M, K, cfg, &r);
    printf("form %d %s M%u N%u K%u %s %u %u %u | wall best %.2f mean %.2f GFLOP/s | per-cpu-s x2 %.2f GFLOP/s\n", form,
           wt == SRLM_MM_W_F16 ? "f16" : "f32", M, N, K, r.kernel == SRLM_MM_REGTILE ? "rt" : r.kernel == SRLM_MM_MATVEC ? "mv" : "sm",
           r.kernel != SRLM_MM_SHARED ? r.t1 : r.bi, r.kernel != SRLM_MM_SHARED ? r.t2 : r.bj, r.wg, flops / best_w * 1e-9,
           flops / (sum_w / reps) * 1e-9, flops / (best_c / 2) * 1e-9);
    srlm_cmd_destroy(c);
    srlm_arena_destroy(ar);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: mm_tune FORM f32|f16 M N K [rt T1 T2 WG | sm BI BJ BP TI TJ]\n");
        return 2;
    }
    srlm_mm_cfg cfg = {0};
    if (argc > 6 && !strcmp(argv[6], "rt") && argc >= 10)
        cfg = (srlm_mm_cfg){.kernel = SRLM_MM_REGTILE, .t1 = atoi(argv[7]), .t2 = atoi(argv[8]), .wg = atoi(argv[9])};
    else if (argc > 6 && !strcmp(argv[6], "mv") && argc >= 10)
        cfg = (srlm_mm_cfg){.kernel = SRLM_MM_MATVEC, .t1 = atoi(argv[7]), .t2 = atoi(argv[8]), .wg = atoi(argv[9])};
    else if (argc > 6 && !strcmp(argv[6], "sm") && argc >= 12)
        cfg = (srlm_mm_cfg){.kernel = SRLM_MM_SHARED, .bi = atoi(argv[7]), .bj = atoi(argv[8]), .bp = atoi(argv[9]),
                            .ti = atoi(argv[10]), .tj = atoi(argv[11])};
    cfg.ld64 = getenv("LD64") != NULL;
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    srlm_ctx *ctx;
    srlm_status st = srlm_ctx_create(&o, &ctx);
    if (!st)
        st = run(ctx, atoi(argv[1]), !strcmp(argv[2], "f16") ? SRLM_MM_W_F16 : SRLM_MM_W_F32, (uint32_t)atoi(argv[3]),
                 (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]), &cfg, getenv("REPS") ? atoi(getenv("REPS")) : 5);
    if (st) fprintf(stderr, "mm_tune: %s\n", srlm_status_msg(st));
    int rc = st ? 1 : 0;
    srlm_status_free(st);
    srlm_ctx_destroy(ctx);
    return rc;
}
