/* grow.h: doubling growth of a malloc'd array, shared by the decode loops (generate.c,
 * sql/sqlloop.c) that append tokens, log-probs and text as they go. */
#ifndef SRLM_GROW_H
#define SRLM_GROW_H

#include "srlm.h"

#include <stdlib.h>

/* Makes *p hold at least `need` elements of `elem` bytes (capacity *cap, doubling from 64).
 * On failure *p and *cap are unchanged and the error names `what`. */
static inline srlm_status srlm_grow(void **p, size_t *cap, size_t need, size_t elem, const char *what) {
    if (need <= *cap) return NULL;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return srlm_errorf(SRLM_ERR_OOM, "out of host memory %s", what);
    *p = q, *cap = c;
    return NULL;
}

#endif
