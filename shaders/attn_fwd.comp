#version 450
// attn_fwd: causal grouped-query attention for training, over contiguous f32 q/k/v, saving
// the log-sum-exp of every (b, h, t) so that attn_bwd can recompute the probabilities.
//   s_tj = scale * q_t . k_j for allowed j (j <= t, and seg[b,j] == seg[b,t] when has_seg),
//   out_t = sum_j softmax(s_t)_j v_j, lse_t = log sum_j exp(s_tj). Head h uses kv head
//   h / (NH/NKV). Online softmax in fp32, positions in increasing order (deterministic).
// One invocation per (b, h, t), t fastest, so neighbouring invocations read the same k/v rows.
// bindings: 0 = out (B,T,NH,HS) f32 (written), 1 = lse (B,NH,T) f32 (written),
//   2 = q (B,T,NH,HS), 3 = k (B,T,NKV,HS), 4 = v (B,T,NKV,HS), 5 = seg (B,T) int32 (any
//   buffer when has_seg == 0).
// push: srlm_push_attn_train {B, T, NH, NKV, has_seg, scale}. spec 0 = workgroup size, 1 = HS
// (a multiple of 4).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HS = 64;
layout(std430, binding = 0) writeonly buffer O { vec4 o[]; };
layout(std430, binding = 1) writeonly buffer L { float lse[]; };
layout(std430, binding = 2) readonly buffer Q { vec4 q[]; };
layout(std430, binding = 3) readonly buffer K { vec4 k[]; };
layout(std430, binding = 4) readonly buffer V { vec4 v[]; };
layout(std430, binding = 5) readonly buffer S { int seg[]; };
layout(push_constant) uniform P { uint B; uint T; uint NH; uint NKV; uint has_seg; float scale; } p;
const uint H4 = HS / 4u;
void main() {
  uint total = p.B * p.NH * p.T;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uint group = p.NH / p.NKV;
  for (uint it = gl_GlobalInvocationID.x; it < total; it += stride) {
    uint t = it % p.T, h = (it / p.T) % p.NH, b = it / (p.T * p.NH);
    uint hk = h / group;
    int st = p.has_seg != 0u ? seg[b * p.T + t] : 0;
    vec4 qv[H4], acc[H4];
    uint qb = ((b * p.T + t) * p.NH + h) * H4;
    for (uint i = 0u; i < H4; i++) { qv[i] = q[qb + i] * p.scale; acc[i] = vec4(0.0); }
    float m = -1e30, l = 0.0;
    for (uint j = 0u; j <= t; j++) {
      if (p.has_seg != 0u && seg[b * p.T + j] != st) continue;
      uint kb = ((b * p.T + j) * p.NKV + hk) * H4;
      float s = 0.0;
      for (uint i = 0u; i < H4; i++) s += dot(qv[i], k[kb + i]);
      if (s > m) {
        float c = exp(m - s);
        l *= c;
        for (uint i = 0u; i < H4; i++) acc[i] *= c;
        m = s;
      }
      float e = exp(s - m);
      l += e;
      for (uint i = 0u; i < H4; i++) acc[i] += e * v[kb + i];
    }
    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint i = 0u; i < H4; i++) o[qb + i] = acc[i] * inv;
    lse[(b * p.NH + h) * p.T + t] = l > 0.0 ? m + log(l) : 0.0;
  }
}
