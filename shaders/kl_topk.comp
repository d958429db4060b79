#version 450
#extension GL_GOOGLE_include_directive : require
// kl_topk: KL divergence between a teacher known only by its top K token ids and their
// log-probabilities (taken at temperature tau over its full vocabulary) and the student's
// ps = softmax(s/tau), over K+1 buckets: the K tokens and the rest (teacher mass
// pt_rest = 1 - sum pt, student mass q_rest = 1 - sum ps over the K ids, both floored at
// 1e-30; no rest bucket when K == V). Forward KL(teacher||student) (mode 0) or reverse
// (mode 1), and the gradient w.r.t. the student logits in place. As srlm_ref_kl_topk_fwd/_bwd.
// Rows of V are tiled as in kl.comp (T tiles of TV columns, windows of whole tiles x row
// blocks); no float atomics. A row whose first id is negative has no teacher entry: KL 0 and
// a zero gradient row. k = 1/tau.
//   STATS: one workgroup per (tile, row): st[row*T + tile] = (max, sum e^(z-max)) of z = k*s
//     over the tile, and sk[row*K + j] = s[id_j] for the ids that fall in the tile.
//     bindings 0 = st (vec2, written), 1 = s, 2 = ids, 3 = sk (written).
//   ROW: one invocation per row: ls = log sum e^z over the tiles, then over the K ids
//     lps = k*sk - ls, lpt = tlogp, the buckets' KL, and rs[row] = (ls, KL, rest, valid):
//     rest = 1 - pt_rest/q_rest (forward) or log(q_rest/pt_rest) - KL (reverse), 0 if K == V.
//     kl[row] = KL. bindings 0 = kl (written), 1 = rs (vec4, written), 2 = st, 3 = sk,
//     4 = tlogp, 5 = ids.
//   GRAD_REST: one workgroup per (tile, row), in place on s: s = g * ps * rest for every
//     column, g = scale * w * k * valid. bindings 0 = s (read+written), 1 = rs, 2 = w.
//   GRAD_TOP: one workgroup per (tile, row): the K ids in the tile get g * (ps - pt)
//     (forward) or g * ps * (lps - lpt - KL) (reverse), ps from the saved sk (s is already
//     overwritten). bindings 0 = s (written), 1 = rs, 2 = w, 3 = ids, 4 = sk, 5 = tlogp.
// push srlm_push_kl_topk: srlm_push_loss (N, V, TV, T, v0, vw, k, scale, mode, b[8]) then K.
// spec 0 = workgroup size.
#include "wg_reduce.glsl"
#include "online_lse.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P {
  uint N; uint V; uint TV; uint T; uint v0; uint vw; float k; float scale; uint mode;
  uint b0; uint b1; uint b2; uint b3; uint b4; uint b5; uint b6; uint b7; uint K;
} p;

#if defined(STATS)
layout(std430, binding = 0) writeonly buffer ST { vec2 st[]; };
layout(std430, binding = 1) readonly buffer SB { float s[]; };
layout(std430, binding = 2) readonly buffer IB { int ids[]; };
layout(std430, binding = 3) writeonly buffer SK { float sk[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), so = p.b1 + r * p.V;
  float m = LSE_NEG_INF, sum = 0.0, d = 0.0;
  for (uint c = c0 + t; c < c1; c += L) lse_push(m, sum, d, s[so + c] * p.k);
  vec3 A = lse_wg(m, sum, d);
  if (t == 0u) st[p.b0 + r * p.T + p.v0 / p.TV + j] = A.xy;
  // the ids inside this tile: their logits, saved before the gradient overwrites s
  int lo = int(p.v0 + c0), hi = int(p.v0 + c1);
  for (uint q = t; q < p.K; q += L) {
    int id = ids[p.b2 + r * p.K + q];
    if (id >= lo && id < hi) sk[p.b3 + r * p.K + q] = s[so + uint(id) - p.v0];
  }
}

#elif defined(ROW)
layout(std430, binding = 0) writeonly buffer KL { float kl[]; };
layout(std430, binding = 1) writeonly buffer RS { vec4 rs[]; };
layout(std430, binding = 2) readonly buffer ST { vec2 st[]; };
layout(std430, binding = 3) readonly buffer SK { float sk[]; };
layout(std430, binding = 4) readonly buffer TL { float tl[]; };
layout(std430, binding = 5) readonly buffer IB { int ids[]; };

void main() {
  uint r = gl_GlobalInvocationID.x;
  if (r >= p.N) return;
  uint so = p.b2 + r * p.T;
  float M = LSE_NEG_INF;
  for (uint j = 0u; j < p.T; j++) M = max(M, st[so + j].x);
  float S = 0.0;
  for (uint j = 0u; j < p.T; j++) S += lse_rebase(st[so + j].x, st[so + j].y, 0.0, M).x;
  float ls = M + log(S);
  if (ids[p.b5 + r * p.K] < 0) {  // no teacher entry for this row
    kl[p.b0 + r] = 0.0;
    rs[p.b1 + r] = vec4(ls, 0.0, 0.0, 0.0);
    return;
  }
  float pt_top = 0.0, ps_top = 0.0, acc = 0.0;
  for (uint q = 0u; q < p.K; q++) {
    float lps = sk[p.b3 + r * p.K + q] * p.k - ls, lpt = tl[p.b4 + r * p.K + q];
    float pt = exp(lpt), ps = exp(lps);
    pt_top += pt;
    ps_top += ps;
    acc += p.mode == 0u ? pt * (lpt - lps) : ps * (lps - lpt);
  }
  float rest = 0.0;
  if (p.K < p.V) {
    float pr = max(1.0 - pt_top, 1e-30), qr = max(1.0 - ps_top, 1e-30);
    float a = log(qr) - log(pr);
    acc += p.mode == 0u ? -pr * a : qr * a;
    rest = p.mode == 0u ? 1.0 - pr / qr : a - acc;
  }
  kl[p.b0 + r] = acc;
  rs[p.b1 + r] = vec4(ls, acc, rest, 1.0);
}

#elif defined(GRAD_REST)
layout(std430, binding = 0) buffer SB { float s[]; };
layout(std430, binding = 1) readonly buffer RS { vec4 rs[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), so = p.b0 + r * p.V;
  vec4 q = rs[p.b1 + r];
  float g = q.w * p.scale * w[p.b2 + r] * p.k * q.z;
  for (uint c = c0 + t; c < c1; c += L) s[so + c] = g == 0.0 ? 0.0 : g * exp(s[so + c] * p.k - q.x);
}

#elif defined(GRAD_TOP)
layout(std430, binding = 0) writeonly buffer SB { float s[]; };
layout(std430, binding = 1) readonly buffer RS { vec4 rs[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer IB { int ids[]; };
layout(std430, binding = 4) readonly buffer SK { float sk[]; };
layout(std430, binding = 5) readonly buffer TL { float tl[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  vec4 q = rs[p.b1 + r];
  if (q.w == 0.0) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), so = p.b0 + r * p.V;
  float g = p.scale * w[p.b2 + r] * p.k;
  int lo = int(p.v0 + c0), hi = int(p.v0 + c1);
  for (uint e = t; e < p.K; e += L) {
    int id = ids[p.b3 + r * p.K + e];
    if (id < lo || id >= hi) continue;
    float lps = sk[p.b4 + r * p.K + e] * p.k - q.x, lpt = tl[p.b5 + r * p.K + e], ps = exp(lps);
    s[so + uint(id) - p.v0] = g * (p.mode == 0u ? ps - exp(lpt) : ps * (lps - lpt - q.y));
  }
}
#else
#error "define STATS, ROW, GRAD_REST or GRAD_TOP"
#endif
