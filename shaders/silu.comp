#version 450
// silu: SiLU and SwiGLU, forward and backward, elementwise over n.
//   silu(x) = x * s, s = sigmoid(x) = 1 / (1 + exp(-x)); silu'(x) = s * (1 + x * (1 - s)).
//   SILU_FWD:   y = silu(x)                  bindings 0 = y (written), 1 = x
//   SILU_BWD:   dx = dy * silu'(x)           bindings 0 = dx (written), 1 = dy, 2 = x
//   SWIGLU_FWD: y = silu(gate) * up          bindings 0 = y (written), 1 = gate, 2 = up
//   SWIGLU_BWD: dgate = dy * up * silu'(gate), dup = dy * silu(gate)
//               bindings 0 = dgate (written), 1 = dup (written), 2 = dy, 3 = gate, 4 = up
// Bound as vec4 arrays like eltwise.comp: whole vectors in a grid-stride loop, then the last
// partial vector component by component (nothing past element n-1 is touched).
// push: srlm_push_eltwise {n, s (unused)}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; float s; } p;

#if defined(SILU_FWD)
layout(std430, binding = 0) writeonly buffer Y { vec4 y[]; };
layout(std430, binding = 1) readonly buffer X { vec4 x[]; };
#elif defined(SILU_BWD) || defined(SWIGLU_FWD)
layout(std430, binding = 0) writeonly buffer Y { vec4 y[]; };
layout(std430, binding = 1) readonly buffer A { vec4 a[]; };
layout(std430, binding = 2) readonly buffer B { vec4 b[]; };
#elif defined(SWIGLU_BWD)
layout(std430, binding = 0) writeonly buffer DG { vec4 dg[]; };
layout(std430, binding = 1) writeonly buffer DU { vec4 du[]; };
layout(std430, binding = 2) readonly buffer DY { vec4 dy[]; };
layout(std430, binding = 3) readonly buffer G { vec4 g[]; };
layout(std430, binding = 4) readonly buffer U { vec4 u[]; };
#else
#error "define SILU_FWD, SILU_BWD, SWIGLU_FWD or SWIGLU_BWD"
#endif

float sigm(float v) { return 1.0 / (1.0 + exp(-v)); }
vec4 sigm(vec4 v) { return 1.0 / (1.0 + exp(-v)); }

// One whole vector (T = vec4, index i) or one component (T = float, element [i][c]).
#if defined(SILU_FWD)
#define BODY(T, IX) { T v = x IX; y IX = v * sigm(v); }
#elif defined(SILU_BWD)
#define BODY(T, IX) { T v = b IX; T s = sigm(v); y IX = a IX * s * (1.0 + v * (1.0 - s)); }
#elif defined(SWIGLU_FWD)
#define BODY(T, IX) { T v = a IX; y IX = v * sigm(v) * b IX; }
#else
#define BODY(T, IX) { T v = g IX; T s = sigm(v); T d = dy IX; \
                      dg IX = d * u IX * s * (1.0 + v * (1.0 - s)); du IX = d * v * s; }
#endif

void main() {
  uint nv = p.n / 4u;
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < nv; i += stride) BODY(vec4, [i])
  uint t = gl_GlobalInvocationID.x;
  if (t < (p.n & 3u)) BODY(float, [nv][t])
}
