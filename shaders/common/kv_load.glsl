// kv_load.glsl: read access to one layer's paged K and V pools (bindings 3 and 4) of the
// attention shaders, stored as f16 halves packed two per uint (default) or as f32 (KV_F32
// defined). Both layouts are [num_blocks][NKV][BS][HS]; a "chunk" is 8 consecutive elements
// of a row (HS is a multiple of 8), so chunk indices are the same for both element types.
#ifdef KV_F32
layout(std430, binding = 3) readonly buffer KC { vec4 kc[]; };
layout(std430, binding = 4) readonly buffer VC { vec4 vc[]; };
void k_chunk(uint c, out vec4 lo, out vec4 hi) { lo = kc[2u * c]; hi = kc[2u * c + 1u]; }
void v_chunk(uint c, out vec4 lo, out vec4 hi) { lo = vc[2u * c]; hi = vc[2u * c + 1u]; }
#else
layout(std430, binding = 3) readonly buffer KC { uvec4 kc[]; };
layout(std430, binding = 4) readonly buffer VC { uvec4 vc[]; };
void k_chunk(uint c, out vec4 lo, out vec4 hi) {
  uvec4 w = kc[c];
  lo = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
  hi = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
}
void v_chunk(uint c, out vec4 lo, out vec4 hi) {
  uvec4 w = vc[c];
  lo = vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
  hi = vec4(unpackHalf2x16(w.z), unpackHalf2x16(w.w));
}
#endif
