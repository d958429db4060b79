#version 450
// attn_bwd: backward of attn_fwd, recomputing the probabilities from the saved lse:
//   P_tj = exp(scale q_t.k_j - lse_t), D_t = dout_t . out_t, dS_tj = P_tj (dout_t . v_j - D_t),
//   dq_t = scale sum_j dS_tj k_j;  dk_j = scale sum_{t,h in group} dS_tj q_t;
//   dv_j = sum_{t,h in group} P_tj dout_t.
// DQ:  one invocation per (b, chunk of HP heads of one kv group, t): writes dq and D
//      (B,NH,T) for the DKV pass; HP > 1 loads each k/v row once for the chunk (lavapipe).
// DKV: one invocation per (b, kv head, KP consecutive keys j): sums over the group's heads
//      and t >= j in a fixed order, so dk/dv need no atomics and are bit-reproducible (and
//      the same for any KP). Overwrites dq, dk, dv.
// bindings DQ:  0 = dq (B,T,NH,HS) (written), 1 = D (B,NH,T) (written), 2 = dout, 3 = out,
//               4 = lse, 5 = q, 6 = k, 7 = v, 8 = seg.
// bindings DKV: 0 = dk (B,T,NKV,HS) (written), 1 = dv (written), 2 = dout, 3 = D, 4 = lse,
//               5 = q, 6 = k, 7 = v, 8 = seg.
// push: srlm_push_attn_train. spec 0 = workgroup size, 1 = HS (a multiple of 4), 2 = HP (DQ),
// 3 = KP (DKV).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
layout(constant_id = 2) const uint HP = 1;
layout(constant_id = 3) const uint KP = 1;
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
  uint nc = p.NH / HP;
  uint total = p.B * nc * p.T;
  for (uint it = gl_GlobalInvocationID.x; it < total; it += stride) {
    uint t = it % p.T, hc = (it / p.T) % nc, b = it / (p.T * nc);
    uint h0 = hc * HP, hk = h0 / group;
    int st = p.has_seg != 0u ? seg[b * p.T + t] : 0;
    uint qb = ((b * p.T + t) * p.NH + h0) * H4;
    vec4 qv[HP * H4], g[HP * H4], acc[HP * H4], kr[H4], vr[H4];
    float Dt[HP], lt[HP];
    for (uint c = 0u; c < HP; c++) {
      Dt[c] = 0.0;
      for (uint i = 0u; i < H4; i++) {
        qv[c * H4 + i] = q[qb + c * H4 + i] * p.scale;
        g[c * H4 + i] = dout[qb + c * H4 + i];
        Dt[c] += dot(g[c * H4 + i], o[qb + c * H4 + i]);
        acc[c * H4 + i] = vec4(0.0);
      }
      lt[c] = lse[(b * p.NH + h0 + c) * p.T + t];
    }
    for (uint j = 0u; j <= t; j++) {
      if (p.has_seg != 0u && seg[b * p.T + j] != st) continue;
      uint kb = ((b * p.T + j) * p.NKV + hk) * H4;
      for (uint i = 0u; i < H4; i++) { kr[i] = k[kb + i]; vr[i] = v[kb + i]; }
      for (uint c = 0u; c < HP; c++) {
        float s = 0.0, dpv = 0.0;
        for (uint i = 0u; i < H4; i++) { s += dot(qv[c * H4 + i], kr[i]); dpv += dot(g[c * H4 + i], vr[i]); }
        float ds = exp(s - lt[c]) * (dpv - Dt[c]);
        for (uint i = 0u; i < H4; i++) acc[c * H4 + i] += ds * kr[i];
      }
    }
    for (uint c = 0u; c < HP; c++) {
      for (uint i = 0u; i < H4; i++) dq[qb + c * H4 + i] = acc[c * H4 + i] * p.scale;
      Dw[(b * p.NH + h0 + c) * p.T + t] = Dt[c];
    }
  }
#else
  // KP consecutive keys per invocation share each q/dout row load (lavapipe: KP > 1).
  uint nc = (p.T + KP - 1u) / KP;
  uint total = p.B * p.NKV * nc;
  for (uint it = gl_GlobalInvocationID.x; it < total; it += stride) {
    uint jc = it % nc, hk = (it / nc) % p.NKV, b = it / (nc * p.NKV);
    uint j0 = jc * KP;
    vec4 kv[KP * H4], vv[KP * H4], gk[KP * H4], gv[KP * H4], qr[H4], dr[H4];
    int sj[KP];
    for (uint c = 0u; c < KP; c++) {
      uint j = min(j0 + c, p.T - 1u);
      sj[c] = p.has_seg != 0u ? seg[b * p.T + j] : 0;
      uint kb = ((b * p.T + j) * p.NKV + hk) * H4;
      for (uint i = 0u; i < H4; i++) {
        kv[c * H4 + i] = k[kb + i] * p.scale;
        vv[c * H4 + i] = v[kb + i];
        gk[c * H4 + i] = vec4(0.0);
        gv[c * H4 + i] = vec4(0.0);
      }
    }
    for (uint h = hk * group; h < hk * group + group; h++) {
      for (uint t = j0; t < p.T; t++) {
        int st = p.has_seg != 0u ? seg[b * p.T + t] : 0;
        uint qb = ((b * p.T + t) * p.NH + h) * H4;
        for (uint i = 0u; i < H4; i++) { qr[i] = q[qb + i]; dr[i] = dout[qb + i]; }
        uint r = (b * p.NH + h) * p.T + t;
        float lr = lse[r], Dr = D[r];
        for (uint c = 0u; c < KP; c++) {
          if (j0 + c > t || sj[c] != st) continue;
          float s = 0.0, dpv = 0.0;
          for (uint i = 0u; i < H4; i++) { s += dot(kv[c * H4 + i], qr[i]); dpv += dot(vv[c * H4 + i], dr[i]); }
          float pr = exp(s - lr);
          float ds = pr * (dpv - Dr);
          for (uint i = 0u; i < H4; i++) { gk[c * H4 + i] += ds * qr[i]; gv[c * H4 + i] += pr * dr[i]; }
        }
      }
    }
    for (uint c = 0u; c < KP && j0 + c < p.T; c++) {
      uint kb = ((b * p.T + j0 + c) * p.NKV + hk) * H4;
      for (uint i = 0u; i < H4; i++) { dk[kb + i] = gk[c * H4 + i] * p.scale; dv[kb + i] = gv[c * H4 + i]; }
    }
  }
#endif
}
