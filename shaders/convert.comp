#version 450
#extension GL_GOOGLE_include_directive : require
// convert: dtype conversions over n elements; 16-bit values live two per uint word (element
// 2k in the low half of word k), so no 16-bit storage or shaderFloat16 is needed.
//   F32_TO_F16:  bindings 0 = y (uint words, written, (n+1)/2), 1 = x (f32, n)
//                round to nearest even on the bits (half.glsl); an odd n pads the last word with 0
//   F32_TO_BF16: same bindings; round to nearest even, NaN stays a quiet NaN
//   F16_TO_F32:  bindings 0 = y (f32, written, n), 1 = x (uint words): unpackHalf2x16, exact
//   BF16_TO_F32: same bindings; y = bits << 16, exact
// Each invocation converts 4 elements (one vec4 of f32, one uvec2 of 16-bit words) in a
// grid-stride loop; invocation 0 then converts the n%4 trailing elements (words are shared by
// two elements, so one invocation writes them all). push: srlm_push_convert {n}.
// spec 0 = workgroup size.
#include "half.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; } p;

#if defined(F32_TO_F16) || defined(F32_TO_BF16)
layout(std430, binding = 0) writeonly buffer Y { uvec2 y[]; };
layout(std430, binding = 1) readonly buffer X { vec4 x[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { vec4 y[]; };
layout(std430, binding = 1) readonly buffer X { uvec2 x[]; };
#endif

uint to_bf16(float v) {
  uint u = floatBitsToUint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  u += 0x7fffu + ((u >> 16) & 1u);
  return u >> 16;
}

#if defined(F32_TO_F16)
#define H(v) f32_to_f16_bits(v)
#elif defined(F32_TO_BF16)
#define H(v) to_bf16(v)
#elif defined(F16_TO_F32)
vec2 W(uint w) { return unpackHalf2x16(w); }
#elif defined(BF16_TO_F32)
vec2 W(uint w) { return vec2(uintBitsToFloat(w << 16), uintBitsToFloat(w & 0xffff0000u)); }
#else
#error "define a conversion"
#endif

void main() {
  uint nv = p.n / 4u, r = p.n & 3u;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint k = gl_GlobalInvocationID.x; k < nv; k += stride) {
#if defined(F32_TO_F16) || defined(F32_TO_BF16)
    vec4 v = x[k];
    y[k] = uvec2(H(v.x) | (H(v.y) << 16), H(v.z) | (H(v.w) << 16));
#else
    uvec2 w = x[k];
    y[k] = vec4(W(w.x), W(w.y));
#endif
  }
  if (gl_GlobalInvocationID.x == 0u && r != 0u) {
#if defined(F32_TO_F16) || defined(F32_TO_BF16)
    y[nv].x = H(x[nv].x) | (r >= 2u ? H(x[nv].y) << 16 : 0u);
    if (r == 3u) y[nv].y = H(x[nv].z);
#else
    vec2 a = W(x[nv].x);
    y[nv].x = a.x;
    if (r >= 2u) y[nv].y = a.y;
    if (r == 3u) y[nv].z = W(x[nv].y).x;
#endif
  }
}
