/* config.h: the model configuration srlm runs (Qwen2 and Llama decoder-only transformers),
 * read from / written to Hugging Face config.json, and the list of tensors a configuration
 * implies. Not a weights reader (weights.h) and not GGUF metadata mapping (gguf_model.h). */
#ifndef SRLM_MODEL_CONFIG_H
#define SRLM_MODEL_CONFIG_H

#include "srlm.h"

#include <stdbool.h>

typedef enum srlm_arch {
    SRLM_ARCH_QWEN2 = 0, /* Qwen2ForCausalLM: q/k/v bias, usually tied */
    SRLM_ARCH_LLAMA = 1, /* LlamaForCausalLM: bias only with attention_bias */
} srlm_arch;

/* How RoPE pairs the dimensions of a head (HS = head size):
 * ROTATE_HALF (HF, "neox"): pairs (i, i + HS/2); INTERLEAVED (GGUF llama): pairs (2i, 2i+1). */
typedef enum srlm_rope_layout {
    SRLM_ROPE_ROTATE_HALF = 0,
    SRLM_ROPE_INTERLEAVED = 1,
} srlm_rope_layout;

#define SRLM_MAX_EOS 4

typedef struct srlm_model_config {
    srlm_arch arch;
    int hidden_size;             /* C */
    int num_hidden_layers;       /* L */
    int num_attention_heads;     /* NH */
    int num_key_value_heads;     /* NKV */
    int head_dim;                /* HS = C / NH */
    int intermediate_size;       /* FFN width */
    int vocab_size;              /* V (embedding rows) */
    int max_position_embeddings;
    double rms_norm_eps;
    double rope_theta;
    bool tie_word_embeddings;
    bool attention_bias;         /* q/k/v projections have biases */
    srlm_dtype torch_dtype;      /* dtype the weights were saved in */
    srlm_rope_layout rope_layout;
    int bos_token_id;            /* -1: none */
    int eos_token_ids[SRLM_MAX_EOS];
    int n_eos;
} srlm_model_config;

/* Fills defaults for an architecture (eps 1e-6, theta 1e4 for Llama / 1e6 for Qwen2,
 * rotate-half RoPE, f32, no bos/eos); sizes are left 0. */
void srlm_model_config_defaults(srlm_model_config *c, srlm_arch arch);

/* Parses config.json text. `path` names the file in messages. Reads `architectures`
 * (or `model_type`), sizes, eps, theta, tie, bias (Qwen2: always; Llama: `attention_bias`,
 * default false), max positions, torch_dtype, bos/eos (eos may be a list). Refuses
 * rope_scaling, sliding windows and head_dim != hidden/heads (SRLM_ERR_UNSUPPORTED), unknown
 * architectures (SRLM_ERR_UNSUPPORTED naming the file and the architecture), and anything
 * srlm_model_config_validate refuses. Errors: SRLM_ERR_FORMAT (bad JSON, wrong types). */
srlm_status srlm_model_config_parse(const char *json, size_t len, const char *path, srlm_model_config *out);
/* Reads and parses a config.json file. SRLM_ERR_IO when it cannot be read. */
srlm_status srlm_model_config_load(const char *path, srlm_model_config *out);
/* Checks sizes are positive, heads divide hidden, KV heads divide heads, head size even,
 * eps > 0, theta > 0, token ids inside the vocabulary. Errors name `path` and the field. */
srlm_status srlm_model_config_validate(const srlm_model_config *c, const char *path);
/* Renders the config as HF config.json text (malloc'd, caller frees). */
srlm_status srlm_model_config_to_json(const srlm_model_config *c, char **out);
/* Writes config.json atomically (temp name in the same folder, fsync, rename). */
srlm_status srlm_model_config_write(const srlm_model_config *c, const char *path);

/* ---- tensors implied by a config ---- */
typedef enum srlm_tensor_kind {
    SRLM_TENSOR_EMBEDDING, /* [V, C] */
    SRLM_TENSOR_MATRIX,    /* [out, in] linear weight */
    SRLM_TENSOR_NORM,      /* [C] RMSNorm gain */
    SRLM_TENSOR_BIAS,      /* [out] */
} srlm_tensor_kind;

typedef struct srlm_tensor_spec {
    char name[96];     /* HF name, e.g. model.layers.3.self_attn.q_proj.weight */
    int n_dims;        /* 1 or 2 */
    int64_t shape[2];  /* HF order: [rows, cols] for matrices */
    srlm_tensor_kind kind;
    int layer;         /* -1 for embedding, final norm, lm_head */
} srlm_tensor_spec;

/* Number of tensors the config implies (embedding, per layer 7 matrices + 2 norms
 * (+ 3 biases), final norm, lm_head unless tied). */
size_t srlm_model_tensor_count(const srlm_model_config *c);
/* The i-th expected tensor, in a stable order (embedding, layers in order, norm, lm_head). */
void srlm_model_tensor_spec(const srlm_model_config *c, size_t i, srlm_tensor_spec *out);
/* Total parameters (lm_head counted only when untied). */
uint64_t srlm_model_param_count(const srlm_model_config *c);

#endif
