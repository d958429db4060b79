/* gguf.h: GGUF v2/v3 reader (memory-mapped, read-only): header, every metadata value type
 * (nested arrays included), tensor infos with bounds and overlap checks. Lookups return
 * views into the mapping, valid until srlm_gguf_destroy. Not a writer and not a model
 * loader: mapping GGUF architectures to srlm's config and tensor names is gguf_model.h. */
#ifndef SRLM_MODEL_GGUF_H
#define SRLM_MODEL_GGUF_H

#include "srlm.h"

#include <stdbool.h>

typedef struct srlm_gguf srlm_gguf;

/* Metadata value types, numbered as in the GGUF specification. */
typedef enum srlm_gguf_type {
    SRLM_GGUF_U8 = 0,
    SRLM_GGUF_I8 = 1,
    SRLM_GGUF_U16 = 2,
    SRLM_GGUF_I16 = 3,
    SRLM_GGUF_U32 = 4,
    SRLM_GGUF_I32 = 5,
    SRLM_GGUF_F32 = 6,
    SRLM_GGUF_BOOL = 7,
    SRLM_GGUF_STRING = 8,
    SRLM_GGUF_ARRAY = 9,
    SRLM_GGUF_U64 = 10,
    SRLM_GGUF_I64 = 11,
    SRLM_GGUF_F64 = 12,
} srlm_gguf_type;

/* ggml tensor types srlm reads. */
enum {
    SRLM_GGML_F32 = 0,
    SRLM_GGML_F16 = 1,
    SRLM_GGML_Q8_0 = 8,
    SRLM_GGML_BF16 = 30,
};

/* A view of one metadata value inside the mapping (already validated at open).
 *  scalar: data points at its little-endian bytes, n = 1.
 *  string: data points at the bytes (NOT NUL-terminated), n = byte length.
 *  array:  data points at the first element, n = element count, elem_type set. */
typedef struct srlm_gguf_value {
    srlm_gguf_type type;
    srlm_gguf_type elem_type; /* arrays only */
    const uint8_t *data;
    uint64_t n;
    /* Arrays of strings or arrays: byte offset of each element from data, so element i is
     * O(1). NULL for fixed-size elements and for arrays nested inside arrays (walked). */
    const uint64_t *offsets;
} srlm_gguf_value;

typedef struct srlm_gguf_kv {
    const char *key; /* NUL-terminated copy */
    srlm_gguf_value value;
} srlm_gguf_kv;

typedef struct srlm_gguf_tensor {
    const char *name;    /* NUL-terminated copy */
    uint32_t ggml_type;  /* SRLM_GGML_* */
    srlm_dtype dtype;    /* the same type as srlm_dtype */
    uint32_t n_dims;     /* 1..4 */
    uint64_t ne[4];      /* GGUF order: ne[0] is the fastest (columns); unused dims are 1 */
    uint64_t n_elements;
    uint64_t offset;     /* from the start of the data region */
    uint64_t nbytes;
    const void *data;    /* inside the mapping */
} srlm_gguf_tensor;

/* Opens and validates a GGUF file: magic, version 2 or 3, counts bounded by the file size,
 * every key and value (types known, strings and arrays inside the file, nested arrays),
 * `general.alignment` (a power of two, default 32), tensor infos (1-4 dims, known type
 * F32/F16/BF16/Q8_0, Q8_0 rows a multiple of 32, no duplicate names, offsets aligned,
 * data inside the file, no overlaps). Errors: SRLM_ERR_IO (cannot open), SRLM_ERR_FORMAT
 * naming the file and the key / tensor / byte offset, SRLM_ERR_UNSUPPORTED (version, tensor
 * type), SRLM_ERR_OOM. On error *out is NULL. */
srlm_status srlm_gguf_open(const char *path, srlm_gguf **out);
/* The same over caller-owned memory (kept alive by the caller until destroy); `name`
 * appears in messages. Used by the fuzz targets and tests. */
srlm_status srlm_gguf_open_memory(const void *data, size_t size, const char *name, srlm_gguf **out);
void srlm_gguf_destroy(srlm_gguf *g); /* accepts NULL */

const char *srlm_gguf_path(const srlm_gguf *g);
uint32_t srlm_gguf_version(const srlm_gguf *g);
uint32_t srlm_gguf_alignment(const srlm_gguf *g);

/* ---- metadata ---- */
size_t srlm_gguf_kv_count(const srlm_gguf *g);
const srlm_gguf_kv *srlm_gguf_kv_at(const srlm_gguf *g, size_t i);
/* NULL when the key is absent. */
const srlm_gguf_kv *srlm_gguf_find(const srlm_gguf *g, const char *key);
const char *srlm_gguf_type_name(srlm_gguf_type t);

/* Typed getters by key. Errors: SRLM_ERR_NOT_FOUND ("<file>: metadata key 'k' is missing"),
 * SRLM_ERR_FORMAT when the stored type does not convert (message names key and type).
 * Integers convert between any integer types when the value fits; f32 accepts F32 and F64. */
srlm_status srlm_gguf_get_str(const srlm_gguf *g, const char *key, const char **s, size_t *len);
/* Like get_str but returns a malloc'd NUL-terminated copy (caller frees); a string with an
 * embedded NUL is rejected. */
srlm_status srlm_gguf_get_str_dup(const srlm_gguf *g, const char *key, char **out);
srlm_status srlm_gguf_get_u32(const srlm_gguf *g, const char *key, uint32_t *v);
srlm_status srlm_gguf_get_i32(const srlm_gguf *g, const char *key, int32_t *v);
srlm_status srlm_gguf_get_u64(const srlm_gguf *g, const char *key, uint64_t *v);
srlm_status srlm_gguf_get_f32(const srlm_gguf *g, const char *key, float *v);
srlm_status srlm_gguf_get_bool(const srlm_gguf *g, const char *key, bool *v);
/* An array value. elem_type: the element type required, or -1 for any (for nested arrays
 * pass SRLM_GGUF_ARRAY). */
srlm_status srlm_gguf_get_array(const srlm_gguf *g, const char *key, int elem_type, srlm_gguf_value *arr);

/* Element i of an array value. They return false (and leave outputs untouched) when i is
 * out of range or the element type does not convert; no error object since callers loop
 * over 150k tokens and checked the type with srlm_gguf_get_array already. */
bool srlm_gguf_array_str(const srlm_gguf_value *arr, uint64_t i, const char **s, size_t *len);
bool srlm_gguf_array_f32(const srlm_gguf_value *arr, uint64_t i, float *v);  /* F32, F64 */
bool srlm_gguf_array_i64(const srlm_gguf_value *arr, uint64_t i, int64_t *v); /* any integer, bool */
bool srlm_gguf_array_elem(const srlm_gguf_value *arr, uint64_t i, srlm_gguf_value *elem);

/* Scalar conversions of a value view (the getters use them). */
bool srlm_gguf_value_i64(const srlm_gguf_value *v, int64_t *out);
bool srlm_gguf_value_u64(const srlm_gguf_value *v, uint64_t *out);
bool srlm_gguf_value_f64(const srlm_gguf_value *v, double *out);

/* ---- tensors ---- */
size_t srlm_gguf_tensor_count(const srlm_gguf *g);
const srlm_gguf_tensor *srlm_gguf_tensor_at(const srlm_gguf *g, size_t i);
/* NULL when absent. */
const srlm_gguf_tensor *srlm_gguf_find_tensor(const srlm_gguf *g, const char *name);
/* ggml type name ("F32", "Q4_K", ...) or "type N" for unknown numbers (static buffer not
 * used: unknown types return "unknown"). */
const char *srlm_ggml_type_name(uint32_t t);

#endif
