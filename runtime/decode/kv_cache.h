/* kv_cache.h: the paged KV cache: per layer a K pool and a V pool of fixed-size blocks (f16,
 * or f32 with kv_f32; layout in ops/ops.h), a reference-counted block allocator, and per sequence a block table
 * and a length. Sequences are added, freed, forked (the child shares the parent's full
 * blocks; only the last partial block is copied) and extended by k tokens. Not thread-safe;
 * not the attention itself (srlm_op_kv_append / srlm_op_attn_paged). */
#ifndef SRLM_KV_CACHE_H
#define SRLM_KV_CACHE_H

#include "ops/ops.h"

typedef struct srlm_kv_config {
    uint32_t n_layers;
    uint32_t NKV, HS;    /* kv heads, head size (even; attn_paged needs a multiple of 8) */
    uint32_t block_size; /* tokens per block; 0: 16 */
    uint32_t num_blocks; /* blocks in each pool (every layer has the same block ids) */
    uint32_t max_seqs;   /* sequence slots (rows of the block table) */
    uint32_t max_blocks; /* blocks per sequence: the longest context is max_blocks * block_size */
    uint32_t kv_f32;     /* 0: pools of f16 halves; 1: pools of f32 (twice the bytes) */
} srlm_kv_config;

typedef struct srlm_kv_cache {
    srlm_kv_config cfg;
    srlm_ctx *ctx;        /* NULL: bookkeeping only (no device buffers), for host tests */
    /* host state */
    uint32_t *refs;       /* (num_blocks) sequences holding each block */
    uint32_t *free_list;  /* stack of free block ids */
    uint32_t nfree;
    int32_t *table;       /* (max_seqs, max_blocks) block ids, -1 unused */
    uint32_t *len;        /* (max_seqs) tokens cached */
    uint32_t *nblocks;    /* (max_seqs) blocks held */
    uint8_t *active;      /* (max_seqs) */
    /* device state (ctx != NULL) */
    srlm_buf *k, *v;      /* (n_layers) pools, (num_blocks,NKV,BS,HS) halves (or f32) each */
    srlm_buf block_table; /* (max_seqs, max_blocks) int32, written by srlm_kv_upload */
    srlm_buf lens;        /* (max_seqs) int32, written by srlm_kv_upload */
} srlm_kv_cache;

/* Creates the cache; with ctx, allocates the pools and tables from `arena` (which owns them).
 * Errors: SRLM_ERR_INVALID (zero sizes, odd HS, a pool over maxStorageBufferRange: use fewer
 * blocks), SRLM_ERR_OOM, device allocation errors. */
srlm_status srlm_kv_cache_create(srlm_ctx *ctx, srlm_arena *arena, const srlm_kv_config *cfg, srlm_kv_cache **out);
/* Frees the host state (the arena keeps the device buffers). Accepts NULL. */
void srlm_kv_cache_destroy(srlm_kv_cache *kv);

/* Adds an empty sequence; *seq gets its slot. Errors: SRLM_ERR_DEVICE_OOM when all max_seqs
 * slots are in use. */
srlm_status srlm_kv_seq_add(srlm_kv_cache *kv, uint32_t *seq);
/* Frees a sequence: its blocks lose a reference, blocks nobody holds return to the pool.
 * Errors: SRLM_ERR_INVALID for a slot that is not in use. */
srlm_status srlm_kv_seq_free(srlm_kv_cache *kv, uint32_t seq);
/* Forks `parent` into a new sequence *child of the same length: full blocks are shared
 * (reference counted, never written again since appends only go past the end); a last
 * partial block is copied into a fresh block, the copy of every layer's K and V recorded into
 * `c` (submit c before appending to either sequence; c may be NULL without a device).
 * Errors: SRLM_ERR_DEVICE_OOM (no slot or no free block; nothing changes), SRLM_ERR_INVALID. */
srlm_status srlm_kv_seq_fork(srlm_kv_cache *kv, srlm_cmd *c, uint32_t parent, uint32_t *child);
/* Extends `seq` by k tokens: allocates the blocks needed and, for token i of the k, writes its
 * cache slot (block * block_size + row, for srlm_op_kv_append) to slots[i] and its position
 * to pos[i] (either may be NULL). Errors: SRLM_ERR_DEVICE_OOM when the pool has too few free
 * blocks, SRLM_ERR_INVALID past max_blocks; on error nothing changes. */
srlm_status srlm_kv_seq_extend(srlm_kv_cache *kv, uint32_t seq, uint32_t k, int32_t *slots, int32_t *pos);
/* Shortens `seq` to its first len tokens (len <= its length): blocks past them lose this
 * sequence's reference; when the new last block is partial and shared (a fork's prefix), it
 * is first copied into a fresh block (copy of every layer recorded into `c`, as for fork;
 * submit c before appending), since appends will overwrite its rows past len. Errors:
 * SRLM_ERR_INVALID (not in use, len too large, no c with a device), SRLM_ERR_DEVICE_OOM (no
 * free block for the copy); on error nothing changes. */
srlm_status srlm_kv_seq_truncate(srlm_kv_cache *kv, srlm_cmd *c, uint32_t seq, uint32_t len);
/* Tokens cached for a sequence (0 for a free slot). */
uint32_t srlm_kv_seq_len(const srlm_kv_cache *kv, uint32_t seq);
/* Sequences holding block b. */
uint32_t srlm_kv_block_refs(const srlm_kv_cache *kv, uint32_t b);
uint32_t srlm_kv_free_blocks(const srlm_kv_cache *kv);
/* Writes every block table row (-1 past a sequence's blocks, all -1 for free slots) and the
 * lengths into the device buffers (synchronous; call between steps, after add/fork/extend).
 * Errors: device copy failures; SRLM_ERR_INVALID without a device. */
srlm_status srlm_kv_upload(srlm_kv_cache *kv);
/* The attention shapes of this cache for Tq query rows (max_ctx = max_blocks * block_size
 * unless a smaller bound is given). */
srlm_attn_dims srlm_kv_attn_dims(const srlm_kv_cache *kv, uint32_t Tq, uint32_t NH, uint32_t max_ctx);

#endif
