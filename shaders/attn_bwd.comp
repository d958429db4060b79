#version 450
// attn_bwd: backward of attn_fwd, recomputing the probabilities from the saved lse:
//   P_tj = exp(scale q_t.k_j - lse_t), D_t = dout_t . out_t, dS_tj = P_tj (dout_t . v_j - D_t),
//   dq_t = scale sum_j dS_tj k_j;  dk_j = scale sum_{t,h in group} dS_tj q_t;
//   dv_j = sum_{t,h in group} P_tj dout_t.
// DQ:  one invocation per (b, h, t): writes dq and D (B,NH,T) for the DKV pass.
// DKV: one invocation per (b, kv head, j): sums over the group's heads and t >= j in a fixed
//      order, so dk/dv need no atomics and are bit-reproducible. Overwrites dq, dk, dv.
// bindings DQ:  0 = dq (B,T,NH,HS) (written), 1 = D (B,NH,T) (written), 2 = dout, 3 = out,
//               4 = lse, 5 = q, 6 = k, 7 = v, 8 = seg.
// bindings DKV: 0 = dk (B,T,NKV,HS) (written), 1 = dv (written), 2 = dout, 3 = D, 4 = lse,
//               5 = q, 6 = k, 7 = v, 8 = seg.
// push: srlm_push_attn_train. spec 0 = workgroup size, 1 = HS (a multiple of 4).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
#ifdef DQ
layout(std430, binding = 0) writeonly buffer DQB { vec4 dq[]; };
layout(std430, binding = 1) writeonly buffer DB { float Dw[]; };
layout(std430, binding = 3) readonly buffer OB { vec4 o[]; };
#else
layout(std430, binding = 0) writeonly buffer DKB { vec4 dk[]; };
layout(std430, binding = 1) writeonly buffer DVB { vec4 dv[]; };
layout(std430, binding = 3) readonly buffer DB { float D[]; };
#endif
layout(std430, binding = 2) readonly buffer DO { vec4 dout[]; };
layout(std430, binding = 4) readonly buffer L { float lse[]; };
layout(std430, binding = 5) readonly buffer Q { vec4 q[]; };
layout(std430, binding = 6) readonly buffer K { vec4 k[]; };
layout(std430, binding = 7) readonly buffer V { vec4 v[]; };
layout(std430, binding = 8) readonly buffer S { int seg[]; };
layout(push_constant) uniform P { uint B; uint T; uint NH; uint NKV; uint has_seg; float scale; } p;
const uint H4 = HS / 4u;
void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint group = p.NH / p.NKV;
#ifdef DQ
  uint total = p.B * p.NH * p.T;
  for (uint it = gl_GlobalInvocationID.x; it < total; it += stride) {
    uint t = it % p.T, h = (it / p.T) % p.NH, b = it / (p.T * p.NH);
    uint hk = h / group;
    int st = p.has_seg != 0u ? seg[b * p.T + t] : 0;
    uint qb = ((b * p.T + t) * p.NH + h) * H4;
    vec4 qv[H4], g[H4], acc[H4];
    float Dt = 0.0;
    for (uint i = 0u; i < H4; i++) {
      qv[i] = q[qb + i] * p.scale;
      g[i] = dout[qb + i];
      Dt += dot(g[i], o[qb + i]);
      acc[i] = vec4(0.0);
    }
    float lt = lse[(b * p.NH + h) * p.T + t];
    for (uint j = 0u; j <= t; j++) {
      if (p.has_seg != 0u && seg[b * p.T + j] != st) continue;
      uint kb = ((b * p.T + j) * p.NKV + hk) * H4;
      float s = 0.0, dpv = 0.0;
      for (uint i = 0u; i < H4; i++) { s += dot(qv[i], k[kb + i]); dpv += dot(g[i], v[kb + i]); }
      float ds = exp(s - lt) * (dpv - Dt);
      for (uint i = 0u; i < H4; i++) acc[i] += ds * k[kb + i];
    }
    for (uint i = 0u; i < H4; i++) dq[qb + i] = acc[i] * p.scale;
    Dw[(b * p.NH + h) * p.T + t] = Dt;
  }
#else
  uint total = p.B * p.NKV * p.T;
  for (uint it = gl_GlobalInvocationID.x; it < total; it += stride) {
    uint j = it % p.T, hk = (it / p.T) % p.NKV, b = it / (p.T * p.NKV);
    int sj = p.has_seg != 0u ? seg[b * p.T + j] : 0;
    uint kb = ((b * p.T + j) * p.NKV + hk) * H4;
    vec4 kv[H4], vv[H4], gk[H4], gv[H4];
    for (uint i = 0u; i < H4; i++) { kv[i] = k[kb + i] * p.scale; vv[i] = v[kb + i]; gk[i] = vec4(0.0); gv[i] = vec4(0.0); }
    for (uint h = hk * group; h < hk * group + group; h++) {
      for (uint t = j; t < p.T; t++) {
        if (p.has_seg != 0u && seg[b * p.T + t] != sj) continue;
        uint qb = ((b * p.T + t) * p.NH + h) * H4;
        float s = 0.0, dpv = 0.0;
        for (uint i = 0u; i < H4; i++) { s += dot(kv[i], q[qb + i]); dpv += dot(vv[i], dout[qb + i]); }
        uint r = (b * p.NH + h) * p.T + t;
        float pr = exp(s - lse[r]);
        float ds = pr * (dpv - D[r]);
        for (uint i = 0u; i < H4; i++) { gk[i] += ds * q[qb + i]; gv[i] += pr * dout[qb + i]; }
      }
    }
    for (uint i = 0u; i < H4; i++) { dk[kb + i] = gk[i] * p.scale; dv[kb + i] = gv[i]; }
  }
#endif
}
