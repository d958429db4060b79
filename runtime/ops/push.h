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
/* eltwise.comp (add, mul, scale, axpy) and silu.comp: n elements, s the scalar of scale/axpy. */
typedef struct srlm_push_eltwise {
    uint32_t n;
    float s;
} srlm_push_eltwise;
_Static_assert(sizeof(srlm_push_eltwise) == 8, "eltwise push constants");

/* convert.comp: n elements. */
typedef struct srlm_push_convert {
    uint32_t n;
} srlm_push_convert;
_Static_assert(sizeof(srlm_push_convert) == 4, "convert push constants");

/* reduce.comp: n inputs; FINAL writes out[out_index], its sqrt when do_sqrt. */
typedef struct srlm_push_reduce {
    uint32_t n;
    uint32_t out_index;
    uint32_t do_sqrt;
} srlm_push_reduce;
_Static_assert(sizeof(srlm_push_reduce) == 12, "reduce push constants");

/* Row ops (rmsnorm_fwd/bwd.comp, softmax.comp): N rows of C; b0..b4 are the element index of
 * row 0 inside each bound window (see srlm_ops_window), their meaning per shader header. */
typedef struct srlm_push_rows {
    uint32_t N, C;
    float eps;
    uint32_t b0, b1, b2, b3, b4;
} srlm_push_rows;
_Static_assert(sizeof(srlm_push_rows) == 32, "row-op push constants");

/* rope.comp: x (N,NH,HS) in place; xb/pb window bases of x and pos; sign -1 for backward. */
typedef struct srlm_push_rope {
    uint32_t N, NH, HS, xb, pb;
    float sign;
} srlm_push_rope;
_Static_assert(sizeof(srlm_push_rope) == 24, "rope push constants");

/* embedding_fwd/bwd.comp: N tokens against one tile of table rows [row0, row0 + rows); tb,
 * yb, ib = element index of the tile's first row, the first token's row and its id inside
 * the bound windows. */
typedef struct srlm_push_embedding {
    uint32_t N, C, V, row0, rows, tb, yb, ib, zero_invalid;
} srlm_push_embedding;

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

typedef struct srlm_push_logit_topk {
    uint32_t rows, V, nparts, part_len, k;
} srlm_push_logit_topk;
_Static_assert(sizeof(srlm_push_logit_topk) == 20, "logit_topk push constants");

typedef struct srlm_push_attn_combine {
    uint32_t rows, HS, nsplit;
} srlm_push_attn_combine;
_Static_assert(sizeof(srlm_push_attn_combine) == 12, "attn_combine push constants");
_Static_assert(sizeof(srlm_push_embedding) == 36, "embedding push constants");

/* crossentropy.comp and kl.comp: N rows in this dispatch, V row stride (vocabulary), TV
 * columns per tile, T tiles per row, v0/vw the window's first column (a multiple of TV) and
 * width, k = 1/temperature, scale the gradient factor, mode (KL direction), b[i] the element
 * index of (row 0, column v0) inside the window bound at binding i (vec4 index for stats). */
typedef struct srlm_push_loss {
    uint32_t N, V, TV, T, v0, vw;
    float k, scale;
    uint32_t mode;
    uint32_t b[8];
} srlm_push_loss;
_Static_assert(sizeof(srlm_push_loss) == 68, "loss push constants");
/* kl_topk.comp: the loss constants followed by K, the teacher entries per row. */
typedef struct srlm_push_kl_topk {
    srlm_push_loss l;
    uint32_t K;
} srlm_push_kl_topk;
_Static_assert(sizeof(srlm_push_kl_topk) == 72, "kl_topk push constants");

/* adamw.comp: n elements of this piece, the constant hyper-parameters, decay flag, hb the
 * float index of the parameter block inside its window, max_norm for CLIP. */
typedef struct srlm_push_adamw {
    uint32_t n;
    float beta1, beta2, eps;
    uint32_t decay, hb;
    float max_norm;
    uint32_t pad;
} srlm_push_adamw;
_Static_assert(sizeof(srlm_push_adamw) == 32, "adamw push constants");

typedef struct srlm_push_attn_train {
    uint32_t B, T, NH, NKV;
    uint32_t has_seg; /* 1: seg binding holds (B,T) segment ids */
    float scale;
} srlm_push_attn_train;
_Static_assert(sizeof(srlm_push_attn_train) == 24, "attn_fwd/attn_bwd push constants");

#endif
