/* ref_select.c: CPU reference of argmax and top-k over rows of logits, the selections a
 * device does before read-back in sampling. Exact semantics (ties, NaN), not speed: top-k
 * is O(K*V) per row. Not a sampler: temperature, top-p and randomness live in decode/. */
#include "ref.h"

#include <math.h>

/* The total order both ops select by: larger value first, NaN as -inf, ties by smaller
 * index. Returns nonzero when (xa, a) comes before (xb, b). */
static int before(float xa, int a, float xb, int b) {
    if (isnan(xa)) xa = -INFINITY;
    if (isnan(xb)) xb = -INFINITY;
    return xa > xb || (xa == xb && a < b);
}

void srlm_ref_argmax(int *out, const float *logits, int N, int V) {
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * V;
        int best = 0;
        for (int v = 1; v < V; v++)
            if (before(x[v], v, x[best], best)) best = v;
        out[n] = best;
    }
}

void srlm_ref_topk(int *ids, float *vals, const float *logits, int N, int V, int K) {
    for (int n = 0; n < N; n++) {
        const float *x = logits + (size_t)n * V;
        int prev = -1;
        for (int k = 0; k < K; k++) {
            // the first element in the order that comes after the previous pick
            int best = -1;
            for (int v = 0; v < V; v++) {
                if (prev >= 0 && !before(x[prev], prev, x[v], v)) continue;
                if (best < 0 || before(x[v], v, x[best], best)) best = v;
            }
            ids[(size_t)n * K + k] = best;
            if (vals) vals[(size_t)n * K + k] = x[best];
            prev = best;
        }
    }
}
