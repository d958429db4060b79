/* train_model.c: forward and backward of the decoder for training (see train_model.h):
 * per block RMSNorm -> Q/K/V (+bias) -> RoPE -> causal GQA attention (log-sum-exp saved,
 * probabilities recomputed in backward) -> output projection (+ residual) -> RMSNorm ->
 * gate/up -> SwiGLU -> down projection (+ residual); final norm; LM head and cross-entropy in
 * row chunks so full logits are never held; backward mirrors it block by block, optionally
 * recomputing each block's activations from its saved input. Everything is deterministic:
 * no op on this path uses floating-point atomics. */
#include "train/train_model.h"

#include <stdlib.h>
#include <string.h>

static uint64_t f4(uint64_t n) { return n * 4; }

static uint64_t block_floats(const srlm_model_config *c, uint64_t N, uint64_t B, uint64_t T) {
    uint64_t C = (uint64_t)c->hidden_size, Q = (uint64_t)c->num_attention_heads * (uint64_t)c->head_dim,
             KV = (uint64_t)c->num_key_value_heads * (uint64_t)c->head_dim, I = (uint64_t)c->intermediate_size;
    return N * C + N + N * Q + 2 * N * KV + N * Q + B * (uint64_t)c->num_attention_heads * T + N * C + N * C + N + 3 * N * I;
}

/* Logit rows per chunk: one chunk's logits stay under the binding limit; chunk offsets stay
 * aligned for binding (multiples of 64 rows). */
static int chunk_rows(const srlm_ctx *ctx, int N, int V) {
    uint64_t lim = srlm_ops_binding_limit(ctx) / ((uint64_t)V * 4);
    if (lim >= (uint64_t)N) return N;
    lim = lim / 64 * 64;
    return lim ? (int)lim : 64;
}

void srlm_train_plan_make(const srlm_model_config *c, const srlm_ctx *ctx, int B, int T, int recompute, srlm_train_plan *p) {
    memset(p, 0, sizeof *p);
    uint64_t N = (uint64_t)B * (uint64_t)T, C = (uint64_t)c->hidden_size, L = (uint64_t)c->num_hidden_layers,
             I = (uint64_t)c->intermediate_size, V = (uint64_t)c->vocab_size;
    p->B = B, p->T = T, p->recompute = recompute;
    p->chunk_rows = chunk_rows(ctx, (int)N, (int)V);
    p->weights = srlm_model_alloc_bytes(c, SRLM_DTYPE_F32);
    p->grads = p->weights;
    p->moments = 2 * p->weights;
    uint64_t Q = (uint64_t)c->num_attention_heads * (uint64_t)c->head_dim;
    uint64_t acts = (L + 1) * N * C + (recompute ? 1 : L) * block_floats(c, N, (uint64_t)B, (uint64_t)T) +
                    N * C + N +                             /* final norm */
                    3 * N * C + 2 * N * Q + 2 * N * I + N * I + /* gradient scratch */
                    5 * N + 3 * N;                          /* inputs, per-token outputs */
    p->activations = f4(acts) + f4((uint64_t)B * c->num_attention_heads * (uint64_t)T) + f4(4 * N * C);
    p->logits = f4((uint64_t)p->chunk_rows * V) + f4(2 * (uint64_t)p->chunk_rows * (V / 4096 + 2) * 2);
    p->staging = ((srlm_ctx *)ctx)->mem_mapped ? 0 : (64ull << 20);
    p->total = p->weights + p->grads + p->moments + p->activations + p->logits + p->staging;
}

void srlm_train_plan_print(const srlm_train_plan *p, uint64_t budget, FILE *f) {
    const double M = 1048576.0;
    fprintf(f, "memory plan: batch %d x sequence %d, %s\n", p->B, p->T,
            p->recompute ? "activations recomputed per block" : "all activations kept");
    fprintf(f, "  weights (fp32 master)   %10.1f MiB\n", p->weights / M);
    fprintf(f, "  gradients               %10.1f MiB\n", p->grads / M);
    fprintf(f, "  AdamW moments           %10.1f MiB\n", p->moments / M);
    fprintf(f, "  activations             %10.1f MiB\n", p->activations / M);
    fprintf(f, "  logits (%d-row chunks)  %10.1f MiB\n", p->chunk_rows, p->logits / M);
    fprintf(f, "  staging                 %10.1f MiB\n", p->staging / M);
    fprintf(f, "  total                   %10.1f MiB of a %.1f MiB budget\n", p->total / M, budget / M);
}

static srlm_status alloc_acts(srlm_train_model *tm, srlm_block_acts *a) {
    const srlm_model_config *c = &tm->cfg;
    uint64_t N = (uint64_t)tm->N, C = (uint64_t)c->hidden_size, Q = (uint64_t)c->num_attention_heads * (uint64_t)c->head_dim,
             KV = (uint64_t)c->num_key_value_heads * (uint64_t)c->head_dim, I = (uint64_t)c->intermediate_size;
    struct {
        srlm_buf *b;
        uint64_t n;
    } t[] = {{&a->h1, N * C}, {&a->rstd1, N}, {&a->q, N * Q}, {&a->k, N * KV}, {&a->v, N * KV}, {&a->att, N * Q},
             {&a->lse, (uint64_t)tm->B * (uint64_t)c->num_attention_heads * (uint64_t)tm->T}, {&a->x_mid, N * C},
             {&a->h2, N * C}, {&a->rstd2, N}, {&a->gate, N * I}, {&a->up, N * I}, {&a->act, N * I}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) SRLM_TRY(srlm_arena_alloc(tm->arena, f4(t[i].n), t[i].b));
    return NULL;
}

srlm_status srlm_train_model_create(srlm_ctx *ctx, const char *path, int B, int T, int recompute, srlm_train_model **out) {
    *out = NULL;
    if (B < 1 || T < 1) return srlm_errorf(SRLM_ERR_INVALID, "training batch %d x %d", B, T);
    srlm_train_model *tm = calloc(1, sizeof *tm);
    if (!tm) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for training");
    tm->ctx = ctx;
    tm->B = B, tm->T = T, tm->N = B * T, tm->recompute = recompute;
    tm->ce_scale = 1.0f;
    srlm_status st = srlm_model_load(ctx, path, SRLM_DTYPE_F32, &tm->w);
    uint64_t arena_chunk = 256ull << 20;
    if (!st) {
        tm->cfg = tm->w->cfg;
        srlm_train_plan p;
        srlm_train_plan_make(&tm->cfg, ctx, B, T, recompute, &p);
        if (p.total > srlm_ctx_mem_budget(ctx)) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            if (f) {
                srlm_train_plan_print(&p, srlm_ctx_mem_budget(ctx), f);
                fclose(f);
            }
            st = srlm_errorf(SRLM_ERR_DEVICE_OOM, "the training plan does not fit the device memory budget "
                             "(SRLM_MEM_BUDGET / --mem-budget):\n%s", buf ? buf : "");
            free(buf);
        }
        tm->R = p.chunk_rows;
        /* small plans reserve what they use, not a whole 256 MiB chunk (1 MiB for alignment) */
        if (p.activations + p.logits + (1u << 20) < arena_chunk) arena_chunk = p.activations + p.logits + (1u << 20);
    }
    const srlm_model_config *c = &tm->cfg;
    if (!st) st = srlm_model_alloc(ctx, c, SRLM_DTYPE_F32, "gradients", &tm->g);
    if (!st) st = srlm_model_alloc(ctx, c, SRLM_DTYPE_F32, "adamw-m", &tm->m1);
    if (!st) st = srlm_model_alloc(ctx, c, SRLM_DTYPE_F32, "adamw-v", &tm->m2);
    tm->ntensors = srlm_model_tensor_count(c);
    int L = c->num_hidden_layers;
    uint64_t N = (uint64_t)tm->N, C = (uint64_t)c->hidden_size, V = (uint64_t)c->vocab_size,
             Q = (uint64_t)c->num_attention_heads * (uint64_t)c->head_dim,
             KV = (uint64_t)c->num_key_value_heads * (uint64_t)c->head_dim, I = (uint64_t)c->intermediate_size;
    if (!st) {
        tm->xs = calloc((size_t)L + 1, sizeof *tm->xs);
        tm->acts = calloc(recompute ? 1 : (size_t)L, sizeof *tm->acts);
        if (!tm->xs || !tm->acts) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for training");
    }
    if (!st) st = srlm_arena_create(ctx, "train-activations", arena_chunk, &tm->arena);
    for (int l = 0; !st && l <= L; l++) st = srlm_arena_alloc(tm->arena, f4(N * C), &tm->xs[l]);
    for (int l = 0; !st && l < (recompute ? 1 : L); l++) st = alloc_acts(tm, &tm->acts[l]);
    uint64_t *ns = NULL;
    srlm_buf *gs = NULL;
    if (!st) {
        ns = malloc(tm->ntensors * sizeof *ns);
        gs = malloc(tm->ntensors * sizeof *gs);
        if (!ns || !gs) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for training");
        for (size_t i = 0; !st && i < tm->ntensors; i++) {
            gs[i] = *srlm_model_tensor(tm->g, i);
            ns[i] = gs[i].size / 4;
        }
    }
    struct {
        srlm_buf *b;
        uint64_t bytes;
    } t[] = {
        {&tm->ids, f4(N)}, {&tm->targets, f4(N)}, {&tm->weights, f4(N)}, {&tm->pos, f4(N)}, {&tm->seg, f4(N)},
        {&tm->hf, f4(N * C)}, {&tm->rstdf, f4(N)}, {&tm->dres, f4(N * C)}, {&tm->dh, f4(N * C)},
        {&tm->dq, f4(N * Q)}, {&tm->dk, f4(N * KV)}, {&tm->dv, f4(N * KV)}, {&tm->datt, f4(N * Q)},
        {&tm->dgate, f4(N * I)}, {&tm->dup, f4(N * I)}, {&tm->dact, f4(N * I)},
        {&tm->logits, f4((uint64_t)tm->R * V)}, {&tm->loss, f4(N)}, {&tm->logprob, f4(N)}, {&tm->entropy, f4(N)},
        {&tm->ce_scratch, st ? 0 : srlm_op_crossentropy_scratch_bytes(ctx, tm->R, (int)V)},
        {&tm->norm_scratch, st ? 0 : srlm_op_rmsnorm_bwd_scratch_bytes(ctx, tm->N, (int)C)},
        {&tm->attn_scratch, f4((uint64_t)tm->B * (uint64_t)c->num_attention_heads * (uint64_t)tm->T)},
        {&tm->clip_scratch, st ? 0 : srlm_op_reduce_scratch_bytes(ctx, ns, (int)tm->ntensors)},
        {&tm->hp, f4(SRLM_ADAMW_PARAM_FLOATS)},
    };
    for (size_t i = 0; !st && i < sizeof t / sizeof t[0]; i++) st = srlm_arena_alloc(tm->arena, t[i].bytes ? t[i].bytes : 16, t[i].b);
    free(ns);
    free(gs);
    /* Moments start at zero. */
    srlm_cmd *cmd = NULL;
    if (!st) st = srlm_cmd_create(ctx, &cmd);
    if (!st) st = srlm_cmd_begin(cmd);
    for (size_t i = 0; !st && i < tm->ntensors; i++) {
        st = srlm_op_fill(cmd, *srlm_model_tensor(tm->m1, i), srlm_model_tensor(tm->m1, i)->size / 4, 0.0f);
        if (!st) st = srlm_op_fill(cmd, *srlm_model_tensor(tm->m2, i), srlm_model_tensor(tm->m2, i)->size / 4, 0.0f);
    }
    if (!st) st = srlm_train_zero_grads(cmd, tm);
    if (!st) st = srlm_cmd_run(cmd);
    srlm_cmd_destroy(cmd);
    if (st) {
        srlm_train_model_destroy(tm);
        return st;
    }
    *out = tm;
    return NULL;
}

void srlm_train_model_destroy(srlm_train_model *tm) {
    if (!tm) return;
    srlm_arena_destroy(tm->arena);
    srlm_model_destroy(tm->m2);
    srlm_model_destroy(tm->m1);
    srlm_model_destroy(tm->g);
    srlm_model_destroy(tm->w);
    free(tm->xs);
    free(tm->acts);
    free(tm);
}

srlm_status srlm_train_zero_grads(srlm_cmd *c, srlm_train_model *tm) {
    for (size_t i = 0; i < tm->ntensors; i++) {
        srlm_buf *g = srlm_model_tensor(tm->g, i);
        SRLM_TRY(srlm_op_fill(c, *g, g->size / 4, 0.0f));
    }
    return NULL;
}

srlm_status srlm_train_block_fwd(srlm_cmd *c, srlm_train_model *tm, int l, srlm_block_acts *a, srlm_buf x_in, srlm_buf x_out) {
    const srlm_model_config *cfg = &tm->cfg;
    const srlm_layer_weights *W = &tm->w->layers[l];
    uint32_t N = (uint32_t)tm->N, C = (uint32_t)cfg->hidden_size, HS = (uint32_t)cfg->head_dim,
             NH = (uint32_t)cfg->num_attention_heads, NKV = (uint32_t)cfg->num_key_value_heads,
             I = (uint32_t)cfg->intermediate_size;
    bool bias = cfg->attention_bias;
    const srlm_mm_wtype F32 = SRLM_MM_W_F32;
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, a->h1, a->rstd1, x_in, W->attn_norm, (int)N, (int)C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->q, a->h1, W->wq, F32, bias ? &W->bq : NULL, N, NH * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->k, a->h1, W->wk, F32, bias ? &W->bk : NULL, N, NKV * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->v, a->h1, W->wv, F32, bias ? &W->bv : NULL, N, NKV * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_rope_fwd(c, a->q, tm->pos, tm->w->rope_table, (int)N, (int)NH, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_rope_fwd(c, a->k, tm->pos, tm->w->rope_table, (int)N, (int)NKV, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_attention_fwd(c, a->att, a->lse, a->q, a->k, a->v, tm->seg, (uint32_t)tm->B, (uint32_t)tm->T, NH, NKV, HS));
    SRLM_TRY(srlm_cmd_copy(c, a->x_mid, x_in, (uint64_t)N * C * 4));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->x_mid, a->att, W->wo, F32, NULL, N, C, NH * HS, 1, NULL));
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, a->h2, a->rstd2, a->x_mid, W->ffn_norm, (int)N, (int)C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->gate, a->h2, W->w_gate, F32, NULL, N, I, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->up, a->h2, W->w_up, F32, NULL, N, I, C, 0, NULL));
    SRLM_TRY(srlm_op_swiglu_fwd(c, a->act, a->gate, a->up, (uint64_t)N * I));
    SRLM_TRY(srlm_cmd_copy(c, x_out, a->x_mid, (uint64_t)N * C * 4));
    return srlm_op_matmul_fwd(c, x_out, a->act, W->w_down, F32, NULL, N, C, I, 1, NULL);
}

srlm_status srlm_train_block_bwd(srlm_cmd *c, srlm_train_model *tm, int l, srlm_block_acts *a, srlm_buf x_in) {
    const srlm_model_config *cfg = &tm->cfg;
    const srlm_layer_weights *W = &tm->w->layers[l];
    srlm_layer_weights *G = &tm->g->layers[l];
    uint32_t N = (uint32_t)tm->N, C = (uint32_t)cfg->hidden_size, HS = (uint32_t)cfg->head_dim,
             NH = (uint32_t)cfg->num_attention_heads, NKV = (uint32_t)cfg->num_key_value_heads,
             I = (uint32_t)cfg->intermediate_size;
    bool bias = cfg->attention_bias;
    const srlm_mm_wtype F32 = SRLM_MM_W_F32;
    // dres = dL/dx_out on entry. MLP half: x_out = x_mid + act . Wd^T
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->dact, tm->dres, W->w_down, F32, N, C, I, 0, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->w_down, NULL, tm->dres, a->act, N, C, I, NULL));
    SRLM_TRY(srlm_op_swiglu_bwd(c, tm->dgate, tm->dup, tm->dact, a->gate, a->up, (uint64_t)N * I));
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->dh, tm->dgate, W->w_gate, F32, N, I, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->dh, tm->dup, W->w_up, F32, N, I, C, 1, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->w_gate, NULL, tm->dgate, a->h2, N, I, C, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->w_up, NULL, tm->dup, a->h2, N, I, C, NULL));
    // h2 = rmsnorm(x_mid): dres += its gradient (now dL/dx_mid)
    SRLM_TRY(srlm_op_rmsnorm_bwd(c, tm->dres, G->ffn_norm, tm->norm_scratch, tm->dh, a->x_mid, W->ffn_norm, a->rstd2, (int)N, (int)C));
    // attention half: x_mid = x_in + att . Wo^T
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->datt, tm->dres, W->wo, F32, N, C, NH * HS, 0, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->wo, NULL, tm->dres, a->att, N, C, NH * HS, NULL));
    SRLM_TRY(srlm_op_attention_bwd(c, tm->dq, tm->dk, tm->dv, tm->attn_scratch, tm->datt, a->att, a->lse, a->q, a->k, a->v,
                                   tm->seg, (uint32_t)tm->B, (uint32_t)tm->T, NH, NKV, HS));
    SRLM_TRY(srlm_op_rope_bwd(c, tm->dq, tm->pos, tm->w->rope_table, (int)N, (int)NH, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_rope_bwd(c, tm->dk, tm->pos, tm->w->rope_table, (int)N, (int)NKV, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->dh, tm->dq, W->wq, F32, N, NH * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->dh, tm->dk, W->wk, F32, N, NKV * HS, C, 1, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_inp(c, tm->dh, tm->dv, W->wv, F32, N, NKV * HS, C, 1, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->wq, bias ? &G->bq : NULL, tm->dq, a->h1, N, NH * HS, C, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->wk, bias ? &G->bk : NULL, tm->dk, a->h1, N, NKV * HS, C, NULL));
    SRLM_TRY(srlm_op_matmul_bwd_weight(c, G->wv, bias ? &G->bv : NULL, tm->dv, a->h1, N, NKV * HS, C, NULL));
    // h1 = rmsnorm(x_in): dres += its gradient (now dL/dx_in)
    return srlm_op_rmsnorm_bwd(c, tm->dres, G->attn_norm, tm->norm_scratch, tm->dh, x_in, W->attn_norm, a->rstd1, (int)N, (int)C);
}

/* Forward through all blocks and the loss; with `grad`, the loss chunks also backpropagate
 * into the final hidden state (tm->dh) and the LM head. */
static srlm_status record_forward(srlm_cmd *c, srlm_train_model *tm, int grad) {
    const srlm_model_config *cfg = &tm->cfg;
    int L = cfg->num_hidden_layers, C = cfg->hidden_size, V = cfg->vocab_size, N = tm->N;
    SRLM_TRY(srlm_op_embedding_fwd(c, tm->xs[0], tm->ids, tm->w->embed, 0, N, V, C));
    for (int l = 0; l < L; l++)
        SRLM_TRY(srlm_train_block_fwd(c, tm, l, &tm->acts[tm->recompute ? 0 : l], tm->xs[l], tm->xs[l + 1]));
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, tm->hf, tm->rstdf, tm->xs[L], tm->w->final_norm, N, C, cfg->rms_norm_eps));
    for (int r0 = 0; r0 < N; r0 += tm->R) {
        int rows = N - r0 < tm->R ? N - r0 : tm->R;
        uint64_t o4 = (uint64_t)r0 * 4, oc = (uint64_t)r0 * (uint64_t)C * 4;
        srlm_buf lg = srlm_buf_slice(tm->logits, 0, (uint64_t)rows * (uint64_t)V * 4);
        srlm_buf hrows = srlm_buf_slice(tm->hf, oc, (uint64_t)rows * C * 4);
        SRLM_TRY(srlm_op_matmul_fwd(c, lg, hrows, tm->w->lm_head, SRLM_MM_W_F32, NULL, (uint32_t)rows, (uint32_t)V, (uint32_t)C, 0, NULL));
        if (tm->chunk_hook) SRLM_TRY(tm->chunk_hook(c, tm->chunk_user, 0, lg, r0, rows, grad));
        SRLM_TRY(srlm_op_crossentropy(c, srlm_buf_slice(tm->loss, o4, (uint64_t)rows * 4), srlm_buf_slice(tm->logprob, o4, (uint64_t)rows * 4),
                                      srlm_buf_slice(tm->entropy, o4, (uint64_t)rows * 4), tm->ce_scratch, lg,
                                      srlm_buf_slice(tm->targets, o4, (uint64_t)rows * 4),
                                      srlm_buf_slice(tm->weights, o4, (uint64_t)rows * 4), rows, V, 1.0f, tm->ce_scale, grad));
        if (tm->chunk_hook) SRLM_TRY(tm->chunk_hook(c, tm->chunk_user, 1, lg, r0, rows, grad));
        if (grad) {
            SRLM_TRY(srlm_op_matmul_bwd_inp(c, srlm_buf_slice(tm->dh, oc, (uint64_t)rows * C * 4), lg, tm->w->lm_head, SRLM_MM_W_F32,
                                            (uint32_t)rows, (uint32_t)V, (uint32_t)C, 0, NULL));
            SRLM_TRY(srlm_op_matmul_bwd_weight(c, tm->g->lm_head, NULL, lg, hrows, (uint32_t)rows, (uint32_t)V, (uint32_t)C, NULL));
        }
    }
    return NULL;
}

srlm_status srlm_train_record_fwd(srlm_cmd *c, srlm_train_model *tm) { return record_forward(c, tm, 0); }

srlm_status srlm_train_record_fwdbwd(srlm_cmd *c, srlm_train_model *tm) {
    const srlm_model_config *cfg = &tm->cfg;
    int L = cfg->num_hidden_layers, C = cfg->hidden_size, V = cfg->vocab_size, N = tm->N;
    SRLM_TRY(record_forward(c, tm, 1));
    SRLM_TRY(srlm_op_fill(c, tm->dres, (uint64_t)N * (uint64_t)C, 0.0f));
    SRLM_TRY(srlm_op_rmsnorm_bwd(c, tm->dres, tm->g->final_norm, tm->norm_scratch, tm->dh, tm->xs[L], tm->w->final_norm,
                                 tm->rstdf, N, C));
    for (int l = L - 1; l >= 0; l--) {
        srlm_block_acts *a = &tm->acts[tm->recompute ? 0 : l];
        if (tm->recompute) SRLM_TRY(srlm_train_block_fwd(c, tm, l, a, tm->xs[l], tm->xs[l + 1]));
        SRLM_TRY(srlm_train_block_bwd(c, tm, l, a, tm->xs[l]));
    }
    return srlm_op_embedding_bwd(c, tm->g->embed, tm->dres, tm->ids, N, V, C);
}

srlm_status srlm_train_record_step(srlm_cmd *c, srlm_train_model *tm, float beta1, float beta2, float eps, float max_norm) {
    size_t n = tm->ntensors;
    srlm_buf *gs = calloc(n ? n : 1, sizeof *gs);
    uint64_t *ns = calloc(n ? n : 1, sizeof *ns);
    if (!gs || !ns) {
        free(gs), free(ns);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory recording the optimizer step");
    }
    for (size_t i = 0; i < n; i++) gs[i] = *srlm_model_tensor(tm->g, i), ns[i] = gs[i].size / 4;
    srlm_status st = srlm_op_clip_grad_norm(c, tm->hp, tm->clip_scratch, gs, ns, (int)n, max_norm);
    for (size_t i = 0; !st && i < n; i++) {
        srlm_tensor_spec t;
        srlm_model_tensor_spec(&tm->cfg, i, &t);
        int decay = t.kind == SRLM_TENSOR_MATRIX || t.kind == SRLM_TENSOR_EMBEDDING;
        st = srlm_op_adamw(c, *srlm_model_tensor(tm->w, i), *srlm_model_tensor(tm->m1, i), *srlm_model_tensor(tm->m2, i), gs[i],
                           tm->hp, ns[i], beta1, beta2, eps, decay);
    }
    free(gs), free(ns);
    return st;
}
