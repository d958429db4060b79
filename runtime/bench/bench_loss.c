/* bench_loss.c: `srlm bench ops` rows for the training losses and the optimizer: cross-entropy
 * over the Qwen2.5 vocabulary (151,936) for a chunk of 16 and of 512 tokens (the latter is
 * 311 MB of logits: tiled windows on a 128 MiB device), forward only and with the in-place
 * gradient, KL to a teacher with its gradient, also from a teacher's top-64 entries (family
 * "loss"); the sampler's per-row top-k with log-sum-exp and entropy (family "select"); and the
 * AdamW step with
 * device-side clipping over 16M parameters (family "adamw"; the 0.5B model's 494M do not fit
 * lavapipe's memory in a bench, the per-element cost is what matters). */
#include "bench/bench.h"

#include <stdlib.h>

typedef struct loss_arg {
    srlm_buf x, t, targets, w, loss, lp, ent, kl, scratch;
    int N, V, which;
} loss_arg;

static srlm_status record_loss(srlm_cmd *c, void *arg) {
    loss_arg *a = arg;
    if (a->which == 2)
        return srlm_op_kl(c, a->kl, a->scratch, a->x, a->t, a->w, a->N, a->V, 2.0f, 0, 1.0f, 1);
    return srlm_op_crossentropy(c, a->loss, a->lp, a->ent, a->scratch, a->x, a->targets, a->w, a->N, a->V, 1.0f, 1.0f,
                                a->which == 1);
}

static srlm_status loss_setup(srlm_bench *b, loss_arg *a, int teacher) {
    uint64_t nv = (uint64_t)a->N * a->V, n = (uint64_t)a->N;
    SRLM_TRY(srlm_arena_alloc(b->arena, nv * 4, &a->x));
    if (teacher) SRLM_TRY(srlm_arena_alloc(b->arena, nv * 4, &a->t));
    srlm_buf *small[] = {&a->targets, &a->w, &a->loss, &a->lp, &a->ent, &a->kl};
    for (int i = 0; i < 6; i++) SRLM_TRY(srlm_arena_alloc(b->arena, n * 4, small[i]));
    uint64_t sc = teacher ? srlm_op_kl_scratch_bytes(b->ctx, a->N, a->V) : srlm_op_crossentropy_scratch_bytes(b->ctx, a->N, a->V);
    SRLM_TRY(srlm_arena_alloc(b->arena, sc, &a->scratch));
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    /* the gradient replaces the logits on each replay: the work stays the same */
    SRLM_TRY(srlm_op_fill(b->cmd, a->x, nv, 0.5f));
    if (teacher) SRLM_TRY(srlm_op_fill(b->cmd, a->t, nv, 0.25f));
    SRLM_TRY(srlm_op_fill(b->cmd, a->targets, n, 0.0f)); /* the bits of 0.0f are target 0 */
    SRLM_TRY(srlm_op_fill(b->cmd, a->w, n, 1.0f));
    return srlm_cmd_run(b->cmd);
}

typedef struct topk_arg {
    srlm_buf x, ids, tlogp, w, kl, scratch, invt, out_ids, out_x, stats;
    int N, V, K;
} topk_arg;

static srlm_status record_kl_topk(srlm_cmd *c, void *arg) {
    topk_arg *a = arg;
    return srlm_op_kl_topk(c, a->kl, a->scratch, a->x, a->ids, a->tlogp, a->w, a->N, a->V, a->K, 2.0f, 0, 1.0f, 1);
}

/* KL over a teacher's top-64 ids (distinct, spread over the vocabulary) with its gradient. */
static srlm_status bench_kl_topk(srlm_bench *b) {
    topk_arg a = {.N = 16, .V = 151936, .K = 64};
    uint64_t nv = (uint64_t)a.N * a.V, nk = (uint64_t)a.N * a.K;
    SRLM_TRY(srlm_arena_alloc(b->arena, nv * 4, &a.x));
    SRLM_TRY(srlm_arena_alloc(b->arena, nk * 4, &a.ids));
    SRLM_TRY(srlm_arena_alloc(b->arena, nk * 4, &a.tlogp));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a.N * 4, &a.w));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a.N * 4, &a.kl));
    SRLM_TRY(srlm_arena_alloc(b->arena, srlm_op_kl_topk_scratch_bytes(b->ctx, a.N, a.V, a.K), &a.scratch));
    int32_t *ids = malloc(nk * 4);
    if (!ids) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    for (uint64_t i = 0; i < nk; i++) ids[i] = (int32_t)((i % (uint64_t)a.K) * 2371);
    srlm_status st = srlm_buf_write(b->ctx, a.ids, 0, ids, nk * 4);
    free(ids);
    SRLM_TRY(st);
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    SRLM_TRY(srlm_op_fill(b->cmd, a.x, nv, 0.5f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.tlogp, nk, -5.0f));
    SRLM_TRY(srlm_op_fill(b->cmd, a.w, (uint64_t)a.N, 1.0f));
    SRLM_TRY(srlm_cmd_run(b->cmd));
    /* the student row is read in the statistics and gradient passes and written once */
    SRLM_TRY(srlm_bench_run(b, "kl_topk_grad_f32", "(16,151936) K=64", 12 * nv, 10 * nv, 1, record_kl_topk, &a, NULL));
    srlm_arena_reset(b->arena);
    return NULL;
}

static srlm_status record_select(srlm_cmd *c, void *arg) {
    topk_arg *a = arg;
    return srlm_op_logit_topk(c, a->out_ids, a->out_x, a->stats, a->scratch, a->x, a->invt, (uint32_t)a->N, (uint32_t)a->V,
                              (uint32_t)a->K);
}

srlm_status srlm_bench_ops_select(srlm_bench *b) {
    const int Ks[] = {1, 64};
    for (int s = 0; s < 2; s++) {
        topk_arg a = {.N = 16, .V = 151936, .K = Ks[s]};
        uint64_t nv = (uint64_t)a.N * a.V, nk = (uint64_t)a.N * a.K;
        SRLM_TRY(srlm_arena_alloc(b->arena, nv * 4, &a.x));
        SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a.N * 4, &a.invt));
        SRLM_TRY(srlm_arena_alloc(b->arena, nk * 4, &a.out_ids));
        SRLM_TRY(srlm_arena_alloc(b->arena, nk * 4, &a.out_x));
        SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)a.N * 8, &a.stats));
        SRLM_TRY(srlm_arena_alloc(b->arena, srlm_logit_topk_scratch_bytes(b->ctx, (uint32_t)a.N, (uint32_t)a.V, (uint32_t)a.K),
                                  &a.scratch));
        SRLM_TRY(srlm_cmd_begin(b->cmd));
        SRLM_TRY(srlm_op_fill(b->cmd, a.x, nv, 0.5f));
        SRLM_TRY(srlm_op_fill(b->cmd, a.invt, (uint64_t)a.N, 1.0f));
        SRLM_TRY(srlm_cmd_run(b->cmd));
        char name[32];
        snprintf(name, sizeof name, "logit_topk k=%d", a.K);
        /* one read of the logits; exp and log per element for the statistics */
        SRLM_TRY(srlm_bench_run(b, name, "(16,151936)", 4 * nv, 6 * nv, 1, record_select, &a, NULL));
        srlm_arena_reset(b->arena);
    }
    return NULL;
}

srlm_status srlm_bench_ops_loss(srlm_bench *b) {
    const int Ns[] = {16, 512};
    for (int s = 0; s < (b->opts.quick ? 1 : 2); s++) {
        loss_arg a = {.N = Ns[s], .V = 151936};
        SRLM_TRY(loss_setup(b, &a, 0));
        uint64_t nv = (uint64_t)a.N * a.V;
        char size[32];
        snprintf(size, sizeof size, "(%d,%d)", a.N, a.V);
        a.which = 0; /* logits read once */
        SRLM_TRY(srlm_bench_run(b, "crossentropy_f32", size, 4 * nv, 5 * nv, 1, record_loss, &a, NULL));
        a.which = 1; /* read twice, written once */
        SRLM_TRY(srlm_bench_run(b, "crossentropy_grad_f32", size, 12 * nv, 9 * nv, 1, record_loss, &a, NULL));
        srlm_arena_reset(b->arena);
    }
    loss_arg a = {.N = 16, .V = 151936, .which = 2};
    SRLM_TRY(loss_setup(b, &a, 1));
    uint64_t nv = (uint64_t)a.N * a.V;
    /* student and teacher read in three passes, student written once */
    SRLM_TRY(srlm_bench_run(b, "kl_grad_f32", "(16,151936)", 28 * nv, 20 * nv, 1, record_loss, &a, NULL));
    srlm_arena_reset(b->arena);
    return bench_kl_topk(b);
}

typedef struct adamw_arg {
    srlm_buf p, m, v, g, hp, scratch;
    uint64_t n;
} adamw_arg;

static srlm_status record_adamw(srlm_cmd *c, void *arg) {
    adamw_arg *a = arg;
    SRLM_TRY(srlm_op_clip_grad_norm(c, a->hp, a->scratch, &a->g, &a->n, 1, 1.0f));
    return srlm_op_adamw(c, a->p, a->m, a->v, a->g, a->hp, a->n, 0.9f, 0.95f, 1e-8f, 1);
}

srlm_status srlm_bench_ops_adamw(srlm_bench *b) {
    adamw_arg a = {.n = b->opts.quick ? 1u << 20 : 16u << 20};
    srlm_buf *big[] = {&a.p, &a.m, &a.v, &a.g};
    for (int i = 0; i < 4; i++) SRLM_TRY(srlm_arena_alloc(b->arena, a.n * 4, big[i]));
    SRLM_TRY(srlm_arena_alloc(b->arena, SRLM_ADAMW_PARAM_FLOATS * 4, &a.hp));
    SRLM_TRY(srlm_arena_alloc(b->arena, srlm_op_reduce_scratch_bytes(b->ctx, &a.n, 1), &a.scratch));
    float hp[SRLM_ADAMW_PARAM_FLOATS];
    srlm_adamw_params(hp, 1e-4f, 0.9f, 0.95f, 0.1f, 1, 1.0f);
    SRLM_TRY(srlm_buf_write(b->ctx, a.hp, 0, hp, sizeof hp));
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    for (int i = 0; i < 4; i++) SRLM_TRY(srlm_op_fill(b->cmd, *big[i], a.n, i == 3 ? 0.001f : 0.5f));
    SRLM_TRY(srlm_cmd_run(b->cmd));
    char size[32];
    snprintf(size, sizeof size, "n=%llu", (unsigned long long)a.n);
    /* norm pass reads g; the step reads p, m, v, g and writes p, m, v */
    SRLM_TRY(srlm_bench_run(b, "clip+adamw_f32", size, 32 * a.n, 17 * a.n, 1, record_adamw, &a, NULL));
    srlm_arena_reset(b->arena);
    return NULL;
}
