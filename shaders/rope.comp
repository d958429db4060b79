#version 450
// rope: rotary position embedding applied in place on x (N,NH,HS) (HS even); backward is the
// same rotation by the negative angle (sign = -1).
//   pair i = 0..HS/2-1 of head h of token n is rotated by a = sign * pos[n] * theta^(-2i/HS):
//   (u, v) -> (u cos a - v sin a, u sin a + v cos a)
//   NEOX:        (u, v) = (x[i], x[i + HS/2])   rotate-half (Qwen2, HF Llama)
//   INTERLEAVED: (u, v) = (x[2i], x[2i+1])      (GGUF llama)
// One invocation per pair (grid-stride). The angle is fp32 like HF's (inv_freq and
// pos * inv_freq in float32).
// bindings: 0 = x (N,NH,HS) read+written, 1 = pos (N) int.
// push: srlm_push_rope {N, NH, HS, xb, pb, theta, sign}: xb/pb = element index of token 0
// inside the windows bound at x and pos. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint NH; uint HS; uint xb; uint pb; float theta; float sign; } p;
layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer POS { int pos[]; };

void main() {
  uint half_ = p.HS / 2u;
  uint total = p.N * p.NH * half_;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  float l2 = log2(p.theta);
  for (uint q = gl_GlobalInvocationID.x; q < total; q += stride) {
    uint i = q % half_;
    uint row = q / half_;          // token * NH + head
    uint n = row / p.NH;
    float inv_freq = exp2(-float(2u * i) / float(p.HS) * l2);
    float a = p.sign * float(pos[p.pb + n]) * inv_freq;
    float cs = cos(a), sn = sin(a);
    uint base = p.xb + row * p.HS;
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
