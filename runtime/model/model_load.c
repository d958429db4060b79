/* model_load.c: uploads a model's weights to the device in the chosen storage dtype (f32,
 * or f16 packed into uint words, which every device can read with unpackHalf2x16). Not the
 * readers (weights.c) nor the forward pass (forward.c). */
#include "model/model.h"
#include "model/dtype.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

#define CONVERT_CHUNK (1u << 22) /* elements converted per host pass */

size_t srlm_model_elem_size(const srlm_model *m) { return m->wdtype == SRLM_DTYPE_F32 ? 4 : 2; }

/* Converts a file tensor to `to` (F32 or F16) and writes it to dst, chunk by chunk so the
 * host never holds a second full copy of a large tensor. */
static srlm_status upload_tensor(srlm_ctx *ctx, srlm_buf dst, const srlm_weight *w, srlm_dtype to, float *tmp, void *conv) {
    size_t esz = to == SRLM_DTYPE_F32 ? 4 : 2;
    for (uint64_t off = 0; off < w->n_elements; off += CONVERT_CHUNK) {
        uint64_t n = w->n_elements - off < CONVERT_CHUNK ? w->n_elements - off : CONVERT_CHUNK;
        if (w->dtype == SRLM_DTYPE_Q8_0) {
            /* Q8_0 blocks hold 32 elements in 34 bytes; chunks are multiples of 32. */
            srlm_dequantize_q8_0(tmp, (const uint8_t *)w->data + off / 32 * 34, n);
        } else {
            srlm_convert_to_f32(tmp, (const uint8_t *)w->data + off * srlm_dtype_size(w->dtype), w->dtype, n);
        }
        for (uint64_t i = 0; i < n; i++)
            if (tmp[i] != tmp[i] || tmp[i] - tmp[i] != 0)
                return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor %s has a non-finite value at element %llu", w->file, w->name,
                                   (unsigned long long)(off + i));
        const void *src = tmp;
        if (to != SRLM_DTYPE_F32) {
            srlm_convert_from_f32(conv, tmp, to, n);
            src = conv;
        }
        SRLM_TRY(srlm_buf_write(ctx, dst, off * esz, src, n * esz));
    }
    return NULL;
}

static srlm_status load_one(srlm_model *m, const srlm_weights *ws, const char *name, bool matrix, srlm_buf *out,
                            float *tmp, void *conv) {
    const srlm_weight *w;
    SRLM_TRY(srlm_weights_get(ws, name, &w));
    srlm_dtype to = matrix ? m->wdtype : SRLM_DTYPE_F32;
    uint64_t bytes = w->n_elements * (to == SRLM_DTYPE_F32 ? 4 : 2);
    SRLM_TRY(srlm_status_wrap(srlm_arena_alloc(m->arena, bytes, out), "loading %s: ", name));
    return upload_tensor(m->ctx, *out, w, to, tmp, conv);
}

srlm_status srlm_model_load(srlm_ctx *ctx, const char *path, srlm_dtype dtype, srlm_model **out) {
    *out = NULL;
    if (dtype == SRLM_DTYPE_BF16) dtype = SRLM_DTYPE_F16; /* bf16 -> f16 storage */
    if (dtype != SRLM_DTYPE_F32 && dtype != SRLM_DTYPE_F16)
        return srlm_errorf(SRLM_ERR_INVALID, "weights can be stored as f32 or f16, not %s", srlm_dtype_name(dtype));
    srlm_weights *ws;
    SRLM_TRY(srlm_weights_open(path, &ws));
    srlm_model *m = calloc(1, sizeof *m);
    float *tmp = malloc(CONVERT_CHUNK * sizeof(float));
    void *conv = malloc(CONVERT_CHUNK * sizeof(uint16_t));
    srlm_status st = NULL;
    if (!m || !tmp || !conv) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory loading %s", path);
    if (!st) {
        m->ctx = ctx;
        m->cfg = *srlm_weights_config(ws);
        m->wdtype = dtype;
        snprintf(m->path, sizeof m->path, "%s", path);
        m->layers = calloc((size_t)m->cfg.num_hidden_layers, sizeof *m->layers);
        if (!m->layers) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory loading %s", path);
    }
    /* Plan: the whole weight size is checked against the budget before uploading. */
    if (!st) {
        uint64_t need = 0;
        for (size_t i = 0; i < srlm_weights_count(ws); i++) {
            const srlm_weight *w = srlm_weights_at(ws, i);
            need += w->n_elements * (w->n_dims == 2 ? srlm_model_elem_size(m) : 4) + 256;
        }
        need += srlm_op_rope_table_bytes(m->cfg.head_dim) + 256;
        if (need > srlm_ctx_mem_budget(ctx) - ctx->mem_used)
            st = srlm_errorf(SRLM_ERR_DEVICE_OOM, "%s: weights need %.1f MiB of device memory, %.1f MiB of the budget left "
                             "(set SRLM_MEM_BUDGET or --mem-budget)", path, need / 1048576.0,
                             (srlm_ctx_mem_budget(ctx) - ctx->mem_used) / 1048576.0);
        if (!st) st = srlm_arena_create(ctx, "weights", need < (1ull << 30) ? need : (1ull << 30), &m->arena);
    }
    if (!st) st = load_one(m, ws, "model.embed_tokens.weight", true, &m->embed, tmp, conv);
    char name[128];
    for (int l = 0; !st && l < m->cfg.num_hidden_layers; l++) {
        srlm_layer_weights *L = &m->layers[l];
        struct {
            const char *suffix;
            bool matrix, optional;
            srlm_buf *dst;
        } t[] = {
            {"input_layernorm.weight", false, false, &L->attn_norm},
            {"self_attn.q_proj.weight", true, false, &L->wq},
            {"self_attn.k_proj.weight", true, false, &L->wk},
            {"self_attn.v_proj.weight", true, false, &L->wv},
            {"self_attn.q_proj.bias", false, true, &L->bq},
            {"self_attn.k_proj.bias", false, true, &L->bk},
            {"self_attn.v_proj.bias", false, true, &L->bv},
            {"self_attn.o_proj.weight", true, false, &L->wo},
            {"post_attention_layernorm.weight", false, false, &L->ffn_norm},
            {"mlp.gate_proj.weight", true, false, &L->w_gate},
            {"mlp.up_proj.weight", true, false, &L->w_up},
            {"mlp.down_proj.weight", true, false, &L->w_down},
        };
        for (size_t i = 0; !st && i < sizeof t / sizeof t[0]; i++) {
            if (t[i].optional && !m->cfg.attention_bias) continue;
            snprintf(name, sizeof name, "model.layers.%d.%s", l, t[i].suffix);
            st = load_one(m, ws, name, t[i].matrix, t[i].dst, tmp, conv);
        }
    }
    if (!st) st = load_one(m, ws, "model.norm.weight", false, &m->final_norm, tmp, conv);
    if (!st) st = srlm_arena_alloc(m->arena, srlm_op_rope_table_bytes(m->cfg.head_dim), &m->rope_table);
    if (!st) st = srlm_op_rope_table_write(ctx, m->rope_table, m->cfg.head_dim, m->cfg.rope_theta);
    if (!st) {
        if (m->cfg.tie_word_embeddings) m->lm_head = m->embed;
        else st = load_one(m, ws, "lm_head.weight", true, &m->lm_head, tmp, conv);
    }
    free(tmp);
    free(conv);
    srlm_weights_destroy(ws);
    if (st) {
        srlm_model_destroy(m);
        return st;
    }
    *out = m;
    return NULL;
}

void srlm_model_destroy(srlm_model *m) {
    if (!m) return;
    srlm_arena_destroy(m->arena);
    free(m->layers);
    free(m);
}

int srlm_model_vocab_size(const srlm_model *m) { return m->cfg.vocab_size; }
uint64_t srlm_model_weight_bytes(const srlm_model *m) { return m->arena ? srlm_arena_bytes(m->arena) : 0; }
int32_t srlm_model_eos(const srlm_model *m) { return m->cfg.n_eos > 0 ? m->cfg.eos_token_ids[0] : -1; }
uint64_t srlm_model_param_count_of(const srlm_model *m) { return srlm_model_param_count(&m->cfg); }
