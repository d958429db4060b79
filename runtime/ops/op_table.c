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
    [SRLM_OP_ADD_F32] = ROW(spv_add_f32, 3, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_MUL_F32] = ROW(spv_mul_f32, 3, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_SCALE_F32] = ROW(spv_scale_f32, 2, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_AXPY_F32] = ROW(spv_axpy_f32, 2, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_F32_TO_F16] = ROW(spv_f32_to_f16, 2, 0x1, srlm_push_convert, 1, 256),
    [SRLM_OP_F32_TO_BF16] = ROW(spv_f32_to_bf16, 2, 0x1, srlm_push_convert, 1, 256),
    [SRLM_OP_F16_TO_F32] = ROW(spv_f16_to_f32, 2, 0x1, srlm_push_convert, 1, 256),
    [SRLM_OP_BF16_TO_F32] = ROW(spv_bf16_to_f32, 2, 0x1, srlm_push_convert, 1, 256),
    [SRLM_OP_REDUCE_SUM_F32] = ROW(spv_reduce_sum_f32, 2, 0x1, srlm_push_reduce, 1, 256),
    [SRLM_OP_REDUCE_SUMSQ_F32] = ROW(spv_reduce_sumsq_f32, 2, 0x1, srlm_push_reduce, 1, 256),
    [SRLM_OP_REDUCE_FINAL_F32] = ROW(spv_reduce_final_f32, 2, 0x1, srlm_push_reduce, 1, 256),
    [SRLM_OP_RMSNORM_FWD_F32] = ROW(spv_rmsnorm_fwd_f32, 4, 0x3, srlm_push_rows, 1, 256),
    [SRLM_OP_RMSNORM_BWD_DX_F32] = ROW(spv_rmsnorm_bwd_dx_f32, 5, 0x1, srlm_push_rows, 1, 256),
    [SRLM_OP_RMSNORM_FWD_F32_V4] = ROW(spv_rmsnorm_fwd_f32_v4, 4, 0x3, srlm_push_rows, 1, 256),
    [SRLM_OP_RMSNORM_BWD_DX_F32_V4] = ROW(spv_rmsnorm_bwd_dx_f32_v4, 5, 0x1, srlm_push_rows, 1, 256),
    [SRLM_OP_RMSNORM_BWD_DW_PARTIAL_F32] = ROW(spv_rmsnorm_bwd_dw_partial_f32, 4, 0x1, srlm_push_rows, 1, 64),
    [SRLM_OP_RMSNORM_BWD_DW_REDUCE_F32] = ROW(spv_rmsnorm_bwd_dw_reduce_f32, 2, 0x1, srlm_push_rows, 1, 64),
    [SRLM_OP_RMSNORM_BWD_DW_PARTIAL_F32_V4] = ROW(spv_rmsnorm_bwd_dw_partial_f32_v4, 4, 0x1, srlm_push_rows, 1, 64),
    [SRLM_OP_RMSNORM_BWD_DW_REDUCE_F32_V4] = ROW(spv_rmsnorm_bwd_dw_reduce_f32_v4, 2, 0x1, srlm_push_rows, 1, 64),
    [SRLM_OP_SILU_FWD_F32] = ROW(spv_silu_fwd_f32, 2, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_SILU_BWD_F32] = ROW(spv_silu_bwd_f32, 3, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_SWIGLU_FWD_F32] = ROW(spv_swiglu_fwd_f32, 3, 0x1, srlm_push_eltwise, 1, 256),
    [SRLM_OP_SWIGLU_BWD_F32] = ROW(spv_swiglu_bwd_f32, 5, 0x3, srlm_push_eltwise, 1, 256),
    [SRLM_OP_SOFTMAX_FWD_F32] = ROW(spv_softmax_fwd_f32, 2, 0x1, srlm_push_rows, 1, 256),
    [SRLM_OP_SOFTMAX_BWD_F32] = ROW(spv_softmax_bwd_f32, 3, 0x1, srlm_push_rows, 1, 256),
    [SRLM_OP_SOFTMAX_FWD_F32_V4] = ROW(spv_softmax_fwd_f32_v4, 2, 0x1, srlm_push_rows, 1, 256),
    [SRLM_OP_SOFTMAX_BWD_F32_V4] = ROW(spv_softmax_bwd_f32_v4, 3, 0x1, srlm_push_rows, 1, 256),
    [SRLM_OP_ROPE_NEOX_F32] = ROW(spv_rope_neox_f32, 3, 0x1, srlm_push_rope, 1, 256),
    [SRLM_OP_ROPE_INTERLEAVED_F32] = ROW(spv_rope_interleaved_f32, 3, 0x1, srlm_push_rope, 1, 256),
    [SRLM_OP_EMBEDDING_FWD_F32] = ROW(spv_embedding_fwd_f32, 3, 0x1, srlm_push_embedding, 1, 256),
    [SRLM_OP_EMBEDDING_FWD_F16] = ROW(spv_embedding_fwd_f16, 3, 0x1, srlm_push_embedding, 1, 256),
    [SRLM_OP_EMBEDDING_BWD_F32] = ROW(spv_embedding_bwd_f32, 3, 0x1, srlm_push_embedding, 1, 256),
    [SRLM_OP_CROSSENTROPY_STATS_F32] = ROW(spv_crossentropy_stats_f32, 3, 0x1, srlm_push_loss, 1, 256),
    [SRLM_OP_CROSSENTROPY_FINAL_F32] = ROW(spv_crossentropy_final_f32, 7, 0xF, srlm_push_loss, 1, 64),
    [SRLM_OP_CROSSENTROPY_GRAD_F32] = ROW(spv_crossentropy_grad_f32, 4, 0x1, srlm_push_loss, 1, 256),
    [SRLM_OP_KL_STATS_F32] = ROW(spv_kl_stats_f32, 3, 0x1, srlm_push_loss, 1, 256),
    [SRLM_OP_KL_ROW_F32] = ROW(spv_kl_row_f32, 2, 0x1, srlm_push_loss, 1, 64),
    [SRLM_OP_KL_DIV_F32] = ROW(spv_kl_div_f32, 4, 0x1, srlm_push_loss, 1, 256),
    [SRLM_OP_KL_SUM_F32] = ROW(spv_kl_sum_f32, 3, 0x3, srlm_push_loss, 1, 64),
    [SRLM_OP_KL_GRAD_F32] = ROW(spv_kl_grad_f32, 4, 0x1, srlm_push_loss, 1, 256),
    [SRLM_OP_KL_TOPK_STATS_F32] = ROW(spv_kl_topk_stats_f32, 4, 0x9, srlm_push_kl_topk, 1, 256),
    [SRLM_OP_KL_TOPK_ROW_F32] = ROW(spv_kl_topk_row_f32, 6, 0x3, srlm_push_kl_topk, 1, 64),
    [SRLM_OP_KL_TOPK_GRAD_REST_F32] = ROW(spv_kl_topk_grad_rest_f32, 3, 0x1, srlm_push_kl_topk, 1, 256),
    [SRLM_OP_KL_TOPK_GRAD_TOP_F32] = ROW(spv_kl_topk_grad_top_f32, 6, 0x1, srlm_push_kl_topk, 1, 256),
    [SRLM_OP_ADAMW_STEP_F32] = ROW(spv_adamw_step_f32, 5, 0x7, srlm_push_adamw, 1, 256),
    [SRLM_OP_ADAMW_CLIP_F32] = ROW(spv_adamw_clip_f32, 1, 0x1, srlm_push_adamw, 1, 1),
    [SRLM_OP_KV_APPEND] = ROW(spv_kv_append, 5, 0x3, srlm_push_kv_append, 1, 64),
    /* attn_paged: spec 1 = HS, 2 = block size; the host sets the workgroup size (subgroup
     * variant: the device's subgroup size) and HS per call. */
    [SRLM_OP_ATTN_PAGED_SG] = ROW(spv_attn_paged_sg, 8, 0x3, srlm_push_attn_paged, 3, 32, 64, 16),
    [SRLM_OP_ATTN_PAGED_T] = ROW(spv_attn_paged_t, 8, 0x3, srlm_push_attn_paged, 3, 64, 64, 16),
    /* spec 3 = query heads per kv head, 4 = lanes per position (team) */
    [SRLM_OP_ATTN_PAGED_GQA] = ROW(spv_attn_paged_gqa, 8, 0x3, srlm_push_attn_paged, 5, 32, 64, 16, 1, 8),
    [SRLM_OP_ATTN_PAGED_TG] = ROW(spv_attn_paged_tg, 8, 0x3, srlm_push_attn_paged, 4, 8, 64, 16, 1),
    /* the same five with f32 pools (KV_F32) */
    [SRLM_OP_KV_APPEND_F32] = ROW(spv_kv_append_f32, 5, 0x3, srlm_push_kv_append, 1, 64),
    [SRLM_OP_ATTN_PAGED_SG_F32] = ROW(spv_attn_paged_sg_f32, 8, 0x3, srlm_push_attn_paged, 3, 32, 64, 16),
    [SRLM_OP_ATTN_PAGED_T_F32] = ROW(spv_attn_paged_t_f32, 8, 0x3, srlm_push_attn_paged, 3, 64, 64, 16),
    [SRLM_OP_ATTN_PAGED_GQA_F32] = ROW(spv_attn_paged_gqa_f32, 8, 0x3, srlm_push_attn_paged, 5, 32, 64, 16, 1, 8),
    [SRLM_OP_ATTN_PAGED_TG_F32] = ROW(spv_attn_paged_tg_f32, 8, 0x3, srlm_push_attn_paged, 4, 8, 64, 16, 1),
    [SRLM_OP_ATTN_COMBINE] = ROW(spv_attn_combine, 2, 0x1, srlm_push_attn_combine, 1, 64),
    /* logit_topk: spec 1 = list length k (the host sets it per call) */
    [SRLM_OP_LOGIT_TOPK_PARTIAL] = ROW(spv_logit_topk_partial, 5, 0x1C, srlm_push_logit_topk, 2, 64, 1),
    [SRLM_OP_LOGIT_TOPK_MERGE] = ROW(spv_logit_topk_merge, 8, 0xE0, srlm_push_logit_topk, 2, 64, 1),
    /* training attention: spec 1 = HS, 2 = heads per invocation, 3 = keys per invocation */
    [SRLM_OP_ATTN_FWD] = ROW(spv_attn_fwd, 6, 0x3, srlm_push_attn_train, 3, 64, 64, 1),
    [SRLM_OP_ATTN_BWD_DQ] = ROW(spv_attn_bwd_dq, 9, 0x3, srlm_push_attn_train, 4, 64, 64, 1, 1),
    [SRLM_OP_ATTN_BWD_DKV] = ROW(spv_attn_bwd_dkv, 9, 0x3, srlm_push_attn_train, 4, 64, 64, 1, 1),
};

const int srlm_op_count = SRLM_OP_COUNT;
