/* ops_reduce.c: host bindings of shaders/reduce.comp: sums, sums of squares and the global
 * norm in two deterministic passes. Each piece of each tensor writes its per-workgroup
 * partials into its own aligned slot of the scratch buffer (no barrier between them); one
 * FINAL workgroup sums every slot in order. */
#include "ops/ops.h"

#define MAX_GROUPS 256u /* partials per piece */

static uint64_t slot_floats(const srlm_ctx *ctx) {
    uint64_t a = srlm_ops_align(ctx) / 4;
    return (MAX_GROUPS + a - 1) / a * a;
}

static uint64_t npieces(const srlm_ctx *ctx, uint64_t n) {
    uint64_t piece = srlm_ops_piece_elems(ctx, 4);
    return n ? (n + piece - 1) / piece : 0;
}

uint64_t srlm_op_reduce_scratch_bytes(const srlm_ctx *ctx, const uint64_t *ns, int count) {
    uint64_t slots = 0;
    for (int i = 0; i < count; i++) slots += npieces(ctx, ns[i]);
    return (slots ? slots : 1) * slot_floats(ctx) * 4;
}

static srlm_status reduce(srlm_cmd *c, const char *what, srlm_buf out, srlm_buf scratch, const srlm_buf *xs,
                          const uint64_t *ns, int count, int square, int do_sqrt) {
    srlm_ctx *ctx = c->ctx;
    uint64_t need = srlm_op_reduce_scratch_bytes(ctx, ns, count);
    if (scratch.size < need)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: scratch holds %llu bytes, needs %llu", what,
                           (unsigned long long)scratch.size, (unsigned long long)need);
    if (out.size < 4) return srlm_errorf(SRLM_ERR_INVALID, "%s: output buffer is empty", what);
    for (int t = 0; t < count; t++)
        if (xs[t].size < ns[t] * 4)
            return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor %d holds %llu bytes, %llu floats need more", what, t,
                               (unsigned long long)xs[t].size, (unsigned long long)ns[t]);
    int op = square ? SRLM_OP_REDUCE_SUMSQ_F32 : SRLM_OP_REDUCE_SUM_F32;
    /* wg_reduce.glsl holds at most 64 subgroup sums */
    uint32_t sg = ctx->caps.subgroup_size ? ctx->caps.subgroup_size : 32;
    uint32_t wg = srlm_op_table[op].spec[0];
    if (wg > 64 * sg) wg = 64 * sg;
    if (wg > ctx->caps.max_wg_invocations) wg = ctx->caps.max_wg_invocations;
    uint32_t spec[1] = {wg};
    uint64_t piece = srlm_ops_piece_elems(ctx, 4), slot = slot_floats(ctx);
    uint64_t nslots = 0;
    srlm_buf outs[2];
    uint64_t total = 0;
    for (int t = 0; t < count; t++) total += npieces(ctx, ns[t]);
    if (total == 0) { /* nothing to sum: the result is 0 */
        srlm_push_reduce p = {.n = 0, .out_index = 0, .do_sqrt = 0};
        srlm_buf b[2] = {srlm_ops_window(ctx, out, 4, 0, 1, &p.out_index), srlm_buf_slice(scratch, 0, 4)};
        return srlm_cmd_dispatch(c, SRLM_OP_REDUCE_FINAL_F32, spec, b, 2, &p, sizeof p, 1, 1, 1);
    }
    for (int t = 0; t < count; t++)
        for (uint64_t off = 0; off < ns[t]; off += piece, nslots++) {
            uint64_t k = ns[t] - off < piece ? ns[t] - off : piece;
            /* about 32 elements (8 vec4) per invocation: few partials, still enough workgroups */
            uint32_t g = srlm_ops_groups(ctx, k, wg * 32ull);
            if (g > MAX_GROUPS) g = MAX_GROUPS;
            outs[0] = srlm_buf_slice(scratch, nslots * slot * 4, slot * 4);
            outs[1] = srlm_buf_slice(xs[t], off * 4, k * 4);
            /* out_index = slot length: workgroup 0 zeroes the slot's unused entries, which
             * the final pass sums too */
            srlm_push_reduce p = {.n = (uint32_t)k, .out_index = (uint32_t)slot};
            SRLM_TRY(srlm_cmd_dispatch(c, op, spec, outs, 2, &p, sizeof p, g, 1, 1));
        }
    /* out may sit at any float of a results buffer: bind an aligned window around it */
    srlm_push_reduce p = {.n = (uint32_t)(total * slot), .out_index = 0, .do_sqrt = (uint32_t)do_sqrt};
    outs[0] = srlm_ops_window(ctx, out, 4, 0, 1, &p.out_index);
    outs[1] = srlm_buf_slice(scratch, 0, total * slot * 4);
    return srlm_cmd_dispatch(c, SRLM_OP_REDUCE_FINAL_F32, spec, outs, 2, &p, sizeof p, 1, 1, 1);
}

srlm_status srlm_op_sum(srlm_cmd *c, srlm_buf out, srlm_buf scratch, srlm_buf x, uint64_t n) {
    return reduce(c, "sum", out, scratch, &x, &n, 1, 0, 0);
}

srlm_status srlm_op_sumsq(srlm_cmd *c, srlm_buf out, srlm_buf scratch, srlm_buf x, uint64_t n) {
    return reduce(c, "sumsq", out, scratch, &x, &n, 1, 1, 0);
}

srlm_status srlm_op_global_norm(srlm_cmd *c, srlm_buf out, srlm_buf scratch, const srlm_buf *xs, const uint64_t *ns,
                                int count) {
    return reduce(c, "global_norm", out, scratch, xs, ns, count, 1, 1);
}
