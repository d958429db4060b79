#version 450
#extension GL_GOOGLE_include_directive : require
// rmsnorm_fwd: per row r of N rows of C: rstd = 1/sqrt(mean(x^2) + eps), y = x * rstd * w.
// One workgroup per row (grid-stride over rows); fp32 sums, reduced with wg_sum.
// bindings: 0 = y (N,C) written, 1 = rstd (N) written, 2 = x (N,C), 3 = w (C).
// push: srlm_push_rows {N, C, eps, b0, b1, b2}: b0/b1/b2 = element index of row 0 inside the
// windows bound at y, rstd and x (the host binds aligned windows of larger tensors).
// VEC4: rows bound as vec4 arrays (rowvec.glsl); C and the bases are then in vec4 units.
// spec 0 = workgroup size.
#include "wg_reduce.glsl"
#include "rowvec.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint C; float eps; uint b0; uint b1; uint b2; uint b3; uint b4; } p;
layout(std430, binding = 0) writeonly buffer Y { T y[]; };
layout(std430, binding = 1) writeonly buffer R { float rs[]; };
layout(std430, binding = 2) readonly buffer X { T x[]; };
layout(std430, binding = 3) readonly buffer W { T w[]; };

void main() {
  uint L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  for (uint r = gl_WorkGroupID.x; r < p.N; r += gl_NumWorkGroups.x) {
    uint xo = p.b2 + r * p.C, yo = p.b0 + r * p.C;
    float ss = 0.0;
    for (uint c = t; c < p.C; c += L) ss += HSUM(x[xo + c] * x[xo + c]);
    ss = wg_sum(ss);
    float rstd = 1.0 / sqrt(ss / float(p.C * TW) + p.eps);
    for (uint c = t; c < p.C; c += L) y[yo + c] = x[xo + c] * rstd * w[c];
    if (t == 0u) rs[p.b1 + r] = rstd;
  }
}
