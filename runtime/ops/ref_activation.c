/* ref_activation.c: CPU reference of SiLU and SwiGLU (out = silu(gate) * up) forward and
 * backward, and of the row softmax. Elementwise math in float as a shader does it; softmax
 * sums in double. Not a fast path. */
#include "ref.h"

#include <math.h>

static float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

void srlm_ref_silu_fwd(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] * sigmoidf_(inp[i]);
}

void srlm_ref_silu_bwd(float *dinp, const float *dout, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i], s = sigmoidf_(x);
        dinp[i] = dout[i] * s * (1.0f + x * (1.0f - s));
    }
}

void srlm_ref_swiglu_fwd(float *out, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g * sigmoidf_(g) * up[i];
    }
}

void srlm_ref_swiglu_bwd(float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i], u = up[i], dy = dout[i], s = sigmoidf_(g);
        dgate[i] = dy * u * s * (1.0f + g * (1.0f - s));
        dup[i] = dy * g * s;
    }
}

void srlm_ref_softmax_fwd(float *out, const float *inp, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *y = out + (size_t)n * C;
        float mx = -INFINITY;
        for (int c = 0; c < C; c++) mx = x[c] > mx ? x[c] : mx;
        double sum = 0.0;
        for (int c = 0; c < C; c++) {
            y[c] = expf(x[c] - mx);
            sum += y[c];
        }
        float inv = (float)(1.0 / sum);
        for (int c = 0; c < C; c++) y[c] *= inv;
    }
}

void srlm_ref_softmax_bwd(float *dinp, const float *dout, const float *out, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *dy = dout + (size_t)n * C, *y = out + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        double dot = 0.0;
        for (int c = 0; c < C; c++) dot += (double)dy[c] * y[c];
        float d = (float)dot;
        for (int c = 0; c < C; c++) dx[c] = y[c] * (dy[c] - d);
    }
}
