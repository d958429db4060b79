#version 450
// silu: SiLU and SwiGLU, forward and backward, elementwise over n (grid-stride loop).
//   silu(x) = x * s, s = sigmoid(x) = 1 / (1 + exp(-x)); silu'(x) = s * (1 + x * (1 - s)).
//   SILU_FWD:   y = silu(x)                  bindings 0 = y (written), 1 = x
//   SILU_BWD:   dx = dy * silu'(x)           bindings 0 = dx (written), 1 = dy, 2 = x
//   SWIGLU_FWD: y = silu(gate) * up          bindings 0 = y (written), 1 = gate, 2 = up
//   SWIGLU_BWD: dgate = dy * up * silu'(gate), dup = dy * silu(gate)
//               bindings 0 = dgate (written), 1 = dup (written), 2 = dy, 3 = gate, 4 = up
// push: srlm_push_eltwise {n, s (unused)}. spec 0 = workgroup size.
layout(local_size_x_id = 0) in;
layout(push_constant) uniform P { uint n; float s; } p;

#if defined(SILU_FWD)
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
#elif defined(SILU_BWD) || defined(SWIGLU_FWD)
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) readonly buffer B { float b[]; };
#elif defined(SWIGLU_BWD)
layout(std430, binding = 0) writeonly buffer DG { float dg[]; };
layout(std430, binding = 1) writeonly buffer DU { float du[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) readonly buffer G { float g[]; };
layout(std430, binding = 4) readonly buffer U { float u[]; };
#else
#error "define SILU_FWD, SILU_BWD, SWIGLU_FWD or SWIGLU_BWD"
#endif

float sigm(float v) { return 1.0 / (1.0 + exp(-v)); }

void main() {
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
#if defined(SILU_FWD)
    float v = x[i];
    y[i] = v * sigm(v);
#elif defined(SILU_BWD)
    float v = b[i], s = sigm(v);
    y[i] = a[i] * s * (1.0 + v * (1.0 - s));
#elif defined(SWIGLU_FWD)
    float v = a[i];
    y[i] = v * sigm(v) * b[i];
#else
    float v = g[i], s = sigm(v), d = dy[i];
    dg[i] = d * u[i] * s * (1.0 + v * (1.0 - s));
    du[i] = d * v * s;
#endif
  }
}
