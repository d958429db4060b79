/* ops_common.c: sizing helpers shared by the host bindings: pieces under the binding limit,
 * workgroup counts for grid-stride loops. */
#include "ops/ops.h"

uint64_t srlm_ops_piece_elems(const srlm_ctx *ctx, uint64_t elem_bytes) {
    uint64_t align = ctx->caps.min_storage_offset_align < 256 ? 256 : ctx->caps.min_storage_offset_align;
    uint64_t bytes = ctx->caps.max_storage_buffer_range / align * align;
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
