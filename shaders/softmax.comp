#version 450
#extension GL_GOOGLE_include_directive : require
// softmax: numerically stable softmax of each row of C, one workgroup per row.
//   FWD: y = exp(x - max) / sum exp(x - max). Each invocation keeps a running (max, sum) over
//        its columns (online softmax), combined with wg_max / wg_sum; a second read writes y.
//        bindings 0 = y (N,C) written, 1 = x (N,C).      push b0 = y window base, b1 = x base.
//   BWD: dx = y * (dy - sum(dy * y)).
//        bindings 0 = dx (N,C) written, 1 = dy, 2 = y.   push b0, b1, b2 = window bases.
// push: srlm_push_rows {N, C, eps (unused), b0..b4}. spec 0 = workgroup size.
#include "wg_reduce.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint C; float eps; uint b0; uint b1; uint b2; uint b3; uint b4; } p;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
#if defined(BWD)
layout(std430, binding = 2) readonly buffer Z { float z[]; };
#endif

void main() {
  uint L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  for (uint r = gl_WorkGroupID.x; r < p.N; r += gl_NumWorkGroups.x) {
    uint o0 = p.b0 + r * p.C, o1 = p.b1 + r * p.C;
#if defined(BWD)
    uint o2 = p.b2 + r * p.C;
    float dot = 0.0;
    for (uint c = t; c < p.C; c += L) dot += x[o1 + c] * z[o2 + c];
    dot = wg_sum(dot);
    for (uint c = t; c < p.C; c += L) y[o0 + c] = z[o2 + c] * (x[o1 + c] - dot);
#else
    float m = uintBitsToFloat(0xff800000u), s = 0.0;  // -inf
    for (uint c = t; c < p.C; c += L) {
      float v = x[o1 + c];
      if (v > m) { s = s * exp(m - v) + 1.0; m = v; }
      else s += exp(v - m);
    }
    float M = wg_max(m);
    float S = wg_sum(m == M ? s : s * exp(m - M));
    float inv = 1.0 / S;
    for (uint c = t; c < p.C; c += L) y[o0 + c] = exp(x[o1 + c] - M) * inv;
#endif
  }
}
