/* test_ops_loss.c: cross-entropy (shaders/crossentropy.comp), KL divergence (kl.comp) and
 * top-k KL (kl_topk.comp) against srlm_ref_crossentropy_fwd/_bwd, srlm_ref_kl_fwd/_bwd and
 * srlm_ref_kl_topk_fwd/_bwd on fresh random logits at
 * awkward sizes, with ignored targets, zero weights, a temperature, both KL directions; the
 * vocabulary and row tiling under a lowered binding limit (64 KiB: rows of 20,000 floats
 * split into column windows, rows of 4,099 in blocks of 3), checked also to give the same
 * bits as the untiled run; workgroups of several subgroups (SRLM_ROW_WG=64); a replay
 * giving the same bits (determinism).
 * Tolerance: f32 against the double-summed reference, normalised squared error < 1e-7 for
 * every output (measured ~1e-16 .. 1e-10, printed), except the KL value of a student close
 * to its teacher (KL ~1e-3): < 1e-6 (measured ~1e-7, see kl_case). */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

#define TOL 1e-7

typedef struct ce_out {
    float *loss, *logprob, *entropy, *grad;
} ce_out;

/* Runs the device CE over (N,V) logits; fills o (malloc'd; grad when grad != 0). */
static void ce_gpu(gpu_env *g, const float *x, const int *tg, const float *w, int N, int V, float k, float scale,
                   int grad, ce_out *o) {
    size_t nv = (size_t)N * V;
    srlm_buf X = gpu_alloc(g, nv * 4, x), T = gpu_alloc(g, (size_t)N * 4, tg), W = gpu_alloc(g, (size_t)N * 4, w);
    srlm_buf L = gpu_alloc(g, (size_t)N * 4, NULL), P = gpu_alloc(g, (size_t)N * 4, NULL), E = gpu_alloc(g, (size_t)N * 4, NULL);
    srlm_buf S = gpu_alloc(g, srlm_op_crossentropy_scratch_bytes(g->ctx, N, V), NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_crossentropy(g->cmd, L, P, E, S, X, T, W, N, V, k, scale, grad));
    CHECK_OK(srlm_cmd_run(g->cmd));
    o->loss = malloc((size_t)N * 4), o->logprob = malloc((size_t)N * 4), o->entropy = malloc((size_t)N * 4);
    gpu_read(g, L, o->loss, (size_t)N * 4);
    gpu_read(g, P, o->logprob, (size_t)N * 4);
    gpu_read(g, E, o->entropy, (size_t)N * 4);
    o->grad = NULL;
    if (grad) {
        o->grad = malloc(nv * 4);
        gpu_read(g, X, o->grad, nv * 4);
    }
    srlm_arena_reset(g->arena);
}

static void ce_free(ce_out *o) { free(o->loss), free(o->logprob), free(o->entropy), free(o->grad); }

static int same_bits(const ce_out *a, const ce_out *b, int N, int V) {
    size_t n = (size_t)N * 4;
    return !memcmp(a->loss, b->loss, n) && !memcmp(a->logprob, b->logprob, n) && !memcmp(a->entropy, b->entropy, n) &&
           (!a->grad || !memcmp(a->grad, b->grad, n * V));
}

static void make_inputs(unsigned long long *seed, int N, int V, float *x, int *tg, float *w) {
    fill_random(x, (size_t)N * V, seed, -8, 8);
    for (size_t i = 0; i < (size_t)N * V; i += 11) x[i] += 40; /* large logits: the max shift matters */
    for (int n = 0; n < N; n++) {
        tg[n] = (int)(test_rand_u64(seed) % (unsigned)V);
        w[n] = test_rand_uniform(seed, 0.1f, 2.0f);
    }
    if (N > 2) tg[1] = -100;     /* ignored */
    if (N > 3) tg[3] = V;        /* out of range: ignored */
    if (N > 4) w[4] = 0.0f;      /* zero weight */
}

/* logprob = z_t - lse: in f32 its error is a few ulps of the max logit and log S, however
 * small the result (a confident token has logprob ~ -1e-5 from logits ~ 45), as in any f32
 * log-softmax. So loss and logprob pass when nse < 1e-7 or every element is within
 * 4e-7 * (1 + |lse|) (times |w| for the loss) of the reference. */
static void check_lse_scaled(const char *what, const float *got, const float *want, const float *lse, const float *w, int N) {
    double e = nse(got, want, (size_t)N), worst = 0;
    for (int n = 0; n < N; n++) {
        double bound = 4e-7 * (1.0 + fabs(lse[n])) * (w ? fabs(w[n]) : 1.0);
        double d = fabs((double)got[n] - want[n]);
        double r = bound > 0 ? d / bound : (d > 0 ? INFINITY : 0);
        if (r > worst || d != d) worst = d != d ? INFINITY : r;
    }
    int ok = e < TOL || worst <= 1.0;
    printf("  %-40s n=%-9d nse=%.3g max |d|/(4e-7 (1+|lse|)) = %.3g %s\n", what, N, e, worst, ok ? "ok" : "FAIL");
    CHECK(ok, "%s: nse %.3g and error %.3g bounds", what, e, worst);
}

static void ce_case(gpu_env *g, unsigned long long *seed, int N, int V, float k, const char *tag, ce_out *keep) {
    size_t nv = (size_t)N * V;
    float *x = malloc(nv * 4), *w = malloc((size_t)N * 4), *xk = malloc(nv * 4), *dx = malloc(nv * 4);
    int *tg = malloc((size_t)N * sizeof(int));
    make_inputs(seed, N, V, x, tg, w);
    float scale = 0.37f;
    ce_out o;
    ce_gpu(g, x, tg, w, N, V, k, scale, 1, &o);
    /* the reference on z = k * x (exact for k = 1), gradient times k */
    for (size_t i = 0; i < nv; i++) xk[i] = x[i] * k;
    float *lp = malloc((size_t)N * 4), *ent = malloc((size_t)N * 4), *lse = malloc((size_t)N * 4), *loss = malloc((size_t)N * 4);
    double total = srlm_ref_crossentropy_fwd(lp, ent, lse, xk, tg, w, N, V);
    for (int n = 0; n < N; n++) loss[n] = (tg[n] >= 0 && tg[n] < V) ? -(w[n] * lp[n]) : 0.0f;
    srlm_ref_crossentropy_bwd(dx, xk, lse, tg, w, k == 1.0f ? scale : scale * k, N, V);
    char what[96];
    snprintf(what, sizeof what, "%sce loss (%d,%d) k=%g", tag, N, V, (double)k);
    check_lse_scaled(what, o.loss, loss, lse, w, N);
    snprintf(what, sizeof what, "%sce logprob (%d,%d)", tag, N, V);
    check_lse_scaled(what, o.logprob, lp, lse, NULL, N);
    snprintf(what, sizeof what, "%sce entropy (%d,%d)", tag, N, V);
    check_close(what, o.entropy, ent, (size_t)N, TOL);
    snprintf(what, sizeof what, "%sce dlogits in place (%d,%d)", tag, N, V);
    check_close(what, o.grad, dx, nv, TOL);
    double sum = 0;
    for (int n = 0; n < N; n++) sum += o.loss[n];
    CHECK(fabs(sum - total) <= 1e-5 * (fabs(total) + 1), "%s: loss sum %.9g vs ref %.9g", what, sum, total);
    for (int n = 0; n < N; n++) {
        if (tg[n] < 0 || tg[n] >= V || w[n] == 0.0f)
            for (int v = 0; v < V; v++)
                if (o.grad[(size_t)n * V + v] != 0.0f) {
                    CHECK(0, "%s: row %d (ignored or zero weight) has gradient %g at %d", what, n, o.grad[(size_t)n * V + v], v);
                    break;
                }
        if (tg[n] < 0 || tg[n] >= V) CHECK(o.logprob[n] == 0.0f && o.loss[n] == 0.0f, "%s: ignored row %d has loss", what, n);
    }
    if (keep) *keep = o;
    else ce_free(&o);
    free(x), free(w), free(xk), free(dx), free(tg), free(lp), free(ent), free(lse), free(loss);
}

/* keep (may be NULL): receives the device's kl (N) then dstudent (N,V), malloc'd. */
static void kl_case_keep(gpu_env *g, unsigned long long *seed, int N, int V, float tau, int dir, float noise,
                         const char *tag, float **keep) {
    size_t nv = (size_t)N * V;
    float *s = malloc(nv * 4), *t = malloc(nv * 4), *w = malloc((size_t)N * 4), *ds = malloc(nv * 4), *kl = malloc((size_t)N * 4);
    float *got = malloc(nv * 4), *gkl = malloc((size_t)N * 4);
    fill_random(t, nv, seed, -6, 6);
    fill_random(s, nv, seed, -noise, noise);
    for (size_t i = 0; i < nv; i++) s[i] += t[i]; /* student near the teacher when noise is small */
    for (int n = 0; n < N; n++) w[n] = test_rand_uniform(seed, 0.1f, 2.0f);
    if (N > 2) w[2] = 0.0f;
    float scale = 0.61f;
    srlm_buf S = gpu_alloc(g, nv * 4, s), T = gpu_alloc(g, nv * 4, t), W = gpu_alloc(g, (size_t)N * 4, w);
    srlm_buf K = gpu_alloc(g, (size_t)N * 4, NULL), X = gpu_alloc(g, srlm_op_kl_scratch_bytes(g->ctx, N, V), NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_kl(g->cmd, K, X, S, T, W, N, V, tau, dir, scale, 1));
    CHECK_OK(srlm_cmd_run(g->cmd));
    gpu_read(g, K, gkl, (size_t)N * 4);
    gpu_read(g, S, got, nv * 4);
    srlm_arena_reset(g->arena);
    srlm_ref_kl_fwd(kl, s, t, w, tau, (srlm_kl_dir)dir, N, V);
    srlm_ref_kl_bwd(ds, s, t, w, tau, (srlm_kl_dir)dir, scale, N, V);
    char what[96];
    snprintf(what, sizeof what, "%skl %s (%d,%d) tau=%g noise=%g", tag, dir ? "reverse" : "forward", N, V, (double)tau, (double)noise);
    /* a student near its teacher has KL ~1e-3 from row sums of ~1 whose f32 rounding (~1e-7)
     * it inherits through log(Ss/St): ~2e-7 absolute, so nse ~1e-7 there; allow 1e-6 */
    check_close(what, gkl, kl, (size_t)N, noise < 0.1f ? 1e-6 : TOL);
    snprintf(what, sizeof what, "%skl %s dstudent (%d,%d)", tag, dir ? "reverse" : "forward", N, V);
    check_close(what, got, ds, nv, TOL);
    if (keep) {
        *keep = malloc((size_t)N * 4 + nv * 4);
        memcpy(*keep, gkl, (size_t)N * 4);
        memcpy(*keep + N, got, nv * 4);
    }
    free(s), free(t), free(w), free(ds), free(kl), free(got), free(gkl);
}

static void kl_case(gpu_env *g, unsigned long long *seed, int N, int V, float tau, int dir, float noise, const char *tag) {
    kl_case_keep(g, seed, N, V, tau, dir, noise, tag, NULL);
}

/* kl_topk: a teacher known by its top K (distinct ids of random teacher logits, its
 * log-probabilities at tau over the full row, in double); rows 1 (and 5) have no entry
 * (ids[0] = -1): KL 0 and a zero gradient there. The reference runs on the other rows. */
static void topk_case(gpu_env *g, unsigned long long *seed, int N, int V, int K, float tau, int dir, const char *tag, float **keep) {
    size_t nv = (size_t)N * V, nk = (size_t)N * K;
    float *s = malloc(nv * 4), *t = malloc(nv * 4), *w = malloc((size_t)N * 4), *ds = calloc(nv, 4), *kl = calloc((size_t)N, 4);
    float *got = malloc(nv * 4), *gkl = malloc((size_t)N * 4), *lt = malloc(nk * 4);
    int *ids = malloc(nk * sizeof(int)), *perm = malloc((size_t)V * sizeof(int));
    fill_random(t, nv, seed, -6, 6);
    fill_random(s, nv, seed, -4, 4);
    for (int n = 0; n < N; n++) w[n] = test_rand_uniform(seed, 0.1f, 2.0f);
    for (int n = 0; n < N; n++) {
        /* the K largest teacher logits (a partial selection sort over a permutation) */
        const float *tr = t + (size_t)n * V;
        for (int v = 0; v < V; v++) perm[v] = v;
        for (int k = 0; k < K; k++) {
            int b = k;
            for (int v = k + 1; v < V; v++) if (tr[perm[v]] > tr[perm[b]]) b = v;
            int x = perm[k]; perm[k] = perm[b]; perm[b] = x;
        }
        double mx = -1e300, sum = 0;
        for (int v = 0; v < V; v++) mx = tr[v] / tau > mx ? tr[v] / tau : mx;
        for (int v = 0; v < V; v++) sum += exp(tr[v] / tau - mx);
        for (int k = 0; k < K; k++) {
            ids[(size_t)n * K + k] = perm[k];
            lt[(size_t)n * K + k] = (float)(tr[perm[k]] / tau - mx - log(sum));
        }
    }
    int skip[2] = {N > 1 ? 1 : -1, N > 5 ? 5 : -1};
    for (int i = 0; i < 2; i++) if (skip[i] >= 0) ids[(size_t)skip[i] * K] = -1;
    float scale = 0.61f;
    srlm_buf S = gpu_alloc(g, nv * 4, s), I = gpu_alloc(g, nk * 4, ids), L = gpu_alloc(g, nk * 4, lt), W = gpu_alloc(g, (size_t)N * 4, w);
    srlm_buf KL = gpu_alloc(g, (size_t)N * 4, NULL), X = gpu_alloc(g, srlm_op_kl_topk_scratch_bytes(g->ctx, N, V, K), NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_kl_topk(g->cmd, KL, X, S, I, L, W, N, V, K, tau, dir, scale, 1));
    CHECK_OK(srlm_cmd_run(g->cmd));
    gpu_read(g, KL, gkl, (size_t)N * 4);
    gpu_read(g, S, got, nv * 4);
    srlm_arena_reset(g->arena);
    for (int n = 0; n < N; n++) {
        if (n == skip[0] || n == skip[1]) continue;
        size_t o = (size_t)n * V, ok = (size_t)n * K;
        srlm_ref_kl_topk_fwd(kl + n, s + o, ids + ok, lt + ok, w + n, tau, (srlm_kl_dir)dir, 1, V, K);
        srlm_ref_kl_topk_bwd(ds + o, s + o, ids + ok, lt + ok, w + n, tau, (srlm_kl_dir)dir, scale, 1, V, K);
    }
    char what[96];
    snprintf(what, sizeof what, "%skl_topk %s (%d,%d) K=%d tau=%g", tag, dir ? "reverse" : "forward", N, V, K, (double)tau);
    check_close(what, gkl, kl, (size_t)N, TOL);
    snprintf(what, sizeof what, "%skl_topk %s dstudent (%d,%d) K=%d", tag, dir ? "reverse" : "forward", N, V, K);
    check_close(what, got, ds, nv, TOL);
    for (int i = 0; i < 2; i++)
        if (skip[i] >= 0) {
            int zero = gkl[skip[i]] == 0.0f;
            for (int v = 0; v < V; v++) zero &= got[(size_t)skip[i] * V + v] == 0.0f;
            CHECK(zero, "%s: row %d without a teacher entry has a KL or gradient", what, skip[i]);
        }
    if (keep) {
        *keep = malloc((size_t)N * 4 + nv * 4);
        memcpy(*keep, gkl, (size_t)N * 4);
        memcpy(*keep + N, got, nv * 4);
    }
    free(s), free(t), free(w), free(ds), free(kl), free(got), free(gkl), free(lt), free(ids), free(perm);
}

static void errors(gpu_env *g) {
    srlm_buf small = gpu_alloc(g, 64, NULL), big = gpu_alloc(g, 4096, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_ERR(srlm_op_crossentropy(g->cmd, big, big, big, big, small, big, big, 4, 100, 1, 1, 0), SRLM_ERR_INVALID, "logits");
    CHECK_ERR(srlm_op_crossentropy(g->cmd, big, big, big, big, big, big, big, 4, 0, 1, 1, 0), SRLM_ERR_INVALID, "shape");
    CHECK_ERR(srlm_op_kl(g->cmd, big, big, big, big, big, 2, 10, 0.0f, 0, 1, 0), SRLM_ERR_INVALID, "temperature");
    CHECK_ERR(srlm_op_kl(g->cmd, big, small, big, big, big, 2, 10, 1.0f, 0, 1, 0), SRLM_ERR_INVALID, "scratch");
    CHECK_ERR(srlm_op_kl_topk(g->cmd, big, big, big, big, big, big, 2, 10, 11, 1.0f, 0, 1, 0), SRLM_ERR_INVALID, "K = 11");
    CHECK_ERR(srlm_op_kl_topk(g->cmd, big, small, big, big, big, big, 2, 10, 4, 1.0f, 0, 1, 0), SRLM_ERR_INVALID, "scratch");
    CHECK_OK(srlm_cmd_end(g->cmd));
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0x5eed0105ull;
    const int Ns[] = {1, 7, 13}, Vs[] = {1, 13, 127, 1000, 4099};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++) ce_case(&g, &seed, Ns[i], Vs[j], 1.0f, "", NULL);
    ce_case(&g, &seed, 7, 1000, 0.5f, "[temperature] ", NULL);
    ce_case(&g, &seed, 5, 9000, 1.0f, "[3 tiles] ", NULL);
    for (int dir = 0; dir < 2; dir++) {
        kl_case(&g, &seed, 1, 1, 1.0f, dir, 1.0f, "");
        kl_case(&g, &seed, 7, 127, 1.0f, dir, 2.0f, "");
        kl_case(&g, &seed, 13, 4099, 2.0f, dir, 2.0f, "");
        kl_case(&g, &seed, 7, 1000, 1.0f, dir, 0.05f, "[near teacher] ");
        kl_case(&g, &seed, 3, 9000, 1.5f, dir, 1.0f, "[3 tiles] ");
    }
    for (int dir = 0; dir < 2; dir++) {
        topk_case(&g, &seed, 1, 1, 1, 1.0f, dir, "", NULL);
        topk_case(&g, &seed, 7, 127, 5, 1.0f, dir, "", NULL);
        topk_case(&g, &seed, 7, 127, 127, 1.0f, dir, "[K = V] ", NULL);
        topk_case(&g, &seed, 13, 4099, 64, 2.0f, dir, "", NULL);
        topk_case(&g, &seed, 3, 9000, 64, 1.5f, dir, "[3 tiles] ", NULL);
    }
    errors(&g);
    /* workgroups of several subgroups (as on a GPU): the cross-subgroup max/sum path */
    setenv("SRLM_ROW_WG", "64", 1);
    ce_case(&g, &seed, 7, 4099, 1.0f, "[wg 64] ", NULL);
    ce_case(&g, &seed, 3, 9000, 1.0f, "[wg 64] ", NULL);
    kl_case(&g, &seed, 7, 4099, 1.0f, 0, 1.0f, "[wg 64] ");
    kl_case(&g, &seed, 3, 9000, 2.0f, 1, 1.0f, "[wg 64] ");
    topk_case(&g, &seed, 7, 9000, 64, 1.0f, 0, "[wg 64] ", NULL);
    topk_case(&g, &seed, 7, 4099, 13, 2.0f, 1, "[wg 64] ", NULL);
    unsetenv("SRLM_ROW_WG");

    /* determinism: the same inputs twice give the same bits */
    unsigned long long s1 = 0xabcdef01ull, s2 = s1;
    ce_out a, b;
    ce_case(&g, &s1, 13, 9000, 1.0f, "[run 1] ", &a);
    ce_case(&g, &s2, 13, 9000, 1.0f, "[run 2] ", &b);
    CHECK(same_bits(&a, &b, 13, 9000), "two runs of the same cross-entropy differ in bits");
    float *k1, *k2;
    unsigned long long s5 = 0x1234ull, s6 = s5;
    kl_case_keep(&g, &s5, 7, 9000, 2.0f, 1, 1.0f, "[run 1] ", &k1);
    kl_case_keep(&g, &s6, 7, 9000, 2.0f, 1, 1.0f, "[run 2] ", &k2);
    CHECK(!memcmp(k1, k2, (size_t)7 * 9001 * 4), "two runs of the same KL differ in bits");
    free(k1), free(k2);
    unsigned long long s7 = 0x4321ull, s8 = s7;
    topk_case(&g, &s7, 7, 9000, 64, 1.0f, 1, "[run 1] ", &k1);
    topk_case(&g, &s8, 7, 9000, 64, 1.0f, 1, "[run 2] ", &k2);
    CHECK(!memcmp(k1, k2, (size_t)7 * 9001 * 4), "two runs of the same top-k KL differ in bits");
    free(k1), free(k2);

    /* tiling under a 64 KiB binding limit: column windows (V = 20000 > 16255 floats) and
     * blocks of 3 rows (V = 4099); the tile width stays 4096, so the bits equal the
     * untiled run's */
    ce_out c, d;
    unsigned long long s3 = 0x7777ull, s4 = s3;
    ce_case(&g, &s3, 7, 20000, 1.0f, "[untiled] ", &c);
    setenv("SRLM_MAX_BINDING_BYTES", "65536", 1);
    ce_case(&g, &s4, 7, 20000, 1.0f, "[64 KiB limit] ", &d);
    CHECK(same_bits(&c, &d, 7, 20000), "cross-entropy under the 64 KiB limit differs in bits from the untiled run");
    ce_case(&g, &seed, 13, 4099, 1.0f, "[64 KiB limit] ", NULL);
    kl_case(&g, &seed, 5, 20000, 2.0f, 0, 1.0f, "[64 KiB limit] ");
    kl_case(&g, &seed, 13, 4099, 1.0f, 1, 1.0f, "[64 KiB limit] ");
    topk_case(&g, &seed, 5, 20000, 64, 2.0f, 0, "[64 KiB limit] ", NULL);
    topk_case(&g, &seed, 13, 4099, 64, 1.0f, 1, "[64 KiB limit] ", NULL);
    /* the smallest limit: tiles shrink to the window (127 floats) */
    setenv("SRLM_MAX_BINDING_BYTES", "1024", 1);
    ce_case(&g, &seed, 3, 1000, 1.0f, "[1 KiB limit] ", NULL);
    kl_case(&g, &seed, 3, 1000, 1.0f, 1, 1.0f, "[1 KiB limit] ");
    /* 8 tiles of 127: the per-row passes go in blocks of 3 rows, the tiled ones row by row */
    ce_case(&g, &seed, 13, 1000, 1.0f, "[1 KiB limit] ", NULL);
    kl_case(&g, &seed, 13, 1000, 1.0f, 0, 1.0f, "[1 KiB limit] ");
    topk_case(&g, &seed, 13, 1000, 16, 1.0f, 1, "[1 KiB limit] ", NULL);
    /* rows of 100 floats: blocks of one row (the window holds 127 floats) */
    ce_case(&g, &seed, 13, 100, 1.0f, "[1 KiB limit] ", NULL);
    unsetenv("SRLM_MAX_BINDING_BYTES");
    ce_free(&a), ce_free(&b), ce_free(&c), ce_free(&d);
    return gpu_test_finish(&g, "test_ops_loss");
}
