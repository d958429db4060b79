/* bytebuf.h: a growable byte buffer for tests that build binary files (GGUF, safetensors)
 * in memory, then corrupt them. Test-only; aborts on out-of-memory. */
#ifndef SRLM_TEST_BYTEBUF_H
#define SRLM_TEST_BYTEBUF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bytebuf {
    uint8_t *p;
    size_t n, cap;
} bytebuf;

static inline void bb_put(bytebuf *b, const void *src, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}
static inline void bb_u8(bytebuf *b, uint8_t v) { bb_put(b, &v, 1); }
static inline void bb_u32(bytebuf *b, uint32_t v) { bb_put(b, &v, 4); }
static inline void bb_u64(bytebuf *b, uint64_t v) { bb_put(b, &v, 8); }
static inline void bb_f32(bytebuf *b, float v) { bb_put(b, &v, 4); }
static inline void bb_gstr(bytebuf *b, const char *s) { bb_u64(b, strlen(s)); bb_put(b, s, strlen(s)); }
static inline void bb_pad(bytebuf *b, size_t align) { while (b->n % align) bb_u8(b, 0); }
static inline void bb_free(bytebuf *b) { free(b->p); memset(b, 0, sizeof *b); }

static inline int bb_write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
static inline uint8_t *bb_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(sz > 0 ? (size_t)sz : 1);
    if (p && fread(p, 1, (size_t)sz, f) != (size_t)sz) { free(p); p = NULL; }
    fclose(f);
    *n = (size_t)sz;
    return p;
}

#endif
