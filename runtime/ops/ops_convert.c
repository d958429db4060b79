/* ops_convert.c: host bindings of shaders/convert.comp: f32 <-> f16 / bf16 with 16-bit values
 * packed two per uint word. Pieces keep both sides aligned: a piece is a whole number of
 * words and both its f32 and its 16-bit byte offsets are multiples of the alignment. */
#include "ops/ops.h"

/* to16: x is f32 (n), y holds 16-bit values; otherwise the reverse. */
static srlm_status convert(srlm_cmd *c, int op, const char *what, srlm_buf y, srlm_buf x, uint64_t n, int to16) {
    uint64_t b32 = n * 4, b16 = (n + 1) / 2 * 4;
    srlm_buf f32 = to16 ? x : y, h16 = to16 ? y : x;
    if (f32.size < b32 || h16.size < b16)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: %llu elements need %llu f32 bytes and %llu 16-bit bytes, buffers hold %llu and %llu",
                           what, (unsigned long long)n, (unsigned long long)b32, (unsigned long long)b16,
                           (unsigned long long)f32.size, (unsigned long long)h16.size);
    const srlm_op_desc *d = &srlm_op_table[op];
    uint64_t step = srlm_ops_align(c->ctx) / 2; /* elements: 16-bit offsets stay aligned */
    uint64_t piece = srlm_ops_piece_elems(c->ctx, 4) / step * step;
    for (uint64_t off = 0; off < n; off += piece) {
        uint64_t k = n - off < piece ? n - off : piece;
        srlm_buf a = srlm_buf_slice(f32, off * 4, k * 4);
        srlm_buf h = srlm_buf_slice(h16, off * 2, (k + 1) / 2 * 4);
        srlm_buf b[2] = {to16 ? h : a, to16 ? a : h};
        srlm_push_convert p = {.n = (uint32_t)k};
        SRLM_TRY(srlm_cmd_dispatch(c, op, NULL, b, 2, &p, sizeof p, srlm_ops_groups(c->ctx, k, d->spec[0] * 16ull), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_f32_to_f16(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n) {
    return convert(c, SRLM_OP_F32_TO_F16, "f32_to_f16", y, x, n, 1);
}
srlm_status srlm_op_f32_to_bf16(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n) {
    return convert(c, SRLM_OP_F32_TO_BF16, "f32_to_bf16", y, x, n, 1);
}
srlm_status srlm_op_f16_to_f32(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n) {
    return convert(c, SRLM_OP_F16_TO_F32, "f16_to_f32", y, x, n, 0);
}
srlm_status srlm_op_bf16_to_f32(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n) {
    return convert(c, SRLM_OP_BF16_TO_F32, "bf16_to_f32", y, x, n, 0);
}
