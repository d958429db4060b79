/* weights.c: the format-independent view of a model's weights (HF folder with one or many
 * safetensors files, or a GGUF file), checked against the tensors its config implies. */
#include "model/weights.h"

#include "model/dtype.h"
#include "model/gguf_model.h"
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct srlm_weights {
    srlm_weights_format format;
    char *path;
    srlm_model_config cfg;
    srlm_gguf *gguf;
    srlm_safetensors **shards;
    size_t n_shards;
    srlm_tensor_spec *specs;
    srlm_weight *w;
    size_t n;
};

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void shape_str(char *buf, size_t cap, int n_dims, const int64_t *shape) {
    size_t at = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < n_dims && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (at < cap) snprintf(buf + at, cap - at, "]");
}

/* `alias` is the tensor's name inside the file when it differs (GGUF), else NULL. */
static srlm_status shape_mismatch(const char *file, const srlm_tensor_spec *s, const char *alias, int n_dims,
                                  const int64_t *shape) {
    char got[96], want[96];
    shape_str(got, sizeof got, n_dims, shape);
    shape_str(want, sizeof want, s->n_dims, s->shape);
    return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s'%s%s%s has shape %s but the config implies %s", file, s->name,
                       alias ? " (" : "", alias ? alias : "", alias ? ")" : "", got, want);
}

static bool same_shape(const srlm_tensor_spec *s, int n_dims, const int64_t *shape) {
    if (n_dims != s->n_dims) return false;
    for (int d = 0; d < n_dims; d++)
        if (shape[d] != s->shape[d]) return false;
    return true;
}

/* Reads model.safetensors.index.json and opens every shard it names. */
static srlm_status open_index(srlm_weights *w, const char *index_path) {
    FILE *f = fopen(index_path, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "%s: cannot open: %s", index_path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0 || sz > (64l << 20)) { fclose(f); return srlm_errorf(SRLM_ERR_FORMAT, "%s: unreasonable size", index_path); }
    char *buf = malloc((size_t)sz + 1);
    size_t got = buf ? fread(buf, 1, (size_t)sz, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)sz) { free(buf); return srlm_errorf(SRLM_ERR_IO, "%s: read failed", index_path); }
    cJSON *root = cJSON_ParseWithLength(buf, (size_t)sz);
    free(buf);
    if (!root) return srlm_errorf(SRLM_ERR_FORMAT, "%s: invalid JSON", index_path);
    srlm_status st = NULL;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    size_t n = st ? 0 : (size_t)cJSON_GetArraySize(map);
    w->shards = calloc(n ? n : 1, sizeof *w->shards);
    if (!st && !w->shards) st = srlm_errorf(SRLM_ERR_OOM, "out of memory");
    for (const cJSON *e = st ? NULL : map->child; e && !st; e = e->next) {
        if (!cJSON_IsString(e)) { st = srlm_errorf(SRLM_ERR_FORMAT, "%s: weight_map[\"%s\"] is not a string", index_path, e->string); break; }
        const char *fname = e->valuestring;
        if (!*fname || strchr(fname, '/') || !strcmp(fname, "..") || !strcmp(fname, ".")) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: weight_map[\"%s\"] names '%s', not a file in the folder", index_path, e->string, fname);
            break;
        }
        char *fp = join(w->path, fname);
        if (!fp) { st = srlm_errorf(SRLM_ERR_OOM, "out of memory"); break; }
        srlm_safetensors *shard = NULL;
        for (size_t i = 0; i < w->n_shards && !shard; i++)
            if (!strcmp(srlm_safetensors_path(w->shards[i]), fp)) shard = w->shards[i];
        if (!shard) {
            st = srlm_safetensors_open(fp, &shard);
            if (!st) w->shards[w->n_shards++] = shard;
        }
        free(fp);
        if (!st && !srlm_safetensors_find(shard, e->string))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s' is listed in %s but %s does not hold it", index_path, e->string,
                             fname, srlm_safetensors_path(shard));
    }
    cJSON_Delete(root);
    if (!st && w->n_shards == 0) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: weight_map is empty", index_path);
    return st;
}

static srlm_status open_hf(srlm_weights *w) {
    char *single = join(w->path, "model.safetensors");
    char *index = join(w->path, "model.safetensors.index.json");
    srlm_status st = NULL;
    if (!single || !index) st = srlm_errorf(SRLM_ERR_OOM, "out of memory");
    if (!st) {
        if (file_exists(index)) {
            st = open_index(w, index);
        } else if (file_exists(single)) {
            w->shards = calloc(1, sizeof *w->shards);
            st = w->shards ? srlm_safetensors_open(single, &w->shards[0]) : srlm_errorf(SRLM_ERR_OOM, "out of memory");
            if (!st) w->n_shards = 1;
        } else {
            st = srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: no model.safetensors or model.safetensors.index.json in the model folder", w->path);
        }
    }
    /* A tensor in two shards would make the weights ambiguous. */
    for (size_t i = 0; !st && i < w->n_shards; i++)
        for (size_t k = 0; !st && k < srlm_safetensors_count(w->shards[i]); k++) {
            const srlm_st_tensor *t = srlm_safetensors_at(w->shards[i], k);
            for (size_t j = i + 1; !st && j < w->n_shards; j++)
                if (srlm_safetensors_find(w->shards[j], t->name))
                    st = srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s' is in both %s and %s", w->path, t->name,
                                     srlm_safetensors_path(w->shards[i]), srlm_safetensors_path(w->shards[j]));
        }
    free(single);
    free(index);
    if (st) return st;
    for (size_t i = 0; i < w->n; i++) {
        const srlm_tensor_spec *s = &w->specs[i];
        const srlm_st_tensor *t = NULL;
        const srlm_safetensors *holder = NULL;
        for (size_t j = 0; j < w->n_shards && !t; j++)
            if ((t = srlm_safetensors_find(w->shards[j], s->name))) holder = w->shards[j];
        if (!t) {
            char want[96];
            shape_str(want, sizeof want, s->n_dims, s->shape);
            return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: tensor '%s' (shape %s) is missing", w->path, s->name, want);
        }
        if (!same_shape(s, t->n_dims, t->shape)) return shape_mismatch(srlm_safetensors_path(holder), s, NULL, t->n_dims, t->shape);
        srlm_weight *o = &w->w[i];
        o->name = s->name;
        o->file_name = t->name;
        o->file = srlm_safetensors_path(holder);
        o->dtype = t->dtype;
        o->n_dims = t->n_dims;
        o->shape[0] = t->shape[0];
        o->shape[1] = t->n_dims == 2 ? t->shape[1] : 0;
        o->n_elements = t->n_elements;
        o->nbytes = t->nbytes;
        o->data = t->data;
    }
    return NULL;
}

static srlm_status open_gguf(srlm_weights *w) {
    SRLM_TRY(srlm_gguf_open(w->path, &w->gguf));
    SRLM_TRY(srlm_gguf_model_config(w->gguf, &w->cfg));
    return NULL;
}

static srlm_status map_gguf_tensors(srlm_weights *w) {
    for (size_t i = 0; i < w->n; i++) {
        const srlm_tensor_spec *s = &w->specs[i];
        char gname[128];
        if (!srlm_hf_name_to_gguf(s->name, gname, sizeof gname))
            return srlm_errorf(SRLM_ERR_INVALID, "%s: no GGUF name for tensor '%s'", w->path, s->name);
        const srlm_gguf_tensor *t = srlm_gguf_find_tensor(w->gguf, gname);
        if (!t) {
            char want[96];
            shape_str(want, sizeof want, s->n_dims, s->shape);
            return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: tensor '%s' (%s, shape %s) is missing", w->path, gname, s->name,
                               want);
        }
        int64_t shape[4];
        for (uint32_t d = 0; d < t->n_dims; d++) shape[d] = (int64_t)t->ne[t->n_dims - 1 - d]; /* GGUF is fastest-first */
        if (!same_shape(s, (int)t->n_dims, shape)) return shape_mismatch(w->path, s, t->name, (int)t->n_dims, shape);
        srlm_weight *o = &w->w[i];
        o->name = s->name;
        o->file_name = t->name;
        o->file = srlm_gguf_path(w->gguf);
        o->dtype = t->dtype;
        o->n_dims = (int)t->n_dims;
        o->shape[0] = shape[0];
        o->shape[1] = t->n_dims == 2 ? shape[1] : 0;
        o->n_elements = t->n_elements;
        o->nbytes = t->nbytes;
        o->data = t->data;
    }
    return NULL;
}

static srlm_status alloc_specs(srlm_weights *w) {
    w->n = srlm_model_tensor_count(&w->cfg);
    w->specs = calloc(w->n, sizeof *w->specs);
    w->w = calloc(w->n, sizeof *w->w);
    if (!w->specs || !w->w) return srlm_errorf(SRLM_ERR_OOM, "out of memory");
    for (size_t i = 0; i < w->n; i++) srlm_model_tensor_spec(&w->cfg, i, &w->specs[i]);
    return NULL;
}

static srlm_status open_any(srlm_weights *w) {
    struct stat st;
    if (stat(w->path, &st) != 0) return srlm_errorf(SRLM_ERR_IO, "%s: %s", w->path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        w->format = SRLM_WEIGHTS_HF;
        char *cfg = join(w->path, "config.json");
        if (!cfg) return srlm_errorf(SRLM_ERR_OOM, "out of memory");
        srlm_status s = file_exists(cfg) ? srlm_model_config_load(cfg, &w->cfg)
                                          : srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: no config.json in the model folder", w->path);
        free(cfg);
        SRLM_TRY(s);
        SRLM_TRY(alloc_specs(w));
        return open_hf(w);
    }
    size_t len = strlen(w->path);
    if (len >= 5 && !strcmp(w->path + len - 5, ".gguf")) {
        w->format = SRLM_WEIGHTS_GGUF;
        SRLM_TRY(open_gguf(w));
        SRLM_TRY(alloc_specs(w));
        return map_gguf_tensors(w);
    }
    return srlm_errorf(SRLM_ERR_INVALID, "%s: not a model folder or a .gguf file", w->path);
}

srlm_status srlm_weights_open(const char *path, srlm_weights **out) {
    *out = NULL;
    srlm_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) { free(w); return srlm_errorf(SRLM_ERR_OOM, "out of memory"); }
    size_t len = strlen(w->path);
    while (len > 1 && w->path[len - 1] == '/') w->path[--len] = 0;
    srlm_status st = open_any(w);
    if (st) { srlm_weights_destroy(w); return st; }
    *out = w;
    return NULL;
}

void srlm_weights_destroy(srlm_weights *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_shards; i++) srlm_safetensors_destroy(w->shards[i]);
    free(w->shards);
    srlm_gguf_destroy(w->gguf);
    free(w->specs);
    free(w->w);
    free(w->path);
    free(w);
}

const srlm_model_config *srlm_weights_config(const srlm_weights *w) { return &w->cfg; }
srlm_weights_format srlm_weights_format_of(const srlm_weights *w) { return w->format; }
const char *srlm_weights_path(const srlm_weights *w) { return w->path; }
const srlm_gguf *srlm_weights_gguf(const srlm_weights *w) { return w->gguf; }
size_t srlm_weights_count(const srlm_weights *w) { return w->n; }
const srlm_weight *srlm_weights_at(const srlm_weights *w, size_t i) { return i < w->n ? &w->w[i] : NULL; }

const srlm_weight *srlm_weights_find(const srlm_weights *w, const char *name) {
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->w[i].name, name)) return &w->w[i];
    return NULL;
}

srlm_status srlm_weights_get(const srlm_weights *w, const char *name, const srlm_weight **out) {
    *out = srlm_weights_find(w, name);
    if (!*out) return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: no tensor '%s'", w->path, name);
    return NULL;
}

void srlm_weight_to_f32(const srlm_weight *t, float *dst) {
    srlm_convert_to_f32(dst, t->data, t->dtype, (size_t)t->n_elements);
}

srlm_status srlm_weight_convert(const srlm_weight *t, srlm_dtype to, void *dst) {
    if (!srlm_convert(dst, to, t->data, t->dtype, (size_t)t->n_elements))
        return srlm_errorf(SRLM_ERR_INVALID, "tensor '%s': cannot convert to %s", t->name, srlm_dtype_name(to));
    return NULL;
}
