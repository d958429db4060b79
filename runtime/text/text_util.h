/* text_util.h: small building blocks for the tokenizers: UTF-8 checks, growable buffers and
 * two open-addressing hash maps (byte string -> id, id pair -> merge). Internal to
 * runtime/text; not a general-purpose container library. */
#ifndef SRLM_TEXT_UTIL_H
#define SRLM_TEXT_UTIL_H

#include "srlm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence starting at s[0] (1..4), or 0 when the bytes at s are
 * not a complete, well-formed sequence (overlong forms, surrogates and values past U+10FFFF
 * are rejected). *cp receives the code point when non-NULL. */
int srlm_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);
/* Checks that s[0..n) is well-formed UTF-8; the error names the first bad byte's offset. */
srlm_status srlm_utf8_check(const char *s, size_t n, const char *what);
/* Writes cp as UTF-8 into out (at least 4 bytes); returns the byte count. */
int srlm_utf8_put(uint32_t cp, char *out);

typedef struct srlm_bytebuf {
    char *data;
    size_t len, cap;
} srlm_bytebuf;
/* Appends n bytes (or, with p NULL, n unset bytes) and keeps the data NUL-terminated. */
srlm_status srlm_bytebuf_append(srlm_bytebuf *b, const void *p, size_t n);
void srlm_bytebuf_free(srlm_bytebuf *b);

typedef struct srlm_i32vec {
    int32_t *data;
    size_t len, cap;
} srlm_i32vec;
srlm_status srlm_i32vec_push(srlm_i32vec *v, int32_t x);
void srlm_i32vec_free(srlm_i32vec *v);

/* Byte string -> int32 map. Keys are copied into the map's own pool. */
typedef struct srlm_strmap {
    uint32_t *slots;      /* entry index + 1, 0 = empty */
    size_t cap;           /* power of two */
    uint32_t *key_off, *key_len;
    int32_t *val;
    size_t n, n_cap;
    srlm_bytebuf pool;
} srlm_strmap;
/* Inserts or overwrites key -> val. */
srlm_status srlm_strmap_put(srlm_strmap *m, const char *key, size_t len, int32_t val);
/* Returns true and sets *val when the key is present. */
bool srlm_strmap_get(const srlm_strmap *m, const char *key, size_t len, int32_t *val);
void srlm_strmap_free(srlm_strmap *m);

/* (left id, right id) -> (rank, merged id): the BPE merge table. One 16-byte slot per
 * entry so a lookup touches one cache line: the table (~4 MiB for Qwen) does not fit in
 * cache and encoding speed is bound by these misses. */
typedef struct srlm_pair_slot {
    uint64_t key;         /* UINT64_MAX = empty */
    uint32_t rank, merged;
} srlm_pair_slot;
typedef struct srlm_pairmap {
    srlm_pair_slot *slots;
    size_t cap;           /* power of two */
    size_t n;
} srlm_pairmap;
srlm_status srlm_pairmap_init(srlm_pairmap *m, size_t expected);
/* Inserts a pair; an existing pair keeps its first (lower) rank, as in HF tokenizers. */
void srlm_pairmap_put(srlm_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t merged);
static inline bool srlm_pairmap_get(const srlm_pairmap *m, uint32_t a, uint32_t b,
                                    uint32_t *rank, uint32_t *merged) {
    uint64_t key = ((uint64_t)a << 32) | b;
    size_t mask = m->cap - 1;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    for (;;) {
        const srlm_pair_slot *s = &m->slots[i];
        if (s->key == key) { *rank = s->rank; *merged = s->merged; return true; }
        if (s->key == UINT64_MAX) return false;
        i = (i + 1) & mask;
    }
}
void srlm_pairmap_free(srlm_pairmap *m);

#endif

/* Appends s[0..n) to out with every ill-formed byte replaced by U+FFFD. When `final` is 0,
 * a trailing incomplete-but-possible sequence is not consumed; the return value is the
 * number of bytes consumed (n when final). */
srlm_status srlm_utf8_sanitize(const uint8_t *s, size_t n, int final, srlm_bytebuf *out, size_t *consumed);
