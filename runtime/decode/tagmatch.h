/* tagmatch.h: a streaming multi-pattern detector over a byte stream, for stop strings and
 * for the closing tags of the text-to-SQL loop (`</sql>` arriving split across tokens). It
 * says where a pattern ends and how much of the stream is safe to show: bytes that might
 * still become the start of a pattern are held back. Not a regex engine and not
 * UTF-8 aware: offsets are bytes; cutting output at character boundaries is the text
 * decoder's job. */
#ifndef SRLM_DECODE_TAGMATCH_H
#define SRLM_DECODE_TAGMATCH_H

#include "srlm.h"

#include <stdint.h>

typedef struct srlm_tagmatch srlm_tagmatch;

/* Offsets count bytes fed since creation or the last reset. */
typedef struct srlm_tagmatch_result {
    int32_t pattern;      /* index of the pattern that matched, -1 when none did */
    uint64_t match_start; /* when pattern >= 0: [match_start, match_end) is the match */
    uint64_t match_end;
    uint64_t safe_end;    /* bytes [0, safe_end) can never be part of a match: emit them.
                             Never decreases. At a match it equals match_start. */
    size_t consumed;      /* bytes of this call's input scanned: all of them, or up to and
                             including the match's last byte */
} srlm_tagmatch_result;

/* Builds a detector for n patterns (pats[i] of lens[i] bytes; lens NULL: NUL-terminated).
 * Patterns are copied. Errors: SRLM_ERR_INVALID for n < 1 or an empty pattern, SRLM_ERR_OOM. */
srlm_status srlm_tagmatch_create(const char *const *pats, const size_t *lens, int32_t n,
                                 srlm_tagmatch **out);
/* Frees the detector; accepts NULL. */
void srlm_tagmatch_destroy(srlm_tagmatch *m);
/* Forgets all progress; offsets restart at 0. */
void srlm_tagmatch_reset(srlm_tagmatch *m);

/* Scans `n` more bytes of the stream. Stops at the first match, i.e. the match that ends
 * earliest; among patterns ending at the same byte, the longest (then the lowest index)
 * wins. After a match the detector restarts at match_end (matches never overlap), and the
 * caller feeds the rest of its chunk (bytes from `consumed` on) again if it wants to go on.
 * Without a match, safe_end = bytes fed - the longest stream suffix that is a proper prefix
 * of some pattern. So a byte shown once (below safe_end) is never inside a later match. */
srlm_tagmatch_result srlm_tagmatch_feed(srlm_tagmatch *m, const char *bytes, size_t n);

#endif
