#version 450
#extension GL_GOOGLE_include_directive : require
// rmsnorm_bwd: RMSNorm backward in three variants (no float atomics, fixed order):
//   DX: per row: k = mean(w * dy * x) * rstd^2, dx += (w * dy - x * k) * rstd.
//       bindings 0 = dx (N,C) read+written, 1 = dy (N,C), 2 = x (N,C), 3 = w (C), 4 = rstd (N).
//       One workgroup per row. push b0..b4: row-0 element index in the windows of dx, dy, x,
//       (unused), rstd.
//   DW_PARTIAL: part[blk0 + b][c] = sum over rows r of block b (rows_per_block rows, in order)
//       of dy[r][c] * x[r][c] * rstd[r]. bindings 0 = part (nblocks,C) written, 1 = dy, 2 = x,
//       3 = rstd. Grid: x over columns, y over blocks. push b1,b2,b4 as for DX; b0 = blk0;
//       b3 = rows_per_block.
//   DW_REDUCE: dw[c] += sum over blocks b (in order) of part[b][c]. bindings 0 = dw (C)
//       read+written, 1 = part. push N = nblocks.
//   With VEC4 (DX, DW_PARTIAL, DW_REDUCE), the row arrays are vec4 (rowvec.glsl): C and the
//   row bases in vec4 units; rstd stays float.
// push: srlm_push_rows {N, C, eps (unused), b0..b4}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint C; float eps; uint b0; uint b1; uint b2; uint b3; uint b4; } p;

#if defined(DX)
#include "wg_reduce.glsl"
#include "rowvec.glsl"
layout(std430, binding = 0) buffer DXB { T dx[]; };
layout(std430, binding = 1) readonly buffer DY { T dy[]; };
layout(std430, binding = 2) readonly buffer X { T x[]; };
layout(std430, binding = 3) readonly buffer W { T w[]; };
layout(std430, binding = 4) readonly buffer R { float rs[]; };
void main() {
  uint L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  for (uint r = gl_WorkGroupID.x; r < p.N; r += gl_NumWorkGroups.x) {
    uint o0 = p.b0 + r * p.C, o1 = p.b1 + r * p.C, o2 = p.b2 + r * p.C;
    float acc = 0.0;
    for (uint c = t; c < p.C; c += L) acc += HSUM(w[c] * dy[o1 + c] * x[o2 + c]);
    acc = wg_sum(acc);
    float rstd = rs[p.b4 + r];
    float k = acc / float(p.C * TW) * rstd * rstd;
    for (uint c = t; c < p.C; c += L) dx[o0 + c] += (w[c] * dy[o1 + c] - x[o2 + c] * k) * rstd;
  }
}
#elif defined(DW_PARTIAL)
#include "rowvec.glsl"
layout(std430, binding = 0) writeonly buffer PART { T part[]; };
layout(std430, binding = 1) readonly buffer DY { T dy[]; };
layout(std430, binding = 2) readonly buffer X { T x[]; };
layout(std430, binding = 3) readonly buffer R { float rs[]; };
void main() {
  uint c = gl_GlobalInvocationID.x;
  if (c >= p.C) return;
  for (uint b = gl_WorkGroupID.y; b * p.b3 < p.N; b += gl_NumWorkGroups.y) {
    uint r1 = min(p.N, (b + 1u) * p.b3);
    T acc = T(0.0);
    for (uint r = b * p.b3; r < r1; r++) acc += dy[p.b1 + r * p.C + c] * x[p.b2 + r * p.C + c] * rs[p.b4 + r];
    part[(p.b0 + b) * p.C + c] = acc;
  }
}
#elif defined(DW_REDUCE)
#include "rowvec.glsl"
layout(std430, binding = 0) buffer DW { T dw[]; };
layout(std430, binding = 1) readonly buffer PART { T part[]; };
void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint c = gl_GlobalInvocationID.x; c < p.C; c += stride) {
    T acc = T(0.0);
    for (uint b = 0u; b < p.N; b++) acc += part[b * p.C + c];
    dw[c] += acc;
  }
}
#else
#error "define DX, DW_PARTIAL or DW_REDUCE"
#endif
