#version 450
#extension GL_GOOGLE_include_directive : require
// embedding_fwd: y[n] = table[ids[n]] for the ids inside this tile's rows [row0, row0+rows)
// of the (V,C) table; with zero_invalid, rows of ids outside [0,V) (padding) are zeroed. The
// host dispatches once per tile so no binding exceeds the device's range.
//   (default) table f32;   F16: table f16 bits, two per uint word (unpackHalf2x16)
// One workgroup per token (grid-stride), invocations over C.
// bindings: 0 = y (N,C) f32 written, 1 = ids (N) int, 2 = table tile window.
// push: srlm_push_embedding {N, C, V, row0, rows, tb, yb, ib, zero_invalid}: tb, yb, ib =
// element index of row row0, of token 0's row and of its id inside the bound windows. spec 0 = workgroup size.
#include "half.glsl"
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint C; uint V; uint row0; uint rows; uint tb; uint yb; uint ib; uint zero_invalid; } p;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer IDS { int ids[]; };
#if defined(F16)
layout(std430, binding = 2) readonly buffer T { uint tab[]; };
#else
layout(std430, binding = 2) readonly buffer T { float tab[]; };
#endif

void main() {
  uint L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  for (uint n = gl_WorkGroupID.x; n < p.N; n += gl_NumWorkGroups.x) {
    int id = ids[p.ib + n];
    uint yo = p.yb + n * p.C;
    if (id >= int(p.row0) && id < int(p.row0 + p.rows)) {
      uint to = p.tb + (uint(id) - p.row0) * p.C;
#if defined(F16)
      for (uint c = t; c < p.C; c += L) y[yo + c] = F16_AT(tab, to + c);
#else
      for (uint c = t; c < p.C; c += L) y[yo + c] = tab[to + c];
#endif
    } else if (p.zero_invalid != 0u && (id < 0 || id >= int(p.V))) {
      for (uint c = t; c < p.C; c += L) y[yo + c] = 0.0;
    }
  }
}
