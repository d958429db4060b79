#version 450
// kv_append: writes new tokens' K and V (f32, after RoPE) into a layer's paged cache, stored
// as f16 (default) or as f32 (KV_F32 defined: a plain copy).
// Cache layout (both pools): [num_blocks][NKV][BS][HS] halves, two per uint (low half first),
// or floats with KV_F32.
// Token t goes to slot[t] = block * BS + row; slot < 0 (padding) or a block >= num_blocks is
// skipped. Rounding to f16 is round-to-nearest-even (common/half.glsl).
// bindings: 0 = kcache (written), 1 = vcache (written), 2 = k (T,NKV,HS) f32,
//           3 = v (T,NKV,HS) f32, 4 = slot (T) int32.
// push: srlm_push_kv_append {T, NKV, HS, BS, num_blocks}. spec 0 = workgroup size.
// One invocation per (t, kv head, pair of elements), grid-stride.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x_id = 0) in;
#ifdef KV_F32
layout(std430, binding = 0) writeonly buffer KC { vec2 kc[]; };
layout(std430, binding = 1) writeonly buffer VC { vec2 vc[]; };
#else
layout(std430, binding = 0) writeonly buffer KC { uint kc[]; };
layout(std430, binding = 1) writeonly buffer VC { uint vc[]; };
#endif
layout(std430, binding = 2) readonly buffer K { float k[]; };
layout(std430, binding = 3) readonly buffer V { float v[]; };
layout(std430, binding = 4) readonly buffer S { int slot[]; };
layout(push_constant) uniform P { uint T; uint NKV; uint HS; uint BS; uint num_blocks; } p;
#include "half.glsl"
void main() {
  uint W = p.HS / 2u;
  uint total = p.T * p.NKV * W;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < total; i += stride) {
    uint w = i % W;
    uint hk = (i / W) % p.NKV;
    uint t = i / (W * p.NKV);
    int s = slot[t];
    if (s < 0) continue;
    uint blk = uint(s) / p.BS, row = uint(s) % p.BS;
    if (blk >= p.num_blocks) continue;
    uint src = (t * p.NKV + hk) * p.HS + 2u * w;
    uint dst = ((blk * p.NKV + hk) * p.BS + row) * W + w;
#ifdef KV_F32
    kc[dst] = vec2(k[src], k[src + 1u]);
    vc[dst] = vec2(v[src], v[src + 1u]);
#else
    kc[dst] = pack_f16x2_rne(k[src], k[src + 1u]);
    vc[dst] = pack_f16x2_rne(v[src], v[src + 1u]);
#endif
  }
}
