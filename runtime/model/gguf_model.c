/* gguf_model.c: GGUF architecture metadata -> srlm_model_config, and tensor-name mapping
 * between GGUF and Hugging Face. Only llama and qwen2. */
#include "model/gguf_model.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *gguf, *hf; } layer_names[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};

static const struct { const char *gguf, *hf; } global_names[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Parses "<prefix><digits>.<rest>", returning the layer and a pointer to rest. */
static const char *split_layer(const char *name, const char *prefix, int *layer) {
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl)) return NULL;
    const char *p = name + pl;
    int l = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 7) l = l * 10 + (*p++ - '0'), digits++;
    if (!digits || *p != '.') return NULL;
    *layer = l;
    return p + 1;
}

bool srlm_gguf_name_to_hf(const char *gguf_name, char *out, size_t cap) {
    for (size_t i = 0; i < COUNT(global_names); i++)
        if (!strcmp(gguf_name, global_names[i].gguf))
            return (size_t)snprintf(out, cap, "%s", global_names[i].hf) < cap;
    int l;
    const char *rest = split_layer(gguf_name, "blk.", &l);
    if (!rest) return false;
    for (size_t i = 0; i < COUNT(layer_names); i++)
        if (!strcmp(rest, layer_names[i].gguf))
            return (size_t)snprintf(out, cap, "model.layers.%d.%s", l, layer_names[i].hf) < cap;
    return false;
}

bool srlm_hf_name_to_gguf(const char *hf_name, char *out, size_t cap) {
    for (size_t i = 0; i < COUNT(global_names); i++)
        if (!strcmp(hf_name, global_names[i].hf))
            return (size_t)snprintf(out, cap, "%s", global_names[i].gguf) < cap;
    int l;
    const char *rest = split_layer(hf_name, "model.layers.", &l);
    if (!rest) return false;
    for (size_t i = 0; i < COUNT(layer_names); i++)
        if (!strcmp(rest, layer_names[i].hf))
            return (size_t)snprintf(out, cap, "blk.%d.%s", l, layer_names[i].gguf) < cap;
    return false;
}

static srlm_status get_dim(const srlm_gguf *g, const char *arch, const char *suffix, int *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    uint32_t v;
    SRLM_TRY(srlm_gguf_get_u32(g, key, &v));
    if (v == 0 || v > 0x7fffffff) return srlm_errorf(SRLM_ERR_FORMAT, "%s: %s = %u is out of range", srlm_gguf_path(g), key, v);
    *out = (int)v;
    return NULL;
}

srlm_status srlm_gguf_model_config(const srlm_gguf *g, srlm_model_config *c) {
    const char *path = srlm_gguf_path(g);
    char arch[32];
    const char *s;
    size_t len;
    SRLM_TRY(srlm_gguf_get_str(g, "general.architecture", &s, &len));
    if (len >= sizeof arch) len = sizeof arch - 1;
    memcpy(arch, s, len);
    arch[len] = 0;
    if (!strcmp(arch, "llama")) srlm_model_config_defaults(c, SRLM_ARCH_LLAMA);
    else if (!strcmp(arch, "qwen2")) srlm_model_config_defaults(c, SRLM_ARCH_QWEN2);
    else return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: unknown architecture '%s' (srlm runs llama and qwen2 GGUF files)", path, arch);
    c->rope_layout = c->arch == SRLM_ARCH_LLAMA ? SRLM_ROPE_INTERLEAVED : SRLM_ROPE_ROTATE_HALF;
    SRLM_TRY(get_dim(g, arch, "embedding_length", &c->hidden_size));
    SRLM_TRY(get_dim(g, arch, "block_count", &c->num_hidden_layers));
    SRLM_TRY(get_dim(g, arch, "attention.head_count", &c->num_attention_heads));
    c->num_key_value_heads = c->num_attention_heads;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.head_count_kv", arch);
    if (srlm_gguf_find(g, key)) SRLM_TRY(get_dim(g, arch, "attention.head_count_kv", &c->num_key_value_heads));
    SRLM_TRY(get_dim(g, arch, "feed_forward_length", &c->intermediate_size));
    snprintf(key, sizeof key, "%s.context_length", arch);
    if (srlm_gguf_find(g, key)) SRLM_TRY(get_dim(g, arch, "context_length", &c->max_position_embeddings));
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    float f;
    SRLM_TRY(srlm_gguf_get_f32(g, key, &f));
    c->rms_norm_eps = f;
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    c->rope_theta = 10000.0;
    if (srlm_gguf_find(g, key)) {
        SRLM_TRY(srlm_gguf_get_f32(g, key, &f));
        c->rope_theta = f;
    }
    c->head_dim = c->hidden_size / c->num_attention_heads;
    snprintf(key, sizeof key, "%s.rope.dimension_count", arch);
    if (srlm_gguf_find(g, key)) {
        uint32_t rd;
        SRLM_TRY(srlm_gguf_get_u32(g, key, &rd));
        if ((int)rd != c->head_dim)
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: partial RoPE (%s = %u, head size %d) is not supported", path, key, rd, c->head_dim);
    }
    const srlm_gguf_tensor *emb = srlm_gguf_find_tensor(g, "token_embd.weight");
    srlm_gguf_value toks;
    if (emb && emb->n_dims == 2 && emb->ne[1] <= 0x7fffffff) {
        c->vocab_size = (int)emb->ne[1];
    } else if (srlm_gguf_find(g, "tokenizer.ggml.tokens")) {
        SRLM_TRY(srlm_gguf_get_array(g, "tokenizer.ggml.tokens", SRLM_GGUF_STRING, &toks));
        if (toks.n == 0 || toks.n > 0x7fffffff) return srlm_errorf(SRLM_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", path, (unsigned long long)toks.n);
        c->vocab_size = (int)toks.n;
    } else {
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: no token_embd.weight and no tokenizer.ggml.tokens: vocabulary size unknown", path);
    }
    c->tie_word_embeddings = srlm_gguf_find_tensor(g, "output.weight") == NULL;
    c->attention_bias = srlm_gguf_find_tensor(g, "blk.0.attn_q.bias") != NULL;
    if (emb) c->torch_dtype = emb->dtype == SRLM_DTYPE_Q8_0 ? SRLM_DTYPE_F16 : emb->dtype;
    uint32_t id;
    if (srlm_gguf_find(g, "tokenizer.ggml.bos_token_id")) {
        SRLM_TRY(srlm_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &id));
        if (id >= (uint32_t)c->vocab_size)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tokenizer.ggml.bos_token_id %u is outside the vocabulary of %d", path, id, c->vocab_size);
        c->bos_token_id = (int)id;
    }
    if (srlm_gguf_find(g, "tokenizer.ggml.eos_token_id")) {
        SRLM_TRY(srlm_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &id));
        if (id >= (uint32_t)c->vocab_size)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tokenizer.ggml.eos_token_id %u is outside the vocabulary of %d", path, id, c->vocab_size);
        c->eos_token_ids[0] = (int)id;
        c->n_eos = 1;
    }
    return srlm_model_config_validate(c, path);
}
