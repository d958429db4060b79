/* op_table.c: the rows of the op table. The SPIR-V arrays are generated at build time by
 * shaders/embed.py (see shaders/meson.build). */
#include "op_table.h"
#include "push.h"

#define SRLM_OP(id, sym) extern const uint32_t sym[]; extern const size_t sym##_size;
SRLM_OP_LIST
#undef SRLM_OP

#define ROW(sym, nb, wmask, push, ns, ...) \
    {.name = #sym + 4, .spv = sym, .spv_size = &sym##_size, .nbind = nb, .write_mask = wmask, \
     .push_size = sizeof(push), .nspec = ns, .spec = {__VA_ARGS__}}

const srlm_op_desc srlm_op_table[SRLM_OP_COUNT] = {
    [SRLM_OP_FILL_F32] = ROW(spv_fill_f32, 1, 0x1, srlm_push_fill, 1, 256),
    [SRLM_OP_MEMBW_READ] = ROW(spv_membw_read, 2, 0x2, srlm_push_membw, 1, 64),
    [SRLM_OP_MEMBW_COPY] = ROW(spv_membw_copy, 2, 0x2, srlm_push_membw, 1, 64),
    [SRLM_OP_KV_APPEND] = ROW(spv_kv_append, 5, 0x3, srlm_push_kv_append, 1, 64),
    /* attn_paged: spec 1 = HS, 2 = block size; the host sets the workgroup size (subgroup
     * variant: the device's subgroup size) and HS per call. */
    [SRLM_OP_ATTN_PAGED_SG] = ROW(spv_attn_paged_sg, 8, 0x3, srlm_push_attn_paged, 3, 32, 64, 16),
    [SRLM_OP_ATTN_PAGED_T] = ROW(spv_attn_paged_t, 8, 0x3, srlm_push_attn_paged, 3, 64, 64, 16),
    /* spec 3 = query heads per kv head, 4 = lanes per position (team) */
    [SRLM_OP_ATTN_PAGED_GQA] = ROW(spv_attn_paged_gqa, 8, 0x3, srlm_push_attn_paged, 5, 32, 64, 16, 1, 8),
    [SRLM_OP_ATTN_PAGED_TG] = ROW(spv_attn_paged_tg, 8, 0x3, srlm_push_attn_paged, 4, 8, 64, 16, 1),
    [SRLM_OP_ATTN_COMBINE] = ROW(spv_attn_combine, 2, 0x1, srlm_push_attn_combine, 1, 64),
    /* training attention: spec 1 = HS, 2 = heads per invocation, 3 = keys per invocation */
    [SRLM_OP_ATTN_FWD] = ROW(spv_attn_fwd, 6, 0x3, srlm_push_attn_train, 3, 64, 64, 1),
    [SRLM_OP_ATTN_BWD_DQ] = ROW(spv_attn_bwd_dq, 9, 0x3, srlm_push_attn_train, 4, 64, 64, 1, 1),
    [SRLM_OP_ATTN_BWD_DKV] = ROW(spv_attn_bwd_dkv, 9, 0x3, srlm_push_attn_train, 4, 64, 64, 1, 1),
};

const int srlm_op_count = SRLM_OP_COUNT;
