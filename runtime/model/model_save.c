/* model_save.c: writes a device model's tensors as a Hugging Face safetensors file (HF
 * names, `__metadata__ {"format":"pt"}`), reading each tensor back from the device while the
 * file is written, so the host never holds the whole model. Not checkpoint folders
 * (train/checkpoint.c) nor config.json (config.c). */
#include "model/dtype.h"
#include "model/model.h"
#include "model/safetensors.h"

#include <stdlib.h>
#include <string.h>

typedef struct save_src {
    srlm_model *m;
    size_t index;
    srlm_dtype stored, to;
} save_src;

#define SAVE_CHUNK (1u << 22) /* elements read back per pass */

static srlm_status fill_tensor(void *ctx, const srlm_st_write_tensor *t, void *dst, uint64_t nbytes) {
    const save_src *s = ctx;
    srlm_buf *b = srlm_model_tensor(s->m, s->index);
    size_t in_sz = s->stored == SRLM_DTYPE_F32 ? 4 : 2, out_sz = srlm_dtype_size(s->to);
    uint64_t n = nbytes / out_sz;
    if (s->stored == s->to) return srlm_buf_read(s->m->ctx, *b, 0, dst, nbytes);
    float *tmp = malloc(SAVE_CHUNK * sizeof(float));
    void *raw = malloc(SAVE_CHUNK * in_sz);
    srlm_status st = tmp && raw ? NULL : srlm_errorf(SRLM_ERR_OOM, "out of host memory saving %s", t->name);
    for (uint64_t off = 0; !st && off < n; off += SAVE_CHUNK) {
        uint64_t k = n - off < SAVE_CHUNK ? n - off : SAVE_CHUNK;
        st = srlm_buf_read(s->m->ctx, *b, off * in_sz, raw, k * in_sz);
        if (st) break;
        srlm_convert_to_f32(tmp, raw, s->stored, k);
        srlm_convert_from_f32((uint8_t *)dst + off * out_sz, tmp, s->to, k);
    }
    free(tmp);
    free(raw);
    return st;
}

srlm_status srlm_model_save_safetensors(srlm_model *m, const char *path, srlm_dtype dtype) {
    if (dtype != SRLM_DTYPE_F32 && dtype != SRLM_DTYPE_F16 && dtype != SRLM_DTYPE_BF16)
        return srlm_errorf(SRLM_ERR_INVALID, "%s: weights are saved as f32, f16 or bf16", path);
    size_t n = srlm_model_tensor_count(&m->cfg);
    srlm_st_write_tensor *ts = calloc(n, sizeof *ts);
    save_src *src = calloc(n, sizeof *src);
    srlm_tensor_spec *spec = calloc(n, sizeof *spec);
    srlm_status st = ts && src && spec ? NULL : srlm_errorf(SRLM_ERR_OOM, "out of host memory saving %s", path);
    for (size_t i = 0; !st && i < n; i++) {
        srlm_model_tensor_spec(&m->cfg, i, &spec[i]);
        src[i] = (save_src){.m = m, .index = i, .stored = spec[i].n_dims == 2 ? m->wdtype : SRLM_DTYPE_F32, .to = dtype};
        ts[i].name = spec[i].name;
        ts[i].dtype = dtype;
        ts[i].n_dims = spec[i].n_dims;
        ts[i].shape[0] = spec[i].shape[0];
        if (spec[i].n_dims == 2) ts[i].shape[1] = spec[i].shape[1];
        ts[i].fill = fill_tensor;
        ts[i].ctx = &src[i];
    }
    if (!st) st = srlm_safetensors_write(path, ts, n, NULL);
    free(ts), free(src), free(spec);
    return st;
}
