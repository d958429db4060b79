// wg_reduce.glsl: deterministic workgroup reductions. Each subgroup reduces with subgroup
// arithmetic, then every invocation sums the per-subgroup results in subgroup order, so the
// result is the same on every run and in every invocation. No float atomics.
// Needs: GL_KHR_shader_subgroup_arithmetic; at most 64 subgroups per workgroup (the host
// caps the workgroup size, see srlm_ops_row_wg). Call from uniform control flow.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

shared float wg_red[64];

float wg_sum(float v) {
  v = subgroupAdd(v);
  if (gl_NumSubgroups == 1) return v;
  barrier();  // wg_red may still be read by a previous call
  if (subgroupElect()) wg_red[gl_SubgroupID] = v;
  barrier();
  float t = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; i++) t += wg_red[i];
  return t;
}

float wg_max(float v) {
  v = subgroupMax(v);
  if (gl_NumSubgroups == 1) return v;
  barrier();
  if (subgroupElect()) wg_red[gl_SubgroupID] = v;
  barrier();
  float t = wg_red[0];
  for (uint i = 1; i < gl_NumSubgroups; i++) t = max(t, wg_red[i]);
  return t;
}
