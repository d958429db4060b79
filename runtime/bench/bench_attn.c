/* bench_attn.c: `srlm bench ops attn` rows: paged attention at Qwen2.5-0.5B heads (14/2,
 * HS 64): decode of 1 and 16 sequences at contexts 1024 and 4096, prefill of 512 tokens, each
 * kernel variant the device runs; and kv_append of 512 tokens. GB/s counts the f16 K/V read
 * once per kv head (the minimum traffic). Also training attention forward/backward at T 512. */
#include "bench/bench.h"
#include "decode/kv_cache.h"

#include <stdlib.h>

typedef struct attn_arg {
    srlm_kv_cache *kv;
    srlm_buf out, scratch, q, qseq, qpos, k, v, slots;
    srlm_attn_dims d;
    srlm_attn_variant var;
    uint32_t T;
} attn_arg;

static srlm_status record_attn(srlm_cmd *c, void *arg) {
    attn_arg *a = arg;
    return srlm_op_attn_paged(c, a->out, a->scratch, a->q, a->kv->k[0], a->kv->v[0], a->kv->block_table, a->qseq, a->qpos,
                              &a->d, a->var, 0);
}

static srlm_status record_append(srlm_cmd *c, void *arg) {
    attn_arg *a = arg;
    return srlm_op_kv_append(c, a->kv->k[0], a->kv->v[0], a->k, a->v, a->slots, a->T, a->kv->cfg.NKV, a->kv->cfg.HS,
                             a->kv->cfg.block_size, a->kv->cfg.num_blocks);
}

static srlm_status upload_random(srlm_bench *b, srlm_buf dst, uint64_t bytes, uint32_t seed) {
    uint32_t *w = malloc(bytes);
    if (!w) return srlm_errorf(SRLM_ERR_OOM, "bench attn: out of memory");
    for (uint64_t i = 0; i < bytes / 4; i++) {
        seed = seed * 1664525u + 1013904223u;
        w[i] = (seed & 0x83FF83FFu) | 0x38003800u; /* two f16 in +-[0.5, 1) */
    }
    srlm_status st = srlm_buf_write(b->ctx, dst, 0, w, bytes);
    free(w);
    return st;
}

/* One cache holding `nseq` sequences of `ctxlen` tokens, rows per `prefill`: all positions of
 * sequence 0, else the last position of each sequence. */
static srlm_status bench_case(srlm_bench *b, uint32_t nseq, uint32_t ctxlen, bool prefill) {
    const uint32_t NH = 14, NKV = 2, HS = 64;
    srlm_kv_config cfg = {.n_layers = 1, .NKV = NKV, .HS = HS, .block_size = 16, .num_blocks = nseq * ((ctxlen + 15) / 16),
                          .max_seqs = nseq, .max_blocks = (ctxlen + 15) / 16};
    attn_arg a = {0};
    SRLM_TRY(srlm_kv_cache_create(b->ctx, b->arena, &cfg, &a.kv));
    srlm_status st = NULL;
    uint32_t Tq = prefill ? ctxlen : nseq;
    int32_t *qseq = malloc(Tq * 4), *qpos = malloc(Tq * 4);
    if (!qseq || !qpos) st = srlm_errorf(SRLM_ERR_OOM, "bench attn: out of memory");
    for (uint32_t s = 0; !st && s < nseq; s++) {
        uint32_t id;
        st = srlm_kv_seq_add(a.kv, &id);
        if (!st) st = srlm_kv_seq_extend(a.kv, id, ctxlen, NULL, NULL);
    }
    for (uint32_t r = 0; !st && r < Tq; r++) {
        qseq[r] = prefill ? 0 : (int32_t)r;
        qpos[r] = prefill ? (int32_t)r : (int32_t)ctxlen - 1;
    }
    uint64_t pool = (uint64_t)cfg.num_blocks * NKV * 16 * HS * 2;
    if (!st) st = srlm_kv_upload(a.kv);
    if (!st) st = upload_random(b, a.kv->k[0], pool, 1);
    if (!st) st = upload_random(b, a.kv->v[0], pool, 2);
    a.d = srlm_kv_attn_dims(a.kv, Tq, NH, ctxlen);
    uint64_t qbytes = (uint64_t)Tq * NH * HS * 4;
    if (!st) st = srlm_arena_alloc(b->arena, qbytes, &a.q);
    if (!st) st = upload_random(b, a.q, qbytes, 3); /* f32 words of small values: fine as queries */
    if (!st) st = srlm_arena_alloc(b->arena, qbytes, &a.out);
    if (!st) st = srlm_arena_alloc(b->arena, Tq * 4, &a.qseq);
    if (!st) st = srlm_arena_alloc(b->arena, Tq * 4, &a.qpos);
    if (!st) st = srlm_buf_write(b->ctx, a.qseq, 0, qseq, Tq * 4);
    if (!st) st = srlm_buf_write(b->ctx, a.qpos, 0, qpos, Tq * 4);
    uint64_t sb = 0;
    for (int vi = 1; vi <= 4; vi++) {
        uint64_t x = srlm_attn_scratch_bytes(&a.d, srlm_attn_splits(b->ctx, &a.d, (srlm_attn_variant)vi, 0));
        if (x > sb) sb = x;
    }
    if (!st) st = srlm_arena_alloc(b->arena, sb ? sb : 4, &a.scratch);
    /* keys read per head: decode ctxlen per row; prefill sum of (p + 1) */
    uint64_t keys = prefill ? (uint64_t)ctxlen * (ctxlen + 1) / 2 : (uint64_t)nseq * ctxlen;
    uint64_t flops = keys * NH * HS * 4;
    uint64_t bytes = (prefill ? (uint64_t)ctxlen : keys) * NKV * HS * 2 * 2 + 2 * qbytes;
    static const char *names[] = {"", "gqa", "sg", "t", "tg"};
    for (int vi = 1; !st && vi <= 4; vi++) {
        if (!srlm_attn_variant_supported(b->ctx, &a.d, (srlm_attn_variant)vi)) continue;
        a.var = (srlm_attn_variant)vi;
        uint32_t ns = srlm_attn_splits(b->ctx, &a.d, a.var, 0);
        char op[32], size[40];
        snprintf(op, sizeof op, "attn_paged_%s", names[vi]);
        if (prefill) snprintf(size, sizeof size, "prefill T=%u", ctxlen);
        else snprintf(size, sizeof size, "dec B=%u ctx=%u s=%u", nseq, ctxlen, ns);
        st = srlm_bench_run(b, op, size, bytes, flops, prefill ? 1 : 4, record_attn, &a, NULL);
    }
    if (!st && prefill) { /* kv_append of the same 512 tokens */
        uint64_t kb = (uint64_t)ctxlen * NKV * HS * 4;
        a.T = ctxlen;
        st = srlm_arena_alloc(b->arena, kb, &a.k);
        if (!st) st = srlm_arena_alloc(b->arena, kb, &a.v);
        if (!st) st = srlm_arena_alloc(b->arena, ctxlen * 4, &a.slots);
        if (!st) st = upload_random(b, a.k, kb, 4);
        if (!st) st = upload_random(b, a.v, kb, 5);
        if (!st) st = srlm_buf_write(b->ctx, a.slots, 0, qpos, ctxlen * 4); /* seq 0 holds blocks 0.. in order */
        char size[40];
        snprintf(size, sizeof size, "T=%u", ctxlen);
        if (!st) st = srlm_bench_run(b, "kv_append", size, kb * 2 + kb / 2 + ctxlen * 4, 0, 4, record_append, &a, NULL);
    }
    free(qseq), free(qpos);
    srlm_kv_cache_destroy(a.kv);
    return st;
}

typedef struct train_arg {
    srlm_buf q, k, v, out, lse, dq, dk, dv, scratch;
    uint32_t T;
} train_arg;

static srlm_status record_train_fwd(srlm_cmd *c, void *arg) {
    train_arg *a = arg;
    return srlm_op_attention_fwd(c, a->out, a->lse, a->q, a->k, a->v, (srlm_buf){0}, 1, a->T, 14, 2, 64);
}

static srlm_status record_train_bwd(srlm_cmd *c, void *arg) {
    train_arg *a = arg;
    return srlm_op_attention_bwd(c, a->dq, a->dk, a->dv, a->scratch, a->out, a->out, a->lse, a->q, a->k, a->v, (srlm_buf){0}, 1,
                                 a->T, 14, 2, 64);
}

/* Training attention over one sequence of T tokens at Qwen heads (forward, then backward). */
static srlm_status bench_train(srlm_bench *b, uint32_t T) {
    train_arg a = {.T = T};
    uint64_t nq = (uint64_t)T * 14 * 64 * 4, nk = (uint64_t)T * 2 * 64 * 4;
    SRLM_TRY(srlm_arena_alloc(b->arena, nq, &a.q));
    SRLM_TRY(srlm_arena_alloc(b->arena, nk, &a.k));
    SRLM_TRY(srlm_arena_alloc(b->arena, nk, &a.v));
    SRLM_TRY(srlm_arena_alloc(b->arena, nq, &a.out));
    SRLM_TRY(srlm_arena_alloc(b->arena, nq, &a.dq));
    SRLM_TRY(srlm_arena_alloc(b->arena, nk, &a.dk));
    SRLM_TRY(srlm_arena_alloc(b->arena, nk, &a.dv));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)T * 14 * 4, &a.lse));
    SRLM_TRY(srlm_arena_alloc(b->arena, (uint64_t)T * 14 * 4, &a.scratch));
    SRLM_TRY(upload_random(b, a.q, nq, 6));
    SRLM_TRY(upload_random(b, a.k, nk, 7));
    SRLM_TRY(upload_random(b, a.v, nk, 8));
    uint64_t pairs = (uint64_t)T * (T + 1) / 2 * 14, flops = pairs * 64 * 4;
    char size[40];
    snprintf(size, sizeof size, "T=%u NH=14/2 HS=64", T);
    SRLM_TRY(srlm_bench_run(b, "attention_fwd", size, 2 * nq + 2 * nk, flops, 1, record_train_fwd, &a, NULL));
    /* backward: the dq pass and the dk/dv pass each recompute the scores (2x forward's work) */
    return srlm_bench_run(b, "attention_bwd", size, 4 * nq + 4 * nk, 2 * flops + pairs * 64 * 4, 1, record_train_bwd, &a, NULL);
}

srlm_status srlm_bench_ops_attn(srlm_bench *b) {
    const uint32_t seqs[2] = {1, 16}, ctxs[2] = {1024, 4096};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) SRLM_TRY(bench_case(b, seqs[i], ctxs[j], false));
    SRLM_TRY(bench_case(b, 1, 512, true));
    return bench_train(b, 512);
}
