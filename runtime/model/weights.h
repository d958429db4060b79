/* weights.h: one way to open a model's weights whatever the file format: a Hugging Face
 * folder (config.json + model.safetensors or shards with model.safetensors.index.json) or a
 * .gguf file. Gives the config and every tensor the config implies, by HF name, with dtype,
 * shape and a pointer into the read-only mapping. Not the device upload (someone else's). */
#ifndef SRLM_MODEL_WEIGHTS_H
#define SRLM_MODEL_WEIGHTS_H

#include "model/config.h"
#include "model/gguf.h"

typedef struct srlm_weights srlm_weights;

typedef enum srlm_weights_format {
    SRLM_WEIGHTS_HF = 0,
    SRLM_WEIGHTS_GGUF = 1,
} srlm_weights_format;

typedef struct srlm_weight {
    const char *name;        /* HF name (model.layers.0.self_attn.q_proj.weight) */
    const char *file_name;   /* name inside the file (GGUF: blk.0.attn_q.weight) */
    const char *file;        /* path of the file that holds it */
    srlm_dtype dtype;        /* F32, F16, BF16, or Q8_0 (GGUF only) */
    int n_dims;              /* 1 or 2 */
    int64_t shape[2];        /* HF order: [rows, cols]; GGUF's ne reversed */
    uint64_t n_elements;
    uint64_t nbytes;
    const void *data;        /* row-major, rows of shape[1] elements (Q8_0: 34-byte blocks) */
} srlm_weight;

/* Opens `path`: a folder (HF) or a file ending in .gguf. Reads the config, maps every file
 * read-only and checks that every tensor the config implies (srlm_model_tensor_spec) is
 * present with exactly that shape. Other tensors in the files are ignored (lm_head of a
 * tied model, rotary caches). Errors: SRLM_ERR_IO / SRLM_ERR_NOT_FOUND (missing file),
 * SRLM_ERR_FORMAT / SRLM_ERR_UNSUPPORTED from the readers, SRLM_ERR_NOT_FOUND naming a
 * missing tensor, SRLM_ERR_FORMAT naming a tensor with the wrong shape and both shapes. */
srlm_status srlm_weights_open(const char *path, srlm_weights **out);
void srlm_weights_destroy(srlm_weights *w); /* accepts NULL */

const srlm_model_config *srlm_weights_config(const srlm_weights *w);
srlm_weights_format srlm_weights_format_of(const srlm_weights *w);
const char *srlm_weights_path(const srlm_weights *w);
/* The GGUF file (for its tokenizer metadata) or NULL for HF folders. Owned by w. */
const srlm_gguf *srlm_weights_gguf(const srlm_weights *w);

/* The expected tensors, in srlm_model_tensor_spec order. */
size_t srlm_weights_count(const srlm_weights *w);
const srlm_weight *srlm_weights_at(const srlm_weights *w, size_t i);
/* By HF name; NULL when absent. */
const srlm_weight *srlm_weights_find(const srlm_weights *w, const char *name);
/* By HF name; SRLM_ERR_NOT_FOUND naming the tensor and the model path when absent. */
srlm_status srlm_weights_get(const srlm_weights *w, const char *name, const srlm_weight **out);

/* Converts a whole tensor to f32 into dst (n_elements floats): F16/BF16 widened, Q8_0
 * dequantised, F32 copied. */
void srlm_weight_to_f32(const srlm_weight *t, float *dst);
/* Converts a whole tensor to a dense storage dtype (F32, F16, BF16; n_elements values into
 * dst), rounding to nearest even: the "convert to the storage dtype" step of loading.
 * SRLM_ERR_INVALID for a Q8_0 destination. */
srlm_status srlm_weight_convert(const srlm_weight *t, srlm_dtype to, void *dst);

#endif
