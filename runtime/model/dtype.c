/* dtype.c: scalar f32/f16/bf16 conversions (round to nearest even) and Q8_0 dequantisation.
 * Bit-exact by construction; tested exhaustively over all 16-bit patterns. */
#include "model/dtype.h"

#include <string.h>
#include <strings.h>

size_t srlm_dtype_size(srlm_dtype t) {
    switch (t) {
    case SRLM_DTYPE_F32: return 4;
    case SRLM_DTYPE_F16: return 2;
    case SRLM_DTYPE_BF16: return 2;
    case SRLM_DTYPE_Q8_0: return 0;
    }
    return 0;
}

const char *srlm_dtype_name(srlm_dtype t) {
    switch (t) {
    case SRLM_DTYPE_F32: return "F32";
    case SRLM_DTYPE_F16: return "F16";
    case SRLM_DTYPE_BF16: return "BF16";
    case SRLM_DTYPE_Q8_0: return "Q8_0";
    }
    return "?";
}

const char *srlm_dtype_torch_name(srlm_dtype t) {
    switch (t) {
    case SRLM_DTYPE_F32: return "float32";
    case SRLM_DTYPE_F16: return "float16";
    case SRLM_DTYPE_BF16: return "bfloat16";
    case SRLM_DTYPE_Q8_0: return "q8_0";
    }
    return "?";
}

int srlm_dtype_parse(const char *s, srlm_dtype *out) {
    static const struct { const char *name; srlm_dtype t; } names[] = {
        {"f32", SRLM_DTYPE_F32}, {"float32", SRLM_DTYPE_F32}, {"float", SRLM_DTYPE_F32},
        {"f16", SRLM_DTYPE_F16}, {"float16", SRLM_DTYPE_F16}, {"half", SRLM_DTYPE_F16},
        {"bf16", SRLM_DTYPE_BF16}, {"bfloat16", SRLM_DTYPE_BF16},
    };
    if (!s) return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(s, names[i].name)) { *out = names[i].t; return 1; }
    return 0;
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float srlm_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (mant << 13)); /* inf, NaN */
    if (exp == 0) {
        if (mant == 0) return bits_f32(sign);
        /* Subnormal: normalise so the leading 1 lands on the implicit bit. */
        uint32_t e = 113;
        while (!(mant & 0x400)) { mant <<= 1; e--; }
        return bits_f32(sign | (e << 23) | ((mant & 0x3ff) << 13));
    }
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t srlm_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) {
        /* NaN: keep the top payload bits; if they are all zero the result would read as inf,
         * so set the quiet bit. A NaN that came from f16 round-trips unchanged. */
        uint16_t m = (uint16_t)((ax >> 13) & 0x3ff);
        return (uint16_t)(sign | 0x7c00 | (m ? m : 0x200));
    }
    if (ax >= 0x47800000u) return (uint16_t)(sign | 0x7c00); /* >= 65536 (or inf): inf */
    uint32_t e = ax >> 23;
    if (e < 113) {
        /* Result is subnormal (or zero): h = m * 2^(e-150) / 2^-24 = m >> (126 - e). */
        if (e < 102) return sign; /* below 2^-25: rounds to zero */
        uint32_t m = (ax & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t h = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h); /* h == 0x400 is the smallest normal: still right */
    }
    uint32_t h = ((e - 112) << 10) | ((ax >> 13) & 0x3ff);
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* a carry may reach inf: right */
    return (uint16_t)(sign | h);
}

float srlm_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t srlm_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
    x += 0x7fffu + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

void srlm_convert_to_f32(float *dst, const void *src, srlm_dtype from, size_t n) {
    const uint8_t *s = src;
    switch (from) {
    case SRLM_DTYPE_F32: memmove(dst, src, n * 4); return;
    case SRLM_DTYPE_F16:
        for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, s + 2 * i, 2); dst[i] = srlm_f16_to_f32(h); }
        return;
    case SRLM_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, s + 2 * i, 2); dst[i] = srlm_bf16_to_f32(h); }
        return;
    case SRLM_DTYPE_Q8_0: srlm_dequantize_q8_0(dst, src, n); return;
    }
}

void srlm_convert_from_f32(void *dst, const float *src, srlm_dtype to, size_t n) {
    uint8_t *d = dst;
    switch (to) {
    case SRLM_DTYPE_F32: memmove(dst, src, n * 4); return;
    case SRLM_DTYPE_F16:
        for (size_t i = 0; i < n; i++) { uint16_t h = srlm_f32_to_f16(src[i]); memcpy(d + 2 * i, &h, 2); }
        return;
    case SRLM_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) { uint16_t h = srlm_f32_to_bf16(src[i]); memcpy(d + 2 * i, &h, 2); }
        return;
    case SRLM_DTYPE_Q8_0: return; /* quantising is not offered: callers never ask for it */
    }
}

void srlm_dequantize_q8_0(float *dst, const void *src, size_t n) {
    const uint8_t *b = src;
    for (size_t blk = 0; blk < n / SRLM_Q8_0_BLOCK; blk++, b += SRLM_Q8_0_BYTES) {
        uint16_t dh;
        memcpy(&dh, b, 2);
        float d = srlm_f16_to_f32(dh);
        const int8_t *q = (const int8_t *)(b + 2);
        for (int i = 0; i < SRLM_Q8_0_BLOCK; i++) dst[blk * SRLM_Q8_0_BLOCK + (size_t)i] = d * (float)q[i];
    }
}

bool srlm_convert(void *dst, srlm_dtype to, const void *src, srlm_dtype from, size_t n) {
    if (to == SRLM_DTYPE_Q8_0) return false;
    if (to == from) {
        memmove(dst, src, n * srlm_dtype_size(to));
        return true;
    }
    if (to == SRLM_DTYPE_F32) {
        srlm_convert_to_f32(dst, src, from, n);
        return true;
    }
    /* Through a small f32 buffer, a whole number of Q8_0 blocks at a time. */
    float tmp[1024];
    size_t in_es = srlm_dtype_size(from), out_es = srlm_dtype_size(to);
    for (size_t at = 0; at < n; at += 1024) {
        size_t m = n - at < 1024 ? n - at : 1024;
        const uint8_t *s = (const uint8_t *)src + (from == SRLM_DTYPE_Q8_0 ? at / SRLM_Q8_0_BLOCK * SRLM_Q8_0_BYTES : at * in_es);
        srlm_convert_to_f32(tmp, s, from, m);
        srlm_convert_from_f32((uint8_t *)dst + at * out_es, tmp, to, m);
    }
    return true;
}
