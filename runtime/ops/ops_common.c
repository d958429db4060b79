/* ops_common.c: sizing helpers shared by the host bindings: the binding limit (device range,
 * optionally lowered by SRLM_MAX_BINDING_BYTES to exercise tiling on small inputs), pieces
 * and aligned windows under it, workgroup counts for grid-stride loops. */
#include "ops/ops.h"

#include <stdlib.h>

uint64_t srlm_ops_align(const srlm_ctx *ctx) {
    return ctx->caps.min_storage_offset_align < 256 ? 256 : ctx->caps.min_storage_offset_align;
}

uint64_t srlm_ops_binding_limit(const srlm_ctx *ctx) {
    uint64_t lim = ctx->caps.max_storage_buffer_range;
    /* Tests lower the limit to run the tiled paths on small tensors (bytes, or with a K/M/G
     * suffix); it can never raise it, and is kept at a few alignment units so every op still
     * has room for one row. */
    const char *e = getenv("SRLM_MAX_BINDING_BYTES");
    if (e && *e) {
        char *end;
        unsigned long long v = strtoull(e, &end, 10);
        if (*end == 'K' || *end == 'k') v <<= 10, end++;
        else if (*end == 'M' || *end == 'm') v <<= 20, end++;
        else if (*end == 'G' || *end == 'g') v <<= 30, end++;
        uint64_t floor = 4 * srlm_ops_align(ctx);
        if (*end == 0 && v > 0) {
            if (v < floor) v = floor;
            if (v < lim) lim = v;
        }
    }
    return lim;
}

uint64_t srlm_ops_piece_elems(const srlm_ctx *ctx, uint64_t elem_bytes) {
    uint64_t align = srlm_ops_align(ctx);
    uint64_t bytes = srlm_ops_binding_limit(ctx) / align * align;
    uint64_t n = bytes / elem_bytes;
    /* keep each piece's byte size a multiple of the alignment */
    uint64_t step = align % elem_bytes == 0 ? align / elem_bytes : align;
    n = n / step * step;
    if (n > 0xFFFFFFFFull) n = 0xFFFFFFFFull / step * step; /* counts are uint in the shaders */
    return n;
}

uint32_t srlm_ops_groups(const srlm_ctx *ctx, uint64_t n, uint64_t per_group) {
    uint64_t g = (n + per_group - 1) / per_group;
    uint64_t cap = ctx->caps.max_wg_count[0] < 65535 ? ctx->caps.max_wg_count[0] : 65535;
    if (g > cap) g = cap;
    return g ? (uint32_t)g : 1;
}

srlm_buf srlm_ops_window(const srlm_ctx *ctx, srlm_buf b, uint64_t elem_bytes, uint64_t first, uint64_t count,
                         uint32_t *base) {
    uint64_t align = srlm_ops_align(ctx);
    uint64_t lo = (b.offset + first * elem_bytes) / align * align;
    uint64_t hi = b.offset + (first + count) * elem_bytes;
    hi = (hi + 3) / 4 * 4;
    if (hi > b.offset + b.size) hi = b.offset + b.size;
    srlm_buf w = b;
    w.offset = lo;
    w.size = hi > lo ? hi - lo : 0;
    if (w.map) w.map = b.map - b.offset + lo;
    *base = (uint32_t)((b.offset + first * elem_bytes - lo) / elem_bytes);
    return w;
}

uint64_t srlm_ops_rows_per_window(const srlm_ctx *ctx, uint64_t row_bytes) {
    uint64_t lim = srlm_ops_binding_limit(ctx);
    uint64_t room = 2 * srlm_ops_align(ctx) + 4;
    if (lim <= room || row_bytes == 0) return 0;
    return (lim - room) / row_bytes;
}

uint32_t srlm_ops_row_wg(const srlm_ctx *ctx) {
    uint32_t sg = ctx->caps.subgroup_size ? ctx->caps.subgroup_size : 32;
    /* A CPU device runs a workgroup on one thread, vectorised over one subgroup: more
     * invocations only add barrier switches (platform.md). GPUs want a few warps per row. */
    uint32_t wg = ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? sg : 256;
    /* SRLM_ROW_WG forces a size (a multiple of the subgroup size), so tests run the
     * several-subgroups reduction path on a CPU device too. */
    const char *e = getenv("SRLM_ROW_WG");
    if (e && *e) {
        unsigned long v = strtoul(e, NULL, 10);
        if (v >= sg && v % sg == 0) wg = (uint32_t)v;
    }
    if (wg > ctx->caps.max_wg_invocations) wg = ctx->caps.max_wg_invocations;
    if (wg > 64 * sg) wg = 64 * sg; /* the shaders' shared array holds 64 subgroup sums */
    return wg;
}

srlm_status srlm_ops_eltwise(srlm_cmd *c, int op, const char *what, const srlm_buf *bufs, int nb, uint64_t n, float s) {
    for (int i = 0; i < nb; i++)
        if (n * 4 > bufs[i].size)
            return srlm_errorf(SRLM_ERR_INVALID, "%s: binding %d holds %llu bytes, %llu floats need %llu", what, i,
                               (unsigned long long)bufs[i].size, (unsigned long long)n, (unsigned long long)(n * 4));
    const srlm_op_desc *d = &srlm_op_table[op];
    uint64_t piece = srlm_ops_piece_elems(c->ctx, 4);
    for (uint64_t off = 0; off < n; off += piece) {
        uint64_t k = n - off < piece ? n - off : piece;
        srlm_buf b[SRLM_MAX_BINDINGS];
        for (int i = 0; i < nb; i++) b[i] = srlm_buf_slice(bufs[i], off * 4, k * 4);
        srlm_push_eltwise p = {.n = (uint32_t)k, .s = s};
        SRLM_TRY(srlm_cmd_dispatch(c, op, NULL, b, nb, &p, sizeof p, srlm_ops_groups(c->ctx, k, d->spec[0] * 16ull), 1, 1));
    }
    return NULL;
}
