#version 450
// eltwise: f32 elementwise ops over n elements (grid-stride loop: any n within one binding).
//   OP_ADD:   y = a + b        bindings 0 = y (written), 1 = a, 2 = b
//   OP_MUL:   y = a * b        bindings 0 = y (written), 1 = a, 2 = b
//   OP_SCALE: y = s * x        bindings 0 = y (written), 1 = x   (y may alias x)
//   OP_AXPY:  y = y + s * x    bindings 0 = y (read and written), 1 = x
// push: srlm_push_eltwise {n, s}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; float s; } p;

#if defined(OP_ADD) || defined(OP_MUL)
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
#elif defined(OP_SCALE)
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
#elif defined(OP_AXPY)
layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
#else
#error "define OP_ADD, OP_MUL, OP_SCALE or OP_AXPY"
#endif

void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
#if defined(OP_ADD)
    y[i] = a[i] + b[i];
#elif defined(OP_MUL)
    y[i] = a[i] * b[i];
#elif defined(OP_SCALE)
    y[i] = p.s * x[i];
#else
    y[i] = y[i] + p.s * x[i];
#endif
  }
}
