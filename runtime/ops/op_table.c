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
};

const int srlm_op_count = SRLM_OP_COUNT;
