/* gguf.c: GGUF v2/v3 parsing and validation over a read-only mapping. Every count and
 * length read from the file is checked against the bytes left before it is used, so a
 * hostile file can neither read outside the mapping nor make us allocate more than a small
 * multiple of its size. Not a model loader (gguf_model.c) and not a writer. */
#include "model/gguf.h"

#include "model/dtype.h"
#include "model/mapfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define GGUF_MAX_DEPTH 8       /* nested arrays deeper than this are refused */
#define GGUF_MAX_NAME 4096

struct srlm_gguf {
    srlm_mapfile mf;
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv, n_tensors;
    srlm_gguf_kv *kv;
    uint64_t **kv_offsets;       /* per kv: offsets table of the array, or NULL */
    srlm_gguf_tensor *tensors;
    size_t *tensor_by_name;      /* indices sorted by name, for bsearch */
    size_t *kv_by_key;           /* indices sorted by key */
    uint64_t data_start;
};

/* A bounded reader over the mapping. `what` names the field for messages. */
typedef struct cursor {
    const uint8_t *p;
    uint64_t size, pos;
    const char *path;
} cursor;

static srlm_status short_read(const cursor *c, uint64_t need, const char *what) {
    return srlm_errorf(SRLM_ERR_FORMAT, "%s: truncated GGUF: %s needs %llu bytes at offset %llu but the file has %llu",
                       c->path, what, (unsigned long long)need, (unsigned long long)c->pos,
                       (unsigned long long)c->size);
}

static srlm_status take(cursor *c, uint64_t n, const char *what, const uint8_t **out) {
    *out = NULL;
    if (n > c->size - c->pos) return short_read(c, n, what);
    *out = c->p + c->pos;
    c->pos += n;
    return NULL;
}

static srlm_status rd_u32(cursor *c, const char *what, uint32_t *v) {
    const uint8_t *b;
    SRLM_TRY(take(c, 4, what, &b));
    memcpy(v, b, 4);
    return NULL;
}

static srlm_status rd_u64(cursor *c, const char *what, uint64_t *v) {
    const uint8_t *b;
    SRLM_TRY(take(c, 8, what, &b));
    memcpy(v, b, 8);
    return NULL;
}

/* A GGUF string: u64 length then bytes. */
static srlm_status rd_str(cursor *c, const char *what, const uint8_t **s, uint64_t *len) {
    *s = NULL;
    SRLM_TRY(rd_u64(c, what, len));
    return take(c, *len, what, s);
}

static size_t scalar_size(uint32_t t) {
    switch (t) {
    case SRLM_GGUF_U8: case SRLM_GGUF_I8: case SRLM_GGUF_BOOL: return 1;
    case SRLM_GGUF_U16: case SRLM_GGUF_I16: return 2;
    case SRLM_GGUF_U32: case SRLM_GGUF_I32: case SRLM_GGUF_F32: return 4;
    case SRLM_GGUF_U64: case SRLM_GGUF_I64: case SRLM_GGUF_F64: return 8;
    default: return 0;
    }
}

const char *srlm_gguf_type_name(srlm_gguf_type t) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                  "string", "array", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

const char *srlm_ggml_type_name(uint32_t t) {
    static const char *names[] = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1",
                                  "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K",
                                  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
                                  "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
                                  "BF16"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Skips over (and so validates) one value of type t; for arrays also fills the offsets
 * table when `offsets` is non-NULL (top level only). */
static srlm_status skip_value(cursor *c, uint32_t t, int depth, const char *key, uint64_t **offsets,
                              srlm_gguf_value *view) {
    size_t ss = scalar_size(t);
    if (view) memset(view, 0, sizeof *view), view->type = (srlm_gguf_type)t;
    if (ss) {
        const uint8_t *b;
        SRLM_TRY(take(c, ss, key, &b));
        if (t == SRLM_GGUF_BOOL && *b > 1)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s': bool byte %u is not 0 or 1", c->path, key, *b);
        if (view) view->data = b, view->n = 1;
        return NULL;
    }
    if (t == SRLM_GGUF_STRING) {
        const uint8_t *s;
        uint64_t len;
        SRLM_TRY(rd_str(c, key, &s, &len));
        if (view) view->data = s, view->n = len;
        return NULL;
    }
    if (t != SRLM_GGUF_ARRAY)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s': unknown value type %u at offset %llu", c->path, key,
                           t, (unsigned long long)c->pos);
    if (depth >= GGUF_MAX_DEPTH)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s': arrays nested deeper than %d", c->path, key,
                           GGUF_MAX_DEPTH);
    uint32_t et;
    uint64_t n;
    SRLM_TRY(rd_u32(c, key, &et));
    SRLM_TRY(rd_u64(c, key, &n));
    if (et > SRLM_GGUF_F64)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s': unknown array element type %u", c->path, key, et);
    uint64_t left = c->size - c->pos;
    size_t es = scalar_size(et);
    /* Every element takes at least 8 bytes (strings, arrays) or its scalar size. */
    uint64_t min_each = es ? es : 8;
    if (n > left / min_each)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s': array of %llu elements does not fit in the %llu bytes left",
                           c->path, key, (unsigned long long)n, (unsigned long long)left);
    uint64_t start = c->pos;
    if (view) view->elem_type = (srlm_gguf_type)et, view->data = c->p + start, view->n = n;
    if (es) {
        const uint8_t *b;
        SRLM_TRY(take(c, n * es, key, &b));
        if (et == SRLM_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (b[i] > 1) return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata '%s': bool element %llu is %u", c->path, key, (unsigned long long)i, b[i]);
        return NULL;
    }
    uint64_t *off = NULL;
    if (offsets) {
        off = malloc((n ? n : 1) * sizeof *off);
        if (!off) return srlm_errorf(SRLM_ERR_OOM, "%s: metadata '%s': out of memory for %llu offsets", c->path, key, (unsigned long long)n);
    }
    for (uint64_t i = 0; i < n; i++) {
        if (off) off[i] = c->pos - start;
        srlm_status st = skip_value(c, et, depth + 1, key, NULL, NULL);
        if (st) { free(off); return st; }
    }
    if (offsets) *offsets = off;
    if (view) view->offsets = off;
    return NULL;
}

static int cmp_kv_idx(const void *a, const void *b, void *ctx) {
    const srlm_gguf *g = ctx;
    return strcmp(g->kv[*(const size_t *)a].key, g->kv[*(const size_t *)b].key);
}

static int cmp_tensor_idx(const void *a, const void *b, void *ctx) {
    const srlm_gguf *g = ctx;
    return strcmp(g->tensors[*(const size_t *)a].name, g->tensors[*(const size_t *)b].name);
}

static int cmp_tensor_off(const void *a, const void *b, void *ctx) {
    const srlm_gguf *g = ctx;
    uint64_t x = g->tensors[*(const size_t *)a].offset, y = g->tensors[*(const size_t *)b].offset;
    return x < y ? -1 : x > y;
}

/* Copies a file string into a NUL-terminated heap string, refusing embedded NULs. */
static srlm_status dup_name(const cursor *c, const uint8_t *s, uint64_t len, const char *what, char **out) {
    if (len == 0 || len > GGUF_MAX_NAME)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: %s has length %llu (must be 1..%d)", c->path, what,
                           (unsigned long long)len, GGUF_MAX_NAME);
    if (memchr(s, 0, len)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: %s contains a NUL byte", c->path, what);
    char *d = malloc(len + 1);
    if (!d) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", c->path);
    memcpy(d, s, len);
    d[len] = 0;
    *out = d;
    return NULL;
}

static srlm_status parse_kvs(srlm_gguf *g, cursor *c) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const uint8_t *ks;
        uint64_t klen;
        SRLM_TRY(rd_str(c, "metadata key", &ks, &klen));
        char *key;
        SRLM_TRY(dup_name(c, ks, klen, "a metadata key", &key));
        g->kv[i].key = key;
        uint32_t t;
        SRLM_TRY(rd_u32(c, key, &t));
        SRLM_TRY(skip_value(c, t, 0, key, &g->kv_offsets[i], &g->kv[i].value));
    }
    for (size_t i = 0; i < g->n_kv; i++) g->kv_by_key[i] = i;
    qsort_r(g->kv_by_key, g->n_kv, sizeof(size_t), cmp_kv_idx, g);
    for (size_t i = 1; i < g->n_kv; i++)
        if (!strcmp(g->kv[g->kv_by_key[i]].key, g->kv[g->kv_by_key[i - 1]].key))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata key '%s' appears twice", g->mf.path, g->kv[g->kv_by_key[i]].key);
    return NULL;
}

/* Bytes of a tensor of type t with ne[0] columns and n elements; 0 with *why set when the
 * type is unsupported or the shape does not fit the type's blocks. */
static srlm_status tensor_bytes(const srlm_gguf *g, srlm_gguf_tensor *t) {
    switch (t->ggml_type) {
    case SRLM_GGML_F32: t->dtype = SRLM_DTYPE_F32; t->nbytes = t->n_elements * 4; return NULL;
    case SRLM_GGML_F16: t->dtype = SRLM_DTYPE_F16; t->nbytes = t->n_elements * 2; return NULL;
    case SRLM_GGML_BF16: t->dtype = SRLM_DTYPE_BF16; t->nbytes = t->n_elements * 2; return NULL;
    case SRLM_GGML_Q8_0:
        t->dtype = SRLM_DTYPE_Q8_0;
        if (t->ne[0] % SRLM_Q8_0_BLOCK)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': Q8_0 row length %llu is not a multiple of 32",
                               g->mf.path, t->name, (unsigned long long)t->ne[0]);
        t->nbytes = t->n_elements / SRLM_Q8_0_BLOCK * SRLM_Q8_0_BYTES;
        return NULL;
    default:
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s (%u); srlm reads F32, F16, BF16 and Q8_0",
                           g->mf.path, t->name, srlm_ggml_type_name(t->ggml_type), t->ggml_type);
    }
}

static srlm_status parse_tensors(srlm_gguf *g, cursor *c) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        srlm_gguf_tensor *t = &g->tensors[i];
        const uint8_t *ns;
        uint64_t nlen;
        SRLM_TRY(rd_str(c, "tensor name", &ns, &nlen));
        char *name;
        SRLM_TRY(dup_name(c, ns, nlen, "a tensor name", &name));
        t->name = name;
        SRLM_TRY(rd_u32(c, name, &t->n_dims));
        if (t->n_dims < 1 || t->n_dims > 4)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s' has %u dimensions (must be 1..4)", g->mf.path, name, t->n_dims);
        uint64_t n = 1;
        for (uint32_t d = 0; d < 4; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            SRLM_TRY(rd_u64(c, name, &t->ne[d]));
            /* 2^48 elements is far beyond any file we can map; it also keeps nbytes from
             * overflowing below. */
            if (t->ne[d] == 0 || t->ne[d] > (1ull << 48) || n > (1ull << 48) / t->ne[d])
                return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s' has bad dimension %u = %llu", g->mf.path, name, d,
                                   (unsigned long long)t->ne[d]);
            n *= t->ne[d];
        }
        t->n_elements = n;
        SRLM_TRY(rd_u32(c, name, &t->ggml_type));
        SRLM_TRY(rd_u64(c, name, &t->offset));
        SRLM_TRY(tensor_bytes(g, t));
    }
    return NULL;
}

static srlm_status check_tensor_data(srlm_gguf *g) {
    uint64_t region = g->mf.size - g->data_start;
    for (size_t i = 0; i < g->n_tensors; i++) {
        srlm_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of the alignment %u",
                               g->mf.path, t->name, (unsigned long long)t->offset, g->alignment);
        if (t->offset > region || t->nbytes > region - t->offset)
            return srlm_errorf(SRLM_ERR_FORMAT,
                               "%s: tensor '%s': data [%llu, %llu) lies outside the data region of %llu bytes (file truncated?)",
                               g->mf.path, t->name, (unsigned long long)t->offset,
                               (unsigned long long)(t->offset + t->nbytes), (unsigned long long)region);
        t->data = g->mf.data + g->data_start + t->offset;
    }
    size_t *order = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *order);
    if (!order) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", g->mf.path);
    for (size_t i = 0; i < g->n_tensors; i++) order[i] = i;
    qsort_r(order, g->n_tensors, sizeof *order, cmp_tensor_off, g);
    srlm_status st = NULL;
    for (size_t i = 1; i < g->n_tensors && !st; i++) {
        const srlm_gguf_tensor *a = &g->tensors[order[i - 1]], *b = &g->tensors[order[i]];
        if (a->offset + a->nbytes > b->offset)
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", g->mf.path, a->name, b->name);
    }
    free(order);
    if (st) return st;
    for (size_t i = 0; i < g->n_tensors; i++) g->tensor_by_name[i] = i;
    qsort_r(g->tensor_by_name, g->n_tensors, sizeof(size_t), cmp_tensor_idx, g);
    for (size_t i = 1; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[g->tensor_by_name[i]].name, g->tensors[g->tensor_by_name[i - 1]].name))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: tensor '%s' appears twice", g->mf.path, g->tensors[g->tensor_by_name[i]].name);
    return NULL;
}

static srlm_status parse(srlm_gguf *g) {
    cursor c = {g->mf.data, g->mf.size, 0, g->mf.path};
    uint32_t magic;
    if (g->mf.size < 4) return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a GGUF file (only %zu bytes)", g->mf.path, g->mf.size);
    SRLM_TRY(rd_u32(&c, "magic", &magic));
    if (magic != GGUF_MAGIC)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a GGUF file (magic %02x %02x %02x %02x, expected 'GGUF')",
                           g->mf.path, g->mf.data[0], g->mf.data[1], g->mf.data[2], g->mf.data[3]);
    SRLM_TRY(rd_u32(&c, "version", &g->version));
    if (g->version != 2 && g->version != 3)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (srlm reads versions 2 and 3%s)",
                           g->mf.path, g->version, g->version > 0xffff ? "; a big-endian file?" : "");
    SRLM_TRY(rd_u64(&c, "tensor count", &g->n_tensors));
    SRLM_TRY(rd_u64(&c, "metadata count", &g->n_kv));
    uint64_t left = c.size - c.pos;
    /* A key-value takes at least 8 (key length) + 1 (key) + 4 (type) + 1 bytes; a tensor
     * info at least 8 + 1 + 4 + 8 + 4 + 8. */
    if (g->n_kv > left / 14 || g->n_tensors > left / 33)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: header claims %llu metadata entries and %llu tensors, more than the file can hold",
                           g->mf.path, (unsigned long long)g->n_kv, (unsigned long long)g->n_tensors);
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    g->kv_offsets = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv_offsets);
    g->kv_by_key = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv_by_key);
    g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
    g->tensor_by_name = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensor_by_name);
    if (!g->kv || !g->kv_offsets || !g->kv_by_key || !g->tensors || !g->tensor_by_name)
        return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", g->mf.path);
    SRLM_TRY(parse_kvs(g, &c));
    g->alignment = 32;
    const srlm_gguf_kv *al = srlm_gguf_find(g, "general.alignment");
    if (al) {
        uint64_t a;
        if (al->value.type != SRLM_GGUF_U32 || !srlm_gguf_value_u64(&al->value, &a) || a == 0 || (a & (a - 1)) || a > (1u << 20))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: general.alignment must be a u32 power of two up to 2^20", g->mf.path);
        g->alignment = (uint32_t)a;
    }
    SRLM_TRY(parse_tensors(g, &c));
    g->data_start = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors && g->data_start > g->mf.size)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: truncated GGUF: tensor data would start at %llu, past the end (%zu bytes)",
                           g->mf.path, (unsigned long long)g->data_start, g->mf.size);
    if (g->data_start > g->mf.size) g->data_start = g->mf.size;
    return check_tensor_data(g);
}

static srlm_status open_common(srlm_gguf *g, srlm_gguf **out) {
    srlm_status st = parse(g);
    if (st) { srlm_gguf_destroy(g); return st; }
    *out = g;
    return NULL;
}

srlm_status srlm_gguf_open(const char *path, srlm_gguf **out) {
    *out = NULL;
    srlm_gguf *g = calloc(1, sizeof *g);
    if (!g) return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", path);
    srlm_status st = srlm_mapfile_open(path, &g->mf);
    if (st) { free(g); return st; }
    return open_common(g, out);
}

srlm_status srlm_gguf_open_memory(const void *data, size_t size, const char *name, srlm_gguf **out) {
    *out = NULL;
    srlm_gguf *g = calloc(1, sizeof *g);
    if (!g) return srlm_errorf(SRLM_ERR_OOM, "out of memory");
    srlm_status st = srlm_mapfile_from_memory(data, size, name, &g->mf);
    if (st) { free(g); return st; }
    return open_common(g, out);
}

void srlm_gguf_destroy(srlm_gguf *g) {
    if (!g) return;
    if (g->kv)
        for (size_t i = 0; i < g->n_kv; i++) free((char *)g->kv[i].key);
    if (g->kv_offsets)
        for (size_t i = 0; i < g->n_kv; i++) free(g->kv_offsets[i]);
    if (g->tensors)
        for (size_t i = 0; i < g->n_tensors; i++) free((char *)g->tensors[i].name);
    free(g->kv);
    free(g->kv_offsets);
    free(g->kv_by_key);
    free(g->tensors);
    free(g->tensor_by_name);
    srlm_mapfile_close(&g->mf);
    free(g);
}

const char *srlm_gguf_path(const srlm_gguf *g) { return g->mf.path; }
uint32_t srlm_gguf_version(const srlm_gguf *g) { return g->version; }
uint32_t srlm_gguf_alignment(const srlm_gguf *g) { return g->alignment; }
size_t srlm_gguf_kv_count(const srlm_gguf *g) { return g->n_kv; }
const srlm_gguf_kv *srlm_gguf_kv_at(const srlm_gguf *g, size_t i) { return i < g->n_kv ? &g->kv[i] : NULL; }
size_t srlm_gguf_tensor_count(const srlm_gguf *g) { return g->n_tensors; }
const srlm_gguf_tensor *srlm_gguf_tensor_at(const srlm_gguf *g, size_t i) { return i < g->n_tensors ? &g->tensors[i] : NULL; }

const srlm_gguf_kv *srlm_gguf_find(const srlm_gguf *g, const char *key) {
    size_t lo = 0, hi = g->n_kv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const srlm_gguf_kv *kv = &g->kv[g->kv_by_key[mid]];
        if (!kv->key) return NULL; /* only during a failed parse */
        int c = strcmp(kv->key, key);
        if (c == 0) return kv;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

const srlm_gguf_tensor *srlm_gguf_find_tensor(const srlm_gguf *g, const char *name) {
    size_t lo = 0, hi = g->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const srlm_gguf_tensor *t = &g->tensors[g->tensor_by_name[mid]];
        int c = strcmp(t->name, name);
        if (c == 0) return t;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}
