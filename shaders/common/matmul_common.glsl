// matmul_common.glsl: what every matmul shader shares: the push-constant block (mirrors
// srlm_push_matmul in runtime/ops/push.h) and the weight access for W stored as f32
// (W_F16 undefined) or as f16 halves packed two per uint word (W_F16 defined), unpacked with
// unpackHalf2x16 so that no shaderFloat16 or 16-bit storage feature is needed.
// Include after defining W_BINDING (the binding number of W).

#include "matmul_push.glsl"

// LD64: 16-byte loads as two 64-bit words. Devices that load per lane and per component
// (lavapipe) then issue half the loads. Needs shaderInt64 (the host checks); the plain 32-bit
// form is the portable default.
#ifdef LD64
vec4 load64x4(u64vec2 u) { return uintBitsToFloat(uvec4(unpack32(u.x), unpack32(u.y))); }
#endif

#ifdef W_F16
layout(std430, binding = W_BINDING) readonly buffer Wb { uint w[]; };
// element i of W (i counts halves from the start of the binding)
float w_at(uint i) {
  vec2 h = unpackHalf2x16(w[i >> 1]);
  return (i & 1u) == 0u ? h.x : h.y;
}
#ifdef LD64
layout(std430, binding = W_BINDING) readonly buffer Wb8 { u64vec2 w8[]; };
void w_at8(uint b, out vec4 lo, out vec4 hi) {
  u64vec2 u = w8[b];
  uvec2 a = unpack32(u.x), c = unpack32(u.y);
  lo = vec4(unpackHalf2x16(a.x), unpackHalf2x16(a.y));
  hi = vec4(unpackHalf2x16(c.x), unpackHalf2x16(c.y));
}
#else
layout(std430, binding = W_BINDING) readonly buffer Wb4 { uvec4 w4[]; };
// elements 8b .. 8b+7 of W (8b must be a multiple of 8: one 16-byte load)
void w_at8(uint b, out vec4 lo, out vec4 hi) {
  uvec4 u = w4[b];
  lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
  hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
}
#endif
#else
layout(std430, binding = W_BINDING) readonly buffer Wb { float w[]; };
float w_at(uint i) { return w[i]; }
#ifdef LD64
layout(std430, binding = W_BINDING) readonly buffer Wb8 { u64vec2 w8[]; };
void w_at8(uint b, out vec4 lo, out vec4 hi) {
  lo = load64x4(w8[2u * b]);
  hi = load64x4(w8[2u * b + 1u]);
}
#else
layout(std430, binding = W_BINDING) readonly buffer Wb4 { vec4 w4[]; };
void w_at8(uint b, out vec4 lo, out vec4 hi) {
  lo = w4[2u * b];
  hi = w4[2u * b + 1u];
}
#endif
#endif
