/* test_engine.c: the inference engine against itself and its invariants, on a tiny random
 * model (the full recompute is checked against PyTorch by test_model_parity.py):
 *   - 16 sequences of different lengths prefilled together, then teacher-forced decode of
 *     all 16 in one batch: every step's logits equal a full recompute of that sequence;
 *   - a fork shares the parent's full blocks and copies the partial one; after divergent
 *     appends both sides equal their full recomputes;
 *   - srlm_generate with device selection (greedy and top-k rows: best ids, log-sum-exp and
 *     entropy reduced on the device) gives the same tokens, kept-set sizes and sampled
 *     log-probabilities as with whole logit rows read back, and logprob/entropy within 1e-5;
 *   - errors: unknown sequence, token outside the vocabulary, context full. */
#include "gpu_test.h"
#include "decode/engine.h"

#include <stdlib.h>
#include <unistd.h>

#define NSEQ 16
#define DECODE 8
#define BOUND 1e-4

static int V;

/* max |a-b| / max |b| */
static double rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > num || d != d) num = d;
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    return den > 0 ? num / den : num;
}

/* Logits of every position of ids[0..n) from a fresh sequence (one prefill). */
static float *full_logits(srlm_engine *e, const int32_t *ids, int n) {
    float *out = malloc((size_t)n * (size_t)V * sizeof(float));
    int s = -1;
    CHECK_OK(srlm_engine_seq_new(e, &s));
    CHECK_OK(srlm_engine_step(e, 1, &s, &n, ids, 1, out));
    srlm_engine_seq_free(e, s);
    return out;
}

static void test_batched_decode(srlm_engine *e, unsigned long long *seed) {
    int32_t toks[NSEQ][64 + DECODE];
    int plen[NSEQ], sid[NSEQ], count[NSEQ];
    int32_t flat[NSEQ * 64];
    int nflat = 0;
    for (int s = 0; s < NSEQ; s++) {
        plen[s] = 1 + (int)(test_rand_u64(seed) % 40) + s;
        for (int t = 0; t < plen[s] + DECODE; t++) toks[s][t] = (int32_t)(test_rand_u64(seed) % (unsigned)V);
        for (int t = 0; t < plen[s]; t++) flat[nflat++] = toks[s][t];
        CHECK_OK(srlm_engine_seq_new(e, &sid[s]));
        count[s] = plen[s];
    }
    float *logits = malloc((size_t)NSEQ * (size_t)V * sizeof(float));
    CHECK_OK(srlm_engine_step(e, NSEQ, sid, count, flat, 0, logits));
    /* references: full recompute per sequence (own sequence slot, freed after) */
    double worst = 0;
    for (int step = 0; step <= DECODE; step++) {
        if (step > 0) {
            int32_t next[NSEQ];
            int ones[NSEQ];
            for (int s = 0; s < NSEQ; s++) next[s] = toks[s][plen[s] + step - 1], ones[s] = 1;
            CHECK_OK(srlm_engine_step(e, NSEQ, sid, ones, next, 0, logits));
        }
        if (step % 4 != 0 && step != DECODE) continue; /* references are the slow part */
        for (int s = 0; s < NSEQ; s++) {
            int n = plen[s] + step;
            /* the engine has NSEQ slots in use: compute the reference after freeing none, so
             * use a temporary sequence only when a slot is free */
            float *ref = NULL;
            if (srlm_engine_max_seqs(e) > NSEQ) ref = full_logits(e, toks[s], n);
            if (!ref) continue;
            double err = rel_err(logits + (size_t)s * V, ref + (size_t)(n - 1) * V, (size_t)V);
            if (err > worst) worst = err;
            free(ref);
        }
    }
    printf("  16 sequences (prompts 1..%d tokens), batched decode of %d steps: worst rel err %.3g (bound %.0e)\n",
           40 + NSEQ, DECODE, worst, BOUND);
    CHECK(worst <= BOUND, "batched decode differs from full recompute: %.3g", worst);
    for (int s = 0; s < NSEQ; s++) srlm_engine_seq_free(e, sid[s]);
    free(logits);
}

static void test_fork(srlm_engine *e, unsigned long long *seed) {
    int32_t a[40], b[40];
    for (int t = 0; t < 40; t++) a[t] = (int32_t)(test_rand_u64(seed) % (unsigned)V);
    memcpy(b, a, sizeof b);
    for (int t = 21; t < 40; t++) b[t] = (int32_t)(test_rand_u64(seed) % (unsigned)V);
    int pa, pb, n21 = 21, rest = 19;
    int free0 = srlm_engine_free_blocks(e);
    CHECK_OK(srlm_engine_seq_new(e, &pa));
    CHECK_OK(srlm_engine_step(e, 1, &pa, &n21, a, 0, NULL));
    CHECK_OK(srlm_engine_seq_fork(e, pa, &pb));
    /* 21 tokens in blocks of 16: one full block shared, the partial one copied -> 3 blocks used */
    CHECK(free0 - srlm_engine_free_blocks(e) == 3, "fork used %d blocks, expected 3", free0 - srlm_engine_free_blocks(e));
    float *la = malloc((size_t)V * 4), *lb = malloc((size_t)V * 4);
    CHECK_OK(srlm_engine_step(e, 1, &pa, &rest, a + 21, 0, la));
    CHECK_OK(srlm_engine_step(e, 1, &pb, &rest, b + 21, 0, lb));
    float *ra = full_logits(e, a, 40), *rb = full_logits(e, b, 40);
    double ea = rel_err(la, ra + 39 * (size_t)V, (size_t)V), eb = rel_err(lb, rb + 39 * (size_t)V, (size_t)V);
    printf("  fork at 21 tokens, 19 divergent tokens each: rel err parent %.3g child %.3g\n", ea, eb);
    CHECK(ea <= BOUND && eb <= BOUND, "fork: %.3g %.3g", ea, eb);
    srlm_engine_seq_free(e, pa);
    CHECK_OK(srlm_engine_step(e, 1, &pb, &n21, b, 0, NULL)); /* the child lives on alone */
    srlm_engine_seq_free(e, pb);
    CHECK(srlm_engine_free_blocks(e) == free0, "blocks leaked: %d free, %d before", srlm_engine_free_blocks(e), free0);
    free(la), free(lb), free(ra), free(rb);
}

/* 16 prompts of different lengths, parameters cycling through greedy and top-k variants
 * (with top-p, min-p, temperatures); with_penalty adds a row that needs full logits, so the
 * whole batch takes the host path. Returns the results (caller frees). */
static srlm_gen_result *gen_batch(srlm_model *m, int host_select, int with_penalty, uint64_t *selected) {
    srlm_engine_options eo;
    srlm_engine_options_default(&eo);
    eo.max_seqs = NSEQ;
    eo.max_ctx = 64;
    eo.host_select = host_select;
    srlm_engine *e = NULL;
    CHECK_OK(srlm_engine_create(m, &eo, &e));
    if (!e) return NULL;
    int32_t *prompts[NSEQ];
    size_t np[NSEQ];
    srlm_sample_params sp[NSEQ];
    unsigned long long seed = 99;
    for (int i = 0; i < NSEQ; i++) {
        np[i] = 1 + (size_t)(i * 7) % 19;
        prompts[i] = malloc(np[i] * sizeof(int32_t));
        for (size_t t = 0; t < np[i]; t++) prompts[i][t] = (int32_t)(test_rand_u64(&seed) % (unsigned)V);
        srlm_sample_params_default(&sp[i]);
        sp[i].max_tokens = 24;
        sp[i].seed = 7;
        switch (i % 4) {
        case 0: sp[i].temperature = 0.0f; break;
        case 1: sp[i].top_k = 5, sp[i].temperature = 0.7f, sp[i].top_p = 0.9f; break;
        case 2: sp[i].top_k = 40, sp[i].temperature = 1.3f, sp[i].min_p = 0.05f; break;
        default: sp[i].top_k = 64, sp[i].temperature = 1.0f; break;
        }
    }
    if (with_penalty) sp[5].repeat_penalty = 1.3f;
    srlm_gen_result *res = calloc(NSEQ, sizeof *res);
    CHECK_OK(srlm_generate(e, NULL, NSEQ, (const int32_t *const *)prompts, np, sp, NULL, NULL, res, NULL));
    *selected = srlm_engine_selected_rows(e);
    for (int i = 0; i < NSEQ; i++) free(prompts[i]);
    srlm_engine_destroy(e);
    return res;
}

static void test_generate_select(srlm_model *m) {
    for (int pen = 0; pen < 2; pen++) {
        uint64_t sel_host = 0, sel_dev = 0;
        srlm_gen_result *a = gen_batch(m, 1, pen, &sel_host), *b = gen_batch(m, 0, pen, &sel_dev);
        if (!a || !b) return;
        CHECK(sel_host == 0, "host_select engine reduced %llu rows on the device", (unsigned long long)sel_host);
        if (pen) CHECK(sel_dev == 0, "a batch with a penalised row must read whole rows (%llu selected)", (unsigned long long)sel_dev);
        else CHECK(sel_dev > 0, "no row was reduced on the device");
        size_t same = 0, total = 0;
        double worst = 0;
        for (int i = 0; i < NSEQ; i++) {
            CHECK(a[i].n_tokens == b[i].n_tokens, "sequence %d: %zu vs %zu tokens", i, a[i].n_tokens, b[i].n_tokens);
            for (size_t t = 0; t < a[i].n_tokens && t < b[i].n_tokens; t++) {
                total++;
                same += a[i].tokens[t] == b[i].tokens[t] && a[i].logprob_sampled[t] == b[i].logprob_sampled[t];
                double d = fmax(fabs(a[i].logprob[t] - b[i].logprob[t]), fabs(a[i].entropy[t] - b[i].entropy[t]));
                worst = d > worst ? d : worst;
            }
            CHECK(a[i].finish == b[i].finish, "sequence %d: finish %d vs %d", i, a[i].finish, b[i].finish);
        }
        printf("  generate, %s: %zu/%zu tokens (and sampled logprobs) identical host vs device selection "
               "(%llu rows reduced on the device); logprob/entropy max|d| %.2g\n",
               pen ? "a penalised row (host path)" : "greedy + top-k rows", same, total, (unsigned long long)sel_dev, worst);
        CHECK(same == total && total > 0, "device selection changed %zu of %zu tokens", total - same, total);
        CHECK(worst <= 1e-5, "logprob/entropy differ by %.3g", worst);
        for (int i = 0; i < NSEQ; i++) srlm_gen_result_free(&a[i]), srlm_gen_result_free(&b[i]);
        free(a), free(b);
    }
}

static void test_errors(srlm_engine *e) {
    int s, one = 1, bad = 7;
    int32_t tok = (int32_t)V;
    CHECK_ERR(srlm_engine_step(e, 1, &bad, &one, &tok, 0, NULL), SRLM_ERR_INVALID, "sequence 7 does not exist");
    CHECK_OK(srlm_engine_seq_new(e, &s));
    CHECK_ERR(srlm_engine_step(e, 1, &s, &one, &tok, 0, NULL), SRLM_ERR_INVALID, "outside the vocabulary");
    int n = srlm_engine_max_ctx(e) + 1;
    int32_t *many = calloc((size_t)n, sizeof *many);
    CHECK_ERR(srlm_engine_step(e, 1, &s, &n, many, 0, NULL), SRLM_ERR_INVALID, NULL);
    CHECK(srlm_engine_seq_len(e, s) == 0, "a failed step must not change the sequence (len %d)", srlm_engine_seq_len(e, s));
    srlm_engine_seq_free(e, s);
    free(many);
}

int main(void) {
    const char *root = getenv("SRLM_SOURCE_ROOT");
    if (!root) { fprintf(stderr, "SRLM_SOURCE_ROOT unset\n"); return 1; }
    char preset[1024], dir[] = "/tmp/srlm-engine-test.XXXXXX", mdir[1100];
    snprintf(preset, sizeof preset, "%s/models/tiny.json", root);
    if (!mkdtemp(dir)) return 1;
    snprintf(mdir, sizeof mdir, "%s/model", dir);
    srlm_init_options io = {.config_path = preset, .out_dir = mdir, .seed = 5, .dtype = SRLM_DTYPE_F32};
    CHECK_OK(srlm_model_init(&io));
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    CHECK_OK(srlm_model_load(g.ctx, mdir, SRLM_DTYPE_F32, &m));
    if (m) {
        V = srlm_model_vocab_size(m);
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_seqs = NSEQ + 1;
        eo.max_ctx = 128;
        eo.max_step_tokens = 128;
        CHECK_OK(srlm_engine_create(m, &eo, &e));
    }
    unsigned long long seed = 42;
    if (e) {
        test_batched_decode(e, &seed);
        test_fork(e, &seed);
        test_errors(e);
    }
    srlm_engine_destroy(e);
    e = NULL;
    if (m) test_generate_select(m);
    srlm_model_destroy(m);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return gpu_test_finish(&g, "test_engine");
}
