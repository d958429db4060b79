/* engine.c: batched inference over many sequences: the paged KV cache (decode/kv_cache.c),
 * the forward plan, and command buffers recorded once per step shape (tokens, logit rows)
 * and replayed; only the small index buffers change between steps. Not the sampler
 * (sampler.c) nor the generation loop. */
#include "decode/engine.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

#define MAX_RECORDED 6

typedef struct recorded {
    int T, n_out, k; /* k > 0: the step ends with logit_topk of k */
    uint64_t last_use;
    srlm_cmd *cmd;
} recorded;

struct srlm_engine {
    srlm_ctx *ctx;
    const srlm_model *m;
    srlm_engine_options o;
    srlm_arena *kv_arena;
    srlm_kv_cache *kv;
    srlm_fwd_plan *plan;
    recorded rec[MAX_RECORDED];
    uint64_t clock;
    srlm_cmd *copy_cmd;
    /* device selection (logit_topk) after the LM head; absent (sel_arena NULL) when a full
     * logits block exceeds one binding */
    srlm_arena *sel_arena;
    srlm_buf sel_invt, sel_ids, sel_x, sel_stats, sel_scratch;
    /* host staging for one call: per token id, position, sequence, slot; logit rows */
    int32_t *ids, *pos, *seq, *slots, *out_rows;
    size_t cap;
    uint64_t tokens_processed;
    uint64_t selected_rows; /* logit rows reduced on the device instead of read back */
};

void srlm_engine_options_default(srlm_engine_options *o) {
    o->max_seqs = 1;
    o->max_ctx = 2048;
    o->max_step_tokens = 256;
    o->max_out = 0;
    o->block = 16;
    o->kv_dtype = SRLM_KV_AUTO;
}

uint64_t srlm_engine_kv_bytes(const srlm_model_config *cfg, int num_blocks, int block) {
    return srlm_engine_kv_bytes_dt(cfg, num_blocks, block, SRLM_KV_F16);
}

uint64_t srlm_engine_kv_bytes_dt(const srlm_model_config *cfg, int num_blocks, int block, srlm_kv_dtype dt) {
    return 2ull * (uint64_t)cfg->num_hidden_layers * (uint64_t)num_blocks * (uint64_t)cfg->num_key_value_heads *
           (uint64_t)block * (uint64_t)cfg->head_dim * (dt == SRLM_KV_F32 ? 4 : 2);
}

srlm_status srlm_engine_create(srlm_model *m, const srlm_engine_options *opts, srlm_engine **out) {
    *out = NULL;
    srlm_engine_options o;
    if (opts) o = *opts;
    else srlm_engine_options_default(&o);
    if (o.max_seqs < 1 || o.max_ctx < 1 || o.max_step_tokens < 1 || o.block < 1)
        return srlm_errorf(SRLM_ERR_INVALID, "engine: sequences %d, context %d, step tokens %d and block %d must be positive",
                           o.max_seqs, o.max_ctx, o.max_step_tokens, o.block);
    if (o.kv_dtype != SRLM_KV_AUTO && o.kv_dtype != SRLM_KV_F16 && o.kv_dtype != SRLM_KV_F32)
        return srlm_errorf(SRLM_ERR_INVALID, "engine: unknown KV cache dtype %d", (int)o.kv_dtype);
    if (o.kv_dtype == SRLM_KV_AUTO) o.kv_dtype = m->wdtype == SRLM_DTYPE_F32 ? SRLM_KV_F32 : SRLM_KV_F16;
    if (o.max_out <= 0) o.max_out = o.max_seqs > 32 ? o.max_seqs : 32;
    if (o.max_out < o.max_seqs) o.max_out = o.max_seqs;
    if (o.max_step_tokens < o.max_out) o.max_step_tokens = o.max_out;
    srlm_engine *e = calloc(1, sizeof *e);
    if (!e) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for the engine");
    e->ctx = m->ctx;
    e->m = m;
    e->o = o;
    const srlm_model_config *cfg = &m->cfg;
    uint32_t max_blocks = (uint32_t)((o.max_ctx + o.block - 1) / o.block);
    /* Enough blocks for every sequence at full context, +1 each for a fork's partial copy. */
    srlm_kv_config kc = {.n_layers = (uint32_t)cfg->num_hidden_layers, .NKV = (uint32_t)cfg->num_key_value_heads,
                         .HS = (uint32_t)cfg->head_dim, .block_size = (uint32_t)o.block,
                         .num_blocks = (uint32_t)o.max_seqs * (max_blocks + 1), .max_seqs = (uint32_t)o.max_seqs,
                         .max_blocks = max_blocks, .kv_f32 = o.kv_dtype == SRLM_KV_F32};
    uint64_t kv_bytes = srlm_engine_kv_bytes_dt(cfg, (int)kc.num_blocks, o.block, o.kv_dtype);
    srlm_status st = srlm_arena_create(e->ctx, "kv-cache", kv_bytes + (1u << 20), &e->kv_arena);
    if (!st) st = srlm_kv_cache_create(e->ctx, e->kv_arena, &kc, &e->kv);
    if (st) st = srlm_status_wrap(st, "KV cache (%d sequences x %d positions, %s, %.1f MiB): ", o.max_seqs, o.max_ctx,
                                  o.kv_dtype == SRLM_KV_F32 ? "f32" : "f16", kv_bytes / 1048576.0);
    if (!st) st = srlm_fwd_plan_create(e->ctx, m, e->kv, o.max_step_tokens, o.max_out, &e->plan);
    if (!st) st = srlm_cmd_create(e->ctx, &e->copy_cmd);
    uint32_t V = (uint32_t)cfg->vocab_size, R = (uint32_t)o.max_out, K = SRLM_LOGIT_TOPK_MAX < V ? SRLM_LOGIT_TOPK_MAX : V;
    if (!st && !o.host_select && (uint64_t)R * V * 4 <= e->ctx->caps.max_storage_buffer_range) {
        uint64_t scratch = srlm_logit_topk_scratch_bytes(e->ctx, R, V, K);
        uint64_t a = 256, bytes = 4 * a + (uint64_t)R * 4 + 2ull * R * K * 4 + (uint64_t)R * 8 + scratch;
        st = srlm_arena_create(e->ctx, "sampling", bytes + 4 * a, &e->sel_arena);
        if (!st) st = srlm_arena_alloc(e->sel_arena, (uint64_t)R * 4, &e->sel_invt);
        if (!st) st = srlm_arena_alloc(e->sel_arena, (uint64_t)R * K * 4, &e->sel_ids);
        if (!st) st = srlm_arena_alloc(e->sel_arena, (uint64_t)R * K * 4, &e->sel_x);
        if (!st) st = srlm_arena_alloc(e->sel_arena, (uint64_t)R * 8, &e->sel_stats);
        if (!st) st = srlm_arena_alloc(e->sel_arena, scratch, &e->sel_scratch);
    }
    if (st) {
        srlm_engine_destroy(e);
        return st;
    }
    *out = e;
    return NULL;
}

void srlm_engine_destroy(srlm_engine *e) {
    if (!e) return;
    for (int i = 0; i < MAX_RECORDED; i++) srlm_cmd_destroy(e->rec[i].cmd);
    srlm_cmd_destroy(e->copy_cmd);
    srlm_arena_destroy(e->sel_arena);
    srlm_fwd_plan_destroy(e->plan);
    srlm_kv_cache_destroy(e->kv);
    srlm_arena_destroy(e->kv_arena);
    free(e->ids), free(e->pos), free(e->seq), free(e->slots), free(e->out_rows);
    free(e);
}

const srlm_model *srlm_engine_model(const srlm_engine *e) { return e->m; }
int srlm_engine_max_seqs(const srlm_engine *e) { return e->o.max_seqs; }
int srlm_engine_max_ctx(const srlm_engine *e) { return (int)(e->kv->cfg.max_blocks * e->kv->cfg.block_size); }
int srlm_engine_free_blocks(const srlm_engine *e) { return (int)srlm_kv_free_blocks(e->kv); }
uint64_t srlm_engine_tokens_processed(const srlm_engine *e) { return e->tokens_processed; }
srlm_kv_dtype srlm_engine_kv_dtype(const srlm_engine *e) { return e->o.kv_dtype; }

static bool seq_live(const srlm_engine *e, int id) { return id >= 0 && id < e->o.max_seqs && e->kv->active[id]; }

int srlm_engine_seq_len(const srlm_engine *e, int id) { return seq_live(e, id) ? (int)srlm_kv_seq_len(e->kv, (uint32_t)id) : -1; }

srlm_status srlm_engine_seq_new(srlm_engine *e, int *id) {
    uint32_t s;
    SRLM_TRY(srlm_kv_seq_add(e->kv, &s));
    *id = (int)s;
    return NULL;
}

void srlm_engine_seq_free(srlm_engine *e, int id) {
    if (seq_live(e, id)) srlm_status_free(srlm_kv_seq_free(e->kv, (uint32_t)id));
}

srlm_status srlm_engine_seq_fork(srlm_engine *e, int parent, int *child) {
    if (!seq_live(e, parent)) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d does not exist", parent);
    uint32_t c;
    SRLM_TRY(srlm_cmd_begin(e->copy_cmd));
    srlm_status st = srlm_kv_seq_fork(e->kv, e->copy_cmd, (uint32_t)parent, &c);
    srlm_status end = srlm_cmd_end(e->copy_cmd);
    if (st || end) {
        srlm_status_free(end);
        return st ? st : srlm_errorf(SRLM_ERR_VULKAN, "recording the fork copy failed");
    }
    st = srlm_cmd_run(e->copy_cmd);
    if (st) {
        srlm_status_free(srlm_kv_seq_free(e->kv, c));
        return srlm_status_wrap(st, "forking sequence %d: ", parent);
    }
    *child = (int)c;
    return NULL;
}

srlm_status srlm_engine_seq_truncate(srlm_engine *e, int id, int len) {
    if (!seq_live(e, id)) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d does not exist", id);
    if (len < 0) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d: cannot keep %d tokens", id, len);
    SRLM_TRY(srlm_cmd_begin(e->copy_cmd));
    srlm_status st = srlm_kv_seq_truncate(e->kv, e->copy_cmd, (uint32_t)id, (uint32_t)len);
    srlm_status end = srlm_cmd_end(e->copy_cmd);
    if (st || end) {
        srlm_status_free(end);
        return st ? st : srlm_errorf(SRLM_ERR_VULKAN, "recording the truncate copy failed");
    }
    return srlm_status_wrap(srlm_cmd_run(e->copy_cmd), "truncating sequence %d: ", id);
}

/* The recorded command for a step shape, recording it on first use (LRU of a few). */
static srlm_status step_cmd(srlm_engine *e, int T, int n_out, int k, srlm_cmd **out) {
    recorded *victim = &e->rec[0];
    for (int i = 0; i < MAX_RECORDED; i++) {
        recorded *r = &e->rec[i];
        if (r->cmd && r->T == T && r->n_out == n_out && r->k == k) {
            r->last_use = ++e->clock;
            *out = r->cmd;
            return NULL;
        }
        if (!r->cmd || (victim->cmd && r->last_use < victim->last_use)) victim = r;
    }
    if (!victim->cmd) SRLM_TRY(srlm_cmd_create(e->ctx, &victim->cmd));
    victim->T = -1;
    SRLM_TRY(srlm_cmd_begin(victim->cmd));
    SRLM_TRY(srlm_forward_record(victim->cmd, e->m, e->kv, e->plan, T, n_out));
    if (k > 0)
        SRLM_TRY(srlm_op_logit_topk(victim->cmd, e->sel_ids, e->sel_x, e->sel_stats, e->sel_scratch, e->plan->logits, e->sel_invt,
                                    (uint32_t)n_out, (uint32_t)e->m->cfg.vocab_size, (uint32_t)k));
    SRLM_TRY(srlm_cmd_end(victim->cmd));
    victim->T = T, victim->n_out = n_out, victim->k = k, victim->last_use = ++e->clock;
    *out = victim->cmd;
    return NULL;
}

/* Where a step's outputs go: full logit rows, or (k > 0) the device selection per row. */
typedef struct step_out {
    float *logits;       /* (rows, V), or NULL */
    int k;               /* > 0: selection of k per row into ids, xs, stats */
    const float *invt;   /* (rows) */
    int32_t *ids;        /* (rows, k) */
    float *xs, *stats;   /* (rows, k), (rows, 2) */
} step_out;

/* One forward over tokens [t0, t0+T) of the staged arrays; n_out rows (indices relative to
 * the chunk) read into o (advanced past them) when o is non-NULL. */
static srlm_status run_chunk(srlm_engine *e, size_t t0, int T, const int32_t *rows, int n_out, step_out *o) {
    const srlm_fwd_plan *p = e->plan;
    srlm_ctx *ctx = e->ctx;
    SRLM_TRY(srlm_buf_write(ctx, p->ids, 0, e->ids + t0, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->pos, 0, e->pos + t0, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->seq, 0, e->seq + t0, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->slots, 0, e->slots + t0, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->out_rows, 0, rows, (uint64_t)n_out * 4));
    int k = o ? o->k : 0;
    if (k > 0) SRLM_TRY(srlm_buf_write(ctx, e->sel_invt, 0, o->invt, (uint64_t)n_out * 4));
    srlm_cmd *c;
    SRLM_TRY(step_cmd(e, T, n_out, k, &c));
    SRLM_TRY(srlm_cmd_run(c));
    e->tokens_processed += (uint64_t)T;
    if (!o) return NULL;
    uint64_t V = (uint64_t)e->m->cfg.vocab_size;
    if (k > 0) {
        e->selected_rows += (uint64_t)n_out;
        SRLM_TRY(srlm_buf_read(ctx, e->sel_ids, 0, o->ids, (uint64_t)n_out * (uint64_t)k * 4));
        SRLM_TRY(srlm_buf_read(ctx, e->sel_x, 0, o->xs, (uint64_t)n_out * (uint64_t)k * 4));
        SRLM_TRY(srlm_buf_read(ctx, e->sel_stats, 0, o->stats, (uint64_t)n_out * 8));
        o->invt += n_out, o->ids += (size_t)n_out * (size_t)k, o->xs += (size_t)n_out * (size_t)k, o->stats += 2 * (size_t)n_out;
    } else {
        SRLM_TRY(srlm_buf_read(ctx, p->logits, 0, o->logits, (uint64_t)n_out * V * 4));
        o->logits += (size_t)n_out * V;
    }
    return NULL;
}

static srlm_status reserve(srlm_engine *e, size_t n) {
    if (n <= e->cap) return NULL;
    size_t cap = n < 1024 ? 1024 : n;
    int32_t **arrs[5] = {&e->ids, &e->pos, &e->seq, &e->slots, &e->out_rows};
    for (int i = 0; i < 5; i++) {
        int32_t *a = realloc(*arrs[i], cap * sizeof(int32_t));
        if (!a) return srlm_errorf(SRLM_ERR_OOM, "out of host memory staging %zu tokens", n);
        *arrs[i] = a;
    }
    e->cap = cap;
    return NULL;
}

static srlm_status step(srlm_engine *e, int n, const int *seq_ids, const int *n_tokens, const int32_t *tokens, int all_logits,
                        step_out *o) {
    int V = e->m->cfg.vocab_size;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!seq_live(e, seq_ids[i])) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d does not exist", seq_ids[i]);
        for (int j = 0; j < i; j++)
            if (seq_ids[j] == seq_ids[i]) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d appears twice in one step", seq_ids[i]);
        if (n_tokens[i] < 1) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d: a step appends at least one token", seq_ids[i]);
        total += (size_t)n_tokens[i];
    }
    for (size_t t = 0; t < total; t++)
        if (tokens[t] < 0 || tokens[t] >= V)
            return srlm_errorf(SRLM_ERR_INVALID, "token id %d at position %zu of the step is outside the vocabulary (%d)", tokens[t], t, V);
    SRLM_TRY(reserve(e, total));
    /* Reserve cache slots for every token first (all or nothing per sequence). */
    size_t t = 0;
    for (int i = 0; i < n; i++) {
        srlm_status st = srlm_kv_seq_extend(e->kv, (uint32_t)seq_ids[i], (uint32_t)n_tokens[i], e->slots + t, e->pos + t);
        if (st) {
            /* undo the sequences already extended in this call */
            for (int k = 0; k < i; k++) e->kv->len[seq_ids[k]] -= (uint32_t)n_tokens[k];
            return srlm_status_wrap(st, "sequence %d (%u cached + %d new tokens): ", seq_ids[i],
                                    srlm_kv_seq_len(e->kv, (uint32_t)seq_ids[i]), n_tokens[i]);
        }
        memcpy(e->ids + t, tokens + t, (size_t)n_tokens[i] * 4);
        for (int j = 0; j < n_tokens[i]; j++) e->seq[t + (size_t)j] = seq_ids[i];
        t += (size_t)n_tokens[i];
    }
    SRLM_TRY(srlm_kv_upload(e->kv));
    /* Forward in chunks of at most max_step_tokens tokens and max_out logit rows. */
    size_t t0 = 0, next_last = 0;
    int seq_i = 0;
    while (t0 < total) {
        int T = 0, n_out = 0;
        while (t0 + (size_t)T < total && T < e->o.max_step_tokens) {
            size_t tt = t0 + (size_t)T;
            while (seq_i < n && tt >= next_last + (size_t)n_tokens[seq_i]) next_last += (size_t)n_tokens[seq_i++];
            bool is_last = seq_i < n && tt == next_last + (size_t)n_tokens[seq_i] - 1;
            if (all_logits || is_last) {
                if (n_out == e->o.max_out) break;
                e->out_rows[n_out++] = T;
            }
            T++;
        }
        int rows = n_out ? n_out : 1;
        if (!n_out) e->out_rows[0] = T - 1;
        SRLM_TRY(run_chunk(e, t0, T, e->out_rows, rows, n_out ? o : NULL));
        t0 += (size_t)T;
    }
    return NULL;
}

srlm_status srlm_engine_step(srlm_engine *e, int n, const int *seq_ids, const int *n_tokens, const int32_t *tokens,
                             int all_logits, float *logits) {
    step_out o = {.logits = logits};
    return step(e, n, seq_ids, n_tokens, tokens, all_logits, logits ? &o : NULL);
}

uint64_t srlm_engine_selected_rows(const srlm_engine *e) { return e->selected_rows; }

int srlm_engine_select_max_k(const srlm_engine *e) {
    int V = e->m->cfg.vocab_size;
    return e->sel_arena && !e->o.host_select ? (SRLM_LOGIT_TOPK_MAX < V ? SRLM_LOGIT_TOPK_MAX : V) : 0;
}

srlm_status srlm_engine_step_select(srlm_engine *e, int n, const int *seq_ids, const int *n_tokens, const int32_t *tokens,
                                    int k, const float *invt, int32_t *ids, float *xs, float *stats) {
    if (k < 1 || k > srlm_engine_select_max_k(e))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "engine: device selection of %d ids per row (this engine: 1..%d)", k,
                           srlm_engine_select_max_k(e));
    step_out o = {.k = k, .invt = invt, .ids = ids, .xs = xs, .stats = stats};
    return step(e, n, seq_ids, n_tokens, tokens, 0, &o);
}
