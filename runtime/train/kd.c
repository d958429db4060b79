/* kd.c: knowledge distillation (see kd.h): the frozen f16 teacher's forward over the
 * student's batch (the same block order as train_model.c, forward only, one block's
 * activations reused), and the chunk hook that adds (1 - alpha) tau^2 KL to the student's
 * loss gradient. Not the top-k file format (teacher_file.c) nor the training loop. */
#include "train/kd.h"

#include <stdlib.h>
#include <string.h>

static uint64_t f4(uint64_t n) { return n * 4; }

static uint64_t side_bytes(const srlm_train_model *tm, int K) {
    uint64_t R = (uint64_t)tm->R, V = (uint64_t)tm->cfg.vocab_size, N = (uint64_t)tm->N;
    return f4(R * V) + f4(N) +
           (K ? srlm_op_kl_topk_scratch_bytes(tm->ctx, tm->R, (int)V, K) + f4(2 * N * (uint64_t)K)
              : srlm_op_kl_scratch_bytes(tm->ctx, tm->R, (int)V));
}

uint64_t srlm_kd_teacher_bytes(const srlm_train_model *tm, const srlm_model_config *t) {
    uint64_t N = (uint64_t)tm->N, C = (uint64_t)t->hidden_size, Q = (uint64_t)t->num_attention_heads * (uint64_t)t->head_dim,
             KV = (uint64_t)t->num_key_value_heads * (uint64_t)t->head_dim, I = (uint64_t)t->intermediate_size,
             R = (uint64_t)tm->R, V = (uint64_t)t->vocab_size;
    uint64_t acts = 2 * N * C + (N * C + N + 2 * N * Q + 2 * N * KV + N * C + N * C + N + 3 * N * I) +
                    (uint64_t)tm->B * (uint64_t)t->num_attention_heads * (uint64_t)tm->T + N * C + N;
    return srlm_model_alloc_bytes(t, SRLM_DTYPE_F16) + f4(acts) + f4(R * V) + side_bytes(tm, 0);
}

/* The student's logits of rows r0.. are in `logits`: phase 0 makes the teacher's (or takes
 * the top-k file's) and records KL into a copy of the student's, whose gradient phase 1 adds
 * to the cross-entropy gradient. Without grad the student's chunk is read, not copied. */
static srlm_status hook(srlm_cmd *c, void *user, int phase, srlm_buf logits, int r0, int rows, int grad) {
    srlm_kd *kd = user;
    srlm_train_model *tm = kd->tm;
    int V = tm->cfg.vocab_size;
    uint64_t nv = (uint64_t)rows * (uint64_t)V * 4, o4 = (uint64_t)r0 * 4;
    srlm_buf s = grad ? srlm_buf_slice(kd->slog, 0, nv) : logits;
    if (phase == 1) return grad ? srlm_op_axpy(c, logits, 1.0f, s, (uint64_t)rows * (uint64_t)V) : NULL;
    if (grad) SRLM_TRY(srlm_cmd_copy(c, s, logits, nv));
    float scale = (1.0f - kd->alpha) * kd->tau * kd->tau;
    srlm_buf kl = srlm_buf_slice(kd->kl, o4, (uint64_t)rows * 4), w = srlm_buf_slice(tm->weights, o4, (uint64_t)rows * 4);
    if (kd->K) {
        uint64_t ok = (uint64_t)r0 * (uint64_t)kd->K * 4, nk = (uint64_t)rows * (uint64_t)kd->K * 4;
        return srlm_op_kl_topk(c, kl, kd->kl_scratch, s, srlm_buf_slice(kd->tids, ok, nk), srlm_buf_slice(kd->tlogp, ok, nk), w,
                               rows, V, kd->K, kd->tau, kd->dir, scale, grad);
    }
    uint32_t Ct = (uint32_t)kd->teacher->cfg.hidden_size;
    srlm_buf tl = srlm_buf_slice(kd->tlogits, 0, nv);
    srlm_buf hrows = srlm_buf_slice(kd->thf, (uint64_t)r0 * Ct * 4, (uint64_t)rows * Ct * 4);
    SRLM_TRY(srlm_op_matmul_fwd(c, tl, hrows, kd->teacher->lm_head, SRLM_MM_W_F16, NULL, (uint32_t)rows, (uint32_t)V, Ct, 0, NULL));
    return srlm_op_kl(c, kl, kd->kl_scratch, s, tl, w, rows, V, kd->tau, kd->dir, scale, grad);
}

static srlm_status check_args(float alpha, float tau, int dir) {
    if (!(alpha >= 0.0f && alpha <= 1.0f)) return srlm_errorf(SRLM_ERR_INVALID, "kd: alpha %g is not in [0,1]", (double)alpha);
    if (!(tau > 0.0f)) return srlm_errorf(SRLM_ERR_INVALID, "kd: temperature %g is not positive", (double)tau);
    if (dir != 0 && dir != 1) return srlm_errorf(SRLM_ERR_INVALID, "kd: KL direction %d", dir);
    return NULL;
}

static srlm_status kd_new(srlm_train_model *tm, float alpha, float tau, int dir, srlm_kd **out) {
    *out = NULL;
    SRLM_TRY(check_args(alpha, tau, dir));
    srlm_kd *kd = calloc(1, sizeof *kd);
    if (!kd) return srlm_errorf(SRLM_ERR_OOM, "kd: out of host memory");
    kd->ctx = tm->ctx, kd->tm = tm, kd->alpha = alpha, kd->tau = tau, kd->dir = dir;
    *out = kd;
    return srlm_arena_create(tm->ctx, "kd-teacher", 64ull << 20, &kd->arena);
}

/* Allocates the buffers both modes share and attaches the hook. */
static srlm_status kd_attach(srlm_kd *kd) {
    srlm_train_model *tm = kd->tm;
    uint64_t N = (uint64_t)tm->N, V = (uint64_t)tm->cfg.vocab_size;
    SRLM_TRY(srlm_arena_alloc(kd->arena, f4((uint64_t)tm->R * V), &kd->slog));
    SRLM_TRY(srlm_arena_alloc(kd->arena, f4(N), &kd->kl));
    uint64_t scratch = kd->K ? srlm_op_kl_topk_scratch_bytes(tm->ctx, tm->R, (int)V, kd->K)
                             : srlm_op_kl_scratch_bytes(tm->ctx, tm->R, (int)V);
    SRLM_TRY(srlm_arena_alloc(kd->arena, scratch, &kd->kl_scratch));
    tm->ce_scale = kd->alpha;
    tm->chunk_hook = hook;
    tm->chunk_user = kd;
    return NULL;
}

/* The teacher's tokenizer must give every id the student's bytes. */
static srlm_status check_tokenizer(const char *teacher_dir, const char *student_dir, const srlm_tokenizer *st) {
    if (!st) return NULL;
    srlm_tokenizer *tt = NULL;
    srlm_status e = srlm_tokenizer_create(teacher_dir, &tt);
    if (e) { /* a teacher folder without tokenizer files: the embedding check stands alone */
        srlm_status_free(e);
        return NULL;
    }
    srlm_status r = NULL;
    int32_t nt = srlm_tokenizer_vocab_size(tt), ns = srlm_tokenizer_vocab_size(st);
    if (nt != ns)
        r = srlm_errorf(SRLM_ERR_INVALID, "the teacher %s has a tokenizer of %d tokens, the student %s one of %d: "
                        "distillation needs the same vocabulary", teacher_dir, nt, student_dir, ns);
    for (int32_t id = 0; !r && id < nt; id++) {
        size_t la, lb;
        const char *a = srlm_tokenizer_piece(tt, id, &la), *b = srlm_tokenizer_piece(st, id, &lb);
        if (la != lb || (la && memcmp(a, b, la)) || srlm_tokenizer_is_special(tt, id) != srlm_tokenizer_is_special(st, id))
            r = srlm_errorf(SRLM_ERR_INVALID, "the teacher %s and the student %s have different tokenizers: token %d is "
                            "\"%.*s\" in the teacher and \"%.*s\" in the student; distillation needs the same vocabulary",
                            teacher_dir, student_dir, id, (int)(la > 40 ? 40 : la), a ? a : "", (int)(lb > 40 ? 40 : lb),
                            b ? b : "");
    }
    srlm_tokenizer_destroy(tt);
    return r;
}

srlm_status srlm_kd_create(srlm_train_model *tm, const char *teacher_dir, const char *student_dir,
                           const srlm_tokenizer *student_tok, float alpha, float tau, int dir, srlm_kd **out) {
    *out = NULL;
    srlm_kd *kd = NULL;
    srlm_status st = kd_new(tm, alpha, tau, dir, &kd);
    if (!st) st = srlm_model_load(tm->ctx, teacher_dir, SRLM_DTYPE_F16, &kd->teacher);
    const srlm_model_config *t = st ? NULL : &kd->teacher->cfg;
    if (!st && t->vocab_size != tm->cfg.vocab_size)
        st = srlm_errorf(SRLM_ERR_INVALID, "the teacher %s has %d embedding rows (vocabulary), the student %s has %d: "
                         "distillation needs the same vocabulary", teacher_dir, t->vocab_size, student_dir, tm->cfg.vocab_size);
    if (!st) st = check_tokenizer(teacher_dir, student_dir, student_tok);
    if (!st) {
        srlm_train_plan p;
        srlm_train_plan_make(&tm->cfg, tm->ctx, tm->B, tm->T, tm->recompute, &p);
        kd->bytes = srlm_kd_teacher_bytes(tm, t);
        uint64_t budget = srlm_ctx_mem_budget(tm->ctx);
        if (p.total + kd->bytes > budget) {
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            if (f) {
                srlm_train_plan_print(&p, budget, f);
                fprintf(f, "  + teacher (f16, forward) %8.1f MiB: %.1f MiB in all\n", kd->bytes / 1048576.0,
                        (p.total + kd->bytes) / 1048576.0);
                fclose(f);
            }
            st = srlm_errorf(SRLM_ERR_DEVICE_OOM, "the distillation plan (student and teacher %s) does not fit the device "
                             "memory budget (SRLM_MEM_BUDGET / --mem-budget):\n%s", teacher_dir, buf ? buf : "");
            free(buf);
        }
    }
    if (!st) {
        uint64_t N = (uint64_t)tm->N, C = (uint64_t)t->hidden_size, Q = (uint64_t)t->num_attention_heads * (uint64_t)t->head_dim,
                 KV = (uint64_t)t->num_key_value_heads * (uint64_t)t->head_dim, I = (uint64_t)t->intermediate_size;
        srlm_block_acts *a = &kd->ta;
        struct {
            srlm_buf *b;
            uint64_t n;
        } s[] = {{&kd->tx[0], N * C}, {&kd->tx[1], N * C}, {&kd->thf, N * C}, {&kd->trstdf, N},
                 {&kd->tlogits, (uint64_t)tm->R * (uint64_t)t->vocab_size},
                 {&a->h1, N * C}, {&a->rstd1, N}, {&a->q, N * Q}, {&a->k, N * KV}, {&a->v, N * KV}, {&a->att, N * Q},
                 {&a->lse, (uint64_t)tm->B * (uint64_t)t->num_attention_heads * (uint64_t)tm->T}, {&a->x_mid, N * C},
                 {&a->h2, N * C}, {&a->rstd2, N}, {&a->gate, N * I}, {&a->up, N * I}, {&a->act, N * I}};
        for (size_t i = 0; !st && i < sizeof s / sizeof s[0]; i++) st = srlm_arena_alloc(kd->arena, f4(s[i].n), s[i].b);
    }
    if (!st) st = kd_attach(kd);
    if (st) {
        srlm_kd_destroy(kd);
        return st;
    }
    *out = kd;
    return NULL;
}

srlm_status srlm_kd_create_topk(srlm_train_model *tm, int K, float alpha, float tau, int dir, srlm_kd **out) {
    *out = NULL;
    if (K < 1 || K > tm->cfg.vocab_size)
        return srlm_errorf(SRLM_ERR_INVALID, "kd: top-k of %d entries for a vocabulary of %d", K, tm->cfg.vocab_size);
    srlm_kd *kd = NULL;
    srlm_status st = kd_new(tm, alpha, tau, dir, &kd);
    if (!st) {
        kd->K = K;
        kd->bytes = side_bytes(tm, K);
        st = srlm_arena_alloc(kd->arena, f4((uint64_t)tm->N * (uint64_t)K), &kd->tids);
    }
    if (!st) st = srlm_arena_alloc(kd->arena, f4((uint64_t)tm->N * (uint64_t)K), &kd->tlogp);
    if (!st) st = kd_attach(kd);
    if (st) {
        srlm_kd_destroy(kd);
        return st;
    }
    *out = kd;
    return NULL;
}

void srlm_kd_destroy(srlm_kd *kd) {
    if (!kd) return;
    if (kd->tm && kd->tm->chunk_user == kd) {
        kd->tm->chunk_hook = NULL;
        kd->tm->chunk_user = NULL;
        kd->tm->ce_scale = 1.0f;
    }
    srlm_arena_destroy(kd->arena);
    srlm_model_destroy(kd->teacher);
    free(kd);
}

/* One teacher block, as srlm_train_block_fwd with f16 matrices. */
static srlm_status teacher_block(srlm_cmd *c, srlm_kd *kd, int l, srlm_buf x_in, srlm_buf x_out) {
    const srlm_model_config *cfg = &kd->teacher->cfg;
    const srlm_layer_weights *W = &kd->teacher->layers[l];
    const srlm_train_model *tm = kd->tm;
    srlm_block_acts *a = &kd->ta;
    uint32_t N = (uint32_t)tm->N, C = (uint32_t)cfg->hidden_size, HS = (uint32_t)cfg->head_dim,
             NH = (uint32_t)cfg->num_attention_heads, NKV = (uint32_t)cfg->num_key_value_heads,
             I = (uint32_t)cfg->intermediate_size;
    bool bias = cfg->attention_bias;
    const srlm_mm_wtype F16 = SRLM_MM_W_F16;
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, a->h1, a->rstd1, x_in, W->attn_norm, (int)N, (int)C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->q, a->h1, W->wq, F16, bias ? &W->bq : NULL, N, NH * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->k, a->h1, W->wk, F16, bias ? &W->bk : NULL, N, NKV * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->v, a->h1, W->wv, F16, bias ? &W->bv : NULL, N, NKV * HS, C, 0, NULL));
    SRLM_TRY(srlm_op_rope_fwd(c, a->q, tm->pos, kd->teacher->rope_table, (int)N, (int)NH, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_rope_fwd(c, a->k, tm->pos, kd->teacher->rope_table, (int)N, (int)NKV, (int)HS, (int)cfg->rope_layout));
    SRLM_TRY(srlm_op_attention_fwd(c, a->att, a->lse, a->q, a->k, a->v, tm->seg, (uint32_t)tm->B, (uint32_t)tm->T, NH, NKV, HS));
    SRLM_TRY(srlm_cmd_copy(c, a->x_mid, x_in, (uint64_t)N * C * 4));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->x_mid, a->att, W->wo, F16, NULL, N, C, NH * HS, 1, NULL));
    SRLM_TRY(srlm_op_rmsnorm_fwd(c, a->h2, a->rstd2, a->x_mid, W->ffn_norm, (int)N, (int)C, cfg->rms_norm_eps));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->gate, a->h2, W->w_gate, F16, NULL, N, I, C, 0, NULL));
    SRLM_TRY(srlm_op_matmul_fwd(c, a->up, a->h2, W->w_up, F16, NULL, N, I, C, 0, NULL));
    SRLM_TRY(srlm_op_swiglu_fwd(c, a->act, a->gate, a->up, (uint64_t)N * I));
    SRLM_TRY(srlm_cmd_copy(c, x_out, a->x_mid, (uint64_t)N * C * 4));
    return srlm_op_matmul_fwd(c, x_out, a->act, W->w_down, F16, NULL, N, C, I, 1, NULL);
}

srlm_status srlm_kd_record_teacher(srlm_cmd *c, srlm_kd *kd) {
    if (kd->K) return NULL;
    const srlm_model_config *cfg = &kd->teacher->cfg;
    int L = cfg->num_hidden_layers, C = cfg->hidden_size, V = cfg->vocab_size, N = kd->tm->N;
    SRLM_TRY(srlm_op_embedding_fwd(c, kd->tx[0], kd->tm->ids, kd->teacher->embed, 1, N, V, C));
    for (int l = 0; l < L; l++) SRLM_TRY(teacher_block(c, kd, l, kd->tx[l & 1], kd->tx[(l + 1) & 1]));
    return srlm_op_rmsnorm_fwd(c, kd->thf, kd->trstdf, kd->tx[L & 1], kd->teacher->final_norm, N, C, cfg->rms_norm_eps);
}

srlm_status srlm_kd_kl_sum(srlm_kd *kd, const float *w, double *sum) {
    int N = kd->tm->N;
    float *k = malloc((size_t)N * 4);
    if (!k) return srlm_errorf(SRLM_ERR_OOM, "kd: out of host memory");
    srlm_status st = srlm_buf_read(kd->ctx, kd->kl, 0, k, (uint64_t)N * 4);
    double s = 0;
    for (int i = 0; !st && i < N; i++) s += (double)w[i] * (double)k[i];
    free(k);
    *sum = s;
    return st;
}
