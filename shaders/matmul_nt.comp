#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef LD64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif
// matmul_nt: Y = X . W^T (+ bias) (+ Y with MM_ACC), fp32 accumulation. Register-tiled for
// CPU-like devices (lavapipe): no shared memory, no barrier; each invocation computes a TM x TN
// tile of Y (TM rows of X against TN rows of W) so that every load serves several FMAs.
// Invocations of a workgroup take consecutive groups of TN rows of W; workgroup y takes TM rows
// of X. Not the variant for GPUs with wide subgroups: see matmul_sm.comp.
// bindings: 0 = Y (M rows, stride ldy, from column ycol; f32, written), 1 = X (M,K) f32,
//           2 = W (N,K) f32 or f16 pairs in uint (W_F16), 3 = bias (N) f32 (read if MM_BIAS).
// push: srlm_push_matmul. spec: 0 = workgroup size, 1 = TM, 2 = TN, 3 = VEC (1: K % 8 == 0,
//       16-byte loads of 8 elements; 0: scalar loads, any K).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 4;
layout(constant_id = 2) const uint TN = 4;
layout(constant_id = 3) const uint VEC = 1;

layout(std430, binding = 0) buffer Yb { float y[]; };
layout(std430, binding = 1) readonly buffer Xb { float x[]; };
#ifdef LD64
layout(std430, binding = 1) readonly buffer Xb8 { u64vec2 x8[]; };
#define X4(b) load64x4(x8[b])
#else
layout(std430, binding = 1) readonly buffer Xb4 { vec4 x4[]; };
#define X4(b) x4[b]
#endif
layout(std430, binding = 3) readonly buffer Bb { float bias[]; };
#define W_BINDING 2
#include "matmul_common.glsl"

void main() {
  const uint M = p.M, N = p.N, K = p.K;
  const uint n0 = gl_GlobalInvocationID.x * TN;
  const uint m0 = gl_WorkGroupID.y * TM;
  if (n0 >= N || m0 >= M) return;
  float acc[TM * TN];
  for (uint i = 0; i < TM * TN; i++) acc[i] = 0.0;
  // Rows past the end are clamped to the last row: loads stay in range, results are dropped.
  uint xr[TM], wr[TN];
  for (uint i = 0; i < TM; i++) xr[i] = min(m0 + i, M - 1u) * K;
  for (uint j = 0; j < TN; j++) wr[j] = min(n0 + j, N - 1u) * K;
  if (VEC == 1u) {
    for (uint k = 0; k < K; k += 8u) {
      vec4 xa[TM], xb[TM];
      for (uint i = 0; i < TM; i++) {
        uint b = (xr[i] + k) >> 2;
        xa[i] = X4(b);
        xb[i] = X4(b + 1u);
      }
      for (uint j = 0; j < TN; j++) {
        vec4 wa, wb;
        w_at8((wr[j] + k) >> 3, wa, wb);
        for (uint i = 0; i < TM; i++) acc[i * TN + j] += dot(xa[i], wa) + dot(xb[i], wb);
      }
    }
  } else {
    for (uint k = 0; k < K; k++) {
      float xv[TM];
      for (uint i = 0; i < TM; i++) xv[i] = x[xr[i] + k];
      for (uint j = 0; j < TN; j++) {
        float wv = w_at(wr[j] + k);
        for (uint i = 0; i < TM; i++) acc[i * TN + j] += xv[i] * wv;
      }
    }
  }
  for (uint i = 0; i < TM; i++) {
    uint m = m0 + i;
    if (m >= M) break;
    for (uint j = 0; j < TN; j++) {
      uint n = n0 + j;
      if (n >= N) break;
      float v = acc[i * TN + j];
      if ((p.flags & MM_BIAS) != 0u) v += bias[n];
      uint yi = m * p.ldy + p.ycol + n;
      if ((p.flags & MM_ACC) != 0u) v += y[yi];
      y[yi] = v;
    }
  }
}
