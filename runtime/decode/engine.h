/* engine.h: internal view of the inference engine (the public API is in srlm.h). */
#ifndef SRLM_ENGINE_H
#define SRLM_ENGINE_H

#include "model/forward.h"

const srlm_model *srlm_engine_model(const srlm_engine *e);
/* Bytes of a KV cache of num_blocks blocks of `block` tokens (K and V, all layers, f16). */
uint64_t srlm_engine_kv_bytes(const srlm_model_config *cfg, int num_blocks, int block);
/* The same for a cache stored as dt (SRLM_KV_F16 or SRLM_KV_F32). */
uint64_t srlm_engine_kv_bytes_dt(const srlm_model_config *cfg, int num_blocks, int block, srlm_kv_dtype dt);

/* Device-side selection instead of logit read-back (logit_topk.comp): the largest k this
 * engine supports (0: none, when a block of max_out logit rows exceeds one binding). */
int srlm_engine_select_max_k(const srlm_engine *e);
/* Logit rows reduced on the device so far (for tests and statistics). */
uint64_t srlm_engine_selected_rows(const srlm_engine *e);
/* srlm_engine_step for the last token of each sequence, but what comes back per sequence i
 * is, for y = logits * invt[i]: ids[i*k ..] the k best ids (larger y first, ties to the
 * lower id), xs[i*k ..] the raw logits of those ids, stats[2i], stats[2i+1] the log-sum-exp
 * and the entropy of softmax(logits) (temperature 1; NaN for a row with NaN/+inf or all
 * -inf). Errors: as srlm_engine_step; SRLM_ERR_UNSUPPORTED for k outside 1..select_max_k. */
srlm_status srlm_engine_step_select(srlm_engine *e, int n, const int *seq_ids, const int *n_tokens, const int32_t *tokens,
                                    int k, const float *invt, int32_t *ids, float *xs, float *stats);

#endif
