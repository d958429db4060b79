#version 450
#extension GL_GOOGLE_include_directive : require
// reduce: deterministic sums in two passes (fixed order, no float atomics).
//   PARTIAL (optionally SQUARE): bindings 0 = partials (written, one per workgroup), 1 = x (n).
//     Workgroup g sums x[i] (x[i]^2 with SQUARE) over its grid-stride share in a fixed order,
//     then wg_sum; partials[g] = that sum. out_index = the slot length: workgroup 0 also
//     zeroes partials[groups .. out_index), so the final pass can sum whole slots.
//   FINAL: bindings 0 = out (written), 1 = partials (n of them): out[out_index] = sum of the
//     partials (sqrt of it when do_sqrt != 0). Dispatch one workgroup.
// push: srlm_push_reduce {n, out_index, do_sqrt}. spec 0 = workgroup size.
#include "wg_reduce.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; uint out_index; uint do_sqrt; } p;
layout(std430, binding = 0) writeonly buffer O { float o[]; };
#if defined(PARTIAL)
layout(std430, binding = 1) readonly buffer X { vec4 x[]; };  // vec4: 16-byte loads
#else
layout(std430, binding = 1) readonly buffer X { float x[]; };
#endif

void main() {
  float acc = 0.0;
#if defined(PARTIAL)
  // whole vec4s in a grid-stride loop, then the n%4 trailing floats (as in eltwise.comp)
  uint nv = p.n / 4u;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  vec4 a4 = vec4(0.0);
  for (uint i = gl_GlobalInvocationID.x; i < nv; i += stride) {
#if defined(SQUARE)
    a4 += x[i] * x[i];
#else
    a4 += x[i];
#endif
  }
  acc = (a4.x + a4.y) + (a4.z + a4.w);
  uint t = gl_GlobalInvocationID.x;
  if (t < (p.n & 3u)) {
#if defined(SQUARE)
    acc += x[nv][t] * x[nv][t];
#else
    acc += x[nv][t];
#endif
  }
  acc = wg_sum(acc);
  if (gl_LocalInvocationID.x == 0u) o[gl_WorkGroupID.x] = acc;
  if (gl_WorkGroupID.x == 0u)
    for (uint i = gl_NumWorkGroups.x + gl_LocalInvocationID.x; i < p.out_index; i += gl_WorkGroupSize.x) o[i] = 0.0;
#elif defined(FINAL)
  for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) acc += x[i];
  acc = wg_sum(acc);
  if (gl_LocalInvocationID.x == 0u) o[p.out_index] = p.do_sqrt != 0u ? sqrt(acc) : acc;
#else
#error "define PARTIAL or FINAL"
#endif
}
