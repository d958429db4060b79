/* ops_attn.c: host bindings of the paged KV cache shaders: kv_append.comp, attn_paged.comp
 * (subgroup and per-invocation variants), attn_paged_gqa/_tg.comp, each for f16 or f32
 * pools, and attn_combine.comp. Block allocation and block
 * tables are the decode layer's job (runtime/decode/kv_cache.c), not this file's. */
#include "ops/ops.h"

#include <math.h>

#define NEED(buf, bytes, what)                                                                                  \
    do {                                                                                                        \
        if ((uint64_t)(bytes) > (buf).size)                                                                     \
            return srlm_errorf(SRLM_ERR_INVALID, "%s: %s needs %llu bytes, the buffer has %llu", op, what,     \
                               (unsigned long long)(bytes), (unsigned long long)(buf).size);                    \
    } while (0)

srlm_status srlm_op_kv_append(srlm_cmd *c, srlm_buf kcache, srlm_buf vcache, srlm_buf k, srlm_buf v, srlm_buf slot,
                              uint32_t T, uint32_t NKV, uint32_t HS, uint32_t BS, uint32_t num_blocks) {
    return srlm_op_kv_append_dt(c, kcache, vcache, k, v, slot, T, NKV, HS, BS, num_blocks, 0);
}

srlm_status srlm_op_kv_append_dt(srlm_cmd *c, srlm_buf kcache, srlm_buf vcache, srlm_buf k, srlm_buf v, srlm_buf slot,
                                 uint32_t T, uint32_t NKV, uint32_t HS, uint32_t BS, uint32_t num_blocks, uint32_t kv_f32) {
    const char *op = "kv_append";
    uint64_t esz = kv_f32 ? 4 : 2;
    if (!NKV || !HS || HS % 2 || !BS || !num_blocks)
        return srlm_errorf(SRLM_ERR_INVALID, "kv_append: bad shape NKV=%u HS=%u (must be even) BS=%u blocks=%u", NKV, HS, BS,
                           num_blocks);
    if (T == 0) return NULL;
    uint64_t row = (uint64_t)NKV * HS;
    NEED(kcache, (uint64_t)num_blocks * BS * row * esz, "kcache");
    NEED(vcache, (uint64_t)num_blocks * BS * row * esz, "vcache");
    NEED(k, T * row * 4, "k");
    NEED(v, T * row * 4, "v");
    NEED(slot, (uint64_t)T * 4, "slot");
    if ((uint64_t)num_blocks * BS * row / 2 > 0xFFFFFFFFull || T * row / 2 > 0xFFFFFFFFull)
        return srlm_errorf(SRLM_ERR_INVALID, "kv_append: cache or input too large for 32-bit indices");
    srlm_push_kv_append p = {.T = T, .NKV = NKV, .HS = HS, .BS = BS, .num_blocks = num_blocks};
    srlm_buf b[5] = {kcache, vcache, k, v, slot};
    int opid = kv_f32 ? SRLM_OP_KV_APPEND_F32 : SRLM_OP_KV_APPEND;
    const srlm_op_desc *d = &srlm_op_table[opid];
    return srlm_cmd_dispatch(c, opid, NULL, b, 5, &p, sizeof p, srlm_ops_groups(c->ctx, T * row / 2, d->spec[0]), 1, 1);
}

static bool pow2(uint32_t x) { return x && !(x & (x - 1)); }

/* Lanes per position of the GQA variant: HS/8 chunks, at most the smallest subgroup. */
static uint32_t gqa_team(const srlm_ctx *ctx, uint32_t HS) {
    uint32_t h8 = HS / 8, sg = ctx->caps.min_subgroup_size;
    return h8 < sg ? h8 : sg;
}

bool srlm_attn_variant_supported(const srlm_ctx *ctx, const srlm_attn_dims *d, srlm_attn_variant v) {
    const srlm_device_caps *c = &ctx->caps;
    VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
    bool sg = c->subgroup_in_compute && (c->subgroup_ops & need) == need && c->subgroup_size >= 1 &&
              c->max_subgroup_size <= c->max_wg_invocations;
    switch (v) {
    case SRLM_ATTN_AUTO:
    case SRLM_ATTN_THREAD: return true;
    case SRLM_ATTN_SUBGROUP: return sg;
    case SRLM_ATTN_THREAD_GQA: return d->NKV && d->NH % d->NKV == 0 && d->NH / d->NKV <= 16;
    case SRLM_ATTN_GQA:
        return sg && (c->subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) && pow2(c->min_subgroup_size) &&
               pow2(c->max_subgroup_size) && d->NKV && d->NH % d->NKV == 0 && d->NH / d->NKV <= 16 && d->HS % 8 == 0 &&
               pow2(d->HS / 8) && d->HS <= 256;
    }
    return false;
}

srlm_attn_variant srlm_attn_resolve(const srlm_ctx *ctx, const srlm_attn_dims *d, srlm_attn_variant v) {
    if (v != SRLM_ATTN_AUTO) return v;
    /* lavapipe pays one scalar load per lane for every buffer word: reading each K/V row once
     * for the whole group wins there (bench_attn.c); GPUs want the group-per-subgroup form. */
    if (ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU) return SRLM_ATTN_THREAD_GQA;
    if (srlm_attn_variant_supported(ctx, d, SRLM_ATTN_GQA)) return SRLM_ATTN_GQA;
    if (srlm_attn_variant_supported(ctx, d, SRLM_ATTN_SUBGROUP)) return SRLM_ATTN_SUBGROUP;
    return SRLM_ATTN_THREAD;
}

uint32_t srlm_attn_splits(const srlm_ctx *ctx, const srlm_attn_dims *d, srlm_attn_variant v, uint32_t nsplit) {
    uint32_t ctxlen = d->max_ctx ? d->max_ctx : 1;
    if (nsplit == 0) {
        /* Enough work items to fill the device, each split long enough that the combine pass
         * stays cheap next to it. A CPU device (lavapipe) has few threads. */
        bool cpu = ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU;
        uint64_t target = cpu ? 16 : 2048, min_len = cpu ? 512 : 128;
        srlm_attn_variant rv = srlm_attn_resolve(ctx, d, v);
        uint64_t items = (uint64_t)d->Tq * (rv == SRLM_ATTN_GQA || rv == SRLM_ATTN_THREAD_GQA ? d->NKV : d->NH);
        if (rv == SRLM_ATTN_THREAD_GQA && cpu) target = 64, min_len = 256; /* 8 lanes per SIMD vector */
        uint64_t want = items >= target ? 1 : (target + items - 1) / items;
        uint64_t most = (ctxlen + min_len - 1) / min_len;
        nsplit = (uint32_t)(want < most ? want : most);
    }
    if (nsplit > ctxlen) nsplit = ctxlen;
    return nsplit ? nsplit : 1;
}

uint64_t srlm_attn_scratch_bytes(const srlm_attn_dims *d, uint32_t nsplit) {
    if (nsplit <= 1) return 0;
    return (uint64_t)d->Tq * d->NH * nsplit * (d->HS + 2) * 4;
}

srlm_status srlm_op_attn_paged(srlm_cmd *c, srlm_buf out, srlm_buf scratch, srlm_buf q, srlm_buf kcache, srlm_buf vcache,
                               srlm_buf block_table, srlm_buf qseq, srlm_buf qpos, const srlm_attn_dims *d,
                               srlm_attn_variant variant, uint32_t nsplit) {
    const char *op = "attn_paged";
    const srlm_ctx *ctx = c->ctx;
    if (!d->NH || !d->NKV || d->NH % d->NKV || !d->BS || !d->num_blocks || !d->num_seqs || !d->max_blocks)
        return srlm_errorf(SRLM_ERR_INVALID, "attn_paged: bad shape NH=%u NKV=%u BS=%u blocks=%u seqs=%u max_blocks=%u", d->NH,
                           d->NKV, d->BS, d->num_blocks, d->num_seqs, d->max_blocks);
    if (d->HS == 0 || d->HS % 8 || d->HS > 256)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "attn_paged: head size %u (the shader needs a multiple of 8, at most 256)", d->HS);
    if (d->Tq == 0) return NULL;
    variant = srlm_attn_resolve(ctx, d, variant);
    if (!srlm_attn_variant_supported(ctx, d, variant))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "attn_paged: variant %d needs subgroup operations (or shapes) this device lacks",
                           (int)variant);
    nsplit = srlm_attn_splits(ctx, d, variant, nsplit);
    uint64_t rows = (uint64_t)d->Tq * d->NH, row_bytes = (uint64_t)d->NKV * d->HS * (d->kv_f32 ? 4 : 2);
    NEED(out, rows * d->HS * 4, "out");
    NEED(q, rows * d->HS * 4, "q");
    NEED(kcache, (uint64_t)d->num_blocks * d->BS * row_bytes, "kcache");
    NEED(vcache, (uint64_t)d->num_blocks * d->BS * row_bytes, "vcache");
    NEED(block_table, (uint64_t)d->num_seqs * d->max_blocks * 4, "block_table");
    NEED(qseq, (uint64_t)d->Tq * 4, "qseq");
    NEED(qpos, (uint64_t)d->Tq * 4, "qpos");
    if (nsplit > 1) NEED(scratch, srlm_attn_scratch_bytes(d, nsplit), "scratch");
    if (rows * nsplit * (d->HS + 2) > 0xFFFFFFFFull || (uint64_t)d->num_blocks * d->BS * row_bytes / 16 > 0xFFFFFFFFull ||
        (uint64_t)d->max_blocks * d->BS > 0x7FFFFFFFull)
        return srlm_errorf(SRLM_ERR_INVALID, "attn_paged: shapes too large for 32-bit indices");
    uint32_t split_len = (uint32_t)(((uint64_t)(d->max_ctx ? d->max_ctx : 1) + nsplit - 1) / nsplit);
    srlm_push_attn_paged p = {.Tq = d->Tq, .NH = d->NH, .NKV = d->NKV, .num_seqs = d->num_seqs, .max_blocks = d->max_blocks,
                              .num_blocks = d->num_blocks, .nsplit = nsplit, .split_len = split_len,
                              .scale = (float)(1.0 / sqrt((double)d->HS))};
    if (nsplit == 1) scratch = out; /* bound but unused */
    srlm_buf b[8] = {out, scratch, q, kcache, vcache, block_table, qseq, qpos};
    uint64_t items = rows * nsplit;
    int opid;
    uint32_t spec[5] = {0, d->HS, d->BS, 1, 8}, per_group;
    if (variant == SRLM_ATTN_GQA) {
        /* Full subgroups: a workgroup a multiple of the largest subgroup size the driver may
         * pick; several subgroups per workgroup on GPUs for occupancy. */
        opid = SRLM_OP_ATTN_PAGED_GQA;
        uint32_t wg = ctx->caps.max_subgroup_size;
        if (ctx->caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU)
            while (wg < 128 && wg * 2 <= ctx->caps.max_wg_invocations) wg *= 2;
        spec[0] = wg;
        spec[3] = d->NH / d->NKV;
        spec[4] = gqa_team(ctx, d->HS);
        per_group = wg / ctx->caps.max_subgroup_size;
        items = (uint64_t)d->Tq * d->NKV * nsplit;
    } else if (variant == SRLM_ATTN_THREAD_GQA) {
        opid = SRLM_OP_ATTN_PAGED_TG;
        spec[0] = srlm_op_table[opid].spec[0];
        spec[3] = d->NH / d->NKV;
        per_group = spec[0];
        items = (uint64_t)d->Tq * d->NKV * nsplit;
    } else if (variant == SRLM_ATTN_SUBGROUP) {
        /* One subgroup per item. On GPUs several subgroups share a workgroup for occupancy; the
         * shader counts subgroups itself, so a driver picking another size stays correct. */
        opid = SRLM_OP_ATTN_PAGED_SG;
        uint32_t sg = ctx->caps.subgroup_size, wg = sg;
        if (ctx->caps.type != VK_PHYSICAL_DEVICE_TYPE_CPU)
            while (wg < 128 && wg * 2 <= ctx->caps.max_wg_invocations) wg *= 2;
        spec[0] = wg;
        per_group = wg / sg;
    } else {
        opid = SRLM_OP_ATTN_PAGED_T;
        spec[0] = srlm_op_table[opid].spec[0];
        per_group = spec[0];
    }
    if (d->kv_f32) /* the f32-pool build of the same kernel */
        opid = opid == SRLM_OP_ATTN_PAGED_GQA  ? SRLM_OP_ATTN_PAGED_GQA_F32
               : opid == SRLM_OP_ATTN_PAGED_TG ? SRLM_OP_ATTN_PAGED_TG_F32
               : opid == SRLM_OP_ATTN_PAGED_SG ? SRLM_OP_ATTN_PAGED_SG_F32
                                               : SRLM_OP_ATTN_PAGED_T_F32;
    SRLM_TRY(srlm_cmd_dispatch(c, opid, spec, b, 8, &p, sizeof p, srlm_ops_groups(ctx, items, per_group), 1, 1));
    if (nsplit == 1) return NULL;
    srlm_push_attn_combine pc = {.rows = (uint32_t)rows, .HS = d->HS, .nsplit = nsplit};
    srlm_buf bc[2] = {out, scratch};
    return srlm_cmd_dispatch(c, SRLM_OP_ATTN_COMBINE, NULL, bc, 2, &pc, sizeof pc,
                             srlm_ops_groups(ctx, rows * d->HS, srlm_op_table[SRLM_OP_ATTN_COMBINE].spec[0]), 1, 1);
}

/* ---- training attention ---- */

static srlm_status train_check(const char *op, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg, uint32_t B, uint32_t T,
                               uint32_t NH, uint32_t NKV, uint32_t HS) {
    if (!B || !T || !NH || !NKV || NH % NKV || !HS || HS % 4 || HS > 256)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: bad shape B=%u T=%u NH=%u NKV=%u HS=%u (NH %% NKV == 0, HS %% 4 == 0, HS <= 256)",
                           op, B, T, NH, NKV, HS);
    uint64_t bt = (uint64_t)B * T;
    if (bt * NH * HS > 0xFFFFFFFFull) return srlm_errorf(SRLM_ERR_INVALID, "%s: shapes too large for 32-bit indices", op);
    NEED(q, bt * NH * HS * 4, "q");
    NEED(k, bt * NKV * HS * 4, "k");
    NEED(v, bt * NKV * HS * 4, "v");
    if (seg.buffer) NEED(seg, bt * 4, "seg");
    return NULL;
}

uint32_t srlm_attn_train_heads(const srlm_ctx *ctx, uint32_t NH, uint32_t NKV) {
    uint32_t g = NKV && NH % NKV == 0 ? NH / NKV : 1;
    return ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU && g <= 16 ? g : 1;
}

static srlm_status train_hp(const char *op, const srlm_ctx *ctx, uint32_t NH, uint32_t NKV, uint32_t *hp) {
    if (*hp == 0) *hp = srlm_attn_train_heads(ctx, NH, NKV);
    if (*hp > 16 || (NH / NKV) % *hp)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: %u heads per invocation do not divide the group of %u (at most 16)", op, *hp, NH / NKV);
    return NULL;
}

srlm_status srlm_op_attention_fwd(srlm_cmd *c, srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg,
                                  uint32_t B, uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS) {
    return srlm_op_attention_fwd_hp(c, out, lse, q, k, v, seg, B, T, NH, NKV, HS, 0);
}

srlm_status srlm_op_attention_bwd(srlm_cmd *c, srlm_buf dq, srlm_buf dk, srlm_buf dv, srlm_buf scratch, srlm_buf dout,
                                  srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg, uint32_t B,
                                  uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS) {
    return srlm_op_attention_bwd_hp(c, dq, dk, dv, scratch, dout, out, lse, q, k, v, seg, B, T, NH, NKV, HS, 0, 0);
}

srlm_status srlm_op_attention_fwd_hp(srlm_cmd *c, srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg,
                                     uint32_t B, uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS, uint32_t hp) {
    const char *op = "attention_fwd";
    SRLM_TRY(train_check(op, q, k, v, seg, B, T, NH, NKV, HS));
    SRLM_TRY(train_hp(op, c->ctx, NH, NKV, &hp));
    uint64_t rows = (uint64_t)B * T * NH;
    NEED(out, rows * HS * 4, "out");
    NEED(lse, rows * 4, "lse");
    srlm_push_attn_train p = {.B = B, .T = T, .NH = NH, .NKV = NKV, .has_seg = seg.buffer != VK_NULL_HANDLE,
                              .scale = (float)(1.0 / sqrt((double)HS))};
    srlm_buf b[6] = {out, lse, q, k, v, seg.buffer ? seg : q};
    uint32_t spec[3] = {srlm_op_table[SRLM_OP_ATTN_FWD].spec[0], HS, hp};
    return srlm_cmd_dispatch(c, SRLM_OP_ATTN_FWD, spec, b, 6, &p, sizeof p, srlm_ops_groups(c->ctx, rows / hp, spec[0]), 1, 1);
}

srlm_status srlm_op_attention_bwd_hp(srlm_cmd *c, srlm_buf dq, srlm_buf dk, srlm_buf dv, srlm_buf scratch, srlm_buf dout,
                                     srlm_buf out, srlm_buf lse, srlm_buf q, srlm_buf k, srlm_buf v, srlm_buf seg, uint32_t B,
                                     uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS, uint32_t hp, uint32_t kp) {
    const char *op = "attention_bwd";
    SRLM_TRY(train_check(op, q, k, v, seg, B, T, NH, NKV, HS));
    SRLM_TRY(train_hp(op, c->ctx, NH, NKV, &hp));
    if (kp == 0) kp = c->ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 4 : 1;
    if (kp > 8) return srlm_errorf(SRLM_ERR_INVALID, "%s: %u keys per invocation (at most 8)", op, kp);
    uint64_t rows = (uint64_t)B * T * NH, kvrows = (uint64_t)B * T * NKV;
    NEED(dq, rows * HS * 4, "dq");
    NEED(dk, kvrows * HS * 4, "dk");
    NEED(dv, kvrows * HS * 4, "dv");
    NEED(dout, rows * HS * 4, "dout");
    NEED(out, rows * HS * 4, "out");
    NEED(lse, rows * 4, "lse");
    NEED(scratch, rows * 4, "scratch");
    srlm_push_attn_train p = {.B = B, .T = T, .NH = NH, .NKV = NKV, .has_seg = seg.buffer != VK_NULL_HANDLE,
                              .scale = (float)(1.0 / sqrt((double)HS))};
    srlm_buf sg = seg.buffer ? seg : q;
    srlm_buf b1[9] = {dq, scratch, dout, out, lse, q, k, v, sg};
    uint32_t spec[4] = {srlm_op_table[SRLM_OP_ATTN_BWD_DQ].spec[0], HS, hp, 1};
    SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_ATTN_BWD_DQ, spec, b1, 9, &p, sizeof p, srlm_ops_groups(c->ctx, rows / hp, spec[0]), 1, 1));
    srlm_buf b2[9] = {dk, dv, dout, scratch, lse, q, k, v, sg};
    spec[0] = srlm_op_table[SRLM_OP_ATTN_BWD_DKV].spec[0];
    spec[2] = 1, spec[3] = kp;
    uint64_t items = (uint64_t)B * NKV * ((T + kp - 1) / kp);
    return srlm_cmd_dispatch(c, SRLM_OP_ATTN_BWD_DKV, spec, b2, 9, &p, sizeof p, srlm_ops_groups(c->ctx, items, spec[0]), 1, 1);
}
