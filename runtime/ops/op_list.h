/* op_list.h: every shader variant, SRLM_OP(ENUM_SUFFIX, spirv_symbol). Add a line here,
 * one in shaders/meson.build, a row in op_table.c, a host function, a CPU reference, a test. */
#define SRLM_OP_LIST \
    SRLM_OP(FILL_F32, spv_fill_f32) \
    SRLM_OP(MEMBW_READ, spv_membw_read) \
    SRLM_OP(MEMBW_COPY, spv_membw_copy)
