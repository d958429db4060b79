#version 450
#extension GL_GOOGLE_include_directive : require
// matmul_tn: dW += dY^T . X (dW = with MM_ACC clear), the weight gradient of Y = X . W^T, fp32.
// Deterministic: each element of dW is owned by one invocation and summed over m in order (no
// atomics). Register-tiled for CPU-like devices: each invocation owns TN rows of dW by 8*TK8
// consecutive columns. The bias gradient is matmul_colsum.comp. For GPUs see matmul_sm.comp.
// bindings: 0 = dW (N,K) f32 (read and written), 1 = dY (M rows, stride ldy, from column ycol)
//           f32, 2 = X (M,K) f32.
// push: srlm_push_matmul. spec: 0 = workgroup size, 1 = TN, 2 = TK8, 3 = VEC (1: K % 8 == 0).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TN = 4;
layout(constant_id = 2) const uint TK8 = 1;
layout(constant_id = 3) const uint VEC = 1;

layout(std430, binding = 0) buffer DWb { float dw[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
layout(std430, binding = 2) readonly buffer Xb { float x[]; };
layout(std430, binding = 2) readonly buffer Xb4 { vec4 x4[]; };
#include "matmul_push.glsl"

void main() {
  const uint M = p.M, N = p.N, K = p.K;
  const uint k0 = gl_GlobalInvocationID.x * 8u * TK8;
  const uint n0 = gl_WorkGroupID.y * TN;
  if (k0 >= K || n0 >= N) return;
  vec4 acc[TN * TK8 * 2u];
  for (uint i = 0; i < TN * TK8 * 2u; i++) acc[i] = vec4(0.0);
  uint nc[TN];
  for (uint j = 0; j < TN; j++) nc[j] = p.ycol + min(n0 + j, N - 1u);
  uint kb[TK8];
  for (uint t = 0; t < TK8; t++) kb[t] = min(k0 + 8u * t, K - 1u) & ~7u;
  for (uint m = 0; m < M; m++) {
    float g[TN];
    for (uint j = 0; j < TN; j++) g[j] = dy[m * p.ldy + nc[j]];
    for (uint t = 0; t < TK8; t++) {
      vec4 xa, xb;
      if (VEC == 1u) {
        uint b = (m * K + kb[t]) >> 2;
        xa = x4[b];
        xb = x4[b + 1u];
      } else {
        uint c = k0 + 8u * t;
        for (uint e = 0; e < 4u; e++) {
          xa[e] = x[m * K + min(c + e, K - 1u)];
          xb[e] = x[m * K + min(c + 4u + e, K - 1u)];
        }
      }
      for (uint j = 0; j < TN; j++) {
        acc[(j * TK8 + t) * 2u] += g[j] * xa;
        acc[(j * TK8 + t) * 2u + 1u] += g[j] * xb;
      }
    }
  }
  for (uint j = 0; j < TN; j++) {
    uint n = n0 + j;
    if (n >= N) break;
    for (uint t = 0; t < TK8; t++)
      for (uint e = 0; e < 8u; e++) {
        uint k = k0 + 8u * t + e;
        if (k >= K) break;
        float v = acc[(j * TK8 + t) * 2u + e / 4u][e % 4u];
        uint o = n * K + k;
        if ((p.flags & MM_ACC) != 0u) v += dw[o];
        dw[o] = v;
      }
  }
}
