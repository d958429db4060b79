// matmul_push.glsl: the push constants of every matmul shader (srlm_push_matmul in
// runtime/ops/push.h).
// M, N, K: sizes of this dispatch. The (M,N) matrix Y (or dY) has row stride ldy and starts
// at column ycol of its binding, so a tile of W rows writes (or reads) a column range of Y.
// flags: MM_BIAS adds bias[n] (forward); MM_ACC accumulates into the output (+=).
// xoff: element offset of X's first row in its binding (matmul_mv only: row blocks of TM).
layout(push_constant) uniform P {
  uint M, N, K;
  uint ldy, ycol;
  uint flags;
  uint xoff;
} p;
#define MM_BIAS 1u
#define MM_ACC 2u
