/* ops_eltwise.c: host bindings of shaders/eltwise.comp (add, mul, scale, axpy) and
 * shaders/silu.comp (SiLU, SwiGLU): elementwise f32 ops in pieces under the binding limit. */
#include "ops/ops.h"

srlm_status srlm_op_add(srlm_cmd *c, srlm_buf y, srlm_buf a, srlm_buf b, uint64_t n) {
    srlm_buf v[3] = {y, a, b};
    return srlm_ops_eltwise(c, SRLM_OP_ADD_F32, "add", v, 3, n, 0);
}

srlm_status srlm_op_mul(srlm_cmd *c, srlm_buf y, srlm_buf a, srlm_buf b, uint64_t n) {
    srlm_buf v[3] = {y, a, b};
    return srlm_ops_eltwise(c, SRLM_OP_MUL_F32, "mul", v, 3, n, 0);
}

srlm_status srlm_op_scale(srlm_cmd *c, srlm_buf y, srlm_buf x, float s, uint64_t n) {
    srlm_buf v[2] = {y, x};
    return srlm_ops_eltwise(c, SRLM_OP_SCALE_F32, "scale", v, 2, n, s);
}

srlm_status srlm_op_axpy(srlm_cmd *c, srlm_buf y, float s, srlm_buf x, uint64_t n) {
    srlm_buf v[2] = {y, x};
    return srlm_ops_eltwise(c, SRLM_OP_AXPY_F32, "axpy", v, 2, n, s);
}

srlm_status srlm_op_silu_fwd(srlm_cmd *c, srlm_buf y, srlm_buf x, uint64_t n) {
    srlm_buf v[2] = {y, x};
    return srlm_ops_eltwise(c, SRLM_OP_SILU_FWD_F32, "silu_fwd", v, 2, n, 0);
}

srlm_status srlm_op_silu_bwd(srlm_cmd *c, srlm_buf dx, srlm_buf dy, srlm_buf x, uint64_t n) {
    srlm_buf v[3] = {dx, dy, x};
    return srlm_ops_eltwise(c, SRLM_OP_SILU_BWD_F32, "silu_bwd", v, 3, n, 0);
}

srlm_status srlm_op_swiglu_fwd(srlm_cmd *c, srlm_buf y, srlm_buf gate, srlm_buf up, uint64_t n) {
    srlm_buf v[3] = {y, gate, up};
    return srlm_ops_eltwise(c, SRLM_OP_SWIGLU_FWD_F32, "swiglu_fwd", v, 3, n, 0);
}

srlm_status srlm_op_swiglu_bwd(srlm_cmd *c, srlm_buf dgate, srlm_buf dup, srlm_buf dy, srlm_buf gate, srlm_buf up,
                               uint64_t n) {
    srlm_buf v[5] = {dgate, dup, dy, gate, up};
    return srlm_ops_eltwise(c, SRLM_OP_SWIGLU_BWD_F32, "swiglu_bwd", v, 5, n, 0);
}
