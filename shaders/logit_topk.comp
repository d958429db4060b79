#version 450
// logit_topk: per row of logits, what a sampler needs without reading the row back: the
// k best ids of y = x * invt[row] (larger first, ties to the lower id; k = 1 is argmax) and
// the model statistics of softmax(x) at temperature 1: lse = log sum exp x and the entropy
// H = lse - sum p x. Two passes:
//   PARTIAL: one invocation per (row, part of part_len ids): its top k by insertion into a
//            private sorted list (ids ascending, so an equal value never displaces an
//            earlier id) and online statistics m = max x, s = sum exp(x - m),
//            w = sum exp(x - m) (x - m); -inf entries add nothing; NaN or +inf set s = NaN.
//   MERGE:   one invocation per row: merges the parts' lists (each sorted, so a part stops
//            at its first entry that does not beat the current k-th) and statistics:
//            S = sum s_p e^(m_p - M), W = sum e^(m_p - M) (w_p + (m_p - M) s_p),
//            lse = M + log S, H = log S - W / S (NaN for rows with NaN/+inf or all -inf).
// y is computed with a `precise` multiply: IEEE single rounding, the same value the host
// sampler computes, so the selected set is the host's bit for bit.
// bindings: 0 = logits (rows,V) f32, 1 = invt (rows) f32, 2 = part_ids (rows,nparts,K) int,
//   3 = part_vals (rows,nparts,K) f32, 4 = part_stats (rows,nparts,4) f32 {m, s, w, count};
//   MERGE also 5 = out_ids (rows,k) int (rank order), 6 = out_x (rows,k) f32 (x of those
//   ids), 7 = out_stats (rows,2) f32 {lse, H}.
// push: srlm_push_logit_topk {rows, V, nparts, part_len, k}. spec 0 = workgroup size,
//   1 = K (list length, = k).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint K = 1;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer IT { float invt[]; };
#ifdef PARTIAL
layout(std430, binding = 2) writeonly buffer PI { int part_ids[]; };
layout(std430, binding = 3) writeonly buffer PV { float part_vals[]; };
layout(std430, binding = 4) writeonly buffer PS { float part_stats[]; };
#else
layout(std430, binding = 2) readonly buffer PI { int part_ids[]; };
layout(std430, binding = 3) readonly buffer PV { float part_vals[]; };
layout(std430, binding = 4) readonly buffer PS { float part_stats[]; };
layout(std430, binding = 5) writeonly buffer OI { int out_ids[]; };
layout(std430, binding = 6) writeonly buffer OX { float out_x[]; };
layout(std430, binding = 7) writeonly buffer OS { float out_stats[]; };
#endif
layout(push_constant) uniform P { uint rows; uint V; uint nparts; uint part_len; uint k; } p;

#define NEG_INF uintBitsToFloat(0xff800000u)
#define POS_INF uintBitsToFloat(0x7f800000u)

void main() {
  uint kk = min(p.k, K);
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  float vals[K];
  int ids[K];
#ifdef PARTIAL
  for (uint item = gl_GlobalInvocationID.x; item < p.rows * p.nparts; item += stride) {
    uint row = item / p.nparts, part = item % p.nparts;
    uint b = part * p.part_len, e = min(p.V, b + p.part_len);
    float it = invt[row];
    uint cnt = 0u;
    float m = NEG_INF, s = 0.0, w = 0.0;
    bool bad = false;
    for (uint j = b; j < e; j++) {
      float xv = x[row * p.V + j];
      if (isnan(xv) || xv == POS_INF) bad = true;
      else if (xv != NEG_INF) {
        if (xv > m) {
          if (s > 0.0) {
            float d = m - xv, r = exp(d);
            w = r * (w + d * s);
            s *= r;
          }
          m = xv;
        }
        float t = xv - m, ex = exp(t);
        s += ex;
        w += ex * t;
      }
      precise float y = xv * it;
      if (cnt < kk || y > vals[kk - 1u]) {
        uint i = cnt < kk ? cnt : kk - 1u;
        while (i > 0u && y > vals[i - 1u]) {
          vals[i] = vals[i - 1u];
          ids[i] = ids[i - 1u];
          i--;
        }
        vals[i] = y;
        ids[i] = int(j);
        if (cnt < kk) cnt++;
      }
    }
    for (uint i = 0u; i < cnt; i++) {
      part_ids[item * K + i] = ids[i];
      part_vals[item * K + i] = vals[i];
    }
    part_stats[item * 4u] = m;
    part_stats[item * 4u + 1u] = bad ? uintBitsToFloat(0x7fc00000u) : s;
    part_stats[item * 4u + 2u] = w;
    part_stats[item * 4u + 3u] = float(cnt);
  }
#else
  for (uint row = gl_GlobalInvocationID.x; row < p.rows; row += stride) {
    float M = NEG_INF;
    bool bad = false;
    for (uint q = 0u; q < p.nparts; q++) {
      uint pb = (row * p.nparts + q) * 4u;
      bad = bad || isnan(part_stats[pb + 1u]);
      M = max(M, part_stats[pb]);
    }
    float S = 0.0, W = 0.0;
    for (uint q = 0u; q < p.nparts && !bad; q++) {
      uint pb = (row * p.nparts + q) * 4u;
      float mq = part_stats[pb], sq = part_stats[pb + 1u];
      if (sq > 0.0) {
        float d = mq - M, r = exp(d);
        S += r * sq;
        W += r * (part_stats[pb + 2u] + d * sq);
      }
    }
    float lse = M + log(S), H = log(S) - W / S;
    if (bad || M == NEG_INF) lse = H = uintBitsToFloat(0x7fc00000u);
    uint cnt = 0u;
    for (uint q = 0u; q < p.nparts; q++) {
      uint base = (row * p.nparts + q) * K;
      uint n = uint(part_stats[(row * p.nparts + q) * 4u + 3u]);
      for (uint i = 0u; i < n; i++) {
        float v = part_vals[base + i];
        int id = part_ids[base + i];
        // better(v,id) than the current k-th: larger, or equal with a lower id
        if (cnt == kk && !(v > vals[kk - 1u] || (v == vals[kk - 1u] && id < ids[kk - 1u]))) break;
        uint at = cnt < kk ? cnt : kk - 1u;
        while (at > 0u && (v > vals[at - 1u] || (v == vals[at - 1u] && id < ids[at - 1u]))) {
          vals[at] = vals[at - 1u];
          ids[at] = ids[at - 1u];
          at--;
        }
        vals[at] = v;
        ids[at] = id;
        if (cnt < kk) cnt++;
      }
    }
    for (uint i = 0u; i < kk; i++) {
      int id = i < cnt ? ids[i] : -1;
      out_ids[row * p.k + i] = id;
      out_x[row * p.k + i] = id >= 0 ? x[row * p.V + uint(id)] : NEG_INF;
    }
    out_stats[row * 2u] = lse;
    out_stats[row * 2u + 1u] = H;
  }
#endif
}
