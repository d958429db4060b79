/* train_step.c: srlm_trainer_* (see srlm.h, "In-memory training steps"): training steps on
 * caller-built batches with the GRPO clipped policy-gradient loss and the k3 KL term, through
 * the cross-entropy kernel's per-token weight (the coefficient c of srlm.h, computed on the
 * host when it depends on the current log-probs). Not the SFT loop (trainer.c) nor rollouts. */
#include "train/train_step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void srlm_trainer_options_default(srlm_trainer_options *o) {
    memset(o, 0, sizeof *o);
    o->batch = 1;
    o->seq = 512;
    o->recompute = 1;
    o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-8f, o->weight_decay = 0.0f;
    o->max_grad_norm = 1.0f;
}

void srlm_grpo_params_default(srlm_grpo_params *g) {
    g->clip_eps = 0.2f;
    g->kl_beta = 0.001f;
}

srlm_status srlm_trainer_create(srlm_ctx *ctx, const char *model, const srlm_trainer_options *opts, srlm_trainer **out) {
    *out = NULL;
    srlm_trainer *t = calloc(1, sizeof *t);
    if (!t) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for the trainer");
    t->ctx = ctx;
    if (opts) t->o = *opts;
    else srlm_trainer_options_default(&t->o);
    srlm_status st = srlm_train_model_create(ctx, model, t->o.batch, t->o.seq, t->o.recompute, &t->tm);
    size_t N = st ? 0 : (size_t)t->tm->N;
    if (!st) {
        t->hi = malloc(N * 4), t->ht = malloc(N * 4), t->hp = malloc(N * 4), t->hs = malloc(N * 4);
        t->hw = malloc(N * 4), t->lp = malloc(N * 4), t->en = malloc(N * 4);
        if (!t->hi || !t->ht || !t->hp || !t->hs || !t->hw || !t->lp || !t->en)
            st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for the trainer");
    }
    if (!st) st = srlm_cmd_create(ctx, &t->fwd);
    if (!st) st = srlm_cmd_create(ctx, &t->fb);
    if (!st) st = srlm_cmd_create(ctx, &t->opt);
    if (!st) st = srlm_cmd_begin(t->fwd);
    if (!st) st = srlm_train_record_fwd(t->fwd, t->tm);
    if (!st) st = srlm_cmd_end(t->fwd);
    if (!st) st = srlm_cmd_begin(t->fb);
    if (!st) st = srlm_train_record_fwdbwd(t->fb, t->tm);
    if (!st) st = srlm_cmd_end(t->fb);
    if (!st) st = srlm_cmd_begin(t->opt);
    if (!st) st = srlm_train_record_step(t->opt, t->tm, t->o.beta1, t->o.beta2, t->o.eps, t->o.max_grad_norm);
    if (!st) st = srlm_train_zero_grads(t->opt, t->tm); /* the next step starts from zero */
    if (!st) st = srlm_cmd_end(t->opt);
    if (st) {
        srlm_trainer_destroy(t);
        return st;
    }
    *out = t;
    return NULL;
}

void srlm_trainer_destroy(srlm_trainer *t) {
    if (!t) return;
    srlm_cmd_destroy(t->fwd), srlm_cmd_destroy(t->fb), srlm_cmd_destroy(t->opt);
    srlm_train_model_destroy(t->tm);
    free(t->hi), free(t->ht), free(t->hp), free(t->hs), free(t->hw), free(t->lp), free(t->en);
    free(t);
}

srlm_model *srlm_trainer_model(srlm_trainer *t) { return t->tm->w; }

static srlm_status check_batch(const srlm_trainer *t, const srlm_train_batch *b) {
    const srlm_train_model *tm = t->tm;
    if (!b || !b->ids || !b->targets || !b->weights)
        return srlm_errorf(SRLM_ERR_INVALID, "train batch: ids, targets and weights are required");
    if (b->rows < 1 || b->T < 1 || b->rows > tm->B || b->T > tm->T)
        return srlm_errorf(SRLM_ERR_INVALID, "train batch of %d x %d does not fit the trainer's %d x %d plan", b->rows, b->T,
                           tm->B, tm->T);
    int V = tm->cfg.vocab_size;
    for (size_t i = 0; i < (size_t)b->rows * (size_t)b->T; i++) {
        if (b->ids[i] < 0 || b->ids[i] >= V)
            return srlm_errorf(SRLM_ERR_INVALID, "train batch: id %d at row %zu position %zu is outside the vocabulary of %d",
                               b->ids[i], i / (size_t)b->T, i % (size_t)b->T, V);
        if (b->targets[i] >= V)
            return srlm_errorf(SRLM_ERR_INVALID, "train batch: target %d at row %zu position %zu is outside the vocabulary of %d",
                               b->targets[i], i / (size_t)b->T, i % (size_t)b->T, V);
        if (!isfinite(b->weights[i]))
            return srlm_errorf(SRLM_ERR_INVALID, "train batch: weight at row %zu position %zu is not finite", i / (size_t)b->T,
                               i % (size_t)b->T);
    }
    return NULL;
}

/* Index of (row r, position p) of the batch in the trainer's B x T layout. */
static size_t at(const srlm_trainer *t, int r, int p) { return (size_t)r * (size_t)t->tm->T + (size_t)p; }

/* Writes ids, targets, positions and segments (padding: target -100, segment -1) and the
 * per-token weights `w` (batch layout, NULL: zeros). */
static srlm_status upload(srlm_trainer *t, const srlm_train_batch *b, const double *w) {
    srlm_train_model *tm = t->tm;
    for (int r = 0; r < tm->B; r++)
        for (int p = 0; p < tm->T; p++) {
            size_t i = at(t, r, p), j = (size_t)r * (size_t)b->T + (size_t)p;
            bool in = r < b->rows && p < b->T;
            t->hi[i] = in ? b->ids[j] : 0;
            t->ht[i] = in && b->targets[j] >= 0 ? b->targets[j] : -100;
            t->hp[i] = in && b->pos ? b->pos[j] : p;
            t->hs[i] = in ? 0 : -1;
            t->hw[i] = in && w ? (float)w[j] : 0.0f;
        }
    uint64_t n = (uint64_t)tm->N * 4;
    SRLM_TRY(srlm_buf_write(t->ctx, tm->ids, 0, t->hi, n));
    SRLM_TRY(srlm_buf_write(t->ctx, tm->targets, 0, t->ht, n));
    SRLM_TRY(srlm_buf_write(t->ctx, tm->pos, 0, t->hp, n));
    SRLM_TRY(srlm_buf_write(t->ctx, tm->seg, 0, t->hs, n));
    return srlm_buf_write(t->ctx, tm->weights, 0, t->hw, n);
}

static srlm_status weights_only(srlm_trainer *t, const srlm_train_batch *b, const double *w) {
    for (int r = 0; r < b->rows; r++)
        for (int p = 0; p < b->T; p++) t->hw[at(t, r, p)] = (float)w[(size_t)r * (size_t)b->T + (size_t)p];
    return srlm_buf_write(t->ctx, t->tm->weights, 0, t->hw, (uint64_t)t->tm->N * 4);
}

/* Reads the per-token log-probs and entropies back into t->lp / t->en and the caller's arrays. */
static srlm_status read_back(srlm_trainer *t, const srlm_train_batch *b, float *logprob, float *entropy) {
    uint64_t n = (uint64_t)t->tm->N * 4;
    SRLM_TRY(srlm_buf_read(t->ctx, t->tm->logprob, 0, t->lp, n));
    SRLM_TRY(srlm_buf_read(t->ctx, t->tm->entropy, 0, t->en, n));
    for (int r = 0; r < b->rows; r++)
        for (int p = 0; p < b->T; p++) {
            size_t j = (size_t)r * (size_t)b->T + (size_t)p;
            if (logprob) logprob[j] = t->lp[at(t, r, p)];
            if (entropy) entropy[j] = t->en[at(t, r, p)];
        }
    return NULL;
}

srlm_status srlm_trainer_logprobs(srlm_trainer *t, const srlm_train_batch *b, float *logprob, float *entropy) {
    SRLM_TRY(check_batch(t, b));
    SRLM_TRY(upload(t, b, NULL));
    SRLM_TRY(srlm_cmd_run(t->fwd));
    return read_back(t, b, logprob, entropy);
}

/* The loss terms and the coefficient c = -d loss / d lp of one token (see srlm.h). */
static double token_terms(const srlm_train_batch *b, const srlm_grpo_params *g, size_t j, double lp, double *pg, double *kl,
                          int *clipped) {
    double w = b->weights[j], c;
    *clipped = 0;
    if (!b->advantages) {
        *pg = -lp;
        c = 1.0;
    } else {
        double A = b->advantages[j], ratio = b->old_logprob ? exp(lp - (double)b->old_logprob[j]) : 1.0;
        double lo = 1.0 - g->clip_eps, hi = 1.0 + g->clip_eps;
        double rc = ratio < lo ? lo : ratio > hi ? hi : ratio;
        double u = ratio * A, v = rc * A;
        *pg = -(u < v ? u : v);
        *clipped = A >= 0 ? ratio > hi : ratio < lo;
        c = *clipped ? 0.0 : A * ratio;
    }
    *kl = 0;
    if (b->ref_logprob) {
        double d = (double)b->ref_logprob[j] - lp;
        *kl = exp(d) - d - 1.0;
        c += g->kl_beta * (exp(d) - 1.0);
    }
    return w * c;
}

srlm_status srlm_trainer_accumulate(srlm_trainer *t, const srlm_train_batch *b, const srlm_grpo_params *gp, float *logprob,
                                    float *entropy, srlm_train_step_stats *stats) {
    SRLM_TRY(check_batch(t, b));
    srlm_grpo_params g;
    if (gp) g = *gp;
    else srlm_grpo_params_default(&g);
    if (!(g.clip_eps >= 0) || !isfinite(g.kl_beta))
        return srlm_errorf(SRLM_ERR_INVALID, "GRPO parameters: clip_eps %g, kl_beta %g", (double)g.clip_eps, (double)g.kl_beta);
    size_t n = (size_t)b->rows * (size_t)b->T;
    double *c = malloc(n * sizeof *c);
    if (!c) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    /* c depends on lp only through the ratio and the KL term */
    int two = b->ref_logprob || (b->advantages && b->old_logprob);
    srlm_status st = NULL;
    if (two) {
        st = upload(t, b, NULL);
        if (!st) st = srlm_cmd_run(t->fwd);
        if (!st) st = read_back(t, b, NULL, NULL);
    } else {
        for (size_t j = 0; !st && j < n; j++) {
            c[j] = (double)b->weights[j] * (b->advantages ? (double)b->advantages[j] : 1.0);
            if (!isfinite(c[j]))
                st = srlm_errorf(SRLM_ERR_INVALID, "train batch: advantage at row %zu position %zu is not finite",
                                 j / (size_t)b->T, j % (size_t)b->T);
        }
        if (!st) st = upload(t, b, c);
        if (!st) st = srlm_cmd_run(t->fb);
        if (!st) st = read_back(t, b, NULL, NULL);
    }
    /* the loss from this policy's lp (the same bits in both passes: the forward is deterministic) */
    double loss = 0, pgs = 0, kls = 0;
    size_t live = 0, clipped = 0;
    for (int r = 0; !st && r < b->rows; r++)
        for (int p = 0; p < b->T; p++) {
            size_t j = (size_t)r * (size_t)b->T + (size_t)p;
            if (b->targets[j] < 0) {
                c[j] = 0;
                continue;
            }
            double pg, kl;
            int cl;
            double cj = token_terms(b, &g, j, t->lp[at(t, r, p)], &pg, &kl, &cl);
            double w = b->weights[j];
            if (two) c[j] = cj;
            if (!isfinite(cj)) {
                st = srlm_errorf(SRLM_ERR_INVALID, "GRPO coefficient at row %d position %d is not finite (log-prob %g)", r, p,
                                 (double)t->lp[at(t, r, p)]);
                break;
            }
            pgs += w * pg, kls += w * kl, loss += w * (pg + g.kl_beta * kl);
            if (w != 0) live++, clipped += (size_t)cl;
        }
    if (!st && two) {
        st = weights_only(t, b, c);
        if (!st) st = srlm_cmd_run(t->fb);
        if (!st) st = read_back(t, b, NULL, NULL);
    }
    if (!st) {
        for (int r = 0; r < b->rows; r++)
            for (int p = 0; p < b->T; p++) {
                size_t j = (size_t)r * (size_t)b->T + (size_t)p;
                if (logprob) logprob[j] = t->lp[at(t, r, p)];
                if (entropy) entropy[j] = t->en[at(t, r, p)];
            }
        if (stats)
            *stats = (srlm_train_step_stats){.loss = loss, .pg_loss = pgs, .kl = kls,
                                             .clip_fraction = live ? (double)clipped / (double)live : 0.0,
                                             .forward_passes = two ? 2 : 1};
    }
    free(c);
    return st;
}

srlm_status srlm_trainer_apply(srlm_trainer *t, float lr, double *grad_norm) {
    if (!(lr >= 0) || !isfinite(lr)) return srlm_errorf(SRLM_ERR_INVALID, "learning rate %g", (double)lr);
    float hp[SRLM_ADAMW_PARAM_FLOATS];
    srlm_adamw_params(hp, lr, t->o.beta1, t->o.beta2, t->o.weight_decay, (int)(t->steps + 1), 1.0f);
    SRLM_TRY(srlm_buf_write(t->ctx, t->tm->hp, 0, hp, sizeof hp));
    SRLM_TRY(srlm_cmd_run(t->opt));
    SRLM_TRY(srlm_buf_read(t->ctx, t->tm->hp, 0, hp, sizeof hp));
    t->steps++;
    if (grad_norm) *grad_norm = hp[SRLM_ADAMW_NORM];
    return NULL;
}

srlm_status srlm_trainer_step(srlm_trainer *t, const srlm_train_batch *b, const srlm_grpo_params *g, float lr, float *logprob,
                              float *entropy, srlm_train_step_stats *stats) {
    SRLM_TRY(srlm_trainer_accumulate(t, b, g, logprob, entropy, stats));
    return srlm_trainer_apply(t, lr, NULL);
}
