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

typedef struct srlm_push_kv_append {
    uint32_t T, NKV, HS, BS, num_blocks;
} srlm_push_kv_append;
_Static_assert(sizeof(srlm_push_kv_append) == 20, "kv_append push constants");

typedef struct srlm_push_attn_paged {
    uint32_t Tq, NH, NKV, num_seqs, max_blocks, num_blocks;
    uint32_t nsplit, split_len; /* context splits per (row, head) and positions per split */
    float scale;
} srlm_push_attn_paged;
_Static_assert(sizeof(srlm_push_attn_paged) == 36, "attn_paged push constants");

typedef struct srlm_push_attn_combine {
    uint32_t rows, HS, nsplit;
} srlm_push_attn_combine;
_Static_assert(sizeof(srlm_push_attn_combine) == 12, "attn_combine push constants");

typedef struct srlm_push_attn_train {
    uint32_t B, T, NH, NKV;
    uint32_t has_seg; /* 1: seg binding holds (B,T) segment ids */
    float scale;
} srlm_push_attn_train;
_Static_assert(sizeof(srlm_push_attn_train) == 24, "attn_fwd/attn_bwd push constants");

#endif
