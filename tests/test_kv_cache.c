/* test_kv_cache.c: the paged KV cache's host bookkeeping without a device: slot mapping,
 * fork sharing full blocks (reference counts) and copying the partial one, freeing the parent
 * keeping the child's blocks, exhaustion of blocks and sequence slots returning errors that
 * change nothing, truncation (releasing tail blocks, copying a shared partial last block),
 * and the block accounting staying consistent through a random workload. */
#include "test.h"
#include "decode/kv_cache.h"

static srlm_kv_cache *make(uint32_t blocks, uint32_t seqs, uint32_t max_blocks) {
    srlm_kv_config c = {.n_layers = 2, .NKV = 2, .HS = 8, .block_size = 16, .num_blocks = blocks, .max_seqs = seqs,
                        .max_blocks = max_blocks};
    srlm_kv_cache *kv = NULL;
    CHECK_OK(srlm_kv_cache_create(NULL, NULL, &c, &kv));
    return kv;
}

/* Sum of reference counts equals the blocks held by all sequences; free + used = total. */
static void check_accounting(const srlm_kv_cache *kv, const char *when) {
    uint64_t refs = 0, held = 0, used = 0;
    for (uint32_t b = 0; b < kv->cfg.num_blocks; b++) refs += kv->refs[b], used += kv->refs[b] > 0;
    for (uint32_t s = 0; s < kv->cfg.max_seqs; s++)
        if (kv->active[s]) {
            held += kv->nblocks[s];
            CHECK(kv->nblocks[s] == (kv->len[s] + 15) / 16, "%s: seq %u holds %u blocks for %u tokens", when, s, kv->nblocks[s], kv->len[s]);
        }
    CHECK(refs == held, "%s: %llu references, %llu blocks held", when, (unsigned long long)refs, (unsigned long long)held);
    CHECK(used + kv->nfree == kv->cfg.num_blocks, "%s: %llu used + %u free != %u", when, (unsigned long long)used, kv->nfree,
          kv->cfg.num_blocks);
}

static void test_extend_slots(void) {
    srlm_kv_cache *kv = make(8, 4, 4);
    uint32_t a, b;
    CHECK_OK(srlm_kv_seq_add(kv, &a));
    CHECK_OK(srlm_kv_seq_add(kv, &b));
    int32_t slots[40], pos[40];
    CHECK_OK(srlm_kv_seq_extend(kv, a, 5, slots, pos));
    CHECK(slots[0] == 0 && slots[4] == 4 && pos[4] == 4, "first slots %d %d pos %d", slots[0], slots[4], pos[4]);
    CHECK_OK(srlm_kv_seq_extend(kv, b, 3, slots, pos));
    CHECK(slots[0] == 16 && pos[0] == 0, "second sequence starts in block 1: slot %d", slots[0]);
    CHECK_OK(srlm_kv_seq_extend(kv, a, 20, slots, pos)); /* 5..24: rest of block 0 then block 2 */
    CHECK(slots[10] == 15 && slots[11] == 32 && pos[11] == 16 && pos[19] == 24, "extend across a block: %d %d %d", slots[10],
          slots[11], pos[11]);
    CHECK(srlm_kv_seq_len(kv, a) == 25 && srlm_kv_seq_len(kv, b) == 3, "lengths %u %u", srlm_kv_seq_len(kv, a),
          srlm_kv_seq_len(kv, b));
    CHECK(kv->table[a * 4 + 0] == 0 && kv->table[a * 4 + 1] == 2 && kv->table[a * 4 + 2] == -1, "block table of a");
    CHECK_OK(srlm_kv_seq_extend(kv, a, 0, NULL, NULL));
    /* past max_blocks (4 x 16 = 64 tokens) */
    CHECK_ERR(srlm_kv_seq_extend(kv, a, 40, slots, pos), SRLM_ERR_INVALID, "maximum");
    CHECK(srlm_kv_seq_len(kv, a) == 25, "failed extend changed the length");
    check_accounting(kv, "extend");
    srlm_kv_cache_destroy(kv);
    printf("  extend: slot mapping across blocks ok\n");
}

static void test_fork(void) {
    srlm_kv_cache *kv = make(16, 4, 8);
    uint32_t p, c;
    int32_t slots[64];
    CHECK_OK(srlm_kv_seq_add(kv, &p));
    CHECK_OK(srlm_kv_seq_extend(kv, p, 37, slots, NULL)); /* blocks 0,1 full, 2 partial (5 tokens) */
    CHECK_OK(srlm_kv_seq_fork(kv, NULL, p, &c));
    const int32_t *pr = kv->table + p * 8, *cr = kv->table + c * 8;
    CHECK(srlm_kv_seq_len(kv, c) == 37, "child length %u", srlm_kv_seq_len(kv, c));
    CHECK(cr[0] == pr[0] && cr[1] == pr[1], "full blocks shared");
    CHECK(cr[2] != pr[2] && cr[2] >= 0, "partial block copied into a new block (%d vs %d)", cr[2], pr[2]);
    CHECK(srlm_kv_block_refs(kv, (uint32_t)pr[0]) == 2 && srlm_kv_block_refs(kv, (uint32_t)pr[1]) == 2,
          "shared blocks have 2 references");
    CHECK(srlm_kv_block_refs(kv, (uint32_t)pr[2]) == 1 && srlm_kv_block_refs(kv, (uint32_t)cr[2]) == 1, "partial blocks own");
    CHECK(srlm_kv_free_blocks(kv) == 12, "free after fork: %u", srlm_kv_free_blocks(kv));
    check_accounting(kv, "fork");
    /* divergent appends go to each sequence's own blocks */
    int32_t ps[20], cs[20];
    CHECK_OK(srlm_kv_seq_extend(kv, p, 12, ps, NULL));
    CHECK_OK(srlm_kv_seq_extend(kv, c, 12, cs, NULL));
    for (int i = 0; i < 12; i++) CHECK(ps[i] != cs[i], "token %d: parent and child write the same slot %d", i, ps[i]);
    CHECK(ps[0] / 16 == pr[2] && cs[0] / 16 == cr[2], "appends continue the partial blocks");
    /* freeing the parent keeps the child's blocks */
    int32_t shared0 = pr[0], shared1 = pr[1];
    CHECK_OK(srlm_kv_seq_free(kv, p));
    CHECK(srlm_kv_block_refs(kv, (uint32_t)shared0) == 1 && srlm_kv_block_refs(kv, (uint32_t)shared1) == 1,
          "after freeing the parent the child holds the shared blocks alone");
    CHECK(cr[0] == shared0 && cr[1] == shared1 && srlm_kv_seq_len(kv, c) == 49, "child intact");
    check_accounting(kv, "free parent");
    /* a block-aligned fork copies nothing */
    uint32_t g;
    CHECK_OK(srlm_kv_seq_extend(kv, c, 15, NULL, NULL)); /* 64 tokens: 4 full blocks */
    uint32_t before = srlm_kv_free_blocks(kv);
    CHECK_OK(srlm_kv_seq_fork(kv, NULL, c, &g));
    CHECK(srlm_kv_free_blocks(kv) == before, "aligned fork allocated %u blocks", before - srlm_kv_free_blocks(kv));
    CHECK_OK(srlm_kv_seq_extend(kv, g, 1, slots, NULL));
    CHECK(slots[0] / 16 != kv->table[c * 8 + 3], "first append after an aligned fork goes to a fresh block");
    CHECK(g == p, "the freed slot is reused");
    CHECK_ERR(srlm_kv_seq_free(kv, 3), SRLM_ERR_INVALID, "not in use");
    CHECK_ERR(srlm_kv_seq_free(kv, 99), SRLM_ERR_INVALID, "not in use");
    check_accounting(kv, "aligned fork");
    srlm_kv_cache_destroy(kv);
    printf("  fork: shared full blocks, copied partial block, parent free keeps child ok\n");
}

static void test_exhaustion(void) {
    srlm_kv_cache *kv = make(4, 3, 8);
    uint32_t a, b, c, d;
    CHECK_OK(srlm_kv_seq_add(kv, &a));
    CHECK_OK(srlm_kv_seq_extend(kv, a, 50, NULL, NULL)); /* 4 blocks: the pool is full */
    CHECK(srlm_kv_free_blocks(kv) == 0, "pool full");
    CHECK_OK(srlm_kv_seq_add(kv, &b));
    CHECK_ERR(srlm_kv_seq_extend(kv, b, 1, NULL, NULL), SRLM_ERR_DEVICE_OOM, "kv cache full");
    CHECK(srlm_kv_seq_len(kv, b) == 0, "failed extend left tokens");
    CHECK_ERR(srlm_kv_seq_fork(kv, NULL, a, &c), SRLM_ERR_DEVICE_OOM, "no free block");
    CHECK_OK(srlm_kv_seq_add(kv, &c));
    CHECK_ERR(srlm_kv_seq_add(kv, &d), SRLM_ERR_DEVICE_OOM, "sequence slots");
    check_accounting(kv, "exhausted");
    CHECK_OK(srlm_kv_seq_free(kv, a));
    CHECK(srlm_kv_free_blocks(kv) == 4, "blocks back after free: %u", srlm_kv_free_blocks(kv));
    CHECK_OK(srlm_kv_seq_extend(kv, b, 64, NULL, NULL));
    srlm_kv_cache_destroy(kv);
    srlm_kv_config bad = {.n_layers = 1, .NKV = 2, .HS = 7, .num_blocks = 4, .max_seqs = 1, .max_blocks = 1};
    srlm_kv_cache *none = NULL;
    CHECK_ERR(srlm_kv_cache_create(NULL, NULL, &bad, &none), SRLM_ERR_INVALID, "HS");
    CHECK(none == NULL, "no cache on error");
    printf("  exhaustion: errors, nothing changed ok\n");
}

/* Random add/extend/fork/free; accounting must hold after every step and all blocks return. */
static void test_random(void) {
    srlm_kv_cache *kv = make(64, 8, 16);
    unsigned long long seed = 42;
    for (int step = 0; step < 3000; step++) {
        uint32_t s = (uint32_t)(test_rand_u64(&seed) % 8), x;
        int op = (int)(test_rand_u64(&seed) % 4);
        srlm_status st = NULL;
        if (op == 0) st = srlm_kv_seq_add(kv, &x);
        else if (!kv->active[s]) continue;
        else if (op == 1) st = srlm_kv_seq_extend(kv, s, (uint32_t)(test_rand_u64(&seed) % 40), NULL, NULL);
        else if (op == 2) st = srlm_kv_seq_fork(kv, NULL, s, &x);
        else st = srlm_kv_seq_free(kv, s);
        if (st) {
            CHECK(srlm_status_code(st) == SRLM_ERR_DEVICE_OOM || srlm_status_code(st) == SRLM_ERR_INVALID, "step %d: %s", step,
                  srlm_status_msg(st));
            srlm_status_free(st);
        }
        if (step % 100 == 0) check_accounting(kv, "random");
    }
    check_accounting(kv, "random end");
    for (uint32_t s = 0; s < 8; s++)
        if (kv->active[s]) CHECK_OK(srlm_kv_seq_free(kv, s));
    CHECK(srlm_kv_free_blocks(kv) == 64, "all blocks returned: %u", srlm_kv_free_blocks(kv));
    srlm_kv_cache_destroy(kv);
    printf("  random workload: accounting consistent ok\n");
}

/* Truncate: tail blocks released; a partial last block shared with a fork is replaced by a
 * private copy (appends would overwrite its rows); errors change nothing. */
static void test_truncate(void) {
    srlm_kv_cache *kv = make(8, 4, 8);
    uint32_t a, b;
    CHECK_OK(srlm_kv_seq_add(kv, &a));
    CHECK_OK(srlm_kv_seq_extend(kv, a, 48, NULL, NULL)); /* 3 full blocks */
    CHECK_OK(srlm_kv_seq_fork(kv, NULL, a, &b));         /* shares all 3 */
    const int32_t *ra = kv->table + (size_t)a * 8, *rb = kv->table + (size_t)b * 8;
    int32_t shared1 = ra[1];
    CHECK(rb[1] == shared1 && srlm_kv_block_refs(kv, (uint32_t)shared1) == 2, "fork shares block 1");
    CHECK_ERR(srlm_kv_seq_truncate(kv, NULL, b, 49), SRLM_ERR_INVALID, "cannot keep 49");
    CHECK_OK(srlm_kv_seq_truncate(kv, NULL, b, 20)); /* keeps block 0 (shared, full) + 4 rows of block 1 */
    CHECK(srlm_kv_seq_len(kv, b) == 20 && kv->nblocks[b] == 2, "b: 20 tokens in 2 blocks (%u, %u)", srlm_kv_seq_len(kv, b),
          kv->nblocks[b]);
    CHECK(rb[0] == ra[0] && rb[1] != shared1 && rb[2] == -1, "b keeps block 0 shared, copies block 1, drops block 2");
    CHECK(srlm_kv_block_refs(kv, (uint32_t)shared1) == 1 && srlm_kv_block_refs(kv, (uint32_t)ra[2]) == 1, "a owns blocks 1 and 2 alone");
    check_accounting(kv, "truncate cow");
    int32_t slot;
    CHECK_OK(srlm_kv_seq_extend(kv, b, 1, &slot, NULL));
    CHECK(slot == rb[1] * 16 + 4, "b appends into its own copy (slot %d)", slot);
    CHECK_OK(srlm_kv_seq_truncate(kv, NULL, a, 32)); /* full blocks: nothing to copy */
    CHECK(kv->nblocks[a] == 2 && srlm_kv_seq_len(kv, a) == 32, "a: 32 tokens in 2 blocks");
    CHECK_OK(srlm_kv_seq_truncate(kv, NULL, a, 0));
    CHECK(kv->nblocks[a] == 0 && srlm_kv_seq_len(kv, a) == 0, "a empty");
    check_accounting(kv, "truncate to 0");
    /* no free block for a needed copy: an error that changes nothing */
    CHECK_OK(srlm_kv_seq_extend(kv, a, 16, NULL, NULL));
    uint32_t c;
    CHECK_OK(srlm_kv_seq_fork(kv, NULL, a, &c));
    uint32_t d;
    CHECK_OK(srlm_kv_seq_add(kv, &d));
    CHECK_OK(srlm_kv_seq_extend(kv, d, 16 * srlm_kv_free_blocks(kv), NULL, NULL)); /* use up the pool */
    CHECK_ERR(srlm_kv_seq_truncate(kv, NULL, c, 5), SRLM_ERR_DEVICE_OOM, "no free block");
    CHECK(srlm_kv_seq_len(kv, c) == 16, "failed truncate left c unchanged");
    check_accounting(kv, "truncate oom");
    srlm_kv_cache_destroy(kv);
    printf("  truncate: tail released, shared partial block copied, errors change nothing ok\n");
}

int main(void) {
    test_extend_slots();
    test_truncate();
    test_fork();
    test_exhaustion();
    test_random();
    return test_finish("kv_cache");
}
