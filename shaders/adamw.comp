#version 450
// adamw: the optimizer step on a flat f32 piece, and the clip factor it reads.
//   STEP: as srlm_ref_adamw_step (torch.optim.AdamW), per element i < n:
//     g = grad * gs; p *= shrink (decay != 0 only); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//     p -= step_size * m / (sqrt(v) / bc2_sqrt + eps).
//     step_size, bc2_sqrt, shrink and gs come from the parameter block hp (written per step by
//     the host, gs by CLIP on the device), so a recorded step replays with new values.
//     bindings 0 = param, 1 = m, 2 = v (read+written), 3 = grad, 4 = hp.
//   CLIP: one invocation: hp[NORM] holds the global gradient norm (srlm_op_global_norm);
//     n = norm * pre; gs = pre * min(1, max_norm / (n + 1e-6)) (gs = pre when max_norm <= 0);
//     hp[GRAD_SCALE] = gs, hp[CLIPPED_NORM] = n. binding 0 = hp (read+written).
// Block layout (floats from hb): 0 lr, 1 step_size, 2 bc2_sqrt, 3 shrink, 4 pre (gradient
// pre-scale, e.g. 1/accumulation steps), 5 gs, 6 norm, 7 n (see ops.h SRLM_ADAMW_*).
// push srlm_push_adamw {n, beta1, beta2, eps, decay, hb, max_norm}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; float beta1; float beta2; float eps; uint decay; uint hb; float max_norm; uint pad; } p;

#if defined(STEP)
layout(std430, binding = 0) buffer PB { float par[]; };
layout(std430, binding = 1) buffer MB { float mo[]; };
layout(std430, binding = 2) buffer VB { float ve[]; };
layout(std430, binding = 3) readonly buffer GB { float gr[]; };
layout(std430, binding = 4) readonly buffer HB { float hp[]; };

void main() {
  float step_size = hp[p.hb + 1u], bc2 = hp[p.hb + 2u];
  float shrink = p.decay != 0u ? hp[p.hb + 3u] : 1.0, gs = hp[p.hb + 5u];
  precise float omb1 = 1.0 - p.beta1, omb2 = 1.0 - p.beta2;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
    precise float g = gr[i] * gs;
    precise float q = par[i] * shrink;
    precise float m = p.beta1 * mo[i] + omb1 * g;
    precise float v = p.beta2 * ve[i] + omb2 * g * g;
    precise float denom = sqrt(v) / bc2 + p.eps;
    mo[i] = m;
    ve[i] = v;
    par[i] = q - step_size * (m / denom);
  }
}

#elif defined(CLIP)
layout(std430, binding = 0) buffer HB { float hp[]; };

void main() {
  if (gl_GlobalInvocationID.x != 0u) return;
  float pre = hp[p.hb + 4u];
  precise float n = hp[p.hb + 6u] * pre;
  float s = 1.0;
  if (p.max_norm > 0.0) {
    precise float q = p.max_norm / (n + 1e-6);
    s = min(q, 1.0);
  }
  hp[p.hb + 5u] = pre * s;
  hp[p.hb + 7u] = n;
}
#else
#error "define STEP or CLIP"
#endif
