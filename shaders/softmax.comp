#version 450
#extension GL_GOOGLE_include_directive : require
// softmax: numerically stable softmax of each row of C, one workgroup per row.
//   FWD: y = exp(x - max) / sum exp(x - max). Each invocation keeps a running (max, sum) over
//        its columns (online softmax), combined with wg_max / wg_sum; a second read writes y.
//        bindings 0 = y (N,C) written, 1 = x (N,C).      push b0 = y window base, b1 = x base.
//   BWD: dx = y * (dy - sum(dy * y)).
//        bindings 0 = dx (N,C) written, 1 = dy, 2 = y.   push b0, b1, b2 = window bases.
// VEC4: rows bound as vec4 arrays (rowvec.glsl); C and the bases are then in vec4 units.
// push: srlm_push_rows {N, C, eps (unused), b0..b4}. spec 0 = workgroup size.
#include "wg_reduce.glsl"
#include "rowvec.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint C; float eps; uint b0; uint b1; uint b2; uint b3; uint b4; } p;
layout(std430, binding = 0) writeonly buffer Y { T y[]; };
layout(std430, binding = 1) readonly buffer X { T x[]; };
#if defined(BWD)
layout(std430, binding = 2) readonly buffer Z { T z[]; };
#endif

#define NEG_INF uintBitsToFloat(0xff800000u)

void main() {
  uint L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  for (uint r = gl_WorkGroupID.x; r < p.N; r += gl_NumWorkGroups.x) {
    uint o0 = p.b0 + r * p.C, o1 = p.b1 + r * p.C;
#if defined(BWD)
    uint o2 = p.b2 + r * p.C;
    float acc = 0.0;
    for (uint c = t; c < p.C; c += L) acc += HSUM(x[o1 + c] * z[o2 + c]);
    acc = wg_sum(acc);
    for (uint c = t; c < p.C; c += L) y[o0 + c] = z[o2 + c] * (x[o1 + c] - acc);
#else
    float m = NEG_INF, s = 0.0;
    for (uint c = t; c < p.C; c += L) {
      T v = x[o1 + c];
      float vm = HMAX(v);
      if (vm > m) { s *= exp(m - vm); m = vm; }
      if (m != NEG_INF) s += HSUM(exp(v - m));  // masked (-inf) entries add 0, not exp(NaN)
    }
    float M = wg_max(m);
    float S = wg_sum(m == M ? s : s * exp(m - M));
    float inv = 1.0 / S;
    for (uint c = t; c < p.C; c += L) y[o0 + c] = exp(x[o1 + c] - M) * inv;
#endif
  }
}
