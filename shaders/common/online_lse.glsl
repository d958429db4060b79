// online_lse.glsl: running (max m, sum e^(z-m), sum e^(z-m)(z-m)) over a stream of values z,
// and its deterministic combination over a workgroup (wg_reduce.glsl must be included first).
// -inf values contribute nothing (masked logits); a state with no values is (-inf, 0, 0).
// The third sum (d) gives the entropy without cancellation: H = log S - D / S.
#define LSE_NEG_INF uintBitsToFloat(0xff800000u)

void lse_push(inout float m, inout float s, inout float d, float z) {
  if (z == LSE_NEG_INF) return;
  if (m == LSE_NEG_INF) { m = z; s = 1.0; d = 0.0; return; }
  if (z > m) {
    float e = exp(m - z);
    d = e * (d + (m - z) * s);
    s = s * e + 1.0;
    m = z;
  } else {
    float e = exp(z - m);
    s += e;
    d += e * (z - m);
  }
}

// Rebases a state (m, s, d) onto a larger max M: returns (s', d') relative to M.
vec2 lse_rebase(float m, float s, float d, float M) {
  if (m == LSE_NEG_INF || s == 0.0) return vec2(0.0);
  float f = exp(m - M);
  return vec2(s * f, f * (d + (m - M) * s));
}

// Workgroup combination in subgroup order (call from uniform control flow).
vec3 lse_wg(float m, float s, float d) {
  float M = wg_max(m);
  vec2 r = lse_rebase(m, s, d, M);
  return vec3(M, wg_sum(r.x), wg_sum(r.y));
}
