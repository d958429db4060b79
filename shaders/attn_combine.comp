#version 450
// attn_combine: finishes split attention (attn_paged with nsplit > 1): for each (row, head)
// merges the splits' partial results (acc_s unnormalised, max m_s, sum l_s):
//   M = max_s m_s, out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s (0 if the sum is 0).
// bindings: 0 = out (Tq,NH,HS) f32 (written), 1 = part (Tq,NH,nsplit,HS+2) f32.
// push: srlm_push_attn_combine {rows = Tq*NH, HS, nsplit}. spec 0 = workgroup size.
// One invocation per output element, grid-stride; splits are merged in order (deterministic).
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer PT { float part[]; };
layout(push_constant) uniform P { uint rows; uint HS; uint nsplit; } p;
void main() {
  uint total = p.rows * p.HS;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint W = p.HS + 2u;
  for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
    uint d = i % p.HS, rh = i / p.HS;
    uint b = rh * p.nsplit * W;
    float M = -1e30;
    for (uint s = 0u; s < p.nsplit; s++) M = max(M, part[b + s * W + p.HS]);
    float L = 0.0, a = 0.0;
    for (uint s = 0u; s < p.nsplit; s++) {
      float f = exp(part[b + s * W + p.HS] - M);
      L += f * part[b + s * W + p.HS + 1u];
      a += f * part[b + s * W + d];
    }
    o[i] = L > 0.0 ? a / L : 0.0;
  }
}
