#version 450
// fill: y[i] = value for i < n.
// bindings: 0 = y (f32, written). push: n, value. Workgroup size = spec constant 0.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(push_constant) uniform P { uint n; float value; } p;
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < p.n) y[i] = p.value;
}
