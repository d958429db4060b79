/* gguf_vocab.c: builds a SentencePiece tokenizer from a GGUF file's tokenizer.ggml.*
 * metadata, read through the model's GGUF reader (runtime/model/gguf.h), which validates
 * the file. Only `tokenizer.ggml.model = llama` is supported here; GGUF byte-level BPE
 * ("gpt2") vocabularies are refused (use the model folder's tokenizer.json). */
#include "tokenizer.h"
#include "model/gguf.h"

#include <stdlib.h>
#include <string.h>

/* Optional integer key: absent leaves *v unchanged; present but invalid is an error. */
static srlm_status opt_u32(const srlm_gguf *g, const char *key, int64_t *v) {
    uint32_t x;
    srlm_status st = srlm_gguf_get_u32(g, key, &x);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) { srlm_status_free(st); return NULL; }
    SRLM_TRY(st);
    *v = x;
    return NULL;
}

static srlm_status opt_bool(const srlm_gguf *g, const char *key, int *v) {
    bool x;
    srlm_status st = srlm_gguf_get_bool(g, key, &x);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) { srlm_status_free(st); return NULL; }
    SRLM_TRY(st);
    *v = x;
    return NULL;
}

srlm_status srlm_tokenizer_from_gguf(const srlm_gguf *g, srlm_tokenizer **out) {
    *out = NULL;
    const char *path = srlm_gguf_path(g);
    const char *model;
    size_t mlen;
    srlm_status st = srlm_gguf_get_str(g, "tokenizer.ggml.model", &model, &mlen);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) {
        srlm_status_free(st);
        return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: no tokenizer in this GGUF (metadata 'tokenizer.ggml.model' is missing)", path);
    }
    SRLM_TRY(st);
    if (mlen != 5 || memcmp(model, "llama", 5))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%.*s' is not supported from GGUF (only 'llama', SentencePiece)",
                           path, (int)(mlen > 64 ? 64 : mlen), model);
    srlm_gguf_value tokens, scores, types;
    SRLM_TRY(srlm_gguf_get_array(g, "tokenizer.ggml.tokens", SRLM_GGUF_STRING, &tokens));
    uint64_t n = tokens.n;
    if (n == 0 || n > (1u << 24)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: %llu tokens", path, (unsigned long long)n);
    int have_scores = 0, have_types = 0;
    /* Both are optional: without scores every merge ties (leftmost first); without types
     * every piece is normal. */
    st = srlm_gguf_get_array(g, "tokenizer.ggml.scores", -1, &scores);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) { srlm_status_free(st); st = NULL; }
    else if (st) return st;
    else have_scores = 1;
    st = srlm_gguf_get_array(g, "tokenizer.ggml.token_type", -1, &types);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) { srlm_status_free(st); st = NULL; }
    else if (st) return st;
    else have_types = 1;
    if ((have_scores && scores.n != n) || (have_types && types.n != n))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: %llu tokens but %llu scores and %llu token types", path, (unsigned long long)n,
                           (unsigned long long)(have_scores ? scores.n : n), (unsigned long long)(have_types ? types.n : n));
    int64_t ids[3] = {-1, -1, -1};
    static const char *const id_keys[3] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                           "tokenizer.ggml.unknown_token_id"};
    for (int k = 0; k < 3; k++) {
        SRLM_TRY(opt_u32(g, id_keys[k], &ids[k]));
        if (ids[k] >= (int64_t)n)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: '%s' = %lld is not below %llu tokens", path, id_keys[k], (long long)ids[k],
                               (unsigned long long)n);
    }
    int add_bos = 1, add_space = 1;
    SRLM_TRY(opt_bool(g, "tokenizer.ggml.add_bos_token", &add_bos));
    SRLM_TRY(opt_bool(g, "tokenizer.ggml.add_space_prefix", &add_space));

    char **pieces = calloc((size_t)n, sizeof *pieces);
    float *sc = have_scores ? malloc((size_t)n * sizeof *sc) : NULL;
    int32_t *ty = have_types ? malloc((size_t)n * sizeof *ty) : NULL;
    if (!pieces || (have_scores && !sc) || (have_types && !ty)) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    for (uint64_t i = 0; i < n && !st; i++) {
        const char *s;
        size_t len;
        float f;
        int64_t t;
        if (!srlm_gguf_array_str(&tokens, i, &s, &len) || memchr(s, 0, len))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: token %llu is not a string without NUL bytes", path, (unsigned long long)i);
        else if (have_scores && !srlm_gguf_array_f32(&scores, i, &f))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: score %llu is not a number", path, (unsigned long long)i);
        else if (have_types && (!srlm_gguf_array_i64(&types, i, &t) || t < INT32_MIN || t > INT32_MAX))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: token type %llu is not an int32", path, (unsigned long long)i);
        else if (!(pieces[i] = malloc(len + 1)))
            st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        else {
            memcpy(pieces[i], s, len);
            pieces[i][len] = '\0';
            if (have_scores) sc[i] = f;
            if (have_types) ty[i] = (int32_t)t;
        }
    }
    if (!st)
        st = srlm_tokenizer_create_spm((int32_t)n, (const char *const *)pieces, sc, ty, (int32_t)ids[0], (int32_t)ids[1],
                                       (int32_t)ids[2], add_space, add_bos, out);
    if (st) st = srlm_status_wrap(st, "%s: ", path);
    for (uint64_t i = 0; pieces && i < n; i++) free(pieces[i]);
    free(pieces);
    free(sc);
    free(ty);
    return st;
}

srlm_status srlm_tokenizer_create_gguf_memory(const void *data, size_t size, const char *name,
                                              srlm_tokenizer **out) {
    *out = NULL;
    srlm_gguf *g;
    SRLM_TRY(srlm_gguf_open_memory(data, size, name ? name : "gguf", &g));
    srlm_status st = srlm_tokenizer_from_gguf(g, out);
    srlm_gguf_destroy(g);
    return st;
}

srlm_status srlm_tokenizer_create_gguf(const char *path, srlm_tokenizer **out) {
    *out = NULL;
    srlm_gguf *g;
    SRLM_TRY(srlm_gguf_open(path, &g));
    srlm_status st = srlm_tokenizer_from_gguf(g, out);
    srlm_gguf_destroy(g);
    return st;
}
