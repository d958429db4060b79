/* ref_rope.c: CPU reference of rotary position embedding in both pair layouts (rotate-half
 * for Qwen2 / HF Llama, interleaved for GGUF llama), forward and backward. Angles in double,
 * rotation applied in float. Not a fast path (one cos/sin pair per token and frequency). */
#include "ref.h"

#include <math.h>

/* cos and sin of pos * theta^(-2i/HS), computed in double and rounded once. */
static void rope_angle(int pos, int i, int HS, float theta, float *c, float *s) {
    double ang = pos * pow((double)theta, -2.0 * i / HS);
    *c = (float)cos(ang);
    *s = (float)sin(ang);
}

void srlm_ref_rope_table(float *cos_out, float *sin_out, int max_pos, int HS, float theta) {
    for (int p = 0; p < max_pos; p++)
        for (int i = 0; i < HS / 2; i++)
            rope_angle(p, i, HS, theta, cos_out + (size_t)p * (HS / 2) + i,
                       sin_out + (size_t)p * (HS / 2) + i);
}

/* Rotates every head of every token by +angle (sign 1) or -angle (sign -1). */
static void rope(float *out, const float *inp, const int *pos, int N, int NH, int HS,
                 float theta, srlm_rope_layout layout, float sign) {
    int half = HS / 2;
    for (int n = 0; n < N; n++) {
        for (int i = 0; i < half; i++) {
            float c, s;
            rope_angle(pos[n], i, HS, theta, &c, &s);
            s *= sign;  // exact: the backward uses the very same table, negated
            // index of the two elements of pair i inside a head
            int ia = layout == SRLM_ROPE_NEOX ? i : 2 * i;
            int ib = layout == SRLM_ROPE_NEOX ? i + half : 2 * i + 1;
            for (int h = 0; h < NH; h++) {
                size_t base = ((size_t)n * NH + h) * HS;
                float a = inp[base + ia], b = inp[base + ib];  // both read before writing
                out[base + ia] = a * c - b * s;
                out[base + ib] = a * s + b * c;
            }
        }
    }
}

void srlm_ref_rope_fwd(float *out, const float *inp, const int *pos, int N, int NH, int HS,
                       float theta, srlm_rope_layout layout) {
    rope(out, inp, pos, N, NH, HS, theta, layout, 1.0f);
}

void srlm_ref_rope_bwd(float *dinp, const float *dout, const int *pos, int N, int NH, int HS,
                       float theta, srlm_rope_layout layout) {
    // A rotation's transpose is the rotation by the opposite angle.
    rope(dinp, dout, pos, N, NH, HS, theta, layout, -1.0f);
}
