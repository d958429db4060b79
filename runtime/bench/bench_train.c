/* bench_train.c: `srlm bench train`: real training steps (the trainer's recorded forward /
 * backward and AdamW command buffers) on random token data, timed as separate submissions,
 * with the memory plan, the bytes actually allocated, and the fraction of the 6*params*tokens/s
 * bound at a reference matmul rate. Timing only: the data is random and nothing is saved. */
#include "bench/bench.h"
#include "train/train_model.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void srlm_bench_train_opts_default(srlm_bench_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->seq = 256;
    o->batch = 1;
    o->steps = 3;
    o->warmup = 1;
    o->recompute = 1;
}

/* CPU seconds of the whole process (every lavapipe worker thread included). */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* bench matmul's f32 rate: Y = X.W^T at 1024^3 with f32 weights, the same measurement
 * (*gflops, wall clock, best run). On a CPU device also the rate per CPU second of the same
 * kernel (*cpu_gflops; 0 elsewhere), which other processes' load does not change. */
static srlm_status f32_rate(srlm_ctx *ctx, FILE *out, int want_wall, double *gflops, double *cpu_gflops) {
    srlm_bench b;
    srlm_bench_opts bo;
    srlm_bench_opts_default(&bo);
    srlm_status st = srlm_bench_begin(ctx, out, &bo, &b);
    if (!st) srlm_bench_header(&b, "reference: bench matmul's f32 rate");
    if (!st && want_wall) st = srlm_bench_matmul_one(&b, 0, SRLM_MM_W_F32, 1024, 1024, 1024, NULL, gflops);
    *cpu_gflops = 0;
    if (!st && srlm_ctx_is_cpu(ctx)) {
        const uint32_t n = 1024;
        srlm_buf y, x, w;
        uint64_t bytes = 4ull * n * n;
        st = srlm_arena_alloc(b.arena, bytes, &y);
        if (!st) st = srlm_arena_alloc(b.arena, bytes, &x);
        if (!st) st = srlm_arena_alloc(b.arena, bytes, &w);
        if (!st) st = srlm_cmd_begin(b.cmd);
        if (!st) st = srlm_op_fill(b.cmd, x, n * n, 0.01f);
        if (!st) st = srlm_op_fill(b.cmd, w, n * n, 0.01f);
        if (!st) st = srlm_cmd_run(b.cmd);
        if (!st) st = srlm_cmd_begin(b.cmd);
        if (!st) st = srlm_op_matmul_fwd(b.cmd, y, x, w, SRLM_MM_W_F32, NULL, n, n, n, 0, NULL);
        if (!st) st = srlm_cmd_end(b.cmd);
        if (!st) st = srlm_cmd_run(b.cmd); /* warm-up */
        double c0 = cpu_now();
        for (int i = 0; !st && i < 3; i++) st = srlm_cmd_run(b.cmd);
        double dc = cpu_now() - c0;
        if (!st && dc > 0) *cpu_gflops = 3 * 2.0 * n * n * n / (dc * 1e9);
        if (!st) fprintf(out, "same kernel per CPU second of this process: %.2f GFLOP/s per core-second\n", *cpu_gflops);
    }
    srlm_bench_end(&b);
    return st;
}

static srlm_status timed(srlm_cmd *c, double *acc, double *cpu) {
    double t0 = srlm_bench_now(), c0 = cpu_now();
    SRLM_TRY(srlm_cmd_run(c));
    *acc += srlm_bench_now() - t0;
    *cpu += cpu_now() - c0;
    return NULL;
}

srlm_status srlm_bench_train(srlm_ctx *ctx, FILE *out, const char *model, const srlm_bench_train_opts *o,
                             srlm_bench_train_result *res) {
    int B = o->batch, T = o->seq, S = o->steps, W = o->warmup;
    if (B < 1 || T < 2 || S < 1 || W < 0)
        return srlm_errorf(SRLM_ERR_INVALID, "bench train: batch %d, sequence %d, steps %d, warm-up %d (sequence >= 2, "
                           "warm-up >= 0, others >= 1)", B, T, S, W);
    srlm_train_model *tm = NULL;
    srlm_cmd *fwd = NULL, *fb = NULL, *opt = NULL;
    int32_t *ids = NULL, *tg = NULL, *pos = NULL, *seg = NULL;
    float *w = NULL, *loss = NULL;
    srlm_status st = srlm_train_model_create(ctx, model, B, T, o->recompute, &tm);
    srlm_train_plan plan;
    size_t N = (size_t)B * (size_t)T;
    if (!st) {
        srlm_train_plan_make(&tm->cfg, ctx, B, T, o->recompute, &plan);
        fprintf(out, "srlm bench train on %s: %s, batch %d x sequence %d, %d steps after %d warm-up, recompute %d\n",
                srlm_ctx_device_name(ctx), model, B, T, S, W, o->recompute);
        srlm_train_plan_print(&plan, srlm_ctx_mem_budget(ctx), out);
        ids = malloc(N * 4), tg = malloc(N * 4), pos = malloc(N * 4), seg = calloc(N, 4), w = malloc(N * 4), loss = malloc(N * 4);
        if (!ids || !tg || !pos || !seg || !w || !loss) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    if (!st) {
        /* random ids; each position predicts the next one; the mean over all predictions */
        uint64_t s = 0x9e3779b97f4a7c15ull;
        for (size_t i = 0; i < N; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            ids[i] = (int32_t)(s % (uint64_t)tm->cfg.vocab_size);
        }
        for (size_t i = 0; i < N; i++) {
            int t = (int)(i % (size_t)T);
            pos[i] = t;
            tg[i] = t + 1 < T ? ids[i + 1] : -100;
            w[i] = t + 1 < T ? 1.0f / (float)((size_t)B * (size_t)(T - 1)) : 0.0f;
        }
        uint64_t n = N * 4;
        st = srlm_buf_write(ctx, tm->ids, 0, ids, n);
        if (!st) st = srlm_buf_write(ctx, tm->targets, 0, tg, n);
        if (!st) st = srlm_buf_write(ctx, tm->weights, 0, w, n);
        if (!st) st = srlm_buf_write(ctx, tm->pos, 0, pos, n);
        if (!st) st = srlm_buf_write(ctx, tm->seg, 0, seg, n);
    }
    /* the trainer's three command buffers: forward only (to time the forward alone), forward
     * + backward (gradients accumulate), and clip + AdamW + zeroing the gradients */
    if (!st) st = srlm_cmd_create(ctx, &fwd);
    if (!st) st = srlm_cmd_create(ctx, &fb);
    if (!st) st = srlm_cmd_create(ctx, &opt);
    if (!st) st = srlm_cmd_begin(fwd);
    if (!st) st = srlm_train_record_fwd(fwd, tm);
    if (!st) st = srlm_cmd_end(fwd);
    if (!st) st = srlm_cmd_begin(fb);
    if (!st) st = srlm_train_record_fwdbwd(fb, tm);
    if (!st) st = srlm_cmd_end(fb);
    if (!st) st = srlm_cmd_begin(opt);
    if (!st) st = srlm_train_record_step(opt, tm, 0.9f, 0.999f, 1e-8f, 1.0f);
    if (!st) st = srlm_train_zero_grads(opt, tm);
    if (!st) st = srlm_cmd_end(opt);
    double tf = 0, tfb = 0, to = 0, cpu_step = 0, first = 0, last = 0;
    /* the first W steps warm up (first submission of each buffer) and are not counted */
    for (int step = 0; !st && step < W + S; step++) {
        float hp[SRLM_ADAMW_PARAM_FLOATS];
        srlm_adamw_params(hp, 1e-4f, 0.9f, 0.999f, 0.0f, step + 1, 1.0f);
        st = srlm_buf_write(ctx, tm->hp, 0, hp, sizeof hp);
        double f = 0, fbt = 0, ot = 0, cf = 0, cs = 0;
        if (!st) st = timed(fwd, &f, &cf);
        if (!st) st = timed(fb, &fbt, &cs);
        if (!st) st = srlm_buf_read(ctx, tm->loss, 0, loss, N * 4);
        if (!st) st = timed(opt, &ot, &cs);
        if (st) break;
        double l = 0;
        for (size_t i = 0; i < N; i++) l += loss[i];
        if (step == 0) first = l;
        last = l;
        if (step >= W) tf += f, tfb += fbt, to += ot, cpu_step += cs;
        fprintf(out, "  step %d%s: loss %.4f, forward %.1f ms, forward+backward %.1f ms, optimizer %.1f ms\n", step,
                step < W ? " (warm-up)" : "", l, f * 1e3, fbt * 1e3, ot * 1e3);
    }
    uint64_t peak = srlm_ctx_mem_peak(ctx); /* before the reference measurement's buffers */
    double ref = o->ref_gflops, cpu_ref = 0;
    if (!st) st = f32_rate(ctx, out, ref <= 0, &ref, &cpu_ref);
    if (!st) {
        double fwd_ms = tf * 1e3 / S, fb_ms = tfb * 1e3 / S, opt_ms = to * 1e3 / S;
        double bwd_ms = fb_ms - fwd_ms, step_ms = fb_ms + opt_ms;
        double tps = (double)N / (step_ms * 1e-3);
        double params = (double)srlm_model_param_count(&tm->cfg);
        double gflops = 6.0 * params * tps / 1e9;
        uint64_t fixed = srlm_model_weight_bytes(tm->w) + srlm_model_weight_bytes(tm->g) + srlm_model_weight_bytes(tm->m1) +
                         srlm_model_weight_bytes(tm->m2),
                 used = 0;
        for (int i = 0; i < tm->arena->nchunks; i++) used += tm->arena->chunks[i].used;
        uint64_t alloc = fixed + used;
        const double M = 1048576.0;
        fprintf(out, "result (mean of %d timed steps; loss %.4f -> %.4f):\n", S, first, last);
        fprintf(out, "  tokens/s                %10.2f  (%zu tokens per step)\n", tps, N);
        fprintf(out, "  step time               %10.1f ms\n", step_ms);
        fprintf(out, "    forward               %10.1f ms  (forward-only submission, loss included)\n", fwd_ms);
        fprintf(out, "    backward              %10.1f ms  (forward+backward submission minus forward%s)\n", bwd_ms,
                o->recompute ? "; includes the per-block recomputation" : "");
        fprintf(out, "    optimizer             %10.1f ms  (clip + AdamW + zero gradients)\n", opt_ms);
        fprintf(out, "  device memory allocated %10.1f MiB  (weights, gradients, moments %.1f + activations %.1f; plan %.1f)\n",
                alloc / M, fixed / M, used / M, plan.total / M);
        fprintf(out, "  device memory peak      %10.1f MiB  (context high-water mark: the arena reserves %.1f MiB chunks)\n",
                peak / M, srlm_arena_bytes(tm->arena) / M);
        fprintf(out, "  parameters              %10.0f  -> 6*params*tokens/s = %.2f GFLOP/s\n", params, gflops);
        fprintf(out, "  reference matmul rate   %10.2f GFLOP/s%s\n", ref, o->ref_gflops > 0 ? " (given)" : " (measured, f32 1024^3)");
        fprintf(out, "  fraction of the bound   %10.3f  (target >= 0.333)\n", gflops / ref);
        double cpu_frac = 0;
        if (cpu_ref > 0 && cpu_step > 0) {
            /* the step's work per CPU second against the reference kernel's: a CPU device shares
             * the cores with whatever else runs, and this ratio does not depend on that load */
            double cpu_gflops = 6.0 * params * (double)N * S / (cpu_step * 1e9);
            cpu_frac = cpu_gflops / cpu_ref;
            fprintf(out, "  by CPU time (lavapipe)  %10.3f  (6*params*tokens per CPU second of the step, %.3f, over the\n"
                         "                                     reference's %.3f: independent of other processes' load)\n",
                    cpu_frac, cpu_gflops, cpu_ref);
        }
        if (res)
            *res = (srlm_bench_train_result){.tokens_per_s = tps, .step_ms = step_ms, .forward_ms = fwd_ms, .backward_ms = bwd_ms,
                                             .optimizer_ms = opt_ms, .gflops = gflops, .ref_gflops = ref,
                                             .bound_fraction = gflops / ref, .cpu_bound_fraction = cpu_frac, .allocated_bytes = alloc,
                                             .peak_bytes = peak, .plan_bytes = plan.total};
    }
    free(ids), free(tg), free(pos), free(seg), free(w), free(loss);
    srlm_cmd_destroy(fwd), srlm_cmd_destroy(fb), srlm_cmd_destroy(opt);
    srlm_train_model_destroy(tm);
    return st;
}
