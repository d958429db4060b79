/* ops_adamw.c: host bindings of shaders/adamw.comp: the AdamW step over a flat f32 tensor in
 * pieces under the binding limit, and global-norm clipping computed on the device into the
 * parameter block the step reads. No schedule here: the caller picks lr per step. */
#include "ops/ops.h"

#include <math.h>

void srlm_adamw_params(float out[SRLM_ADAMW_PARAM_FLOATS], float lr, float beta1, float beta2, float weight_decay,
                       int t, float grad_pre) {
    /* the same expressions, in the same precision, as srlm_ref_adamw_step */
    out[SRLM_ADAMW_LR] = lr;
    out[SRLM_ADAMW_STEP_SIZE] = (float)(lr / (1.0 - pow(beta1, t)));
    out[SRLM_ADAMW_BC2_SQRT] = (float)sqrt(1.0 - pow(beta2, t));
    out[SRLM_ADAMW_SHRINK] = 1.0f - lr * weight_decay;
    out[SRLM_ADAMW_GRAD_PRE] = grad_pre;
    out[SRLM_ADAMW_GRAD_SCALE] = grad_pre;
    out[SRLM_ADAMW_NORM] = 0.0f;
    out[SRLM_ADAMW_SCALED_NORM] = 0.0f;
}

static srlm_status check(const char *name, srlm_buf b, uint64_t n) {
    if (b.size < n * 4)
        return srlm_errorf(SRLM_ERR_INVALID, "adamw: %s holds %llu bytes, %llu floats need %llu", name,
                           (unsigned long long)b.size, (unsigned long long)n, (unsigned long long)(n * 4));
    return NULL;
}

srlm_status srlm_op_adamw(srlm_cmd *c, srlm_buf param, srlm_buf m, srlm_buf v, srlm_buf grad, srlm_buf hp, uint64_t n,
                          float beta1, float beta2, float eps, int decay) {
    SRLM_TRY(check("param", param, n));
    SRLM_TRY(check("m", m, n));
    SRLM_TRY(check("v", v, n));
    SRLM_TRY(check("grad", grad, n));
    SRLM_TRY(check("parameter block", hp, SRLM_ADAMW_PARAM_FLOATS));
    uint64_t piece = srlm_ops_piece_elems(c->ctx, 4);
    uint32_t wg = srlm_op_table[SRLM_OP_ADAMW_STEP_F32].spec[0];
    for (uint64_t off = 0; off < n; off += piece) {
        uint64_t k = n - off < piece ? n - off : piece;
        srlm_push_adamw p = {.n = (uint32_t)k, .beta1 = beta1, .beta2 = beta2, .eps = eps, .decay = decay != 0};
        srlm_buf b[5] = {srlm_buf_slice(param, off * 4, k * 4), srlm_buf_slice(m, off * 4, k * 4),
                         srlm_buf_slice(v, off * 4, k * 4), srlm_buf_slice(grad, off * 4, k * 4),
                         srlm_ops_window(c->ctx, hp, 4, 0, SRLM_ADAMW_PARAM_FLOATS, &p.hb)};
        SRLM_TRY(srlm_cmd_dispatch(c, SRLM_OP_ADAMW_STEP_F32, NULL, b, 5, &p, sizeof p,
                                   srlm_ops_groups(c->ctx, k, wg * 8ull), 1, 1));
    }
    return NULL;
}

srlm_status srlm_op_clip_grad_norm(srlm_cmd *c, srlm_buf hp, srlm_buf scratch, const srlm_buf *grads,
                                   const uint64_t *ns, int count, float max_norm) {
    if (hp.size < SRLM_ADAMW_PARAM_FLOATS * 4)
        return srlm_errorf(SRLM_ERR_INVALID, "clip_grad_norm: parameter block holds %llu bytes, needs %d",
                           (unsigned long long)hp.size, SRLM_ADAMW_PARAM_FLOATS * 4);
    SRLM_TRY(srlm_op_global_norm(c, srlm_buf_slice(hp, SRLM_ADAMW_NORM * 4, 4), scratch, grads, ns, count));
    srlm_push_adamw p = {.max_norm = max_norm};
    srlm_buf b = srlm_ops_window(c->ctx, hp, 4, 0, SRLM_ADAMW_PARAM_FLOATS, &p.hb);
    return srlm_cmd_dispatch(c, SRLM_OP_ADAMW_CLIP_F32, NULL, &b, 1, &p, sizeof p, 1, 1, 1);
}
