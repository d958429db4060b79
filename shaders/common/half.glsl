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
