/* ref_matmul.c: CPU reference of the linear layer's three training forms (out = inp.W^T + b,
 * dinp = dout.W, dW += dout^T.inp with db += sum dout) for W stored as f32 or f16 (and the
 * forward for GGUF Q8_0). Tiled only so that tests at sizes ~1000-4000 run in well under a
 * second; not a fast path.
 *
 * Summation order, which all weight dtypes share so that they agree bit for bit:
 * W is visited in tiles of TILE_O rows by TILE_C columns (an f16 or Q8_0 tile is widened
 * into a float buffer first). A forward output is bias (or 0) plus, tile column by tile column,
 * an 8-lane float dot product of the tile; dinp sums over o in increasing order; dW and db
 * sum over n in increasing order in float, then are added to the accumulator once. */
#include "ref.h"

#include <string.h>

enum { TILE_O = 8, TILE_C = 512 };
_Static_assert(TILE_O * TILE_C <= 8192, "tile buffers live on the stack");

/* 8 independent partial sums (vectorisable without reassociation), combined pairwise. */
static float dot8(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += a[i + k] * b[i + k];
    for (int k = 0; i < n; i++, k++) acc[k] += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* A weight matrix (OC,C) in one of the stored dtypes: exactly one pointer is set. */
typedef struct {
    const float *w32;
    const uint16_t *w16;
    const uint8_t *q8;  // rows of C/32 Q8_0 blocks
} weights;

void srlm_ref_dequantize_q8_0(float *out, const uint8_t *blocks, size_t n) {
    for (size_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = blocks + b * 34;
        float d = srlm_ref_f16_to_f32((uint16_t)(blk[0] | blk[1] << 8));  // little-endian
        for (int i = 0; i < 32; i++) out[b * 32 + (size_t)i] = d * (float)(int8_t)blk[2 + i];
    }
}

/* The tile W[o0:o0+no, c0:c0+nc] as float rows of stride *ld: in place for f32, widened
 * into buf otherwise (TILE_C and c0 are multiples of 32, so Q8_0 blocks never straddle). */
static const float *weight_tile(float *buf, weights w, int C, int o0, int no, int c0, int nc,
                                int *ld) {
    if (w.w32) {
        *ld = C;
        return w.w32 + (size_t)o0 * C + c0;
    }
    for (int o = 0; o < no; o++) {
        float *dst = buf + (size_t)o * TILE_C;
        if (w.w16) srlm_ref_f16_to_f32_fwd(dst, w.w16 + (size_t)(o0 + o) * C + c0, (size_t)nc);
        else srlm_ref_dequantize_q8_0(dst, w.q8 + ((size_t)(o0 + o) * (C / 32) + c0 / 32) * 34,
                                      (size_t)nc);
    }
    *ld = TILE_C;
    return buf;
}

static void matmul_fwd(float *out, const float *inp, weights w, const float *bias, int N, int C,
                       int OC) {
    float buf[TILE_O * TILE_C];
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) out[(size_t)n * OC + o] = bias ? bias[o] : 0.0f;
    for (int o0 = 0; o0 < OC; o0 += TILE_O) {
        int no = OC - o0 < TILE_O ? OC - o0 : TILE_O;
        for (int c0 = 0; c0 < C; c0 += TILE_C) {
            int nc = C - c0 < TILE_C ? C - c0 : TILE_C, ld;
            const float *wt = weight_tile(buf, w, C, o0, no, c0, nc, &ld);
            for (int n = 0; n < N; n++) {
                const float *x = inp + (size_t)n * C + c0;
                float *y = out + (size_t)n * OC + o0;
                for (int o = 0; o < no; o++) y[o] += dot8(x, wt + (size_t)o * ld, nc);
            }
        }
    }
}

void srlm_ref_matmul_fwd(float *out, const float *inp, const float *weight, const float *bias,
                         int N, int C, int OC) {
    matmul_fwd(out, inp, (weights){weight, NULL, NULL}, bias, N, C, OC);
}

void srlm_ref_matmul_fwd_f16(float *out, const float *inp, const uint16_t *weight,
                             const float *bias, int N, int C, int OC) {
    matmul_fwd(out, inp, (weights){NULL, weight, NULL}, bias, N, C, OC);
}

void srlm_ref_matmul_fwd_q8_0(float *out, const float *inp, const uint8_t *weight,
                              const float *bias, int N, int C, int OC) {
    matmul_fwd(out, inp, (weights){NULL, NULL, weight}, bias, N, C, OC);
}

static void matmul_bwd_inp(float *dinp, const float *dout, weights w, int N, int C, int OC) {
    float buf[TILE_O * TILE_C];
    memset(dinp, 0, (size_t)N * C * sizeof *dinp);
    for (int o0 = 0; o0 < OC; o0 += TILE_O) {
        int no = OC - o0 < TILE_O ? OC - o0 : TILE_O;
        for (int c0 = 0; c0 < C; c0 += TILE_C) {
            int nc = C - c0 < TILE_C ? C - c0 : TILE_C, ld;
            const float *wt = weight_tile(buf, w, C, o0, no, c0, nc, &ld);
            for (int n = 0; n < N; n++) {
                float *dx = dinp + (size_t)n * C + c0;
                const float *dy = dout + (size_t)n * OC + o0;
                for (int o = 0; o < no; o++) {
                    float g = dy[o];
                    const float *wr = wt + (size_t)o * ld;
                    for (int c = 0; c < nc; c++) dx[c] += g * wr[c];
                }
            }
        }
    }
}

void srlm_ref_matmul_bwd_inp(float *dinp, const float *dout, const float *weight,
                             int N, int C, int OC) {
    matmul_bwd_inp(dinp, dout, (weights){weight, NULL, NULL}, N, C, OC);
}

void srlm_ref_matmul_bwd_inp_f16(float *dinp, const float *dout, const uint16_t *weight,
                                 int N, int C, int OC) {
    matmul_bwd_inp(dinp, dout, (weights){NULL, weight, NULL}, N, C, OC);
}

/* dbias += column sums of dout, each summed over n in order in float. */
static void bias_grad(float *dbias, const float *dout, int N, int OC) {
    for (int o = 0; o < OC; o++) {
        float s = 0.0f;
        for (int n = 0; n < N; n++) s += dout[(size_t)n * OC + o];
        dbias[o] += s;
    }
}

void srlm_ref_matmul_bwd_weight(float *dweight, float *dbias, const float *dout,
                                const float *inp, int N, int C, int OC) {
    float acc[TILE_O * TILE_C];
    for (int o0 = 0; o0 < OC; o0 += TILE_O) {
        int no = OC - o0 < TILE_O ? OC - o0 : TILE_O;
        for (int c0 = 0; c0 < C; c0 += TILE_C) {
            int nc = C - c0 < TILE_C ? C - c0 : TILE_C;
            memset(acc, 0, sizeof acc);
            for (int n = 0; n < N; n++) {
                const float *x = inp + (size_t)n * C + c0;
                const float *dy = dout + (size_t)n * OC + o0;
                for (int o = 0; o < no; o++) {
                    float g = dy[o];
                    float *a = acc + (size_t)o * TILE_C;
                    for (int c = 0; c < nc; c++) a[c] += g * x[c];
                }
            }
            for (int o = 0; o < no; o++) {
                float *dw = dweight + (size_t)(o0 + o) * C + c0;
                for (int c = 0; c < nc; c++) dw[c] += acc[(size_t)o * TILE_C + c];
            }
        }
    }
    if (dbias) bias_grad(dbias, dout, N, OC);
}

void srlm_ref_matmul_bwd(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int N, int C, int OC) {
    if (dinp) srlm_ref_matmul_bwd_inp(dinp, dout, weight, N, C, OC);
    if (dweight) srlm_ref_matmul_bwd_weight(dweight, dbias, dout, inp, N, C, OC);
    else if (dbias) bias_grad(dbias, dout, N, OC);
}
