/* bench_model.c: `srlm bench decode|prefill`: a model's decode and prefill speed through
 * the engine (the same recorded steps generation uses), peak device memory, and the fraction
 * of the device's read bandwidth (decode) or matmul rate (prefill) reached. Timing only:
 * tokens are random ids, teacher-forced, no sampling. */
#include "bench/bench.h"
#include "decode/engine.h"
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

void srlm_bench_model_opts_default(srlm_bench_model_opts *o) {
    o->batch = 1;
    o->ctx = 512;
    o->steps = 32;
    o->fill = 0;
    o->prompt = 512;
    o->dtype = SRLM_DTYPE_F16;
    o->ref_gbs = 0;
    o->ref_gflops = 0;
}

static srlm_status setup(srlm_ctx *ctx, const char *path, const srlm_bench_model_opts *o, int max_ctx, int step_tokens,
                         srlm_model **m, srlm_engine **e) {
    SRLM_TRY(srlm_model_load(ctx, path, o->dtype, m));
    srlm_engine_options eo;
    srlm_engine_options_default(&eo);
    eo.max_seqs = o->batch;
    eo.max_ctx = max_ctx;
    eo.max_step_tokens = step_tokens;
    return srlm_engine_create(*m, &eo, e);
}

static void fill_ids(int32_t *ids, size_t n, int V, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        ids[i] = (int32_t)(seed % (uint64_t)V);
    }
}

srlm_status srlm_bench_decode(srlm_ctx *ctx, FILE *out, const char *path, const srlm_bench_model_opts *o, srlm_bench_model_result *res) {
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    int B = o->batch, steps = o->steps, ctx_len = o->ctx;
    int prompt = o->fill > 0 ? o->fill : ctx_len - steps;
    if (B < 1 || steps < 1 || prompt < 1 || prompt + steps > ctx_len)
        return srlm_errorf(SRLM_ERR_INVALID, "bench decode: batch %d, steps %d, fill %d, context %d (fill + steps must fit the context)",
                           B, steps, prompt, ctx_len);
    srlm_status st = setup(ctx, path, o, ctx_len, 256 > B ? 256 : B, &m, &e);
    int V = m ? m->cfg.vocab_size : 0;
    int32_t *ids = NULL, *tok = NULL;
    int *sid = NULL, *cnt = NULL;
    if (!st) {
        ids = malloc((size_t)B * (size_t)prompt * 4), tok = malloc((size_t)B * 4);
        sid = malloc((size_t)B * sizeof *sid), cnt = malloc((size_t)B * sizeof *cnt);
        if (!ids || !tok || !sid || !cnt) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    for (int b = 0; !st && b < B; b++) {
        st = srlm_engine_seq_new(e, &sid[b]);
        cnt[b] = prompt;
    }
    if (!st) {
        fill_ids(ids, (size_t)B * (size_t)prompt, V, 7);
        st = srlm_engine_step(e, B, sid, cnt, ids, 0, NULL);
    }
    double t0 = srlm_bench_now();
    for (int s = 0; !st && s < steps; s++) {
        fill_ids(tok, (size_t)B, V, 100 + (uint64_t)s);
        for (int b = 0; b < B; b++) cnt[b] = 1;
        st = srlm_engine_step(e, B, sid, cnt, tok, 0, NULL);
    }
    double dt = srlm_bench_now() - t0;
    if (!st) {
        const srlm_model_config *c = &m->cfg;
        double weights = (double)srlm_model_weight_bytes(m);
        /* KV read per step: every sequence's cache at its average context in the timed span */
        double avg_ctx = prompt + steps / 2.0;
        double kv = (double)B * avg_ctx * c->num_hidden_layers * 2.0 * c->num_key_value_heads * c->head_dim *
                    (srlm_engine_kv_dtype(e) == SRLM_KV_F32 ? 4.0 : 2.0);
        double ms = dt * 1e3 / steps;
        double gbs = (weights + kv) / (ms * 1e6);
        double tps = (double)B * steps / dt;
        double flops = 2.0 * (double)srlm_model_param_count_of(m) * B;
        double gflops = flops / (ms * 1e6);
        fprintf(out, "srlm bench decode on %s: %s, %s weights, batch %d, context %d reserved, timed at positions %d..%d\n",
                srlm_ctx_device_name(ctx), path, srlm_dtype_name(m->wdtype), B, ctx_len, prompt, prompt + steps - 1);
        fprintf(out, "  %.2f tokens/s, %.2f ms/step, %.2f GB/s of weights+KV (%.0f MiB weights, %.1f MiB KV/step), %.2f GFLOP/s\n",
                tps, ms, gbs, weights / 1048576.0, kv / 1048576.0, gflops);
        fprintf(out, "  peak device memory %.1f MiB\n", srlm_ctx_mem_peak(ctx) / 1048576.0);
        if (o->ref_gbs > 0) fprintf(out, "  %.0f%% of the reference read rate %.2f GB/s\n", 100.0 * gbs / o->ref_gbs, o->ref_gbs);
        if (o->ref_gflops > 0)
            fprintf(out, "  %.0f%% of the reference matmul rate %.2f GFLOP/s\n", 100.0 * gflops / o->ref_gflops, o->ref_gflops);
        if (res) *res = (srlm_bench_model_result){.tokens_per_s = tps, .ms_per_step = ms, .gbs = gbs, .gflops = gflops,
                                                  .peak_bytes = srlm_ctx_mem_peak(ctx)};
    }
    free(ids), free(tok), free(sid), free(cnt);
    srlm_engine_destroy(e);
    srlm_model_destroy(m);
    return st;
}

srlm_status srlm_bench_prefill(srlm_ctx *ctx, FILE *out, const char *path, const srlm_bench_model_opts *o, srlm_bench_model_result *res) {
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    int P = o->prompt;
    if (P < 1) return srlm_errorf(SRLM_ERR_INVALID, "bench prefill: prompt %d", P);
    srlm_bench_model_opts one = *o;
    one.batch = 1;
    srlm_status st = setup(ctx, path, &one, P, P, &m, &e);
    int32_t *ids = st ? NULL : malloc((size_t)P * 4);
    if (!st && !ids) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    double best = 1e30;
    for (int rep = 0; !st && rep < 3; rep++) {
        int s;
        st = srlm_engine_seq_new(e, &s);
        if (st) break;
        fill_ids(ids, (size_t)P, m->cfg.vocab_size, 11 + (uint64_t)rep);
        double t0 = srlm_bench_now();
        st = srlm_engine_step(e, 1, &s, &P, ids, 0, NULL);
        double dt = srlm_bench_now() - t0;
        if (rep > 0 && dt < best) best = dt; /* rep 0 records the command buffer */
        srlm_engine_seq_free(e, s);
    }
    if (!st) {
        const srlm_model_config *c = &m->cfg;
        double tps = P / best;
        /* matmul work of the whole prompt (the LM head only for the last row) + attention */
        double lin = 2.0 * (double)(srlm_model_param_count_of(m) - (uint64_t)c->vocab_size * c->hidden_size) * P +
                     2.0 * (double)c->vocab_size * c->hidden_size;
        double attn = 2.0 * 2.0 * c->num_hidden_layers * c->num_attention_heads * c->head_dim * (double)P * (P + 1) / 2.0;
        double gflops = (lin + attn) / (best * 1e9);
        fprintf(out, "srlm bench prefill on %s: %s, %s weights, %d tokens\n", srlm_ctx_device_name(ctx), path,
                srlm_dtype_name(m->wdtype), P);
        fprintf(out, "  %.2f tokens/s, %.1f ms, %.2f GFLOP/s\n", tps, best * 1e3, gflops);
        fprintf(out, "  peak device memory %.1f MiB\n", srlm_ctx_mem_peak(ctx) / 1048576.0);
        if (o->ref_gflops > 0)
            fprintf(out, "  %.0f%% of the reference matmul rate %.2f GFLOP/s\n", 100.0 * gflops / o->ref_gflops, o->ref_gflops);
        if (res) *res = (srlm_bench_model_result){.tokens_per_s = tps, .ms_per_step = best * 1e3, .gflops = gflops,
                                                  .peak_bytes = srlm_ctx_mem_peak(ctx)};
    }
    free(ids);
    srlm_engine_destroy(e);
    srlm_model_destroy(m);
    return st;
}
