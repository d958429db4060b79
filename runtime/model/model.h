/* model.h: a model's weights on the device (srlm_model) and the per-layer forward pass of
 * the Qwen2 / Llama decoder. Not the file readers (weights.h) nor the KV cache (decode/). */
#ifndef SRLM_MODEL_H
#define SRLM_MODEL_H

#include "model/config.h"
#include "model/weights.h"
#include "vk/vk.h"

/* One transformer block's parameters on the device. Matrices in the model's storage dtype
 * (f32, or f16 as packed uint words), norms and biases always f32. Shapes in HF order. */
typedef struct srlm_layer_weights {
    srlm_buf attn_norm;          // (C)
    srlm_buf wq, wk, wv;         // (NH*HS, C), (NKV*HS, C), (NKV*HS, C)
    srlm_buf bq, bk, bv;         // (NH*HS), (NKV*HS), (NKV*HS); size 0 without bias
    srlm_buf wo;                 // (C, NH*HS)
    srlm_buf ffn_norm;           // (C)
    srlm_buf w_gate, w_up;       // (I, C)
    srlm_buf w_down;             // (C, I)
} srlm_layer_weights;

struct srlm_model {
    srlm_ctx *ctx;
    srlm_model_config cfg;
    srlm_dtype wdtype;           /* storage of matrices and embedding: F32 or F16 */
    srlm_arena *arena;
    srlm_buf embed;              // (V, C)
    srlm_buf lm_head;            // (V, C); the same buffer as embed when tied
    srlm_buf final_norm;         // (C)
    srlm_layer_weights *layers;  // L of them
    srlm_buf rope_table;         // RoPE frequencies for (HS, theta), see srlm_op_rope_table_write
    char path[1024];
};

/* The buffer of tensor i in srlm_model_tensor_spec order (tied lm_head: the embedding's). */
srlm_buf *srlm_model_tensor(srlm_model *m, size_t i);
/* Device bytes srlm_model_alloc takes for cfg in dtype. */
uint64_t srlm_model_alloc_bytes(const srlm_model_config *cfg, srlm_dtype dtype);
/* Allocates every tensor of cfg (contents undefined) and writes the RoPE table; `name` names
 * the arena in errors. Refused with the sizes when over the budget. */
srlm_status srlm_model_alloc(srlm_ctx *ctx, const srlm_model_config *cfg, srlm_dtype dtype, const char *name, srlm_model **out);
/* Converts and uploads every tensor from a weights source into m. */
srlm_status srlm_model_upload(srlm_model *m, const srlm_weights *ws);

/* Writes every tensor (HF names) to a safetensors file in dtype (f32, f16 or bf16, rounding
 * to nearest even), reading back from the device tensor by tensor; atomic (temp + rename). */
srlm_status srlm_model_save_safetensors(srlm_model *m, const char *path, srlm_dtype dtype);

/* Bytes of one stored matrix element (F32: 4, F16: 2). */
size_t srlm_model_elem_size(const srlm_model *m);

#endif
