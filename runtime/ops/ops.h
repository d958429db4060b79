/* ops.h: one host function per shader. Each records dispatches into a srlm_cmd (it does not
 * submit); outputs first, then inputs, then weights, then sizes, as in llm.c. Buffers larger
 * than maxStorageBufferRange are processed in pieces where the op allows it. */
#ifndef SRLM_OPS_H
#define SRLM_OPS_H

#include "vk/vk.h"
#include "ops/op_table.h"
#include "ops/push.h"

/* Largest element count of one binding for elements of `elem_bytes`, keeping piece offsets
 * aligned for binding. */
uint64_t srlm_ops_piece_elems(const srlm_ctx *ctx, uint64_t elem_bytes);
/* Workgroup count for n items at `per_group` items per group, capped for grid-stride loops. */
uint32_t srlm_ops_groups(const srlm_ctx *ctx, uint64_t n, uint64_t per_group);

/* y[i] = value, i < n. y: (n,) f32. Any n (pieces). */
srlm_status srlm_op_fill(srlm_cmd *c, srlm_buf y, uint64_t n, float value);

#endif
