// matmul_common.glsl: what every matmul shader shares: the push-constant block (mirrors
// srlm_push_matmul in runtime/ops/push.h) and the weight access for W stored as f32
// (W_F16 undefined) or as f16 halves packed two per uint word (W_F16 defined), unpacked with
// unpackHalf2x16 so that no shaderFloat16 or 16-bit storage feature is needed.
// Include after declaring `layout(binding = W_BINDING)`'s number as W_BINDING.

// M, N, K: sizes of this dispatch. The (M,N) matrix Y (or dY) has row stride ldy and starts
// at column ycol of its binding, so a tile of W rows writes (or reads) a column range of Y.
// flags: MM_BIAS adds bias[n] (forward) ; MM_ACC accumulates into the output (+=).
layout(push_constant) uniform P {
  uint M, N, K;
  uint ldy, ycol;
  uint flags;
} p;
#define MM_BIAS 1u
#define MM_ACC 2u

#ifdef W_F16
layout(std430, binding = W_BINDING) readonly buffer Wb { uint w[]; };
layout(std430, binding = W_BINDING) readonly buffer Wb4 { uvec4 w4[]; };
// element i of W (i counts halves from the start of the binding)
float w_at(uint i) {
  vec2 h = unpackHalf2x16(w[i >> 1]);
  return (i & 1u) == 0u ? h.x : h.y;
}
// elements 8b .. 8b+7 of W (8b must be a multiple of 8: one 16-byte load)
void w_at8(uint b, out vec4 lo, out vec4 hi) {
  uvec4 u = w4[b];
  lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
  hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
}
#else
layout(std430, binding = W_BINDING) readonly buffer Wb { float w[]; };
layout(std430, binding = W_BINDING) readonly buffer Wb4 { vec4 w4[]; };
float w_at(uint i) { return w[i]; }
void w_at8(uint b, out vec4 lo, out vec4 hi) {
  lo = w4[2u * b];
  hi = w4[2u * b + 1u];
}
#endif
