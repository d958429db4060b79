// half.glsl: f16 / bf16 bits in uint words (two per word, element 0 in the low half), so no
// shaderFloat16 or 16-bit storage is needed. f32 -> f16 is done on the bits with round to
// nearest, ties to even, because packHalf2x16's rounding is implementation-defined; the
// result equals srlm_ref_f32_to_f16 bit for bit (subnormals, overflow to inf, NaN payloads).

uint f32_to_f16_bits(float x) {
  uint u = floatBitsToUint(x);
  uint sgn = (u >> 16) & 0x8000u;
  uint a = u & 0x7fffffffu;
  if (a > 0x7f800000u) {  // NaN: keep the top 10 payload bits (every f16 NaN round-trips);
    uint m = (a >> 13) & 0x3ffu;  // if they are all zero, set the quiet bit (else it reads as inf)
    return sgn | 0x7c00u | (m != 0u ? m : 0x200u);
  }
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
// Names used by the attention shaders.
uint f32_to_f16_rne(float f) { return f32_to_f16_bits(f); }
uint pack_f16x2_rne(float lo, float hi) { return f32_to_f16_bits(lo) | (f32_to_f16_bits(hi) << 16); }
