/* op_list.h: every shader variant, SRLM_OP(ENUM_SUFFIX, spirv_symbol). Add a line here,
 * one in shaders/meson.build, a row in op_table.c, a host function, a CPU reference, a test. */
#define SRLM_OP_LIST \
    SRLM_OP(FILL_F32, spv_fill_f32) \
    SRLM_OP(ADD_F32, spv_add_f32) \
    SRLM_OP(MUL_F32, spv_mul_f32) \
    SRLM_OP(SCALE_F32, spv_scale_f32) \
    SRLM_OP(AXPY_F32, spv_axpy_f32) \
    SRLM_OP(F32_TO_F16, spv_f32_to_f16) \
    SRLM_OP(F32_TO_BF16, spv_f32_to_bf16) \
    SRLM_OP(F16_TO_F32, spv_f16_to_f32) \
    SRLM_OP(BF16_TO_F32, spv_bf16_to_f32) \
    SRLM_OP(REDUCE_SUM_F32, spv_reduce_sum_f32) \
    SRLM_OP(REDUCE_SUMSQ_F32, spv_reduce_sumsq_f32) \
    SRLM_OP(REDUCE_FINAL_F32, spv_reduce_final_f32) \
    SRLM_OP(RMSNORM_FWD_F32, spv_rmsnorm_fwd_f32) \
    SRLM_OP(RMSNORM_BWD_DX_F32, spv_rmsnorm_bwd_dx_f32) \
    SRLM_OP(RMSNORM_BWD_DW_PARTIAL_F32, spv_rmsnorm_bwd_dw_partial_f32) \
    SRLM_OP(RMSNORM_BWD_DW_REDUCE_F32, spv_rmsnorm_bwd_dw_reduce_f32) \
    SRLM_OP(SILU_FWD_F32, spv_silu_fwd_f32) \
    SRLM_OP(SILU_BWD_F32, spv_silu_bwd_f32) \
    SRLM_OP(SWIGLU_FWD_F32, spv_swiglu_fwd_f32) \
    SRLM_OP(SWIGLU_BWD_F32, spv_swiglu_bwd_f32) \
    SRLM_OP(SOFTMAX_FWD_F32, spv_softmax_fwd_f32) \
    SRLM_OP(SOFTMAX_BWD_F32, spv_softmax_bwd_f32) \
    SRLM_OP(ROPE_NEOX_F32, spv_rope_neox_f32) \
    SRLM_OP(ROPE_INTERLEAVED_F32, spv_rope_interleaved_f32) \
    SRLM_OP(EMBEDDING_FWD_F32, spv_embedding_fwd_f32) \
    SRLM_OP(EMBEDDING_FWD_F16, spv_embedding_fwd_f16) \
    SRLM_OP(EMBEDDING_BWD_F32, spv_embedding_bwd_f32) \
    SRLM_OP(MEMBW_READ, spv_membw_read) \
    SRLM_OP(MEMBW_COPY, spv_membw_copy)
