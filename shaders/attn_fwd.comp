#version 450
// attn_fwd: causal grouped-query attention for training, over contiguous f32 q/k/v, saving
// the log-sum-exp of every (b, h, t) so that attn_bwd can recompute the probabilities.
//   s_tj = scale * q_t . k_j for allowed j (j <= t, and seg[b,j] == seg[b,t] when has_seg),
//   out_t = sum_j softmax(s_t)_j v_j, lse_t = log sum_j exp(s_tj). Head h uses kv head
//   h / (NH/NKV). Online softmax in fp32, positions in increasing order (deterministic).
// One invocation per (b, chunk of HP heads of one kv group, t), t fastest. HP = 1 suits GPUs;
// HP = NH/NKV loads each k/v row once for the group, which is what lavapipe needs (each
// divergent buffer word costs it a scalar load per lane).
// bindings: 0 = out (B,T,NH,HS) f32 (written), 1 = lse (B,NH,T) f32 (written),
//   2 = q (B,T,NH,HS), 3 = k (B,T,NKV,HS), 4 = v (B,T,NKV,HS), 5 = seg (B,T) int32 (any
//   buffer when has_seg == 0).
// push: srlm_push_attn_train {B, T, NH, NKV, has_seg, scale}. spec 0 = workgroup size,
// 1 = HS (a multiple of 4), 2 = HP (heads per invocation, dividing NH/NKV).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
layout(constant_id = 2) const uint HP = 1;
layout(std430, binding = 0) writeonly buffer O { vec4 o[]; };
layout(std430, binding = 1) writeonly buffer L { float lse[]; };
layout(std430, binding = 2) readonly buffer Q { vec4 q[]; };
layout(std430, binding = 3) readonly buffer K { vec4 k[]; };
layout(std430, binding = 4) readonly buffer V { vec4 v[]; };
layout(std430, binding = 5) readonly buffer S { int seg[]; };
layout(push_constant) uniform P { uint B; uint T; uint NH; uint NKV; uint has_seg; float scale; } p;
const uint H4 = HS / 4u;
void main() {
  uint nc = p.NH / HP;
  uint total = p.B * nc * p.T;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint group = p.NH / p.NKV;
  for (uint it = gl_GlobalInvocationID.x; it < total; it += stride) {
    uint t = it % p.T, hc = (it / p.T) % nc, b = it / (p.T * nc);
    uint h0 = hc * HP, hk = h0 / group;
    int st = p.has_seg != 0u ? seg[b * p.T + t] : 0;
    vec4 qv[HP * H4], acc[HP * H4], row[H4];
    float m[HP], l[HP], e[HP];
    uint qb = ((b * p.T + t) * p.NH + h0) * H4;
    for (uint g = 0u; g < HP; g++) {
      m[g] = -1e30; l[g] = 0.0;
      for (uint i = 0u; i < H4; i++) { qv[g * H4 + i] = q[qb + g * H4 + i] * p.scale; acc[g * H4 + i] = vec4(0.0); }
    }
    for (uint j = 0u; j <= t; j++) {
      if (p.has_seg != 0u && seg[b * p.T + j] != st) continue;
      uint kb = ((b * p.T + j) * p.NKV + hk) * H4;
      for (uint i = 0u; i < H4; i++) row[i] = k[kb + i];
      for (uint g = 0u; g < HP; g++) {
        float s = 0.0;
        for (uint i = 0u; i < H4; i++) s += dot(qv[g * H4 + i], row[i]);
        if (s > m[g]) {
          float c = exp(m[g] - s);
          l[g] *= c;
          for (uint i = 0u; i < H4; i++) acc[g * H4 + i] *= c;
          m[g] = s;
        }
        e[g] = exp(s - m[g]);
        l[g] += e[g];
      }
      for (uint i = 0u; i < H4; i++) row[i] = v[kb + i];
      for (uint g = 0u; g < HP; g++)
        for (uint i = 0u; i < H4; i++) acc[g * H4 + i] += e[g] * row[i];
    }
    for (uint g = 0u; g < HP; g++) {
      float inv = l[g] > 0.0 ? 1.0 / l[g] : 0.0;
      for (uint i = 0u; i < H4; i++) o[qb + g * H4 + i] = acc[g * H4 + i] * inv;
      lse[(b * p.NH + h0 + g) * p.T + t] = l[g] > 0.0 ? m[g] + log(l[g]) : 0.0;
    }
  }
}
