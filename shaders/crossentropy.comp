#version 450
#extension GL_GOOGLE_include_directive : require
// crossentropy: cross-entropy fused with softmax over logits (N,V) f32, z = k * logits (k =
// 1/temperature), tiled over the vocabulary (T tiles of TV columns per row) and over rows; the
// host binds windows of whole tiles x row blocks under the binding limit. No float atomics:
// every sum is per tile in a fixed order, then over tiles in tile order, so results do not
// depend on the window sizes.
//   STATS: one workgroup per (tile, row): stats[row*T + tile] = (max m, sum e^(z-m),
//     sum e^(z-m)(z-m), z[target] if the target is in the tile else 0).
//     bindings 0 = stats (vec4, written), 1 = logits, 2 = targets (int).
//   FINAL: one invocation per row combines its T partials in tile order: lse, entropy
//     H = log S - D/S, logprob = (z[t] - max) - log S = z[t] - lse (0 for a target outside
//     [0,V)), loss = -w * logprob.
//     bindings 0 = loss, 1 = logprob, 2 = entropy, 3 = lse (all written), 4 = stats,
//     5 = targets, 6 = weights.
//   GRAD: one workgroup per (tile, row), in place: x = g * (exp(z - lse) - onehot(t)),
//     g = scale * w (* k when k != 1); rows with an ignored target get 0.
//     bindings 0 = logits (read+written), 1 = lse, 2 = targets, 3 = weights.
// push srlm_push_loss: N rows of this dispatch, V row stride, TV tile width, T tiles per row,
// v0 first column of the window (a multiple of TV), vw its width, k, scale, b[i] = element
// index of (row 0, column v0) inside the window of binding i (stats: vec4 index of row 0, tile 0).
// spec 0 = workgroup size (FINAL: one row per invocation).
#include "wg_reduce.glsl"
#include "online_lse.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P {
  uint N; uint V; uint TV; uint T; uint v0; uint vw; float k; float scale; uint mode;
  uint b0; uint b1; uint b2; uint b3; uint b4; uint b5; uint b6; uint b7;
} p;

#if defined(STATS)
layout(std430, binding = 0) writeonly buffer S { vec4 st[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer TG { int tg[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;  // whole workgroup
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), xo = p.b1 + r * p.V;
  float m = LSE_NEG_INF, s = 0.0, d = 0.0;
  for (uint c = c0 + t; c < c1; c += L) lse_push(m, s, d, x[xo + c] * p.k);
  vec3 R = lse_wg(m, s, d);
  if (t == 0u) {
    int target = tg[p.b2 + r];
    float zt = 0.0;
    if (target >= int(p.v0 + c0) && target < int(p.v0 + c1)) zt = x[xo + uint(target) - p.v0] * p.k;
    st[p.b0 + r * p.T + p.v0 / p.TV + j] = vec4(R, zt);
  }
}

#elif defined(FINAL)
layout(std430, binding = 0) writeonly buffer LO { float loss[]; };
layout(std430, binding = 1) writeonly buffer LP { float logprob[]; };
layout(std430, binding = 2) writeonly buffer EN { float entropy[]; };
layout(std430, binding = 3) writeonly buffer LS { float lse[]; };
layout(std430, binding = 4) readonly buffer S { vec4 st[]; };
layout(std430, binding = 5) readonly buffer TG { int tg[]; };
layout(std430, binding = 6) readonly buffer W { float w[]; };

void main() {
  uint r = gl_GlobalInvocationID.x;
  if (r >= p.N) return;
  uint so = p.b4 + r * p.T;
  float M = LSE_NEG_INF;
  for (uint j = 0u; j < p.T; j++) M = max(M, st[so + j].x);
  float S = 0.0, D = 0.0;
  for (uint j = 0u; j < p.T; j++) {
    vec4 q = st[so + j];
    vec2 a = lse_rebase(q.x, q.y, q.z, M);
    S += a.x;
    D += a.y;
  }
  float logS = log(S), l = M + logS;
  int target = tg[p.b5 + r];
  bool valid = target >= 0 && target < int(p.V);
  // (z_t - M) - log S: exact when z_t is the max, so a confident token's small logprob is
  // not the difference of two large numbers
  float lp = valid ? (st[so + uint(target) / p.TV].w - M) - logS : 0.0;
  loss[p.b0 + r] = valid ? -(w[p.b6 + r] * lp) : 0.0;
  logprob[p.b1 + r] = lp;
  entropy[p.b2 + r] = logS - D / S;
  lse[p.b3 + r] = l;
}

#elif defined(GRAD)
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer LS { float lse[]; };
layout(std430, binding = 2) readonly buffer TG { int tg[]; };
layout(std430, binding = 3) readonly buffer W { float w[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), xo = p.b0 + r * p.V;
  int target = tg[p.b2 + r];
  bool valid = target >= 0 && target < int(p.V);
  float g = p.scale * w[p.b3 + r];
  if (p.k != 1.0) g *= p.k;
  float l = lse[p.b1 + r];
  uint tc = valid ? uint(target) - p.v0 : 0xffffffffu;  // the target's column in the window
  for (uint c = c0 + t; c < c1; c += L) {
    float pr = exp(x[xo + c] * p.k - l);
    x[xo + c] = valid ? g * (pr - (c == tc ? 1.0 : 0.0)) : 0.0;
  }
}
#else
#error "define STATS, FINAL or GRAD"
#endif
