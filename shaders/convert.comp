#version 450
#extension GL_GOOGLE_include_directive : require
// convert: dtype conversions over n elements; 16-bit values live two per uint word (element
// 2k in the low half of word k), so no 16-bit storage or shaderFloat16 is needed.
//   F32_TO_F16:  bindings 0 = y (uint words, written, (n+1)/2), 1 = x (f32, n)
//                round to nearest even on the bits (half.glsl); an odd n pads the last word with 0
//   F32_TO_BF16: same bindings; round to nearest even, NaN stays a quiet NaN
//   F16_TO_F32:  bindings 0 = y (f32, written, n), 1 = x (uint words): unpackHalf2x16, exact
//   BF16_TO_F32: same bindings; y = bits << 16, exact
// One invocation per word (two elements). push: srlm_push_convert {n}. spec 0 = workgroup size.
#include "half.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; } p;

#if defined(F32_TO_F16) || defined(F32_TO_BF16)
layout(std430, binding = 0) writeonly buffer Y { uint y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { uint x[]; };
#endif

uint to_bf16(float v) {
  uint u = floatBitsToUint(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  u += 0x7fffu + ((u >> 16) & 1u);
  return u >> 16;
}

void main() {
  uint words = (p.n + 1u) / 2u;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint k = gl_GlobalInvocationID.x; k < words; k += stride) {
    uint i = 2u * k;
    bool two = i + 1u < p.n;
#if defined(F32_TO_F16)
    y[k] = f32_to_f16_bits(x[i]) | (two ? f32_to_f16_bits(x[i + 1u]) << 16 : 0u);
#elif defined(F32_TO_BF16)
    y[k] = to_bf16(x[i]) | (two ? to_bf16(x[i + 1u]) << 16 : 0u);
#elif defined(F16_TO_F32)
    vec2 v = unpackHalf2x16(x[k]);
    y[i] = v.x;
    if (two) y[i + 1u] = v.y;
#elif defined(BF16_TO_F32)
    uint w = x[k];
    y[i] = uintBitsToFloat(w << 16);
    if (two) y[i + 1u] = uintBitsToFloat(w & 0xffff0000u);
#else
#error "define a conversion"
#endif
  }
}
