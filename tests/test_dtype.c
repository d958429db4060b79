/* test_dtype.c: f16/bf16 conversions against exhaustive round trips, hand-picked rounding
 * cases and the hardware-free reference (double arithmetic), plus the counter RNG. */
#include "test.h"

#include "model/dtype.h"
#include "rng.h"

#include <stdint.h>

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Reference f16 value of a bit pattern in double arithmetic (independent of dtype.c). */
static double f16_ref(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = ldexp(m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

static void test_f16_exhaustive(void) {
    int bad_rt = 0, bad_val = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = srlm_f16_to_f32((uint16_t)h);
        double r = f16_ref((uint16_t)h);
        if (isnan(r) ? !isnan(f) : ((double)f != r || !!signbit(f) != !!signbit(r))) bad_val++;
        if (srlm_f32_to_f16(f) != h) bad_rt++;
    }
    CHECK(bad_val == 0, "%d f16 patterns decode wrongly", bad_val);
    CHECK(bad_rt == 0, "%d f16 patterns do not round-trip through f32", bad_rt);
    printf("  f16->f32->f16 round trip: all 65536 patterns\n");
    /* bf16 round trip over all patterns (NaNs keep being NaN with the same sign). */
    int bad_bf = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = srlm_bf16_to_f32((uint16_t)h);
        uint16_t back = srlm_f32_to_bf16(f);
        if (isnan(f) ? !(isnan(srlm_bf16_to_f32(back)) && (back >> 15) == (h >> 15)) : back != h) bad_bf++;
    }
    CHECK(bad_bf == 0, "%d bf16 patterns do not round-trip", bad_bf);
}

/* f32 -> f16 against a reference that picks the nearest f16 (ties to even) by search. */
static uint16_t f32_to_f16_ref(float f) {
    if (isnan(f)) return 0x7e00;
    double x = fabs((double)f);
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    if (x >= 65520.0) return sign | 0x7c00;
    uint16_t lo = 0, hi = 0x7bff;
    while (lo < hi) { /* largest pattern with value <= x */
        uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
        if (f16_ref(mid) <= x) lo = mid; else hi = (uint16_t)(mid - 1);
    }
    if (lo == 0x7bff) return sign | lo;
    double a = f16_ref(lo), b = f16_ref((uint16_t)(lo + 1));
    if (x - a < b - x) return sign | lo;
    if (x - a > b - x) return sign | (uint16_t)(lo + 1);
    return sign | ((lo & 1) ? (uint16_t)(lo + 1) : lo);
}

static void test_f16_rounding(void) {
    unsigned long long s = 42;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t u = (uint32_t)test_rand_u64(&s);
        /* Bias toward the f16 range, including subnormals and the overflow edge. */
        if (i % 2) u = (u & 0x80000000u) | (0x33000000u + (u % (0x47800000u - 0x33000000u)));
        float f = bitsf(u);
        if (isnan(f)) continue;
        uint16_t got = srlm_f32_to_f16(f), want = f32_to_f16_ref(f);
        if (got != want && bad++ < 5) fprintf(stderr, "  f32 %08x -> f16 %04x, want %04x\n", u, got, want);
    }
    CHECK(bad == 0, "%d of 200000 random f32 values round to the wrong f16", bad);
    /* Hand-picked edges. */
    CHECK(srlm_f32_to_f16(65504.0f) == 0x7bff, "max f16");
    CHECK(srlm_f32_to_f16(65519.99f) == 0x7bff, "just below the overflow tie");
    CHECK(srlm_f32_to_f16(65520.0f) == 0x7c00, "overflow tie goes to inf");
    CHECK(srlm_f32_to_f16(bitsf(0x33000000u)) == 0, "2^-25 ties to zero");
    CHECK(srlm_f32_to_f16(bitsf(0x33000001u)) == 1, "just above 2^-25 rounds to the smallest subnormal");
    CHECK(srlm_f32_to_f16(-0.0f) == 0x8000, "negative zero");
    CHECK(srlm_f32_to_f16(INFINITY) == 0x7c00 && srlm_f32_to_f16(-INFINITY) == 0xfc00, "infinities");
    CHECK((srlm_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (srlm_f32_to_f16(NAN) & 0x3ff), "NaN stays NaN");
    CHECK((srlm_f32_to_f16(bitsf(0x7f800001u)) & 0x3ff) != 0, "NaN with low payload stays NaN");
    CHECK(srlm_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00, "1 + half ulp ties to even (down)");
    CHECK(srlm_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02, "1 + 1.5 ulp ties to even (up)");
}

static void test_bf16(void) {
    CHECK(srlm_f32_to_bf16(1.0f) == 0x3f80, "1.0");
    CHECK(srlm_f32_to_bf16(bitsf(0x3f808000u)) == 0x3f80, "tie to even down");
    CHECK(srlm_f32_to_bf16(bitsf(0x3f818000u)) == 0x3f82, "tie to even up");
    CHECK(srlm_f32_to_bf16(bitsf(0x3f808001u)) == 0x3f81, "above the tie rounds up");
    CHECK(srlm_f32_to_bf16(bitsf(0x7f7fffffu)) == 0x7f80, "max float rounds to inf");
    CHECK(isnan(srlm_bf16_to_f32(srlm_f32_to_bf16(bitsf(0x7f800001u)))), "NaN stays NaN");
    CHECK(fbits(srlm_bf16_to_f32(0xc000)) == 0xc0000000u, "-2.0");
    float src[3] = {1.5f, -2.25f, 1e-3f}, back[3];
    uint16_t h[3];
    srlm_convert_from_f32(h, src, SRLM_DTYPE_BF16, 3);
    srlm_convert_to_f32(back, h, SRLM_DTYPE_BF16, 3);
    CHECK(back[0] == 1.5f && back[1] == -2.25f && fabsf(back[2] - 1e-3f) < 1e-5f, "bulk bf16");
    srlm_convert_from_f32(h, src, SRLM_DTYPE_F16, 3);
    srlm_convert_to_f32(back, h, SRLM_DTYPE_F16, 3);
    CHECK(back[0] == 1.5f && back[1] == -2.25f && fabsf(back[2] - 1e-3f) < 1e-6f, "bulk f16");
    srlm_dtype t;
    CHECK(srlm_dtype_parse("bf16", &t) && t == SRLM_DTYPE_BF16, "parse bf16");
    CHECK(srlm_dtype_parse("float32", &t) && t == SRLM_DTYPE_F32, "parse float32");
    CHECK(!srlm_dtype_parse("int8", &t), "reject int8");
}

static void test_q8_0(void) {
    uint8_t blk[2 * SRLM_Q8_0_BYTES];
    uint16_t d0 = srlm_f32_to_f16(0.5f), d1 = srlm_f32_to_f16(-0.25f);
    memcpy(blk, &d0, 2);
    memcpy(blk + SRLM_Q8_0_BYTES, &d1, 2);
    for (int i = 0; i < 32; i++) {
        blk[2 + i] = (uint8_t)(int8_t)(i - 16);
        blk[SRLM_Q8_0_BYTES + 2 + i] = (uint8_t)(int8_t)(i == 0 ? -128 : 127 - i);
    }
    float out[64];
    srlm_dequantize_q8_0(out, blk, 64);
    int bad = 0;
    for (int i = 0; i < 32; i++) bad += out[i] != 0.5f * (float)(i - 16);
    for (int i = 0; i < 32; i++) bad += out[32 + i] != -0.25f * (float)(i == 0 ? -128 : 127 - i);
    CHECK(bad == 0, "%d Q8_0 values wrong", bad);
}

static void test_convert(void) {
    /* Any -> any through f32 equals the two scalar steps; over every bf16 pattern. */
    uint16_t bf[65536], h[65536], want;
    for (uint32_t i = 0; i < 65536; i++) bf[i] = (uint16_t)i;
    CHECK(srlm_convert(h, SRLM_DTYPE_F16, bf, SRLM_DTYPE_BF16, 65536), "bf16 -> f16");
    int bad = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        want = srlm_f32_to_f16(srlm_bf16_to_f32((uint16_t)i));
        bad += h[i] != want;
    }
    CHECK(bad == 0, "%d bf16 -> f16 conversions differ from the scalar path", bad);
    float f[64];
    uint8_t q[2 * SRLM_Q8_0_BYTES] = {0};
    uint16_t d = srlm_f32_to_f16(0.25f);
    memcpy(q, &d, 2);
    memcpy(q + SRLM_Q8_0_BYTES, &d, 2);
    for (int i = 0; i < 32; i++) q[2 + i] = (uint8_t)i, q[SRLM_Q8_0_BYTES + 2 + i] = (uint8_t)(100 + i);
    uint16_t q16[64];
    CHECK(srlm_convert(q16, SRLM_DTYPE_F16, q, SRLM_DTYPE_Q8_0, 64), "q8_0 -> f16");
    srlm_convert_to_f32(f, q16, SRLM_DTYPE_F16, 64);
    CHECK(f[5] == 1.25f && f[32 + 3] == 25.75f, "q8_0 -> f16 values %g %g", f[5], f[35]);
    CHECK(!srlm_convert(q, SRLM_DTYPE_Q8_0, f, SRLM_DTYPE_F32, 32), "no Q8_0 destination");
}

static void test_rng(void) {
    CHECK(srlm_rng_u64(1, 2, 3) == srlm_rng_u64(1, 2, 3), "pure function");
    CHECK(srlm_rng_u64(1, 2, 3) != srlm_rng_u64(1, 2, 4), "counter matters");
    CHECK(srlm_rng_u64(1, 2, 3) != srlm_rng_u64(1, 3, 3), "stream matters");
    CHECK(srlm_rng_u64(1, 2, 3) != srlm_rng_u64(2, 2, 3), "seed matters");
    /* Moments of the normal and uniform draws over 200k counters. */
    double s1 = 0, s2 = 0, u1 = 0;
    int n = 200000, hist[10] = {0};
    for (int i = 0; i < n; i++) {
        double x = srlm_rng_normal(7, 0, (uint64_t)i);
        s1 += x; s2 += x * x;
        float u = srlm_rng_uniform(7, 1, (uint64_t)i);
        CHECK(u >= 0.0f && u < 1.0f, "uniform in [0,1): %g", u);
        u1 += u;
        hist[srlm_rng_below(7, 2, (uint64_t)i, 10)]++;
    }
    double mean = s1 / n, var = s2 / n - mean * mean;
    printf("  normal: mean %.4f var %.4f; uniform mean %.4f\n", mean, var, u1 / n);
    CHECK(fabs(mean) < 0.01 && fabs(var - 1) < 0.02, "normal moments mean %g var %g", mean, var);
    CHECK(fabs(u1 / n - 0.5) < 0.005, "uniform mean %g", u1 / n);
    for (int k = 0; k < 10; k++) CHECK(abs(hist[k] - n / 10) < n / 100, "below(10) bucket %d has %d", k, hist[k]);
    srlm_rng r = srlm_rng_make(5, 9);
    uint64_t a = srlm_rng_next_u64(&r), b = srlm_rng_next_u64(&r);
    CHECK(a == srlm_rng_u64(5, 9, 0) && b == srlm_rng_u64(5, 9, 1) && r.counter == 2, "cursor draws consecutive counters");
}

int main(void) {
    test_f16_exhaustive();
    test_f16_rounding();
    test_bf16();
    test_q8_0();
    test_convert();
    test_rng();
    return test_finish("test_dtype");
}
