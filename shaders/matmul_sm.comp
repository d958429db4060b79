#version 450
#extension GL_GOOGLE_include_directive : require
// matmul_sm: the three matmul forms for GPUs (subgroups of 32/64, fast shared memory): a
// workgroup computes a BI x BJ tile of C = A . B, staging BP-deep slices of A and B in shared
// memory; each invocation computes a TI x TJ register tile. One source, three forms (-D):
//   FORM_NT  C = Y  (M,N)  = X . W^T      A(i,p) = X[i,p],   B(p,j) = W[j,p]   (+bias, MM_ACC)
//   FORM_NN  C = dX (M,K)  = dY . W       A(i,p) = dY[i,p],  B(p,j) = W[p,j]   (MM_ACC)
//   FORM_TN  C = dW (N,K)  = dY^T . X     A(i,p) = dY[p,i],  B(p,j) = X[p,j]   (MM_ACC)
// W is f32 or f16 pairs in uint (W_F16). fp32 accumulation; out-of-range elements load as 0.
// bindings: 0 = C (written), 1 = A side (X or dY), 2 = B side (W or X), 3 = bias (FORM_NT).
// push: srlm_push_matmul. spec: 0 = workgroup size (must be (BI/TI)*(BJ/TJ)), 1 = BI, 2 = BJ,
//       3 = BP, 4 = TI, 5 = TJ.
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint BI = 64;
layout(constant_id = 2) const uint BJ = 64;
layout(constant_id = 3) const uint BP = 16;
layout(constant_id = 4) const uint TI = 4;
layout(constant_id = 5) const uint TJ = 4;

layout(std430, binding = 0) buffer Cb { float c[]; };
layout(std430, binding = 1) readonly buffer Ab { float a[]; };
#if defined(FORM_TN)
layout(std430, binding = 2) readonly buffer Bb { float bx[]; };
#include "matmul_push.glsl"
float b_at(uint i) { return bx[i]; }
#else
#define W_BINDING 2
#include "matmul_common.glsl"
float b_at(uint i) { return w_at(i); }
#endif
#if defined(FORM_NT)
layout(std430, binding = 3) readonly buffer Biasb { float bias[]; };
#endif

shared float As[BP * BI];
shared float Bs[BP * BJ];

void main() {
#if defined(FORM_NT)
  const uint I = p.M, J = p.N, PP = p.K;
#elif defined(FORM_NN)
  const uint I = p.M, J = p.K, PP = p.N;
#else
  const uint I = p.N, J = p.K, PP = p.M;
#endif
  const uint WG = gl_WorkGroupSize.x;
  const uint lid = gl_LocalInvocationID.x;
  const uint i0 = gl_WorkGroupID.y * BI, j0 = gl_WorkGroupID.x * BJ;
  const uint ti = (lid / (BJ / TJ)) * TI, tj = (lid % (BJ / TJ)) * TJ;
  float acc[TI * TJ];
  for (uint e = 0; e < TI * TJ; e++) acc[e] = 0.0;
  for (uint p0 = 0; p0 < PP; p0 += BP) {
    for (uint e = lid; e < BP * BI; e += WG) {
#if defined(FORM_TN)
      uint pi = e / BI, ii = e % BI; // dY rows are contiguous in i
#else
      uint ii = e / BP, pi = e % BP; // X / dY rows are contiguous in p
#endif
      uint gi = i0 + ii, gp = p0 + pi;
      float v = 0.0;
      if (gi < I && gp < PP) {
#if defined(FORM_NT)
        v = a[gi * p.K + gp];
#elif defined(FORM_NN)
        v = a[gi * p.ldy + p.ycol + gp];
#else
        v = a[gp * p.ldy + p.ycol + gi];
#endif
      }
      As[pi * BI + ii] = v;
    }
    for (uint e = lid; e < BP * BJ; e += WG) {
#if defined(FORM_NT)
      uint jj = e / BP, pj = e % BP; // W rows are contiguous in p
#else
      uint pj = e / BJ, jj = e % BJ; // W / X rows are contiguous in j
#endif
      uint gj = j0 + jj, gp = p0 + pj;
      float v = 0.0;
      if (gj < J && gp < PP) {
#if defined(FORM_NT)
        v = b_at(gj * p.K + gp);
#else
        v = b_at(gp * p.K + gj);
#endif
      }
      Bs[pj * BJ + jj] = v;
    }
    barrier();
    for (uint q = 0; q < BP; q++) {
      float av[TI], bv[TJ];
      for (uint r = 0; r < TI; r++) av[r] = As[q * BI + ti + r];
      for (uint s = 0; s < TJ; s++) bv[s] = Bs[q * BJ + tj + s];
      for (uint r = 0; r < TI; r++)
        for (uint s = 0; s < TJ; s++) acc[r * TJ + s] += av[r] * bv[s];
    }
    barrier();
  }
  for (uint r = 0; r < TI; r++) {
    uint gi = i0 + ti + r;
    if (gi >= I) break;
    for (uint s = 0; s < TJ; s++) {
      uint gj = j0 + tj + s;
      if (gj >= J) break;
      float v = acc[r * TJ + s];
#if defined(FORM_NT)
      if ((p.flags & MM_BIAS) != 0u) v += bias[gj];
      uint o = gi * p.ldy + p.ycol + gj;
#else
      uint o = gi * J + gj;
#endif
      if ((p.flags & MM_ACC) != 0u) v += c[o];
      c[o] = v;
    }
  }
}
