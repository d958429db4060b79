/* gguf_vocab.c: reads a SentencePiece vocabulary (tokenizer.ggml.*) from a GGUF file's
 * metadata. A small self-contained, bounds-checked metadata walker for the tokenizer only
 * (magic, version 2/3, every length checked against the file); it is not the model's GGUF
 * reader (runtime/model/gguf.c), which the two may later share. Tensors are not read. */
#include "tokenizer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 };

typedef struct cursor {
    const uint8_t *p;
    size_t n, off;
    const char *path;
} cursor;

typedef struct kv_view {
    uint32_t type, elem;     /* elem: element type of arrays */
    uint64_t count;          /* array length */
    size_t off;              /* value (or first array element) offset */
} kv_view;

static srlm_status need(cursor *c, size_t k) {
    if (c->n - c->off < k)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: truncated metadata at byte %zu (need %zu more bytes)", c->path, c->off, k);
    return NULL;
}

static srlm_status rd_u32(cursor *c, uint32_t *v) {
    SRLM_TRY(need(c, 4));
    memcpy(v, c->p + c->off, 4);
    c->off += 4;
    return NULL;
}

static srlm_status rd_u64(cursor *c, uint64_t *v) {
    SRLM_TRY(need(c, 8));
    memcpy(v, c->p + c->off, 8);
    c->off += 8;
    return NULL;
}

static srlm_status rd_str(cursor *c, const char **s, uint64_t *len) {
    SRLM_TRY(rd_u64(c, len));
    if (*len > c->n - c->off)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: string of %llu bytes at byte %zu runs past the end", c->path,
                           (unsigned long long)*len, c->off - 8);
    *s = (const char *)c->p + c->off;
    c->off += (size_t)*len;
    return NULL;
}

static size_t scalar_size(uint32_t t) {
    switch (t) {
    case T_U8: case T_I8: case T_BOOL: return 1;
    case T_U16: case T_I16: return 2;
    case T_U32: case T_I32: case T_F32: return 4;
    case T_U64: case T_I64: case T_F64: return 8;
    }
    return 0;
}

/* Skips (and bounds-checks) one value of type t. */
static srlm_status skip_value(cursor *c, uint32_t t, int depth) {
    if (t == T_STR) { const char *s; uint64_t l; return rd_str(c, &s, &l); }
    if (t == T_ARR) {
        uint32_t et;
        uint64_t cnt;
        if (depth > 8) return srlm_errorf(SRLM_ERR_FORMAT, "%s: arrays nested too deeply at byte %zu", c->path, c->off);
        SRLM_TRY(rd_u32(c, &et));
        SRLM_TRY(rd_u64(c, &cnt));
        size_t es = scalar_size(et);
        if (es) {
            if (cnt > (c->n - c->off) / es)
                return srlm_errorf(SRLM_ERR_FORMAT, "%s: array of %llu elements at byte %zu runs past the end", c->path,
                                   (unsigned long long)cnt, c->off);
            c->off += (size_t)cnt * es;
            return NULL;
        }
        if (et != T_STR && et != T_ARR) return srlm_errorf(SRLM_ERR_FORMAT, "%s: unknown array element type %u at byte %zu", c->path, et, c->off);
        if (cnt > (c->n - c->off) / 8) /* every string or array element takes at least 8 bytes */
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: array of %llu elements at byte %zu runs past the end", c->path,
                               (unsigned long long)cnt, c->off);
        for (uint64_t i = 0; i < cnt; i++) SRLM_TRY(skip_value(c, et, depth + 1));
        return NULL;
    }
    size_t es = scalar_size(t);
    if (!es) return srlm_errorf(SRLM_ERR_FORMAT, "%s: unknown value type %u at byte %zu", c->path, t, c->off);
    SRLM_TRY(need(c, es));
    c->off += es;
    return NULL;
}

static const char *const wanted[] = {
    "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_space_prefix",
};
enum { K_MODEL, K_TOKENS, K_SCORES, K_TYPES, K_BOS, K_EOS, K_UNK, K_ADD_BOS, K_ADD_SPACE, K_COUNT };

static bool scalar_int(const cursor *c, const kv_view *v, int64_t *out) {
    const uint8_t *p = c->p + v->off;
    switch (v->type) {
    case T_U8: case T_BOOL: *out = p[0]; return true;
    case T_I8: *out = (int8_t)p[0]; return true;
    case T_U16: { uint16_t x; memcpy(&x, p, 2); *out = x; return true; }
    case T_I16: { int16_t x; memcpy(&x, p, 2); *out = x; return true; }
    case T_U32: { uint32_t x; memcpy(&x, p, 4); *out = x; return true; }
    case T_I32: { int32_t x; memcpy(&x, p, 4); *out = x; return true; }
    case T_U64: { uint64_t x; memcpy(&x, p, 8); *out = x > INT64_MAX ? -1 : (int64_t)x; return true; }
    case T_I64: { int64_t x; memcpy(&x, p, 8); *out = x; return true; }
    }
    return false;
}

static srlm_status build(cursor *c, const kv_view *kv, const bool *have, srlm_tokenizer **out) {
    const char *path = c->path;
    if (!have[K_MODEL] || kv[K_MODEL].type != T_STR)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata key 'tokenizer.ggml.model' is missing (no tokenizer in this GGUF)", path);
    cursor m = *c;
    m.off = kv[K_MODEL].off;
    const char *model;
    uint64_t mlen;
    SRLM_TRY(rd_str(&m, &model, &mlen));
    if (mlen != 5 || memcmp(model, "llama", 5))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%.*s' is not supported from GGUF (only 'llama', SentencePiece)",
                           path, (int)(mlen > 64 ? 64 : mlen), model);
    if (!have[K_TOKENS] || kv[K_TOKENS].type != T_ARR || kv[K_TOKENS].elem != T_STR)
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: 'tokenizer.ggml.tokens' is missing or not an array of strings", path);
    uint64_t n = kv[K_TOKENS].count;
    if (n == 0 || n > (1u << 24)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: %llu tokens", path, (unsigned long long)n);
    if (have[K_SCORES] && (kv[K_SCORES].type != T_ARR || kv[K_SCORES].elem != T_F32 || kv[K_SCORES].count != n))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: 'tokenizer.ggml.scores' is not %llu f32 values", path, (unsigned long long)n);
    if (have[K_TYPES] && (kv[K_TYPES].type != T_ARR || kv[K_TYPES].elem != T_I32 || kv[K_TYPES].count != n))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: 'tokenizer.ggml.token_type' is not %llu i32 values", path, (unsigned long long)n);
    int64_t ids[3] = {-1, -1, -1};
    for (int k = 0; k < 3; k++)
        if (have[K_BOS + k] && (!scalar_int(c, &kv[K_BOS + k], &ids[k]) || ids[k] < 0 || (uint64_t)ids[k] >= n))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: '%s' is not a token id below %llu", path, wanted[K_BOS + k], (unsigned long long)n);
    int64_t add_bos = 1, add_space = 1;
    if (have[K_ADD_BOS] && !scalar_int(c, &kv[K_ADD_BOS], &add_bos))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: 'tokenizer.ggml.add_bos_token' is not a bool", path);
    if (have[K_ADD_SPACE] && !scalar_int(c, &kv[K_ADD_SPACE], &add_space))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: 'tokenizer.ggml.add_space_prefix' is not a bool", path);

    char **pieces = calloc((size_t)n, sizeof *pieces);
    float *scores = have[K_SCORES] ? malloc((size_t)n * sizeof *scores) : NULL;
    int32_t *types = have[K_TYPES] ? malloc((size_t)n * sizeof *types) : NULL;
    srlm_status st = NULL;
    if (!pieces || (have[K_SCORES] && !scores) || (have[K_TYPES] && !types)) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    cursor a = *c;
    a.off = kv[K_TOKENS].off;
    for (uint64_t i = 0; i < n && !st; i++) {
        const char *s;
        uint64_t len;
        if ((st = rd_str(&a, &s, &len))) break;
        if (memchr(s, 0, (size_t)len)) { st = srlm_errorf(SRLM_ERR_FORMAT, "%s: token %llu contains a NUL byte", path, (unsigned long long)i); break; }
        if (!(pieces[i] = malloc((size_t)len + 1))) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        memcpy(pieces[i], s, (size_t)len);
        pieces[i][len] = '\0';
    }
    if (!st && scores) memcpy(scores, c->p + kv[K_SCORES].off, (size_t)n * 4);
    if (!st && types) memcpy(types, c->p + kv[K_TYPES].off, (size_t)n * 4);
    if (!st)
        st = srlm_tokenizer_create_spm((int32_t)n, (const char *const *)pieces, scores, types, (int32_t)ids[0],
                                       (int32_t)ids[1], (int32_t)ids[2], add_space != 0, add_bos != 0, out);
    if (st) st = srlm_status_wrap(st, "%s: ", path);
    for (uint64_t i = 0; pieces && i < n; i++) free(pieces[i]);
    free(pieces);
    free(scores);
    free(types);
    return st;
}

/* Walks the metadata of a GGUF image in memory. */
static srlm_status gguf_vocab_parse(const uint8_t *p, size_t size, const char *path, srlm_tokenizer **out) {
    cursor c = {p, size, 0, path};
    if (size < 4 || memcmp(p, "GGUF", 4)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a GGUF file (bad magic)", path);
    c.off = 4;
    uint32_t version;
    uint64_t n_tensors, n_kv;
    SRLM_TRY(rd_u32(&c, &version));
    if (version != 2 && version != 3)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (only 2 and 3)", path, version);
    SRLM_TRY(rd_u64(&c, &n_tensors));
    SRLM_TRY(rd_u64(&c, &n_kv));
    if (n_kv > (size - c.off) / 12) /* each pair takes at least 12 bytes */
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: %llu metadata pairs cannot fit in the file", path, (unsigned long long)n_kv);
    kv_view kv[K_COUNT];
    bool have[K_COUNT] = {0};
    for (uint64_t i = 0; i < n_kv; i++) {
        const char *key;
        uint64_t klen;
        uint32_t type;
        SRLM_TRY(rd_str(&c, &key, &klen));
        SRLM_TRY(rd_u32(&c, &type));
        int w = -1;
        for (int k = 0; k < K_COUNT; k++)
            if (strlen(wanted[k]) == klen && !memcmp(wanted[k], key, (size_t)klen)) w = k;
        if (w >= 0) {
            if (have[w]) return srlm_errorf(SRLM_ERR_FORMAT, "%s: metadata key '%s' appears twice", path, wanted[w]);
            have[w] = true;
            kv[w] = (kv_view){type, 0, 0, c.off};
            if (type == T_ARR) {
                cursor h = c;
                SRLM_TRY(rd_u32(&h, &kv[w].elem));
                SRLM_TRY(rd_u64(&h, &kv[w].count));
                kv[w].off = h.off;
            }
        }
        srlm_status st = skip_value(&c, type, 0);
        if (st) return srlm_status_wrap(st, "key '%.*s': ", (int)(klen > 128 ? 128 : klen), key);
    }
    return build(&c, kv, have, out);
}

srlm_status srlm_tokenizer_create_gguf_memory(const void *data, size_t size, const char *name,
                                              srlm_tokenizer **out) {
    *out = NULL;
    return gguf_vocab_parse(data, size, name ? name : "gguf", out);
}

srlm_status srlm_tokenizer_create_gguf(const char *path, srlm_tokenizer **out) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return srlm_errorf(errno == ENOENT ? SRLM_ERR_NOT_FOUND : SRLM_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) || sb.st_size <= 0) {
        close(fd);
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: empty or unreadable file", path);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return srlm_errorf(SRLM_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    srlm_status st = gguf_vocab_parse(map, (size_t)sb.st_size, path, out);
    munmap(map, (size_t)sb.st_size);
    return st;
}
