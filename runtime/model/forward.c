/* forward.c: the inference forward pass (see forward.h): embedding, per block RMSNorm ->
 * Q/K/V (+bias) -> RoPE -> KV append -> paged attention -> output projection (+= residual)
 * -> RMSNorm -> gate/up -> SwiGLU -> down projection (+= residual), final norm on the rows
 * whose logits are wanted, LM head tiled over the vocabulary by the matmul binding. */
#include "model/forward.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

static uint64_t f32b(uint64_t n) { return n * 4; }

uint64_t srlm_fwd_plan_bytes(const srlm_model_config *cfg, int T, int n_out, uint64_t scratch) {
    uint64_t C = (uint64_t)cfg->hidden_size, HS = (uint64_t)cfg->head_dim, NH = (uint64_t)cfg->num_attention_heads,
             NKV = (uint64_t)cfg->num_key_value_heads, I = (uint64_t)cfg->intermediate_size, V = (uint64_t)cfg->vocab_size;
    uint64_t n = 4 * (uint64_t)T + (uint64_t)n_out; /* int32 indices */
    n += 2 * T * C + T + T * NH * HS + 2 * T * NKV * HS + T * NH * HS + 2 * T * I + (uint64_t)n_out * C +
         (uint64_t)n_out * V;
    return f32b(n) + scratch + 20 * 256;
}

void srlm_fwd_plan_destroy(srlm_fwd_plan *p) {
    if (!p) return;
    srlm_arena_destroy(p->arena);
    free(p);
}

srlm_status srlm_fwd_plan_create(srlm_ctx *ctx, const srlm_model *m, const srlm_kv_cache *kv, int T, int n_out,
                                 srlm_fwd_plan **out) {
    *out = NULL;
    const srlm_model_config *cfg = &m->cfg;
    int S = (int)kv->cfg.max_seqs;
    if (T < 1 || n_out < 1 || n_out > T)
        return srlm_errorf(SRLM_ERR_INVALID, "forward plan: %d tokens and %d outputs per step (need 1 <= outputs <= tokens)", T, n_out);
    srlm_fwd_plan *p = calloc(1, sizeof *p);
    if (!p) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for the forward plan");
    p->max_tokens = T, p->max_seqs = S, p->max_out = n_out, p->max_blocks_per_seq = (int)kv->cfg.max_blocks;
    p->max_ctx = (int)(kv->cfg.max_blocks * kv->cfg.block_size);
    /* Splits are chosen for the decode shape (one row per sequence) and kept for replays;
     * steps with more rows than sequences (prefill) run unsplit. */
    srlm_attn_dims d = srlm_kv_attn_dims(kv, (uint32_t)S, (uint32_t)cfg->num_attention_heads, 0);
    p->attn_splits = srlm_attn_splits(ctx, &d, SRLM_ATTN_AUTO, 0);
    uint64_t scratch = srlm_attn_scratch_bytes(&d, p->attn_splits);
    uint64_t bytes = srlm_fwd_plan_bytes(cfg, T, n_out, scratch);
    srlm_status st = srlm_arena_create(ctx, "activations", bytes, &p->arena);
    uint64_t C = (uint64_t)cfg->hidden_size, HS = (uint64_t)cfg->head_dim, NH = (uint64_t)cfg->num_attention_heads,
             NKV = (uint64_t)cfg->num_key_value_heads, I = (uint64_t)cfg->intermediate_size, V = (uint64_t)cfg->vocab_size;
    struct {
        srlm_buf *b;
        uint64_t n;
    } t[] = {
        {&p->ids, (uint64_t)T}, {&p->pos, (uint64_t)T}, {&p->seq, (uint64_t)T}, {&p->slots, (uint64_t)T},
        {&p->out_rows, (uint64_t)n_out},
        {&p->x, T * C}, {&p->h, T * C}, {&p->rstd, (uint64_t)T}, {&p->q, T * NH * HS}, {&p->k, T * NKV * HS},
        {&p->v, T * NKV * HS}, {&p->att, T * NH * HS}, {&p->gate, T * I}, {&p->up, T * I},
        {&p->hout, (uint64_t)n_out * C}, {&p->logits, (uint64_t)n_out * V},
    };
    for (size_t i = 0; !st && i < sizeof t / sizeof t[0]; i++) st = srlm_arena_alloc(p->arena, f32b(t[i].n), t[i].b);
    if (!st) st = srlm_arena_alloc(p->arena, scratch ? scratch : 16, &p->attn_scratch);
    if (st) {
        srlm_fwd_plan_destroy(p);
        return srlm_status_wrap(st, "forward plan for %d tokens, %d sequences: ", T, S);
    }
    *out = p;
    return NULL;
}

static srlm_mm_wtype wtype(const srlm_model *m) { return m->wdtype == SRLM_DTYPE_F32 ? SRLM_MM_W_F32 : SRLM_MM_W_F16; }

srlm_status srlm_block_fwd(srlm_cmd *c, const srlm_model *m, int l, const srlm_kv_cache *kv, const srlm_fwd_plan *p, int T) {
    const srlm_model_config *cfg = &m->cfg;
    const srlm_layer_weights *L = &m->layers[l];
    uint32_t C = (uint32_t)cfg->hidden_size, HS = (uint32_t)cfg->head_dim, NH = (uint32_t)cfg->num_attention_heads,
             NKV = (uint32_t)cfg->num_key_value_heads, I = (uint32_t)cfg->intermediate_size, M = (uint32_t)T;
    srlm_mm_wtype wt = wtype(m);
    bool bias = cfg->attention_bias;
    // attention half: h = rmsnorm(x); q,k,v = h W^T + b; rope; append K/V; attend; x += att Wo^T
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, p->h, p->rstd, p->x, L->attn_norm, T, (int)C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->q, p->h, L->wq, wt, bias ? &L->bq : NULL, M, NH * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->k, p->h, L->wk, wt, bias ? &L->bk : NULL, M, NKV * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->v, p->h, L->wv, wt, bias ? &L->bv : NULL, M, NKV * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_rope_fwd(c, p->q, p->pos, m->rope_table, T, (int)NH, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_rope_fwd(c, p->k, p->pos, m->rope_table, T, (int)NKV, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_kv_append_dt(c, kv->k[l], kv->v[l], p->k, p->v, p->slots, M, NKV, HS, kv->cfg.block_size,
                                  kv->cfg.num_blocks, kv->cfg.kv_f32));
    srlm_attn_dims d = srlm_kv_attn_dims(kv, M, NH, 0);
    SRLM_TRY(srlm_op_attn_paged(c, p->att, p->attn_scratch, p->q, kv->k[l], kv->v[l], kv->block_table, p->seq, p->pos, &d,
                                SRLM_ATTN_AUTO, T <= p->max_seqs ? p->attn_splits : 1));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->x, p->att, L->wo, wt, NULL, M, C, NH * HS, 1, NULL));
    // MLP half: h = rmsnorm(x); x += (silu(h Wg^T) * (h Wu^T)) Wd^T
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, p->h, p->rstd, p->x, L->ffn_norm, T, (int)C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->gate, p->h, L->w_gate, wt, NULL, M, I, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->up, p->h, L->w_up, wt, NULL, M, I, C, 0, NULL));
    SRLM_TRY(srlm_op_swiglu_fwd(c, p->gate, p->gate, p->up, (uint64_t)T * I));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->x, p->gate, L->w_down, wt, NULL, M, C, I, 1, NULL));
    return NULL;
}

srlm_status srlm_forward_record(srlm_cmd *c, const srlm_model *m, const srlm_kv_cache *kv, const srlm_fwd_plan *p, int T,
                                int n_out) {
    const srlm_model_config *cfg = &m->cfg;
    if (T < 1 || T > p->max_tokens || n_out < 1 || n_out > p->max_out)
        return srlm_errorf(SRLM_ERR_INVALID, "forward of %d tokens / %d outputs exceeds the plan (%d / %d)", T, n_out,
                           p->max_tokens, p->max_out);
    int C = cfg->hidden_size, V = cfg->vocab_size;
    SRLM_TRY(srlm_op_embedding_fwd(c, p->x, p->ids, m->embed, m->wdtype != SRLM_DTYPE_F32, T, V, C));
    for (int l = 0; l < cfg->num_hidden_layers; l++) SRLM_TRY(srlm_block_fwd(c, m, l, kv, p, T));
    /* Only the rows whose logits are wanted go through the final norm and the LM head:
     * gather them (an f32 "embedding" lookup over the residual stream), then normalise. */
    SRLM_TRY(srlm_op_embedding_fwd(c, p->h, p->out_rows, p->x, 0, n_out, T, C));
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, p->hout, p->rstd, p->h, m->final_norm, n_out, C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, p->logits, p->hout, m->lm_head, wtype(m), NULL, (uint32_t)n_out, (uint32_t)V,
                                (uint32_t)C, 0, NULL));
    return NULL;
}
