// half.glsl: f16 / bf16 bits in uint words (two per word, element 0 in the low half), so no
// shaderFloat16 or 16-bit storage is needed. f32 -> f16 is done on the bits with round to
// nearest, ties to even, because packHalf2x16's rounding is implementation-defined; the
// result equals srlm_ref_f32_to_f16 bit for bit (subnormals, overflow to inf, quiet NaN).

uint f32_to_f16_bits(float x) {
  uint u = floatBitsToUint(x);
  uint sgn = (u >> 16) & 0x8000u;
  uint a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sgn | 0x7e00u | ((a >> 13) & 0x3ffu);  // NaN, quiet
  if (a >= 0x477ff000u) return sgn | 0x7c00u;                       // rounds to >= 65536: inf
  if (a >= 0x38800000u) {                                           // normal f16
    uint r = a - (112u << 23);
    r += 0xfffu + ((r >> 13) & 1u);
    return sgn | (r >> 13);
  }
  if (a <= 0x33000000u) return sgn;                                 // <= 2^-25: signed zero
  uint e = a >> 23;                                                 // subnormal f16
  uint mant = (a & 0x7fffffu) | 0x800000u;
  uint s = 126u - e;
  uint q = mant >> s, rem = mant & ((1u << s) - 1u), half_ = 1u << (s - 1u);
  if (rem > half_ || (rem == half_ && (q & 1u) != 0u)) q++;
  return sgn | q;
}

// f16 element i of a uint-word array: unpackHalf2x16 is exact (core GLSL, no extension).
#define F16_AT(arr, i) (unpackHalf2x16(arr[(i) >> 1])[(i) & 1u])
// half.glsl: f32 -> f16 bits with round-to-nearest-even in integer arithmetic, because
// packHalf2x16's rounding mode is left to the implementation. Overflow gives +-inf; values
// below the normal range become subnormals or signed zero; NaN stays a quiet NaN with its
// sign and top payload bits. f16 -> f32 uses unpackHalf2x16 (exact on every device).
uint f32_to_f16_rne(float f) {
  uint x = floatBitsToUint(f);
  uint sign = (x >> 16) & 0x8000u;
  uint e = (x >> 23) & 0xffu;
  uint m = x & 0x7fffffu;
  if (e == 0xffu) return sign | 0x7c00u | (m != 0u ? (0x200u | (m >> 13)) : 0u);
  int ee = int(e) - 112; // f16 biased exponent
  if (ee >= 31) return sign | 0x7c00u;
  if (ee <= 0) {
    if (ee < -10) return sign;
    m |= 0x800000u;
    uint shift = uint(14 - ee);
    uint h = m >> shift;
    uint rem = m & ((1u << shift) - 1u);
    uint halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (h & 1u) != 0u)) h++;
    return sign | h;
  }
  uint h = (uint(ee) << 10) | (m >> 13);
  uint rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) h++; // a carry may reach inf: right
  return sign | h;
}

uint pack_f16x2_rne(float lo, float hi) { return f32_to_f16_rne(lo) | (f32_to_f16_rne(hi) << 16); }
