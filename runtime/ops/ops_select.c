/* ops_select.c: host binding of logit_topk.comp: per logit row the k best ids of x * invt
 * (ties to the lower id) and the row's log-sum-exp and entropy, so a sampler reads back
 * O(k) numbers per row instead of the whole vocabulary. Not the sampling itself
 * (decode/sampler.c). CPU reference: srlm_ref_topk / srlm_ref_argmax (ref_select.c). */
#include "ops/ops.h"

#include <string.h>

uint32_t srlm_logit_topk_part_len(const srlm_ctx *ctx, uint32_t V) {
    /* One invocation scans a part: long parts on CPU devices (few threads, no per-part
     * merge cost), short ones on GPUs so even one row spreads over many invocations. */
    uint32_t len = ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 2048 : 256;
    return V < len ? (V ? V : 1) : len;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

uint64_t srlm_logit_topk_scratch_bytes(const srlm_ctx *ctx, uint32_t rows, uint32_t V, uint32_t k) {
    uint64_t parts = (uint64_t)rows * ((V + srlm_logit_topk_part_len(ctx, V) - 1) / srlm_logit_topk_part_len(ctx, V));
    uint64_t a = srlm_ops_align(ctx);
    return 2 * align_up(parts * k * 4, a) + align_up(parts * 16, a);
}

srlm_status srlm_op_logit_topk(srlm_cmd *c, srlm_buf out_ids, srlm_buf out_x, srlm_buf out_stats, srlm_buf scratch,
                               srlm_buf logits, srlm_buf invt, uint32_t rows, uint32_t V, uint32_t k) {
    const srlm_ctx *ctx = c->ctx;
    if (!V || !k || k > SRLM_LOGIT_TOPK_MAX || k > V)
        return srlm_errorf(SRLM_ERR_INVALID, "logit_topk: k = %u for a vocabulary of %u (1 <= k <= min(V, %d))", k, V,
                           SRLM_LOGIT_TOPK_MAX);
    if (!rows) return NULL;
    uint64_t xbytes = (uint64_t)rows * V * 4;
    if (xbytes > ctx->caps.max_storage_buffer_range || (uint64_t)rows * V > 0xFFFFFFFFull)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "logit_topk: %u rows of %u logits (%llu bytes) exceed one binding (%llu)", rows, V,
                           (unsigned long long)xbytes, (unsigned long long)ctx->caps.max_storage_buffer_range);
    uint32_t part_len = srlm_logit_topk_part_len(ctx, V), nparts = (V + part_len - 1) / part_len;
    uint64_t parts = (uint64_t)rows * nparts, a = srlm_ops_align(ctx);
    uint64_t lb = align_up(parts * k * 4, a), sb = align_up(parts * 16, a);
    const char *what = NULL;
    uint64_t need = 0, have = 0;
    if (logits.size < xbytes) what = "logits", need = xbytes, have = logits.size;
    else if (invt.size < (uint64_t)rows * 4) what = "invt", need = (uint64_t)rows * 4, have = invt.size;
    else if (scratch.size < 2 * lb + sb) what = "scratch", need = 2 * lb + sb, have = scratch.size;
    else if (out_ids.size < (uint64_t)rows * k * 4) what = "out_ids", need = (uint64_t)rows * k * 4, have = out_ids.size;
    else if (out_x.size < (uint64_t)rows * k * 4) what = "out_x", need = (uint64_t)rows * k * 4, have = out_x.size;
    else if (out_stats.size < (uint64_t)rows * 8) what = "out_stats", need = (uint64_t)rows * 8, have = out_stats.size;
    if (what)
        return srlm_errorf(SRLM_ERR_INVALID, "logit_topk: %s needs %llu bytes, the buffer has %llu", what,
                           (unsigned long long)need, (unsigned long long)have);
    srlm_buf pid = srlm_buf_slice(scratch, 0, parts * k * 4), pval = srlm_buf_slice(scratch, lb, parts * k * 4);
    srlm_buf pst = srlm_buf_slice(scratch, 2 * lb, parts * 16);
    srlm_push_logit_topk p = {.rows = rows, .V = V, .nparts = nparts, .part_len = part_len, .k = k};
    srlm_buf b[8] = {srlm_buf_slice(logits, 0, xbytes), invt, pid, pval, pst, out_ids, out_x, out_stats};
    uint32_t spec[2] = {srlm_op_table[SRLM_OP_LOGIT_TOPK_PARTIAL].spec[0], k};
    SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_LOGIT_TOPK_PARTIAL, spec, b, 5, &p, sizeof p, srlm_ops_groups(ctx, parts, spec[0]), 1, 1));
    spec[0] = srlm_op_table[SRLM_OP_LOGIT_TOPK_MERGE].spec[0];
    return srlm_cmd_dispatch(c, SRLM_OP_LOGIT_TOPK_MERGE, spec, b, 8, &p, sizeof p, srlm_ops_groups(ctx, rows, spec[0]), 1, 1);
}
