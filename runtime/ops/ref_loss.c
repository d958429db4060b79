/* ref_loss.c: CPU reference of the losses over logits: cross-entropy fused with softmax
 * (per-token weights, log-probability of the target, entropy) and the KL divergence to
 * teacher logits with temperature, forward and reverse, with their gradients w.r.t. the
 * logits. Row sums in double. Whole rows, not tiled over the vocabulary as the device is. */
#include "ref.h"

#include <math.h>

/* log sum_v exp(x_v * k), max-shifted, the sum in double. */
static double row_lse(const float *x, int V, double k) {
    float mx = -INFINITY;
    for (int v = 0; v < V; v++) mx = x[v] > mx ? x[v] : mx;
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += exp(((double)x[v] - mx) * k);
    return mx * k + log(sum);
}

double srlm_ref_crossentropy_fwd(float *logprob, float *entropy, float *lse, const float *logits,
                                 const int *targets, const float *weights, int N, int V) {
    double loss = 0.0;
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * V;
        double l = row_lse(x, V, 1.0);
        double pl = 0.0;  // sum_v p_v * logit_v
        for (int v = 0; v < V; v++) pl += exp(x[v] - l) * x[v];
        int t = targets[n];
        double lp = (t >= 0 && t < V) ? x[t] - l : 0.0;
        if (logprob) logprob[n] = (float)lp;
        if (entropy) entropy[n] = (float)(l - pl);
        if (lse) lse[n] = (float)l;
        loss -= (weights ? weights[n] : 1.0) * lp;
    }
    return loss;
}

void srlm_ref_crossentropy_bwd(float *dlogits, const float *logits, const float *lse,
                               const int *targets, const float *weights, float scale, int N,
                               int V) {
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * V;
        float *dx = dlogits + (size_t)n * V;
        int t = targets[n];
        if (t < 0 || t >= V) {
            for (int v = 0; v < V; v++) dx[v] = 0.0f;
            continue;
        }
        float l = lse ? lse[n] : (float)row_lse(x, V, 1.0);  // before any in-place write
        float g = scale * (weights ? weights[n] : 1.0f);
        for (int v = 0; v < V; v++) {
            float p = expf(x[v] - l);
            dx[v] = g * (p - (v == t ? 1.0f : 0.0f));
        }
    }
}

/* One row's KL (direction dir) between softmax(s/tau) and softmax(t/tau); returns it and
 * the two log-sum-exps of the scaled logits. */
static double row_kl(const float *s, const float *t, int V, double tau, srlm_kl_dir dir,
                     double *ls, double *lt) {
    *ls = row_lse(s, V, 1.0 / tau);
    *lt = row_lse(t, V, 1.0 / tau);
    double kl = 0.0;
    for (int v = 0; v < V; v++) {
        double lps = s[v] / tau - *ls, lpt = t[v] / tau - *lt;
        kl += dir == SRLM_KL_FORWARD ? exp(lpt) * (lpt - lps) : exp(lps) * (lps - lpt);
    }
    return kl;
}

double srlm_ref_kl_fwd(float *kl, const float *student, const float *teacher,
                       const float *weights, float tau, srlm_kl_dir dir, int N, int V) {
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        double ls, lt;
        double k = row_kl(student + (size_t)n * V, teacher + (size_t)n * V, V, tau, dir, &ls,
                          &lt);
        if (kl) kl[n] = (float)k;
        total += (weights ? weights[n] : 1.0) * k;
    }
    return total;
}

void srlm_ref_kl_bwd(float *dstudent, const float *student, const float *teacher,
                     const float *weights, float tau, srlm_kl_dir dir, float scale, int N, int V) {
    for (int n = 0; n < N; n++) {
        const float *s = student + (size_t)n * V, *t = teacher + (size_t)n * V;
        float *ds = dstudent + (size_t)n * V;
        double ls, lt;
        double k = row_kl(s, t, V, tau, dir, &ls, &lt);  // row statistics before writing
        double g = (double)scale * (weights ? weights[n] : 1.0) / tau;
        for (int v = 0; v < V; v++) {
            double lps = s[v] / tau - ls, lpt = t[v] / tau - lt, ps = exp(lps);
            double d = dir == SRLM_KL_FORWARD ? ps - exp(lpt) : ps * (lps - lpt - k);
            ds[v] = (float)(g * d);
        }
    }
}

/* Top-k distillation: statistics of one row over the K+1 buckets. */
typedef struct {
    double ls;      // log sum exp(student / tau)
    double pt_rest; // teacher mass outside the top K (floored), 0 when K == V
    double q_rest;  // student mass outside the top K (floored), 0 when K == V
    double kl;
} topk_row;

static topk_row topk_stats(const float *s, const int *ids, const float *tlogp, int V, int K,
                           double tau, srlm_kl_dir dir) {
    topk_row r = {row_lse(s, V, 1.0 / tau), 0.0, 0.0, 0.0};
    double pt_top = 0.0, ps_top = 0.0;
    for (int k = 0; k < K; k++) {
        double lps = s[ids[k]] / tau - r.ls, lpt = tlogp[k];
        pt_top += exp(lpt);
        ps_top += exp(lps);
        r.kl += dir == SRLM_KL_FORWARD ? exp(lpt) * (lpt - lps) : exp(lps) * (lps - lpt);
    }
    if (K < V) {
        r.pt_rest = fmax(1.0 - pt_top, 1e-30);
        r.q_rest = fmax(1.0 - ps_top, 1e-30);
        double a = log(r.q_rest) - log(r.pt_rest);
        r.kl += dir == SRLM_KL_FORWARD ? -r.pt_rest * a : r.q_rest * a;
    }
    return r;
}

double srlm_ref_kl_topk_fwd(float *kl, const float *student, const int *tids, const float *tlogp,
                            const float *weights, float tau, srlm_kl_dir dir, int N, int V,
                            int K) {
    double total = 0.0;
    for (int n = 0; n < N; n++) {
        topk_row r = topk_stats(student + (size_t)n * V, tids + (size_t)n * K,
                                tlogp + (size_t)n * K, V, K, tau, dir);
        if (kl) kl[n] = (float)r.kl;
        total += (weights ? weights[n] : 1.0) * r.kl;
    }
    return total;
}

void srlm_ref_kl_topk_bwd(float *dstudent, const float *student, const int *tids,
                          const float *tlogp, const float *weights, float tau, srlm_kl_dir dir,
                          float scale, int N, int V, int K) {
    for (int n = 0; n < N; n++) {
        const float *s = student + (size_t)n * V;
        const int *ids = tids + (size_t)n * K;
        const float *lt = tlogp + (size_t)n * K;
        float *ds = dstudent + (size_t)n * V;
        topk_row r = topk_stats(s, ids, lt, V, K, tau, dir);
        double g = (double)scale * (weights ? weights[n] : 1.0) / tau;
        // every token first as a member of the rest bucket, then the top K overwritten
        double rest = 0.0;
        if (K < V)
            rest = dir == SRLM_KL_FORWARD ? 1.0 - r.pt_rest / r.q_rest
                                          : log(r.q_rest) - log(r.pt_rest) - r.kl;
        for (int v = 0; v < V; v++) ds[v] = (float)(g * exp(s[v] / tau - r.ls) * rest);
        for (int k = 0; k < K; k++) {
            double lps = s[ids[k]] / tau - r.ls, ps = exp(lps);
            double d = dir == SRLM_KL_FORWARD ? ps - exp(lt[k]) : ps * (lps - lt[k] - r.kl);
            ds[ids[k]] = (float)(g * d);
        }
    }
}
