/* ref_embedding.c: CPU reference of the token embedding lookup and its backward
 * (scatter-add into the table's gradient, tokens in order, so no atomics are implied).
 * Not tiled: the device version tiles the table; the result is the same. */
#include "ref.h"

#include <string.h>

void srlm_ref_embedding_fwd(float *out, const int *ids, const float *wte, int N, int V, int C) {
    for (int n = 0; n < N; n++) {
        float *y = out + (size_t)n * C;
        if (ids[n] < 0 || ids[n] >= V) memset(y, 0, (size_t)C * sizeof *y);
        else memcpy(y, wte + (size_t)ids[n] * C, (size_t)C * sizeof *y);
    }
}

void srlm_ref_embedding_fwd_f16(float *out, const int *ids, const uint16_t *wte, int N, int V,
                                int C) {
    for (int n = 0; n < N; n++) {
        float *y = out + (size_t)n * C;
        if (ids[n] < 0 || ids[n] >= V) memset(y, 0, (size_t)C * sizeof *y);
        else srlm_ref_f16_to_f32_fwd(y, wte + (size_t)ids[n] * C, (size_t)C);
    }
}

void srlm_ref_embedding_bwd(float *dwte, const float *dout, const int *ids, int N, int V, int C) {
    for (int n = 0; n < N; n++) {
        if (ids[n] < 0 || ids[n] >= V) continue;
        float *dw = dwte + (size_t)ids[n] * C;
        const float *dy = dout + (size_t)n * C;
        for (int c = 0; c < C; c++) dw[c] += dy[c];
    }
}
