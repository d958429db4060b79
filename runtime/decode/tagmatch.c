/* tagmatch.c: streaming multi-pattern detector. One Knuth-Morris-Pratt automaton state per
 * pattern (the length of the longest stream suffix that is a prefix of it), so each byte
 * costs O(patterns) amortised and the hold-back is just the largest state. Built for a
 * handful of short stop strings and tags, not for thousands of patterns. */
#include "decode/tagmatch.h"

#include <stdlib.h>
#include <string.h>

typedef struct tm_pattern {
    unsigned char *bytes;
    size_t len;
    size_t *fail; /* fail[i]: longest proper border of bytes[0..i] */
    size_t state; /* bytes of this pattern matched by the end of the stream */
} tm_pattern;

struct srlm_tagmatch {
    int32_t n;
    tm_pattern *p;
    uint64_t fed;
    uint64_t safe;
};

void srlm_tagmatch_destroy(srlm_tagmatch *m) {
    if (!m) return;
    for (int32_t i = 0; m->p && i < m->n; i++) {
        free(m->p[i].bytes);
        free(m->p[i].fail);
    }
    free(m->p);
    free(m);
}

srlm_status srlm_tagmatch_create(const char *const *pats, const size_t *lens, int32_t n,
                                 srlm_tagmatch **out) {
    *out = NULL;
    if (n < 1 || !pats) return srlm_errorf(SRLM_ERR_INVALID, "tag matcher: %d patterns", (int)n);
    for (int32_t i = 0; i < n; i++)
        if (!pats[i] || (lens ? lens[i] : strlen(pats[i])) == 0)
            return srlm_errorf(SRLM_ERR_INVALID, "tag matcher: pattern %d is empty", (int)i);
    srlm_tagmatch *m = calloc(1, sizeof *m);
    if (!m) return srlm_errorf(SRLM_ERR_OOM, "tag matcher: out of memory");
    m->p = calloc((size_t)n, sizeof *m->p);
    if (!m->p) {
        free(m);
        return srlm_errorf(SRLM_ERR_OOM, "tag matcher: out of memory");
    }
    m->n = n;
    for (int32_t i = 0; i < n; i++) {
        tm_pattern *t = &m->p[i];
        t->len = lens ? lens[i] : strlen(pats[i]);
        t->bytes = malloc(t->len);
        t->fail = malloc(t->len * sizeof *t->fail);
        if (!t->bytes || !t->fail) {
            srlm_tagmatch_destroy(m);
            return srlm_errorf(SRLM_ERR_OOM, "tag matcher: out of memory");
        }
        memcpy(t->bytes, pats[i], t->len);
        t->fail[0] = 0;
        for (size_t j = 1, k = 0; j < t->len; j++) {
            while (k > 0 && t->bytes[j] != t->bytes[k]) k = t->fail[k - 1];
            if (t->bytes[j] == t->bytes[k]) k++;
            t->fail[j] = k;
        }
    }
    *out = m;
    return NULL;
}

void srlm_tagmatch_reset(srlm_tagmatch *m) {
    for (int32_t i = 0; i < m->n; i++) m->p[i].state = 0;
    m->fed = 0;
    m->safe = 0;
}

srlm_tagmatch_result srlm_tagmatch_feed(srlm_tagmatch *m, const char *bytes, size_t n) {
    srlm_tagmatch_result r = {-1, 0, 0, m->safe, 0};
    const unsigned char *in = (const unsigned char *)bytes;
    for (size_t j = 0; j < n; j++) {
        unsigned char c = in[j];
        m->fed++;
        int32_t hit = -1;
        for (int32_t i = 0; i < m->n; i++) {
            tm_pattern *t = &m->p[i];
            size_t k = t->state;
            if (k == t->len) k = t->fail[k - 1]; /* cannot happen after a reset; kept for safety */
            while (k > 0 && c != t->bytes[k]) k = t->fail[k - 1];
            if (c == t->bytes[k]) k++;
            t->state = k;
            if (k == t->len && (hit < 0 || t->len > m->p[hit].len)) hit = i;
        }
        if (hit >= 0) {
            r.pattern = hit;
            r.match_end = m->fed;
            r.match_start = m->fed - m->p[hit].len;
            /* Bytes before the match are final; restart after it so matches never overlap. */
            if (r.match_start > m->safe) m->safe = r.match_start;
            r.safe_end = r.match_start;
            r.consumed = j + 1;
            for (int32_t i = 0; i < m->n; i++) m->p[i].state = 0;
            m->safe = m->fed;
            return r;
        }
    }
    size_t hold = 0;
    for (int32_t i = 0; i < m->n; i++)
        if (m->p[i].state > hold) hold = m->p[i].state;
    if (m->fed - hold > m->safe) m->safe = m->fed - hold;
    r.safe_end = m->safe;
    r.consumed = n;
    return r;
}
