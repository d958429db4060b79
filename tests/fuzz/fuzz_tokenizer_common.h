/* fuzz_tokenizer_common.h: what every tokenizer fuzz target checks once a tokenizer has
 * loaded: encoding any text either fails cleanly or yields ids inside the vocabulary;
 * decoding yields well-formed UTF-8; streaming decoding equals whole decoding. Included by
 * the fuzz_*.c targets only. */
#ifndef SRLM_FUZZ_TOKENIZER_COMMON_H
#define SRLM_FUZZ_TOKENIZER_COMMON_H

#include "srlm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A property violation is a bug: crash so the fuzzer (or the replay test) reports it. */
static void require(int cond) {
    if (!cond) abort();
}

/* Well-formed UTF-8: no stray continuation bytes, overlongs, surrogates or values past
 * U+10FFFF. Written out here so the check does not trust the code under test. */
static int utf8_ok(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
        if (!len || len > n - i) return 0;
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += len;
    }
    return 1;
}

static void exercise(const srlm_tokenizer *tok, const char *text, size_t len, unsigned flags) {
    int32_t *ids = NULL;
    size_t n = 0;
    srlm_status st = srlm_tokenizer_encode(tok, text, len, flags, &ids, &n);
    if (st) { srlm_status_free(st); return; }
    int32_t vocab = srlm_tokenizer_vocab_size(tok);
    for (size_t i = 0; i < n; i++) require(ids[i] >= 0 && ids[i] < vocab);
    char *whole = NULL;
    size_t wlen = 0;
    st = srlm_tokenizer_decode(tok, ids, n, 0, &whole, &wlen);
    require(!st);
    require(utf8_ok(whole, wlen));
    srlm_detokenizer *d = NULL;
    require(!srlm_detokenizer_create(tok, 0, &d));
    char *acc = malloc(wlen + 16);
    size_t alen = 0;
    require(acc != NULL);
    for (size_t i = 0; i <= n; i++) {
        const char *s;
        size_t l;
        st = i < n ? srlm_detokenizer_push(d, ids[i], &s, &l) : srlm_detokenizer_flush(d, &s, &l);
        require(!st && utf8_ok(s, l) && alen + l <= wlen);
        memcpy(acc + alen, s, l);
        alen += l;
    }
    require(alen == wlen && !memcmp(acc, whole, wlen));
    free(acc);
    srlm_detokenizer_destroy(d);
    free(whole);
    free(ids);
}

/* Encode/decode checks with and without special-token parsing, and a chat prompt. */
static void exercise_all(const srlm_tokenizer *tok, const char *text, size_t len) {
    exercise(tok, text, len, 0);
    exercise(tok, text, len, SRLM_ENCODE_SPECIAL | SRLM_ENCODE_BOS);
    srlm_chat_message m = {"user", "hi"};
    char *chat = NULL;
    srlm_status st = srlm_chat_render(tok, &m, 1, 1, &chat);
    if (!st) exercise(tok, chat, strlen(chat), SRLM_ENCODE_SPECIAL);
    srlm_status_free(st);
    free(chat);
}

#endif
