/* engine.c: batched inference over many sequences: a paged KV cache (fixed-size blocks,
 * a block table per sequence, reference-counted blocks so forks share their parent's full
 * blocks), the forward plan, and command buffers recorded once per step shape and replayed.
 * Not the sampler (sampler.c) nor the generation loop (generate.c). */
#include "decode/engine.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

#define MAX_RECORDED 6

typedef struct recorded {
    int T, n_out;
    uint64_t last_use;
    srlm_cmd *cmd;
} recorded;

typedef struct seq_state {
    bool live;
    int len;
    int nblocks;
    int32_t *blocks; /* max_blocks entries */
} seq_state;

struct srlm_engine {
    srlm_ctx *ctx;
    const srlm_model *m;
    srlm_engine_options o;
    int max_blocks;            /* per sequence */
    srlm_arena *kv_arena;
    srlm_kv_pools kv;
    int *refcount;             /* per block */
    int *free_blocks, nfree;
    seq_state *seqs;
    srlm_fwd_plan *plan;
    recorded rec[MAX_RECORDED];
    uint64_t clock;
    srlm_cmd *copy_cmd;
    /* host mirrors of the index buffers */
    int32_t *h_ids, *h_pos, *h_seq, *h_slots, *h_out, *h_tables;
    uint64_t tokens_processed;
};

void srlm_engine_options_default(srlm_engine_options *o) {
    o->max_seqs = 1;
    o->max_ctx = 2048;
    o->max_step_tokens = 256;
    o->max_out = 0;
    o->block = 16;
}

uint64_t srlm_engine_kv_bytes(const srlm_model_config *cfg, int num_blocks, int block) {
    return 2ull * (uint64_t)cfg->num_hidden_layers * (uint64_t)num_blocks * (uint64_t)cfg->num_key_value_heads *
           (uint64_t)block * (uint64_t)cfg->head_dim * 2;
}

static uint64_t block_bytes(const srlm_engine *e) {
    return (uint64_t)e->m->cfg.num_key_value_heads * (uint64_t)e->o.block * (uint64_t)e->m->cfg.head_dim * 2;
}

srlm_status srlm_engine_create(srlm_model *m, const srlm_engine_options *opts, srlm_engine **out) {
    *out = NULL;
    srlm_engine_options o;
    if (opts) o = *opts;
    else srlm_engine_options_default(&o);
    if (o.max_seqs < 1 || o.max_ctx < 1 || o.max_step_tokens < 1 || o.block < 1 || o.block % 2)
        return srlm_errorf(SRLM_ERR_INVALID, "engine: sequences %d, context %d, step tokens %d and block %d must be positive "
                                             "(block even)", o.max_seqs, o.max_ctx, o.max_step_tokens, o.block);
    if (o.max_out <= 0) o.max_out = o.max_seqs > 32 ? o.max_seqs : 32;
    if (o.max_out < o.max_seqs) o.max_out = o.max_seqs;
    if (o.max_out > o.max_step_tokens) o.max_step_tokens = o.max_out;
    srlm_engine *e = calloc(1, sizeof *e);
    if (!e) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for the engine");
    e->ctx = m->ctx;
    e->m = m;
    e->o = o;
    const srlm_model_config *cfg = &m->cfg;
    int L = cfg->num_hidden_layers;
    e->max_blocks = (o.max_ctx + o.block - 1) / o.block;
    /* Enough blocks for every sequence at full context (+1 each for fork copies). */
    e->kv.num_blocks = o.max_seqs * (e->max_blocks + 1);
    e->kv.block = o.block;
    e->kv.k = calloc((size_t)L, sizeof(srlm_buf));
    e->kv.v = calloc((size_t)L, sizeof(srlm_buf));
    e->refcount = calloc((size_t)e->kv.num_blocks, sizeof(int));
    e->free_blocks = malloc((size_t)e->kv.num_blocks * sizeof(int));
    e->seqs = calloc((size_t)o.max_seqs, sizeof(seq_state));
    int T = o.max_step_tokens;
    e->h_ids = malloc((size_t)T * 4), e->h_pos = malloc((size_t)T * 4), e->h_seq = malloc((size_t)T * 4);
    e->h_slots = malloc((size_t)T * 4), e->h_out = malloc((size_t)o.max_out * 4);
    e->h_tables = calloc((size_t)o.max_seqs * (size_t)e->max_blocks, 4);
    srlm_status st = NULL;
    if (!e->kv.k || !e->kv.v || !e->refcount || !e->free_blocks || !e->seqs || !e->h_ids || !e->h_pos || !e->h_seq ||
        !e->h_slots || !e->h_out || !e->h_tables)
        st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for the engine");
    for (int s = 0; !st && s < o.max_seqs; s++) {
        e->seqs[s].blocks = calloc((size_t)e->max_blocks, sizeof(int32_t));
        if (!e->seqs[s].blocks) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for block tables");
    }
    for (int b = 0; !st && b < e->kv.num_blocks; b++) e->free_blocks[b] = e->kv.num_blocks - 1 - b;
    e->nfree = e->kv.num_blocks;
    uint64_t pool = (uint64_t)e->kv.num_blocks * block_bytes(e);
    if (!st) st = srlm_arena_create(e->ctx, "kv-cache", 2 * pool * (uint64_t)L, &e->kv_arena);
    for (int l = 0; !st && l < L; l++) {
        st = srlm_arena_alloc(e->kv_arena, pool, &e->kv.k[l]);
        if (!st) st = srlm_arena_alloc(e->kv_arena, pool, &e->kv.v[l]);
    }
    if (st) st = srlm_status_wrap(st, "KV cache (%d sequences x %d positions, %.1f MiB): ", o.max_seqs, o.max_ctx,
                                  2.0 * (double)pool * L / 1048576.0);
    if (!st) st = srlm_fwd_plan_create(e->ctx, m, &e->kv, T, o.max_seqs, o.max_out, e->max_blocks, &e->plan);
    if (!st) st = srlm_cmd_create(e->ctx, &e->copy_cmd);
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
    srlm_fwd_plan_destroy(e->plan);
    srlm_arena_destroy(e->kv_arena);
    if (e->seqs)
        for (int s = 0; s < e->o.max_seqs; s++) free(e->seqs[s].blocks);
    free(e->seqs);
    free(e->kv.k), free(e->kv.v), free(e->refcount), free(e->free_blocks);
    free(e->h_ids), free(e->h_pos), free(e->h_seq), free(e->h_slots), free(e->h_out), free(e->h_tables);
    free(e);
}

const srlm_model *srlm_engine_model(const srlm_engine *e) { return e->m; }
int srlm_engine_max_seqs(const srlm_engine *e) { return e->o.max_seqs; }
int srlm_engine_max_ctx(const srlm_engine *e) { return e->max_blocks * e->o.block; }
int srlm_engine_free_blocks(const srlm_engine *e) { return e->nfree; }
uint64_t srlm_engine_tokens_processed(const srlm_engine *e) { return e->tokens_processed; }

static srlm_status seq_check(const srlm_engine *e, int id) {
    if (id < 0 || id >= e->o.max_seqs || !e->seqs[id].live)
        return srlm_errorf(SRLM_ERR_INVALID, "sequence %d does not exist", id);
    return NULL;
}

int srlm_engine_seq_len(const srlm_engine *e, int id) { return seq_check(e, id) ? -1 : e->seqs[id].len; }

srlm_status srlm_engine_seq_new(srlm_engine *e, int *id) {
    for (int s = 0; s < e->o.max_seqs; s++)
        if (!e->seqs[s].live) {
            e->seqs[s].live = true;
            e->seqs[s].len = 0;
            e->seqs[s].nblocks = 0;
            *id = s;
            return NULL;
        }
    return srlm_errorf(SRLM_ERR_INVALID, "all %d sequence slots are in use", e->o.max_seqs);
}

static void release_block(srlm_engine *e, int b) {
    if (--e->refcount[b] == 0) e->free_blocks[e->nfree++] = b;
}

void srlm_engine_seq_free(srlm_engine *e, int id) {
    if (seq_check(e, id)) return;
    seq_state *s = &e->seqs[id];
    for (int i = 0; i < s->nblocks; i++) release_block(e, s->blocks[i]);
    s->live = false;
    s->nblocks = s->len = 0;
}

static srlm_status alloc_block(srlm_engine *e, int *b) {
    if (!e->nfree) return srlm_errorf(SRLM_ERR_DEVICE_OOM, "KV cache is full: all %d blocks are in use", e->kv.num_blocks);
    *b = e->free_blocks[--e->nfree];
    e->refcount[*b] = 1;
    return NULL;
}

srlm_status srlm_engine_seq_fork(srlm_engine *e, int parent, int *child) {
    SRLM_TRY(seq_check(e, parent));
    int c;
    SRLM_TRY(srlm_engine_seq_new(e, &c));
    seq_state *p = &e->seqs[parent], *s = &e->seqs[c];
    int full = p->len / e->o.block;
    for (int i = 0; i < full; i++) {
        s->blocks[i] = p->blocks[i];
        e->refcount[p->blocks[i]]++;
    }
    s->nblocks = full;
    s->len = p->len;
    if (p->len % e->o.block) {
        /* Only the last, partial block is copied: the child will write into it. */
        int nb;
        srlm_status st = alloc_block(e, &nb);
        if (st) {
            srlm_engine_seq_free(e, c);
            return st;
        }
        s->blocks[s->nblocks++] = nb;
        uint64_t bb = block_bytes(e);
        int pb = p->blocks[full];
        st = srlm_cmd_begin(e->copy_cmd);
        for (int l = 0; !st && l < e->m->cfg.num_hidden_layers; l++) {
            st = srlm_cmd_copy(e->copy_cmd, srlm_buf_slice(e->kv.k[l], (uint64_t)nb * bb, bb),
                               srlm_buf_slice(e->kv.k[l], (uint64_t)pb * bb, bb), bb);
            if (!st)
                st = srlm_cmd_copy(e->copy_cmd, srlm_buf_slice(e->kv.v[l], (uint64_t)nb * bb, bb),
                                   srlm_buf_slice(e->kv.v[l], (uint64_t)pb * bb, bb), bb);
        }
        if (!st) st = srlm_cmd_run(e->copy_cmd);
        if (st) {
            srlm_engine_seq_free(e, c);
            return srlm_status_wrap(st, "forking sequence %d: ", parent);
        }
    }
    *child = c;
    return NULL;
}

/* The recorded command for a step shape, recording it on first use. */
static srlm_status step_cmd(srlm_engine *e, int T, int n_out, srlm_cmd **out) {
    recorded *victim = &e->rec[0];
    for (int i = 0; i < MAX_RECORDED; i++) {
        recorded *r = &e->rec[i];
        if (r->cmd && r->T == T && r->n_out == n_out) {
            r->last_use = ++e->clock;
            *out = r->cmd;
            return NULL;
        }
        if (!r->cmd || r->last_use < victim->last_use) victim = r;
    }
    if (!victim->cmd) SRLM_TRY(srlm_cmd_create(e->ctx, &victim->cmd));
    victim->T = -1;
    SRLM_TRY(srlm_cmd_begin(victim->cmd));
    SRLM_TRY(srlm_forward_record(victim->cmd, e->m, &e->kv, e->plan, T, n_out));
    SRLM_TRY(srlm_cmd_end(victim->cmd));
    victim->T = T, victim->n_out = n_out, victim->last_use = ++e->clock;
    *out = victim->cmd;
    return NULL;
}

/* Runs one forward over the T tokens staged in the host mirrors; reads n_out logit rows. */
static srlm_status run_step(srlm_engine *e, int T, int n_out, float *logits) {
    const srlm_fwd_plan *p = e->plan;
    srlm_ctx *ctx = e->ctx;
    for (int s = 0; s < e->o.max_seqs; s++)
        if (e->seqs[s].live) memcpy(e->h_tables + (size_t)s * e->max_blocks, e->seqs[s].blocks, (size_t)e->seqs[s].nblocks * 4);
    SRLM_TRY(srlm_buf_write(ctx, p->ids, 0, e->h_ids, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->pos, 0, e->h_pos, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->seq, 0, e->h_seq, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->slots, 0, e->h_slots, (uint64_t)T * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->out_rows, 0, e->h_out, (uint64_t)n_out * 4));
    SRLM_TRY(srlm_buf_write(ctx, p->block_tables, 0, e->h_tables, (uint64_t)e->o.max_seqs * e->max_blocks * 4));
    srlm_cmd *c;
    SRLM_TRY(step_cmd(e, T, n_out, &c));
    SRLM_TRY(srlm_cmd_run(c));
    e->tokens_processed += (uint64_t)T;
    if (logits) SRLM_TRY(srlm_buf_read(ctx, p->logits, 0, logits, (uint64_t)n_out * (uint64_t)e->m->cfg.vocab_size * 4));
    return NULL;
}

/* Stages token `tok` of sequence `sid` at its next position; allocates a block when needed. */
static srlm_status stage_token(srlm_engine *e, int row, int sid, int32_t tok) {
    seq_state *s = &e->seqs[sid];
    int V = e->m->cfg.vocab_size;
    if (tok < 0 || tok >= V) return srlm_errorf(SRLM_ERR_INVALID, "token id %d of sequence %d is outside the vocabulary (%d)", tok, sid, V);
    if (s->len >= e->max_blocks * e->o.block)
        return srlm_errorf(SRLM_ERR_INVALID, "sequence %d is full: the context holds %d tokens", sid, e->max_blocks * e->o.block);
    int bi = s->len / e->o.block;
    if (bi == s->nblocks) {
        int b;
        SRLM_TRY(alloc_block(e, &b));
        s->blocks[s->nblocks++] = b;
    }
    e->h_ids[row] = tok;
    e->h_pos[row] = s->len;
    e->h_seq[row] = sid;
    e->h_slots[row] = s->blocks[bi] * e->o.block + s->len % e->o.block;
    s->len++;
    return NULL;
}

srlm_status srlm_engine_step(srlm_engine *e, int n, const int *seq_ids, const int *n_tokens, const int32_t *tokens,
                             int all_logits, float *logits) {
    int V = e->m->cfg.vocab_size;
    int chunk = all_logits ? (e->o.max_step_tokens < e->o.max_out ? e->o.max_step_tokens : e->o.max_out) : e->o.max_step_tokens;
    for (int i = 0; i < n; i++) {
        SRLM_TRY(seq_check(e, seq_ids[i]));
        for (int j = 0; j < i; j++)
            if (seq_ids[j] == seq_ids[i]) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d appears twice in one step", seq_ids[i]);
        if (n_tokens[i] < 1) return srlm_errorf(SRLM_ERR_INVALID, "sequence %d: a step appends at least one token", seq_ids[i]);
        const seq_state *s = &e->seqs[seq_ids[i]];
        if (s->len + n_tokens[i] > e->max_blocks * e->o.block)
            return srlm_errorf(SRLM_ERR_INVALID, "sequence %d: %d + %d tokens exceed the context of %d", seq_ids[i], s->len,
                               n_tokens[i], e->max_blocks * e->o.block);
    }
    /* Walk the tokens in order, flushing a forward pass whenever the step is full. Logits are
     * read for the last token of each sequence (or every token with all_logits). */
    int T = 0, n_out = 0;
    const int32_t *tok = tokens;
    float *out_ptr = logits;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n_tokens[i]; j++) {
            SRLM_TRY(stage_token(e, T, seq_ids[i], tok[j]));
            bool want = all_logits || j == n_tokens[i] - 1;
            if (want) e->h_out[n_out++] = T;
            T++;
            if (T == chunk || n_out == e->o.max_out) {
                if (!n_out) e->h_out[0] = T - 1;
                SRLM_TRY(run_step(e, T, n_out ? n_out : 1, n_out ? out_ptr : NULL));
                if (n_out) out_ptr += (size_t)n_out * (size_t)V;
                T = 0, n_out = 0;
            }
        }
        tok += n_tokens[i];
    }
    if (T) {
        if (!n_out) e->h_out[0] = T - 1;
        SRLM_TRY(run_step(e, T, n_out ? n_out : 1, n_out ? out_ptr : NULL));
    }
    return NULL;
}
