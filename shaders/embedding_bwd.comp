#version 450
// embedding_bwd: dtable[id] += dy[n] for every token n whose id lies in this tile's rows
// [row0, row0+rows), deterministically and without atomics: the workgroup of the FIRST token
// carrying an id adds, for each of its columns, the rows dy[k] of all tokens k with that id in
// token order, so each gradient row is summed in the same order as the CPU reference.
// Cost: O(N^2) id comparisons in the worst case (fine for the N of a training step). When the
// host splits the tokens into chunks, the chunks run in order, so the sums keep that order.
// bindings: 0 = dtable tile window (f32) read+written, 1 = dy (N,C), 2 = ids (N) int.
// push: srlm_push_embedding {N, C, V, row0, rows, tb, yb, ib, zero_invalid (unused)}: window bases
// as in embedding_fwd.comp. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint N; uint C; uint V; uint row0; uint rows; uint tb; uint yb; uint ib; uint zero_invalid; } p;
layout(std430, binding = 0) buffer T { float tab[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) readonly buffer IDS { int ids[]; };

void main() {
  uint L = gl_WorkGroupSize.x, t = gl_LocalInvocationID.x;
  for (uint n = gl_WorkGroupID.x; n < p.N; n += gl_NumWorkGroups.x) {
    int id = ids[p.ib + n];
    if (id < int(p.row0) || id >= int(p.row0 + p.rows) || id >= int(p.V)) continue;
    bool first = true;
    for (uint k = 0u; k < n && first; k++) first = ids[p.ib + k] != id;
    if (!first) continue;
    uint to = p.tb + (uint(id) - p.row0) * p.C;
    for (uint k = n; k < p.N; k++) {
      if (ids[p.ib + k] != id) continue;
      uint ko = p.yb + k * p.C;
      for (uint c = t; c < p.C; c += L) tab[to + c] += dy[ko + c];
    }
  }
}
