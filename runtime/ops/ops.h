/* ops.h: one host function per shader. Each records dispatches into a srlm_cmd (it does not
 * submit); outputs first, then inputs, then weights, then sizes, as in llm.c. Buffers larger
 * than maxStorageBufferRange are processed in pieces where the op allows it. */
#ifndef SRLM_OPS_H
#define SRLM_OPS_H

#include "vk/vk.h"
#include "ops/op_table.h"
#include "ops/push.h"

/* Largest element count of one binding for elements of `elem_bytes`, keeping piece offsets
 * aligned for binding. */
uint64_t srlm_ops_piece_elems(const srlm_ctx *ctx, uint64_t elem_bytes);
/* Workgroup count for n items at `per_group` items per group, capped for grid-stride loops. */
uint32_t srlm_ops_groups(const srlm_ctx *ctx, uint64_t n, uint64_t per_group);

/* y[i] = value, i < n. y: (n,) f32. Any n (pieces). */
srlm_status srlm_op_fill(srlm_cmd *c, srlm_buf y, uint64_t n, float value);

/* ---- paged KV cache and attention (ops_attn.c) ----
 * The cache of one layer is two pools (K and V) of f16 halves stored two per uint, layout
 * [num_blocks][NKV][BS][HS]; a sequence's position t is row t % BS of block
 * block_table[seq * max_blocks + t / BS]. Slot = block * BS + row. */

/* Writes T new tokens' K and V into the pools at slot[t] (round to nearest even; slot < 0 is
 * skipped). kcache, vcache: (num_blocks,NKV,BS,HS) halves; k, v: (T,NKV,HS) f32; slot: (T)
 * int32. HS even. Errors: SRLM_ERR_INVALID for sizes or buffers too small. */
srlm_status srlm_op_kv_append(srlm_cmd *c, srlm_buf kcache, srlm_buf vcache, srlm_buf k, srlm_buf v, srlm_buf slot,
                              uint32_t T, uint32_t NKV, uint32_t HS, uint32_t BS, uint32_t num_blocks);

/* Shapes of one attn_paged call. */
typedef struct srlm_attn_dims {
    uint32_t Tq;          /* query rows (tokens of all sequences together) */
    uint32_t NH, NKV, HS; /* heads, kv heads (NH % NKV == 0), head size (multiple of 8, <= 256) */
    uint32_t BS;          /* block size (tokens per cache block) */
    uint32_t num_blocks;  /* blocks in each pool */
    uint32_t num_seqs;    /* rows of the block table */
    uint32_t max_blocks;  /* block-table row length */
    uint32_t max_ctx;     /* an upper bound of qpos + 1 over the rows: sizes the context split */
} srlm_attn_dims;

typedef enum srlm_attn_variant {
    SRLM_ATTN_AUTO = 0,   /* CPU devices: THREAD_GQA; else the first of GQA, SUBGROUP, THREAD */
    SRLM_ATTN_GQA,        /* one subgroup per (row, kv head, split) for all heads of the group,
                           * lanes split the head dim (subgroup shuffle; HS/8 a power of two,
                           * at most 16 heads per kv head) */
    SRLM_ATTN_SUBGROUP,   /* one subgroup per (row, head, split), lanes take positions */
    SRLM_ATTN_THREAD,     /* one invocation per (row, head, split); no subgroup operations */
    SRLM_ATTN_THREAD_GQA, /* one invocation per (row, kv head, split) for all heads of the
                           * group; no subgroup operations; for CPU devices (register-heavy) */
} srlm_attn_variant;

/* Whether the device can run `v` for shapes d (AUTO: always). */
bool srlm_attn_variant_supported(const srlm_ctx *ctx, const srlm_attn_dims *d, srlm_attn_variant v);
/* The variant AUTO stands for on this device and shapes (others are returned unchanged). */
srlm_attn_variant srlm_attn_resolve(const srlm_ctx *ctx, const srlm_attn_dims *d, srlm_attn_variant v);
/* The context splits attn_paged uses for these shapes and variant when asked for `nsplit`
 * (0: chosen from the device and shapes so that long contexts with few rows fill it). */
uint32_t srlm_attn_splits(const srlm_ctx *ctx, const srlm_attn_dims *d, srlm_attn_variant v, uint32_t nsplit);
/* Bytes of scratch attn_paged needs with `nsplit` splits (0 when nsplit <= 1). */
uint64_t srlm_attn_scratch_bytes(const srlm_attn_dims *d, uint32_t nsplit);

/* Causal grouped-query attention of Tq query rows over the paged cache (prefill, decode and
 * extend of many sequences in one call): row r of sequence qseq[r] at position qpos[r]
 * attends positions 0..qpos[r] of its sequence (its own K/V already appended), head h using
 * kv head h / (NH/NKV), scale 1/sqrt(HS), fp32 online softmax. Rows with qseq or qpos < 0
 * give zeros. out, q: (Tq,NH,HS) f32; kcache, vcache: one layer's pools; block_table:
 * (num_seqs,max_blocks) int32; qseq, qpos: (Tq) int32. scratch: srlm_attn_scratch_bytes()
 * bytes (any buffer, unused, when one split). nsplit: 0 = automatic (srlm_attn_splits).
 * Records one dispatch, plus attn_combine when split. Errors: SRLM_ERR_INVALID (shapes,
 * buffer sizes), SRLM_ERR_UNSUPPORTED (variant or head size the device/shader cannot run). */
srlm_status srlm_op_attn_paged(srlm_cmd *c, srlm_buf out, srlm_buf scratch, srlm_buf q, srlm_buf kcache, srlm_buf vcache,
                               srlm_buf block_table, srlm_buf qseq, srlm_buf qpos, const srlm_attn_dims *d,
                               srlm_attn_variant variant, uint32_t nsplit);

/* ---- attention for training (ops_attn.c): contiguous f32, causal, grouped-query ----
 * Query head h uses kv head h / (NH/NKV); scale 1/sqrt(HS); position t attends j <= t, and
 * when seg.buffer is set only j with seg[b,j] == seg[b,t] (packed samples). HS a multiple of
 * 4, at most 256. Any binding over maxStorageBufferRange is refused (split the batch). */

/* Heads one invocation handles in attention_fwd and the dq pass (0 in the _hp forms: this
 * choice): NH/NKV on CPU devices (each k/v row read once per group), else 1. */
uint32_t srlm_attn_train_heads(const srlm_ctx *ctx, uint32_t NH, uint32_t NKV);

/* out: (B,T,NH,HS); lse: (B,NH,T) log-sum-exp saved for the backward; q: (B,T,NH,HS);
 * k, v: (B,T,NKV,HS); seg: (B,T) int32 or {0}. Errors: SRLM_ERR_INVALID (shapes, sizes). */
srlm_status srlm_op_attention_fwd(srlm_cmd *c, srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg,
                                  uint32_t B, uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS);
/* The same with `hp` heads per invocation (a divisor of NH/NKV, at most 16; 0: automatic). */
srlm_status srlm_op_attention_fwd_hp(srlm_cmd *c, srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg,
                                     uint32_t B, uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS, uint32_t hp);
/* Overwrites dq (B,T,NH,HS), dk, dv (B,T,NKV,HS) from dout and the forward's out and lse,
 * recomputing the probabilities. scratch: B*NH*T floats (D = dout.out). dk/dv sum the
 * group's heads in a fixed order (no atomics: bit-reproducible). Two dispatches. */
srlm_status srlm_op_attention_bwd(srlm_cmd *c, srlm_buf dq, srlm_buf dk, srlm_buf dv, srlm_buf scratch, srlm_buf dout,
                                  srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg, uint32_t B,
                                  uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS);
/* The same with `hp` heads per invocation in the dq pass and `kp` keys per invocation (1..8)
 * in the dk/dv pass (0: automatic, 4 on CPU devices, else 1). */
srlm_status srlm_op_attention_bwd_hp(srlm_cmd *c, srlm_buf dq, srlm_buf dk, srlm_buf dv, srlm_buf scratch, srlm_buf dout,
                                     srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg, uint32_t B,
                                     uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS, uint32_t hp, uint32_t kp);

#endif
