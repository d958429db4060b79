#version 450
#extension GL_GOOGLE_include_directive : require
#ifdef LD64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif
#extension GL_KHR_shader_subgroup_arithmetic : require
// matmul_mv: Y = X . W^T (+ bias) (+ Y with MM_ACC) for few rows of X (decode: 1..16 columns),
// fp32 accumulation. A workgroup is ONE subgroup (spec 0 must equal the subgroup size); it
// computes R rows of W against all TM rows of X: the lanes split K (each lane reads 8
// consecutive elements per step, the subgroup a contiguous run), so every weight load serves
// TM columns and every X load serves R rows; subgroupAdd reduces at the end. No shared memory,
// no barrier: the fast shape for lavapipe (see docs/perf.md).
// bindings: 0 = Y (M rows, stride ldy, from column ycol; written), 1 = X (M,K) f32,
//           2 = W (N,K) f32 or f16 pairs in uint (W_F16), 3 = bias (N) f32 (read if MM_BIAS).
// push: srlm_push_matmul (M <= TM; X starts at element xoff, Y at column ycol of row 0). spec: 0 = workgroup size = subgroup size, 1 = TM, 2 = R,
//       3 = VEC (1: K % 8 == 0, 16-byte loads; 0: scalar loads, any K).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint TM = 1;
layout(constant_id = 2) const uint R = 4;
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
  const uint S = gl_WorkGroupSize.x, lane = gl_LocalInvocationID.x;
  const uint n0 = gl_WorkGroupID.x * R;
  float acc[TM * R];
  for (uint i = 0; i < TM * R; i++) acc[i] = 0.0;
  uint xr[TM], wr[R];
  for (uint i = 0; i < TM; i++) xr[i] = p.xoff + min(i, M - 1u) * K;
  for (uint j = 0; j < R; j++) wr[j] = min(n0 + j, N - 1u) * K;
  if (VEC == 1u) {
    for (uint k = lane * 8u; k < K; k += S * 8u) {
      vec4 xa[TM], xb[TM];
      for (uint i = 0; i < TM; i++) {
        uint b = (xr[i] + k) >> 2;
        xa[i] = X4(b);
        xb[i] = X4(b + 1u);
      }
      for (uint j = 0; j < R; j++) {
        vec4 wa, wb;
        w_at8((wr[j] + k) >> 3, wa, wb);
        for (uint i = 0; i < TM; i++) acc[i * R + j] += dot(xa[i], wa) + dot(xb[i], wb);
      }
    }
  } else {
    for (uint k = lane; k < K; k += S) {
      float xv[TM];
      for (uint i = 0; i < TM; i++) xv[i] = x[xr[i] + k];
      for (uint j = 0; j < R; j++) {
        float wv = w_at(wr[j] + k);
        for (uint i = 0; i < TM; i++) acc[i * R + j] += xv[i] * wv;
      }
    }
  }
  for (uint i = 0; i < TM; i++)
    for (uint j = 0; j < R; j++) acc[i * R + j] = subgroupAdd(acc[i * R + j]);
  if (lane != 0u) return;
  for (uint i = 0; i < TM; i++) {
    if (i >= M) break;
    for (uint j = 0; j < R; j++) {
      uint n = n0 + j;
      if (n >= N) break;
      float v = acc[i * R + j];
      if ((p.flags & MM_BIAS) != 0u) v += bias[n];
      uint yi = i * p.ldy + p.ycol + n;
      if ((p.flags & MM_ACC) != 0u) v += y[yi];
      y[yi] = v;
    }
  }
}
