/* safetensors_write.c: the safetensors writer (`__metadata__ {"format":"pt"}`, header
 * padded with spaces to 8 bytes, atomic temp-file + fsync + rename). Not the reader. */
#include "model/safetensors.h"

#include "model/atomic.h"
#include "model/dtype.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static uint64_t tensor_bytes(const srlm_st_write_tensor *t) {
    uint64_t n = 1;
    for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
    return n * srlm_dtype_size(t->dtype);
}

static srlm_status check_tensors(const char *path, const srlm_st_write_tensor *ts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const srlm_st_write_tensor *t = &ts[i];
        if (!t->name || !*t->name || !strcmp(t->name, "__metadata__"))
            return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor %zu has an empty or reserved name", path, i);
        if (t->dtype != SRLM_DTYPE_F32 && t->dtype != SRLM_DTYPE_F16 && t->dtype != SRLM_DTYPE_BF16)
            return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor '%s': dtype %s cannot be written to safetensors", path,
                               t->name, srlm_dtype_name(t->dtype));
        if (t->n_dims < 0 || t->n_dims > SRLM_ST_MAX_DIMS)
            return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor '%s': %d dimensions", path, t->name, t->n_dims);
        for (int d = 0; d < t->n_dims; d++)
            if (t->shape[d] < 0 || t->shape[d] > (1ll << 40))
                return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor '%s': bad shape[%d] = %lld", path, t->name, d, (long long)t->shape[d]);
        if (!t->data && !t->fill && tensor_bytes(t))
            return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor '%s' has neither data nor a fill function", path, t->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ts[j].name, t->name)) return srlm_errorf(SRLM_ERR_INVALID, "%s: tensor '%s' given twice", path, t->name);
    }
    return NULL;
}

/* Renders the header JSON (unpadded); caller frees with cJSON_free. */
static srlm_status build_header(const char *path, const srlm_st_write_tensor *ts, size_t n, const char *const *metadata,
                                char **out) {
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    int ok = root && meta && cJSON_AddStringToObject(meta, "format", "pt");
    for (size_t i = 0; ok && metadata && metadata[i] && metadata[i + 1]; i += 2)
        if (strcmp(metadata[i], "format")) ok = cJSON_AddStringToObject(meta, metadata[i], metadata[i + 1]) != NULL;
    uint64_t at = 0;
    for (size_t i = 0; ok && i < n; i++) {
        const srlm_st_write_tensor *t = &ts[i];
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *offs = e ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        ok = e && shape && offs && cJSON_AddStringToObject(e, "dtype", srlm_dtype_name(t->dtype));
        for (int d = 0; ok && d < t->n_dims; d++) ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        uint64_t nb = tensor_bytes(t);
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)at)) &&
             cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(at + nb)));
        at += nb;
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory building the header", path);
    *out = s;
    return NULL;
}

static srlm_status write_body(srlm_atomic_file *af, const char *path, const srlm_st_write_tensor *ts, size_t n) {
    void *buf = NULL;
    uint64_t cap = 0;
    srlm_status st = NULL;
    for (size_t i = 0; i < n && !st; i++) {
        const srlm_st_write_tensor *t = &ts[i];
        uint64_t nb = tensor_bytes(t);
        if (t->data) {
            st = srlm_atomic_write(af, t->data, (size_t)nb);
            continue;
        }
        if (!nb) continue;
        if (nb > cap) {
            free(buf);
            buf = malloc((size_t)nb);
            cap = buf ? nb : 0;
            if (!buf) { st = srlm_errorf(SRLM_ERR_OOM, "%s: out of memory for tensor '%s'", path, t->name); break; }
        }
        st = srlm_status_wrap(t->fill(t->ctx, t, buf, nb), "%s: tensor '%s': ", path, t->name);
        if (!st) st = srlm_atomic_write(af, buf, (size_t)nb);
    }
    free(buf);
    return st;
}

srlm_status srlm_safetensors_write(const char *path, const srlm_st_write_tensor *tensors, size_t n,
                                   const char *const *metadata) {
    SRLM_TRY(check_tensors(path, tensors, n));
    char *hdr = NULL;
    SRLM_TRY(build_header(path, tensors, n, metadata, &hdr));
    size_t hlen = strlen(hdr);
    size_t padded = (hlen + 7) / 8 * 8;
    uint64_t le = padded;
    srlm_atomic_file af;
    srlm_status st = srlm_atomic_begin(path, &af);
    if (st) { cJSON_free(hdr); return st; }
    static const char spaces[8] = "        ";
    st = srlm_atomic_write(&af, &le, 8);
    if (!st) st = srlm_atomic_write(&af, hdr, hlen);
    if (!st) st = srlm_atomic_write(&af, spaces, padded - hlen);
    cJSON_free(hdr);
    if (!st) st = write_body(&af, path, tensors, n);
    if (st) { srlm_atomic_abort(&af); return st; }
    return srlm_atomic_commit(&af);
}
