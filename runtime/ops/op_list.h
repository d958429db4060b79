/* op_list.h: every shader variant, SRLM_OP(ENUM_SUFFIX, spirv_symbol). Add a line here,
 * one in shaders/meson.build, a row in op_table.c, a host function, a CPU reference, a test. */
#define SRLM_OP_LIST \
    SRLM_OP(FILL_F32, spv_fill_f32) \
    SRLM_OP(MEMBW_READ, spv_membw_read) \
    SRLM_OP(MEMBW_COPY, spv_membw_copy) \
    SRLM_OP(KV_APPEND, spv_kv_append) \
    SRLM_OP(ATTN_PAGED_SG, spv_attn_paged_sg) \
    SRLM_OP(ATTN_PAGED_T, spv_attn_paged_t) \
    SRLM_OP(ATTN_PAGED_GQA, spv_attn_paged_gqa) \
    SRLM_OP(ATTN_PAGED_TG, spv_attn_paged_tg) \
    SRLM_OP(ATTN_COMBINE, spv_attn_combine) \
    SRLM_OP(ATTN_FWD, spv_attn_fwd) \
    SRLM_OP(ATTN_BWD_DQ, spv_attn_bwd_dq) \
    SRLM_OP(ATTN_BWD_DKV, spv_attn_bwd_dkv)
