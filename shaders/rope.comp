#version 450
// rope: rotary position embedding applied in place on x (N,NH,HS) (HS even); backward is the
// same rotation by the negative angle (sign = -1).
//   pair i = 0..HS/2-1 of head h of token n is rotated by a = sign * pos[n] * theta^(-2i/HS):
//   (u, v) -> (u cos a - v sin a, u sin a + v cos a)
//   NEOX:        (u, v) = (x[i], x[i + HS/2])   rotate-half (Qwen2, HF Llama)
//   INTERLEAVED: (u, v) = (x[2i], x[2i+1])      (GGUF llama)
// The angle is reduced modulo 2*pi exactly in integers: freq[i] holds theta^(-2i/HS) / (2*pi)
// as a 64-bit binary fraction of a turn (two uints, high word first, computed by the host in
// double), so frac(pos * freq) is exact to 2^-32 turn at any position; only the final
// conversion to radians and sin/cos are fp32. (An fp32 pos * inv_freq, as HF computes it, is
// off by ~pos * 6e-8 rad.)
// One workgroup per token (grid-stride over tokens), invocations over the pairs i: each
// angle is computed once and applied to all NH heads (no integer division per element).
// bindings: 0 = x (N,NH,HS) read+written, 1 = pos (N) int, 2 = freq (HS/2) uvec2.
// push: srlm_push_rope {N, NH, HS, xb, pb, sign}: xb/pb = element index of token 0 inside the
// windows bound at x and pos. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint NH; uint HS; uint xb; uint pb; float sign; } p;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer POS { int pos[]; };
layout(std430, binding = 2) readonly buffer FREQ { uvec2 freq[]; };

void main() {
  uint half_ = p.HS / 2u, L = gl_WorkGroupSize.x;
  for (uint n = gl_WorkGroupID.x; n < p.N; n += gl_NumWorkGroups.x) {
    uint ps = uint(pos[p.pb + n]);
    uint tok = p.xb + n * p.NH * p.HS;
    for (uint i = gl_LocalInvocationID.x; i < half_; i += L) {
      uvec2 f = freq[i];
      uint hi1, lo1, hi2, lo2;
      umulExtended(ps, f.x, hi1, lo1);  // pos * F_hi: lo1 = fraction bits 1..32 (whole turns dropped)
      umulExtended(ps, f.y, hi2, lo2);  // pos * F_lo: hi2 carries into bits 1..32
      uint turn = lo1 + hi2;            // frac(pos * F) in units of 2^-32 turn (wraps mod 1 turn)
      float a = p.sign * float(int(turn)) * 1.4629180792671596e-09;  // 2*pi / 2^32; int(): [-pi, pi)
      float cs = cos(a), sn = sin(a);
      for (uint h = 0u; h < p.NH; h++) {  // one angle serves every head of the token
        uint base = tok + h * p.HS;
#if defined(NEOX)
        uint iu = base + i, iv = base + i + half_;
#elif defined(INTERLEAVED)
        uint iu = base + 2u * i, iv = iu + 1u;
#else
#error "define NEOX or INTERLEAVED"
#endif
        float u = x[iu], v = x[iv];
        x[iu] = u * cs - v * sn;
        x[iv] = u * sn + v * cs;
      }
    }
  }
}
