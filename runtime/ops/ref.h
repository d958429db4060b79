/* ref.h: the CPU reference of every op, the specification the GPU shaders are tested
 * against. Plain C loops over float32 (accumulating in float, or in double where noted),
 * no Vulkan, no allocation, no errors. Not a fast path: nothing in inference or training
 * calls these, only tests and tools that check the device.
 *
 * Conventions (llm.c style): outputs first, then inputs, then weights, then shapes; each
 * tensor has its shape in a comment; all tensors are dense row-major. Shape letters: N rows
 * (N = B*T when the op does not care about batches), C channels, OC output channels, V
 * vocabulary, B batch, T time, NH query heads, NKV key/value heads, HS head size.
 * Gradients: activation gradients are OVERWRITTEN, parameter gradients ACCUMULATE (+=),
 * and an op whose input gradient lands on the residual stream (rmsnorm) accumulates it too;
 * each function says which. f16/bf16 tensors are uint16_t arrays of IEEE binary16 / bfloat16
 * bit patterns. Pointers documented "may be NULL" are optional; all others must be valid. */
#ifndef SRLM_OPS_REF_H
#define SRLM_OPS_REF_H

#include <stddef.h>
#include <stdint.h>

/* ---- Elementwise (ref_elementwise.c) --------------------------------------------------- */
void srlm_ref_fill(float *out, float value, size_t n);                   // out (n)
void srlm_ref_copy(float *out, const float *inp, size_t n);              // out, inp (n)
/* out = a + b; backward: da = db = dout (overwrite; da or db may be NULL). */
void srlm_ref_add_fwd(float *out, const float *a, const float *b, size_t n);
void srlm_ref_add_bwd(float *da, float *db, const float *dout, size_t n);
/* out = a * b; backward: da = dout*b, db = dout*a (overwrite; da or db may be NULL). */
void srlm_ref_mul_fwd(float *out, const float *a, const float *b, size_t n);
void srlm_ref_mul_bwd(float *da, float *db, const float *dout, const float *a, const float *b,
                      size_t n);
/* out = s * inp; backward: dinp = s * dout (overwrite). In place allowed. */
void srlm_ref_scale_fwd(float *out, const float *inp, float s, size_t n);
void srlm_ref_scale_bwd(float *dinp, const float *dout, float s, size_t n);
/* y += a * x: the accumulate form (residual gradients, gradient accumulation). */
void srlm_ref_axpy(float *y, float a, const float *x, size_t n);

/* ---- Conversions (ref_convert.c) ------------------------------------------------------
 * f32 -> f16 and f32 -> bf16 round to nearest, ties to even; overflow gives +-inf (f16:
 * values >= 65520 in magnitude); results below the f16 normal range become subnormals or
 * signed zero; f32 -> f16 keeps NaN a NaN with its sign and top 10 payload bits (the quiet
 * bit set only when those are all zero), so every f16 pattern round-trips through f32;
 * f32 -> bf16 quiets NaN. f16/bf16 -> f32 is exact. Same results as runtime/model/dtype.c. */
uint16_t srlm_ref_f32_to_f16(float x);
float srlm_ref_f16_to_f32(uint16_t h);
uint16_t srlm_ref_f32_to_bf16(float x);
float srlm_ref_bf16_to_f32(uint16_t h);
void srlm_ref_f32_to_f16_fwd(uint16_t *out, const float *inp, size_t n);
void srlm_ref_f16_to_f32_fwd(float *out, const uint16_t *inp, size_t n);
void srlm_ref_f32_to_bf16_fwd(uint16_t *out, const float *inp, size_t n);
void srlm_ref_bf16_to_f32_fwd(float *out, const uint16_t *inp, size_t n);

/* ---- Reductions (ref_elementwise.c); accumulate in double, round once at the end ---- */
float srlm_ref_sum(const float *x, size_t n);                            // x (n)
float srlm_ref_sumsq(const float *x, size_t n);                          // sum x^2
/* sqrt(sum over the count tensors of sum x^2): the global gradient norm. */
float srlm_ref_global_norm(const float *const *tensors, const size_t *sizes, int count);

/* ---- RMSNorm (ref_norm.c) -------------------------------------------------------------
 * out = inp * rstd * weight, rstd = 1/sqrt(mean(inp^2) + eps) per row (as HF Qwen2/Llama).
 * Backward: dinp += (weight*dout - inp * rstd^2 * mean(weight*dout*inp)) * rstd,
 * dweight += sum over rows of dout * inp * rstd. Both ACCUMULATE. */
void srlm_ref_rmsnorm_fwd(float *out,          // (N,C)
                          float *rstd,         // (N) saved for backward; may be NULL
                          const float *inp,    // (N,C)
                          const float *weight, // (C)
                          int N, int C, float eps);
void srlm_ref_rmsnorm_bwd(float *dinp,         // (N,C) +=
                          float *dweight,      // (C) +=; may be NULL
                          const float *dout,   // (N,C)
                          const float *inp,    // (N,C)
                          const float *weight, // (C)
                          const float *rstd,   // (N) from forward
                          int N, int C);

/* ---- Activations (ref_activation.c); backward overwrites ------------------------------
 * silu(x) = x * sigmoid(x); silu'(x) = s * (1 + x * (1 - s)), s = sigmoid(x).
 * swiglu: out = silu(gate) * up (the Qwen2/Llama MLP between up/gate and down). */
void srlm_ref_silu_fwd(float *out, const float *inp, size_t n);          // (n)
void srlm_ref_silu_bwd(float *dinp, const float *dout, const float *inp, size_t n);
void srlm_ref_swiglu_fwd(float *out,         // (n)
                         const float *gate,  // (n)
                         const float *up,    // (n)
                         size_t n);
void srlm_ref_swiglu_bwd(float *dgate, float *dup, // (n) each, overwrite
                         const float *dout, const float *gate, const float *up, size_t n);

/* ---- Row softmax (ref_activation.c) ---------------------------------------------------
 * out = exp(inp - max) / sum; backward dinp = out * (dout - sum(dout * out)) (overwrite). */
void srlm_ref_softmax_fwd(float *out, const float *inp, int N, int C);  // (N,C)
void srlm_ref_softmax_bwd(float *dinp, const float *dout, const float *out, int N, int C);

/* ---- Matrix multiply (ref_matmul.c) ---------------------------------------------------
 * The three training forms of a linear layer with W stored (OC,C) as in PyTorch:
 *   forward      out  = inp . W^T + bias          (overwrite)
 *   input grad   dinp = dout . W                  (overwrite)
 *   weight grad  dW  += dout^T . inp, dbias += column sums of dout   (accumulate)
 * Float accumulation in a fixed order. The _f16 forms read W as f16 bits; each gives exactly
 * the f32 form's result on the widened weights. N = 1 is the matrix-vector product. */
void srlm_ref_matmul_fwd(float *out,          // (N,OC)
                         const float *inp,    // (N,C)
                         const float *weight, // (OC,C)
                         const float *bias,   // (OC); may be NULL
                         int N, int C, int OC);
void srlm_ref_matmul_fwd_f16(float *out, const float *inp, const uint16_t *weight,
                             const float *bias, int N, int C, int OC);
void srlm_ref_matmul_bwd_inp(float *dinp,         // (N,C) overwrite
                             const float *dout,   // (N,OC)
                             const float *weight, // (OC,C)
                             int N, int C, int OC);
void srlm_ref_matmul_bwd_inp_f16(float *dinp, const float *dout, const uint16_t *weight,
                                 int N, int C, int OC);
void srlm_ref_matmul_bwd_weight(float *dweight,     // (OC,C) +=
                                float *dbias,       // (OC) +=; may be NULL
                                const float *dout,  // (N,OC)
                                const float *inp,   // (N,C)
                                int N, int C, int OC);
/* GGUF Q8_0 weights (inference only): each row of W is C/32 blocks of 34 bytes, an f16
 * scale d (little-endian) then 32 int8 q, w = d * q; C must be a multiple of 32. Same result
 * as srlm_ref_matmul_fwd on the dequantised weights. */
void srlm_ref_matmul_fwd_q8_0(float *out, const float *inp,
                              const uint8_t *weight, // (OC, C/32 blocks of 34 bytes)
                              const float *bias, int N, int C, int OC);
void srlm_ref_dequantize_q8_0(float *out,            // (n), n a multiple of 32
                              const uint8_t *blocks, // (n/32 blocks of 34 bytes)
                              size_t n);
/* Both gradients at once; dinp, dweight or dbias may be NULL to skip that part. */
void srlm_ref_matmul_bwd(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int N, int C, int OC);

/* ---- Rotary position embedding (ref_rope.c) -------------------------------------------
 * Each head vector x (HS, even) is rotated pairwise by angle pos * theta^(-2i/HS),
 * i = 0..HS/2-1 (angle and its cos/sin computed in double, applied in float).
 *   SRLM_ROPE_NEOX:        pairs (x[i], x[i + HS/2])   rotate-half: Qwen2, HF Llama
 *   SRLM_ROPE_INTERLEAVED: pairs (x[2i], x[2i+1])      GGUF llama
 * (a, b) -> (a cos - b sin, a sin + b cos). Backward rotates by the negative angle
 * (overwrite). In place (out == inp) is allowed. */
typedef enum srlm_rope_layout { SRLM_ROPE_NEOX = 0, SRLM_ROPE_INTERLEAVED = 1 } srlm_rope_layout;
void srlm_ref_rope_fwd(float *out,       // (N,NH,HS)
                       const float *inp, // (N,NH,HS)
                       const int *pos,   // (N) position of each token
                       int N, int NH, int HS, float theta, srlm_rope_layout layout);
void srlm_ref_rope_bwd(float *dinp, const float *dout, const int *pos,
                       int N, int NH, int HS, float theta, srlm_rope_layout layout);
/* The cos/sin values the two functions above use, for positions 0..max_pos-1: a shader that
 * reads this table (uploaded once) matches the reference without computing large angles in
 * float (at position 4096 a float angle is off by ~2e-4 rad). */
void srlm_ref_rope_table(float *cos_out, // (max_pos,HS/2)
                         float *sin_out, // (max_pos,HS/2)
                         int max_pos, int HS, float theta);

/* ---- Grouped-query causal attention (ref_attention.c) ---------------------------------
 * Query head h uses key/value head h / (NH/NKV) (NH a multiple of NKV). For query token i:
 *   s_j = (q_i . k_j) / sqrt(HS) for allowed j, P = softmax(s), out_i = sum_j P_j v_j,
 * allowed j: j <= i, and seg[b,j] == seg[b,i] when seg is given (packed samples do not see
 * each other). lse_i = log sum_j exp(s_j) is saved for the backward, which recomputes P:
 *   D_i = dout_i . out_i, dS_ij = P_ij (dout_i . v_j - D_i),
 *   dq_i = sum_j dS_ij k_j / sqrt(HS), dk_j = sum_i dS_ij q_i / sqrt(HS), dv_j = sum_i P_ij dout_i
 * (dk, dv summed over the query heads of a group). Backward overwrites dq, dk, dv. Scores
 * and softmax sums accumulate in float; exp/log in float. */
void srlm_ref_attention_fwd(float *out,       // (B,T,NH,HS)
                            float *lse,       // (B,NH,T); may be NULL
                            float *att,       // (B,NH,T,T) probabilities (0 masked); may be NULL
                            const float *q,   // (B,T,NH,HS)
                            const float *k,   // (B,T,NKV,HS)
                            const float *v,   // (B,T,NKV,HS)
                            const int *seg,   // (B,T) segment ids; may be NULL
                            int B, int T, int NH, int NKV, int HS);
void srlm_ref_attention_bwd(float *dq,         // (B,T,NH,HS)
                            float *dk,         // (B,T,NKV,HS)
                            float *dv,         // (B,T,NKV,HS)
                            const float *dout, // (B,T,NH,HS)
                            const float *out,  // (B,T,NH,HS) from forward
                            const float *lse,  // (B,NH,T) from forward
                            const float *q, const float *k, const float *v,
                            const int *seg,    // (B,T); may be NULL
                            int B, int T, int NH, int NKV, int HS);

/* Attention of NQ query tokens over a paged KV cache (decode, and extending a sequence by
 * several tokens). Query row r belongs to sequence qseq[r] and sits at position qpos[r]; it
 * attends that sequence's cached positions 0..qpos[r] (its own K/V already written there).
 * Position p of sequence s lives in cache block block_table[s*max_blocks + p/block_size],
 * row p % block_size. The cache holds f16 bits (_f16) or f32. */
void srlm_ref_attention_kv_fwd_f16(float *out,              // (NQ,NH,HS)
                                   const float *q,          // (NQ,NH,HS)
                                   const uint16_t *kcache,  // (num_blocks,block_size,NKV,HS)
                                   const uint16_t *vcache,  // (num_blocks,block_size,NKV,HS)
                                   const int *block_table,  // (num_seqs,max_blocks)
                                   const int *qseq,         // (NQ)
                                   const int *qpos,         // (NQ)
                                   int NQ, int NH, int NKV, int HS, int block_size,
                                   int max_blocks);
void srlm_ref_attention_kv_fwd(float *out, const float *q, const float *kcache,
                               const float *vcache, const int *block_table, const int *qseq,
                               const int *qpos, int NQ, int NH, int NKV, int HS,
                               int block_size, int max_blocks);
/* Decode: one new token per sequence b (query row b), sequence b holding lens[b] >= 1
 * cached tokens (the new one included), i.e. the kv form with qseq[b] = b, qpos = lens-1. */
void srlm_ref_attention_decode_f16(float *out,             // (B,NH,HS)
                                   const float *q,         // (B,NH,HS)
                                   const uint16_t *kcache, const uint16_t *vcache,
                                   const int *block_table, // (B,max_blocks)
                                   const int *lens,        // (B)
                                   int B, int NH, int NKV, int HS, int block_size,
                                   int max_blocks);

/* ---- Embedding (ref_embedding.c) ------------------------------------------------------
 * out[n] = wte[ids[n]]; an id outside [0,V) (e.g. -1 for padding) gives a zero row and no
 * gradient. Backward dwte[ids[n]] += dout[n], tokens summed in order n = 0..N-1. */
void srlm_ref_embedding_fwd(float *out,       // (N,C)
                            const int *ids,   // (N)
                            const float *wte, // (V,C)
                            int N, int V, int C);
void srlm_ref_embedding_fwd_f16(float *out, const int *ids, const uint16_t *wte,
                                int N, int V, int C);
void srlm_ref_embedding_bwd(float *dwte,       // (V,C) +=
                            const float *dout, // (N,C)
                            const int *ids,    // (N)
                            int N, int V, int C);

/* ---- Selection (ref_select.c) --------------------------------------------------------
 * Rows are ordered by larger value first, NaN counting as -inf, ties to the smaller index.
 * argmax takes the first element of that order; topk the first K (K <= V), in order. */
void srlm_ref_argmax(int *out,            // (N)
                     const float *logits, // (N,V)
                     int N, int V);
void srlm_ref_topk(int *ids,            // (N,K)
                   float *vals,         // (N,K) the selected logits; may be NULL
                   const float *logits, // (N,V)
                   int N, int V, int K);

/* ---- Cross-entropy fused with softmax (ref_loss.c) ------------------------------------
 * Per row n with target t = targets[n] and weight w = weights[n] (1 when weights is NULL):
 *   lse = log sum_v exp(logits_v), logprob = logits_t - lse, entropy = lse - sum_v p_v logits_v
 * Returns sum_n w * (-logprob) (accumulated in double); w may be negative (advantages).
 * A target outside [0,V) (e.g. -100) ignores the row: no loss, logprob 0, zero gradient
 * (its entropy is still written).
 * Backward: dlogits = scale * w * (softmax - onehot(t)) (overwrite; dlogits may equal
 * logits to work in place). lse may be NULL in the backward: it is then recomputed. */
double srlm_ref_crossentropy_fwd(float *logprob,       // (N); may be NULL
                                 float *entropy,       // (N); may be NULL
                                 float *lse,           // (N); may be NULL
                                 const float *logits,  // (N,V)
                                 const int *targets,   // (N)
                                 const float *weights, // (N); may be NULL
                                 int N, int V);
void srlm_ref_crossentropy_bwd(float *dlogits,       // (N,V)
                               const float *logits,  // (N,V)
                               const float *lse,     // (N); may be NULL
                               const int *targets,   // (N)
                               const float *weights, // (N); may be NULL
                               float scale, int N, int V);

/* ---- KL divergence to teacher logits (ref_loss.c) -------------------------------------
 * With temperature tau: ps = softmax(student/tau), pt = softmax(teacher/tau), per row
 *   forward KL(teacher||student) = sum pt (log pt - log ps)
 *   reverse KL(student||teacher) = sum ps (log ps - log pt)
 * Returns sum_n w * KL_n (double); kl (N) gets the unweighted KL_n.
 * Backward w.r.t. the student logits (overwrite), g = scale * w / tau times
 *   forward: ps - pt        reverse: ps * (log ps - log pt - KL_n)
 * (the tau^2 factor of distillation losses is the caller's, folded into scale). */
typedef enum srlm_kl_dir { SRLM_KL_FORWARD = 0, SRLM_KL_REVERSE = 1 } srlm_kl_dir;
double srlm_ref_kl_fwd(float *kl,              // (N); may be NULL
                       const float *student,   // (N,V) logits
                       const float *teacher,   // (N,V) logits
                       const float *weights,   // (N); may be NULL
                       float tau, srlm_kl_dir dir, int N, int V);
void srlm_ref_kl_bwd(float *dstudent,        // (N,V); may equal student
                     const float *student, const float *teacher, const float *weights,
                     float tau, srlm_kl_dir dir, float scale, int N, int V);

/* KL to a teacher known only by its top K tokens per row (`srlm teacher --topk`): the
 * teacher's K log-probabilities tlogp (taken at temperature tau over its full vocabulary)
 * plus one bucket holding the remaining mass pt_rest = 1 - sum exp(tlogp) (when K < V). The
 * student's ps = softmax(student/tau) is grouped the same way (the K tokens; the rest,
 * q_rest). The KL (either direction) is taken over these K+1 buckets; both rest masses are
 * floored at 1e-30 so that it stays finite. Backward w.r.t. the student logits (overwrite;
 * dstudent must not alias student), g = scale * w / tau times
 *   forward: top-k v: ps_v - pt_v;  other v: ps_v (1 - pt_rest / q_rest)
 *   reverse: ps_v (a_b - KL_n), a_b = log(bucket's student mass / its teacher mass).
 * With K = V (ids a permutation) it equals srlm_ref_kl_* on the full teacher. */
double srlm_ref_kl_topk_fwd(float *kl,             // (N); may be NULL
                            const float *student,  // (N,V) logits
                            const int *tids,       // (N,K) distinct token ids in [0,V)
                            const float *tlogp,    // (N,K) teacher log-probabilities
                            const float *weights,  // (N); may be NULL
                            float tau, srlm_kl_dir dir, int N, int V, int K);
void srlm_ref_kl_topk_bwd(float *dstudent,        // (N,V)
                          const float *student, const int *tids, const float *tlogp,
                          const float *weights, float tau, srlm_kl_dir dir, float scale,
                          int N, int V, int K);

/* ---- Optimizer (ref_adamw.c) ----------------------------------------------------------
 * One AdamW step on n parameters, as torch.optim.AdamW (decoupled weight decay):
 *   g = grad * grad_scale;  p -= lr * wd * p  (only when decay is nonzero)
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps),   t >= 1
 * grad_scale carries gradient clipping (and 1/accumulation steps) without a pass over grad. */
void srlm_ref_adamw_step(float *param,      // (n)
                         float *m,          // (n) first moment
                         float *v,          // (n) second moment
                         const float *grad, // (n)
                         size_t n, float lr, float beta1, float beta2, float eps,
                         float weight_decay, int decay, int t, float grad_scale);
/* The factor clip_grad_norm_ applies: min(1, max_norm / (norm + 1e-6)). */
float srlm_ref_clip_scale(float norm, float max_norm);
/* Global-norm clipping of count gradient tensors in place; returns the norm before
 * clipping. */
float srlm_ref_clip_grad_norm(float *const *grads, const size_t *sizes, int count,
                              float max_norm);

/* ---- Bandwidth probes (ref_membw.c; shaders/membw.comp, `srlm bench membw`) ------------
 * x is n uvec4 words (4 uint32 each). Workgroup g covers words [g*chunk, min((g+1)*chunk, n));
 * its lane l sums (mod 2^32, all four components) the words g*chunk + l + k*wg. */
void srlm_ref_membw_read(uint32_t *partial,   // (groups*wg) one per invocation
                         const uint32_t *x,   // (n*4)
                         uint32_t n, uint32_t chunk, uint32_t wg);
void srlm_ref_membw_copy(uint32_t *y, const uint32_t *x, uint32_t n); // (n*4) each

#endif
