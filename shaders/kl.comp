#version 450
#extension GL_GOOGLE_include_directive : require
// kl: KL divergence between softmax(student/tau) and softmax(teacher/tau) per row of (N,V),
// forward KL(teacher||student) (mode 0) or reverse KL(student||teacher) (mode 1), and its
// gradient w.r.t. the student logits, tiled like crossentropy.comp (T tiles of TV columns
// per row, windows of whole tiles x row blocks). k = 1/tau. No float atomics: sums per tile
// in a fixed order, then over tiles in tile order.
//   STATS: one workgroup per (tile, row): st[row*T + tile] = (max, sum e^(z-max)) of the
//     student's z = k*s, then of the teacher's. bindings 0 = st (vec4, written), 1 = s, 2 = t.
//   ROW: one invocation per row: rs[row] = (ls, lt, 0, ls - lt), the log-sum-exps over the
//     tiles and their difference taken as (Ms - Mt) + log(Ss/St).
//     bindings 0 = rs (vec4, written), 1 = st.
//   DIV: one workgroup per (tile, row): part[row*T + tile] = sum over the tile of
//     pt (lpt - lps) (forward) or ps (lps - lpt) (reverse), lps = k*s - ls, lpt = k*t - lt,
//     lpt - lps taken as k*(t - s) + (ls - lt): no cancellation of two large log-probabilities,
//     so a student near its teacher gets a small KL to f32 relative precision.
//     bindings 0 = part (written), 1 = s, 2 = t, 3 = rs.
//   SUM: one invocation per row: kl = sum of the row's parts in tile order -> kl[row], rs[row].z.
//     bindings 0 = kl (written), 1 = rs (read+written), 2 = part.
//   GRAD: one workgroup per (tile, row), in place on s: g = scale * w * k times
//     ps - pt (forward) or ps (lps - lpt - kl) (reverse).
//     bindings 0 = s (read+written), 1 = t, 2 = rs, 3 = w.
// push srlm_push_loss as in crossentropy.comp; mode = direction. spec 0 = workgroup size.
#include "wg_reduce.glsl"
#include "online_lse.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P {
  uint N; uint V; uint TV; uint T; uint v0; uint vw; float k; float scale; uint mode;
  uint b0; uint b1; uint b2; uint b3; uint b4; uint b5; uint b6; uint b7;
} p;

#if defined(STATS)
layout(std430, binding = 0) writeonly buffer ST { vec4 st[]; };
layout(std430, binding = 1) readonly buffer SB { float s[]; };
layout(std430, binding = 2) readonly buffer TB { float te[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), so = p.b1 + r * p.V, to = p.b2 + r * p.V;
  float ms = LSE_NEG_INF, ss = 0.0, ds = 0.0, mt = LSE_NEG_INF, sst = 0.0, dt = 0.0;
  for (uint c = c0 + t; c < c1; c += L) {
    lse_push(ms, ss, ds, s[so + c] * p.k);
    lse_push(mt, sst, dt, te[to + c] * p.k);
  }
  vec3 A = lse_wg(ms, ss, ds), B = lse_wg(mt, sst, dt);
  if (t == 0u) st[p.b0 + r * p.T + p.v0 / p.TV + j] = vec4(A.x, A.y, B.x, B.y);
}

#elif defined(ROW)
layout(std430, binding = 0) writeonly buffer RS { vec4 rs[]; };
layout(std430, binding = 1) readonly buffer ST { vec4 st[]; };

void main() {
  uint r = gl_GlobalInvocationID.x;
  if (r >= p.N) return;
  uint so = p.b1 + r * p.T;
  float Ms = LSE_NEG_INF, Mt = LSE_NEG_INF;
  for (uint j = 0u; j < p.T; j++) { Ms = max(Ms, st[so + j].x); Mt = max(Mt, st[so + j].z); }
  float Ss = 0.0, St = 0.0;
  for (uint j = 0u; j < p.T; j++) {
    vec4 q = st[so + j];
    Ss += lse_rebase(q.x, q.y, 0.0, Ms).x;
    St += lse_rebase(q.z, q.w, 0.0, Mt).x;
  }
  // ls - lt without the rounding of two large log-sum-exps: exact max difference when the
  // maxima are close, and the log of a ratio near 1
  rs[p.b0 + r] = vec4(Ms + log(Ss), Mt + log(St), 0.0, (Ms - Mt) + log(Ss / St));
}

#elif defined(DIV)
layout(std430, binding = 0) writeonly buffer PB { float part[]; };
layout(std430, binding = 1) readonly buffer SB { float s[]; };
layout(std430, binding = 2) readonly buffer TB { float te[]; };
layout(std430, binding = 3) readonly buffer RS { vec4 rs[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), so = p.b1 + r * p.V, to = p.b2 + r * p.V;
  vec4 q = rs[p.b3 + r];
  float acc = 0.0;
  for (uint c = c0 + t; c < c1; c += L) {
    float sv = s[so + c], tv = te[to + c];
    float d = (tv - sv) * p.k + q.w;  // lpt - lps, exact when the logits are close
    acc += p.mode == 0u ? exp(tv * p.k - q.y) * d : exp(sv * p.k - q.x) * -d;
  }
  acc = wg_sum(acc);
  if (t == 0u) part[p.b0 + r * p.T + p.v0 / p.TV + j] = acc;
}

#elif defined(SUM)
layout(std430, binding = 0) writeonly buffer KL { float kl[]; };
layout(std430, binding = 1) buffer RS { vec4 rs[]; };
layout(std430, binding = 2) readonly buffer PB { float part[]; };

void main() {
  uint r = gl_GlobalInvocationID.x;
  if (r >= p.N) return;
  float acc = 0.0;
  for (uint j = 0u; j < p.T; j++) acc += part[p.b2 + r * p.T + j];
  kl[p.b0 + r] = acc;
  rs[p.b1 + r].z = acc;
}

#elif defined(GRAD)
layout(std430, binding = 0) buffer SB { float s[]; };
layout(std430, binding = 1) readonly buffer TB { float te[]; };
layout(std430, binding = 2) readonly buffer RS { vec4 rs[]; };
layout(std430, binding = 3) readonly buffer W { float w[]; };

void main() {
  uint r = gl_WorkGroupID.y, j = gl_WorkGroupID.x, L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  if (r >= p.N) return;
  uint c0 = j * p.TV, c1 = min(c0 + p.TV, p.vw), so = p.b0 + r * p.V, to = p.b1 + r * p.V;
  vec4 q = rs[p.b2 + r];
  float g = p.scale * w[p.b3 + r] * p.k;
  for (uint c = c0 + t; c < c1; c += L) {
    float lps = s[so + c] * p.k - q.x, lpt = te[to + c] * p.k - q.y, ps = exp(lps);
    s[so + c] = g * (p.mode == 0u ? ps - exp(lpt) : ps * (lps - lpt - q.z));
  }
}
#else
#error "define STATS, ROW, DIV, SUM or GRAD"
#endif
