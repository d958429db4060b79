#version 450
// membw: memory bandwidth probes for `srlm bench membw`.
//   READ: each invocation sums the uvec4 words of its workgroup's contiguous chunk and
//         writes one partial (so the reads cannot be optimised away).
//   COPY: y = x, uvec4 words.
// bindings: 0 = x (uvec4, read), 1 = y (READ: uint partial per invocation; COPY: uvec4).
// push: n (uvec4 words in x), chunk (words per workgroup). spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { uvec4 x[]; };
#ifdef READ
layout(std430, binding = 1) writeonly buffer Y { uint y[]; };
#else
layout(std430, binding = 1) writeonly buffer Y { uvec4 y[]; };
#endif
layout(push_constant) uniform P { uint n; uint chunk; } p;
void main() {
  uint begin = gl_WorkGroupID.x * p.chunk;
  uint end = min(begin + p.chunk, p.n);
#ifdef READ
  uvec4 acc = uvec4(0);
  for (uint i = begin + gl_LocalInvocationID.x; i < end; i += gl_WorkGroupSize.x) acc += x[i];
  y[gl_GlobalInvocationID.x] = acc.x + acc.y + acc.z + acc.w;
#else
  for (uint i = begin + gl_LocalInvocationID.x; i < end; i += gl_WorkGroupSize.x) y[i] = x[i];
#endif
}
