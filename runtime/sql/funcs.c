/* funcs.c: linear-time replacements for SQLite's instr(), replace(), trim(), ltrim() and
 * rtrim(), registered on sandbox connections. SQLite's own versions are O(n*m) inside one
 * function call, where no progress handler can stop them (instr of a 1 MB text by a 0.5 MB
 * needle: 36 s). Results are SQLite 3.40's, byte for byte (tests/test_sql_funcs.c compares
 * them on random inputs); only the search changed (Knuth-Morris-Pratt, hashing for trim).
 * Not a general function library. */
#include "sql/sandbox.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Knuth-Morris-Pratt search: linear in haystack + needle whatever the bytes (memmem is
 * linear in glibc but quadratic in some libcs and in sanitizer interceptors). */
typedef struct kmp {
    const unsigned char *n;
    size_t nn;
    size_t *fail; /* fail[i]: length of the longest proper border of n[0..i] */
} kmp;

static int kmp_init(kmp *k, const unsigned char *n, size_t nn) {
    k->n = n;
    k->nn = nn;
    k->fail = malloc((nn ? nn : 1) * sizeof *k->fail);
    if (!k->fail) return -1;
    k->fail[0] = 0;
    for (size_t i = 1, b = 0; i < nn; i++) {
        while (b > 0 && n[i] != n[b]) b = k->fail[b - 1];
        if (n[i] == n[b]) b++;
        k->fail[i] = b;
    }
    return 0;
}

/* Scans h[*pos..nh) with matched-prefix state *state; returns the start of the next
 * occurrence (and leaves *pos after it, *state = nn) or nh when none. */
static size_t kmp_next(const kmp *k, const unsigned char *h, size_t nh, size_t *pos, size_t *state) {
    size_t q = *state;
    if (q == k->nn) q = k->fail[q - 1]; /* continue after a reported match */
    for (size_t i = *pos; i < nh; i++) {
        while (q > 0 && h[i] != k->n[q]) q = k->fail[q - 1];
        if (h[i] == k->n[q]) q++;
        if (q == k->nn) {
            *pos = i + 1;
            *state = q;
            return i + 1 - k->nn;
        }
    }
    *pos = nh;
    *state = q;
    return nh;
}

/* instr(X, Y): 1-based character (text) or byte (blobs) position of the first Y in X, 0 when
 * absent, NULL when either is NULL. SQLite steps over characters in text mode, so a match that
 * starts on a UTF-8 continuation byte (other than at offset 0) is not seen. */
static void fn_instr(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    int th = sqlite3_value_type(argv[0]), tn = sqlite3_value_type(argv[1]);
    if (th == SQLITE_NULL || tn == SQLITE_NULL) return;
    int nh = sqlite3_value_bytes(argv[0]), nn = sqlite3_value_bytes(argv[1]);
    sqlite3_int64 pos = 1;
    if (nn > 0) {
        const unsigned char *h, *n;
        int is_text;
        sqlite3_value *c1 = NULL, *c2 = NULL;
        if (th == SQLITE_BLOB && tn == SQLITE_BLOB) {
            h = sqlite3_value_blob(argv[0]);
            n = sqlite3_value_blob(argv[1]);
            is_text = 0;
        } else if (th != SQLITE_BLOB && tn != SQLITE_BLOB) {
            h = sqlite3_value_text(argv[0]);
            n = sqlite3_value_text(argv[1]);
            is_text = 1;
        } else {
            c1 = sqlite3_value_dup(argv[0]);
            c2 = sqlite3_value_dup(argv[1]);
            h = c1 ? sqlite3_value_text(c1) : NULL;
            n = c2 ? sqlite3_value_text(c2) : NULL;
            is_text = 1;
        }
        if (!n || (nh && !h)) {
            sqlite3_value_free(c1);
            sqlite3_value_free(c2);
            sqlite3_result_error_nomem(ctx);
            return;
        }
        kmp k;
        if (kmp_init(&k, n, (size_t)nn) != 0) {
            sqlite3_value_free(c1);
            sqlite3_value_free(c2);
            sqlite3_result_error_nomem(ctx);
            return;
        }
        size_t at = (size_t)nh, from = 0, state = 0;
        while (nn <= nh) {
            at = kmp_next(&k, h, (size_t)nh, &from, &state);
            if (at == (size_t)nh || !is_text || at == 0 || (h[at] & 0xC0) != 0x80) break;
        }
        free(k.fail);
        if (nn > nh || at == (size_t)nh) pos = 0;
        else if (!is_text) pos = 1 + (sqlite3_int64)at;
        else
            for (size_t p = 1; p <= at; p++) pos += (h[p] & 0xC0) != 0x80;
        sqlite3_value_free(c1);
        sqlite3_value_free(c2);
    }
    sqlite3_result_int64(ctx, pos);
}

/* replace(X, Y, Z): every non-overlapping Y in X, left to right, replaced by Z. As SQLite: NULL
 * when X or Y is NULL; X unchanged (and of its own type) when Y starts with a NUL byte, i.e. is
 * empty; then NULL when Z is NULL. */
static void fn_replace(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    const unsigned char *s = sqlite3_value_text(argv[0]);
    if (!s) return;
    size_t ns = (size_t)sqlite3_value_bytes(argv[0]);
    const unsigned char *pat = sqlite3_value_text(argv[1]);
    if (!pat) return;
    if (pat[0] == 0) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    size_t np = (size_t)sqlite3_value_bytes(argv[1]);
    const unsigned char *rep = sqlite3_value_text(argv[2]);
    if (!rep) return;
    size_t nr = (size_t)sqlite3_value_bytes(argv[2]);
    /* the texts may have moved while converting the others: fetch again */
    s = sqlite3_value_text(argv[0]);
    pat = sqlite3_value_text(argv[1]);
    if (!s || !pat) { sqlite3_result_error_nomem(ctx); return; }
    int64_t limit = sqlite3_limit(sqlite3_context_db_handle(ctx), SQLITE_LIMIT_LENGTH, -1);
    kmp k;
    if (kmp_init(&k, pat, np) != 0) { sqlite3_result_error_nomem(ctx); return; }
    sqlbuf out = {0};
    size_t i = 0, from = 0, state = 0;
    while (i < ns) {
        size_t m = kmp_next(&k, s, ns, &from, &state);
        state = 0; /* matches do not overlap: start afresh after each */
        sqlbuf_put(&out, (const char *)s + i, m - i);
        if (m < ns) sqlbuf_put(&out, (const char *)rep, nr);
        i = m < ns ? m + np : ns;
        if ((int64_t)out.n > limit) {
            free(out.p);
            free(k.fail);
            sqlite3_result_error_toobig(ctx);
            return;
        }
    }
    free(k.fail);
    if (out.oom) { free(out.p); sqlite3_result_error_nomem(ctx); return; }
    sqlite3_result_text64(ctx, out.p ? out.p : "", out.n, out.p ? free : SQLITE_TRANSIENT, SQLITE_UTF8);
}

/* trim family. The character set is split as SQLite does (a lead byte >= 0xC0 takes the
 * continuation bytes after it; the set ends at the first NUL). At each end SQLite tries the
 * characters in set order and strips the first that matches; here a hash of the set's
 * characters gives the same choice in time independent of the set's size. */
typedef struct tchar { const unsigned char *p; uint32_t len, first; } tchar;

static uint64_t thash(const unsigned char *p, size_t n) {
    uint64_t h = 1469598103934665603ULL ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

typedef struct tset {
    tchar *slot;     /* open addressing, key (bytes, len) -> first index in the set */
    size_t cap;
    uint32_t lens[64]; /* distinct lengths present, ascending */
    int nlens;
} tset;

static int tset_add(tset *t, const unsigned char *p, uint32_t len, uint32_t idx) {
    size_t mask = t->cap - 1, k = (size_t)thash(p, len) & mask;
    while (t->slot[k].p) {
        if (t->slot[k].len == len && !memcmp(t->slot[k].p, p, len)) return 0; /* keep the first */
        k = (k + 1) & mask;
    }
    t->slot[k].p = p;
    t->slot[k].len = len;
    t->slot[k].first = idx;
    int j = 0;
    while (j < t->nlens && t->lens[j] < len) j++;
    if (j == t->nlens || t->lens[j] != len) {
        if (t->nlens == 64) return -1;
        memmove(&t->lens[j + 1], &t->lens[j], (size_t)(t->nlens - j) * sizeof *t->lens);
        t->lens[j] = len;
        t->nlens++;
    }
    return 0;
}

static const tchar *tset_get(const tset *t, const unsigned char *p, uint32_t len) {
    size_t mask = t->cap - 1, k = (size_t)thash(p, len) & mask;
    while (t->slot[k].p) {
        if (t->slot[k].len == len && !memcmp(t->slot[k].p, p, len)) return &t->slot[k];
        k = (k + 1) & mask;
    }
    return NULL;
}

/* Length of the set character SQLite would strip at z[0..n) (front) or ending at z[n]
 * (back), 0 when none: among the set's characters that match there, the earliest in the set. */
static uint32_t tmatch(const tset *t, const unsigned char *z, size_t n, int back) {
    const tchar *best = NULL;
    for (int j = 0; j < t->nlens; j++) {
        uint32_t len = t->lens[j];
        if (len > n) break;
        const tchar *c = tset_get(t, back ? z + n - len : z, len);
        if (c && (!best || c->first < best->first)) best = c;
    }
    return best ? best->len : 0;
}

static void fn_trim(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    int flags = (int)(intptr_t)sqlite3_user_data(ctx);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
    const unsigned char *z = sqlite3_value_text(argv[0]);
    if (!z) return;
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    const unsigned char *set = (const unsigned char *)" ";
    if (argc == 2) {
        set = sqlite3_value_text(argv[1]);
        if (!set) return;
        z = sqlite3_value_text(argv[0]); /* may have moved */
        if (!z) { sqlite3_result_error_nomem(ctx); return; }
    }
    size_t nchar = 0;
    for (const unsigned char *p = set; *p; nchar++) {
        if (*p++ >= 0xC0)
            while ((*p & 0xC0) == 0x80) p++;
    }
    if (nchar > 0) {
        tset t = {0};
        t.cap = 16;
        while (t.cap < nchar * 2) t.cap *= 2;
        t.slot = calloc(t.cap, sizeof *t.slot);
        if (!t.slot) { sqlite3_result_error_nomem(ctx); return; }
        uint32_t idx = 0;
        int too_many_lengths = 0;
        for (const unsigned char *p = set; *p; idx++) {
            const unsigned char *c = p;
            if (*p++ >= 0xC0)
                while ((*p & 0xC0) == 0x80) p++;
            if (tset_add(&t, c, (uint32_t)(p - c), idx) < 0) too_many_lengths = 1;
        }
        if (too_many_lengths) {
            /* only a set of malformed UTF-8 has characters of more than 64 different lengths */
            free(t.slot);
            sqlite3_result_error(ctx, "trim(): character set too irregular for the sandbox", -1);
            return;
        }
        if (flags & 1)
            for (uint32_t len; n > 0 && (len = tmatch(&t, z, n, 0)) > 0;) z += len, n -= len;
        if (flags & 2)
            for (uint32_t len; n > 0 && (len = tmatch(&t, z, n, 1)) > 0;) n -= len;
        free(t.slot);
    }
    sqlite3_result_text64(ctx, (const char *)z, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}

int srlm_sql_register_linear_funcs(sqlite3 *h) {
    const int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(h, "instr", 2, fl, NULL, fn_instr, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(h, "replace", 3, fl, NULL, fn_replace, NULL, NULL, NULL);
    static const struct { const char *name; int flags; } trims[] = {{"ltrim", 1}, {"rtrim", 2}, {"trim", 3}};
    for (int i = 0; i < 3 && rc == SQLITE_OK; i++)
        for (int nargs = 1; nargs <= 2 && rc == SQLITE_OK; nargs++)
            rc = sqlite3_create_function_v2(h, trims[i].name, nargs, fl, (void *)(intptr_t)trims[i].flags, fn_trim,
                                            NULL, NULL, NULL);
    return rc;
}
