/* ref_elementwise.c: CPU reference of the elementwise ops (fill, copy, add, mul, scale,
 * axpy) and the reductions (sum, sum of squares, global norm). The specification the
 * shaders are tested against, not a fast path. */
#include "ref.h"

#include <math.h>

void srlm_ref_fill(float *out, float value, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = value;
}

void srlm_ref_copy(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i];
}

void srlm_ref_add_fwd(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void srlm_ref_add_bwd(float *da, float *db, const float *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (da) da[i] = dout[i];
        if (db) db[i] = dout[i];
    }
}

void srlm_ref_mul_fwd(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void srlm_ref_mul_bwd(float *da, float *db, const float *dout, const float *a, const float *b,
                      size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = dout[i];  // read first: da may alias dout
        float ai = a[i], bi = b[i];
        if (da) da[i] = g * bi;
        if (db) db[i] = g * ai;
    }
}

void srlm_ref_scale_fwd(float *out, const float *inp, float s, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = s * inp[i];
}

void srlm_ref_scale_bwd(float *dinp, const float *dout, float s, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] = s * dout[i];
}

void srlm_ref_axpy(float *y, float a, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* Reductions accumulate in double so that the reference is closer to the exact sum than
 * any float tree a shader may use; the result is rounded once. */
float srlm_ref_sum(const float *x, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return (float)s;
}

static double sumsq_d(const float *x, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

float srlm_ref_sumsq(const float *x, size_t n) { return (float)sumsq_d(x, n); }

float srlm_ref_global_norm(const float *const *tensors, const size_t *sizes, int count) {
    double s = 0.0;
    for (int t = 0; t < count; t++) s += sumsq_d(tensors[t], sizes[t]);
    return (float)sqrt(s);
}
