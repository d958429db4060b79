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
    /* matmul family (runtime/ops/ops_matmul.c chooses the variant and the spec constants):
     * register tiles: spec = wg, TM|TN, TN|TK8, VEC; shared memory: wg, BI, BJ, BP, TI, TJ */
    [SRLM_OP_MATMUL_NT_F32] = ROW(spv_matmul_nt_f32, 4, 0x1, srlm_push_matmul, 4, 8, 4, 4, 1),
    [SRLM_OP_MATMUL_NT_F16] = ROW(spv_matmul_nt_f16, 4, 0x1, srlm_push_matmul, 4, 8, 4, 4, 1),
    [SRLM_OP_MATMUL_MV_F16_U64] = ROW(spv_matmul_mv_f16_u64, 4, 0x1, srlm_push_matmul, 4, 8, 1, 4, 1),
    [SRLM_OP_MATMUL_NT_F16_U64] = ROW(spv_matmul_nt_f16_u64, 4, 0x1, srlm_push_matmul, 4, 8, 4, 4, 1),
    [SRLM_OP_MATMUL_MV_F32_U64] = ROW(spv_matmul_mv_f32_u64, 4, 0x1, srlm_push_matmul, 4, 8, 1, 4, 1),
    [SRLM_OP_MATMUL_NT_F32_U64] = ROW(spv_matmul_nt_f32_u64, 4, 0x1, srlm_push_matmul, 4, 8, 4, 4, 1),
    [SRLM_OP_MATMUL_MV_F32] = ROW(spv_matmul_mv_f32, 4, 0x1, srlm_push_matmul, 4, 8, 1, 4, 1),
    [SRLM_OP_MATMUL_MV_F16] = ROW(spv_matmul_mv_f16, 4, 0x1, srlm_push_matmul, 4, 8, 1, 4, 1),
    [SRLM_OP_MATMUL_NN_F32] = ROW(spv_matmul_nn_f32, 3, 0x1, srlm_push_matmul, 4, 8, 4, 1, 1),
    [SRLM_OP_MATMUL_NN_F16] = ROW(spv_matmul_nn_f16, 3, 0x1, srlm_push_matmul, 4, 8, 4, 1, 1),
    [SRLM_OP_MATMUL_TN_F32] = ROW(spv_matmul_tn_f32, 3, 0x1, srlm_push_matmul, 4, 8, 4, 1, 1),
    [SRLM_OP_MATMUL_COLSUM_F32] = ROW(spv_matmul_colsum_f32, 2, 0x1, srlm_push_matmul, 1, 64),
    [SRLM_OP_MATMUL_SM_NT_F32] = ROW(spv_matmul_sm_nt_f32, 4, 0x1, srlm_push_matmul, 6, 256, 64, 64, 16, 4, 4),
    [SRLM_OP_MATMUL_SM_NT_F16] = ROW(spv_matmul_sm_nt_f16, 4, 0x1, srlm_push_matmul, 6, 256, 64, 64, 16, 4, 4),
    [SRLM_OP_MATMUL_SM_NN_F32] = ROW(spv_matmul_sm_nn_f32, 3, 0x1, srlm_push_matmul, 6, 256, 64, 64, 16, 4, 4),
    [SRLM_OP_MATMUL_SM_NN_F16] = ROW(spv_matmul_sm_nn_f16, 3, 0x1, srlm_push_matmul, 6, 256, 64, 64, 16, 4, 4),
    [SRLM_OP_MATMUL_SM_TN_F32] = ROW(spv_matmul_sm_tn_f32, 3, 0x1, srlm_push_matmul, 6, 256, 64, 64, 16, 4, 4),
    [SRLM_OP_MEMBW_READ] = ROW(spv_membw_read, 2, 0x2, srlm_push_membw, 1, 64),
    [SRLM_OP_MEMBW_COPY] = ROW(spv_membw_copy, 2, 0x2, srlm_push_membw, 1, 64),
};

const int srlm_op_count = SRLM_OP_COUNT;
