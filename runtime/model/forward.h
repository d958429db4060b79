/* forward.h: the inference forward pass of the Qwen2 / Llama decoder over a batch of tokens
 * that may belong to many sequences (prefill, extend and decode mixed in one pass), reading
 * and appending the paged KV cache. Activations live in a plan sized once for the largest
 * step; the recorded command buffer is replayed while only the small index buffers change.
 * Not the training forward (train/), which keeps activations for backward. */
#ifndef SRLM_FORWARD_H
#define SRLM_FORWARD_H

#include "decode/kv_cache.h"
#include "model/model.h"

/* Activation and index buffers for at most max_tokens tokens of at most max_seqs sequences
 * per step, with logits for at most max_out rows. */
typedef struct srlm_fwd_plan {
    int max_tokens, max_seqs, max_out, max_blocks_per_seq;
    int max_ctx;                 /* positions per sequence: sizes attention's context split */
    uint32_t attn_splits;        /* context splits of decode attention for this plan */
    srlm_arena *arena;
    /* per-token index inputs (int32): */
    srlm_buf ids;                // (T) token ids
    srlm_buf pos;                // (T) absolute positions
    srlm_buf seq;                // (T) sequence index (row of block_tables) of each token
    srlm_buf slots;              // (T) KV slot (block * block_size + offset) the token writes
    srlm_buf out_rows;           // (n_out) token rows whose logits are wanted
    /* activations (f32): */
    srlm_buf x;                  // (T,C) residual stream
    srlm_buf h;                  // (T,C) normalised
    srlm_buf rstd;               // (T) RMSNorm statistics (unused by inference, kept for the op)
    srlm_buf q, k, v;            // (T,NH*HS), (T,NKV*HS), (T,NKV*HS)
    srlm_buf att;                // (T,NH*HS)
    srlm_buf gate, up;           // (T,I)
    srlm_buf hout;               // (n_out,C) gathered final rows
    srlm_buf logits;             // (n_out,V)
    srlm_buf attn_scratch;       // partial results of split attention
} srlm_fwd_plan;

/* Allocates the plan's buffers (one arena) and checks them against the budget. */
/* Sized for steps of at most max_tokens tokens and max_out logit rows over the sequences
 * and context of `kv`. */
srlm_status srlm_fwd_plan_create(srlm_ctx *ctx, const srlm_model *m, const srlm_kv_cache *kv, int max_tokens, int max_out,
                                 srlm_fwd_plan **out);
void srlm_fwd_plan_destroy(srlm_fwd_plan *p);
/* Bytes of device memory the plan would take (for memory plans). */
uint64_t srlm_fwd_plan_bytes(const srlm_model_config *cfg, int max_tokens, int max_out, uint64_t attn_scratch_bytes);

/* Records the forward pass of T tokens (index buffers already filled) into c: embedding,
 * L blocks (appending each token's K/V to the cache; block tables uploaded by the caller), final norm of the n_out rows in
 * out_rows, LM head -> logits (n_out, V). */
srlm_status srlm_forward_record(srlm_cmd *c, const srlm_model *m, const srlm_kv_cache *kv, const srlm_fwd_plan *p,
                                int T, int n_out);

/* One block's forward (llm.c style: outputs first, then inputs, weights, sizes). */
srlm_status srlm_block_fwd(srlm_cmd *c, const srlm_model *m, int l, const srlm_kv_cache *kv, const srlm_fwd_plan *p, int T);

#endif
