/* gguf_model.h: what a GGUF file means to srlm: `llama` / `qwen2` metadata mapped to
 * srlm_model_config, and GGUF tensor names mapped to the Hugging Face names srlm uses.
 * Not the GGUF parser (gguf.h). */
#ifndef SRLM_MODEL_GGUF_MODEL_H
#define SRLM_MODEL_GGUF_MODEL_H

#include "model/config.h"
#include "model/gguf.h"

#include <stdbool.h>

/* Builds the config from `general.architecture` (llama or qwen2) and `<arch>.*` keys:
 * embedding_length, block_count, attention.head_count(_kv), feed_forward_length,
 * attention.layer_norm_rms_epsilon, rope.freq_base (default 10000), context_length; vocab
 * size from token_embd.weight's rows, else the tokenizer.ggml.tokens array; tie when
 * output.weight is absent; attention bias when blk.0.attn_q.bias exists; bos/eos from
 * tokenizer.ggml.*; RoPE layout interleaved for llama (GGUF permutes Q/K rows), rotate-half
 * for qwen2. Errors name the file and key (SRLM_ERR_UNSUPPORTED for other architectures). */
srlm_status srlm_gguf_model_config(const srlm_gguf *g, srlm_model_config *out);

/* "blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight", "token_embd.weight" ->
 * "model.embed_tokens.weight", ... Returns false for names srlm does not know. */
bool srlm_gguf_name_to_hf(const char *gguf_name, char *out, size_t cap);
/* The inverse mapping. */
bool srlm_hf_name_to_gguf(const char *hf_name, char *out, size_t cap);

#endif
