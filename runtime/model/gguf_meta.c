/* gguf_meta.c: typed access to GGUF metadata values (scalars, strings, arrays, nested
 * arrays). Values were validated when the file was opened, so walking them here needs no
 * bounds checks beyond the element index. Not the parser (gguf.c). */
#include "model/gguf.h"

#include <stdlib.h>
#include <string.h>

static size_t scalar_size(srlm_gguf_type t) {
    switch (t) {
    case SRLM_GGUF_U8: case SRLM_GGUF_I8: case SRLM_GGUF_BOOL: return 1;
    case SRLM_GGUF_U16: case SRLM_GGUF_I16: return 2;
    case SRLM_GGUF_U32: case SRLM_GGUF_I32: case SRLM_GGUF_F32: return 4;
    case SRLM_GGUF_U64: case SRLM_GGUF_I64: case SRLM_GGUF_F64: return 8;
    default: return 0;
    }
}

/* Size in bytes of an already validated value of type t starting at p. */
static uint64_t value_size(const uint8_t *p, srlm_gguf_type t) {
    size_t ss = scalar_size(t);
    if (ss) return ss;
    uint64_t n;
    if (t == SRLM_GGUF_STRING) {
        memcpy(&n, p, 8);
        return 8 + n;
    }
    /* array: u32 element type, u64 count, elements */
    uint32_t et;
    memcpy(&et, p, 4);
    memcpy(&n, p + 4, 8);
    uint64_t size = 12;
    size_t es = scalar_size((srlm_gguf_type)et);
    if (es) return size + n * es;
    for (uint64_t i = 0; i < n; i++) size += value_size(p + size, (srlm_gguf_type)et);
    return size;
}

/* Builds the view of a value of type t whose encoding starts at p. */
static void make_view(const uint8_t *p, srlm_gguf_type t, srlm_gguf_value *v) {
    memset(v, 0, sizeof *v);
    v->type = t;
    if (scalar_size(t)) { v->data = p; v->n = 1; return; }
    if (t == SRLM_GGUF_STRING) { memcpy(&v->n, p, 8); v->data = p + 8; return; }
    uint32_t et;
    memcpy(&et, p, 4);
    memcpy(&v->n, p + 4, 8);
    v->elem_type = (srlm_gguf_type)et;
    v->data = p + 12;
}

/* Pointer to the encoding of element i of an array view. */
static const uint8_t *elem_ptr(const srlm_gguf_value *arr, uint64_t i) {
    size_t es = scalar_size(arr->elem_type);
    if (es) return arr->data + i * es;
    if (arr->offsets) return arr->data + arr->offsets[i];
    const uint8_t *p = arr->data;
    for (uint64_t k = 0; k < i; k++) p += value_size(p, arr->elem_type);
    return p;
}

bool srlm_gguf_array_elem(const srlm_gguf_value *arr, uint64_t i, srlm_gguf_value *elem) {
    if (arr->type != SRLM_GGUF_ARRAY || i >= arr->n) return false;
    make_view(elem_ptr(arr, i), arr->elem_type, elem);
    return true;
}

bool srlm_gguf_value_i64(const srlm_gguf_value *v, int64_t *out) {
    const uint8_t *p = v->data;
    switch (v->type) {
    case SRLM_GGUF_U8: *out = p[0]; return true;
    case SRLM_GGUF_I8: *out = (int8_t)p[0]; return true;
    case SRLM_GGUF_BOOL: *out = p[0]; return true;
    case SRLM_GGUF_U16: { uint16_t x; memcpy(&x, p, 2); *out = x; return true; }
    case SRLM_GGUF_I16: { int16_t x; memcpy(&x, p, 2); *out = x; return true; }
    case SRLM_GGUF_U32: { uint32_t x; memcpy(&x, p, 4); *out = x; return true; }
    case SRLM_GGUF_I32: { int32_t x; memcpy(&x, p, 4); *out = x; return true; }
    case SRLM_GGUF_I64: { int64_t x; memcpy(&x, p, 8); *out = x; return true; }
    case SRLM_GGUF_U64: {
        uint64_t x;
        memcpy(&x, p, 8);
        if (x > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)x;
        return true;
    }
    default: return false;
    }
}

bool srlm_gguf_value_u64(const srlm_gguf_value *v, uint64_t *out) {
    if (v->type == SRLM_GGUF_U64) { memcpy(out, v->data, 8); return true; }
    int64_t x;
    if (!srlm_gguf_value_i64(v, &x) || x < 0) return false;
    *out = (uint64_t)x;
    return true;
}

bool srlm_gguf_value_f64(const srlm_gguf_value *v, double *out) {
    if (v->type == SRLM_GGUF_F32) { float f; memcpy(&f, v->data, 4); *out = f; return true; }
    if (v->type == SRLM_GGUF_F64) { memcpy(out, v->data, 8); return true; }
    return false;
}

bool srlm_gguf_array_str(const srlm_gguf_value *arr, uint64_t i, const char **s, size_t *len) {
    srlm_gguf_value e;
    if (!srlm_gguf_array_elem(arr, i, &e) || e.type != SRLM_GGUF_STRING) return false;
    *s = (const char *)e.data;
    *len = (size_t)e.n;
    return true;
}

bool srlm_gguf_array_f32(const srlm_gguf_value *arr, uint64_t i, float *v) {
    srlm_gguf_value e;
    double d;
    if (!srlm_gguf_array_elem(arr, i, &e) || !srlm_gguf_value_f64(&e, &d)) return false;
    *v = (float)d;
    return true;
}

bool srlm_gguf_array_i64(const srlm_gguf_value *arr, uint64_t i, int64_t *v) {
    srlm_gguf_value e;
    if (!srlm_gguf_array_elem(arr, i, &e)) return false;
    return srlm_gguf_value_i64(&e, v);
}

/* ---- getters by key ---- */

static srlm_status find_kv(const srlm_gguf *g, const char *key, const srlm_gguf_kv **kv) {
    *kv = srlm_gguf_find(g, key);
    if (!*kv) return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: metadata key '%s' is missing", srlm_gguf_path(g), key);
    return NULL;
}

static srlm_status wrong_type(const srlm_gguf *g, const srlm_gguf_kv *kv, const char *want) {
    return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s' is %s, expected %s", srlm_gguf_path(g), kv->key,
                       srlm_gguf_type_name(kv->value.type), want);
}

srlm_status srlm_gguf_get_str(const srlm_gguf *g, const char *key, const char **s, size_t *len) {
    const srlm_gguf_kv *kv;
    SRLM_TRY(find_kv(g, key, &kv));
    if (kv->value.type != SRLM_GGUF_STRING) return wrong_type(g, kv, "a string");
    *s = (const char *)kv->value.data;
    *len = (size_t)kv->value.n;
    return NULL;
}

srlm_status srlm_gguf_get_str_dup(const srlm_gguf *g, const char *key, char **out) {
    const char *s;
    size_t len;
    SRLM_TRY(srlm_gguf_get_str(g, key, &s, &len));
    if (memchr(s, 0, len))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s' contains a NUL byte", srlm_gguf_path(g), key);
    char *d = malloc(len + 1);
    if (!d) return srlm_errorf(SRLM_ERR_OOM, "out of memory copying metadata '%s'", key);
    memcpy(d, s, len);
    d[len] = 0;
    *out = d;
    return NULL;
}

static srlm_status get_int(const srlm_gguf *g, const char *key, int64_t lo, int64_t hi, int64_t *v) {
    const srlm_gguf_kv *kv;
    SRLM_TRY(find_kv(g, key, &kv));
    if (kv->value.type == SRLM_GGUF_BOOL || !srlm_gguf_value_i64(&kv->value, v))
        return wrong_type(g, kv, "an integer");
    if (*v < lo || *v > hi)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s' = %lld is out of range [%lld, %lld]", srlm_gguf_path(g),
                           key, (long long)*v, (long long)lo, (long long)hi);
    return NULL;
}

srlm_status srlm_gguf_get_u32(const srlm_gguf *g, const char *key, uint32_t *v) {
    int64_t x;
    SRLM_TRY(get_int(g, key, 0, UINT32_MAX, &x));
    *v = (uint32_t)x;
    return NULL;
}

srlm_status srlm_gguf_get_i32(const srlm_gguf *g, const char *key, int32_t *v) {
    int64_t x;
    SRLM_TRY(get_int(g, key, INT32_MIN, INT32_MAX, &x));
    *v = (int32_t)x;
    return NULL;
}

srlm_status srlm_gguf_get_u64(const srlm_gguf *g, const char *key, uint64_t *v) {
    const srlm_gguf_kv *kv;
    SRLM_TRY(find_kv(g, key, &kv));
    if (kv->value.type == SRLM_GGUF_BOOL || !srlm_gguf_value_u64(&kv->value, v))
        return wrong_type(g, kv, "a non-negative integer");
    return NULL;
}

srlm_status srlm_gguf_get_f32(const srlm_gguf *g, const char *key, float *v) {
    const srlm_gguf_kv *kv;
    double d;
    SRLM_TRY(find_kv(g, key, &kv));
    if (!srlm_gguf_value_f64(&kv->value, &d)) return wrong_type(g, kv, "f32 or f64");
    *v = (float)d;
    return NULL;
}

srlm_status srlm_gguf_get_bool(const srlm_gguf *g, const char *key, bool *v) {
    const srlm_gguf_kv *kv;
    SRLM_TRY(find_kv(g, key, &kv));
    if (kv->value.type != SRLM_GGUF_BOOL) return wrong_type(g, kv, "bool");
    *v = kv->value.data[0] != 0;
    return NULL;
}

srlm_status srlm_gguf_get_array(const srlm_gguf *g, const char *key, int elem_type, srlm_gguf_value *arr) {
    const srlm_gguf_kv *kv;
    SRLM_TRY(find_kv(g, key, &kv));
    if (kv->value.type != SRLM_GGUF_ARRAY) return wrong_type(g, kv, "an array");
    if (elem_type >= 0 && (int)kv->value.elem_type != elem_type)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s' is an array of %s, expected an array of %s",
                           srlm_gguf_path(g), key, srlm_gguf_type_name(kv->value.elem_type),
                           srlm_gguf_type_name((srlm_gguf_type)elem_type));
    *arr = kv->value;
    return NULL;
}
