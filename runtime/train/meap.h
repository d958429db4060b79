/* meap.h: MEAP (Mask-Enhanced Autoregressive Prediction, arXiv 2502.07490) on one tokenised
 * example, CPU side: which input positions become the mask token and which predictions carry
 * loss. Pure functions of (ids, seed, sequence index, epoch); no model, no batching. */
#ifndef SRLM_TRAIN_MEAP_H
#define SRLM_TRAIN_MEAP_H

#include "srlm.h"

#include <stdint.h>

/* Default ratios of docs/papers.md §2 and the default mask id for Qwen2.5 (the last of its
 * 151,936 embedding rows, which has no token text). */
#define SRLM_MEAP_PRETRAIN_RATIO 0.15f
#define SRLM_MEAP_SFT_RATIO 0.10f
#define SRLM_MEAP_SFT_MIN_ANSWER 50 /* answers of more than this many tokens get a copy */

/* RNG streams: the sequence index and epoch are folded into the stream so that each
 * (seed, sequence, epoch) draws an independent pattern. */
uint64_t srlm_meap_stream(uint64_t seq_index, uint64_t epoch);

/* Draws n distinct positions uniformly from [lo, hi) (n <= hi - lo) by a partial
 * Fisher-Yates shuffle keyed on (seed, stream), and writes them sorted ascending to pos.
 * `scratch` holds hi - lo ints. */
void srlm_meap_draw(int *pos, int n, int lo, int hi, uint64_t seed, uint64_t stream, int *scratch);

/* Pre-training mode. x: (L) original ids, L >= 2. Writes in (L): x with
 * n = max(1, floor(L*r)) positions drawn from 0..L-2 replaced by mask_id; tgt (L):
 * tgt[i] = x[i+1] (the ORIGINAL next token) for i = 0..L-2, tgt[L-1] = 0; w (L): 1 at
 * 0..L-2, 0 at L-1. *n_masked (may be NULL) receives n. Errors: SRLM_ERR_INVALID for L < 2
 * or r outside (0, 1); SRLM_ERR_OOM. */
srlm_status srlm_meap_pretrain(int32_t *in, int32_t *tgt, float *w, int *n_masked,
                               const int32_t *x, int L, float r, int32_t mask_id,
                               uint64_t seed, uint64_t seq_index, uint64_t epoch);

/* SFT mode: the extra masked copy of an example with prompt length P and answer length A
 * (the answer is x[P..P+A-1], P + A <= L). Only for A > SRLM_MEAP_SFT_MIN_ANSWER: *made is
 * set to 0 (and nothing written) otherwise. n = max(1, floor(A*r)) positions p are drawn from
 * [max(P,1), P+A) (position 0 has no predecessor to predict it, so it is excluded when the
 * prompt is empty); in = x with mask_id at those p; tgt[i] = x[i+1] (original) for
 * i < L-1, tgt[L-1] = 0; w[i] = 1 exactly when i+1 is a chosen p, else 0. The prompt
 * x[0..P-1] is never masked. Errors: SRLM_ERR_INVALID for inconsistent P/A/L or r outside
 * (0, 1); SRLM_ERR_OOM. */
srlm_status srlm_meap_sft_copy(int32_t *in, int32_t *tgt, float *w, int *made, int *n_masked,
                               const int32_t *x, int L, int P, int A, float r, int32_t mask_id,
                               uint64_t seed, uint64_t seq_index, uint64_t epoch);

#endif
