/* ref_adamw.c: CPU reference of the AdamW step (torch.optim.AdamW semantics, float
 * arithmetic per element, bias corrections in double) and of global gradient-norm clipping
 * (torch.nn.utils.clip_grad_norm_). No schedules here: lr comes in per step. */
#include "ref.h"

#include <math.h>

void srlm_ref_adamw_step(float *param, float *m, float *v, const float *grad, size_t n,
                         float lr, float beta1, float beta2, float eps, float weight_decay,
                         int decay, int t, float grad_scale) {
    float step_size = (float)(lr / (1.0 - pow(beta1, t)));
    float bc2_sqrt = (float)sqrt(1.0 - pow(beta2, t));
    float shrink = decay ? 1.0f - lr * weight_decay : 1.0f;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] * grad_scale;
        float p = param[i] * shrink;
        m[i] = beta1 * m[i] + (1.0f - beta1) * g;
        v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        param[i] = p - step_size * (m[i] / denom);
    }
}

float srlm_ref_clip_scale(float norm, float max_norm) {
    float s = max_norm / (norm + 1e-6f);
    return s < 1.0f ? s : 1.0f;
}

float srlm_ref_clip_grad_norm(float *const *grads, const size_t *sizes, int count,
                              float max_norm) {
    float norm = srlm_ref_global_norm((const float *const *)grads, sizes, count);
    float s = srlm_ref_clip_scale(norm, max_norm);
    if (s < 1.0f)
        for (int t = 0; t < count; t++) srlm_ref_scale_fwd(grads[t], grads[t], s, sizes[t]);
    return norm;
}
