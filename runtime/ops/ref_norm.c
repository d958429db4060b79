/* ref_norm.c: CPU reference of RMSNorm forward and backward (Qwen2 / Llama flavour: no mean
 * subtraction, no bias, weight multiplies the normalised value). Row statistics accumulate
 * in double; not a fast path. */
#include "ref.h"

#include <math.h>

void srlm_ref_rmsnorm_fwd(float *out, float *rstd, const float *inp, const float *weight,
                          int N, int C, float eps) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        double ss = 0.0;
        for (int c = 0; c < C; c++) ss += (double)x[c] * x[c];
        float r = (float)(1.0 / sqrt(ss / C + eps));
        for (int c = 0; c < C; c++) y[c] = x[c] * r * weight[c];
        if (rstd) rstd[n] = r;
    }
}

void srlm_ref_rmsnorm_bwd(float *dinp, float *dweight, const float *dout, const float *inp,
                          const float *weight, const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        const float *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        float r = rstd[n];
        // The only coupling between channels: mean(w * dy * x), through rstd.
        double dot = 0.0;
        for (int c = 0; c < C; c++) dot += (double)weight[c] * dy[c] * x[c];
        float k = (float)(dot / C) * r * r;
        for (int c = 0; c < C; c++) {
            dx[c] += (weight[c] * dy[c] - x[c] * k) * r;
            if (dweight) dweight[c] += dy[c] * x[c] * r;
        }
    }
}
