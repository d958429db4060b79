#version 450
#extension GL_GOOGLE_include_directive : require
// matmul_nn: dX = dY . W (or dX += with MM_ACC), the input gradient of Y = X . W^T, fp32
// accumulation. Register-tiled for CPU-like devices (lavapipe): each invocation computes TM rows
// of dX by 8*TK8 consecutive columns, loading each 8-element piece of a W row once for TM rows
// of dY. No shared memory, no barrier. For GPUs see matmul_sm.comp.
// bindings: 0 = dX (M,K) f32 (written), 1 = dY (M rows, stride ldy, from column ycol) f32,
//           2 = W (N,K) f32 or f16 pairs in uint (W_F16).
// push: srlm_push_matmul. spec: 0 = workgroup size, 1 = TM, 2 = TK8 (8-column blocks per
//       invocation), 3 = VEC (1: K % 8 == 0, 16-byte loads; 0: scalar loads, any K).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 4;
layout(constant_id = 2) const uint TK8 = 1;
layout(constant_id = 3) const uint VEC = 1;

layout(std430, binding = 0) buffer DXb { float dx[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
#define W_BINDING 2
#include "matmul_common.glsl"

void main() {
  const uint M = p.M, N = p.N, K = p.K;
  const uint k0 = gl_GlobalInvocationID.x * 8u * TK8;
  const uint m0 = gl_WorkGroupID.y * TM;
  if (k0 >= K || m0 >= M) return;
  vec4 acc[TM * TK8 * 2u];
  for (uint i = 0; i < TM * TK8 * 2u; i++) acc[i] = vec4(0.0);
  uint yr[TM];
  for (uint i = 0; i < TM; i++) yr[i] = min(m0 + i, M - 1u) * p.ldy + p.ycol;
  // Column blocks past the end are clamped to the last block (VEC) or column: dropped later.
  uint kb[TK8];
  for (uint t = 0; t < TK8; t++) kb[t] = min(k0 + 8u * t, K - 1u) & ~7u;
  for (uint n = 0; n < N; n++) {
    float g[TM];
    for (uint i = 0; i < TM; i++) g[i] = dy[yr[i] + n];
    for (uint t = 0; t < TK8; t++) {
      vec4 wa, wb;
      if (VEC == 1u) {
        w_at8((n * K + kb[t]) >> 3, wa, wb);
      } else {
        uint c = k0 + 8u * t;
        for (uint e = 0; e < 4u; e++) {
          wa[e] = w_at(n * K + min(c + e, K - 1u));
          wb[e] = w_at(n * K + min(c + 4u + e, K - 1u));
        }
      }
      for (uint i = 0; i < TM; i++) {
        acc[(i * TK8 + t) * 2u] += g[i] * wa;
        acc[(i * TK8 + t) * 2u + 1u] += g[i] * wb;
      }
    }
  }
  for (uint i = 0; i < TM; i++) {
    uint m = m0 + i;
    if (m >= M) break;
    for (uint t = 0; t < TK8; t++)
      for (uint e = 0; e < 8u; e++) {
        uint k = k0 + 8u * t + e;
        if (k >= K) break;
        float v = acc[(i * TK8 + t) * 2u + e / 4u][e % 4u];
        uint o = m * K + k;
        if ((p.flags & MM_ACC) != 0u) v += dx[o];
        dx[o] = v;
      }
  }
}
