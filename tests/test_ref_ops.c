/* test_ref_ops.c: the CPU references of the elementwise ops, conversions, reductions,
 * RMSNorm, SiLU/SwiGLU, softmax and matmul against double-precision twins written here,
 * closed forms, and central finite differences in double for every backward. Attention,
 * RoPE and embedding are in test_ref_attention.c; losses and AdamW in test_ref_loss.c. */
#include "ref_check.h"
#include "model/dtype.h"

#include <time.h>

/* Tolerances (max |got - want| / max |want|). Float forward math vs a double twin: a few
 * float roundings per output. Backward vs finite differences: float rounding of the
 * reference (measured <= 6e-7) plus ~1e-10 truncation of the differences; a gradient off by
 * a factor 1.0001 fails. */
#define TOL_FWD 1e-5
#define TOL_GRAD 1e-5
#define TOL_MATMUL 1e-5 /* relative to the largest output; float dot of up to 4099 terms */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- elementwise --------------------------------------------------------------------- */

typedef struct { double *a, *b, *dout; size_t n; int op; } ew_ctx;  // op 0 add, 1 mul, 2 scale

static double ew_loss(void *p) {
    ew_ctx *c = p;
    double s = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        double y = c->op == 0 ? c->a[i] + c->b[i] : c->op == 1 ? c->a[i] * c->b[i] : 0.75 * c->a[i];
        s += c->dout[i] * y;
    }
    return s;
}

static void test_elementwise(void) {
    printf("elementwise\n");
    size_t sizes[] = {1, 7, 127, 4099};
    for (int si = 0; si < 4; si++) {
        size_t n = sizes[si];
        char sz[32];
        snprintf(sz, sizeof sz, "n=%zu", n);
        float *a = ref_randf(n, -2, 2), *b = ref_randf(n, -2, 2), *dout = ref_randf(n, -1, 1);
        float *y = malloc(n * sizeof *y), *da = malloc(n * sizeof *da), *db = malloc(n * sizeof *db);
        double *want = ref_zeros_d(n), *ga = ref_zeros_d(n), *gb = ref_zeros_d(n);
        ew_ctx c = {ref_to_d(a, n), ref_to_d(b, n), ref_to_d(dout, n), n, 0};

        srlm_ref_fill(y, 3.5f, n);
        int ok = 1;
        for (size_t i = 0; i < n; i++) ok &= y[i] == 3.5f;
        CHECK(ok, "fill n=%zu", n);
        srlm_ref_copy(y, a, n);
        CHECK(!memcmp(y, a, n * sizeof *y), "copy n=%zu", n);

        for (int op = 0; op < 3; op++) {
            const char *name[] = {"add", "mul", "scale"};
            char nm[32];
            c.op = op;
            if (op == 0) srlm_ref_add_fwd(y, a, b, n);
            if (op == 1) srlm_ref_mul_fwd(y, a, b, n);
            if (op == 2) srlm_ref_scale_fwd(y, a, 0.75f, n);
            for (size_t i = 0; i < n; i++)
                want[i] = op == 0 ? c.a[i] + c.b[i] : op == 1 ? c.a[i] * c.b[i] : 0.75 * c.a[i];
            snprintf(nm, sizeof nm, "%s_fwd", name[op]);
            ref_compare(nm, sz, y, want, n, TOL_FWD);
            if (op == 0) srlm_ref_add_bwd(da, db, dout, n);
            if (op == 1) srlm_ref_mul_bwd(da, db, dout, a, b, n);
            if (op == 2) srlm_ref_scale_bwd(da, dout, 0.75f, n);
            if (n > 1000) continue;  // finite differences cost n^2 here
            ref_fd(ew_loss, &c, c.a, n, ga);
            snprintf(nm, sizeof nm, "%s_bwd da", name[op]);
            ref_compare(nm, sz, da, ga, n, TOL_GRAD);
            if (op < 2) {
                ref_fd(ew_loss, &c, c.b, n, gb);
                snprintf(nm, sizeof nm, "%s_bwd db", name[op]);
                ref_compare(nm, sz, db, gb, n, TOL_GRAD);
            }
        }
        // axpy accumulates: y = b; y += -1.5 a
        srlm_ref_copy(y, b, n);
        srlm_ref_axpy(y, -1.5f, a, n);
        for (size_t i = 0; i < n; i++) want[i] = c.b[i] - 1.5 * c.a[i];
        ref_compare("axpy", sz, y, want, n, TOL_FWD);

        free(a); free(b); free(dout); free(y); free(da); free(db);
        free(want); free(ga); free(gb); free(c.a); free(c.b); free(c.dout);
    }
}

/* ---- conversions --------------------------------------------------------------------- */

/* The value of a finite f16 bit pattern from the definition, in double. */
static double f16_value(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

/* Independent rounding oracle: the nearest finite f16 to x by binary search over the
 * (monotonic) non-negative bit patterns 0..0x7bff, ties to the even pattern; inf when
 * |x| >= 65520 (halfway to 2^16 rounds to the even 2^16). */
static uint16_t f16_oracle(float x) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs((double)x);
    if (a >= 65520.0) return sign | 0x7c00;
    int lo = 0, hi = 0x7bff;  // find the largest pattern with value <= a
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (f16_value((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
    }
    uint16_t h = (uint16_t)lo;
    if (lo < 0x7bff) {
        double dl = a - f16_value(h), du = f16_value((uint16_t)(h + 1)) - a;
        if (du < dl || (du == dl && (h & 1))) h++;
    }
    return sign | h;
}

static uint16_t bf16_oracle(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t lo = u & 0xffff0000u, up = lo + 0x10000u;
    float fl, fu;
    memcpy(&fl, &lo, 4);
    if ((up & 0x7f800000u) == 0x7f800000u) {  // rounding up overflows to inf
        uint32_t inf = (u & 0x80000000u) | 0x7f800000u;
        memcpy(&fu, &inf, 4);
        // halfway between the largest finite and 2^128: compare in double with 2^128
        double dl = fabs((double)x - fl), du = ldexp(1.0, 128) - fabs((double)x);
        return (uint16_t)(((du < dl || (du == dl && ((lo >> 16) & 1))) ? inf : lo) >> 16);
    }
    memcpy(&fu, &up, 4);
    double dl = fabs((double)x - fl), du = fabs((double)fu - x);
    return (uint16_t)(((du < dl || (du == dl && ((lo >> 16) & 1))) ? up : lo) >> 16);
}

static void test_convert(void) {
    printf("conversions\n");
    // Every f16 pattern: widening is exact (vs the definition) and narrowing returns it.
    int bad_val = 0, bad_trip = 0, n_nan = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = srlm_ref_f16_to_f32((uint16_t)h);
        int e = (h >> 10) & 0x1f, m = h & 0x3ff;
        if (e == 0x1f && m) {  // NaN: stays NaN with its sign and payload
            n_nan++;
            if (!isnan(f) || (signbit(f) != 0) != ((h >> 15) != 0)) bad_val++;
            if (srlm_ref_f32_to_f16(f) != h) bad_trip++;
            continue;
        }
        double want = e == 0x1f ? ((h >> 15) ? -INFINITY : INFINITY) : f16_value((uint16_t)h);
        if ((double)f != want || (signbit(f) != 0) != ((h >> 15) != 0)) bad_val++;
        if (srlm_ref_f32_to_f16(f) != h) bad_trip++;
    }
    printf("  f16 exhaustive: 65536 patterns (%d NaN), %d wrong values, %d failed round trips\n",
           n_nan, bad_val, bad_trip);
    CHECK(bad_val == 0 && bad_trip == 0, "f16 exhaustive: %d values, %d round trips", bad_val, bad_trip);

    // Rounding: every midpoint between neighbouring f16 values (exact in float) and its two
    // float neighbours, both signs, against the search oracle; then random floats.
    int bad_round = 0, tested = 0;
    for (uint16_t h = 0; h < 0x7bff; h++) {
        float mid = (float)((f16_value(h) + f16_value((uint16_t)(h + 1))) / 2);
        float cand[3] = {mid, nextafterf(mid, 0.0f), nextafterf(mid, INFINITY)};
        for (int k = 0; k < 3; k++)
            for (int s = 0; s < 2; s++) {
                float x = s ? -cand[k] : cand[k];
                tested++;
                if (srlm_ref_f32_to_f16(x) != f16_oracle(x)) {
                    if (bad_round++ < 5) printf("  f32->f16(%.9g) = %04x, want %04x\n", x,
                                                srlm_ref_f32_to_f16(x), f16_oracle(x));
                }
            }
    }
    for (int i = 0; i < 200000; i++) {
        float x = ldexpf(test_rand_uniform(&ref_seed, 1.0f, 2.0f), (int)(test_rand_u64(&ref_seed) % 48) - 30);
        if (test_rand_u64(&ref_seed) & 1) x = -x;
        tested++;
        if (srlm_ref_f32_to_f16(x) != f16_oracle(x)) bad_round++;
    }
    float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, 65504.0f, 65519.99f, 65520.0f, -65520.0f,
                        1e30f, 3.4e38f, 1e-30f, -1e-45f, ldexpf(1, -24), ldexpf(1, -25),
                        ldexpf(1.0000001f, -25), ldexpf(1.5f, -24), ldexpf(1.5f, -25), ldexpf(1, -14),
                        ldexpf(0.99951171875f, -14)};
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
        tested++;
        if (srlm_ref_f32_to_f16(specials[i]) != f16_oracle(specials[i])) {
            bad_round++;
            printf("  special %.9g -> %04x, want %04x\n", specials[i], srlm_ref_f32_to_f16(specials[i]),
                   f16_oracle(specials[i]));
        }
    }
    CHECK(srlm_ref_f32_to_f16(65520.0f) == 0x7c00 && srlm_ref_f32_to_f16(65519.99f) == 0x7bff,
          "overflow threshold");
    CHECK(srlm_ref_f32_to_f16(ldexpf(1, -25)) == 0 && srlm_ref_f32_to_f16(ldexpf(1.5f, -25)) == 1,
          "smallest subnormal rounding");
    uint16_t qn = srlm_ref_f32_to_f16(NAN);
    CHECK((qn & 0x7c00) == 0x7c00 && (qn & 0x200), "NaN -> quiet f16 NaN %04x", qn);
    uint32_t snan_bits = 0xff800001u;  // a NaN whose payload lies below f16's bits: still NaN
    float snan;
    memcpy(&snan, &snan_bits, 4);
    CHECK(srlm_ref_f32_to_f16(snan) == 0xfe00, "low-payload NaN -> %04x, want fe00", srlm_ref_f32_to_f16(snan));

    // the model loader's conversions (runtime/model/dtype.c) give the same bits
    int disagree = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float a = srlm_ref_f16_to_f32((uint16_t)h), b = srlm_f16_to_f32((uint16_t)h);
        float c = srlm_ref_bf16_to_f32((uint16_t)h), d = srlm_bf16_to_f32((uint16_t)h);
        disagree += memcmp(&a, &b, 4) != 0 || srlm_ref_f32_to_f16(a) != srlm_f32_to_f16(a) ||
                    memcmp(&c, &d, 4) != 0;  // bits: NaN != NaN
    }
    for (int i = 0; i < 1000000; i++) {
        uint32_t u = (uint32_t)test_rand_u64(&ref_seed);
        float x;
        memcpy(&x, &u, 4);
        float y = ldexpf(test_rand_uniform(&ref_seed, -2.0f, 2.0f), (int)(test_rand_u64(&ref_seed) % 50) - 30);
        disagree += srlm_ref_f32_to_f16(x) != srlm_f32_to_f16(x) || srlm_ref_f32_to_f16(y) != srlm_f32_to_f16(y) ||
                    srlm_ref_f32_to_bf16(x) != srlm_f32_to_bf16(x);
    }
    printf("  ref conversions vs model/dtype.c: all f16/bf16 patterns + 2M floats, %d disagree\n", disagree);
    CHECK(disagree == 0, "ref and model conversions disagree on %d inputs", disagree);
    printf("  f32->f16 rounding: %d inputs vs search oracle, %d wrong\n", tested, bad_round);
    CHECK(bad_round == 0, "f32->f16 rounding: %d wrong", bad_round);

    // bf16: every pattern widens and narrows back; rounding vs its oracle.
    int bad_b = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = srlm_ref_bf16_to_f32((uint16_t)h);
        uint32_t u;
        memcpy(&u, &f, 4);
        if (u != h << 16) bad_b++;
        int is_nan = ((h & 0x7f80) == 0x7f80) && (h & 0x7f);
        if (srlm_ref_f32_to_bf16(f) != (is_nan ? (h | 0x40) : h)) bad_b++;
    }
    int bad_br = 0, tested_b = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t u = (uint32_t)test_rand_u64(&ref_seed);
        if (i % 4 == 0) u = (u & 0xffff0000u) | 0x8000u;  // exact ties
        float x;
        memcpy(&x, &u, 4);
        if (isnan(x)) continue;
        tested_b++;
        if (srlm_ref_f32_to_bf16(x) != bf16_oracle(x)) bad_br++;
    }
    printf("  bf16: 65536 patterns round trip, %d wrong; %d random/tie inputs vs oracle, %d wrong\n",
           bad_b, tested_b, bad_br);
    CHECK(bad_b == 0 && bad_br == 0, "bf16: %d %d", bad_b, bad_br);
    CHECK(srlm_ref_f32_to_bf16(3.4028235e38f) == 0x7f80, "bf16 overflow to inf");

    // array forms agree with the scalar ones
    float x[5] = {1.0f, -2.5f, 1e-6f, 70000.0f, 0.333f}, y[5];
    uint16_t h[5];
    srlm_ref_f32_to_f16_fwd(h, x, 5);
    srlm_ref_f16_to_f32_fwd(y, h, 5);
    int ok = 1;
    for (int i = 0; i < 5; i++) ok &= h[i] == srlm_ref_f32_to_f16(x[i]) && y[i] == srlm_ref_f16_to_f32(h[i]);
    srlm_ref_f32_to_bf16_fwd(h, x, 5);
    srlm_ref_bf16_to_f32_fwd(y, h, 5);
    for (int i = 0; i < 5; i++) ok &= h[i] == srlm_ref_f32_to_bf16(x[i]) && y[i] == srlm_ref_bf16_to_f32(h[i]);
    CHECK(ok, "array conversions match scalar ones");
}

/* ---- reductions ---------------------------------------------------------------------- */

static void test_reduce(void) {
    printf("reductions\n");
    size_t sizes[] = {1, 13, 4099, 1000000};
    const float *ts[4];
    float *owned[4];
    double want_sq = 0.0;
    for (int si = 0; si < 4; si++) {
        size_t n = sizes[si];
        char sz[32];
        snprintf(sz, sizeof sz, "n=%zu", n);
        float *x = ref_randf(n, -1, 3);
        double s = 0.0, sq = 0.0;
        for (size_t i = 0; i < n; i++) { s += x[i]; sq += (double)x[i] * x[i]; }
        float got[2] = {srlm_ref_sum(x, n), srlm_ref_sumsq(x, n)};
        double want[2] = {s, sq};
        ref_compare("sum", sz, got, want, 1, 1e-7);
        ref_compare("sumsq", sz, got + 1, want + 1, 1, 1e-7);
        want_sq += sq;
        ts[si] = x;
        owned[si] = x;
    }
    float g = srlm_ref_global_norm(ts, sizes, 4);
    double w = sqrt(want_sq);
    ref_compare("global_norm", "4 tensors", &g, &w, 1, 1e-7);
    // closed form: sum of 1..4099 = 4099*4100/2, exact in float
    float *ramp = malloc(4099 * sizeof *ramp);
    for (int i = 0; i < 4099; i++) ramp[i] = (float)(i + 1);
    CHECK(srlm_ref_sum(ramp, 4099) == 4099.0f * 4100.0f / 2.0f, "sum 1..4099");
    size_t one = 1;
    const float *rp = ramp + 2;  // the value 3
    CHECK(srlm_ref_global_norm(&rp, &one, 1) == 3.0f, "norm of (3)");
    free(ramp);
    for (int i = 0; i < 4; i++) free(owned[i]);
}

/* ---- RMSNorm ------------------------------------------------------------------------- */

typedef struct { double *x, *w, *dout; int N, C; double eps; } rms_ctx;

static void rms_fwd_d(rms_ctx *c, double *y) {
    for (int n = 0; n < c->N; n++) {
        const double *x = c->x + (size_t)n * c->C;
        double ss = 0.0;
        for (int i = 0; i < c->C; i++) ss += x[i] * x[i];
        double r = 1.0 / sqrt(ss / c->C + c->eps);
        for (int i = 0; i < c->C; i++) y[(size_t)n * c->C + i] = x[i] * r * c->w[i];
    }
}

static double rms_loss(void *p) {
    rms_ctx *c = p;
    size_t n = (size_t)c->N * c->C;
    double *y = ref_zeros_d(n);
    rms_fwd_d(c, y);
    double s = ref_dot_d(y, c->dout, n);
    free(y);
    return s;
}

static void test_rmsnorm(void) {
    printf("rmsnorm\n");
    int shapes[][2] = {{1, 1}, {7, 13}, {3, 127}, {13, 4099}};
    for (int si = 0; si < 4; si++) {
        int N = shapes[si][0], C = shapes[si][1];
        size_t n = (size_t)N * C;
        char sz[48];
        snprintf(sz, sizeof sz, "N=%d C=%d", N, C);
        float *x = ref_randf(n, -2, 2), *w = ref_randf((size_t)C, 0.5f, 1.5f), *dout = ref_randf(n, -1, 1);
        float *y = malloc(n * sizeof *y), *rstd = malloc((size_t)N * sizeof *rstd);
        rms_ctx c = {ref_to_d(x, n), ref_to_d(w, (size_t)C), ref_to_d(dout, n), N, C, 1e-6};
        double *want = ref_zeros_d(n);
        srlm_ref_rmsnorm_fwd(y, rstd, x, w, N, C, 1e-6f);
        rms_fwd_d(&c, want);
        ref_compare("rmsnorm_fwd", sz, y, want, n, TOL_FWD);
        if (n <= 1000) {  // finite differences: dinp and dweight both accumulate onto 0.25
            float *dx = malloc(n * sizeof *dx), *dw = malloc((size_t)C * sizeof *dw);
            srlm_ref_fill(dx, 0.25f, n);
            srlm_ref_fill(dw, 0.25f, (size_t)C);
            srlm_ref_rmsnorm_bwd(dx, dw, dout, x, w, rstd, N, C);
            double *gx = ref_zeros_d(n), *gw = ref_zeros_d((size_t)C);
            ref_fd(rms_loss, &c, c.x, n, gx);
            ref_fd(rms_loss, &c, c.w, (size_t)C, gw);
            for (size_t i = 0; i < n; i++) gx[i] += 0.25;
            for (int i = 0; i < C; i++) gw[i] += 0.25;
            ref_compare("rmsnorm_bwd dinp(+=)", sz, dx, gx, n, TOL_GRAD);
            ref_compare("rmsnorm_bwd dweight(+=)", sz, dw, gw, (size_t)C, TOL_GRAD);
            free(dx); free(dw); free(gx); free(gw);
        }
        free(x); free(w); free(dout); free(y); free(rstd); free(want);
        free(c.x); free(c.w); free(c.dout);
    }
    // closed form: a constant row c gives weight / sqrt(1 + eps/c^2), rstd = 1/sqrt(c^2+eps)
    float x[13], w[13], y[13], r;
    for (int i = 0; i < 13; i++) { x[i] = -3.0f; w[i] = 0.1f * (float)i; }
    srlm_ref_rmsnorm_fwd(y, &r, x, w, 1, 13, 1e-5f);
    double want[13], wr = 1.0 / sqrt(9.0 + 1e-5);
    for (int i = 0; i < 13; i++) want[i] = -3.0 * wr * (0.1f * (float)i);
    ref_compare("rmsnorm_fwd const row", "N=1 C=13", y, want, 13, TOL_FWD);
    ref_compare("rmsnorm rstd const row", "N=1 C=13", &r, &wr, 1, TOL_FWD);
}

/* ---- SiLU / SwiGLU ------------------------------------------------------------------- */

typedef struct { double *g, *u, *dout; size_t n; int swiglu; } act_ctx;

static double silu_d(double x) { return x / (1.0 + exp(-x)); }

static double act_loss(void *p) {
    act_ctx *c = p;
    double s = 0.0;
    for (size_t i = 0; i < c->n; i++) s += c->dout[i] * silu_d(c->g[i]) * (c->swiglu ? c->u[i] : 1.0);
    return s;
}

static void test_activations(void) {
    printf("silu / swiglu\n");
    size_t sizes[] = {1, 7, 127, 4099};
    for (int si = 0; si < 4; si++) {
        size_t n = sizes[si];
        char sz[32];
        snprintf(sz, sizeof sz, "n=%zu", n);
        float *g = ref_randf(n, -6, 6), *u = ref_randf(n, -2, 2), *dout = ref_randf(n, -1, 1);
        float *y = malloc(n * sizeof *y), *dg = malloc(n * sizeof *dg), *du = malloc(n * sizeof *du);
        act_ctx c = {ref_to_d(g, n), ref_to_d(u, n), ref_to_d(dout, n), n, 0};
        double *want = ref_zeros_d(n), *gg = ref_zeros_d(n), *gu = ref_zeros_d(n);
        srlm_ref_silu_fwd(y, g, n);
        for (size_t i = 0; i < n; i++) want[i] = silu_d(c.g[i]);
        ref_compare("silu_fwd", sz, y, want, n, TOL_FWD);
        srlm_ref_swiglu_fwd(y, g, u, n);
        for (size_t i = 0; i < n; i++) want[i] = silu_d(c.g[i]) * c.u[i];
        ref_compare("swiglu_fwd", sz, y, want, n, TOL_FWD);
        if (n <= 1000) {  // finite differences cost n^2 here
            srlm_ref_silu_bwd(dg, dout, g, n);
            ref_fd(act_loss, &c, c.g, n, gg);
            ref_compare("silu_bwd", sz, dg, gg, n, TOL_GRAD);
            c.swiglu = 1;
            srlm_ref_swiglu_bwd(dg, du, dout, g, u, n);
            ref_fd(act_loss, &c, c.g, n, gg);
            ref_fd(act_loss, &c, c.u, n, gu);
            ref_compare("swiglu_bwd dgate", sz, dg, gg, n, TOL_GRAD);
            ref_compare("swiglu_bwd dup", sz, du, gu, n, TOL_GRAD);
        }
        free(g); free(u); free(dout); free(y); free(dg); free(du);
        free(want); free(gg); free(gu); free(c.g); free(c.u); free(c.dout);
    }
    float z = 0.0f, yz;
    srlm_ref_silu_fwd(&yz, &z, 1);
    CHECK(yz == 0.0f, "silu(0) = 0");
}

/* ---- softmax ------------------------------------------------------------------------- */

typedef struct { double *x, *dout; int N, C; } sm_ctx;

static void sm_fwd_d(const sm_ctx *c, double *y) {
    for (int n = 0; n < c->N; n++) {
        const double *x = c->x + (size_t)n * c->C;
        double mx = -INFINITY, s = 0.0;
        for (int i = 0; i < c->C; i++) mx = fmax(mx, x[i]);
        for (int i = 0; i < c->C; i++) s += exp(x[i] - mx);
        for (int i = 0; i < c->C; i++) y[(size_t)n * c->C + i] = exp(x[i] - mx) / s;
    }
}

static double sm_loss(void *p) {
    sm_ctx *c = p;
    size_t n = (size_t)c->N * c->C;
    double *y = ref_zeros_d(n);
    sm_fwd_d(c, y);
    double s = ref_dot_d(y, c->dout, n);
    free(y);
    return s;
}

static void test_softmax(void) {
    printf("softmax\n");
    int shapes[][2] = {{1, 1}, {3, 1}, {7, 13}, {1, 127}, {13, 4099}};
    for (int si = 0; si < 5; si++) {
        int N = shapes[si][0], C = shapes[si][1];
        size_t n = (size_t)N * C;
        char sz[48];
        snprintf(sz, sizeof sz, "N=%d C=%d", N, C);
        float *x = ref_randf(n, -8, 8), *dout = ref_randf(n, -1, 1);
        float *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
        sm_ctx c = {ref_to_d(x, n), ref_to_d(dout, n), N, C};
        double *want = ref_zeros_d(n);
        srlm_ref_softmax_fwd(y, x, N, C);
        sm_fwd_d(&c, want);
        ref_compare("softmax_fwd", sz, y, want, n, TOL_FWD);
        double worst = 0.0;
        for (int r = 0; r < N; r++) {
            double s = 0.0;
            for (int i = 0; i < C; i++) s += y[(size_t)r * C + i];
            worst = fmax(worst, fabs(s - 1.0));
        }
        CHECK(worst < 1e-5, "softmax rows sum to 1: worst |sum-1| %.3e", worst);
        if (n <= 1000) {
            double *g = ref_zeros_d(n);
            srlm_ref_softmax_bwd(dx, dout, y, N, C);
            ref_fd(sm_loss, &c, c.x, n, g);
            // a 1-wide softmax is constant: its gradient is exactly 0
            ref_compare("softmax_bwd", sz, dx, g, n, C == 1 ? 1e-30 : TOL_GRAD);
            free(g);
        }
        free(x); free(dout); free(y); free(dx); free(want); free(c.x); free(c.dout);
    }
    float big[3] = {1000.0f, 1000.0f, -1000.0f}, y[3];
    srlm_ref_softmax_fwd(y, big, 1, 3);
    CHECK(y[0] == 0.5f && y[1] == 0.5f && y[2] == 0.0f, "softmax of large logits is stable: %g %g %g",
          y[0], y[1], y[2]);
}

/* ---- matmul -------------------------------------------------------------------------- */

typedef struct { double *x, *w, *b, *dout; int N, C, OC; } mm_ctx;

static double mm_loss(void *p) {
    mm_ctx *c = p;
    double s = 0.0;
    for (int n = 0; n < c->N; n++)
        for (int o = 0; o < c->OC; o++) {
            double y = c->b[o];
            for (int i = 0; i < c->C; i++) y += c->x[(size_t)n * c->C + i] * c->w[(size_t)o * c->C + i];
            s += c->dout[(size_t)n * c->OC + o] * y;
        }
    return s;
}

/* Compares the three forms with double sums; on large shapes only at sampled outputs. */
static void test_matmul_shape(int N, int C, int OC, int with_fd) {
    char sz[64];
    snprintf(sz, sizeof sz, "N=%d C=%d OC=%d", N, C, OC);
    size_t nx = (size_t)N * C, nw = (size_t)OC * C, ny = (size_t)N * OC;
    float *x = ref_randf(nx, -1, 1), *w = ref_randf(nw, -1, 1), *b = ref_randf((size_t)OC, -1, 1);
    float *dout = ref_randf(ny, -1, 1);
    uint16_t *w16 = malloc(nw * sizeof *w16);
    srlm_ref_f32_to_f16_fwd(w16, w, nw);
    float *w16f = malloc(nw * sizeof *w16f);
    srlm_ref_f16_to_f32_fwd(w16f, w16, nw);
    float *y = malloc(ny * sizeof *y), *y2 = malloc(ny * sizeof *y2);
    float *dx = malloc(nx * sizeof *dx), *dx2 = malloc(nx * sizeof *dx2);
    float *dw = malloc(nw * sizeof *dw), *db = malloc((size_t)OC * sizeof *db);

    srlm_ref_fill(dw, 0.5f, nw);
    srlm_ref_fill(db, 0.5f, (size_t)OC);
    double t0 = now_s();
    srlm_ref_matmul_fwd(y, x, w, b, N, C, OC);
    double t1 = now_s();
    srlm_ref_matmul_bwd_inp(dx, dout, w, N, C, OC);
    double t2 = now_s();
    srlm_ref_matmul_bwd_weight(dw, db, dout, x, N, C, OC);
    double t3 = now_s(), flop = 2.0 * N * C * OC;
    if (flop >= 1e8)  // not a timed test: shows the reference is usable at test sizes
        printf("  %-24s %-26s fwd %.2f GFLOP/s, bwd_inp %.2f, bwd_weight %.2f\n", "matmul speed", sz,
               flop / (t1 - t0) * 1e-9, flop / (t2 - t1) * 1e-9, flop / (t3 - t2) * 1e-9);

    // sampled (or all) outputs of each form against double sums
    enum { SAMPLES = 2000 };
    size_t ky = ny < SAMPLES ? ny : SAMPLES, kx = nx < SAMPLES ? nx : SAMPLES, kw = nw < SAMPLES ? nw : SAMPLES;
    float *gy = malloc(ky * sizeof *gy), *gx = malloc(kx * sizeof *gx), *gw = malloc(kw * sizeof *gw);
    double *wy = ref_zeros_d(ky), *wx = ref_zeros_d(kx), *ww = ref_zeros_d(kw), *wb = ref_zeros_d((size_t)OC);
    for (size_t s = 0; s < ky; s++) {
        size_t at = ny <= SAMPLES ? s : test_rand_u64(&ref_seed) % ny;
        size_t n = at / OC, o = at % OC;
        double acc = b[o];
        for (int i = 0; i < C; i++) acc += (double)x[n * C + i] * w[o * C + i];
        gy[s] = y[at];
        wy[s] = acc;
    }
    for (size_t s = 0; s < kx; s++) {
        size_t at = nx <= SAMPLES ? s : test_rand_u64(&ref_seed) % nx;
        size_t n = at / C, i = at % C;
        double acc = 0.0;
        for (int o = 0; o < OC; o++) acc += (double)dout[n * OC + o] * w[(size_t)o * C + i];
        gx[s] = dx[at];
        wx[s] = acc;
    }
    for (size_t s = 0; s < kw; s++) {
        size_t at = nw <= SAMPLES ? s : test_rand_u64(&ref_seed) % nw;
        size_t o = at / C, i = at % C;
        double acc = 0.5;
        for (int n = 0; n < N; n++) acc += (double)dout[(size_t)n * OC + o] * x[(size_t)n * C + i];
        gw[s] = dw[at];
        ww[s] = acc;
    }
    for (int o = 0; o < OC; o++) {
        wb[o] = 0.5;
        for (int n = 0; n < N; n++) wb[o] += dout[(size_t)n * OC + o];
    }
    ref_compare("matmul_fwd", sz, gy, wy, ky, TOL_MATMUL);
    ref_compare("matmul_bwd_inp", sz, gx, wx, kx, TOL_MATMUL);
    ref_compare("matmul_bwd_weight(+=)", sz, gw, ww, kw, TOL_MATMUL);
    ref_compare("matmul_bwd dbias(+=)", sz, db, wb, (size_t)OC, TOL_MATMUL);

    // f16-stored weights: bit-identical to the f32 form on the widened weights
    srlm_ref_matmul_fwd_f16(y, x, w16, b, N, C, OC);
    srlm_ref_matmul_fwd(y2, x, w16f, b, N, C, OC);
    CHECK(!memcmp(y, y2, ny * sizeof *y), "matmul_fwd_f16 == matmul_fwd(widened W) %s", sz);
    srlm_ref_matmul_bwd_inp_f16(dx, dout, w16, N, C, OC);
    srlm_ref_matmul_bwd_inp(dx2, dout, w16f, N, C, OC);
    CHECK(!memcmp(dx, dx2, nx * sizeof *dx), "matmul_bwd_inp_f16 == matmul_bwd_inp(widened W) %s", sz);
    printf("  %-24s %-26s f16 forms bit-identical to f32 forms on widened weights\n", "matmul_f16", sz);
    // the f16 storage tolerance of docs/ops.md: f16 weights vs the unrounded f32 weights
    srlm_ref_matmul_fwd(y2, x, w, b, N, C, OC);
    ref_check_nse("matmul_f16 vs f32 W", sz, y, y2, ny, 1e-5);

    if (with_fd) {
        mm_ctx c = {ref_to_d(x, nx), ref_to_d(w, nw), ref_to_d(b, (size_t)OC), ref_to_d(dout, ny), N, C, OC};
        double *fx = ref_zeros_d(nx), *fw = ref_zeros_d(nw), *fb = ref_zeros_d((size_t)OC);
        double *yd = ref_zeros_d(ny);
        for (size_t i = 0; i < ny; i++) {
            size_t n = i / OC, o = i % OC;
            yd[i] = c.b[o];
            for (int k = 0; k < C; k++) yd[i] += c.x[n * C + k] * c.w[o * C + k];
        }
        srlm_ref_matmul_fwd(y, x, w, b, N, C, OC);
        ref_compare("matmul_fwd (all)", sz, y, yd, ny, TOL_MATMUL);
        ref_fd(mm_loss, &c, c.x, nx, fx);
        ref_fd(mm_loss, &c, c.w, nw, fw);
        ref_fd(mm_loss, &c, c.b, (size_t)OC, fb);
        srlm_ref_fill(dw, 0.0f, nw);
        srlm_ref_fill(db, 0.0f, (size_t)OC);
        srlm_ref_matmul_bwd(dx, dw, db, dout, x, w, N, C, OC);
        ref_compare("matmul_bwd dinp fd", sz, dx, fx, nx, TOL_GRAD);
        ref_compare("matmul_bwd dweight fd", sz, dw, fw, nw, TOL_GRAD);
        ref_compare("matmul_bwd dbias fd", sz, db, fb, (size_t)OC, TOL_GRAD);
        free(c.x); free(c.w); free(c.b); free(c.dout); free(fx); free(fw); free(fb); free(yd);
    }
    free(x); free(w); free(b); free(dout); free(w16); free(w16f); free(y); free(y2);
    free(dx); free(dx2); free(dw); free(db); free(gy); free(gx); free(gw);
    free(wy); free(wx); free(ww); free(wb);
}

static void test_matmul(void) {
    printf("matmul\n");
    test_matmul_shape(1, 1, 1, 1);
    test_matmul_shape(7, 13, 127, 1);
    test_matmul_shape(13, 127, 7, 1);
    test_matmul_shape(3, 1000, 1, 1);
    test_matmul_shape(1, 4099, 1000, 0);   // matrix-vector
    test_matmul_shape(127, 4099, 13, 0);
#if !defined(__SANITIZE_ADDRESS__)  /* ~3 GFLOP: release build only (ASan runs ~20x slower) */
    test_matmul_shape(1000, 1000, 1000, 0);
#endif

    // without bias; NULL parts of the combined backward are skipped
    float x[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 2, 1, 0}, y[4];
    srlm_ref_matmul_fwd(y, x, w, NULL, 2, 3, 2);  // rows (1,2,3),(4,5,6) . (1,0,-1),(2,1,0)
    CHECK(y[0] == -2 && y[1] == 4 && y[2] == -2 && y[3] == 13, "2x3 . 3x2: %g %g %g %g", y[0], y[1], y[2], y[3]);
    float db[2] = {0, 0}, dout[4] = {1, 1, 1, 1};
    srlm_ref_matmul_bwd(NULL, NULL, db, dout, x, w, 2, 3, 2);
    CHECK(db[0] == 2 && db[1] == 2, "dbias only: %g %g", db[0], db[1]);

}

/* Q8_0 weights: the forward equals the f32 forward on the dequantised weights, and the
 * dequantisation equals the model loader's. */
static void test_matmul_q8_0(void) {
    printf("matmul q8_0\n");
    int shapes[][3] = {{1, 32, 1}, {7, 96, 13}, {3, 1056, 127}, {1, 4096, 1000}};
    for (int si = 0; si < 4; si++) {
        int N = shapes[si][0], C = shapes[si][1], OC = shapes[si][2];
        char sz[64];
        snprintf(sz, sizeof sz, "N=%d C=%d OC=%d", N, C, OC);
        size_t nw = (size_t)OC * C, nbytes = nw / 32 * 34;
        uint8_t *q = malloc(nbytes);
        for (size_t b = 0; b < nw / 32; b++) {  // random scales and quants
            uint16_t d = srlm_ref_f32_to_f16(test_rand_uniform(&ref_seed, -0.02f, 0.02f));
            q[b * 34] = (uint8_t)(d & 0xff);
            q[b * 34 + 1] = (uint8_t)(d >> 8);
            for (int i = 0; i < 32; i++) q[b * 34 + 2 + (size_t)i] = (uint8_t)test_rand_u64(&ref_seed);
        }
        float *w = malloc(nw * sizeof *w), *wm = malloc(nw * sizeof *wm);
        srlm_ref_dequantize_q8_0(w, q, nw);
        srlm_dequantize_q8_0(wm, q, nw);
        CHECK(!memcmp(w, wm, nw * sizeof *w), "dequantize_q8_0 == model loader's %s", sz);
        float *x = ref_randf((size_t)N * C, -1, 1), *b = ref_randf((size_t)OC, -1, 1);
        float *y = malloc((size_t)N * OC * sizeof *y), *y2 = malloc((size_t)N * OC * sizeof *y2);
        srlm_ref_matmul_fwd_q8_0(y, x, q, b, N, C, OC);
        srlm_ref_matmul_fwd(y2, x, w, b, N, C, OC);
        CHECK(!memcmp(y, y2, (size_t)N * OC * sizeof *y), "matmul_fwd_q8_0 == matmul_fwd(dequantised) %s", sz);
        printf("  %-24s %-26s bit-identical to the f32 form on dequantised weights\n", "matmul_fwd_q8_0", sz);
        free(q); free(w); free(wm); free(x); free(b); free(y); free(y2);
    }
}

/* ---- argmax / top-k ------------------------------------------------------------------ */

static const float *sel_row;
static int sel_cmp(const void *pa, const void *pb) {  // value desc (NaN as -inf), index asc
    int a = *(const int *)pa, b = *(const int *)pb;
    float xa = isnan(sel_row[a]) ? -INFINITY : sel_row[a], xb = isnan(sel_row[b]) ? -INFINITY : sel_row[b];
    if (xa != xb) return xa > xb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static void test_select(void) {
    printf("argmax / top-k\n");
    int Vs[] = {1, 7, 13, 127, 4099};
    int bad = 0, rows = 0;
    for (int vi = 0; vi < 5; vi++) {
        int V = Vs[vi], N = 5;
        float *x = ref_randf((size_t)N * V, -3, 3);
        for (size_t i = 0; i < (size_t)N * V; i++) x[i] = roundf(x[i] * 4.0f) / 4.0f;  // many ties
        if (V > 3) { x[1] = NAN; x[V + 2] = -INFINITY; x[2 * V] = INFINITY; }
        int *order = malloc((size_t)V * sizeof *order), *am = malloc((size_t)N * sizeof *am);
        int Kmax = V < 64 ? V : 64;
        int *ids = malloc((size_t)N * Kmax * sizeof *ids);
        float *vals = malloc((size_t)N * Kmax * sizeof *vals);
        srlm_ref_argmax(am, x, N, V);
        int Ks[3] = {1, Kmax, V < 200 ? V : Kmax};
        for (int ki = 0; ki < 3; ki++) {
            int K = Ks[ki];
            int *idk = K <= Kmax ? ids : malloc((size_t)N * K * sizeof *idk);
            srlm_ref_topk(idk, K <= Kmax ? vals : NULL, x, N, V, K);
            for (int r = 0; r < N; r++) {
                sel_row = x + (size_t)r * V;
                for (int v = 0; v < V; v++) order[v] = v;
                qsort(order, (size_t)V, sizeof *order, sel_cmp);
                rows++;
                for (int k = 0; k < K; k++) bad += idk[(size_t)r * K + k] != order[k];
                if (K <= Kmax)
                    for (int k = 0; k < K; k++) bad += memcmp(&vals[(size_t)r * K + k], &sel_row[order[k]], 4) != 0;
                bad += am[r] != order[0];
            }
            if (idk != ids) free(idk);
        }
        free(x); free(order); free(am); free(ids); free(vals);
    }
    printf("  argmax and top-k (K = 1, min(V,64), V) on %d rows with ties, NaN, +-inf vs qsort: %d wrong\n", rows, bad);
    CHECK(bad == 0, "selection: %d wrong", bad);
    float nan_row[3] = {NAN, NAN, NAN};
    int a;
    srlm_ref_argmax(&a, nan_row, 1, 3);
    CHECK(a == 0, "argmax of an all-NaN row is 0");
}

int main(void) {
    void (*cases[])(void) = {test_elementwise, test_convert, test_reduce, test_rmsnorm,
                             test_activations, test_softmax, test_matmul, test_matmul_q8_0,
                             test_select};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double t0 = now_s();
        cases[i]();
        printf("  (%.2f s)\n", now_s() - t0);
    }
    return test_finish("test_ref_ops");
}
