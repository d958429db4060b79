/* ref_convert.c: CPU reference of the f32 <-> f16 and f32 <-> bf16 conversions, written on
 * the bit patterns so that rounding (nearest, ties to even), subnormals, infinities and NaN
 * are explicit. Not vectorised: the shaders use packHalf2x16 / unpackHalf2x16. */
#include "ref.h"

#include <math.h>
#include <string.h>

static uint32_t f32_bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static float bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

uint16_t srlm_ref_f32_to_f16(float x) {
    uint32_t u = f32_bits(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) {  // NaN: keep the top payload bits (so every f16 NaN round-trips);
        uint32_t m = (a >> 13) & 0x3ffu;  // all-zero bits would read as inf: set the quiet bit
        return (uint16_t)(sign | 0x7c00u | (m ? m : 0x200u));
    }
    if (a >= 0x477ff000u)  // >= 65520 rounds past 65504 (ties go to the even 65536): inf
        return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) {  // >= 2^-14: normal f16. Re-bias the exponent, round 13 bits away;
        uint32_t r = a - ((uint32_t)(127 - 15) << 23);  // a mantissa carry bumps the exponent.
        r += 0xfffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    if (a <= 0x33000000u)  // <= 2^-25, half the smallest subnormal (a tie, to even 0): zero
        return sign;
    // Subnormal: the value in units of 2^-24 is mant * 2^(e-126), with shift 126-e in 14..24.
    uint32_t e = a >> 23;
    uint32_t mant = (a & 0x7fffffu) | 0x800000u;
    uint32_t s = 126u - e;
    uint32_t q = mant >> s, rem = mant & ((1u << s) - 1u), half = 1u << (s - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;  // q == 0x400 is the smallest normal
    return (uint16_t)(sign | q);
}

float srlm_ref_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return bits_f32(sign | 0x7f800000u | (m << 13));  // inf, NaN (payload kept)
    if (e == 0) {  // zero or subnormal: m * 2^-24, exact in float
        float v = ldexpf((float)m, -24);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

uint16_t srlm_ref_f32_to_bf16(float x) {
    uint32_t u = f32_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // nearest even; overflow carries into inf correctly
    return (uint16_t)(u >> 16);
}

float srlm_ref_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

void srlm_ref_f32_to_f16_fwd(uint16_t *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = srlm_ref_f32_to_f16(inp[i]);
}

void srlm_ref_f16_to_f32_fwd(float *out, const uint16_t *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = srlm_ref_f16_to_f32(inp[i]);
}

void srlm_ref_f32_to_bf16_fwd(uint16_t *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = srlm_ref_f32_to_bf16(inp[i]);
}

void srlm_ref_bf16_to_f32_fwd(float *out, const uint16_t *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = srlm_ref_bf16_to_f32(inp[i]);
}
