/* op_list.h: every shader variant, SRLM_OP(ENUM_SUFFIX, spirv_symbol). Add a line here,
 * one in shaders/meson.build, a row in op_table.c, a host function, a CPU reference, a test. */
#define SRLM_OP_LIST \
    SRLM_OP(FILL_F32, spv_fill_f32) \
    SRLM_OP(MATMUL_NT_F32, spv_matmul_nt_f32) \
    SRLM_OP(MATMUL_NT_F16, spv_matmul_nt_f16) \
    SRLM_OP(MATMUL_NT_F16_U64, spv_matmul_nt_f16_u64) \
    SRLM_OP(MATMUL_NT_F32_U64, spv_matmul_nt_f32_u64) \
    SRLM_OP(MATMUL_MV_F32, spv_matmul_mv_f32) \
    SRLM_OP(MATMUL_MV_F16, spv_matmul_mv_f16) \
    SRLM_OP(MATMUL_MV_F16_U64, spv_matmul_mv_f16_u64) \
    SRLM_OP(MATMUL_MV_F32_U64, spv_matmul_mv_f32_u64) \
    SRLM_OP(MATMUL_NN_F32, spv_matmul_nn_f32) \
    SRLM_OP(MATMUL_NN_F16, spv_matmul_nn_f16) \
    SRLM_OP(MATMUL_TN_F32, spv_matmul_tn_f32) \
    SRLM_OP(MATMUL_COLSUM_F32, spv_matmul_colsum_f32) \
    SRLM_OP(MATMUL_SM_NT_F32, spv_matmul_sm_nt_f32) \
    SRLM_OP(MATMUL_SM_NT_F16, spv_matmul_sm_nt_f16) \
    SRLM_OP(MATMUL_SM_NN_F32, spv_matmul_sm_nn_f32) \
    SRLM_OP(MATMUL_SM_NN_F16, spv_matmul_sm_nn_f16) \
    SRLM_OP(MATMUL_SM_TN_F32, spv_matmul_sm_tn_f32) \
    SRLM_OP(MEMBW_READ, spv_membw_read) \
    SRLM_OP(MEMBW_COPY, spv_membw_copy)
