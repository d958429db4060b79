/* safetensors.h: reader (memory-mapped, read-only, every header field validated) and
 * atomic writer for the safetensors format: u64 header length, JSON header, raw data.
 * One file only; sharded folders (model.safetensors.index.json) are handled by weights.h.
 * Not a converter: dtype conversion helpers are in dtype.h. */
#ifndef SRLM_MODEL_SAFETENSORS_H
#define SRLM_MODEL_SAFETENSORS_H

#include "srlm.h"

#define SRLM_ST_MAX_DIMS 8
/* Header larger than this is refused (the reference implementation's limit too). */
#define SRLM_ST_MAX_HEADER (100u << 20)

typedef struct srlm_safetensors srlm_safetensors;

typedef struct srlm_st_tensor {
    const char *name;          /* NUL-terminated copy */
    srlm_dtype dtype;          /* F32, F16 or BF16 */
    int n_dims;                /* 0..8 (0: scalar) */
    int64_t shape[SRLM_ST_MAX_DIMS];
    uint64_t n_elements;
    uint64_t begin, end;       /* data_offsets, relative to the data region */
    uint64_t nbytes;           /* end - begin == n_elements * dtype size */
    const void *data;          /* inside the mapping */
} srlm_st_tensor;

/* Opens and validates a safetensors file: 8-byte header length within the file and at most
 * SRLM_ST_MAX_HEADER, header valid JSON object (trailing spaces allowed, nothing else),
 * optional `__metadata__` object of strings, every other entry an object with `dtype`
 * (F32/F16/BF16; other dtypes are refused naming the tensor and dtype), `shape` (non-negative
 * integers, at most 8 dims) and `data_offsets` [begin, end] inside the data region, byte
 * length == product(shape) * dtype size, no duplicate names, and tensors covering the data
 * region with neither overlaps nor holes. Errors: SRLM_ERR_IO, SRLM_ERR_FORMAT and
 * SRLM_ERR_UNSUPPORTED with messages naming the file and tensor; SRLM_ERR_OOM. */
srlm_status srlm_safetensors_open(const char *path, srlm_safetensors **out);
/* The same over caller-owned memory (alive until destroy); `name` is used in messages. */
srlm_status srlm_safetensors_open_memory(const void *data, size_t size, const char *name, srlm_safetensors **out);
void srlm_safetensors_destroy(srlm_safetensors *f); /* accepts NULL */

const char *srlm_safetensors_path(const srlm_safetensors *f);
size_t srlm_safetensors_count(const srlm_safetensors *f);
/* Tensors in header order. */
const srlm_st_tensor *srlm_safetensors_at(const srlm_safetensors *f, size_t i);
/* NULL when absent. */
const srlm_st_tensor *srlm_safetensors_find(const srlm_safetensors *f, const char *name);
/* A `__metadata__` value, or NULL when absent. */
const char *srlm_safetensors_metadata(const srlm_safetensors *f, const char *key);

/* ---- writer ---- */
typedef struct srlm_st_write_tensor srlm_st_write_tensor;
/* Produces a tensor's nbytes of data into dst (for writers that generate or convert data
 * tensor by tensor instead of holding a whole model in memory). */
typedef srlm_status (*srlm_st_fill_fn)(void *ctx, const srlm_st_write_tensor *t, void *dst, uint64_t nbytes);

struct srlm_st_write_tensor {
    const char *name;
    srlm_dtype dtype;            /* F32, F16, BF16 */
    int n_dims;
    int64_t shape[SRLM_ST_MAX_DIMS];
    const void *data;            /* the bytes, or NULL to use fill */
    srlm_st_fill_fn fill;
    void *ctx;
};

/* Writes tensors (in the given order, contiguous) to `path` with
 * `__metadata__ {"format":"pt"}` plus the optional `metadata` pairs (NULL-terminated list
 * key, value, key, value, ..., NULL; may be NULL), header padded with spaces to a multiple
 * of 8. Written to a temporary name in the same folder, fsynced, renamed: on error no file
 * (partial or temporary) is left. Errors: SRLM_ERR_INVALID (duplicate or empty name, bad
 * dtype or shape), SRLM_ERR_IO, SRLM_ERR_OOM, or what a fill callback returns. */
srlm_status srlm_safetensors_write(const char *path, const srlm_st_write_tensor *tensors, size_t n,
                                   const char *const *metadata);

#endif
