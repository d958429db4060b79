/* generate.c: batched generation: prefill every prompt in one step, then one decode step per
 * token for all live sequences together; sampling per sequence (sampler.c), streaming text
 * that never shows a broken UTF-8 character or the start of a stop string. Not the
 * text-to-SQL loop (sql/), which adds execution pauses on top of the same engine. */
#include "decode/engine.h"
#include "decode/sampler.h"
#include "decode/tagmatch.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct gen_seq {
    int id;                    /* engine sequence */
    bool live;
    int32_t *hist;             /* prompt + generated ids */
    size_t n_hist, cap_hist;
    size_t n_prompt;
    size_t n_cached;           /* prompt tokens already in the cache (continue) */
    bool keep;                 /* an existing sequence: not freed at the end */
    char *text;                /* generated text */
    size_t n_text, cap_text, emitted;
    srlm_detokenizer *detok;
    srlm_tagmatch *stops;
} gen_seq;

static srlm_status result_push(srlm_gen_result *r, size_t *cap, const srlm_sample_out *o) {
    if (r->n_tokens == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        int32_t *t = realloc(r->tokens, c * sizeof *t);
        if (t) r->tokens = t;
        float *a = realloc(r->logprob, c * sizeof *a);
        if (a) r->logprob = a;
        float *b = realloc(r->logprob_sampled, c * sizeof *b);
        if (b) r->logprob_sampled = b;
        float *h = realloc(r->entropy, c * sizeof *h);
        if (h) r->entropy = h;
        if (!t || !a || !b || !h) return srlm_errorf(SRLM_ERR_OOM, "out of host memory during generation");
        *cap = c;
    }
    r->tokens[r->n_tokens] = o->token;
    r->logprob[r->n_tokens] = o->logprob;
    r->logprob_sampled[r->n_tokens] = o->logprob_sampled;
    r->entropy[r->n_tokens] = o->entropy;
    r->n_tokens++;
    return NULL;
}

/* Appends decoded bytes, checks stop strings, streams what is safe. Returns true when a
 * stop string ended the sequence. */
static srlm_status add_text(gen_seq *g, int index, const char *b, size_t n, srlm_gen_stream_fn stream, void *user, bool *stopped) {
    *stopped = false;
    if (!n) return NULL;
    SRLM_TRY(srlm_grow((void **)&g->text, &g->cap_text, g->n_text + n + 1, 1, "during generation"));
    size_t base = g->n_text;
    memcpy(g->text + base, b, n);
    g->n_text += n;
    g->text[g->n_text] = 0;
    size_t safe = g->n_text;
    if (g->stops) {
        srlm_tagmatch_result r = srlm_tagmatch_feed(g->stops, b, n);
        if (r.pattern >= 0) {
            g->n_text = (size_t)r.match_start;
            g->text[g->n_text] = 0;
            *stopped = true;
            safe = g->n_text;
        } else {
            safe = (size_t)r.safe_end;
        }
    }
    if (stream && safe > g->emitted) stream(user, index, g->text + g->emitted, safe - g->emitted);
    if (safe > g->emitted) g->emitted = safe;
    return NULL;
}

static void flush_text(gen_seq *g, int index, srlm_gen_stream_fn stream, void *user, bool stopped_by_string) {
    if (!stopped_by_string && g->detok) {
        const char *t;
        size_t n;
        if (!srlm_detokenizer_flush(g->detok, &t, &n) && n) {
            bool dummy;
            srlm_status st = add_text(g, index, t, n, NULL, NULL, &dummy);
            srlm_status_free(st);
        }
    }
    if (stream && g->n_text > g->emitted) stream(user, index, g->text + g->emitted, g->n_text - g->emitted);
    g->emitted = g->n_text;
}

/* Device selection for the rows of a step (sequence indices rows[0..nrows)): the k every row
 * can be sampled from, or 0 when some row needs its full logits. */
static int step_select_k(srlm_engine *e, const gen_seq *gs, const int *rows, int nrows, const srlm_sample_params *params, int V,
                         float *invt) {
    int max_k = srlm_engine_select_max_k(e), k = 0;
    for (int r = 0; r < nrows && max_k > 0; r++) {
        const srlm_sample_params *p = &params[rows[r]];
        int need = srlm_sampler_select_k(p, gs[rows[r]].n_hist, V, max_k);
        if (need < 1) return 0;
        k = need > k ? need : k;
        invt[r] = p->temperature == 0.0f ? 1.0f : 1.0f / p->temperature; /* the sampler's y */
    }
    return k;
}

void srlm_gen_result_free(srlm_gen_result *r) {
    if (!r) return;
    free(r->tokens), free(r->logprob), free(r->logprob_sampled), free(r->entropy), free(r->text);
    memset(r, 0, sizeof *r);
}

/* The generation loop. seq_in: NULL, or one existing sequence per prompt whose cache holds a
 * prefix of it (only the rest is prefilled; the sequence is kept at the end). */
static srlm_status generate(srlm_engine *e, const srlm_tokenizer *tok, int n, const int32_t *const *prompts,
                            const size_t *n_prompts, const srlm_sample_params *params, srlm_gen_stream_fn stream, void *user,
                            srlm_gen_result *results, srlm_gen_stats *stats, const int *seq_in) {
    const srlm_model *m = srlm_engine_model(e);
    int V = m->cfg.vocab_size;
    if (n < 1 || n > srlm_engine_max_seqs(e))
        return srlm_errorf(SRLM_ERR_INVALID, "generate: %d prompts for an engine of %d sequences", n, srlm_engine_max_seqs(e));
    for (int i = 0; i < n; i++) {
        SRLM_TRY(srlm_sample_params_check(&params[i]));
        if (n_prompts[i] < 1) return srlm_errorf(SRLM_ERR_INVALID, "generate: prompt %d is empty", i);
        if ((int)n_prompts[i] >= srlm_engine_max_ctx(e))
            return srlm_errorf(SRLM_ERR_INVALID, "generate: prompt %d has %zu tokens, the context holds %d", i, n_prompts[i],
                               srlm_engine_max_ctx(e));
    }
    memset(results, 0, (size_t)n * sizeof *results);
    gen_seq *gs = calloc((size_t)n, sizeof *gs);
    size_t *caps = calloc((size_t)n, sizeof *caps);
    int *ids = calloc((size_t)n, sizeof *ids), *counts = calloc((size_t)n, sizeof *counts), *rows = calloc((size_t)n, sizeof *rows);
    int32_t *toks = calloc((size_t)n, sizeof *toks);
    float *logits = malloc((size_t)n * (size_t)V * sizeof(float));
    /* device selection per row: best ids, their logits, {lse, entropy}, 1/temperature */
    int32_t *sel_ids = malloc((size_t)n * SRLM_LOGIT_TOPK_MAX * sizeof(int32_t));
    float *sel_x = malloc((size_t)n * SRLM_LOGIT_TOPK_MAX * sizeof(float)), *sel_st = malloc((size_t)n * 2 * sizeof(float));
    float *invt = malloc((size_t)n * sizeof(float));
    int sel_k = 0;
    srlm_sample_seq *ss = calloc((size_t)n, sizeof *ss);
    srlm_sample_out *so = calloc((size_t)n, sizeof *so);
    srlm_sampler *sampler = NULL;
    srlm_status st = NULL;
    if (!gs || !caps || !ids || !counts || !rows || !toks || !logits || !ss || !so || !sel_ids || !sel_x || !sel_st || !invt)
        st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for generation");
    if (!st) st = srlm_sampler_create(V, &sampler);
    size_t total_prompt = 0;
    for (int i = 0; !st && i < n; i++) {
        gen_seq *g = &gs[i];
        g->id = -1;
        st = srlm_grow((void **)&g->hist, &g->cap_hist, n_prompts[i] + 64, sizeof(int32_t), "during generation");
        if (st) break;
        memcpy(g->hist, prompts[i], n_prompts[i] * sizeof(int32_t));
        g->n_hist = g->n_prompt = n_prompts[i];
        total_prompt += n_prompts[i]; /* an upper bound of the new tokens */
        if (tok) st = srlm_detokenizer_create(tok, SRLM_DECODE_SKIP_SPECIAL, &g->detok);
        if (!st && params[i].n_stop_strings > 0)
            st = srlm_tagmatch_create(params[i].stop_strings, NULL, params[i].n_stop_strings, &g->stops);
        if (!st && seq_in) {
            int c = srlm_engine_seq_len(e, seq_in[i]);
            if (c < 0) st = srlm_errorf(SRLM_ERR_INVALID, "generate: sequence %d does not exist", seq_in[i]);
            else if ((size_t)c >= n_prompts[i])
                st = srlm_errorf(SRLM_ERR_INVALID, "generate: sequence %d already caches %d of the %zu tokens given (nothing new)",
                                 seq_in[i], c, n_prompts[i]);
            else g->n_cached = (size_t)c;
        } else if (!st) {
            st = srlm_engine_seq_new(e, &g->id);
        }
        g->live = true;
    }
    if (!st && seq_in)
        for (int i = 0; i < n; i++) gs[i].id = seq_in[i], gs[i].keep = true;
    /* prefill: every prompt in one step */
    int32_t *flat = st ? NULL : malloc(total_prompt * sizeof(int32_t));
    if (!st && !flat) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for prompts");
    double t0 = now_s();
    if (!st) {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            size_t c = gs[i].n_cached, k = n_prompts[i] - c;
            memcpy(flat + off, prompts[i] + c, k * sizeof(int32_t));
            off += k;
            ids[i] = gs[i].id;
            counts[i] = (int)k;
            rows[i] = i;
        }
        sel_k = step_select_k(e, gs, rows, n, params, V, invt);
        st = sel_k ? srlm_engine_step_select(e, n, ids, counts, flat, sel_k, invt, sel_ids, sel_x, sel_st)
                   : srlm_engine_step(e, n, ids, counts, flat, 0, logits);
    }
    free(flat);
    double t1 = now_s();
    for (int i = 0; !st && i < n; i++) total_prompt -= gs[i].n_cached;
    if (stats) {
        stats->prefill_tokens = total_prompt;
        stats->prefill_seconds = t1 - t0;
    }
    int live = n;
    uint64_t decoded = 0;
    /* rows[k] = index of the sequence whose logits are in row k */
    int nrows = n;
    while (!st && live > 0) {
        for (int k = 0; k < nrows; k++) {
            gen_seq *g = &gs[rows[k]];
            ss[k] = (srlm_sample_seq){.params = &params[rows[k]], .seq_id = (uint64_t)rows[k], .position = g->n_hist,
                                      .history = g->hist, .n_history = g->n_hist,
                                      .n_generated = (int32_t)results[rows[k]].n_tokens};
        }
        st = sel_k ? srlm_sampler_sample_select(sampler, nrows, sel_k, sel_ids, sel_x, sel_st, ss, so)
                   : srlm_sampler_sample(sampler, logits, nrows, ss, so);
        int next = 0;
        for (int k = 0; !st && k < nrows; k++) {
            int i = rows[k];
            gen_seq *g = &gs[i];
            srlm_gen_result *r = &results[i];
            st = result_push(r, &caps[i], &so[k]);
            if (st) break;
            st = srlm_grow((void **)&g->hist, &g->cap_hist, g->n_hist + 1, sizeof(int32_t), "during generation");
            if (st) break;
            g->hist[g->n_hist++] = so[k].token;
            bool stopped = false;
            int finish = so[k].finish;
            if (finish != SRLM_FINISH_STOP_ID && g->detok) {
                const char *t;
                size_t len;
                st = srlm_detokenizer_push(g->detok, so[k].token, &t, &len);
                if (!st) st = add_text(g, i, t, len, stream, user, &stopped);
            }
            if (st) break;
            if (stopped) finish = SRLM_GEN_FINISH_STOP_STRING;
            else if (!finish && (int)g->n_hist >= srlm_engine_max_ctx(e)) finish = SRLM_GEN_FINISH_CONTEXT;
            if (finish) {
                r->finish = finish;
                flush_text(g, i, stream, user, stopped);
                g->live = false;
                live--;
                continue;
            }
            rows[next] = i;
            ids[next] = g->id;
            counts[next] = 1;
            toks[next] = so[k].token;
            next++;
        }
        nrows = next;
        if (!st && nrows > 0) {
            sel_k = step_select_k(e, gs, rows, nrows, params, V, invt);
            st = sel_k ? srlm_engine_step_select(e, nrows, ids, counts, toks, sel_k, invt, sel_ids, sel_x, sel_st)
                       : srlm_engine_step(e, nrows, ids, counts, toks, 0, logits);
            decoded += (uint64_t)nrows;
        }
    }
    if (stats) {
        stats->decode_tokens = decoded;
        stats->decode_seconds = now_s() - t1;
    }
    for (int i = 0; gs && i < n; i++) {
        gen_seq *g = &gs[i];
        if (!st) {
            results[i].text = g->text;
            results[i].n_text = g->n_text;
            if (!g->text) results[i].text = calloc(1, 1);
            g->text = NULL;
        }
        free(g->text);
        free(g->hist);
        srlm_detokenizer_destroy(g->detok);
        srlm_tagmatch_destroy(g->stops);
        if (g->id >= 0 && !g->keep) srlm_engine_seq_free(e, g->id);
    }
    if (st)
        for (int i = 0; i < n; i++) srlm_gen_result_free(&results[i]);
    srlm_sampler_destroy(sampler);
    free(gs), free(caps), free(ids), free(counts), free(rows), free(toks), free(logits), free(ss), free(so);
    free(sel_ids), free(sel_x), free(sel_st), free(invt);
    return st;
}

srlm_status srlm_generate(srlm_engine *e, const srlm_tokenizer *tok, int n, const int32_t *const *prompts,
                          const size_t *n_prompts, const srlm_sample_params *params, srlm_gen_stream_fn stream, void *user,
                          srlm_gen_result *results, srlm_gen_stats *stats) {
    return generate(e, tok, n, prompts, n_prompts, params, stream, user, results, stats, NULL);
}

srlm_status srlm_generate_continue(srlm_engine *e, const srlm_tokenizer *tok, int seq, const int32_t *ids, size_t n_ids,
                                   const srlm_sample_params *params, srlm_gen_stream_fn stream, void *user,
                                   srlm_gen_result *result, srlm_gen_stats *stats) {
    return generate(e, tok, 1, &ids, &n_ids, params, stream, user, result, stats, &seq);
}
