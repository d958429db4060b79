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

typedef struct srlm_push_membw {
    uint32_t n;     /* uvec4 words of x */
    uint32_t chunk; /* words per workgroup */
} srlm_push_membw;
_Static_assert(sizeof(srlm_push_membw) == 8, "membw push constants");

#endif
