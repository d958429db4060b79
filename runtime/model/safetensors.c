/* safetensors.c: validated memory-mapped reading and atomic writing of safetensors files.
 * The header is parsed with cJSON; every number and offset is range-checked before use so
 * a hostile file cannot make us read outside the mapping. */
#include "model/safetensors.h"

#include "model/atomic.h"
#include "model/dtype.h"
#include "model/mapfile.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct srlm_safetensors {
    srlm_mapfile mf;
    uint64_t data_start;        /* 8 + header length */
    size_t n;
    srlm_st_tensor *tensors;
    size_t *by_name;            /* indices sorted by name */
    size_t n_meta;
    char **meta;                /* key, value pairs */
};

static int cmp_name(const void *a, const void *b, void *ctx) {
    const srlm_safetensors *f = ctx;
    return strcmp(f->tensors[*(const size_t *)a].name, f->tensors[*(const size_t *)b].name);
}

static int cmp_begin(const void *a, const void *b, void *ctx) {
    const srlm_safetensors *f = ctx;
    const srlm_st_tensor *x = &f->tensors[*(const size_t *)a], *y = &f->tensors[*(const size_t *)b];
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_u64(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = cJSON_GetNumberValue(v);
    if (!(d >= 0) || d != floor(d) || d >= 9007199254740992.0) return 0;
    *out = (uint64_t)d;
    return 1;
}

static srlm_status parse_dtype(const srlm_safetensors *f, const char *name, const cJSON *v, srlm_dtype *out) {
    if (!cJSON_IsString(v))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': \"dtype\" missing or not a string", f->mf.path, name);
    const char *s = v->valuestring;
    if (!strcmp(s, "F32")) *out = SRLM_DTYPE_F32;
    else if (!strcmp(s, "F16")) *out = SRLM_DTYPE_F16;
    else if (!strcmp(s, "BF16")) *out = SRLM_DTYPE_BF16;
    else
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %.32s; srlm reads F32, F16 and BF16",
                           f->mf.path, name, s);
    return NULL;
}

static srlm_status parse_tensor(srlm_safetensors *f, const cJSON *item, srlm_st_tensor *t) {
    const char *name = item->string;
    char *copy = strdup(name);
    if (!copy) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", f->mf.path);
    t->name = copy;
    if (!*name) return srlm_errorf(SRLM_ERR_FORMAT, "%s: a tensor has an empty name", f->mf.path);
    if (!cJSON_IsObject(item)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': entry is not an object", f->mf.path, name);
    SRLM_TRY(parse_dtype(f, name, cJSON_GetObjectItemCaseSensitive(item, "dtype"), &t->dtype));
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!cJSON_IsArray(shape))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': \"shape\" missing or not a list", f->mf.path, name);
    int nd = cJSON_GetArraySize(shape);
    if (nd > SRLM_ST_MAX_DIMS)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dimensions (at most %d)", f->mf.path, name, nd, SRLM_ST_MAX_DIMS);
    t->n_dims = nd;
    uint64_t n = 1;
    int zero = 0;
    const cJSON *d;
    int k = 0;
    cJSON_ArrayForEach(d, shape) {
        uint64_t v;
        if (!json_u64(d, &v))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", f->mf.path, name, k);
        t->shape[k++] = (int64_t)v;
        if (v == 0) zero = 1;
        else if (!zero) {
            if (n > (1ull << 53) / v)
                return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': shape product overflows", f->mf.path, name);
            n *= v;
        }
    }
    t->n_elements = zero ? 0 : n;
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || !json_u64(cJSON_GetArrayItem(offs, 0), &t->begin) ||
        !json_u64(cJSON_GetArrayItem(offs, 1), &t->end))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': \"data_offsets\" must be [begin, end] integers", f->mf.path, name);
    for (const cJSON *c = item->child; c; c = c->next)
        if (strcmp(c->string, "dtype") && strcmp(c->string, "shape") && strcmp(c->string, "data_offsets"))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': unexpected field \"%.64s\"", f->mf.path, name, c->string);
    uint64_t region = f->mf.size - f->data_start;
    if (t->begin > t->end || t->end > region)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] outside the data region of %llu bytes",
                           f->mf.path, name, (unsigned long long)t->begin, (unsigned long long)t->end,
                           (unsigned long long)region);
    t->nbytes = t->end - t->begin;
    uint64_t want = t->n_elements * srlm_dtype_size(t->dtype);
    if (t->nbytes != want)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': %llu bytes for %llu %s elements (expected %llu)", f->mf.path,
                           name, (unsigned long long)t->nbytes, (unsigned long long)t->n_elements,
                           srlm_dtype_name(t->dtype), (unsigned long long)want);
    t->data = f->mf.data + f->data_start + t->begin;
    return NULL;
}

static srlm_status parse_metadata(srlm_safetensors *f, const cJSON *m) {
    if (!cJSON_IsObject(m)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: __metadata__ is not an object", f->mf.path);
    size_t n = (size_t)cJSON_GetArraySize(m);
    f->meta = calloc(2 * n + 1, sizeof *f->meta);
    if (!f->meta) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", f->mf.path);
    const cJSON *v;
    cJSON_ArrayForEach(v, m) {
        if (!cJSON_IsString(v))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: __metadata__ value of \"%.64s\" is not a string", f->mf.path, v->string);
        f->meta[2 * f->n_meta] = strdup(v->string);
        f->meta[2 * f->n_meta + 1] = strdup(v->valuestring);
        f->n_meta++;
        if (!f->meta[2 * f->n_meta - 2] || !f->meta[2 * f->n_meta - 1]) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", f->mf.path);
    }
    return NULL;
}

static srlm_status check_layout(srlm_safetensors *f) {
    for (size_t i = 0; i < f->n; i++) f->by_name[i] = i;
    qsort_r(f->by_name, f->n, sizeof(size_t), cmp_name, f);
    for (size_t i = 1; i < f->n; i++)
        if (!strcmp(f->tensors[f->by_name[i]].name, f->tensors[f->by_name[i - 1]].name))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s' appears twice", f->mf.path, f->tensors[f->by_name[i]].name);
    size_t *order = malloc((f->n ? f->n : 1) * sizeof *order);
    if (!order) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", f->mf.path);
    for (size_t i = 0; i < f->n; i++) order[i] = i;
    qsort_r(order, f->n, sizeof *order, cmp_begin, f);
    /* The data region must be exactly tiled: overlaps would alias weights, holes mean the
     * header and data disagree (the reference implementation refuses both). */
    uint64_t at = 0;
    srlm_status st = NULL;
    const srlm_st_tensor *prev = NULL;
    for (size_t i = 0; i < f->n && !st; i++) {
        const srlm_st_tensor *t = &f->tensors[order[i]];
        if (t->begin < at)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", f->mf.path, prev ? prev->name : "?", t->name);
        else if (t->begin > at)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: %llu unused bytes before tensor '%s' (offset %llu)", f->mf.path,
                             (unsigned long long)(t->begin - at), t->name, (unsigned long long)at);
        at = t->end;
        if (t->nbytes) prev = t;
    }
    free(order);
    if (st) return st;
    uint64_t region = f->mf.size - f->data_start;
    if (at != region)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensors end at %llu but the data region has %llu bytes", f->mf.path,
                           (unsigned long long)at, (unsigned long long)region);
    return NULL;
}

static srlm_status parse(srlm_safetensors *f) {
    const char *p = f->mf.path;
    if (f->mf.size < 8) return srlm_errorf(SRLM_ERR_FORMAT, "%s: truncated safetensors: %zu bytes, no header length", p, f->mf.size);
    uint64_t hlen;
    memcpy(&hlen, f->mf.data, 8);
    if (hlen > f->mf.size - 8)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: header length %llu runs past the end of the file (%zu bytes)", p,
                           (unsigned long long)hlen, f->mf.size);
    if (hlen > SRLM_ST_MAX_HEADER)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: header length %llu exceeds the %u-byte limit", p, (unsigned long long)hlen,
                           SRLM_ST_MAX_HEADER);
    if (hlen < 2 || f->mf.data[8] != '{')
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: header does not start with '{' (not a safetensors file?)", p);
    f->data_start = 8 + hlen;
    const char *h = (const char *)f->mf.data + 8;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(h, (size_t)hlen, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= h && at <= h + hlen ? (long)(at - h) : -1;
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: header is not valid JSON (near byte %ld of the header)", p, off);
    }
    srlm_status st = NULL;
    for (const char *q = end; q && q < h + hlen && !st; q++)
        if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t' && *q != 0)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: unexpected bytes after the header JSON", p);
    if (!st && !cJSON_IsObject(root)) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: header is not a JSON object", p);
    size_t count = 0;
    for (const cJSON *c = st ? NULL : root->child; c; c = c->next) count += strcmp(c->string, "__metadata__") != 0;
    if (!st) {
        f->tensors = calloc(count ? count : 1, sizeof *f->tensors);
        f->by_name = calloc(count ? count : 1, sizeof *f->by_name);
        if (!f->tensors || !f->by_name) st = srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", p);
    }
    int seen_meta = 0;
    for (const cJSON *c = st ? NULL : root->child; c && !st; c = c->next) {
        if (!strcmp(c->string, "__metadata__")) {
            if (seen_meta++) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: __metadata__ appears twice", p);
            else st = parse_metadata(f, c);
        } else {
            st = parse_tensor(f, c, &f->tensors[f->n++]);
        }
    }
    cJSON_Delete(root);
    if (st) return st;
    return check_layout(f);
}

static srlm_status finish_open(srlm_safetensors *f, srlm_safetensors **out) {
    srlm_status st = parse(f);
    if (st) { srlm_safetensors_destroy(f); return st; }
    *out = f;
    return NULL;
}

srlm_status srlm_safetensors_open(const char *path, srlm_safetensors **out) {
    *out = NULL;
    srlm_safetensors *f = calloc(1, sizeof *f);
    if (!f) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", path);
    srlm_status st = srlm_mapfile_open(path, &f->mf);
    if (st) { free(f); return st; }
    return finish_open(f, out);
}

srlm_status srlm_safetensors_open_memory(const void *data, size_t size, const char *name, srlm_safetensors **out) {
    *out = NULL;
    srlm_safetensors *f = calloc(1, sizeof *f);
    if (!f) return srlm_errorf(SRLM_ERR_OOM, "out of memory");
    srlm_status st = srlm_mapfile_from_memory(data, size, name, &f->mf);
    if (st) { free(f); return st; }
    return finish_open(f, out);
}

void srlm_safetensors_destroy(srlm_safetensors *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) free((char *)f->tensors[i].name);
    for (size_t i = 0; f->meta && i < 2 * f->n_meta; i++) free(f->meta[i]);
    free(f->meta);
    free(f->tensors);
    free(f->by_name);
    srlm_mapfile_close(&f->mf);
    free(f);
}

const char *srlm_safetensors_path(const srlm_safetensors *f) { return f->mf.path; }
size_t srlm_safetensors_count(const srlm_safetensors *f) { return f->n; }
const srlm_st_tensor *srlm_safetensors_at(const srlm_safetensors *f, size_t i) { return i < f->n ? &f->tensors[i] : NULL; }

const srlm_st_tensor *srlm_safetensors_find(const srlm_safetensors *f, const char *name) {
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const srlm_st_tensor *t = &f->tensors[f->by_name[mid]];
        int c = strcmp(t->name, name);
        if (c == 0) return t;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

const char *srlm_safetensors_metadata(const srlm_safetensors *f, const char *key) {
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta[2 * i], key)) return f->meta[2 * i + 1];
    return NULL;
}
