/* kv_cache.c: host bookkeeping of the paged KV cache (block allocator with reference counts,
 * block tables, fork with copy of the last partial block) and its device buffers. The math
 * that reads and writes the pools is in ops_attn.c and the shaders. */
#include "decode/kv_cache.h"

#include <stdlib.h>
#include <string.h>

srlm_status srlm_kv_cache_create(srlm_ctx *ctx, srlm_arena *arena, const srlm_kv_config *cfg, srlm_kv_cache **out) {
    *out = NULL;
    srlm_kv_config c = *cfg;
    if (!c.block_size) c.block_size = 16;
    if (!c.n_layers || !c.NKV || !c.HS || c.HS % 2 || !c.num_blocks || !c.max_seqs || !c.max_blocks)
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache: bad config layers=%u NKV=%u HS=%u (even) blocks=%u seqs=%u max_blocks=%u",
                           c.n_layers, c.NKV, c.HS, c.num_blocks, c.max_seqs, c.max_blocks);
    if ((uint64_t)c.max_blocks * c.block_size > 0x7FFFFFFFull || (uint64_t)c.num_blocks * c.block_size > 0x7FFFFFFFull)
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache: slots do not fit int32");
    uint64_t pool = (uint64_t)c.num_blocks * c.NKV * c.block_size * c.HS * (c.kv_f32 ? 4 : 2);
    if (ctx && pool > ctx->caps.max_storage_buffer_range)
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache: a pool of %u blocks is %llu bytes, over maxStorageBufferRange %llu; use fewer blocks",
                           c.num_blocks, (unsigned long long)pool, (unsigned long long)ctx->caps.max_storage_buffer_range);
    srlm_kv_cache *kv = calloc(1, sizeof *kv);
    if (!kv) return srlm_errorf(SRLM_ERR_OOM, "kv cache: out of memory");
    kv->cfg = c;
    kv->ctx = ctx;
    kv->refs = calloc(c.num_blocks, sizeof *kv->refs);
    kv->free_list = malloc(c.num_blocks * sizeof *kv->free_list);
    kv->table = malloc((size_t)c.max_seqs * c.max_blocks * sizeof *kv->table);
    kv->len = calloc(c.max_seqs, sizeof *kv->len);
    kv->nblocks = calloc(c.max_seqs, sizeof *kv->nblocks);
    kv->active = calloc(c.max_seqs, 1);
    if (ctx) {
        kv->k = calloc(c.n_layers, sizeof *kv->k);
        kv->v = calloc(c.n_layers, sizeof *kv->v);
    }
    if (!kv->refs || !kv->free_list || !kv->table || !kv->len || !kv->nblocks || !kv->active || (ctx && (!kv->k || !kv->v))) {
        srlm_kv_cache_destroy(kv);
        return srlm_errorf(SRLM_ERR_OOM, "kv cache: out of memory");
    }
    /* stack: block 0 is handed out first */
    for (uint32_t i = 0; i < c.num_blocks; i++) kv->free_list[i] = c.num_blocks - 1 - i;
    kv->nfree = c.num_blocks;
    for (size_t i = 0; i < (size_t)c.max_seqs * c.max_blocks; i++) kv->table[i] = -1;
    if (ctx) {
        srlm_status st = NULL;
        for (uint32_t l = 0; !st && l < c.n_layers; l++) {
            st = srlm_arena_alloc(arena, pool, &kv->k[l]);
            if (!st) st = srlm_arena_alloc(arena, pool, &kv->v[l]);
        }
        if (!st) st = srlm_arena_alloc(arena, (uint64_t)c.max_seqs * c.max_blocks * 4, &kv->block_table);
        if (!st) st = srlm_arena_alloc(arena, (uint64_t)c.max_seqs * 4, &kv->lens);
        if (!st) st = srlm_kv_upload(kv);
        if (st) {
            srlm_kv_cache_destroy(kv);
            return srlm_status_wrap(st, "kv cache: ");
        }
    }
    *out = kv;
    return NULL;
}

void srlm_kv_cache_destroy(srlm_kv_cache *kv) {
    if (!kv) return;
    free(kv->refs);
    free(kv->free_list);
    free(kv->table);
    free(kv->len);
    free(kv->nblocks);
    free(kv->active);
    free(kv->k);
    free(kv->v);
    free(kv);
}

static srlm_status check_seq(const srlm_kv_cache *kv, uint32_t seq, const char *what) {
    if (seq >= kv->cfg.max_seqs || !kv->active[seq])
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache %s: sequence %u is not in use", what, seq);
    return NULL;
}

static srlm_status new_slot(srlm_kv_cache *kv, uint32_t *seq) {
    for (uint32_t s = 0; s < kv->cfg.max_seqs; s++)
        if (!kv->active[s]) {
            kv->active[s] = 1;
            kv->len[s] = kv->nblocks[s] = 0;
            *seq = s;
            return NULL;
        }
    return srlm_errorf(SRLM_ERR_DEVICE_OOM, "kv cache: all %u sequence slots are in use", kv->cfg.max_seqs);
}

static void unref(srlm_kv_cache *kv, int32_t b) {
    if (b < 0) return;
    if (--kv->refs[b] == 0) kv->free_list[kv->nfree++] = (uint32_t)b;
}

static int32_t take_block(srlm_kv_cache *kv) {
    if (!kv->nfree) return -1;
    int32_t b = (int32_t)kv->free_list[--kv->nfree];
    kv->refs[b] = 1;
    return b;
}

srlm_status srlm_kv_seq_add(srlm_kv_cache *kv, uint32_t *seq) { return new_slot(kv, seq); }

srlm_status srlm_kv_seq_free(srlm_kv_cache *kv, uint32_t seq) {
    SRLM_TRY(check_seq(kv, seq, "free"));
    int32_t *row = kv->table + (size_t)seq * kv->cfg.max_blocks;
    for (uint32_t i = 0; i < kv->nblocks[seq]; i++) {
        unref(kv, row[i]);
        row[i] = -1;
    }
    kv->active[seq] = 0;
    kv->len[seq] = kv->nblocks[seq] = 0;
    return NULL;
}

srlm_status srlm_kv_seq_fork(srlm_kv_cache *kv, srlm_cmd *c, uint32_t parent, uint32_t *child) {
    SRLM_TRY(check_seq(kv, parent, "fork"));
    uint32_t BS = kv->cfg.block_size, len = kv->len[parent], nb = kv->nblocks[parent];
    bool partial = len % BS != 0;
    if (partial && kv->ctx && !c) return srlm_errorf(SRLM_ERR_INVALID, "kv cache fork: a command buffer is needed to copy the last block");
    if (partial && !kv->nfree)
        return srlm_errorf(SRLM_ERR_DEVICE_OOM, "kv cache fork of sequence %u: no free block for the copy of its last %u tokens (%u blocks in use)",
                           parent, len % BS, kv->cfg.num_blocks);
    uint32_t s = 0;
    SRLM_TRY(new_slot(kv, &s));
    const int32_t *prow = kv->table + (size_t)parent * kv->cfg.max_blocks;
    int32_t *crow = kv->table + (size_t)s * kv->cfg.max_blocks;
    uint32_t shared = partial ? nb - 1 : nb;
    for (uint32_t i = 0; i < shared; i++) {
        crow[i] = prow[i];
        kv->refs[prow[i]]++;
    }
    if (partial) {
        int32_t b = take_block(kv);
        crow[nb - 1] = b;
        if (kv->ctx) {
            uint64_t bytes = (uint64_t)kv->cfg.NKV * BS * kv->cfg.HS * (kv->cfg.kv_f32 ? 4 : 2);
            srlm_status st = NULL;
            for (uint32_t l = 0; !st && l < kv->cfg.n_layers; l++) {
                st = srlm_cmd_copy(c, srlm_buf_slice(kv->k[l], (uint64_t)b * bytes, bytes),
                                   srlm_buf_slice(kv->k[l], (uint64_t)prow[nb - 1] * bytes, bytes), bytes);
                if (!st)
                    st = srlm_cmd_copy(c, srlm_buf_slice(kv->v[l], (uint64_t)b * bytes, bytes),
                                       srlm_buf_slice(kv->v[l], (uint64_t)prow[nb - 1] * bytes, bytes), bytes);
            }
            if (st) {
                kv->len[s] = len, kv->nblocks[s] = nb;
                srlm_kv_seq_free(kv, s);
                return srlm_status_wrap(st, "kv cache fork: ");
            }
        }
    }
    kv->len[s] = len;
    kv->nblocks[s] = nb;
    *child = s;
    return NULL;
}

srlm_status srlm_kv_seq_extend(srlm_kv_cache *kv, uint32_t seq, uint32_t k, int32_t *slots, int32_t *pos) {
    SRLM_TRY(check_seq(kv, seq, "extend"));
    uint32_t BS = kv->cfg.block_size, len = kv->len[seq], nb = kv->nblocks[seq];
    uint64_t new_len = (uint64_t)len + k;
    uint64_t need_blocks = (new_len + BS - 1) / BS;
    if (need_blocks > kv->cfg.max_blocks)
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache: sequence %u would hold %llu tokens, over its maximum %llu", seq,
                           (unsigned long long)new_len, (unsigned long long)kv->cfg.max_blocks * BS);
    int32_t *row = kv->table + (size_t)seq * kv->cfg.max_blocks;
    /* Appends only write past the end, so the written block must be this sequence's own. */
    if (k && len % BS && kv->refs[row[nb - 1]] != 1)
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache: sequence %u's partial last block is shared", seq);
    uint32_t extra = (uint32_t)(need_blocks - nb);
    if (extra > kv->nfree)
        return srlm_errorf(SRLM_ERR_DEVICE_OOM, "kv cache full: sequence %u needs %u more blocks for %u tokens, %u of %u are free", seq,
                           extra, k, kv->nfree, kv->cfg.num_blocks);
    for (uint32_t i = 0; i < extra; i++) row[nb + i] = take_block(kv);
    for (uint32_t i = 0; i < k; i++) {
        uint32_t p = len + i;
        if (slots) slots[i] = row[p / BS] * (int32_t)BS + (int32_t)(p % BS);
        if (pos) pos[i] = (int32_t)p;
    }
    kv->nblocks[seq] = (uint32_t)need_blocks;
    kv->len[seq] = (uint32_t)new_len;
    return NULL;
}

srlm_status srlm_kv_seq_truncate(srlm_kv_cache *kv, srlm_cmd *c, uint32_t seq, uint32_t len) {
    SRLM_TRY(check_seq(kv, seq, "truncate"));
    uint32_t BS = kv->cfg.block_size, nb = kv->nblocks[seq], keep = (len + BS - 1) / BS;
    if (len > kv->len[seq])
        return srlm_errorf(SRLM_ERR_INVALID, "kv cache truncate: sequence %u holds %u tokens, cannot keep %u", seq, kv->len[seq], len);
    int32_t *row = kv->table + (size_t)seq * kv->cfg.max_blocks;
    bool cow = len % BS != 0 && kv->refs[row[keep - 1]] > 1;
    if (cow && kv->ctx && !c) return srlm_errorf(SRLM_ERR_INVALID, "kv cache truncate: a command buffer is needed to copy the last block");
    if (cow && !kv->nfree)
        return srlm_errorf(SRLM_ERR_DEVICE_OOM, "kv cache truncate of sequence %u: no free block for the copy of its shared last block", seq);
    if (cow) {
        int32_t old = row[keep - 1], b = take_block(kv);
        if (kv->ctx) {
            uint64_t bytes = (uint64_t)kv->cfg.NKV * BS * kv->cfg.HS * (kv->cfg.kv_f32 ? 4 : 2);
            srlm_status st = NULL;
            for (uint32_t l = 0; !st && l < kv->cfg.n_layers; l++) {
                st = srlm_cmd_copy(c, srlm_buf_slice(kv->k[l], (uint64_t)b * bytes, bytes), srlm_buf_slice(kv->k[l], (uint64_t)old * bytes, bytes), bytes);
                if (!st)
                    st = srlm_cmd_copy(c, srlm_buf_slice(kv->v[l], (uint64_t)b * bytes, bytes), srlm_buf_slice(kv->v[l], (uint64_t)old * bytes, bytes), bytes);
            }
            if (st) {
                unref(kv, b);
                return srlm_status_wrap(st, "kv cache truncate: ");
            }
        }
        row[keep - 1] = b;
        unref(kv, old);
    }
    for (uint32_t i = keep; i < nb; i++) {
        unref(kv, row[i]);
        row[i] = -1;
    }
    kv->nblocks[seq] = keep;
    kv->len[seq] = len;
    return NULL;
}

uint32_t srlm_kv_seq_len(const srlm_kv_cache *kv, uint32_t seq) {
    return seq < kv->cfg.max_seqs && kv->active[seq] ? kv->len[seq] : 0;
}

uint32_t srlm_kv_block_refs(const srlm_kv_cache *kv, uint32_t b) { return b < kv->cfg.num_blocks ? kv->refs[b] : 0; }

uint32_t srlm_kv_free_blocks(const srlm_kv_cache *kv) { return kv->nfree; }

srlm_status srlm_kv_upload(srlm_kv_cache *kv) {
    if (!kv->ctx) return srlm_errorf(SRLM_ERR_INVALID, "kv cache upload: no device");
    SRLM_TRY(srlm_buf_write(kv->ctx, kv->block_table, 0, kv->table, (uint64_t)kv->cfg.max_seqs * kv->cfg.max_blocks * 4));
    int32_t *l = malloc(kv->cfg.max_seqs * sizeof *l);
    if (!l) return srlm_errorf(SRLM_ERR_OOM, "kv cache upload: out of memory");
    for (uint32_t s = 0; s < kv->cfg.max_seqs; s++) l[s] = kv->active[s] ? (int32_t)kv->len[s] : 0;
    srlm_status st = srlm_buf_write(kv->ctx, kv->lens, 0, l, (uint64_t)kv->cfg.max_seqs * 4);
    free(l);
    return st;
}

srlm_attn_dims srlm_kv_attn_dims(const srlm_kv_cache *kv, uint32_t Tq, uint32_t NH, uint32_t max_ctx) {
    uint32_t most = kv->cfg.max_blocks * kv->cfg.block_size;
    return (srlm_attn_dims){.Tq = Tq, .NH = NH, .NKV = kv->cfg.NKV, .HS = kv->cfg.HS, .BS = kv->cfg.block_size,
                            .num_blocks = kv->cfg.num_blocks, .num_seqs = kv->cfg.max_seqs, .max_blocks = kv->cfg.max_blocks,
                            .max_ctx = max_ctx && max_ctx < most ? max_ctx : most, .kv_f32 = kv->cfg.kv_f32 ? 1u : 0u};
}
