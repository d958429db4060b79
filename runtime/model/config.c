/* config.c: HF config.json <-> srlm_model_config, validation, and the tensor list a config
 * implies. Only Qwen2ForCausalLM and LlamaForCausalLM; anything srlm cannot run exactly
 * (rope scaling, sliding windows, other activations) is refused, not approximated. */
#include "model/config.h"

#include "model/atomic.h"
#include "model/dtype.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void srlm_model_config_defaults(srlm_model_config *c, srlm_arch arch) {
    memset(c, 0, sizeof *c);
    c->arch = arch;
    c->rms_norm_eps = 1e-6;
    c->rope_theta = arch == SRLM_ARCH_QWEN2 ? 1e6 : 1e4;
    c->attention_bias = arch == SRLM_ARCH_QWEN2;
    c->tie_word_embeddings = false;
    c->max_position_embeddings = 2048;
    c->torch_dtype = SRLM_DTYPE_F32;
    c->rope_layout = SRLM_ROPE_ROTATE_HALF;
    c->bos_token_id = -1;
}

/* Reads an integer field; `required` makes absence an error. JSON numbers are doubles, so
 * check they are integral and in range. */
static srlm_status get_int(const cJSON *root, const char *path, const char *key, bool required, int lo, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return srlm_errorf(SRLM_ERR_FORMAT, "%s: missing \"%s\"", path, key);
        return NULL;
    }
    double d = cJSON_GetNumberValue(v);
    if (!cJSON_IsNumber(v) || d != floor(d) || d < lo || d > 2147483647.0)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: \"%s\" must be an integer >= %d", path, key, lo);
    *out = (int)d;
    return NULL;
}

static srlm_status get_double(const cJSON *root, const char *path, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return NULL;
    if (!cJSON_IsNumber(v) || !isfinite(cJSON_GetNumberValue(v)))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: \"%s\" must be a number", path, key);
    *out = cJSON_GetNumberValue(v);
    return NULL;
}

static srlm_status get_bool(const cJSON *root, const char *path, const char *key, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v || cJSON_IsNull(v)) return NULL;
    if (!cJSON_IsBool(v)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: \"%s\" must be true or false", path, key);
    *out = cJSON_IsTrue(v);
    return NULL;
}

static srlm_status parse_arch(const cJSON *root, const char *path, srlm_arch *arch) {
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const char *name = NULL;
    if (cJSON_IsArray(archs) && cJSON_GetArraySize(archs) >= 1) {
        const cJSON *a0 = cJSON_GetArrayItem(archs, 0);
        if (!cJSON_IsString(a0)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: \"architectures\" must hold strings", path);
        name = a0->valuestring;
        if (!strcmp(name, "Qwen2ForCausalLM")) { *arch = SRLM_ARCH_QWEN2; return NULL; }
        if (!strcmp(name, "LlamaForCausalLM")) { *arch = SRLM_ARCH_LLAMA; return NULL; }
    } else {
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
        if (cJSON_IsString(mt)) {
            name = mt->valuestring;
            if (!strcmp(name, "qwen2")) { *arch = SRLM_ARCH_QWEN2; return NULL; }
            if (!strcmp(name, "llama")) { *arch = SRLM_ARCH_LLAMA; return NULL; }
        }
    }
    if (!name) return srlm_errorf(SRLM_ERR_FORMAT, "%s: no \"architectures\" or \"model_type\"", path);
    return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: unknown architecture '%s' (srlm runs Qwen2ForCausalLM and LlamaForCausalLM)",
                       path, name);
}

static srlm_status parse_token_ids(const cJSON *root, const char *path, srlm_model_config *c) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "bos_token_id");
    if (v && !cJSON_IsNull(v)) SRLM_TRY(get_int(root, path, "bos_token_id", true, 0, &c->bos_token_id));
    v = cJSON_GetObjectItemCaseSensitive(root, "eos_token_id");
    if (!v || cJSON_IsNull(v)) return NULL;
    if (cJSON_IsNumber(v)) {
        SRLM_TRY(get_int(root, path, "eos_token_id", true, 0, &c->eos_token_ids[0]));
        c->n_eos = 1;
        return NULL;
    }
    if (!cJSON_IsArray(v)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: \"eos_token_id\" must be an integer or a list", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        double d = cJSON_GetNumberValue(e);
        if (!cJSON_IsNumber(e) || d != floor(d) || d < 0 || d > 2147483647.0)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: \"eos_token_id\" list must hold integers", path);
        if (c->n_eos == SRLM_MAX_EOS)
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: more than %d eos_token_id values", path, SRLM_MAX_EOS);
        c->eos_token_ids[c->n_eos++] = (int)d;
    }
    return NULL;
}

static srlm_status parse_root(const cJSON *root, const char *path, srlm_model_config *c) {
    if (!cJSON_IsObject(root)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a JSON object", path);
    srlm_arch arch = SRLM_ARCH_QWEN2;
    SRLM_TRY(parse_arch(root, path, &arch));
    srlm_model_config_defaults(c, arch);
    SRLM_TRY(get_int(root, path, "hidden_size", true, 1, &c->hidden_size));
    SRLM_TRY(get_int(root, path, "num_hidden_layers", true, 1, &c->num_hidden_layers));
    SRLM_TRY(get_int(root, path, "num_attention_heads", true, 1, &c->num_attention_heads));
    c->num_key_value_heads = c->num_attention_heads;
    SRLM_TRY(get_int(root, path, "num_key_value_heads", false, 1, &c->num_key_value_heads));
    SRLM_TRY(get_int(root, path, "intermediate_size", true, 1, &c->intermediate_size));
    SRLM_TRY(get_int(root, path, "vocab_size", true, 1, &c->vocab_size));
    SRLM_TRY(get_int(root, path, "max_position_embeddings", false, 1, &c->max_position_embeddings));
    SRLM_TRY(get_double(root, path, "rms_norm_eps", &c->rms_norm_eps));
    SRLM_TRY(get_double(root, path, "rope_theta", &c->rope_theta));
    SRLM_TRY(get_bool(root, path, "tie_word_embeddings", &c->tie_word_embeddings));
    if (arch == SRLM_ARCH_LLAMA) SRLM_TRY(get_bool(root, path, "attention_bias", &c->attention_bias));
    c->head_dim = c->num_attention_heads ? c->hidden_size / c->num_attention_heads : 0;
    int hd = c->head_dim;
    SRLM_TRY(get_int(root, path, "head_dim", false, 1, &hd));
    if (hd != c->head_dim)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: head_dim %d differs from hidden_size / num_attention_heads = %d",
                           path, hd, c->head_dim);
    /* transformers >= 4.56 writes "dtype"; older versions "torch_dtype". */
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "torch_dtype");
    if (!v || cJSON_IsNull(v)) v = cJSON_GetObjectItemCaseSensitive(root, "dtype");
    if (v && !cJSON_IsNull(v) && (!cJSON_IsString(v) || !srlm_dtype_parse(v->valuestring, &c->torch_dtype)))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: torch_dtype %s is not float32, float16 or bfloat16", path,
                           cJSON_IsString(v) ? v->valuestring : "(not a string)");
    v = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, "silu")))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: hidden_act must be \"silu\"", path);
    v = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    if (v && !cJSON_IsNull(v)) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: rope_scaling is not supported", path);
    bool sliding = false;
    SRLM_TRY(get_bool(root, path, "use_sliding_window", &sliding));
    if (sliding) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: use_sliding_window is not supported", path);
    bool mlp_bias = false;
    SRLM_TRY(get_bool(root, path, "mlp_bias", &mlp_bias));
    if (mlp_bias) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: mlp_bias is not supported", path);
    SRLM_TRY(parse_token_ids(root, path, c));
    return srlm_model_config_validate(c, path);
}

srlm_status srlm_model_config_parse(const char *json, size_t len, const char *path, srlm_model_config *out) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= json && at <= json + len ? (long)(at - json) : -1;
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: invalid JSON near byte %ld", path, off);
    }
    srlm_status st = parse_root(root, path, out);
    cJSON_Delete(root);
    return st;
}

srlm_status srlm_model_config_load(const char *path, srlm_model_config *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            if (cap > (64u << 20)) { free(buf); fclose(f); return srlm_errorf(SRLM_ERR_FORMAT, "%s: larger than 64 MiB", path); }
            cap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", path); }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); return srlm_errorf(SRLM_ERR_IO, "%s: read error", path); }
    srlm_status st = srlm_model_config_parse(buf, n, path, out);
    free(buf);
    return st;
}

srlm_status srlm_model_config_validate(const srlm_model_config *c, const char *path) {
    const char *p = path ? path : "config";
    if (c->arch != SRLM_ARCH_QWEN2 && c->arch != SRLM_ARCH_LLAMA)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: unknown architecture %d", p, (int)c->arch);
    const struct { const char *name; int v; } pos[] = {
        {"hidden_size", c->hidden_size}, {"num_hidden_layers", c->num_hidden_layers},
        {"num_attention_heads", c->num_attention_heads}, {"num_key_value_heads", c->num_key_value_heads},
        {"intermediate_size", c->intermediate_size}, {"vocab_size", c->vocab_size},
        {"max_position_embeddings", c->max_position_embeddings},
    };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0) return srlm_errorf(SRLM_ERR_INVALID, "%s: %s must be positive (got %d)", p, pos[i].name, pos[i].v);
    if (c->hidden_size % c->num_attention_heads)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: num_attention_heads %d does not divide hidden_size %d", p,
                           c->num_attention_heads, c->hidden_size);
    if (c->num_attention_heads % c->num_key_value_heads)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: num_key_value_heads %d does not divide num_attention_heads %d", p,
                           c->num_key_value_heads, c->num_attention_heads);
    if (c->head_dim != c->hidden_size / c->num_attention_heads)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: head_dim %d != hidden_size / num_attention_heads", p, c->head_dim);
    if (c->head_dim % 2) return srlm_errorf(SRLM_ERR_INVALID, "%s: head size %d is odd (RoPE needs pairs)", p, c->head_dim);
    if (!(c->rms_norm_eps > 0) || !isfinite(c->rms_norm_eps))
        return srlm_errorf(SRLM_ERR_INVALID, "%s: rms_norm_eps must be positive", p);
    if (!(c->rope_theta > 0) || !isfinite(c->rope_theta))
        return srlm_errorf(SRLM_ERR_INVALID, "%s: rope_theta must be positive", p);
    if (c->bos_token_id >= c->vocab_size)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: bos_token_id %d is outside the vocabulary of %d", p, c->bos_token_id, c->vocab_size);
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_token_ids[i] < 0 || c->eos_token_ids[i] >= c->vocab_size)
            return srlm_errorf(SRLM_ERR_INVALID, "%s: eos_token_id %d is outside the vocabulary of %d", p, c->eos_token_ids[i], c->vocab_size);
    return NULL;
}

srlm_status srlm_model_config_to_json(const srlm_model_config *c, char **out) {
    *out = NULL;
    cJSON *r = cJSON_CreateObject();
    if (!r) return srlm_errorf(SRLM_ERR_OOM, "out of memory");
    bool qwen = c->arch == SRLM_ARCH_QWEN2;
    cJSON *archs = cJSON_AddArrayToObject(r, "architectures");
    if (archs) cJSON_AddItemToArray(archs, cJSON_CreateString(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"));
    cJSON_AddStringToObject(r, "model_type", qwen ? "qwen2" : "llama");
    if (!qwen) cJSON_AddBoolToObject(r, "attention_bias", c->attention_bias);
    if (!qwen) cJSON_AddBoolToObject(r, "mlp_bias", false);
    cJSON_AddNumberToObject(r, "attention_dropout", 0.0);
    if (c->bos_token_id >= 0) cJSON_AddNumberToObject(r, "bos_token_id", c->bos_token_id);
    if (c->n_eos == 1) cJSON_AddNumberToObject(r, "eos_token_id", c->eos_token_ids[0]);
    else if (c->n_eos > 1) {
        cJSON *e = cJSON_AddArrayToObject(r, "eos_token_id");
        for (int i = 0; e && i < c->n_eos; i++) cJSON_AddItemToArray(e, cJSON_CreateNumber(c->eos_token_ids[i]));
    }
    if (!qwen) cJSON_AddNumberToObject(r, "head_dim", c->head_dim);
    cJSON_AddStringToObject(r, "hidden_act", "silu");
    cJSON_AddNumberToObject(r, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(r, "initializer_range", 0.02);
    cJSON_AddNumberToObject(r, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(r, "max_position_embeddings", c->max_position_embeddings);
    if (qwen) cJSON_AddNumberToObject(r, "max_window_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(r, "num_attention_heads", c->num_attention_heads);
    cJSON_AddNumberToObject(r, "num_hidden_layers", c->num_hidden_layers);
    cJSON_AddNumberToObject(r, "num_key_value_heads", c->num_key_value_heads);
    if (!qwen) cJSON_AddNumberToObject(r, "pretraining_tp", 1);
    cJSON_AddNumberToObject(r, "rms_norm_eps", c->rms_norm_eps);
    cJSON_AddNullToObject(r, "rope_scaling");
    cJSON_AddNumberToObject(r, "rope_theta", c->rope_theta);
    if (qwen) cJSON_AddNullToObject(r, "sliding_window");
    cJSON_AddBoolToObject(r, "tie_word_embeddings", c->tie_word_embeddings);
    cJSON_AddStringToObject(r, "torch_dtype", srlm_dtype_torch_name(c->torch_dtype));
    cJSON_AddBoolToObject(r, "use_cache", true);
    if (qwen) cJSON_AddBoolToObject(r, "use_sliding_window", false);
    cJSON_AddNumberToObject(r, "vocab_size", c->vocab_size);
    char *s = cJSON_Print(r);
    cJSON_Delete(r);
    if (!s) return srlm_errorf(SRLM_ERR_OOM, "out of memory rendering config.json");
    *out = s;
    return NULL;
}

srlm_status srlm_model_config_write(const srlm_model_config *c, const char *path) {
    SRLM_TRY(srlm_model_config_validate(c, path));
    char *s = NULL;
    SRLM_TRY(srlm_model_config_to_json(c, &s));
    size_t n = strlen(s);
    /* cJSON_Print allocates exactly; re-render with a trailing newline for POSIX tools. */
    char *t = malloc(n + 2);
    if (!t) { cJSON_free(s); return srlm_errorf(SRLM_ERR_OOM, "out of memory"); }
    memcpy(t, s, n);
    t[n] = '\n';
    cJSON_free(s);
    srlm_status st = srlm_write_file_atomic(path, t, n + 1);
    free(t);
    return st;
}

/* ---- tensor list ---- */

static size_t per_layer(const srlm_model_config *c) { return 9 + (c->attention_bias ? 3 : 0); }

size_t srlm_model_tensor_count(const srlm_model_config *c) {
    return 1 + (size_t)c->num_hidden_layers * per_layer(c) + 1 + (c->tie_word_embeddings ? 0 : 1);
}

static void set(srlm_tensor_spec *t, srlm_tensor_kind kind, int layer, int64_t d0, int64_t d1, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
static void set(srlm_tensor_spec *t, srlm_tensor_kind kind, int layer, int64_t d0, int64_t d1, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->kind = kind;
    t->layer = layer;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->n_dims = d1 ? 2 : 1;
    if (!d1) t->shape[1] = 0;
}

void srlm_model_tensor_spec(const srlm_model_config *c, size_t i, srlm_tensor_spec *t) {
    int64_t C = c->hidden_size, V = c->vocab_size, F = c->intermediate_size;
    int64_t HS = c->head_dim, Q = (int64_t)c->num_attention_heads * HS, KV = (int64_t)c->num_key_value_heads * HS;
    memset(t, 0, sizeof *t);
    if (i == 0) { set(t, SRLM_TENSOR_EMBEDDING, -1, V, C, "model.embed_tokens.weight"); return; }
    i -= 1;
    size_t pl = per_layer(c);
    if (i < (size_t)c->num_hidden_layers * pl) {
        int l = (int)(i / pl);
        size_t k = i % pl;
        switch (k) {
        case 0: set(t, SRLM_TENSOR_NORM, l, C, 0, "model.layers.%d.input_layernorm.weight", l); return;
        case 1: set(t, SRLM_TENSOR_MATRIX, l, Q, C, "model.layers.%d.self_attn.q_proj.weight", l); return;
        case 2: set(t, SRLM_TENSOR_MATRIX, l, KV, C, "model.layers.%d.self_attn.k_proj.weight", l); return;
        case 3: set(t, SRLM_TENSOR_MATRIX, l, KV, C, "model.layers.%d.self_attn.v_proj.weight", l); return;
        case 4: set(t, SRLM_TENSOR_MATRIX, l, C, Q, "model.layers.%d.self_attn.o_proj.weight", l); return;
        case 5: set(t, SRLM_TENSOR_NORM, l, C, 0, "model.layers.%d.post_attention_layernorm.weight", l); return;
        case 6: set(t, SRLM_TENSOR_MATRIX, l, F, C, "model.layers.%d.mlp.gate_proj.weight", l); return;
        case 7: set(t, SRLM_TENSOR_MATRIX, l, F, C, "model.layers.%d.mlp.up_proj.weight", l); return;
        case 8: set(t, SRLM_TENSOR_MATRIX, l, C, F, "model.layers.%d.mlp.down_proj.weight", l); return;
        case 9: set(t, SRLM_TENSOR_BIAS, l, Q, 0, "model.layers.%d.self_attn.q_proj.bias", l); return;
        case 10: set(t, SRLM_TENSOR_BIAS, l, KV, 0, "model.layers.%d.self_attn.k_proj.bias", l); return;
        default: set(t, SRLM_TENSOR_BIAS, l, KV, 0, "model.layers.%d.self_attn.v_proj.bias", l); return;
        }
    }
    i -= (size_t)c->num_hidden_layers * pl;
    if (i == 0) { set(t, SRLM_TENSOR_NORM, -1, C, 0, "model.norm.weight"); return; }
    set(t, SRLM_TENSOR_EMBEDDING, -1, V, C, "lm_head.weight");
}

uint64_t srlm_model_param_count(const srlm_model_config *c) {
    uint64_t total = 0;
    size_t n = srlm_model_tensor_count(c);
    for (size_t i = 0; i < n; i++) {
        srlm_tensor_spec t;
        srlm_model_tensor_spec(c, i, &t);
        total += (uint64_t)t.shape[0] * (uint64_t)(t.n_dims == 2 ? t.shape[1] : 1);
    }
    return total;
}
