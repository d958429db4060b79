/* fuzz_entry.h: the functions the fuzz targets and the corpus-replay test both call: parse
 * one input with a reader and touch everything the reader hands out, so that ASan sees any
 * read outside the input. Not a test by itself: errors are expected and simply freed. */
#ifndef SRLM_FUZZ_ENTRY_H
#define SRLM_FUZZ_ENTRY_H

#include "model/config.h"
#include "model/gguf.h"
#include "model/gguf_model.h"
#include "model/safetensors.h"

#include <stdlib.h>
#include <string.h>

/* Sums bytes so the compiler cannot drop the reads. */
static inline unsigned fuzz_touch(const void *p, uint64_t n) {
    const uint8_t *b = p;
    unsigned s = 0;
    for (uint64_t i = 0; i < n; i++) s += b[i];
    return s;
}

static inline void fuzz_gguf_value(const srlm_gguf_value *v, int depth, unsigned *sink) {
    int64_t i64;
    double f;
    if (v->type == SRLM_GGUF_STRING) { *sink += fuzz_touch(v->data, v->n); return; }
    if (v->type != SRLM_GGUF_ARRAY) {
        if (srlm_gguf_value_i64(v, &i64)) *sink += (unsigned)i64;
        if (srlm_gguf_value_f64(v, &f)) *sink += f > 0;
        return;
    }
    /* Arrays: every element of the first 64, then the last one (O(n) walks stay bounded). */
    for (uint64_t i = 0; i < v->n; i = (i < 64 || i + 1 == v->n) ? i + 1 : v->n - 1) {
        srlm_gguf_value e;
        if (!srlm_gguf_array_elem(v, i, &e)) { *sink += 1000; break; }
        if (depth < 4) fuzz_gguf_value(&e, depth + 1, sink);
    }
}

/* Parses `data` as GGUF; returns 1 when the reader accepted it. */
static inline int fuzz_gguf(const uint8_t *data, size_t size) {
    srlm_gguf *g = NULL;
    srlm_status st = srlm_gguf_open_memory(data, size, "fuzz.gguf", &g);
    if (st) { srlm_status_free(st); return 0; }
    unsigned sink = 0;
    for (size_t i = 0; i < srlm_gguf_kv_count(g); i++) {
        const srlm_gguf_kv *kv = srlm_gguf_kv_at(g, i);
        sink += (unsigned)strlen(kv->key);
        fuzz_gguf_value(&kv->value, 0, &sink);
        if (srlm_gguf_find(g, kv->key) == NULL) abort(); /* every key must be found */
    }
    for (size_t i = 0; i < srlm_gguf_tensor_count(g); i++) {
        const srlm_gguf_tensor *t = srlm_gguf_tensor_at(g, i);
        sink += fuzz_touch(t->data, t->nbytes);
        if (srlm_gguf_find_tensor(g, t->name) != t) abort();
    }
    char *s = NULL;
    srlm_status_free(srlm_gguf_get_str_dup(g, "general.architecture", &s));
    free(s);
    srlm_gguf_value toks;
    srlm_status st2 = srlm_gguf_get_array(g, "tokenizer.ggml.tokens", SRLM_GGUF_STRING, &toks);
    if (!st2) {
        const char *p;
        size_t len;
        for (uint64_t i = 0; i < toks.n && i < 4096; i++)
            if (srlm_gguf_array_str(&toks, i, &p, &len)) sink += fuzz_touch(p, len);
    }
    srlm_status_free(st2);
    srlm_model_config c;
    srlm_status_free(srlm_gguf_model_config(g, &c));
    srlm_gguf_destroy(g);
    return (int)(sink & 1) | 1;
}

/* Parses `data` as safetensors; returns 1 when the reader accepted it. */
static inline int fuzz_safetensors(const uint8_t *data, size_t size) {
    srlm_safetensors *f = NULL;
    srlm_status st = srlm_safetensors_open_memory(data, size, "fuzz.safetensors", &f);
    if (st) { srlm_status_free(st); return 0; }
    unsigned sink = 0;
    for (size_t i = 0; i < srlm_safetensors_count(f); i++) {
        const srlm_st_tensor *t = srlm_safetensors_at(f, i);
        sink += fuzz_touch(t->data, t->nbytes);
        if (srlm_safetensors_find(f, t->name) != t) abort();
    }
    const char *m = srlm_safetensors_metadata(f, "format");
    if (m) sink += (unsigned)strlen(m);
    srlm_safetensors_destroy(f);
    return (int)(sink & 1) | 1;
}

/* Parses `data` as config.json. */
static inline int fuzz_config(const uint8_t *data, size_t size) {
    srlm_model_config c;
    srlm_status st = srlm_model_config_parse((const char *)data, size, "fuzz.json", &c);
    srlm_status_free(st);
    return st == NULL;
}

#endif
