/* dtype.h: element types of stored weights and exact scalar conversions between f32, f16
 * and bf16 (round to nearest even). Pure C bit manipulation, no hardware F16C, so results
 * are identical on every host. Not a tensor library. */
#ifndef SRLM_MODEL_DTYPE_H
#define SRLM_MODEL_DTYPE_H

#include "srlm.h"

#include <stdbool.h>

/* Bytes per element of a dense dtype (F32 4, F16/BF16 2); 0 for block types (Q8_0). */
size_t srlm_dtype_size(srlm_dtype t);
/* srlm_dtype_name and srlm_dtype_parse are public (srlm.h). */
/* The `torch_dtype` string of config.json: "float32", "float16", "bfloat16". */
const char *srlm_dtype_torch_name(srlm_dtype t);

/* IEEE binary16 <-> binary32. f32->f16 rounds to nearest even, overflows to inf, keeps the
 * sign of zero and of NaN and keeps NaN a NaN (payload truncated, never turned into inf). */
float srlm_f16_to_f32(uint16_t h);
uint16_t srlm_f32_to_f16(float f);
/* bfloat16 <-> binary32. f32->bf16 rounds to nearest even; NaN stays NaN (quieted). */
float srlm_bf16_to_f32(uint16_t h);
uint16_t srlm_f32_to_bf16(float f);

/* Converts n elements of src (dtype `from`, dense only) to f32. */
void srlm_convert_to_f32(float *dst, const void *src, srlm_dtype from, size_t n);
/* Converts n f32 values to `to` (dense only), rounding to nearest even. */
void srlm_convert_from_f32(void *dst, const float *src, srlm_dtype to, size_t n);

/* Converts n elements from any dtype (Q8_0 included, n a multiple of 32 then) to a dense
 * dtype (F32, F16, BF16), through f32, rounding to nearest even: e.g. bf16 -> f16 storage.
 * Same-type copies are memmove. Returns false for a Q8_0 destination (not offered). */
bool srlm_convert(void *dst, srlm_dtype to, const void *src, srlm_dtype from, size_t n);

/* Q8_0: blocks of 32 values, each an f16 scale d followed by 32 int8 q; x = d * q. */
#define SRLM_Q8_0_BLOCK 32
#define SRLM_Q8_0_BYTES 34
/* Dequantises n values (n a multiple of 32) from Q8_0 blocks to f32. */
void srlm_dequantize_q8_0(float *dst, const void *src, size_t n);

#endif
