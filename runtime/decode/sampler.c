/* sampler.c: host batch sampler (greedy, temperature, top-k, top-p, min-p, repetition
 * penalty) over f32 logits, with the model log-probability, sampled log-probability and
 * entropy of each token. No full sort anywhere: a bounded heap for top-k, a threshold gather
 * plus a mass-weighted quickselect for top-p. Not thread-parallel (one row after another). */
#include "decode/sampler.h"

#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters --------------------------------------------------------------------- */

void srlm_sample_params_default(srlm_sample_params *p) {
    memset(p, 0, sizeof *p);
    p->temperature = 1.0f;
    p->top_k = 0;
    p->top_p = 1.0f;
    p->min_p = 0.0f;
    p->repeat_penalty = 1.0f;
    p->repeat_last_n = -1;
    p->seed = 0;
    p->max_tokens = 256;
}

srlm_status srlm_sample_params_check(const srlm_sample_params *p) {
    if (!p) return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: NULL");
    if (!(p->temperature >= 0.0f) || !isfinite(p->temperature))
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: temperature %g must be finite and >= 0",
                           (double)p->temperature);
    if (p->top_k < 0)
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: top_k %d must be >= 0", (int)p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: top_p %g must be in (0, 1]", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: min_p %g must be in [0, 1]", (double)p->min_p);
    if (!(p->repeat_penalty > 0.0f) || !isfinite(p->repeat_penalty))
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: repeat_penalty %g must be finite and > 0",
                           (double)p->repeat_penalty);
    if (p->repeat_last_n < -1)
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: repeat_last_n %d must be >= -1",
                           (int)p->repeat_last_n);
    if (p->max_tokens < 0)
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: max_tokens %d must be >= 0", (int)p->max_tokens);
    if (p->n_stop_ids < 0 || (p->n_stop_ids > 0 && !p->stop_ids))
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: %d stop ids without an array", (int)p->n_stop_ids);
    for (int32_t i = 0; i < p->n_stop_ids; i++)
        if (p->stop_ids[i] < 0)
            return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: stop id %d is negative", (int)p->stop_ids[i]);
    if (p->n_stop_strings < 0 || (p->n_stop_strings > 0 && !p->stop_strings))
        return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: %d stop strings without an array",
                           (int)p->n_stop_strings);
    for (int32_t i = 0; i < p->n_stop_strings; i++)
        if (!p->stop_strings[i] || !p->stop_strings[i][0])
            return srlm_errorf(SRLM_ERR_INVALID, "sampling parameters: stop string %d is empty", (int)i);
    return NULL;
}

/* ---- workspace ---------------------------------------------------------------------- */

/* Buckets of a non-negative float by its top 11 bits (exponent and 3 mantissa bits). */
#define HIST_BUCKETS 2048
#define HIST_MIN 2048 /* candidate count above which top-p buckets before selecting */

typedef struct pair {
    float v;     /* a logit (top-k) or an unnormalised probability (top-p) */
    int32_t id;
} pair;

struct srlm_sampler {
    int32_t V;
    float *y;      /* (V) penalised, tempered logits when they differ from the input */
    float *e;      /* (V) exp(y - max y) when the whole row is needed */
    int32_t *kid;  /* (V) candidate, then kept, ids in ascending order */
    float *ke;     /* (V) their exp(y - max y) */
    pair *work;    /* (V) heap for top-k, scratch for the top-p quickselect */
    double hist[HIST_BUCKETS]; /* top-p: mass per float-exponent bucket */

    /* Results of the last row_core: model statistics, then the kept set K. */
    double logZ;   /* log sum exp x */
    double H;      /* entropy of softmax(x) */
    int32_t argmax;
    const float *yrow;
    double my;     /* max y */
    int full;      /* K is every id with e > 0 (no truncation): read s->e, not kid/ke */
    int greedy;
    int32_t nk;
    double zk;     /* sum over K of exp(y - max y) */
    double fused_s; /* sum exp(x - max x) from the fused statistics pass */
    int32_t fused_nz;
};

srlm_status srlm_sampler_create(int32_t vocab, srlm_sampler **out) {
    *out = NULL;
    if (vocab < 1 || vocab > (1 << 30))
        return srlm_errorf(SRLM_ERR_INVALID, "sampler: vocabulary size %d out of range", (int)vocab);
    srlm_sampler *s = calloc(1, sizeof *s);
    if (!s) return srlm_errorf(SRLM_ERR_OOM, "sampler: out of memory");
    size_t n = (size_t)vocab;
    s->V = vocab;
    s->y = malloc(n * sizeof *s->y);
    s->e = malloc(n * sizeof *s->e);
    s->kid = malloc(n * sizeof *s->kid);
    s->ke = malloc(n * sizeof *s->ke);
    s->work = malloc(n * sizeof *s->work);
    if (!s->y || !s->e || !s->kid || !s->ke || !s->work) {
        srlm_sampler_destroy(s);
        return srlm_errorf(SRLM_ERR_OOM, "sampler: out of memory for a %d-entry workspace", (int)vocab);
    }
    *out = s;
    return NULL;
}

void srlm_sampler_destroy(srlm_sampler *s) {
    if (!s) return;
    free(s->y);
    free(s->e);
    free(s->kid);
    free(s->ke);
    free(s->work);
    free(s);
}

/* ---- kernels -------------------------------------------------------------------------
 * The passes over the vocabulary use GCC/Clang vector extensions (4 x f32, lowered to SSE2,
 * NEON or scalar code by the compiler) because the compilers will not vectorise float
 * selects and reductions on their own without fast-math. Each loop keeps a fixed number
 * of lanes and folds them in a fixed order, so results are reproducible. The scalar tails
 * do the same IEEE operations in the same order as the vector bodies. */

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef double f64x4 __attribute__((vector_size(32)));

#define CHUNK 1024
#define EXP_MIN (-87.0f) /* exp(-87) ~ 1.6e-38, still a normal float: below it we return 0 */

static inline f32x4 vload(const float *p) {
    f32x4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void vstore(float *p, f32x4 v) { memcpy(p, &v, sizeof v); }
static inline f32x4 vsplat(float a) { return (f32x4){a, a, a, a}; }
static inline f32x4 vsel(i32x4 m, f32x4 a, f32x4 b) { return (f32x4)((m & (i32x4)a) | (~m & (i32x4)b)); }
/* a > b ? a : b lane-wise: a NaN in `a` is ignored, as in the scalar loops. */
static inline f32x4 vmax(f32x4 a, f32x4 b) { return vsel(a > b, a, b); }
static inline int vany(i32x4 m) { return (m[0] | m[1] | m[2] | m[3]) != 0; }
/* Macros, not functions: a 32-byte vector crossing a call changes the x86 ABI without AVX. */
#define vwiden(v) __builtin_convertvector((v), f64x4)
#define hsum(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]))

/* exp(t) for t <= 0 (or -inf) in float, with a relative error of a few ulp: Cody-Waite
 * reduction t = n ln2 + r, |r| <= ln2/2, and the degree-7 Taylor polynomial of exp(r)
 * (truncation error < 6e-9). Our own so results do not depend on the host's libm and the
 * loops vectorise. Returns exactly 1 at 0 and exactly 0 below EXP_MIN; NaN stays NaN. */
#define EXP_BODY(T, tc, n, r, p)                                                               \
    T z = tc * LOG2E + MAGIC;                                                                  \
    T n = z - MAGIC;                                                                           \
    T r = tc - n * LN2_HI + n * LN2_LO;                                                        \
    T p = ONE + r * (ONE + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * C7))))));
#define LOG2E 1.44269504f
#define MAGIC 12582912.0f     /* 1.5 * 2^23: adding it rounds to an integer */
#define MAGIC_BITS 0x4B400000u/* its bits: z's bits minus these are n as an integer */
#define LN2_HI 0.693359375f   /* ln 2 = LN2_HI - LN2_LO, LN2_HI exact in few bits */
#define LN2_LO 2.12194440e-4f
#define ONE 1.0f
#define C2 0.5f
#define C3 (1.0f / 6)
#define C4 (1.0f / 24)
#define C5 (1.0f / 120)
#define C6 (1.0f / 720)
#define C7 (1.0f / 5040)

static inline float exp_nonpos(float t) {
    float tc = t < EXP_MIN ? EXP_MIN : t;
    EXP_BODY(float, tc, n, r, p)
    uint32_t zb;
    memcpy(&zb, &z, sizeof zb);
    uint32_t sb = (zb - MAGIC_BITS + 127u) << 23; /* 2^n: n in [-126, 0] */
    float sc;
    memcpy(&sc, &sb, sizeof sc);
    (void)n;
    return t < EXP_MIN ? 0.0f : p * sc;
}

static inline f32x4 vexp_nonpos(f32x4 t) {
    i32x4 under = t < vsplat(EXP_MIN);
    f32x4 tc = vsel(under, vsplat(EXP_MIN), t);
    EXP_BODY(f32x4, tc, n, r, p)
    u32x4 sb = ((u32x4)z - MAGIC_BITS + 127u) << 23;
    (void)n;
    return (f32x4)(~under & (i32x4)(p * (f32x4)sb));
}

static float hmax(f32x4 v) {
    float m = v[0];
    for (int l = 1; l < 4; l++) m = v[l] > m ? v[l] : m;
    return m;
}

static float max_of(const float *x, int32_t n) {
    f32x4 a = vsplat(-INFINITY), b = a;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a = vmax(vload(x + i), a);
        b = vmax(vload(x + i + 4), b);
    }
    float m = hmax(vmax(a, b));
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

/* First index of the maximum (ties to the lowest id). */
static int32_t argmax_of(const float *x, int32_t n) {
    float m = max_of(x, n);
    int32_t i = 0;
    f32x4 mv = vsplat(m);
    for (; i + 8 <= n; i += 8)
        if (vany((vload(x + i) == mv) | (vload(x + i + 4) == mv))) break;
    for (; i < n; i++)
        if (x[i] == m) return i;
    return 0;
}

/* Adds sum exp(x - M) to *s and sum exp(x - M) * (x - M) to *w, x - M clamped at EXP_MIN
 * where exp is 0 so masked (-inf) entries add 0, not NaN. */
static void sum_exp_w(const float *x, int32_t n, float M, double *s, double *w) {
    f64x4 s0 = {0}, s1 = {0}, w0 = {0}, w1 = {0};
    const f32x4 mv = vsplat(M), lo = vsplat(EXP_MIN);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        f32x4 ta = vload(x + i) - mv, tb = vload(x + i + 4) - mv;
        f32x4 ea = vexp_nonpos(ta), eb = vexp_nonpos(tb);
        f32x4 ca = vsel(ta < lo, lo, ta), cb = vsel(tb < lo, lo, tb);
        f64x4 da = vwiden(ea), db = vwiden(eb);
        s0 += da;
        s1 += db;
        w0 += da * vwiden(ca);
        w1 += db * vwiden(cb);
    }
    double ss = hsum(s0) + hsum(s1), ww = hsum(w0) + hsum(w1);
    for (; i < n; i++) {
        float t = x[i] - M;
        float e = exp_nonpos(t);
        float tc = t < EXP_MIN ? EXP_MIN : t;
        ss += (double)e;
        ww += (double)e * (double)tc;
    }
    *s += ss;
    *w += ww;
}

/* The model's statistics in one pass over the row, chunk by chunk with a running maximum
 * (online log-sum-exp): when a chunk raises the maximum from M to M', the sums are rescaled
 * by exp(M - M') (and w shifted by (M - M') s). Sums are in double. */
static void model_stats(const float *x, int32_t V, double *logZ, double *H, int32_t *argmax) {
    float M = -INFINITY;
    double S = 0, W = 0;
    int32_t best_chunk = 0;
    for (int32_t base = 0; base < V; base += CHUNK) {
        int32_t n = V - base < CHUNK ? V - base : CHUNK;
        float cm = max_of(x + base, n);
        if (cm == -INFINITY && M == -INFINITY) {
            /* Nothing finite yet and this chunk is all -inf (a mask) or NaN: only NaN counts. */
            for (int32_t i = 0; i < n; i++)
                if (isnan(x[base + i])) S = NAN;
            continue;
        }
        if (cm > M) {
            if (S > 0) {
                double d = (double)M - (double)cm, r = exp(d);
                W = r * (W + d * S);
                S *= r;
            }
            M = cm;
            best_chunk = base;
        }
        sum_exp_w(x + base, n, M, &S, &W);
    }
    int32_t n = V - best_chunk < CHUNK ? V - best_chunk : CHUNK;
    *argmax = best_chunk + argmax_of(x + best_chunk, n);
    *logZ = (double)M + log(S);
    *H = log(S) - W / S;
}

/* e[i] = exp(y[i] - m); returns the sum (double) and the count of non-zero terms, and when
 * w is not NULL adds sum e * (y - m) to it (the entropy term, clamped as in sum_exp_w). */
static inline double exp_row(const float *y, int32_t n, float m, float *e, int32_t *nonzero, double *w) {
    f64x4 s0 = {0}, s1 = {0}, w0 = {0}, w1 = {0};
    i32x4 c = {0};
    const f32x4 mv = vsplat(m), zero = vsplat(0.0f), lo = vsplat(EXP_MIN);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        f32x4 ta = vload(y + i) - mv, tb = vload(y + i + 4) - mv;
        f32x4 ea = vexp_nonpos(ta), eb = vexp_nonpos(tb);
        vstore(e + i, ea);
        vstore(e + i + 4, eb);
        f64x4 da = vwiden(ea), db = vwiden(eb);
        s0 += da;
        s1 += db;
        c -= (ea > zero) + (eb > zero); /* true lanes are -1 */
        if (w) {
            w0 += da * vwiden(vsel(ta < lo, lo, ta));
            w1 += db * vwiden(vsel(tb < lo, lo, tb));
        }
    }
    double s = hsum(s0) + hsum(s1), ww = hsum(w0) + hsum(w1);
    int32_t cnt = c[0] + c[1] + c[2] + c[3];
    for (; i < n; i++) {
        float t = y[i] - m;
        float v = exp_nonpos(t);
        e[i] = v;
        s += (double)v;
        cnt += v > 0.0f;
        ww += (double)v * (double)(t < EXP_MIN ? EXP_MIN : t);
    }
    *nonzero = cnt;
    if (w) *w += ww;
    return s;
}

static double sum_f(const float *e, int32_t n) {
    f64x4 s0 = {0}, s1 = {0};
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 += vwiden(vload(e + i));
        s1 += vwiden(vload(e + i + 4));
    }
    double s = hsum(s0) + hsum(s1);
    for (; i < n; i++) s += (double)e[i];
    return s;
}

/* Appends the ids i in [0, n) with v[i] >= c to ids/vals (c as given, v as given or
 * shifted by `shift` and exponentiated when `as_exp`); returns the new count. Eight at a
 * time: in a peaked distribution almost no block has a candidate. Adds the gathered values
 * to *mass when mass is not NULL. */
static int32_t gather_ge(const float *v, int32_t n, float c, int32_t *ids, float *vals, int32_t k,
                         double *mass) {
    const f32x4 cv = vsplat(c);
    double ms = 0;
    for (int32_t i = 0; i < n; i += 8) {
        if (i + 8 <= n && !vany((vload(v + i) >= cv) | (vload(v + i + 4) >= cv))) continue;
        int32_t end = i + 8 < n ? i + 8 : n;
        /* Branch-free: write every value, advance only past the kept ones (the arrays have
         * room for n entries, and a flat row keeps about half of a block). */
        for (int32_t j = i; j < end; j++) {
            int keep = v[j] >= c;
            ids[k] = j;
            vals[k] = v[j];
            ms += keep ? (double)v[j] : 0.0;
            k += keep;
        }
    }
    if (mass) *mass = ms;
    return k;
}

/* The largest power of two c such that the mass of {e >= c} reaches target (0 when no c
 * does: rounding at the very top). One pass; four interleaved histograms by float exponent
 * keep the scattered adds from waiting on each other. */
static float exponent_floor(const float *e, int32_t n, double target, double *hist) {
    double *h = hist; /* 4 x 256 */
    memset(h, 0, 4 * 256 * sizeof *h);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++) {
            uint32_t bits;
            memcpy(&bits, &e[i + l], sizeof bits);
            h[l * 256 + (bits >> 23 & 255)] += (double)e[i + l];
        }
    for (; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &e[i], sizeof bits);
        h[bits >> 23 & 255] += (double)e[i];
    }
    double acc = 0;
    for (int32_t k = 255; k >= 1; k--) {
        acc += (h[k] + h[256 + k]) + (h[512 + k] + h[768 + k]);
        if (acc >= target) {
            uint32_t bits = (uint32_t)k << 23;
            float c;
            memcpy(&c, &bits, sizeof c);
            return c;
        }
    }
    return 0.0f;
}

/* Rank order: larger value first, then lower id. A total order (ids are distinct). */
static inline int better(pair a, pair b) { return a.v > b.v || (a.v == b.v && a.id < b.id); }

static void sift_down_worst(pair *h, int32_t n, int32_t i) {
    /* Min-heap on rank: the root is the worst kept element. */
    for (;;) {
        int32_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && better(h[c], h[c + 1])) c++;
        if (!better(h[i], h[c])) return;
        pair t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

static int cmp_pair_id(const void *a, const void *b) {
    int32_t x = ((const pair *)a)->id, y = ((const pair *)b)->id;
    return (x > y) - (x < y);
}

/* The k best of y (k < V) into h[0..k), in ascending id order; returns the best value.
 * A new element enters only when strictly above the current worst value: at equal value
 * its id is larger, so it ranks lower. */
static float top_k_ids(const float *y, int32_t V, int32_t k, pair *h) {
    for (int32_t i = 0; i < k; i++) h[i] = (pair){y[i], i};
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down_worst(h, k, i);
    for (int32_t i = k; i < V; i++) {
        /* Skip blocks of eight where nothing beats the current worst (the common case). */
        if ((i & 7) == 0 && i + 8 <= V && !vany((vload(y + i) > vsplat(h[0].v)) | (vload(y + i + 4) > vsplat(h[0].v)))) {
            i += 7;
            continue;
        }
        if (y[i] > h[0].v) {
            h[0] = (pair){y[i], i};
            sift_down_worst(h, k, 0);
        }
    }
    float best = -INFINITY;
    for (int32_t i = 0; i < k; i++) best = h[i].v > best ? h[i].v : best;
    qsort(h, (size_t)k, sizeof *h, cmp_pair_id);
    return best;
}

static inline uint32_t bucket_of(float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits >> 20; /* v >= 0: monotone in v */
}

/* Top-p boundary: in rank order, the first element whose cumulative mass reaches `target`.
 * Every element ranked at or above it is kept (the mass ranked strictly above it is below
 * target). Large inputs first go through a histogram of mass by float exponent, which
 * finds the one bucket holding the boundary (everything in higher buckets ranks above it);
 * then a quickselect on mass inside that bucket: partition around a pivot, sum the better
 * side, descend into the side holding the boundary. Expected cost linear in n. Permutes a.
 * Returns 0 when the whole array's mass is below target (keep everything). */
static int nucleus_boundary(pair *a, int32_t n, double target, double *hist, pair *b) {
    int32_t lo = 0, hi = n;
    double acc = 0; /* mass of the elements ranked above a[lo..hi) */
    if (n > HIST_MIN) {
        memset(hist, 0, HIST_BUCKETS * sizeof *hist);
        for (int32_t i = 0; i < n; i++) hist[bucket_of(a[i].v)] += (double)a[i].v;
        int32_t k = HIST_BUCKETS - 1;
        for (; k >= 0; k--) {
            if (acc + hist[k] >= target) break;
            acc += hist[k];
        }
        if (k < 0) return 0;
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++)
            if (bucket_of(a[i].v) == (uint32_t)k) {
                pair t = a[i];
                a[i] = a[m];
                a[m++] = t;
            }
        hi = m;
    }
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2, last = hi - 1;
        /* Median of three as pivot, moved to a[last]. */
        int32_t pi;
        pair x = a[lo], y = a[mid], z = a[last];
        if (better(x, y)) pi = better(y, z) ? mid : (better(x, z) ? last : lo);
        else pi = better(x, z) ? lo : (better(y, z) ? last : mid);
        pair pv = a[pi];
        a[pi] = a[last];
        a[last] = pv;
        int32_t store = lo;
        double mg = 0;
        for (int32_t i = lo; i < last; i++)
            if (better(a[i], pv)) {
                mg += (double)a[i].v;
                pair t = a[i];
                a[i] = a[store];
                a[store] = t;
                store++;
            }
        a[last] = a[store];
        a[store] = pv;
        if (acc + mg >= target) {
            hi = store;
        } else if (acc + mg + (double)pv.v >= target) {
            *b = pv;
            return 1;
        } else {
            acc += mg + (double)pv.v;
            lo = store + 1;
        }
    }
    return 0;
}

/* HF repetition penalty on one logit. */
static inline float penalise(float x, float pen) { return x > 0.0f ? x / pen : x * pen; }

/* ---- one row -------------------------------------------------------------------------- */

static void kept_from_candidates(srlm_sampler *s, const srlm_sample_params *p, int32_t nc, double ztopp, float my);

/* Computes the model statistics and the kept set K of one row into the workspace. */
static srlm_status row_core(srlm_sampler *s, const float *x, const srlm_sample_seq *q, int32_t row) {
    const int32_t V = s->V;
    const srlm_sample_params *p = q->params;
    srlm_status st = srlm_sample_params_check(p);
    if (st) return srlm_status_wrap(st, "sampler row %d: ", (int)row);

    const int topk = p->top_k > 0 && p->top_k < s->V;
    const int topp = p->top_p < 1.0f;
    const int minp = p->min_p > 0.0f;
    /* Model statistics. When the sampled distribution is the model's own (temperature 1, no
     * penalty) and the whole row of exponentials is needed anyway, one max pass and one exp
     * pass give both; otherwise the single-pass online log-sum-exp. */
    const int fused = p->temperature == 1.0f && !(p->repeat_penalty != 1.0f && q->n_history > 0 &&
                      p->repeat_last_n != 0) && !topk && (topp || !minp);
    if (fused) {
        float M = max_of(x, V);
        double W = 0;
        s->fused_s = isfinite(M) ? exp_row(x, V, M, s->e, &s->fused_nz, &W) : NAN;
        s->logZ = (double)M + log(s->fused_s);
        s->H = log(s->fused_s) - W / s->fused_s;
        s->argmax = -1; /* not needed: not greedy */
    } else {
        model_stats(x, V, &s->logZ, &s->H, &s->argmax);
    }
    if (!isfinite(s->logZ) || !isfinite(s->H))
        return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: logits contain NaN or +inf, or are all -inf", (int)row);

    /* Repetition window: the last repeat_last_n ids of the history. */
    size_t nwin = q->n_history;
    if (p->repeat_last_n >= 0 && (size_t)p->repeat_last_n < nwin) nwin = (size_t)p->repeat_last_n;
    const int32_t *win = nwin ? q->history + (q->n_history - nwin) : NULL;
    int pen = p->repeat_penalty != 1.0f && nwin > 0;
    if (pen) {
        if (!q->history)
            return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: %zu history ids but no array", (int)row, q->n_history);
        for (size_t i = 0; i < nwin; i++)
            if (win[i] < 0 || win[i] >= V)
                return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: history id %d at %zu outside [0, %d)",
                                   (int)row, (int)win[i], q->n_history - nwin + i, (int)V);
    }

    s->full = 0;
    s->greedy = 0;
    if (p->temperature == 0.0f) {
        int32_t tok = s->argmax;
        if (pen) {
            /* Penalties can only change the ids in the window, but may move the maximum
             * anywhere: redo the argmax on the penalised row. */
            memcpy(s->y, x, (size_t)V * sizeof *x);
            for (size_t i = 0; i < nwin; i++) s->y[win[i]] = penalise(x[win[i]], p->repeat_penalty);
            tok = argmax_of(s->y, V);
        }
        s->greedy = 1;
        s->nk = 1;
        s->kid[0] = tok;
        s->ke[0] = 1.0f;
        s->zk = 1.0;
        s->yrow = pen ? s->y : x;
        s->my = s->yrow[tok];
        return NULL;
    }

    /* y = penalised(x) / temperature. Recomputing window entries from x makes repeated ids
     * harmless (each is penalised once). */
    const float *y = x;
    if (p->temperature != 1.0f || pen) {
        float invT = 1.0f / p->temperature;
        float *yw = s->y;
        for (int32_t i = 0; i < V; i++) yw[i] = x[i] * invT;
        for (size_t i = 0; i < nwin && pen; i++) yw[win[i]] = penalise(x[win[i]], p->repeat_penalty) * invT;
        y = yw;
    }
    s->yrow = y;

    int32_t nc = 0;     /* candidates C in s->kid / s->ke, ascending ids, closed upwards in rank */
    double ztopp = 0;   /* the normaliser top-p is computed against */
    float my;
    if (topk) {
        my = top_k_ids(y, V, p->top_k, s->work);
        if (!isfinite(my))
            return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: logits overflow after penalty/temperature", (int)row);
        nc = p->top_k;
        for (int32_t i = 0; i < nc; i++) {
            s->kid[i] = s->work[i].id;
            s->ke[i] = exp_nonpos(s->work[i].v - my);
        }
        ztopp = sum_f(s->ke, nc);
    } else {
        my = y == x ? max_of(x, V) : max_of(y, V);
        if (!isfinite(my))
            return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: logits overflow after penalty/temperature", (int)row);
        if (!topp && !minp) {
            int32_t nz = s->fused_nz;
            s->zk = fused ? s->fused_s : exp_row(y, V, my, s->e, &nz, NULL);
            s->nk = nz;
            s->full = 1;
            s->my = my;
            return NULL;
        }
        if (!topp) {
            /* min-p alone: gather with a slightly loose logit threshold, then filter on e. */
            float cut = my + (float)log((double)p->min_p) - 0.01f;
            nc = gather_ge(y, V, cut, s->kid, s->ke, 0, NULL);
            for (int32_t i = 0; i < nc; i++) s->ke[i] = exp_nonpos(y[s->kid[i]] - my);
        } else {
            int32_t nz = 0;
            ztopp = fused ? s->fused_s : exp_row(y, V, my, s->e, &nz, NULL);
            /* Gather the ids with e >= c. Everything left out ranks below everything kept,
             * so once the gathered mass reaches the nucleus target the boundary is inside.
             * At c <= min_p the gathered set already is the min-p set, a superset of K. */
            double target = (double)p->top_p * ztopp, mass;
            float c = 1e-4f > p->min_p ? 1e-4f : p->min_p;
            nc = gather_ge(s->e, V, c, s->kid, s->ke, 0, &mass);
            if (mass < target && c > p->min_p) {
                /* A flat tail: find the power-of-two bucket of e holding the boundary from a
                 * histogram of the whole row, and gather from that bucket's lower bound. */
                c = exponent_floor(s->e, V, target, s->hist);
                if (c < p->min_p) c = p->min_p;
                nc = gather_ge(s->e, V, c, s->kid, s->ke, 0, NULL);
            }
        }
    }

    kept_from_candidates(s, p, nc, ztopp, my);
    return NULL;
}

/* The kept set K from candidates C (s->kid ascending, s->ke = exp(y - my)): top-p against
 * ztopp, then min-p; shared by the full-row and the device-selection paths so both keep the
 * same set from the same candidates. */
static void kept_from_candidates(srlm_sampler *s, const srlm_sample_params *p, int32_t nc, double ztopp, float my) {
    const int topp = p->top_p < 1.0f;
    const int minp = p->min_p > 0.0f;
    pair b = {0, 0};
    int has_b = 0;
    if (topp) {
        for (int32_t i = 0; i < nc; i++) s->work[i] = (pair){s->ke[i], s->kid[i]};
        has_b = nucleus_boundary(s->work, nc, (double)p->top_p * ztopp, s->hist, &b);
    }
    int32_t nk = 0;
    for (int32_t i = 0; i < nc; i++) {
        pair c = {s->ke[i], s->kid[i]};
        if (c.v <= 0.0f) continue;
        if (has_b && better(b, c)) continue;
        if (minp && c.v < p->min_p) continue;
        s->kid[nk] = c.id;
        s->ke[nk++] = c.v;
    }
    s->nk = nk;
    s->zk = sum_f(s->ke, nk);
    s->my = my;
}

/* The id whose cumulative mass first exceeds target, scanning K in ascending id order. */
static int32_t draw(const srlm_sampler *s, double target) {
    double cum = 0;
    if (s->full) {
        int32_t last = 0;
        for (int32_t base = 0; base < s->V; base += 256) {
            int32_t n = s->V - base < 256 ? s->V - base : 256;
            double cs = sum_f(s->e + base, n);
            if (cum + cs <= target) {
                cum += cs;
                if (cs > 0)
                    for (int32_t i = n - 1; i >= 0; i--)
                        if (s->e[base + i] > 0.0f) { last = base + i; break; }
                continue;
            }
            for (int32_t i = 0; i < n; i++) {
                float v = s->e[base + i];
                if (v <= 0.0f) continue;
                cum += (double)v;
                last = base + i;
                if (cum > target) return last;
            }
        }
        return last; /* rounding: u * Z at the very top */
    }
    for (int32_t i = 0; i < s->nk; i++) {
        cum += (double)s->ke[i];
        if (cum > target) return s->kid[i];
    }
    return s->kid[s->nk - 1];
}

srlm_status srlm_sampler_sample(srlm_sampler *s, const float *logits, int32_t B,
                                const srlm_sample_seq *seqs, srlm_sample_out *out) {
    if (B < 0 || (B > 0 && (!logits || !seqs || !out)))
        return srlm_errorf(SRLM_ERR_INVALID, "sampler: bad batch (B = %d)", (int)B);
    for (int32_t b = 0; b < B; b++) {
        const float *x = logits + (size_t)b * (size_t)s->V;
        const srlm_sample_seq *q = &seqs[b];
        SRLM_TRY(row_core(s, x, q, b));
        const srlm_sample_params *p = q->params;
        srlm_sample_out *o = &out[b];
        int32_t tok;
        if (s->greedy) {
            tok = s->kid[0];
            o->logprob_sampled = 0.0f;
        } else {
            double u = srlm_rng_uniform_f64(p->seed, q->seq_id, q->position);
            tok = draw(s, u * s->zk);
            o->logprob_sampled = (float)(((double)s->yrow[tok] - s->my) - log(s->zk));
        }
        o->token = tok;
        o->logprob = (float)((double)x[tok] - s->logZ);
        o->entropy = (float)s->H;
        o->n_kept = s->nk;
        o->finish = SRLM_FINISH_NONE;
        for (int32_t i = 0; i < p->n_stop_ids; i++)
            if (p->stop_ids[i] == tok) o->finish = SRLM_FINISH_STOP_ID;
        if (o->finish == SRLM_FINISH_NONE && p->max_tokens > 0 && q->n_generated + 1 >= p->max_tokens)
            o->finish = SRLM_FINISH_LENGTH;
    }
    return NULL;
}

/* ---- rows summarised on the device ----------------------------------------------------- */

/* Whether the repetition penalty changes this row (the same test row_core makes). */
static int penalty_active(const srlm_sample_params *p, size_t n_history) {
    return p->repeat_penalty != 1.0f && n_history > 0 && p->repeat_last_n != 0;
}

int32_t srlm_sampler_select_k(const srlm_sample_params *p, size_t n_history, int32_t V, int32_t max_k) {
    if (penalty_active(p, n_history)) return 0;
    if (p->temperature == 0.0f) return max_k >= 1 ? 1 : 0;
    if (p->top_k > 0 && p->top_k < V && p->top_k <= max_k) return p->top_k;
    return 0;
}

srlm_status srlm_sampler_sample_select(srlm_sampler *s, int32_t B, int32_t k, const int32_t *ids, const float *xs,
                                       const float *stats, const srlm_sample_seq *seqs, srlm_sample_out *out) {
    if (B < 0 || k < 1 || (B > 0 && (!ids || !xs || !stats || !seqs || !out)))
        return srlm_errorf(SRLM_ERR_INVALID, "sampler: bad selection batch (B = %d, k = %d)", (int)B, (int)k);
    for (int32_t b = 0; b < B; b++) {
        const srlm_sample_seq *q = &seqs[b];
        const srlm_sample_params *p = q->params;
        srlm_status st = srlm_sample_params_check(p);
        if (st) return srlm_status_wrap(st, "sampler row %d: ", (int)b);
        int32_t need = srlm_sampler_select_k(p, q->n_history, s->V, k);
        if (need < 1 || need > k)
            return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: its parameters need the full logit row, not the best %d ids",
                               (int)b, (int)k);
        const int32_t *rid = ids + (size_t)b * (size_t)k;
        const float *rx = xs + (size_t)b * (size_t)k;
        double logZ = stats[2 * b], H = stats[2 * b + 1];
        if (!isfinite(logZ) || !isfinite(H))
            return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: logits contain NaN or +inf, or are all -inf", (int)b);
        for (int32_t i = 0; i < need; i++)
            if (rid[i] < 0 || rid[i] >= s->V)
                return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: selected id %d outside [0, %d)", (int)b, (int)rid[i], (int)s->V);
        srlm_sample_out *o = &out[b];
        int32_t tok, pos = 0;
        if (p->temperature == 0.0f) {
            tok = rid[0]; /* rank order: the argmax, ties to the lowest id */
            o->logprob_sampled = 0.0f;
            o->n_kept = 1;
        } else {
            /* The same candidates row_core's top-k branch finds (the need best of y, here
             * from the device) in ascending id order, then the shared top-p / min-p tail. */
            float invT = 1.0f / p->temperature;
            float my = -INFINITY;
            for (int32_t i = 0; i < need; i++) {
                float y = p->temperature != 1.0f ? rx[i] * invT : rx[i];
                s->work[i] = (pair){y, rid[i]};
                my = y > my ? y : my;
            }
            if (!isfinite(my))
                return srlm_errorf(SRLM_ERR_INVALID, "sampler row %d: logits overflow after penalty/temperature", (int)b);
            qsort(s->work, (size_t)need, sizeof *s->work, cmp_pair_id);
            for (int32_t i = 0; i < need; i++) {
                s->kid[i] = s->work[i].id;
                s->ke[i] = exp_nonpos(s->work[i].v - my);
                s->y[s->work[i].id] = s->work[i].v; /* y at the candidates: all draw reads */
            }
            kept_from_candidates(s, p, need, sum_f(s->ke, need), my);
            s->full = 0;
            double u = srlm_rng_uniform_f64(p->seed, q->seq_id, q->position);
            tok = draw(s, u * s->zk);
            o->logprob_sampled = (float)(((double)s->y[tok] - s->my) - log(s->zk));
            o->n_kept = s->nk;
        }
        while (pos < need - 1 && rid[pos] != tok) pos++;
        o->token = tok;
        o->logprob = (float)((double)rx[pos] - logZ);
        o->entropy = (float)H;
        o->finish = SRLM_FINISH_NONE;
        for (int32_t i = 0; i < p->n_stop_ids; i++)
            if (p->stop_ids[i] == tok) o->finish = SRLM_FINISH_STOP_ID;
        if (o->finish == SRLM_FINISH_NONE && p->max_tokens > 0 && q->n_generated + 1 >= p->max_tokens)
            o->finish = SRLM_FINISH_LENGTH;
    }
    return NULL;
}

srlm_status srlm_sampler_support(srlm_sampler *s, const float *logits_row,
                                 const srlm_sample_seq *seq, int32_t *ids, float *probs,
                                 int32_t *n) {
    *n = 0;
    SRLM_TRY(row_core(s, logits_row, seq, 0));
    if (s->full) {
        int32_t k = 0;
        for (int32_t i = 0; i < s->V; i++)
            if (s->e[i] > 0.0f) {
                ids[k] = i;
                if (probs) probs[k] = (float)((double)s->e[i] / s->zk);
                k++;
            }
        *n = k;
        return NULL;
    }
    for (int32_t i = 0; i < s->nk; i++) {
        ids[i] = s->kid[i];
        if (probs) probs[i] = (float)((double)s->ke[i] / s->zk);
    }
    *n = s->nk;
    return NULL;
}
