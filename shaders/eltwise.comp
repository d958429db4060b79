#version 450
// eltwise: f32 elementwise ops over n elements.
//   OP_ADD:   y = a + b        bindings 0 = y (written), 1 = a, 2 = b
//   OP_MUL:   y = a * b        bindings 0 = y (written), 1 = a, 2 = b
//   OP_SCALE: y = s * x        bindings 0 = y (written), 1 = x   (y may alias x)
//   OP_AXPY:  y = y + s * x    bindings 0 = y (read and written), 1 = x
// Bound as vec4 arrays: a grid-stride loop over the n/4 whole vectors (one 16-byte load per
// operand and invocation: fewer, wider accesses are faster on lavapipe and GPUs alike), then
// the first n%4 invocations finish the last partial vector component by component, so
// nothing past element n-1 is touched.
// push: srlm_push_eltwise {n, s}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; float s; } p;

#if defined(OP_ADD) || defined(OP_MUL)
layout(std430, binding = 0) writeonly buffer Y { vec4 y[]; };
layout(std430, binding = 1) readonly buffer A { vec4 a[]; };
layout(std430, binding = 2) readonly buffer B { vec4 b[]; };
#if defined(OP_ADD)
#define F(i) (a[i] + b[i])
#define F1(i, c) (a[i][c] + b[i][c])
#else
#define F(i) (a[i] * b[i])
#define F1(i, c) (a[i][c] * b[i][c])
#endif
#elif defined(OP_SCALE)
layout(std430, binding = 0) writeonly buffer Y { vec4 y[]; };
layout(std430, binding = 1) readonly buffer X { vec4 x[]; };
#define F(i) (p.s * x[i])
#define F1(i, c) (p.s * x[i][c])
#elif defined(OP_AXPY)
layout(std430, binding = 0) buffer Y { vec4 y[]; };
layout(std430, binding = 1) readonly buffer X { vec4 x[]; };
#define F(i) (y[i] + p.s * x[i])
#define F1(i, c) (y[i][c] + p.s * x[i][c])
#else
#error "define OP_ADD, OP_MUL, OP_SCALE or OP_AXPY"
#endif

void main() {
  uint nv = p.n / 4u;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < nv; i += stride) y[i] = F(i);
  uint t = gl_GlobalInvocationID.x;
  if (t < (p.n & 3u)) y[nv][t] = F1(nv, t);
}
