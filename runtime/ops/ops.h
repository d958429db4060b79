/* ops.h: one host function per shader. Each records dispatches into a srlm_cmd (it does not
 * submit); outputs first, then inputs, then weights, then sizes, as in llm.c. Buffers larger
 * than maxStorageBufferRange are processed in pieces where the op allows it. */
#ifndef SRLM_OPS_H
#define SRLM_OPS_H

#include "vk/vk.h"
#include "ops/op_table.h"
#include "ops/push.h"

/* Bytes one binding may span: maxStorageBufferRange, lowered (never raised) by the environment
 * variable SRLM_MAX_BINDING_BYTES (bytes, or with a K/M/G suffix; values under 4096 are
 * ignored) so that tests can exercise the tiling of large tensors at small sizes. */
uint64_t srlm_ops_binding_limit(const srlm_ctx *ctx);
/* Largest element count of one binding for elements of `elem_bytes`, keeping piece offsets
 * aligned for binding. */
uint64_t srlm_ops_piece_elems(const srlm_ctx *ctx, uint64_t elem_bytes);
/* Workgroup count for n items at `per_group` items per group, capped for grid-stride loops. */
uint32_t srlm_ops_groups(const srlm_ctx *ctx, uint64_t n, uint64_t per_group);

/* y[i] = value, i < n. y: (n,) f32. Any n (pieces). */
srlm_status srlm_op_fill(srlm_cmd *c, srlm_buf y, uint64_t n, float value);

/* ---- matrix multiply (ops_matmul.c; shaders/matmul_*.comp) ----------------------------------
 * The three forms of a linear layer with W stored (N,K) as in PyTorch, fp32 accumulation:
 *   forward      Y  = X . W^T (+ bias)     (or Y += with accumulate: residual adds)
 *   input grad   dX = dY . W               (or dX += with accumulate)
 *   weight grad  dW += dY^T . X, db += column sums of dY   (always accumulate; deterministic)
 * X, Y, dX, dY, dW, bias are dense row-major f32; W is f32 or f16 (IEEE halves, two per 32-bit
 * word, element i in the low half when i is even; no shaderFloat16 or 16-bit storage needed).
 * Tensors larger than the binding limit (srlm_ops_binding_limit) are processed in tiles of W
 * rows (a column range of Y) and of X rows, one dispatch per tile. Errors: buffers too small
 * for the sizes, a single row over the binding limit, pipeline failures. */
typedef enum srlm_mm_wtype { SRLM_MM_W_F32 = 0, SRLM_MM_W_F16 = 1 } srlm_mm_wtype;

/* Which kernels run. AUTO picks from the device caps: register tiles (no shared memory, no
 * barrier) on CPU devices and devices with subgroups under 16 lanes, there with the one-subgroup
 * matrix-vector kernel (forward only, up to 16 rows of X per dispatch) for few rows of X;
 * shared-memory tiles on GPUs. Tests and benchmarks force a kernel and tile sizes here; 0 means the default. */
typedef enum srlm_mm_kernel { SRLM_MM_AUTO = 0, SRLM_MM_REGTILE = 1, SRLM_MM_SHARED = 2, SRLM_MM_MATVEC = 3 } srlm_mm_kernel;
typedef struct srlm_mm_cfg {
    srlm_mm_kernel kernel;
    uint32_t wg;     /* workgroup size */
    uint32_t t1, t2; /* register tile: forward TM x TN; dX TM x TK8; dW TN x TK8; matvec TM x R */
    uint32_t bi, bj, bp, ti, tj; /* shared-memory tile (wg must be (bi/ti)*(bj/tj)) */
    int ld64;        /* 1: 16-byte loads as 64-bit pairs (needs shaderInt64; register-tile and
                      * matrix-vector forward only); 0: the portable 32-bit loads */
} srlm_mm_cfg;

/* The configuration `in` (NULL: all defaults) resolves to for this device, form (0 fwd, 1 dX,
 * 2 dW), M rows of X and K. */
void srlm_mm_cfg_resolve(const srlm_ctx *ctx, int form, uint32_t M, uint32_t K, const srlm_mm_cfg *in, srlm_mm_cfg *out);

srlm_status srlm_op_matmul_fwd(srlm_cmd *c,
                               srlm_buf y,           // (M,N) f32
                               srlm_buf x,           // (M,K) f32
                               srlm_buf w,           // (N,K) f32 or f16
                               srlm_mm_wtype wt,
                               const srlm_buf *bias, // (N) f32; may be NULL
                               uint32_t M, uint32_t N, uint32_t K, int accumulate, const srlm_mm_cfg *cfg);
srlm_status srlm_op_matmul_bwd_inp(srlm_cmd *c,
                                   srlm_buf dx,      // (M,K) f32
                                   srlm_buf dy,      // (M,N) f32
                                   srlm_buf w,       // (N,K) f32 or f16
                                   srlm_mm_wtype wt,
                                   uint32_t M, uint32_t N, uint32_t K, int accumulate, const srlm_mm_cfg *cfg);
srlm_status srlm_op_matmul_bwd_weight(srlm_cmd *c,
                                      srlm_buf dw,         // (N,K) f32 +=
                                      const srlm_buf *db,  // (N) f32 +=; may be NULL
                                      srlm_buf dy,         // (M,N) f32
                                      srlm_buf x,          // (M,K) f32
                                      uint32_t M, uint32_t N, uint32_t K, const srlm_mm_cfg *cfg);

#endif
