/* test_sampler.c: the host sampler against closed forms and a naive double-precision
 * reference (full sort, Hugging Face order and semantics), frequency checks with a fixed
 * seed, batch independence, and the streaming stop-string / tag detector at every split.
 * Ends with a micro-benchmark at V = 151,936 (printed, not asserted). */
#include "test.h"

#include "decode/sampler.h"
#include "decode/tagmatch.h"
#include "rng.h"

#include <stdint.h>
#include <time.h>

#define QWEN_V 151936

static srlm_sample_seq seq_of(const srlm_sample_params *p, uint64_t id, uint64_t pos) {
    srlm_sample_seq q;
    memset(&q, 0, sizeof q);
    q.params = p;
    q.seq_id = id;
    q.position = pos;
    return q;
}

/* ---- naive reference ------------------------------------------------------------------ */

static const double *ref_sort_y;
static int ref_cmp(const void *a, const void *b) {
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    double yi = ref_sort_y[i], yj = ref_sort_y[j];
    if (yi != yj) return yi > yj ? -1 : 1;
    return (i > j) - (i < j);
}

/* q of HF generate, in double: penalty, temperature, top-k, top-p, min-p on a sorted copy.
 * Writes q[V] (0 outside the kept set); returns |K|. */
static int32_t ref_dist(const float *x, int32_t V, const srlm_sample_params *p, const int32_t *hist,
                        size_t nh, double *q) {
    double *y = malloc((size_t)V * sizeof *y);
    int32_t *ord = malloc((size_t)V * sizeof *ord);
    for (int32_t i = 0; i < V; i++) y[i] = x[i];
    size_t w = nh;
    if (p->repeat_last_n >= 0 && (size_t)p->repeat_last_n < w) w = (size_t)p->repeat_last_n;
    for (size_t i = nh - w; i < nh; i++) {
        int32_t id = hist[i];
        y[id] = x[id] > 0 ? (double)x[id] / p->repeat_penalty : (double)x[id] * p->repeat_penalty;
    }
    for (int32_t i = 0; i < V; i++) q[i] = 0;
    for (int32_t i = 0; i < V; i++) ord[i] = i;
    ref_sort_y = y;
    qsort(ord, (size_t)V, sizeof *ord, ref_cmp);
    if (p->temperature == 0) {
        q[ord[0]] = 1;
        free(y);
        free(ord);
        return 1;
    }
    int32_t n = V;
    if (p->top_k > 0 && p->top_k < V) n = p->top_k;
    double m = y[ord[0]] / p->temperature, z = 0;
    for (int32_t r = 0; r < n; r++) z += exp(y[ord[r]] / p->temperature - m);
    if (p->top_p < 1) {
        double before = 0;
        int32_t keep = 0;
        while (keep < n && before < p->top_p) {
            before += exp(y[ord[keep]] / p->temperature - m) / z;
            keep++;
        }
        n = keep;
    }
    int32_t k = 0;
    double zk = 0;
    for (int32_t r = 0; r < n; r++) {
        double e = exp(y[ord[r]] / p->temperature - m); /* p_i / p_max */
        if (e == 0 || (p->min_p > 0 && e < p->min_p)) continue;
        q[ord[r]] = e;
        zk += e;
        k++;
    }
    for (int32_t i = 0; i < V; i++) q[i] /= zk;
    free(y);
    free(ord);
    return k;
}

static double ref_logsumexp(const float *x, int32_t V) {
    double m = -INFINITY, s = 0;
    for (int32_t i = 0; i < V; i++) m = x[i] > m ? x[i] : m;
    for (int32_t i = 0; i < V; i++) s += exp((double)x[i] - m);
    return m + log(s);
}

static double ref_entropy(const float *x, int32_t V) {
    double lz = ref_logsumexp(x, V), h = 0;
    for (int32_t i = 0; i < V; i++) {
        double lp = (double)x[i] - lz;
        if (isfinite(lp)) h -= exp(lp) * lp;
    }
    return h;
}

/* ---- greedy --------------------------------------------------------------------------- */

static void test_greedy(srlm_sampler *big) {
    srlm_sample_params p;
    srlm_sample_params_default(&p);
    p.temperature = 0;
    srlm_sampler *s;
    CHECK_OK(srlm_sampler_create(16, &s));
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i % 5) - 2.0f;
    x[9] = 7; x[5] = 7; x[13] = 7; x[0] = -INFINITY;
    srlm_sample_seq q = seq_of(&p, 0, 0);
    srlm_sample_out o;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.token == 5, "greedy tie 5/9/13 gave %d", o.token);
    CHECK(o.logprob_sampled == 0.0f && o.n_kept == 1, "greedy logprob_sampled %g n_kept %d",
          (double)o.logprob_sampled, o.n_kept);
    double lz = ref_logsumexp(x, 16);
    CHECK(fabs(o.logprob - (7 - lz)) < 1e-6, "greedy logprob %g vs %g", (double)o.logprob, 7 - lz);
    srlm_sampler_destroy(s);

    /* Full vocabulary, ties planted in several chunks, against a plain scan. */
    float *row = malloc(QWEN_V * sizeof *row);
    unsigned long long r = 7;
    int bad = 0;
    for (int t = 0; t < 20; t++) {
        for (int32_t i = 0; i < QWEN_V; i++) row[i] = test_rand_uniform(&r, -20, 20);
        float top = 25.0f + (float)(t % 3);
        int32_t first = QWEN_V;
        for (int k = 0; k < 4; k++) {
            int32_t id = (int32_t)(test_rand_u64(&r) % QWEN_V);
            row[id] = top;
            if (id < first) first = id;
        }
        q = seq_of(&p, (uint64_t)t, 0);
        CHECK_OK(srlm_sampler_sample(big, row, 1, &q, &o));
        if (o.token != first) bad++;
    }
    CHECK(bad == 0, "%d of 20 full-vocabulary rows: greedy is not the lowest-id argmax", bad);
    printf("  greedy: ties to the lowest id (16 ids; 20 rows of %d with 4 planted ties)\n", QWEN_V);
    free(row);
}

/* ---- frequencies ---------------------------------------------------------------------- */

/* Pearson chi-square of `n` draws from row x under p against ref_dist; returns the
 * statistic and writes the degrees of freedom. */
static double chi_square(srlm_sampler *s, const float *x, int32_t V, const srlm_sample_params *p,
                         int n, uint64_t seq_id, int *dof, int *outside) {
    double *q = malloc((size_t)V * sizeof *q);
    long *cnt = calloc((size_t)V, sizeof *cnt);
    int32_t k = ref_dist(x, V, p, NULL, 0, q);
    *outside = 0;
    for (int i = 0; i < n; i++) {
        srlm_sample_seq sq = seq_of(p, seq_id, (uint64_t)i);
        srlm_sample_out o;
        CHECK_OK(srlm_sampler_sample(s, x, 1, &sq, &o));
        cnt[o.token]++;
        if (q[o.token] == 0) (*outside)++;
    }
    double chi = 0;
    for (int32_t i = 0; i < V; i++)
        if (q[i] > 0) {
            double e = q[i] * n;
            chi += (cnt[i] - e) * (cnt[i] - e) / e;
        }
    *dof = k - 1;
    free(q);
    free(cnt);
    return chi;
}

static void test_frequencies(void) {
    srlm_sampler *s;
    CHECK_OK(srlm_sampler_create(10, &s));
    const float x[10] = {1.0f, 0.5f, -0.3f, 2.0f, 0.0f, -1.0f, 1.5f, 0.2f, -2.0f, 0.7f};
    /* Upper 0.1% points of chi-square: a deterministic seed, so this either always passes
     * or always fails; a biased sampler lands far above. */
    const double crit[10] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88};
    struct { float t; int32_t k; float p, mp; } cases[] = {
        {1.0f, 0, 1.0f, 0}, {0.7f, 0, 1.0f, 0}, {1.8f, 0, 1.0f, 0},
        {1.0f, 4, 1.0f, 0}, {1.0f, 0, 0.8f, 0}, {1.0f, 0, 1.0f, 0.3f}, {0.9f, 6, 0.9f, 0.1f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        srlm_sample_params p;
        srlm_sample_params_default(&p);
        p.temperature = cases[c].t;
        p.top_k = cases[c].k;
        p.top_p = cases[c].p;
        p.min_p = cases[c].mp;
        p.seed = 1234;
        int dof, outside;
        double chi = chi_square(s, x, 10, &p, 40000, 3, &dof, &outside);
        CHECK(outside == 0, "case %zu: %d draws outside the kept set", c, outside);
        CHECK(dof >= 1 && dof < 10 && chi < crit[dof], "case %zu: chi-square %.2f with %d dof (critical %.2f)",
              c, chi, dof, dof >= 1 && dof < 10 ? crit[dof] : 0.0);
        printf("  frequencies: T=%.1f k=%d p=%.1f min_p=%.1f: chi-square %.2f, %d dof, 40000 draws\n",
               (double)p.temperature, p.top_k, (double)p.top_p, (double)p.min_p, chi, dof);
    }
    /* A wrong distribution must fail the same check (the test can fail). */
    srlm_sample_params p;
    srlm_sample_params_default(&p);
    p.seed = 1234;
    float x2[10];
    memcpy(x2, x, sizeof x2);
    x2[3] += 0.1f; /* sample from a slightly different row, compare with the original */
    double *q = malloc(10 * sizeof *q);
    ref_dist(x, 10, &p, NULL, 0, q);
    long cnt[10] = {0};
    for (int i = 0; i < 40000; i++) {
        srlm_sample_seq sq = seq_of(&p, 3, (uint64_t)i);
        srlm_sample_out o;
        CHECK_OK(srlm_sampler_sample(s, x2, 1, &sq, &o));
        cnt[o.token]++;
    }
    double chi = 0;
    for (int i = 0; i < 10; i++) chi += (cnt[i] - q[i] * 40000) * (cnt[i] - q[i] * 40000) / (q[i] * 40000);
    CHECK(chi > crit[9], "chi-square does not detect a 0.1 logit shift (%.2f)", chi);
    printf("  frequencies: a +0.1 shift of one logit gives chi-square %.2f (detected)\n", chi);
    free(q);
    srlm_sampler_destroy(s);
}

/* ---- kept sets ------------------------------------------------------------------------ */

static int support_is(srlm_sampler *s, const float *x, const srlm_sample_params *p, const int32_t *want,
                      int32_t nwant, const char *what) {
    int32_t ids[64], n;
    srlm_sample_seq q = seq_of(p, 0, 0);
    CHECK_OK(srlm_sampler_support(s, x, &q, ids, NULL, &n));
    int ok = n == nwant;
    for (int32_t i = 0; ok && i < n; i++) ok = ids[i] == want[i];
    CHECK(ok, "%s: kept %d ids, expected %d", what, n, nwant);
    return ok;
}

static void test_kept_sets(srlm_sampler *big) {
    srlm_sampler *s;
    CHECK_OK(srlm_sampler_create(12, &s));
    /* Probabilities proportional to 2^-rank, chosen so every boundary is clear:
     * ids by rank: 7, 2, 10, 0, 5, 11, ... */
    float x[12];
    const int32_t rank_id[12] = {7, 2, 10, 0, 5, 11, 1, 3, 4, 6, 8, 9};
    for (int r = 0; r < 12; r++) x[rank_id[r]] = -(float)r * 0.6931472f;
    srlm_sample_params p;
    srlm_sample_params_default(&p);
    /* top-k 3: {7, 2, 10} */
    p.top_k = 3;
    support_is(s, x, &p, (const int32_t[]){2, 7, 10}, 3, "top-k 3");
    /* top-k with ties: ids 1 and 3 share a logit; k = 7 keeps 1 (lower id), not 3 */
    x[3] = x[1];
    p.top_k = 7;
    support_is(s, x, &p, (const int32_t[]){0, 1, 2, 5, 7, 10, 11}, 7, "top-k 7 with a tie");
    x[3] = -7 * 0.6931472f;
    /* top-p: masses 1/2, 1/4, 1/8, ... (times ~1). p = 0.7: before 7 is 0 < .7 keep, before 2
     * is .5 keep, before 10 is .75 stop -> {7, 2}. p = 0.8 -> {7, 2, 10}. */
    p.top_k = 0;
    p.top_p = 0.7f;
    support_is(s, x, &p, (const int32_t[]){2, 7}, 2, "top-p 0.7");
    p.top_p = 0.8f;
    support_is(s, x, &p, (const int32_t[]){2, 7, 10}, 3, "top-p 0.8");
    p.top_p = 0.3f;
    support_is(s, x, &p, (const int32_t[]){7}, 1, "top-p 0.3");
    /* top-k then top-p renormalised over the top-k: k = 2 gives masses 2/3, 1/3; p = 0.6
     * keeps only 7 (0.6 < 2/3), p = 0.7 keeps both. */
    p.top_k = 2;
    p.top_p = 0.6f;
    support_is(s, x, &p, (const int32_t[]){7}, 1, "top-k 2 + top-p 0.6");
    p.top_p = 0.7f;
    support_is(s, x, &p, (const int32_t[]){2, 7}, 2, "top-k 2 + top-p 0.7");
    /* min-p: p_i / p_max = 2^-rank; min_p 0.2 keeps ranks 0..2, 0.1 keeps 0..3 */
    p.top_k = 0;
    p.top_p = 1;
    p.min_p = 0.2f;
    support_is(s, x, &p, (const int32_t[]){2, 7, 10}, 3, "min-p 0.2");
    p.min_p = 0.1f;
    support_is(s, x, &p, (const int32_t[]){0, 2, 7, 10}, 4, "min-p 0.1");
    /* min-p with top-p: intersection */
    p.top_p = 0.7f;
    support_is(s, x, &p, (const int32_t[]){2, 7}, 2, "min-p 0.1 + top-p 0.7");
    /* temperature sharpens before top-p: T = 0.5 gives masses ~3/4, 3/16: p = 0.7 -> {7} */
    p.min_p = 0;
    p.temperature = 0.5f;
    support_is(s, x, &p, (const int32_t[]){7}, 1, "T 0.5 + top-p 0.7");
    /* masked ids are never kept */
    p.temperature = 1;
    p.top_p = 1;
    x[9] = -INFINITY;
    int32_t all[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11};
    support_is(s, x, &p, all, 11, "no truncation, id 9 masked");
    /* top-p through ties: four ids of probability 1/4; rank among equals is by id, so
     * p = 0.6 keeps the three lowest ids (mass before: 0, .25, .5). */
    for (int i = 0; i < 12; i++) x[i] = -INFINITY;
    x[9] = x[2] = x[6] = x[4] = 1.5f;
    p.top_p = 0.6f;
    support_is(s, x, &p, (const int32_t[]){2, 4, 6}, 3, "top-p 0.6 over four ties");
    printf("  kept sets: top-k (with a tie), top-p, top-k+top-p, min-p, min-p+top-p, temperature, masks, ties\n");
    srlm_sampler_destroy(s);

    /* The bucketed path (many candidates) through ties: 5000 equal logits, p = 0.5 keeps
     * exactly ids 0..2499 (id 2500 has mass 2500/5000 = 0.5 before it, not below 0.5). */
    {
        srlm_sampler *s5;
        CHECK_OK(srlm_sampler_create(5000, &s5));
        float *x5 = malloc(5000 * sizeof *x5);
        int32_t *ids5 = malloc(5000 * sizeof *ids5);
        for (int i = 0; i < 5000; i++) x5[i] = 0.25f;
        srlm_sample_params p5;
        srlm_sample_params_default(&p5);
        p5.top_p = 0.5f;
        srlm_sample_seq q5 = seq_of(&p5, 0, 0);
        int32_t n5;
        CHECK_OK(srlm_sampler_support(s5, x5, &q5, ids5, NULL, &n5));
        int ok = n5 == 2500;
        for (int i = 0; ok && i < n5; i++) ok = ids5[i] == i;
        CHECK(ok, "top-p 0.5 over 5000 ties kept %d ids, not ids 0..2499", n5);
        free(x5);
        free(ids5);
        srlm_sampler_destroy(s5);
    }

    /* Random rows against the sorted double reference: sets equal, probabilities close. */
    int32_t V = QWEN_V;
    float *row = malloc((size_t)V * sizeof *row);
    double *qref = malloc((size_t)V * sizeof *qref);
    int32_t *ids = malloc((size_t)V * sizeof *ids);
    float *probs = malloc((size_t)V * sizeof *probs);
    unsigned long long r = 99;
    struct { float t; int32_t k; float p, mp; float scale; } cases[] = {
        {1.0f, 40, 1.0f, 0, 3}, {0.8f, 0, 0.9f, 0, 3}, {1.0f, 0, 0.95f, 0, 0.3f}, {0.7f, 100, 0.8f, 0.01f, 4},
        {1.2f, 0, 1.0f, 0.05f, 4}, {1.0f, 0, 0.5f, 0, 0.01f}, {0.6f, 0, 0.99f, 0.001f, 2}, {1.0f, 0, 1.0f, 0, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int32_t i = 0; i < V; i++) row[i] = cases[c].scale * test_rand_uniform(&r, -4, 4);
        for (int j = 0; j < 30; j++) row[test_rand_u64(&r) % (uint64_t)V] += 6 * cases[c].scale;
        srlm_sample_params p2;
        srlm_sample_params_default(&p2);
        p2.temperature = cases[c].t;
        p2.top_k = cases[c].k;
        p2.top_p = cases[c].p;
        p2.min_p = cases[c].mp;
        int32_t kref = ref_dist(row, V, &p2, NULL, 0, qref), n;
        srlm_sample_seq q = seq_of(&p2, 0, 0);
        CHECK_OK(srlm_sampler_support(big, row, &q, ids, probs, &n));
        int same = n == kref;
        double maxerr = 0;
        for (int32_t i = 0; i < n; i++) {
            if (qref[ids[i]] == 0) same = 0;
            double d = fabs((double)probs[i] - qref[ids[i]]);
            if (d > maxerr) maxerr = d;
        }
        CHECK(same, "random case %zu: kept %d ids, reference %d", c, n, kref);
        CHECK(maxerr < 1e-6, "random case %zu: probability error %g", c, maxerr);
        printf("  random V=%d T=%.1f k=%d p=%.2f min_p=%.3f: |K| = %d as the reference, max |dq| %.1e\n",
               V, (double)p2.temperature, p2.top_k, (double)p2.top_p, (double)p2.min_p, n, maxerr);
    }
    free(row);
    free(qref);
    free(ids);
    free(probs);
}

/* ---- repetition penalty --------------------------------------------------------------- */

static void test_repetition(void) {
    srlm_sampler *s;
    CHECK_OK(srlm_sampler_create(6, &s));
    const float x[6] = {2.0f, -1.0f, 1.9f, 0.5f, -3.0f, 0.0f};
    const int32_t hist[5] = {1, 0, 0, 4, 3}; /* 0 repeated: still penalised once */
    srlm_sample_params p;
    srlm_sample_params_default(&p);
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 4; /* window {0, 0, 4, 3}: id 1 is out of it */
    srlm_sample_seq q = seq_of(&p, 0, 0);
    q.history = hist;
    q.n_history = 5;
    const float want_y[6] = {1.0f, -1.0f, 1.9f, 0.25f, -6.0f, 0.0f};
    int32_t ids[6], n;
    float probs[6];
    CHECK_OK(srlm_sampler_support(s, x, &q, ids, probs, &n));
    double z = 0;
    for (int i = 0; i < 6; i++) z += exp(want_y[i]);
    double maxerr = 0;
    for (int i = 0; i < n; i++) maxerr = fmax(maxerr, fabs(probs[i] - exp(want_y[ids[i]]) / z));
    CHECK(n == 6 && maxerr < 1e-6, "penalised distribution: n %d error %g", n, maxerr);
    /* The reference with the same window agrees. */
    double qr[6];
    ref_dist(x, 6, &p, hist, 5, qr);
    for (int i = 0; i < 6; i++) maxerr = fmax(maxerr, fabs(qr[i] - exp(want_y[i]) / z));
    CHECK(maxerr < 1e-6, "reference penalty disagrees: %g", maxerr);
    /* Greedy: 0 (2.0) beats 2 (1.9) until 0 is penalised. */
    p.temperature = 0;
    srlm_sample_out o;
    q.n_history = 0;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.token == 0, "greedy without history gave %d", o.token);
    q.n_history = 5;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.token == 2, "greedy with 0 penalised gave %d", o.token);
    /* logprob stays the model's (unpenalised) log-probability. */
    CHECK(fabs(o.logprob - (1.9 - ref_logsumexp(x, 6))) < 1e-6, "logprob %g is not the raw model's",
          (double)o.logprob);
    /* Window 0 and penalty < 1 (a bonus). */
    p.repeat_last_n = 0;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.token == 0, "window 0 still penalised: %d", o.token);
    p.repeat_last_n = -1;
    p.repeat_penalty = 0.5f; /* id 3 (0.5 -> 1.0), id 1 (-1 -> -0.5), id 0 (2 -> 4) */
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.token == 0, "penalty 0.5 gave %d", o.token);
    /* Out-of-range history id is an error naming the row. */
    const int32_t badh[2] = {1, 6};
    q.history = badh;
    q.n_history = 2;
    p.repeat_penalty = 1.3f;
    CHECK_ERR(srlm_sampler_sample(s, x, 1, &q, &o), SRLM_ERR_INVALID, "history id 6");
    printf("  repetition penalty: divide positive, multiply negative, window, repeats once, greedy flip\n");
    srlm_sampler_destroy(s);
}

/* ---- log-probabilities and entropy ---------------------------------------------------- */

static void test_logprobs(srlm_sampler *big) {
    int32_t V = QWEN_V;
    float *row = malloc((size_t)V * sizeof *row);
    srlm_sample_params p;
    srlm_sample_params_default(&p);
    srlm_sample_out o;
    /* Uniform: log p = -log V, H = log V; every sampled distribution also uniform. */
    for (int32_t i = 0; i < V; i++) row[i] = 3.25f;
    srlm_sample_seq q = seq_of(&p, 1, 5);
    CHECK_OK(srlm_sampler_sample(big, row, 1, &q, &o));
    CHECK(fabs(o.logprob + log((double)V)) < 1e-5 && fabs(o.entropy - log((double)V)) < 1e-5 &&
              fabs(o.logprob_sampled + log((double)V)) < 1e-5 && o.n_kept == V,
          "uniform: logprob %g entropy %g sampled %g kept %d", (double)o.logprob, (double)o.entropy,
          (double)o.logprob_sampled, o.n_kept);
    /* Two levels: a ids at logit L, V - a at 0: p_hi = e^L / (a e^L + V - a). With top-k a
     * the sampled distribution is uniform over the a high ids. Also a masked tail. */
    const int32_t a = 10;
    const float L = 5.0f;
    for (int32_t i = 0; i < V; i++) row[i] = 0;
    for (int32_t i = 0; i < a; i++) row[1000 + 7919 * i] = L;
    double Z = a * exp(L) + (V - a);
    double phi = exp(L) / Z, plo = 1 / Z;
    double H = -(a * phi * log(phi) + (V - a) * plo * log(plo));
    p.top_k = a;
    CHECK_OK(srlm_sampler_sample(big, row, 1, &q, &o));
    CHECK(row[o.token] == L, "top-k %d sampled a low id %d", a, o.token);
    CHECK(fabs(o.logprob - log(phi)) < 1e-5, "two-level logprob %g vs %g", (double)o.logprob, log(phi));
    CHECK(fabs(o.logprob_sampled + log((double)a)) < 1e-6, "two-level sampled %g vs %g", (double)o.logprob_sampled,
          -log((double)a));
    CHECK(fabs(o.entropy - H) < 1e-5, "two-level entropy %g vs %g", (double)o.entropy, H);
    /* Temperature: sampled log-prob is the log softmax of x / T. */
    unsigned long long r = 5;
    for (int32_t i = 0; i < V; i++) row[i] = test_rand_uniform(&r, -6, 6);
    for (int32_t i = 0; i < V; i += 3) row[i] = -INFINITY; /* masks must not break the entropy */
    p.top_k = 0;
    p.temperature = 0.6f;
    double maxerr = 0;
    float *yt = malloc((size_t)V * sizeof *yt);
    for (int32_t i = 0; i < V; i++) yt[i] = row[i] / 0.6f;
    double lzt = ref_logsumexp(yt, V), lz = ref_logsumexp(row, V), Hr = ref_entropy(row, V);
    for (int t = 0; t < 8; t++) {
        q = seq_of(&p, 2, (uint64_t)t);
        CHECK_OK(srlm_sampler_sample(big, row, 1, &q, &o));
        CHECK(o.token % 3 != 0, "sampled masked id %d", o.token);
        maxerr = fmax(maxerr, fabs(o.logprob - ((double)row[o.token] - lz)));
        maxerr = fmax(maxerr, fabs(o.logprob_sampled - ((double)yt[o.token] - lzt)));
        maxerr = fmax(maxerr, fabs(o.entropy - Hr));
    }
    /* A masked head (whole chunks of -inf before the first finite logit), each path. */
    for (int32_t i = 0; i < 5000; i++) row[i] = -INFINITY;
    lz = ref_logsumexp(row, V);
    Hr = ref_entropy(row, V);
    for (int path = 0; path < 3; path++) {
        srlm_sample_params pm;
        srlm_sample_params_default(&pm);
        pm.temperature = path == 0 ? 0.0f : path == 1 ? 0.5f : 1.0f;
        q = seq_of(&pm, 4, 9);
        CHECK_OK(srlm_sampler_sample(big, row, 1, &q, &o));
        CHECK(o.token >= 5000 && o.token % 3 != 0, "masked head: sampled %d", o.token);
        maxerr = fmax(maxerr, fabs(o.logprob - ((double)row[o.token] - lz)));
        maxerr = fmax(maxerr, fabs(o.entropy - Hr));
    }
    CHECK(maxerr < 1e-5, "temperature 0.6 / masked head logprob/sampled/entropy error %g", maxerr);
    printf("  logprob/entropy vs closed forms: uniform V, two-level + top-k, T=0.6 with masks (max error %.1e)\n",
           maxerr);
    free(yt);
    free(row);
}

/* ---- batch independence --------------------------------------------------------------- */

static void test_batch_independence(srlm_sampler *big) {
    const int32_t V = QWEN_V, B = 16;
    float *rows = malloc((size_t)B * V * sizeof *rows);
    unsigned long long r = 11;
    for (size_t i = 0; i < (size_t)B * V; i++) rows[i] = test_rand_uniform(&r, -5, 5);
    srlm_sample_params ps[16];
    srlm_sample_seq qs[16];
    int32_t hist[40];
    for (int i = 0; i < 40; i++) hist[i] = (int32_t)(test_rand_u64(&r) % (uint64_t)V);
    for (int b = 0; b < B; b++) {
        srlm_sample_params_default(&ps[b]);
        ps[b].seed = 77 + (uint64_t)(b % 3);
        ps[b].temperature = b % 5 == 0 ? 0.0f : 0.5f + 0.1f * (float)b;
        ps[b].top_k = b % 4 == 1 ? 50 : 0;
        ps[b].top_p = b % 3 == 2 ? 0.9f : 1.0f;
        ps[b].min_p = b % 7 == 3 ? 0.02f : 0.0f;
        ps[b].repeat_penalty = b % 2 ? 1.3f : 1.0f;
        qs[b] = seq_of(&ps[b], 100 + (uint64_t)b, 30 + (uint64_t)b);
        qs[b].history = hist;
        qs[b].n_history = 40;
    }
    srlm_sample_out ob[16];
    CHECK_OK(srlm_sampler_sample(big, rows, B, qs, ob));
    int bad = 0;
    /* Each row alone, in reverse order, must give bit-identical outputs. */
    for (int b = B - 1; b >= 0; b--) {
        srlm_sample_out o1;
        CHECK_OK(srlm_sampler_sample(big, rows + (size_t)b * V, 1, &qs[b], &o1));
        if (memcmp(&o1, &ob[b], sizeof o1) != 0) bad++;
    }
    CHECK(bad == 0, "%d of 16 rows differ between batch and alone", bad);
    /* The draw depends on (seed, seq id, position): changing the position changes tokens. */
    int changed = 0;
    for (int b = 0; b < B; b++) {
        if (ps[b].temperature == 0) continue;
        srlm_sample_seq q2 = qs[b];
        q2.position += 1000;
        srlm_sample_out o2;
        CHECK_OK(srlm_sampler_sample(big, rows + (size_t)b * V, 1, &q2, &o2));
        changed += o2.token != ob[b].token;
    }
    CHECK(changed >= 8, "only %d of the sampled rows changed with the position", changed);
    printf("  batch of 16 (mixed params) == each row alone: %d differ; moving the position changes %d tokens\n",
           bad, changed);
    free(rows);
}

/* ---- finish, errors ------------------------------------------------------------------- */

static void test_finish_and_errors(void) {
    srlm_sampler *s;
    CHECK_OK(srlm_sampler_create(8, &s));
    float x[8] = {0, 0, 0, 9, 0, 0, 0, 0};
    srlm_sample_params p;
    srlm_sample_params_default(&p);
    p.temperature = 0;
    const int32_t stops[2] = {5, 3};
    p.stop_ids = stops;
    p.n_stop_ids = 2;
    p.max_tokens = 4;
    srlm_sample_seq q = seq_of(&p, 0, 0);
    srlm_sample_out o;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.finish == SRLM_FINISH_STOP_ID, "stop id: finish %d", o.finish);
    x[3] = 0;
    x[6] = 9;
    q.n_generated = 2;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.finish == SRLM_FINISH_NONE, "3rd of 4 tokens: finish %d", o.finish);
    q.n_generated = 3;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.finish == SRLM_FINISH_LENGTH, "4th of 4 tokens: finish %d", o.finish);

    x[2] = NAN;
    CHECK_ERR(srlm_sampler_sample(s, x, 1, &q, &o), SRLM_ERR_INVALID, "row 0");
    x[2] = INFINITY;
    CHECK_ERR(srlm_sampler_sample(s, x, 1, &q, &o), SRLM_ERR_INVALID, "NaN or +inf");
    for (int i = 0; i < 8; i++) x[i] = -INFINITY;
    CHECK_ERR(srlm_sampler_sample(s, x, 1, &q, &o), SRLM_ERR_INVALID, "all -inf");
    x[1] = 0;
    p.temperature = 1;
    CHECK_OK(srlm_sampler_sample(s, x, 1, &q, &o));
    CHECK(o.token == 1 && o.logprob == 0.0f && o.entropy == 0.0f, "one finite logit: token %d lp %g H %g", o.token,
          (double)o.logprob, (double)o.entropy);
    p.top_p = 0;
    CHECK_ERR(srlm_sampler_sample(s, x, 1, &q, &o), SRLM_ERR_INVALID, "top_p");
    p.top_p = 1;
    p.temperature = -1;
    CHECK_ERR(srlm_sample_params_check(&p), SRLM_ERR_INVALID, "temperature");
    p.temperature = 1;
    p.repeat_penalty = 0;
    CHECK_ERR(srlm_sample_params_check(&p), SRLM_ERR_INVALID, "repeat_penalty");
    p.repeat_penalty = 1;
    const char *empty[1] = {""};
    p.stop_strings = empty;
    p.n_stop_strings = 1;
    CHECK_ERR(srlm_sample_params_check(&p), SRLM_ERR_INVALID, "stop string 0");
    srlm_sampler *bad = NULL;
    CHECK_ERR(srlm_sampler_create(0, &bad), SRLM_ERR_INVALID, "vocabulary");
    CHECK(bad == NULL, "failed create left a handle");
    srlm_sampler_destroy(NULL);
    srlm_sampler_destroy(s);
}

/* ---- stop strings / tags -------------------------------------------------------------- */

/* Naive: the non-overlapping matches in order of their end (longest at the same end,
 * then lowest index), restarting after each. Returns the count; ends[] and which[]. */
static int naive_matches(const char *text, size_t n, const char *const *pats, int np, size_t *ends, int *which) {
    int cnt = 0;
    size_t from = 0;
    for (size_t e = 1; e <= n; e++) {
        int best = -1;
        for (int i = 0; i < np; i++) {
            size_t l = strlen(pats[i]);
            if (l <= e - from && memcmp(text + e - l, pats[i], l) == 0 && (best < 0 || l > strlen(pats[best])))
                best = i;
        }
        if (best >= 0) {
            ends[cnt] = e;
            which[cnt++] = best;
            from = e;
        }
    }
    return cnt;
}

/* Streams `text` in pieces cut at cuts[0..nc) through the matcher, the way a decode loop
 * would: emit up to safe_end, on a match stop-and-restart. Checks: matches equal the naive
 * ones, and no emitted byte lies inside any match. Returns the number of problems. */
static int stream_check(srlm_tagmatch *m, const char *text, size_t n, const size_t *cuts, int nc,
                        const char *const *pats, int np) {
    size_t ends[64];
    int which[64];
    int nm = naive_matches(text, n, pats, np, ends, which);
    srlm_tagmatch_reset(m);
    int found = 0, problems = 0;
    uint64_t emitted = 0;
    size_t prev = 0;
    for (int c = 0; c <= nc; c++) {
        size_t end = c < nc ? cuts[c] : n;
        size_t off = prev;
        while (off < end) {
            srlm_tagmatch_result r = srlm_tagmatch_feed(m, text + off, end - off);
            off += r.consumed;
            if (r.safe_end < emitted) problems++; /* never retracts */
            /* emit [emitted, safe_end): none of it may be inside a match */
            for (int k = 0; k < nm; k++) {
                size_t ms = ends[k] - strlen(pats[which[k]]);
                if (r.safe_end > ms && emitted < ends[k] && r.pattern < 0) problems++;
            }
            if (r.safe_end > emitted) emitted = r.safe_end;
            if (r.pattern >= 0) {
                if (found >= nm || r.match_end != ends[found] || r.pattern != which[found] ||
                    r.match_start != ends[found] - strlen(pats[which[found]]) || r.safe_end != r.match_start)
                    problems++;
                found++;
                emitted = r.match_end; /* the match itself is handled by the caller */
            }
        }
        prev = end;
    }
    if (found != nm) problems++;
    return problems;
}

static void test_tagmatch(void) {
    const char *pats[] = {"</intermediate_sql>", "</sql>", "\n\nUser:", "aab", "ab"};
    const int np = 5;
    srlm_tagmatch *m;
    CHECK_OK(srlm_tagmatch_create(pats, NULL, np, &m));
    /* Every single split point and every pair of split points of a text with matches. */
    const char *text = "SELECT x FROM t</intermediate_sql>rows: 3</sql>aaab\n\nUser: x</sq</sql";
    size_t n = strlen(text);
    int problems = 0, runs = 0;
    for (size_t i = 0; i <= n; i++) {
        size_t cuts1[1] = {i};
        problems += stream_check(m, text, n, cuts1, 1, pats, np);
        runs++;
        for (size_t j = i; j <= n; j++) {
            size_t cuts2[2] = {i, j};
            problems += stream_check(m, text, n, cuts2, 2, pats, np);
            runs++;
        }
    }
    /* Byte by byte. */
    size_t cuts[128];
    for (size_t i = 0; i < n; i++) cuts[i] = i;
    problems += stream_check(m, text, n, cuts, (int)n, pats, np);
    CHECK(problems == 0, "%d problems over %d split patterns of %zu bytes", problems, runs, n);
    printf("  tags: %d split patterns (all 1- and 2-cut splits, byte by byte): matches and hold-back correct\n",
           runs + 1);

    /* Random streams over a tiny alphabet, random chunking: overlapping prefixes galore. */
    const char *pats2[] = {"abab", "aba", "bb", "abc"};
    srlm_tagmatch *m2;
    CHECK_OK(srlm_tagmatch_create(pats2, NULL, 4, &m2));
    unsigned long long r = 3;
    problems = 0;
    for (int t = 0; t < 2000; t++) {
        char s[40];
        size_t len = 1 + test_rand_u64(&r) % 39;
        for (size_t i = 0; i < len; i++) s[i] = "abc"[test_rand_u64(&r) % 3];
        size_t cc[40];
        int k = 0;
        for (size_t i = 1; i < len; i++)
            if (test_rand_u64(&r) % 3 == 0) cc[k++] = i;
        problems += stream_check(m2, s, len, cc, k, pats2, 4);
    }
    CHECK(problems == 0, "%d problems on random streams", problems);
    printf("  tags: 2000 random streams over {a,b,c} with overlapping patterns: no problems\n");

    /* The hold-back is exactly the longest live prefix. */
    srlm_tagmatch_reset(m);
    srlm_tagmatch_result res = srlm_tagmatch_feed(m, "hello </interm", 14);
    CHECK(res.pattern < 0 && res.safe_end == 6, "hold-back of '</interm': safe_end %llu", (unsigned long long)res.safe_end);
    res = srlm_tagmatch_feed(m, "x", 1);
    CHECK(res.pattern < 0 && res.safe_end == 15, "after a breaking byte: safe_end %llu", (unsigned long long)res.safe_end);
    srlm_tagmatch *bad = NULL;
    CHECK_ERR(srlm_tagmatch_create((const char *[]){""}, NULL, 1, &bad), SRLM_ERR_INVALID, "empty");
    srlm_tagmatch_destroy(NULL);
    srlm_tagmatch_destroy(m);
    srlm_tagmatch_destroy(m2);
}

/* ---- micro-benchmark ------------------------------------------------------------------ */

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void bench(srlm_sampler *big) {
    const int32_t V = QWEN_V, R = 8;
    float *rows = malloc((size_t)R * V * sizeof *rows);
    unsigned long long r = 21;
    /* Logits shaped like a language model's: mostly low, a few dozen plausible ids. */
    for (size_t i = 0; i < (size_t)R * V; i++) rows[i] = test_rand_uniform(&r, -8, 4);
    for (int b = 0; b < R; b++)
        for (int j = 0; j < 40; j++) rows[(size_t)b * V + test_rand_u64(&r) % (uint64_t)V] += 10.0f;
    struct { const char *name; float t; int32_t k; float p, mp, pen; } cfg[] = {
        {"greedy", 0, 0, 1, 0, 1}, {"top-p 0.9", 1, 0, 0.9f, 0, 1}, {"T 0.7 top-p 0.9", 0.7f, 0, 0.9f, 0, 1},
        {"T 1 (no truncation)", 1, 0, 1, 0, 1}, {"top-k 40", 1, 40, 1, 0, 1}, {"min-p 0.05", 1, 0, 1, 0.05f, 1},
        {"T 0.7 top-k 40 top-p 0.9 pen 1.1", 0.7f, 40, 0.9f, 0, 1.1f},
    };
    int32_t hist[64];
    for (int i = 0; i < 64; i++) hist[i] = (int32_t)(test_rand_u64(&r) % (uint64_t)V);
    printf("  benchmark, V = %d, one thread, CPU time per token:\n", V);
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        srlm_sample_params p;
        srlm_sample_params_default(&p);
        p.temperature = cfg[c].t;
        p.top_k = cfg[c].k;
        p.top_p = cfg[c].p;
        p.min_p = cfg[c].mp;
        p.repeat_penalty = cfg[c].pen;
        srlm_sample_seq qs[8];
        for (int b = 0; b < R; b++) {
            qs[b] = seq_of(&p, (uint64_t)b, 0);
            qs[b].history = hist;
            qs[b].n_history = 64;
        }
        srlm_sample_out o[8];
        int iters = 0;
        double t0 = now_s(), t1;
        do {
            for (int b = 0; b < R; b++) qs[b].position++;
            CHECK_OK(srlm_sampler_sample(big, rows, R, qs, o));
            iters++;
            t1 = now_s();
        } while (t1 - t0 < 0.1 || iters < 3);
        printf("    %-34s %8.1f us/token\n", cfg[c].name, (t1 - t0) / (iters * R) * 1e6);
    }
    free(rows);
}

int main(void) {
    srlm_sampler *big;
    CHECK_OK(srlm_sampler_create(QWEN_V, &big));
    if (!big) return test_finish("sampler");
    test_greedy(big);
    test_frequencies();
    test_kept_sets(big);
    test_repetition();
    test_logprobs(big);
    test_batch_independence(big);
    test_finish_and_errors();
    test_tagmatch();
    bench(big);
    srlm_sampler_destroy(big);
    return test_finish("sampler");
}
