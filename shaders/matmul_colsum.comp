#version 450
#extension GL_GOOGLE_include_directive : require
// matmul_colsum: db[n] += sum over m of dY[m][n] (db = with MM_ACC clear): the bias gradient
// of Y = X . W^T + b. One invocation per column, summed over m in order: deterministic.
// bindings: 0 = db (N) f32 (read and written), 1 = dY (M rows, stride ldy, from column ycol).
// push: srlm_push_matmul (K unused). spec: 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer DBb { float db[]; };
layout(std430, binding = 1) readonly buffer DYb { float dy[]; };
#include "matmul_push.glsl"

void main() {
  uint n = gl_GlobalInvocationID.x;
  if (n >= p.N) return;
  float s = 0.0;
  for (uint m = 0; m < p.M; m++) s += dy[m * p.ldy + p.ycol + n];
  if ((p.flags & MM_ACC) != 0u) s += db[n];
  db[n] = s;
}
