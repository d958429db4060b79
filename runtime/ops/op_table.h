/* op_table.h: one row per shader variant: name, embedded SPIR-V, bindings (which are
 * written), push-constant size, specialization constants (constant 0 is always the
 * workgroup size). The host binding of each op (ops_*.c) dispatches through this table. */
#ifndef SRLM_OP_TABLE_H
#define SRLM_OP_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define SRLM_OP_MAX_SPEC 6

typedef struct srlm_op_desc {
    const char *name;
    const uint32_t *spv;
    const size_t *spv_size;
    uint8_t nbind;
    uint16_t write_mask;       /* bit i set: the shader writes binding i */
    uint16_t push_size;        /* bytes of the push-constant struct */
    uint8_t nspec;             /* specialization constants 0..nspec-1 */
    uint32_t spec[SRLM_OP_MAX_SPEC]; /* defaults; spec[0] = workgroup size x */
} srlm_op_desc;

/* X-macro list of ops: SRLM_OP(ENUM, symbol) -- the row itself is in op_table.c. */
#include "op_list.h"

typedef enum srlm_op_id {
#define SRLM_OP(id, sym) SRLM_OP_##id,
    SRLM_OP_LIST
#undef SRLM_OP
    SRLM_OP_COUNT
} srlm_op_id;

extern const srlm_op_desc srlm_op_table[SRLM_OP_COUNT];
extern const int srlm_op_count;

#endif
