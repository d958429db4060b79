/* ref_attention.c: CPU reference of grouped-query causal attention: the training forward
 * (saving the log-sum-exp per query row) and backward (recomputing the probabilities from
 * it), and the inference form over a paged KV cache. Two passes over the keys instead of a
 * score buffer, so nothing is allocated. Not a fast path. */
#include "ref.h"

#include <math.h>
#include <string.h>

static float dotf(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static int allowed(const int *seg, int b, int T, int i, int j) {
    return j <= i && (!seg || seg[(size_t)b * T + j] == seg[(size_t)b * T + i]);
}

void srlm_ref_attention_fwd(float *out, float *lse, float *att, const float *q, const float *k,
                            const float *v, const int *seg, int B, int T, int NH, int NKV,
                            int HS) {
    float scale = 1.0f / sqrtf((float)HS);
    int group = NH / NKV;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            int kh = h / group;
            for (int i = 0; i < T; i++) {
                const float *qi = q + (((size_t)b * T + i) * NH + h) * HS;
                float *oi = out + (((size_t)b * T + i) * NH + h) * HS;
                float mx = -INFINITY;
                for (int j = 0; j <= i; j++) {
                    if (!allowed(seg, b, T, i, j)) continue;
                    float s = dotf(qi, k + (((size_t)b * T + j) * NKV + kh) * HS, HS) * scale;
                    mx = s > mx ? s : mx;
                }
                float sum = 0.0f;
                memset(oi, 0, (size_t)HS * sizeof *oi);
                for (int j = 0; j <= i; j++) {
                    if (!allowed(seg, b, T, i, j)) continue;
                    size_t kv = (((size_t)b * T + j) * NKV + kh) * HS;
                    float p = expf(dotf(qi, k + kv, HS) * scale - mx);
                    sum += p;
                    for (int d = 0; d < HS; d++) oi[d] += p * v[kv + d];
                }
                for (int d = 0; d < HS; d++) oi[d] /= sum;
                float l = mx + logf(sum);
                if (lse) lse[((size_t)b * NH + h) * T + i] = l;
                if (att) {
                    float *ai = att + (((size_t)b * NH + h) * T + i) * T;
                    for (int j = 0; j < T; j++) {
                        ai[j] = 0.0f;
                        if (!allowed(seg, b, T, i, j)) continue;
                        float s = dotf(qi, k + (((size_t)b * T + j) * NKV + kh) * HS, HS) * scale;
                        ai[j] = expf(s - l);
                    }
                }
            }
        }
}

void srlm_ref_attention_bwd(float *dq, float *dk, float *dv, const float *dout, const float *out,
                            const float *lse, const float *q, const float *k, const float *v,
                            const int *seg, int B, int T, int NH, int NKV, int HS) {
    float scale = 1.0f / sqrtf((float)HS);
    int group = NH / NKV;
    memset(dq, 0, (size_t)B * T * NH * HS * sizeof *dq);
    memset(dk, 0, (size_t)B * T * NKV * HS * sizeof *dk);
    memset(dv, 0, (size_t)B * T * NKV * HS * sizeof *dv);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            int kh = h / group;
            for (int i = 0; i < T; i++) {
                size_t qo = (((size_t)b * T + i) * NH + h) * HS;
                const float *qi = q + qo, *doi = dout + qo;
                float *dqi = dq + qo;
                float l = lse[((size_t)b * NH + h) * T + i];
                float D = dotf(doi, out + qo, HS);  // = sum_j P_ij (dout_i . v_j)
                for (int j = 0; j <= i; j++) {
                    if (!allowed(seg, b, T, i, j)) continue;
                    size_t kv = (((size_t)b * T + j) * NKV + kh) * HS;
                    float p = expf(dotf(qi, k + kv, HS) * scale - l);
                    float ds = p * (dotf(doi, v + kv, HS) - D) * scale;
                    for (int d = 0; d < HS; d++) {
                        dqi[d] += ds * k[kv + d];
                        dk[kv + d] += ds * qi[d];
                        dv[kv + d] += p * doi[d];
                    }
                }
            }
        }
}

/* A paged KV cache of either dtype: exactly one of k32/v32 and k16/v16 is set. */
typedef struct {
    const float *k32, *v32;
    const uint16_t *k16, *v16;
    const int *block_table;
    int NKV, HS, block_size, max_blocks;
} kv_cache;

/* Offset of (sequence seq, position p, kv head kh) in the cache. */
static size_t kv_at(const kv_cache *c, int seq, int p, int kh) {
    int block = c->block_table[(size_t)seq * c->max_blocks + p / c->block_size];
    return (((size_t)block * c->block_size + p % c->block_size) * c->NKV + kh) * c->HS;
}

static float kv_k(const kv_cache *c, size_t i) {
    return c->k32 ? c->k32[i] : srlm_ref_f16_to_f32(c->k16[i]);
}

static float kv_v(const kv_cache *c, size_t i) {
    return c->v32 ? c->v32[i] : srlm_ref_f16_to_f32(c->v16[i]);
}

/* Same arithmetic, in the same order, as srlm_ref_attention_fwd. */
static void attention_kv(float *out, const float *q, const kv_cache *c, const int *qseq,
                         const int *qpos, int NQ, int NH) {
    int HS = c->HS, group = NH / c->NKV;
    float scale = 1.0f / sqrtf((float)HS);
    for (int r = 0; r < NQ; r++)
        for (int h = 0; h < NH; h++) {
            const float *qi = q + ((size_t)r * NH + h) * HS;
            float *oi = out + ((size_t)r * NH + h) * HS;
            float mx = -INFINITY, sum = 0.0f;
            for (int j = 0; j <= qpos[r]; j++) {
                size_t at = kv_at(c, qseq[r], j, h / group);
                float s = 0.0f;
                for (int d = 0; d < HS; d++) s += qi[d] * kv_k(c, at + d);
                s *= scale;
                mx = s > mx ? s : mx;
            }
            memset(oi, 0, (size_t)HS * sizeof *oi);
            for (int j = 0; j <= qpos[r]; j++) {
                size_t at = kv_at(c, qseq[r], j, h / group);
                float s = 0.0f;
                for (int d = 0; d < HS; d++) s += qi[d] * kv_k(c, at + d);
                float p = expf(s * scale - mx);
                sum += p;
                for (int d = 0; d < HS; d++) oi[d] += p * kv_v(c, at + d);
            }
            for (int d = 0; d < HS; d++) oi[d] /= sum;
        }
}

void srlm_ref_attention_kv_fwd_f16(float *out, const float *q, const uint16_t *kcache,
                                   const uint16_t *vcache, const int *block_table,
                                   const int *qseq, const int *qpos, int NQ, int NH, int NKV,
                                   int HS, int block_size, int max_blocks) {
    kv_cache c = {NULL, NULL, kcache, vcache, block_table, NKV, HS, block_size, max_blocks};
    attention_kv(out, q, &c, qseq, qpos, NQ, NH);
}

void srlm_ref_attention_kv_fwd(float *out, const float *q, const float *kcache,
                               const float *vcache, const int *block_table, const int *qseq,
                               const int *qpos, int NQ, int NH, int NKV, int HS,
                               int block_size, int max_blocks) {
    kv_cache c = {kcache, vcache, NULL, NULL, block_table, NKV, HS, block_size, max_blocks};
    attention_kv(out, q, &c, qseq, qpos, NQ, NH);
}

void srlm_ref_attention_decode_f16(float *out, const float *q, const uint16_t *kcache,
                                   const uint16_t *vcache, const int *block_table,
                                   const int *lens, int B, int NH, int NKV, int HS,
                                   int block_size, int max_blocks) {
    kv_cache c = {NULL, NULL, kcache, vcache, block_table, NKV, HS, block_size, max_blocks};
    for (int b = 0; b < B; b++) {
        int pos = lens[b] - 1;
        attention_kv(out + (size_t)b * NH * HS, q + (size_t)b * NH * HS, &c, &b, &pos, 1, NH);
    }
}
