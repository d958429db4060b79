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

srlm_buf *srlm_model_tensor(srlm_model *m, size_t i) {
    const srlm_model_config *c = &m->cfg;
    srlm_tensor_spec t;
    srlm_model_tensor_spec(c, i, &t);
    if (t.layer < 0) {
        if (i == 0) return &m->embed;
        if (t.kind == SRLM_TENSOR_NORM) return &m->final_norm;
        return &m->lm_head;
    }
    srlm_layer_weights *L = &m->layers[t.layer];
    srlm_buf *slots[] = {&L->attn_norm, &L->wq, &L->wk, &L->wv, &L->wo, &L->ffn_norm, &L->w_gate, &L->w_up, &L->w_down,
                         &L->bq, &L->bk, &L->bv};
    size_t pl = (srlm_model_tensor_count(c) - 2 - (c->tie_word_embeddings ? 0 : 1)) / (size_t)c->num_hidden_layers;
    return slots[(i - 1) % pl];
}

uint64_t srlm_model_alloc_bytes(const srlm_model_config *cfg, srlm_dtype dtype) {
    uint64_t need = 0;
    size_t esz = dtype == SRLM_DTYPE_F32 ? 4 : 2;
    for (size_t i = 0; i < srlm_model_tensor_count(cfg); i++) {
        srlm_tensor_spec t;
        srlm_model_tensor_spec(cfg, i, &t);
        uint64_t n = (uint64_t)t.shape[0] * (uint64_t)(t.n_dims == 2 ? t.shape[1] : 1);
        need += n * (t.n_dims == 2 ? esz : 4) + 256;
    }
    return need + srlm_op_rope_table_bytes(cfg->head_dim) + 256;
}

srlm_status srlm_model_alloc(srlm_ctx *ctx, const srlm_model_config *cfg, srlm_dtype dtype, const char *name, srlm_model **out) {
    *out = NULL;
    if (dtype != SRLM_DTYPE_F32 && dtype != SRLM_DTYPE_F16)
        return srlm_errorf(SRLM_ERR_INVALID, "weights can be stored as f32 or f16, not %s", srlm_dtype_name(dtype));
    srlm_model *m = calloc(1, sizeof *m);
    if (!m) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for %s", name);
    m->ctx = ctx;
    m->cfg = *cfg;
    m->wdtype = dtype;
    snprintf(m->path, sizeof m->path, "%s", name);
    m->layers = calloc((size_t)cfg->num_hidden_layers, sizeof *m->layers);
    srlm_status st = m->layers ? NULL : srlm_errorf(SRLM_ERR_OOM, "out of host memory for %s", name);
    uint64_t need = srlm_model_alloc_bytes(cfg, dtype);
    if (!st && need > srlm_ctx_mem_budget(ctx) - ctx->mem_used)
        st = srlm_errorf(SRLM_ERR_DEVICE_OOM, "%s: %.1f MiB of device memory needed, %.1f MiB of the budget left "
                         "(set SRLM_MEM_BUDGET or --mem-budget)", name, need / 1048576.0,
                         (srlm_ctx_mem_budget(ctx) - ctx->mem_used) / 1048576.0);
    if (!st) st = srlm_arena_create(ctx, name, need < (1ull << 30) ? need : (1ull << 30), &m->arena);
    size_t esz = dtype == SRLM_DTYPE_F32 ? 4 : 2;
    uint64_t max_chunk = m->arena ? m->arena->chunk_size : 0, left = need;
    for (size_t i = 0; !st && i < srlm_model_tensor_count(cfg); i++) {
        srlm_tensor_spec t;
        srlm_model_tensor_spec(cfg, i, &t);
        uint64_t n = (uint64_t)t.shape[0] * (uint64_t)(t.n_dims == 2 ? t.shape[1] : 1);
        /* A new chunk holds at most what is left to place, so the last one is not a whole
         * GiB: the allocation stays within a tensor per chunk of srlm_model_alloc_bytes
         * (the plan training prints), not up to a GiB above it per parameter set. */
        m->arena->chunk_size = left < max_chunk ? left : max_chunk;
        left -= n * (t.n_dims == 2 ? esz : 4) + 256;
        st = srlm_arena_alloc(m->arena, n * (t.n_dims == 2 ? esz : 4), srlm_model_tensor(m, i));
        if (st) st = srlm_status_wrap(st, "%s: tensor %s: ", name, t.name);
    }
    if (!st) m->arena->chunk_size = left;
    if (!st) st = srlm_arena_alloc(m->arena, srlm_op_rope_table_bytes(cfg->head_dim), &m->rope_table);
    if (!st) st = srlm_op_rope_table_write(ctx, m->rope_table, cfg->head_dim, cfg->rope_theta);
    if (!st && cfg->tie_word_embeddings) m->lm_head = m->embed;
    if (st) {
        srlm_model_destroy(m);
        return st;
    }
    *out = m;
    return NULL;
}

srlm_status srlm_model_upload(srlm_model *m, const srlm_weights *ws) {
    float *tmp = malloc(CONVERT_CHUNK * sizeof(float));
    void *conv = malloc(CONVERT_CHUNK * sizeof(uint16_t));
    srlm_status st = tmp && conv ? NULL : srlm_errorf(SRLM_ERR_OOM, "out of host memory uploading %s", m->path);
    for (size_t i = 0; !st && i < srlm_model_tensor_count(&m->cfg); i++) {
        srlm_tensor_spec t;
        srlm_model_tensor_spec(&m->cfg, i, &t);
        const srlm_weight *w;
        st = srlm_weights_get(ws, t.name, &w);
        if (!st) st = upload_tensor(m->ctx, *srlm_model_tensor(m, i), w, t.n_dims == 2 ? m->wdtype : SRLM_DTYPE_F32, tmp, conv);
    }
    free(tmp);
    free(conv);
    return st;
}

srlm_status srlm_model_load(srlm_ctx *ctx, const char *path, srlm_dtype dtype, srlm_model **out) {
    *out = NULL;
    if (dtype == SRLM_DTYPE_BF16) dtype = SRLM_DTYPE_F16; /* bf16 -> f16 storage */
    srlm_weights *ws;
    SRLM_TRY(srlm_weights_open(path, &ws));
    srlm_model *m = NULL;
    srlm_status st = srlm_model_alloc(ctx, srlm_weights_config(ws), dtype, path, &m);
    if (!st) st = srlm_model_upload(m, ws);
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
