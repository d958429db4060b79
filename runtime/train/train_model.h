/* train_model.h: a model being trained on the device: fp32 parameters (an srlm_model in
 * f32, so the same weights can also run the inference engine and sample without a reload),
 * gradients and AdamW moments mirroring them tensor for tensor, activations for one
 * micro-batch of B x T tokens, and the explicit forward and backward of every block
 * (llm.c style). Not the data pipeline nor the training loop (trainer.c). */
#ifndef SRLM_TRAIN_MODEL_H
#define SRLM_TRAIN_MODEL_H

#include "model/model.h"
#include "ops/ops.h"

/* One block's activations for N = B*T rows. */
typedef struct srlm_block_acts {
    srlm_buf h1, rstd1;          // (N,C), (N): attention-norm output and statistics
    srlm_buf q, k, v;            // (N,NH*HS), (N,NKV*HS) x2, after RoPE
    srlm_buf att, lse;           // (N,NH*HS), (B,NH,T)
    srlm_buf x_mid;              // (N,C) residual after attention
    srlm_buf h2, rstd2;          // (N,C), (N)
    srlm_buf gate, up, act;      // (N,I) each; act = silu(gate) * up
} srlm_block_acts;

/* Sizes of a training plan, in bytes. */
typedef struct srlm_train_plan {
    uint64_t weights, grads, moments, activations, logits, staging, total;
    int B, T, recompute, chunk_rows;
} srlm_train_plan;

/* An extra loss on each LM-head chunk (distillation, kd.c). Called with phase 0 once the
 * chunk's logits (rows x V, rows r0.. of N) are computed and before cross-entropy reads
 * them, and with phase 1 after cross-entropy (the logits then hold its gradient when grad). */
typedef srlm_status (*srlm_train_chunk_hook)(srlm_cmd *c, void *user, int phase, srlm_buf logits, int r0, int rows, int grad);

typedef struct srlm_train_model {
    srlm_ctx *ctx;
    srlm_model_config cfg;
    srlm_model *w;               /* parameters, f32 */
    srlm_model *g;               /* gradients, same layout */
    srlm_model *m1, *m2;         /* AdamW first and second moments */
    size_t ntensors;
    int B, T, N, recompute, R;   /* R: logit rows per LM-head chunk */
    srlm_arena *arena;           /* activations and scratch */
    /* inputs (host-written before each micro-batch) */
    srlm_buf ids, targets, weights, pos, seg; // (N) int32 / f32 weights; seg: packed-sample ids
    srlm_buf *xs;                // L+1 of (N,C): input of each block, xs[L] the final residual
    srlm_block_acts *acts;       // L of them, or 1 reused with recompute
    srlm_buf hf, rstdf;          // (N,C), (N): final norm
    srlm_buf dres, dh, dq, dk, dv, datt, dgate, dup, dact; // gradient scratch
    srlm_buf logits;             // (R,V) one chunk
    srlm_buf loss, logprob, entropy; // (N) per token
    srlm_buf ce_scratch, norm_scratch, attn_scratch, clip_scratch;
    srlm_buf hp;                 // AdamW parameter block
    float ce_scale;              // factor of the cross-entropy gradient (1; alpha under KD)
    srlm_train_chunk_hook chunk_hook; // NULL, or an extra loss per logits chunk (kd.c)
    void *chunk_user;
} srlm_train_model;

/* The memory plan for B x T tokens (with or without per-block recomputation). */
void srlm_train_plan_make(const srlm_model_config *cfg, const srlm_ctx *ctx, int B, int T, int recompute, srlm_train_plan *p);
/* Writes the plan as a table to f (weights, gradients, moments, activations, logits, staging,
 * total, budget). */
void srlm_train_plan_print(const srlm_train_plan *p, uint64_t budget, FILE *f);

/* Loads `path` as fp32 parameters and allocates gradients, moments and activations for B x T.
 * Refuses (SRLM_ERR_DEVICE_OOM, with the plan in the message) when the plan does not fit the
 * budget. */
srlm_status srlm_train_model_create(srlm_ctx *ctx, const char *path, int B, int T, int recompute, srlm_train_model **out);
void srlm_train_model_destroy(srlm_train_model *tm);

/* Records dgrads = 0 and dmoments untouched (call before the first micro-batch of a step). */
srlm_status srlm_train_zero_grads(srlm_cmd *c, srlm_train_model *tm);
/* Records forward, cross-entropy over the weighted targets and backward of the micro-batch
 * in the input buffers; gradients ACCUMULATE, so micro-batches of one step add up. Per-token
 * loss, log-prob and entropy land in tm->loss/logprob/entropy. */
srlm_status srlm_train_record_fwdbwd(srlm_cmd *c, srlm_train_model *tm);
/* Forward only (evaluation): the same losses without gradients. */
srlm_status srlm_train_record_fwd(srlm_cmd *c, srlm_train_model *tm);
/* Records global-norm clipping (max_norm <= 0: none) and one AdamW step of every tensor
 * (weight decay on matrices and embeddings only). Values per step come from tm->hp. */
srlm_status srlm_train_record_step(srlm_cmd *c, srlm_train_model *tm, float beta1, float beta2, float eps, float max_norm);

/* Block forward and backward (outputs first, then inputs, weights, sizes). */
srlm_status srlm_train_block_fwd(srlm_cmd *c, srlm_train_model *tm, int l, srlm_block_acts *a, srlm_buf x_in, srlm_buf x_out);
srlm_status srlm_train_block_bwd(srlm_cmd *c, srlm_train_model *tm, int l, srlm_block_acts *a, srlm_buf x_in);

#endif
