/* ops.h: one host function per shader. Each records dispatches into a srlm_cmd (it does not
 * submit); outputs first, then inputs, then weights, then sizes, as in llm.c. Buffers larger
 * than maxStorageBufferRange are processed in pieces where the op allows it. */
#ifndef SRLM_OPS_H
#define SRLM_OPS_H

#include "vk/vk.h"
#include "ops/op_table.h"
#include "ops/push.h"

/* The largest binding the ops make: maxStorageBufferRange, lowered (never raised) by the
 * environment variable SRLM_MAX_BINDING_BYTES so tests can run the tiled paths on small
 * tensors (floored at 4 alignment units). */
uint64_t srlm_ops_binding_limit(const srlm_ctx *ctx);
/* Offset alignment of the windows and pieces the ops bind (>= 256 bytes). */
uint64_t srlm_ops_align(const srlm_ctx *ctx);
/* Bytes one binding may span: maxStorageBufferRange, lowered (never raised) by the environment
 * variable SRLM_MAX_BINDING_BYTES (bytes, or with a K/M/G suffix; values under 4096 are
 * ignored) so that tests can exercise the tiling of large tensors at small sizes. */
uint64_t srlm_ops_binding_limit(const srlm_ctx *ctx);
/* Largest element count of one binding for elements of `elem_bytes`, keeping piece offsets
 * aligned for binding. */
uint64_t srlm_ops_piece_elems(const srlm_ctx *ctx, uint64_t elem_bytes);
/* An aligned window of b covering its elements [first, first + count) of elem_bytes each
 * (rounded out to the alignment before and to 4 bytes after); *base receives the index of
 * element `first` inside the window, for the shader's push constants. */
srlm_buf srlm_ops_window(const srlm_ctx *ctx, srlm_buf b, uint64_t elem_bytes, uint64_t first, uint64_t count,
                         uint32_t *base);
/* How many rows of row_bytes fit one window under the binding limit (0: not even one). */
uint64_t srlm_ops_rows_per_window(const srlm_ctx *ctx, uint64_t row_bytes);
/* Workgroup size for the one-workgroup-per-row ops on this device (one subgroup on a CPU
 * device, 256 elsewhere; the environment variable SRLM_ROW_WG overrides it for tests). */
uint32_t srlm_ops_row_wg(const srlm_ctx *ctx);
/* Records an elementwise f32 op over n elements whose nb bindings all index alike, in pieces
 * under the binding limit, with push {n, s}. `what` names the op in errors. */
srlm_status srlm_ops_eltwise(srlm_cmd *c, int op, const char *what, const srlm_buf *bufs, int nb, uint64_t n, float s);
/* Workgroup count for n items at `per_group` items per group, capped for grid-stride loops. */
uint32_t srlm_ops_groups(const srlm_ctx *ctx, uint64_t n, uint64_t per_group);

/* y[i] = value, i < n. y: (n,) f32. Any n (pieces). */
srlm_status srlm_op_fill(srlm_cmd *c, srlm_buf y, uint64_t n, float value);

/* ---- Elementwise f32 (ops_eltwise.c). Any n (pieces under the binding limit). Errors:
 * SRLM_ERR_INVALID when a buffer is smaller than n floats; dispatch errors. ---- */
/* y = a + b (the residual add). y (n), a (n), b (n); y may alias a or b. */
srlm_status srlm_op_add(srlm_cmd *c, srlm_buf y, srlm_buf a, srlm_buf b, uint64_t n);
/* y = a * b. */
srlm_status srlm_op_mul(srlm_cmd *c, srlm_buf y, srlm_buf a, srlm_buf b, uint64_t n);
/* y = s * x; y may alias x. */
srlm_status srlm_op_scale(srlm_cmd *c, srlm_buf y, srlm_buf x, float s, uint64_t n);
/* y += s * x. */
srlm_status srlm_op_axpy(srlm_cmd *c, srlm_buf y, float s, srlm_buf x, uint64_t n);

/* ---- Activations (ops_eltwise.c, shaders/silu.comp), elementwise, any n. silu(x) = x * sigmoid(x). ---- */
srlm_status srlm_op_silu_fwd(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n);
/* dx = dy * silu'(x) (overwrite). */
srlm_status srlm_op_silu_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf dy, srlm_buf x, uint64_t n);
/* y = silu(gate) * up; gate and up are separate (n) buffers. */
srlm_status srlm_op_swiglu_fwd(srlm_cmd *c, srlm_buf y, srlm_buf gate, srlm_buf up, uint64_t n);
/* dgate = dy * up * silu'(gate), dup = dy * silu(gate) (overwrite). */
srlm_status srlm_op_swiglu_bwd(srlm_cmd *c, srlm_buf dgate, srlm_buf dup, srlm_buf dy, srlm_buf gate, srlm_buf up,
                               uint64_t n);

/* ---- Conversions (ops_convert.c). 16-bit values are packed two per uint word (element 2k
 * in the low half), so no 16-bit storage or shaderFloat16 is needed; f32 -> f16/bf16 round
 * to nearest even exactly as srlm_ref_f32_to_f16/_bf16. Any n (pieces). ---- */
srlm_status srlm_op_f32_to_f16(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n);  /* y ((n+1)/2 words), x (n) f32 */
srlm_status srlm_op_f32_to_bf16(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n);
srlm_status srlm_op_f16_to_f32(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n);  /* y (n) f32, x ((n+1)/2 words) */
srlm_status srlm_op_bf16_to_f32(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n);

/* ---- Reductions (ops_reduce.c): deterministic (per-workgroup partials in a fixed order,
 * then one workgroup sums them; no float atomics), so a replay gives the same bits. ---- */
/* Scratch bytes the reductions below need for tensors of ns[0..count-1] elements. */
uint64_t srlm_op_reduce_scratch_bytes(const srlm_ctx *ctx, const uint64_t *ns, int count);
/* out[0] = sum x[i]; x (n), any n; scratch >= srlm_op_reduce_scratch_bytes(ctx, &n, 1). out may be
 * a slice at any float offset (e.g. one slot of a buffer of results). */
srlm_status srlm_op_sum(srlm_cmd *c, srlm_buf out, srlm_buf scratch, srlm_buf x, uint64_t n);
/* out[0] = sum x[i]^2. */
srlm_status srlm_op_sumsq(srlm_cmd *c, srlm_buf out, srlm_buf scratch, srlm_buf x, uint64_t n);
/* out[0] = sqrt(sum over the count tensors xs[t] (ns[t] floats) of sum x^2): the global
 * gradient norm for clipping. */
srlm_status srlm_op_global_norm(srlm_cmd *c, srlm_buf out, srlm_buf scratch, const srlm_buf *xs, const uint64_t *ns,
                                int count);

/* ---- RMSNorm (ops_rmsnorm.c); rows are windowed under the binding limit. ---- */
/* y = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps) per row, saved in rstd (N).
 * y (N,C), rstd (N), x (N,C), w (C). */
srlm_status srlm_op_rmsnorm_fwd(srlm_cmd *c, srlm_buf y, srlm_buf rstd, srlm_buf x, srlm_buf w, int N, int C,
                                float eps);
/* Scratch bytes srlm_op_rmsnorm_bwd needs (per-row-block partials of dw). */
uint64_t srlm_op_rmsnorm_bwd_scratch_bytes(const srlm_ctx *ctx, int N, int C);
/* dx += (w*dy - x * rstd^2 * mean(w*dy*x)) * rstd; dw += sum over rows of dy * x * rstd
 * (ACCUMULATE, as srlm_ref_rmsnorm_bwd); dw summed per block of rows, then over blocks in
 * order: deterministic. dx (N,C), dw (C), dy (N,C), x (N,C), w (C), rstd (N). */
srlm_status srlm_op_rmsnorm_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf dw, srlm_buf scratch, srlm_buf dy, srlm_buf x,
                                srlm_buf w, srlm_buf rstd, int N, int C);

/* ---- Row softmax (ops_softmax.c), numerically stable, one workgroup per row. ---- */
/* y = softmax(x) per row. y, x (N,C). */
srlm_status srlm_op_softmax_fwd(srlm_cmd *c, srlm_buf y, srlm_buf x, int N, int C);
/* dx = y * (dy - sum(dy * y)) (overwrite). dx, dy, y (N,C). */
srlm_status srlm_op_softmax_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf dy, srlm_buf y, int N, int C);

/* ---- RoPE (ops_rope.c), in place on x (N,NH,HS), HS even; pos (N) int positions >= 0.
 * layout: 0 = rotate-half (NEOX: Qwen2, HF Llama), 1 = interleaved pairs (GGUF llama),
 * as srlm_rope_layout in ref.h. The backward rotates by the negative angle. The angles come
 * from a frequency table (theta^(-2i/HS) as 64-bit fractions of a turn, written once by
 * srlm_op_rope_table_write) so they are exact modulo 2*pi at any position. ---- */
/* Bytes of the table for head size HS. */
uint64_t srlm_op_rope_table_bytes(int HS);
/* Computes the table for (HS, theta) in double and writes it into `table` (a synchronous host
 * write: do it once, at model load). Errors: HS odd or <= 0, table too small, write errors. */
srlm_status srlm_op_rope_table_write(srlm_ctx *ctx, srlm_buf table, int HS, float theta);
srlm_status srlm_op_rope_fwd(srlm_cmd *c, srlm_buf x, srlm_buf pos, srlm_buf table, int N, int NH, int HS, int layout);
srlm_status srlm_op_rope_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf pos, srlm_buf table, int N, int NH, int HS, int layout);

/* ---- Embedding (ops_embedding.c). The (V,C) table is split into row tiles that each fit
 * the binding limit (Qwen 0.5B's is 260 MiB in f16), the tokens into chunks likewise; one
 * dispatch per (chunk, tile) handles the chunk's tokens whose id falls in the tile. ---- */
/* y[n] = wte[ids[n]]; ids outside [0,V) give zero rows. y (N,C) f32, ids (N) int,
 * wte (V,C) f32, or f16 bits two per uint word when wte_f16. */
srlm_status srlm_op_embedding_fwd(srlm_cmd *c, srlm_buf y, srlm_buf ids, srlm_buf wte, int wte_f16, int N, int V,
                                  int C);
/* dwte[ids[n]] += dy[n] (ACCUMULATE), tokens summed in order n = 0..N-1 per row (the same
 * order as srlm_ref_embedding_bwd), no atomics; ids outside [0,V) are skipped.
 * dwte (V,C) f32, dy (N,C), ids (N). */
srlm_status srlm_op_embedding_bwd(srlm_cmd *c, srlm_buf dwte, srlm_buf dy, srlm_buf ids, int N, int V, int C);
/* ---- paged KV cache and attention (ops_attn.c) ----
 * The cache of one layer is two pools (K and V) of f16 halves stored two per uint, or of f32
 * (the _dt forms with kv_f32, dims.kv_f32), layout [num_blocks][NKV][BS][HS]; a sequence's
 * position t is row t % BS of block block_table[seq * max_blocks + t / BS]. Slot = block *
 * BS + row. */

/* Writes T new tokens' K and V into the pools at slot[t] (round to nearest even; slot < 0 is
 * skipped). kcache, vcache: (num_blocks,NKV,BS,HS) halves; k, v: (T,NKV,HS) f32; slot: (T)
 * int32. HS even. Errors: SRLM_ERR_INVALID for sizes or buffers too small. */
srlm_status srlm_op_kv_append(srlm_cmd *c, srlm_buf kcache, srlm_buf vcache, srlm_buf k, srlm_buf v, srlm_buf slot,
                              uint32_t T, uint32_t NKV, uint32_t HS, uint32_t BS, uint32_t num_blocks);
/* The same; kv_f32 != 0: the pools hold f32 and the values are copied unrounded. */
srlm_status srlm_op_kv_append_dt(srlm_cmd *c, srlm_buf kcache, srlm_buf vcache, srlm_buf k, srlm_buf v, srlm_buf slot,
                                 uint32_t T, uint32_t NKV, uint32_t HS, uint32_t BS, uint32_t num_blocks, uint32_t kv_f32);

/* Shapes of one attn_paged call. */
typedef struct srlm_attn_dims {
    uint32_t Tq;          /* query rows (tokens of all sequences together) */
    uint32_t NH, NKV, HS; /* heads, kv heads (NH % NKV == 0), head size (multiple of 8, <= 256) */
    uint32_t BS;          /* block size (tokens per cache block) */
    uint32_t num_blocks;  /* blocks in each pool */
    uint32_t num_seqs;    /* rows of the block table */
    uint32_t max_blocks;  /* block-table row length */
    uint32_t max_ctx;     /* an upper bound of qpos + 1 over the rows: sizes the context split */
    uint32_t kv_f32;      /* 0: the pools hold f16; 1: f32 */
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
/* ---- logit selection for sampling (ops_select.c; shaders/logit_topk.comp) ----
 * Per row r of logits x (rows,V): out_ids (rows,k) int32 = the k best ids of y = x * invt[r]
 * in rank order (larger y first, ties to the lower id: srlm_ref_topk's order on y; k = 1 is
 * the argmax), y computed with one IEEE rounding so it equals the host's float product;
 * out_x (rows,k) f32 = x at those ids; out_stats (rows,2) f32 = {log sum exp x, entropy of
 * softmax(x)} (temperature 1), NaN for a row with NaN or +inf or all -inf. scratch:
 * srlm_logit_topk_scratch_bytes(). Records two dispatches. Errors: SRLM_ERR_INVALID (k out of
 * 1..min(V, SRLM_LOGIT_TOPK_MAX), buffers too small), SRLM_ERR_UNSUPPORTED (rows * V * 4 over
 * one binding: use fewer rows per call). */
#define SRLM_LOGIT_TOPK_MAX 64
uint32_t srlm_logit_topk_part_len(const srlm_ctx *ctx, uint32_t V);
uint64_t srlm_logit_topk_scratch_bytes(const srlm_ctx *ctx, uint32_t rows, uint32_t V, uint32_t k);
srlm_status srlm_op_logit_topk(srlm_cmd *c, srlm_buf out_ids, srlm_buf out_x, srlm_buf out_stats, srlm_buf scratch,
                               srlm_buf logits, srlm_buf invt, uint32_t rows, uint32_t V, uint32_t k);
/* ---- matrix multiply (ops_matmul.c; shaders/matmul_*.comp) ----------------------------------
 * The three forms of a linear layer with W stored (N,K) as in PyTorch, fp32 accumulation:
 *   forward      Y  = X . W^T (+ bias)     (or Y += with accumulate: residual adds)
 *   input grad   dX = dY . W               (or dX += with accumulate)
 *   weight grad  dW += dY^T . X, db += column sums of dY   (always accumulate; deterministic)
 * X, Y, dX, dY, dW, bias are dense row-major f32; W is f32 or f16 (IEEE halves, two per 32-bit
 * word, element i in the low half when i is even; no shaderFloat16 or 16-bit storage needed).
 * Tensors larger than the binding limit (srlm_ops_binding_limit) are processed in tiles of W
 * rows (a column range of Y) and of X rows, one dispatch per tile. Errors: buffers too small
 * for the sizes, a single row over the binding limit, pipeline failures. */
typedef enum srlm_mm_wtype { SRLM_MM_W_F32 = 0, SRLM_MM_W_F16 = 1 } srlm_mm_wtype;

/* Which kernels run. AUTO picks from the device caps: register tiles (no shared memory, no
 * barrier) on CPU devices and devices with subgroups under 16 lanes, there with the one-subgroup
 * matrix-vector kernel (forward only, up to 16 rows of X per dispatch) for few rows of X;
 * shared-memory tiles on GPUs. Tests and benchmarks force a kernel and tile sizes here; 0 means the default. */
typedef enum srlm_mm_kernel { SRLM_MM_AUTO = 0, SRLM_MM_REGTILE = 1, SRLM_MM_SHARED = 2, SRLM_MM_MATVEC = 3 } srlm_mm_kernel;
typedef struct srlm_mm_cfg {
    srlm_mm_kernel kernel;
    uint32_t wg;     /* workgroup size */
    uint32_t t1, t2; /* register tile: forward TM x TN; dX TM x TK8; dW TN x TK8; matvec TM x R */
    uint32_t bi, bj, bp, ti, tj; /* shared-memory tile (wg must be (bi/ti)*(bj/tj)) */
    int ld64;        /* 1: 16-byte loads as 64-bit pairs (needs shaderInt64; register-tile and
                      * matrix-vector forward only); 0: the portable 32-bit loads */
} srlm_mm_cfg;

/* The configuration `in` (NULL: all defaults) resolves to for this device, form (0 fwd, 1 dX,
 * 2 dW), M rows of X and K. */
void srlm_mm_cfg_resolve(const srlm_ctx *ctx, int form, uint32_t M, uint32_t K, const srlm_mm_cfg *in, srlm_mm_cfg *out);

srlm_status srlm_op_matmul_fwd(srlm_cmd *c,
                               srlm_buf y,           // (M,N) f32
                               srlm_buf x,           // (M,K) f32
                               srlm_buf w,           // (N,K) f32 or f16
                               srlm_mm_wtype wt,
                               const srlm_buf *bias, // (N) f32; may be NULL
                               uint32_t M, uint32_t N, uint32_t K, int accumulate, const srlm_mm_cfg *cfg);
srlm_status srlm_op_matmul_bwd_inp(srlm_cmd *c,
                                   srlm_buf dx,      // (M,K) f32
                                   srlm_buf dy,      // (M,N) f32
                                   srlm_buf w,       // (N,K) f32 or f16
                                   srlm_mm_wtype wt,
                                   uint32_t M, uint32_t N, uint32_t K, int accumulate, const srlm_mm_cfg *cfg);
srlm_status srlm_op_matmul_bwd_weight(srlm_cmd *c,
                                      srlm_buf dw,         // (N,K) f32 +=
                                      const srlm_buf *db,  // (N) f32 +=; may be NULL
                                      srlm_buf dy,         // (M,N) f32
                                      srlm_buf x,          // (M,K) f32
                                      uint32_t M, uint32_t N, uint32_t K, const srlm_mm_cfg *cfg);

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

/* ---- Losses over logits (ops_loss.c, shaders/crossentropy.comp, kl.comp). Rows of V
 * floats are cut into tiles of at most SRLM_LOSS_TILE columns (fewer when the binding limit
 * is smaller); each dispatch binds windows of whole tiles x a block of rows under the
 * binding limit, so V = 151,936 and any N work on a 128 MiB device. Per-tile partials are
 * combined in tile order (no float atomics): the same call on the same device gives the same
 * bits, whatever the window sizes. Errors: SRLM_ERR_INVALID for a shape or a buffer too
 * small (named), SRLM_ERR_UNSUPPORTED when not even one tile's statistics fit a binding;
 * dispatch errors. ---- */
#define SRLM_LOSS_TILE 4096
/* Scratch bytes srlm_op_crossentropy / srlm_op_kl need for (N,V) on this device. */
uint64_t srlm_op_crossentropy_scratch_bytes(const srlm_ctx *ctx, int N, int V);
uint64_t srlm_op_kl_scratch_bytes(const srlm_ctx *ctx, int N, int V);
/* Cross-entropy fused with softmax over z = logits * inv_temp (inv_temp = 1: plain CE, as
 * srlm_ref_crossentropy_fwd/_bwd). Per row n, t = targets[n], w = weights[n]:
 *   lse = log sum exp z, logprob[n] = z_t - lse, entropy[n] = lse - sum softmax(z) z,
 *   loss[n] = -w * logprob[n]; a target outside [0,V) (e.g. -100) gives loss 0, logprob 0
 *   (entropy still written) and a zero gradient row.
 * grad != 0: logits are OVERWRITTEN in place by dz/dlogits scaled: scale * w * inv_temp *
 * (softmax(z) - onehot(t)) (inv_temp factor only when != 1), after the statistics are taken,
 * so full logits are never held twice. The sum of loss (srlm_op_sum) is the ref's return.
 * loss, logprob, entropy (N) f32 written; scratch >= srlm_op_crossentropy_scratch_bytes (it
 * also holds lse (N) for the gradient); logits (N,V) f32; targets (N) int32; weights (N) f32
 * (per-step normalisation such as 1/tokens belongs in the weights: they are a buffer, scale
 * is recorded). */
srlm_status srlm_op_crossentropy(srlm_cmd *c, srlm_buf loss, srlm_buf logprob, srlm_buf entropy, srlm_buf scratch,
                                 srlm_buf logits, srlm_buf targets, srlm_buf weights, int N, int V, float inv_temp,
                                 float scale, int grad);
/* KL divergence between ps = softmax(student/tau) and pt = softmax(teacher/tau) per row, as
 * srlm_ref_kl_fwd/_bwd: dir SRLM_KL_FORWARD (0) = KL(teacher||student), SRLM_KL_REVERSE (1) =
 * KL(student||teacher). kl (N) gets the unweighted KL_n (the ref returns sum w * KL_n).
 * grad != 0: student is OVERWRITTEN in place by scale * w / tau * (ps - pt) (forward) or
 * scale * w / tau * ps * (log ps - log pt - KL_n) (reverse); the tau^2 of distillation is the
 * caller's, folded into scale. student, teacher (N,V) f32; weights (N) f32. */
srlm_status srlm_op_kl(srlm_cmd *c, srlm_buf kl, srlm_buf scratch, srlm_buf student, srlm_buf teacher, srlm_buf weights,
                       int N, int V, float tau, int dir, float scale, int grad);
/* KL to a teacher known by its top K entries per row (shaders/kl_topk.comp), as
 * srlm_ref_kl_topk_fwd/_bwd: ids (N,K) int32 distinct in [0,V), tlogp (N,K) the teacher's
 * log-probabilities at temperature tau; a row whose ids[0] is negative has no teacher entry
 * (kl 0, zero gradient). kl (N) gets the unweighted KL_n over the K+1 buckets. grad != 0:
 * student is OVERWRITTEN in place by the gradient times scale * w / tau (the tau^2 of
 * distillation is the caller's, in scale). scratch >= srlm_op_kl_topk_scratch_bytes. */
uint64_t srlm_op_kl_topk_scratch_bytes(const srlm_ctx *ctx, int N, int V, int K);
srlm_status srlm_op_kl_topk(srlm_cmd *c, srlm_buf kl, srlm_buf scratch, srlm_buf student, srlm_buf ids, srlm_buf tlogp,
                            srlm_buf weights, int N, int V, int K, float tau, int dir, float scale, int grad);

/* ---- AdamW and gradient clipping (ops_adamw.c, shaders/adamw.comp). ----
 * The values that change per step live in a parameter block of SRLM_ADAMW_PARAM_FLOATS
 * floats in a device buffer (architecture rule 5: record once, replay); the host rewrites
 * it before each submit with srlm_adamw_params (lr, bias corrections from t), except
 * GRAD_SCALE and the norms, which srlm_op_clip_grad_norm writes on the device. */
enum {
    SRLM_ADAMW_LR = 0,           /* lr (informational; the step uses the two below) */
    SRLM_ADAMW_STEP_SIZE = 1,    /* lr / (1 - beta1^t), computed in double */
    SRLM_ADAMW_BC2_SQRT = 2,     /* sqrt(1 - beta2^t), computed in double */
    SRLM_ADAMW_SHRINK = 3,       /* 1 - lr * weight_decay (applied to tensors with decay) */
    SRLM_ADAMW_GRAD_PRE = 4,     /* gradient pre-scale, e.g. 1 / accumulation steps */
    SRLM_ADAMW_GRAD_SCALE = 5,   /* factor on grad in the step: pre * clip factor */
    SRLM_ADAMW_NORM = 6,         /* global norm of the raw gradients (device-written) */
    SRLM_ADAMW_SCALED_NORM = 7,  /* norm * pre, the norm clipping judged (device-written) */
    SRLM_ADAMW_PARAM_FLOATS = 8
};
/* Fills a parameter block for step t >= 1 exactly as srlm_ref_adamw_step derives its
 * factors; GRAD_SCALE is set to grad_pre (no clipping) and the norms to 0. */
void srlm_adamw_params(float out[SRLM_ADAMW_PARAM_FLOATS], float lr, float beta1, float beta2, float weight_decay,
                       int t, float grad_pre);
/* One AdamW step over n floats (pieces under the binding limit): param, m, v updated in
 * place from grad * hp[GRAD_SCALE]; decay != 0 applies weight decay (call per tensor: norms
 * and biases pass 0). hp: the parameter block (at any float offset). */
srlm_status srlm_op_adamw(srlm_cmd *c, srlm_buf param, srlm_buf m, srlm_buf v, srlm_buf grad, srlm_buf hp, uint64_t n,
                          float beta1, float beta2, float eps, int decay);
/* Global-norm clipping on the device: hp[NORM] = sqrt(sum over the count gradient tensors of
 * sum g^2) (srlm_op_global_norm), then hp[SCALED_NORM] = norm * pre and hp[GRAD_SCALE] =
 * pre * min(1, max_norm / (norm * pre + 1e-6)) (srlm_ref_clip_scale; just pre when
 * max_norm <= 0). The gradients are not touched: the step applies the factor. scratch >=
 * srlm_op_reduce_scratch_bytes(ctx, ns, count). */
srlm_status srlm_op_clip_grad_norm(srlm_cmd *c, srlm_buf hp, srlm_buf scratch, const srlm_buf *grads,
                                   const uint64_t *ns, int count, float max_norm);

#endif
