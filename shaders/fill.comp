#version 450
// fill: y[i] = value for i < n (grid-stride loop: any n within one binding).
// bindings: 0 = y (f32, written). push: srlm_push_fill {n, value}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float value; } p;
void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) y[i] = p.value;
}
