/* text_util.c: UTF-8 checks, growable buffers and the two hash maps the tokenizers use.
 * Not thread-safe for writers; readers of a finished map may run concurrently. */
#include "text_util.h"

#include <stdlib.h>
#include <string.h>

int srlm_utf8_next(const uint8_t *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    uint8_t c = s[0];
    uint32_t v;
    int len;
    if (c < 0x80) { if (cp) *cp = c; return 1; }
    if (c < 0xC2) return 0;                      /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) { len = 2; v = c & 0x1F; }
    else if (c < 0xF0) { len = 3; v = c & 0x0F; }
    else if (c < 0xF5) { len = 4; v = c & 0x07; }
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    if (cp) *cp = v;
    return len;
}

srlm_status srlm_utf8_check(const char *s, size_t n, const char *what) {
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) { i++; continue; }
        int k = srlm_utf8_next(p + i, n - i, NULL);
        if (!k)
            return srlm_errorf(SRLM_ERR_INVALID, "%s: invalid UTF-8 at byte %zu (0x%02X)", what, i, p[i]);
        i += (size_t)k;
    }
    return NULL;
}

int srlm_utf8_put(uint32_t cp, char *out) {
    uint8_t *o = (uint8_t *)out;
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

srlm_status srlm_bytebuf_append(srlm_bytebuf *b, const void *p, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return srlm_errorf(SRLM_ERR_OOM, "out of host memory growing a %zu-byte buffer", cap);
        b->data = d;
        b->cap = cap;
    }
    if (n && p) memcpy(b->data + b->len, p, n); /* p NULL: reserve n bytes, contents unset */
    b->len += n;
    b->data[b->len] = '\0'; /* always NUL-terminated so callers can hand out C strings */
    return NULL;
}

void srlm_bytebuf_free(srlm_bytebuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

srlm_status srlm_i32vec_push(srlm_i32vec *v, int32_t x) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *d = realloc(v->data, cap * sizeof *d);
        if (!d) return srlm_errorf(SRLM_ERR_OOM, "out of host memory growing a %zu-token buffer", cap);
        v->data = d;
        v->cap = cap;
    }
    v->data[v->len++] = x;
    return NULL;
}

void srlm_i32vec_free(srlm_i32vec *v) {
    free(v->data);
    memset(v, 0, sizeof *v);
}

/* ---- string map --------------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    /* FNV-1a over 8-byte words then bytes, with a final mix: short keys dominate. */
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static srlm_status strmap_grow(srlm_strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for a %zu-slot map", cap);
    for (size_t e = 0; e < m->n; e++) {
        size_t i = hash_bytes(m->pool.data + m->key_off[e], m->key_len[e]) & (cap - 1);
        while (slots[i]) i = (i + 1) & (cap - 1);
        slots[i] = (uint32_t)e + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return NULL;
}

static uint32_t *strmap_find(const srlm_strmap *m, const char *key, size_t len) {
    size_t mask = m->cap - 1;
    size_t i = hash_bytes(key, len) & mask;
    for (;;) {
        uint32_t e = m->slots[i];
        if (!e) return &m->slots[i];
        e--;
        if (m->key_len[e] == len && !memcmp(m->pool.data + m->key_off[e], key, len)) return &m->slots[i];
        i = (i + 1) & mask;
    }
}

srlm_status srlm_strmap_put(srlm_strmap *m, const char *key, size_t len, int32_t val) {
    if (len > UINT32_MAX || m->pool.len + len > UINT32_MAX)
        return srlm_errorf(SRLM_ERR_INVALID, "string map key too long (%zu bytes)", len);
    if ((m->n + 1) * 2 > m->cap) SRLM_TRY(strmap_grow(m));
    uint32_t *slot = strmap_find(m, key, len);
    if (*slot) { m->val[*slot - 1] = val; return NULL; }
    if (m->n == m->n_cap) {
        size_t nc = m->n_cap ? m->n_cap * 2 : 1024;
        uint32_t *ko = realloc(m->key_off, nc * sizeof *ko);
        if (ko) m->key_off = ko;
        uint32_t *kl = realloc(m->key_len, nc * sizeof *kl);
        if (kl) m->key_len = kl;
        int32_t *v = realloc(m->val, nc * sizeof *v);
        if (v) m->val = v;
        if (!ko || !kl || !v) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for %zu map entries", nc);
        m->n_cap = nc;
    }
    m->key_off[m->n] = (uint32_t)m->pool.len;
    m->key_len[m->n] = (uint32_t)len;
    m->val[m->n] = val;
    SRLM_TRY(srlm_bytebuf_append(&m->pool, key, len));
    m->n++;
    *slot = (uint32_t)m->n;
    return NULL;
}

bool srlm_strmap_get(const srlm_strmap *m, const char *key, size_t len, int32_t *val) {
    if (!m->cap) return false;
    uint32_t *slot = strmap_find(m, key, len);
    if (!*slot) return false;
    *val = m->val[*slot - 1];
    return true;
}

void srlm_strmap_free(srlm_strmap *m) {
    free(m->slots);
    free(m->key_off);
    free(m->key_len);
    free(m->val);
    srlm_bytebuf_free(&m->pool);
    memset(m, 0, sizeof *m);
}

/* ---- pair map ----------------------------------------------------------------------- */

srlm_status srlm_pairmap_init(srlm_pairmap *m, size_t expected) {
    memset(m, 0, sizeof *m);
    size_t cap = 16;
    while (cap < expected * 2 + 1) cap *= 2;
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for a %zu-pair merge table", expected);
    for (size_t i = 0; i < cap; i++) m->slots[i].key = UINT64_MAX;
    m->cap = cap;
    return NULL;
}

void srlm_pairmap_put(srlm_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t merged) {
    /* Capacity was sized by init for every pair the caller inserts. */
    uint64_t key = ((uint64_t)a << 32) | b;
    size_t mask = m->cap - 1;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (m->slots[i].key != UINT64_MAX) {
        if (m->slots[i].key == key) return;
        i = (i + 1) & mask;
    }
    m->slots[i] = (srlm_pair_slot){key, rank, merged};
    m->n++;
}

void srlm_pairmap_free(srlm_pairmap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* True when s[0..k) could still become a well-formed sequence with more bytes. */
static int utf8_could_continue(const uint8_t *s, size_t k) {
    uint8_t c = s[0];
    size_t need = c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    if (!need || k >= need) return 0;
    for (size_t i = 1; i < k; i++) {
        uint8_t lo = 0x80, hi = 0xBF;
        if (i == 1) {
            if (c == 0xE0) lo = 0xA0;
            else if (c == 0xED) hi = 0x9F;
            else if (c == 0xF0) lo = 0x90;
            else if (c == 0xF4) hi = 0x8F;
        }
        if (s[i] < lo || s[i] > hi) return 0;
    }
    return 1;
}

srlm_status srlm_utf8_sanitize(const uint8_t *s, size_t n, int final, srlm_bytebuf *out, size_t *consumed) {
    static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    size_t i = 0, run = 0; /* run: start of the current stretch of valid bytes */
    *consumed = 0;
    if (!n) return NULL; /* s may be NULL */
    while (i < n) {
        if (s[i] < 0x80) { i++; continue; }
        int k = srlm_utf8_next(s + i, n - i, NULL);
        if (k) { i += (size_t)k; continue; }
        SRLM_TRY(srlm_bytebuf_append(out, s + run, i - run));
        if (!final && n - i < 4 && utf8_could_continue(s + i, n - i)) {
            *consumed = i;
            return NULL;
        }
        /* One U+FFFD per maximal ill-formed prefix, as the Unicode standard recommends. */
        size_t j = i + 1;
        while (j < n && j - i < 3 && utf8_could_continue(s + i, j - i + 1)) j++;
        SRLM_TRY(srlm_bytebuf_append(out, fffd, 3));
        i = run = j;
    }
    SRLM_TRY(srlm_bytebuf_append(out, s + run, n - run));
    *consumed = n;
    return NULL;
}
