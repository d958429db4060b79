/* push.h: the push-constant structs of every shader, mirrored from the GLSL
 * `layout(push_constant)` blocks, with size checks. Each must stay <= 128 bytes. */
#ifndef SRLM_PUSH_H
#define SRLM_PUSH_H

#include <stdint.h>

typedef struct srlm_push_fill {
    uint32_t n;
    float value;
} srlm_push_fill;
_Static_assert(sizeof(srlm_push_fill) == 8, "fill push constants");

/* matmul family (shaders/matmul_*.comp, shaders/common/matmul_common.glsl): sizes of this
 * dispatch; the (M,N) matrix Y or dY has row stride ldy and starts at column ycol of its
 * binding (a tile of W rows touches a column range of Y); flags: SRLM_MM_BIAS, SRLM_MM_ACC. */
typedef struct srlm_push_matmul {
    uint32_t M, N, K;
    uint32_t ldy, ycol;
    uint32_t flags;
    uint32_t xoff; /* matmul_mv: element offset of X's first row (row blocks of TM) */
} srlm_push_matmul;
_Static_assert(sizeof(srlm_push_matmul) == 28, "matmul push constants");
#define SRLM_MM_BIAS 1u
#define SRLM_MM_ACC 2u

typedef struct srlm_push_membw {
    uint32_t n;     /* uvec4 words of x */
    uint32_t chunk; /* words per workgroup */
} srlm_push_membw;
_Static_assert(sizeof(srlm_push_membw) == 8, "membw push constants");

#endif
