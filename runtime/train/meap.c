/* meap.c: MEAP masks and loss weights for one example (see meap.h). The index rules are
 * those of issue 4 / docs/papers.md §2, exactly; tests/test_meap.c checks them. Not the
 * batching (dataset.c) and not the loss (the loss kernels take the weights). */
#include "meap.h"

#include "rng.h"

#include <math.h>
#include <stdlib.h>

uint64_t srlm_meap_stream(uint64_t seq_index, uint64_t epoch) {
    /* A fixed tag keeps MEAP's streams apart from the shuffler's, which use small ints. */
    return 0x4d45415000000000ull ^ (epoch << 40) ^ seq_index;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

void srlm_meap_draw(int *pos, int n, int lo, int hi, uint64_t seed, uint64_t stream, int *scratch) {
    int m = hi - lo;
    for (int i = 0; i < m; i++) scratch[i] = lo + i;
    srlm_rng rng = srlm_rng_make(seed, stream);
    for (int i = 0; i < n; i++) {
        int j = i + (int)srlm_rng_next_below(&rng, (uint64_t)(m - i));
        int t = scratch[i]; scratch[i] = scratch[j]; scratch[j] = t;
        pos[i] = scratch[i];
    }
    qsort(pos, (size_t)n, sizeof *pos, cmp_int);
}

/* floor(len * r) for the decimal ratio the user wrote: r arrives as a float (0.7f is
 * 0.69999999), so the product is nudged up by a relative 1e-6 before flooring. */
static int count_for(int len, float r) {
    int n = (int)floor((double)len * (double)r * (1.0 + 1e-6));
    return n < 1 ? 1 : n;
}

srlm_status srlm_meap_pretrain(int32_t *in, int32_t *tgt, float *w, int *n_masked,
                               const int32_t *x, int L, float r, int32_t mask_id,
                               uint64_t seed, uint64_t seq_index, uint64_t epoch) {
    if (L < 2) return srlm_errorf(SRLM_ERR_INVALID, "meap: sequence of %d tokens (need >= 2)", L);
    if (!(r > 0.0f && r < 1.0f)) return srlm_errorf(SRLM_ERR_INVALID, "meap: ratio %g outside (0, 1)", (double)r);
    int n = count_for(L, r);
    if (n > L - 1) n = L - 1; /* only L-1 positions are eligible */
    int *buf = malloc(sizeof(int) * (size_t)(n + L));
    if (!buf) return srlm_errorf(SRLM_ERR_OOM, "meap: out of memory");
    srlm_meap_draw(buf, n, 0, L - 1, seed, srlm_meap_stream(seq_index, epoch), buf + n);
    for (int i = 0; i < L; i++) {
        in[i] = x[i];
        tgt[i] = i + 1 < L ? x[i + 1] : 0;
        w[i] = i + 1 < L ? 1.0f : 0.0f;
    }
    for (int k = 0; k < n; k++) in[buf[k]] = mask_id;
    if (n_masked) *n_masked = n;
    free(buf);
    return NULL;
}

srlm_status srlm_meap_sft_copy(int32_t *in, int32_t *tgt, float *w, int *made, int *n_masked,
                               const int32_t *x, int L, int P, int A, float r, int32_t mask_id,
                               uint64_t seed, uint64_t seq_index, uint64_t epoch) {
    *made = 0;
    if (n_masked) *n_masked = 0;
    if (P < 0 || A < 0 || P + A > L)
        return srlm_errorf(SRLM_ERR_INVALID, "meap: prompt %d + answer %d exceed the %d tokens", P, A, L);
    if (!(r > 0.0f && r < 1.0f)) return srlm_errorf(SRLM_ERR_INVALID, "meap: ratio %g outside (0, 1)", (double)r);
    if (A <= SRLM_MEAP_SFT_MIN_ANSWER) return NULL;
    int lo = P > 0 ? P : 1, hi = P + A;
    int n = count_for(A, r);
    if (n > hi - lo) n = hi - lo;
    int *buf = malloc(sizeof(int) * (size_t)(n + (hi - lo)));
    if (!buf) return srlm_errorf(SRLM_ERR_OOM, "meap: out of memory");
    srlm_meap_draw(buf, n, lo, hi, seed, srlm_meap_stream(seq_index, epoch), buf + n);
    for (int i = 0; i < L; i++) {
        in[i] = x[i];
        tgt[i] = i + 1 < L ? x[i + 1] : 0;
        w[i] = 0.0f;
    }
    for (int k = 0; k < n; k++) {
        in[buf[k]] = mask_id;
        w[buf[k] - 1] = 1.0f; /* the prediction of the original x[p] from position p-1 */
    }
    *made = 1;
    if (n_masked) *n_masked = n;
    free(buf);
    return NULL;
}
