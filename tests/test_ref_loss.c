/* test_ref_loss.c: the CPU references of cross-entropy (fused softmax, weights, log-prob,
 * entropy), KL divergence to teacher logits (forward/reverse, temperature), AdamW and
 * gradient clipping, against double-precision twins written here, closed forms, finite
 * differences in double, and numbers recorded from PyTorch 1.13 (torch.optim.AdamW,
 * clip_grad_norm_). */
#include "ref_check.h"

#define TOL_FWD 1e-5
#define TOL_GRAD 1e-5

/* ---- cross-entropy ------------------------------------------------------------------- */

typedef struct { double *x; const int *t; const float *w; int N, V; double scale; } ce_ctx;

/* Double twin: per-row lse, logprob, entropy; returns scale * sum w * -logprob. */
static double ce_fwd_d(const ce_ctx *c, double *lse, double *lp, double *ent) {
    double loss = 0.0;
    for (int n = 0; n < c->N; n++) {
        const double *x = c->x + (size_t)n * c->V;
        double mx = -INFINITY, s = 0.0, pl = 0.0;
        for (int v = 0; v < c->V; v++) mx = fmax(mx, x[v]);
        for (int v = 0; v < c->V; v++) s += exp(x[v] - mx);
        double l = mx + log(s);
        for (int v = 0; v < c->V; v++) pl += exp(x[v] - l) * x[v];
        int t = c->t[n];
        double logp = (t >= 0 && t < c->V) ? x[t] - l : 0.0;
        if (lse) lse[n] = l;
        if (lp) lp[n] = logp;
        if (ent) ent[n] = l - pl;
        loss -= (c->w ? c->w[n] : 1.0) * logp;
    }
    return c->scale * loss;
}

static double ce_loss(void *p) { return ce_fwd_d(p, NULL, NULL, NULL); }

static void test_crossentropy(void) {
    printf("cross-entropy\n");
    int shapes[][2] = {{1, 1}, {7, 13}, {3, 127}, {13, 4099}, {2, 151936}};
    for (int si = 0; si < 5; si++) {
        int N = shapes[si][0], V = shapes[si][1];
        size_t n = (size_t)N * V;
        char sz[48];
        snprintf(sz, sizeof sz, "N=%d V=%d", N, V);
        float *x = ref_randf(n, -6, 6), *w = ref_randf((size_t)N, 0, 2);
        int *t = malloc((size_t)N * sizeof *t);
        for (int i = 0; i < N; i++) t[i] = (int)(test_rand_u64(&ref_seed) % (unsigned)V);
        if (N >= 7) { t[2] = -100; w[4] = 0.0f; }  // an ignored target and a zero weight
        float *lp = malloc((size_t)N * sizeof *lp), *ent = malloc((size_t)N * sizeof *ent);
        float *lse = malloc((size_t)N * sizeof *lse);
        ce_ctx c = {ref_to_d(x, n), t, w, N, V, 1.0};
        double *wl = ref_zeros_d((size_t)N), *wlp = ref_zeros_d((size_t)N), *went = ref_zeros_d((size_t)N);
        double loss = srlm_ref_crossentropy_fwd(lp, ent, lse, x, t, w, N, V);
        double wloss = ce_fwd_d(&c, wl, wlp, went);
        float lossf = (float)loss;
        ref_compare("crossentropy_fwd loss", sz, &lossf, &wloss, 1, TOL_FWD);
        ref_compare("crossentropy_fwd logprob", sz, lp, wlp, (size_t)N, TOL_FWD);
        ref_compare("crossentropy_fwd entropy", sz, ent, went, (size_t)N, TOL_FWD);
        ref_compare("crossentropy_fwd lse", sz, lse, wl, (size_t)N, TOL_FWD);
        if (N >= 7) CHECK(lp[2] == 0.0f, "ignored target has logprob 0");

        float *dx = malloc(n * sizeof *dx), *dx2 = malloc(n * sizeof *dx2);
        srlm_ref_crossentropy_bwd(dx, x, lse, t, w, 0.5f, N, V);
        srlm_ref_crossentropy_bwd(dx2, x, NULL, t, w, 0.5f, N, V);  // lse recomputed
        ref_compare_f("crossentropy_bwd lse NULL", sz, dx2, dx, n, 1e-6);
        memcpy(dx2, x, n * sizeof *dx2);
        srlm_ref_crossentropy_bwd(dx2, dx2, lse, t, w, 0.5f, N, V);  // in place
        CHECK(!memcmp(dx, dx2, n * sizeof *dx), "crossentropy_bwd in place %s", sz);
        if (n <= 5000) {
            double *g = ref_zeros_d(n);
            c.scale = 0.5;
            ref_fd(ce_loss, &c, c.x, n, g);
            ref_compare("crossentropy_bwd fd", sz, dx, g, n, V == 1 ? 1e-9 : TOL_GRAD);
            free(g);
        } else {  // large rows: the closed form w * scale * (softmax - onehot) in double
            double *g = ref_zeros_d(n);
            for (int r = 0; r < N; r++)
                for (int v = 0; v < V; v++)
                    g[(size_t)r * V + v] = (t[r] < 0 || t[r] >= V) ? 0.0 :
                        0.5 * w[r] * (exp(c.x[(size_t)r * V + v] - wl[r]) - (v == t[r]));
            ref_compare("crossentropy_bwd closed form", sz, dx, g, n, TOL_GRAD);
            free(g);
        }
        free(x); free(w); free(t); free(lp); free(ent); free(lse); free(c.x); free(wl); free(wlp); free(went);
        free(dx); free(dx2);
    }
    // uniform logits: loss = log V per token, entropy = log V; weights NULL mean 1
    enum { N = 3, V = 1000 };
    float *x = malloc((size_t)N * V * sizeof *x), lp[N], ent[N];
    srlm_ref_fill(x, 0.7f, (size_t)N * V);
    int t[N] = {0, 999, 500};
    double loss = srlm_ref_crossentropy_fwd(lp, ent, NULL, x, t, NULL, N, V);
    double lv = log((double)V);
    printf("  uniform logits V=%d: loss %.9f (want %.9f), entropy %.9f\n", V, loss, N * lv, ent[0]);
    CHECK(fabs(loss - N * lv) < 1e-5 && fabs(ent[1] - lv) < 1e-5 && fabs(lp[2] + lv) < 1e-5,
          "CE of uniform logits = log V");
    free(x);
}

/* ---- KL ------------------------------------------------------------------------------ */

typedef struct { double *s; const float *t; const float *w; int N, V; double tau, scale; srlm_kl_dir dir; } kl_ctx;

static double kl_fwd_d(const kl_ctx *c, double *kl) {
    double total = 0.0;
    for (int n = 0; n < c->N; n++) {
        const double *s = c->s + (size_t)n * c->V;
        const float *t = c->t + (size_t)n * c->V;
        double ms = -INFINITY, mt = -INFINITY, zs = 0.0, zt = 0.0, k = 0.0;
        for (int v = 0; v < c->V; v++) { ms = fmax(ms, s[v] / c->tau); mt = fmax(mt, t[v] / c->tau); }
        for (int v = 0; v < c->V; v++) { zs += exp(s[v] / c->tau - ms); zt += exp(t[v] / c->tau - mt); }
        for (int v = 0; v < c->V; v++) {
            double lps = s[v] / c->tau - ms - log(zs), lpt = t[v] / c->tau - mt - log(zt);
            k += c->dir == SRLM_KL_FORWARD ? exp(lpt) * (lpt - lps) : exp(lps) * (lps - lpt);
        }
        if (kl) kl[n] = k;
        total += (c->w ? c->w[n] : 1.0) * k;
    }
    return c->scale * total;
}

static double kl_loss(void *p) { return kl_fwd_d(p, NULL); }

static void test_kl(void) {
    printf("KL divergence\n");
    int shapes[][2] = {{1, 1}, {7, 13}, {3, 127}, {13, 4099}};
    const char *dname[] = {"forward", "reverse"};
    float taus[] = {1.0f, 2.5f};
    for (int si = 0; si < 4; si++)
        for (int d = 0; d < 2; d++)
            for (int ti = 0; ti < 2; ti++) {
                int N = shapes[si][0], V = shapes[si][1];
                size_t n = (size_t)N * V;
                char sz[64], nm[48];
                snprintf(sz, sizeof sz, "N=%d V=%d tau=%.1f", N, V, taus[ti]);
                float *s = ref_randf(n, -5, 5), *t = ref_randf(n, -5, 5), *w = ref_randf((size_t)N, 0, 2);
                float *kl = malloc((size_t)N * sizeof *kl), *ds = malloc(n * sizeof *ds);
                kl_ctx c = {ref_to_d(s, n), t, w, N, V, taus[ti], 1.0, (srlm_kl_dir)d};
                double *wk = ref_zeros_d((size_t)N);
                double tot = srlm_ref_kl_fwd(kl, s, t, w, taus[ti], (srlm_kl_dir)d, N, V);
                double wtot = kl_fwd_d(&c, wk);
                float totf = (float)tot;
                snprintf(nm, sizeof nm, "kl_fwd %s total", dname[d]);
                ref_compare(nm, sz, &totf, &wtot, 1, TOL_FWD);
                snprintf(nm, sizeof nm, "kl_fwd %s per row", dname[d]);
                ref_compare(nm, sz, kl, wk, (size_t)N, TOL_FWD);
                int nonneg = 1;
                for (int i = 0; i < N; i++) nonneg &= kl[i] >= -1e-6f;
                CHECK(nonneg, "KL >= 0");
                srlm_ref_kl_bwd(ds, s, t, w, taus[ti], (srlm_kl_dir)d, 0.75f, N, V);
                float *ds2 = malloc(n * sizeof *ds2);
                memcpy(ds2, s, n * sizeof *ds2);
                srlm_ref_kl_bwd(ds2, ds2, t, w, taus[ti], (srlm_kl_dir)d, 0.75f, N, V);
                CHECK(!memcmp(ds, ds2, n * sizeof *ds), "kl_bwd in place");
                if (n <= 5000) {
                    double *g = ref_zeros_d(n);
                    c.scale = 0.75;
                    ref_fd(kl_loss, &c, c.s, n, g);
                    snprintf(nm, sizeof nm, "kl_bwd %s fd", dname[d]);
                    ref_compare(nm, sz, ds, g, n, V == 1 ? 1e-7 : TOL_GRAD);  // V=1: exact 0, abs
                    free(g);
                }
                free(s); free(t); free(w); free(kl); free(ds); free(ds2); free(c.s); free(wk);
            }
    // equal distributions (also up to a constant shift of the logits) have KL 0 and gradient 0
    enum { N = 2, V = 127 };
    float *s = ref_randf(N * V, -4, 4), *t = malloc(N * V * sizeof *t), kl[N], ds[N * V];
    for (int i = 0; i < N * V; i++) t[i] = s[i] + 3.0f * (float)(i / V);
    for (int d = 0; d < 2; d++) {
        double tot = srlm_ref_kl_fwd(kl, s, t, NULL, 1.0f, (srlm_kl_dir)d, N, V);
        srlm_ref_kl_bwd(ds, s, t, NULL, 1.0f, (srlm_kl_dir)d, 1.0f, N, V);
        double gmax = 0.0;
        for (int i = 0; i < N * V; i++) gmax = fmax(gmax, fabs(ds[i]));
        printf("  kl %s of equal distributions: %.3e, max |grad| %.3e\n", dname[d], tot, gmax);
        CHECK(fabs(tot) < 1e-6 && gmax < 1e-6, "KL of equal dists = 0");
    }
    free(s); free(t);
}

/* ---- top-k KL ---------------------------------------------------------------------- */

typedef struct { double *s; const int *ids; const float *tlogp; const float *w; int N, V, K; double tau, scale; srlm_kl_dir dir; } topk_ctx;

/* Double twin: buckets built from an explicit membership mask. */
static double topk_fwd_d(const topk_ctx *c, double *kl) {
    double total = 0.0;
    char *in = malloc((size_t)c->V);
    for (int n = 0; n < c->N; n++) {
        const double *s = c->s + (size_t)n * c->V;
        const int *ids = c->ids + (size_t)n * c->K;
        const float *lt = c->tlogp + (size_t)n * c->K;
        memset(in, 0, (size_t)c->V);
        for (int k = 0; k < c->K; k++) in[ids[k]] = 1;
        double mx = -INFINITY, z = 0.0, q_rest = 0.0, pt_rest = 1.0, k_sum = 0.0;
        for (int v = 0; v < c->V; v++) mx = fmax(mx, s[v] / c->tau);
        for (int v = 0; v < c->V; v++) z += exp(s[v] / c->tau - mx);
        for (int v = 0; v < c->V; v++)
            if (!in[v]) q_rest += exp(s[v] / c->tau - mx) / z;
        for (int k = 0; k < c->K; k++) {
            double lps = s[ids[k]] / c->tau - mx - log(z), lpt = lt[k];
            pt_rest -= exp(lpt);
            k_sum += c->dir == SRLM_KL_FORWARD ? exp(lpt) * (lpt - lps) : exp(lps) * (lps - lpt);
        }
        if (c->K < c->V) {
            pt_rest = fmax(pt_rest, 1e-30);
            q_rest = fmax(q_rest, 1e-30);
            k_sum += c->dir == SRLM_KL_FORWARD ? pt_rest * log(pt_rest / q_rest) : q_rest * log(q_rest / pt_rest);
        }
        if (kl) kl[n] = k_sum;
        total += (c->w ? c->w[n] : 1.0) * k_sum;
    }
    free(in);
    return c->scale * total;
}

static double topk_loss(void *p) { return topk_fwd_d(p, NULL); }

static void test_kl_topk(void) {
    printf("top-k KL\n");
    int shapes[][3] = {{1, 2, 1}, {7, 13, 4}, {3, 127, 16}, {7, 13, 13}, {2, 4099, 64}};
    const char *dname[] = {"forward", "reverse"};
    for (int si = 0; si < 5; si++)
        for (int d = 0; d < 2; d++) {
            int N = shapes[si][0], V = shapes[si][1], K = shapes[si][2];
            float tau = 1.5f;
            size_t n = (size_t)N * V, nk = (size_t)N * K;
            char sz[64], nm[48];
            snprintf(sz, sizeof sz, "N=%d V=%d K=%d", N, V, K);
            float *s = ref_randf(n, -5, 5), *t = ref_randf(n, -5, 5), *w = ref_randf((size_t)N, 0, 2);
            int *ids = malloc(nk * sizeof *ids);
            float *lt = malloc(nk * sizeof *lt);
            // the teacher's K most likely tokens (selection order) and their log-probs at tau
            for (int r = 0; r < N; r++) {
                const float *tr = t + (size_t)r * V;
                double mx = -INFINITY, z = 0.0;
                for (int v = 0; v < V; v++) mx = fmax(mx, tr[v] / (double)tau);
                for (int v = 0; v < V; v++) z += exp(tr[v] / (double)tau - mx);
                for (int k = 0; k < K; k++) {
                    int best = -1;
                    for (int v = 0; v < V; v++) {
                        int taken = 0;
                        for (int j = 0; j < k; j++) taken |= ids[(size_t)r * K + j] == v;
                        if (!taken && (best < 0 || tr[v] > tr[best])) best = v;
                    }
                    ids[(size_t)r * K + k] = best;
                    lt[(size_t)r * K + k] = (float)(tr[best] / (double)tau - mx - log(z));
                }
            }
            float *kl = malloc((size_t)N * sizeof *kl), *klf = malloc((size_t)N * sizeof *klf);
            topk_ctx c = {ref_to_d(s, n), ids, lt, w, N, V, K, tau, 1.0, (srlm_kl_dir)d};
            double *wk = ref_zeros_d((size_t)N);
            srlm_ref_kl_topk_fwd(kl, s, ids, lt, w, tau, (srlm_kl_dir)d, N, V, K);
            topk_fwd_d(&c, wk);
            snprintf(nm, sizeof nm, "kl_topk_fwd %s", dname[d]);
            ref_compare(nm, sz, kl, wk, (size_t)N, TOL_FWD);
            // grouping tokens can only lose information: bucketed KL <= full KL (data processing)
            srlm_ref_kl_fwd(klf, s, t, NULL, tau, (srlm_kl_dir)d, N, V);
            int dpi = 1;
            for (int r = 0; r < N; r++) dpi &= kl[r] <= klf[r] * (1.0f + 1e-5f) + 1e-6f;
            CHECK(dpi, "top-k KL <= full KL (%s %s)", dname[d], sz);
            float *ds = malloc(n * sizeof *ds);
            srlm_ref_kl_topk_bwd(ds, s, ids, lt, w, tau, (srlm_kl_dir)d, 0.75f, N, V, K);
            if (K == V) {  // the whole vocabulary: the full KL and its gradient
                float *dsf = malloc(n * sizeof *dsf);
                srlm_ref_kl_fwd(klf, s, t, w, tau, (srlm_kl_dir)d, N, V);
                srlm_ref_kl_bwd(dsf, s, t, w, tau, (srlm_kl_dir)d, 0.75f, N, V);
                snprintf(nm, sizeof nm, "kl_topk K=V = kl %s", dname[d]);
                ref_compare_f(nm, sz, kl, klf, (size_t)N, TOL_FWD);
                snprintf(nm, sizeof nm, "kl_topk_bwd K=V = kl %s", dname[d]);
                ref_compare_f(nm, sz, ds, dsf, n, TOL_FWD);
                free(dsf);
            }
            if (n <= 5000) {
                double *g = ref_zeros_d(n);
                c.scale = 0.75;
                ref_fd(topk_loss, &c, c.s, n, g);
                snprintf(nm, sizeof nm, "kl_topk_bwd %s fd", dname[d]);
                ref_compare(nm, sz, ds, g, n, TOL_GRAD);
                free(g);
            }
            free(s); free(t); free(w); free(ids); free(lt); free(kl); free(klf); free(c.s); free(wk); free(ds);
        }
}

/* ---- AdamW and clipping -------------------------------------------------------------- */

static void test_adamw(void) {
    printf("adamw / clipping\n");
    // PyTorch 1.13 torch.optim.AdamW(lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1 / 0),
    // 3 steps with these gradients from these parameters (float32).
    const float p0[5] = {0.5f, -1.25f, 2.0f, 0.0f, -0.03125f};
    const float grads[3][5] = {{0.1f, -0.2f, 0.3f, -0.4f, 0.5f}, {1.5f, 0.25f, -0.75f, 0.0f, -2.0f},
                               {-0.3f, 0.6f, 0.01f, 1e-3f, 0.2f}};
    const float torch_p[2][5] = {{0.476041883f, -1.24401748f, 1.99175596f, 0.0220570806f, -0.0319142938f},
                                 {0.477512598f, -1.24774528f, 1.99773431f, 0.0220838562f, -0.0320224017f}};
    const float torch_m[5] = {0.113100007f, 0.0663000047f, -0.0421999991f, -0.0322999991f, -0.119499989f};
    const float torch_v[5] = {0.111826248f, 0.022773752f, 0.030785f, 0.00722004985f, 0.203281254f};
    for (int dec = 0; dec < 2; dec++) {
        float p[5], m[5] = {0}, v[5] = {0};
        memcpy(p, p0, sizeof p);
        for (int t = 1; t <= 3; t++)
            srlm_ref_adamw_step(p, m, v, grads[t - 1], 5, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, dec == 0, t, 1.0f);
        const char *nm = dec == 0 ? "decay 0.1" : "no decay";
        ref_compare_f("adamw vs torch param", nm, p, torch_p[dec], 5, 1e-6);
        ref_compare_f("adamw vs torch m", nm, m, torch_m, 5, 1e-6);
        ref_compare_f("adamw vs torch v", nm, v, torch_v, 5, 1e-6);
    }
    // double twin over 10 steps on 4099 parameters with grad_scale (clipping) folded in
    size_t n = 4099;
    float *p = ref_randf(n, -1, 1), *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    double *pd = ref_to_d(p, n), *md = ref_zeros_d(n), *vd = ref_zeros_d(n);
    for (int t = 1; t <= 10; t++) {
        float *g = ref_randf(n, -3, 3);
        srlm_ref_adamw_step(p, m, v, g, n, 3e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, t, 0.25f);
        for (size_t i = 0; i < n; i++) {
            double gi = g[i] * 0.25;
            pd[i] *= 1.0 - (double)3e-3f * (double)0.01f;
            md[i] = (double)0.9f * md[i] + (1.0 - (double)0.9f) * gi;
            vd[i] = (double)0.999f * vd[i] + (1.0 - (double)0.999f) * gi * gi;
            double mh = md[i] / (1.0 - pow((double)0.9f, t)), vh = vd[i] / (1.0 - pow((double)0.999f, t));
            pd[i] -= (double)3e-3f * mh / (sqrt(vh) + (double)1e-8f);
        }
        free(g);
    }
    ref_compare("adamw 10 steps param", "n=4099", p, pd, n, 2e-6);
    ref_compare("adamw 10 steps m", "n=4099", m, md, n, 1e-5);
    ref_compare("adamw 10 steps v", "n=4099", v, vd, n, 1e-5);
    // first step closed form: p1 = p0 (1 - lr wd) - lr g / (|g| + eps)
    float p1 = 2.0f, m1 = 0.0f, v1 = 0.0f, g1 = -0.5f;
    srlm_ref_adamw_step(&p1, &m1, &v1, &g1, 1, 0.1f, 0.9f, 0.95f, 1e-8f, 0.5f, 1, 1, 1.0f);
    double want1 = 2.0 * (1.0 - 0.05) + 0.1 * 0.5 / (0.5 + 1e-8);
    ref_compare("adamw first step", "n=1", &p1, &want1, 1, 1e-6);
    free(p); free(m); free(v); free(pd); free(md); free(vd);

    // clipping: PyTorch clip_grad_norm_([a, b], 1.0) on a.grad = (3,-4,12), b.grad = (0.5,-84)
    float a[3] = {3.0f, -4.0f, 12.0f}, b[2] = {0.5f, -84.0f};
    float *gs[2] = {a, b};
    size_t sizes[2] = {3, 2};
    float norm = srlm_ref_clip_grad_norm(gs, sizes, 2, 1.0f);
    const float torch_clipped[5] = {0.0352935046f, -0.0470580086f, 0.141174018f, 0.00588225108f, -0.988218188f};
    float got[5] = {a[0], a[1], a[2], b[0], b[1]};
    double wn = sqrt(7225.25);
    ref_compare("clip_grad_norm norm", "2 tensors", &norm, &wn, 1, 1e-7);
    ref_compare_f("clip_grad_norm vs torch", "2 tensors", got, torch_clipped, 5, 1e-6);
    // below the threshold nothing changes
    float c[3] = {0.1f, 0.2f, -0.3f};
    float *gc[1] = {c};
    size_t sc[1] = {3};
    float nc = srlm_ref_clip_grad_norm(gc, sc, 1, 1.0f);
    CHECK(c[0] == 0.1f && c[1] == 0.2f && c[2] == -0.3f && fabsf(nc - 0.374165739f) < 1e-7f,
          "no clipping under max_norm (norm %.9g)", nc);
    CHECK(srlm_ref_clip_scale(10.0f, 1.0f) < 0.1f && srlm_ref_clip_scale(0.5f, 1.0f) == 1.0f, "clip_scale");
}

int main(void) {
    test_crossentropy();
    test_kl();
    test_kl_topk();
    test_adamw();
    return test_finish("test_ref_loss");
}
