// rowvec.glsl: element type of the row ops. With VEC4 the rows are bound as vec4 arrays
// (C % 4 == 0 and every window base % 4 == 0, checked by the host): a quarter of the
// accesses, each 16 bytes, which lavapipe and GPUs both prefer. Indices and C are then in
// vec4 units. HSUM(v) adds a T's components; HMAX(v) takes their maximum.
#if defined(VEC4)
#define T vec4
#define HSUM(v) dot((v), vec4(1.0))
#define HMAX(v) max(max((v).x, (v).y), max((v).z, (v).w))
#define TW 4u
#else
#define T float
#define HSUM(v) (v)
#define HMAX(v) (v)
#define TW 1u
#endif
