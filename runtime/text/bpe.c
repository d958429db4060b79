/* bpe.c: byte-level BPE (GPT-2 / Qwen style) loaded from a Hugging Face tokenizer.json:
 * NFC normaliser, Split pre-tokenizer regex (PCRE2, UTF + UCP, JIT when available),
 * ByteLevel byte <-> unicode mapping, merges by rank. It is not a general HF tokenizers
 * port: other models, normalisers and pre-tokenizers are refused with SRLM_ERR_UNSUPPORTED. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* GPT-2's pre-tokenizer regex, used by ByteLevel with use_regex = true. */
static const char gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* ByteLevel: bytes that are printable stay themselves, the rest map to U+0100 upwards in
 * byte order. byte_cp[b] is the code point standing for byte b; cp_byte inverts it. */
static void byte_level_tables(uint16_t byte_cp[256], int16_t cp_byte[324]) {
    int next = 256;
    for (int i = 0; i < 324; i++) cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        byte_cp[b] = (uint16_t)(printable ? b : next++);
        cp_byte[byte_cp[b]] = (int16_t)b;
    }
}

/* Spelling (byte-level unicode) -> raw bytes into out (at most len bytes). Returns the raw
 * length, or -1 when some character is outside the byte alphabet (then the spelling's own
 * UTF-8 is the token's text, as HF's ByteLevel decoder does). */
static long byte_level_decode(const int16_t cp_byte[324], const char *s, size_t len, char *out) {
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        int k = srlm_utf8_next((const uint8_t *)s + i, len - i, &cp);
        if (!k || cp >= 324 || cp_byte[cp] < 0) return -1;
        out[o++] = (char)cp_byte[cp];
        i += (size_t)k;
    }
    return (long)o;
}

static const char *json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int json_bool(const cJSON *o, const char *key, int dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return dflt;
}

static int json_is_empty_or_null(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]);
}

/* Looks up a spelling in the vocabulary (converted to raw bytes). */
static int find_spelling(const srlm_tokenizer *t, const int16_t cp_byte[324], const char *s, int32_t *id) {
    size_t len = strlen(s);
    char stackbuf[256];
    char *buf = len <= sizeof stackbuf ? stackbuf : malloc(len);
    if (!buf) return 0;
    long r = byte_level_decode(cp_byte, s, len, buf);
    int ok = r >= 0 ? srlm_strmap_get(&t->vocab, buf, (size_t)r, id) : srlm_strmap_get(&t->vocab, s, len, id);
    if (buf != stackbuf) free(buf);
    return ok;
}

static srlm_status load_normalizer(srlm_tokenizer *t, const cJSON *n, const char *name) {
    if (!n || cJSON_IsNull(n)) return NULL;
    const char *type = json_str(n, "type");
    if (type && !strcmp(type, "NFC")) { t->nfc = 1; return NULL; }
    if (type && !strcmp(type, "Sequence")) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        const cJSON *e;
        if (!cJSON_IsArray(list)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: normalizer Sequence without a 'normalizers' array", name);
        cJSON_ArrayForEach(e, list) SRLM_TRY(load_normalizer(t, e, name));
        return NULL;
    }
    return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: normalizer '%s' is not supported (only NFC)", name, type ? type : "?");
}

static srlm_status compile_split(srlm_tokenizer *t, const char *pattern, const char *name) {
    if (t->split_re)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: more than one regex pre-tokenizer is not supported", name);
    int err;
    PCRE2_SIZE erroff;
    t->split_re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &err, &erroff, NULL);
    if (!t->split_re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: pre-tokenizer regex does not compile at offset %zu: %s",
                           name, (size_t)erroff, (const char *)msg);
    }
    t->jit = pcre2_jit_compile(t->split_re, PCRE2_JIT_COMPLETE) == 0;
    return NULL;
}

static srlm_status load_pre_tokenizer(srlm_tokenizer *t, const cJSON *p, const char *name, int *byte_level) {
    if (!p || cJSON_IsNull(p)) return NULL;
    const char *type = json_str(p, "type");
    if (type && !strcmp(type, "Sequence")) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers");
        const cJSON *e;
        if (!cJSON_IsArray(list)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: pre_tokenizer Sequence without a 'pretokenizers' array", name);
        cJSON_ArrayForEach(e, list) SRLM_TRY(load_pre_tokenizer(t, e, name, byte_level));
        return NULL;
    }
    if (type && !strcmp(type, "ByteLevel")) {
        if (json_bool(p, "add_prefix_space", 0))
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: ByteLevel add_prefix_space = true is not supported", name);
        if (*byte_level)
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: two ByteLevel pre-tokenizers", name);
        *byte_level = 1;
        if (json_bool(p, "use_regex", 1)) SRLM_TRY(compile_split(t, gpt2_pattern, name));
        return NULL;
    }
    if (type && !strcmp(type, "Split")) {
        if (*byte_level)
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: a Split after ByteLevel is not supported", name);
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const char *re = pat ? json_str(pat, "Regex") : NULL;
        const char *behavior = json_str(p, "behavior");
        if (!re) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: Split pre-tokenizer needs a 'Regex' pattern", name);
        if (!behavior || strcmp(behavior, "Isolated") || json_bool(p, "invert", 0))
            return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: only Split with behavior 'Isolated' and invert = false is supported", name);
        return compile_split(t, re, name);
    }
    return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: pre-tokenizer '%s' is not supported", name, type ? type : "?");
}

/* Bounds the vocabulary so a hostile file cannot make us allocate gigabytes. */
#define MAX_VOCAB (1 << 24)

srlm_status srlm_bpe_load(srlm_tokenizer *t, const cJSON *root, const char *name) {
    if (!cJSON_IsObject(root)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: top level is not a JSON object", name);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: no 'model' object", name);
    const char *mtype = json_str(model, "type");
    if (mtype && strcmp(mtype, "BPE"))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: model type '%s' is not supported (only BPE)", name, mtype);
    if (json_bool(model, "byte_fallback", 0))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: BPE with byte_fallback (SentencePiece-style) is not supported from tokenizer.json", name);
    if (!json_is_empty_or_null(model, "continuing_subword_prefix") || !json_is_empty_or_null(model, "end_of_word_suffix"))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: BPE subword prefixes/suffixes are not supported", name);
    if (json_bool(model, "ignore_merges", 0))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: BPE ignore_merges = true is not supported", name);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    if (!cJSON_IsObject(vocab)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: model.vocab is not an object", name);
    if (!cJSON_IsArray(merges)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: model.merges is not an array", name);
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: added_tokens is not an array", name);

    t->kind = SRLM_TOK_BPE;
    t->bos = t->eos = t->unk = -1;
    int byte_level = 0;
    SRLM_TRY(load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), name));
    SRLM_TRY(load_pre_tokenizer(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), name, &byte_level));
    if (!byte_level)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "%s: only byte-level BPE is supported (no ByteLevel pre-tokenizer)", name);

    /* Ids: every vocab value and added id must be an integer in [0, MAX_VOCAB). */
    int64_t max_id = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= MAX_VOCAB || e->valuedouble != (double)(int32_t)e->valuedouble)
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: vocab entry '%s' has no valid id", name, e->string ? e->string : "?");
        if (e->valueint > max_id) max_id = e->valueint;
    }
    cJSON_ArrayForEach(e, added) {
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (!cJSON_IsNumber(idv) || idv->valuedouble < 0 || idv->valuedouble >= MAX_VOCAB || idv->valuedouble != (double)(int32_t)idv->valuedouble || !json_str(e, "content"))
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: an added token lacks a valid 'id' or 'content'", name);
        if (!json_str(e, "content")[0])
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: added token %d has empty content", name, idv->valueint);
        if (idv->valueint > max_id) max_id = idv->valueint;
    }
    if (max_id < 0) return srlm_errorf(SRLM_ERR_FORMAT, "%s: empty vocabulary", name);
    SRLM_TRY(srlm_tok_alloc(t, (int32_t)(max_id + 1)));

    uint16_t byte_cp[256];
    int16_t cp_byte[324];
    byte_level_tables(byte_cp, cp_byte);
    srlm_bytebuf raw = {0};
    srlm_status st = NULL;
    cJSON_ArrayForEach(e, vocab) {
        const char *s = e->string;
        size_t len = strlen(s);
        raw.len = 0;
        if ((st = srlm_bytebuf_append(&raw, NULL, len))) break;
        long r = byte_level_decode(cp_byte, s, len, raw.data);
        const char *txt = r >= 0 ? raw.data : s;
        size_t tlen = r >= 0 ? (size_t)r : len;
        if ((st = srlm_tok_set_text(t, e->valueint, txt, tlen, 0))) break;
        if ((st = srlm_strmap_put(&t->vocab, txt, tlen, e->valueint))) break;
    }
    srlm_bytebuf_free(&raw);
    SRLM_TRY(st);
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        if (!srlm_strmap_get(&t->vocab, &c, 1, &t->byte_id[b])) t->byte_id[b] = -1;
    }

    /* Merges: ["a", "b"] pairs or "a b" strings; rank = position in the list. */
    size_t n_merges = (size_t)cJSON_GetArraySize(merges);
    SRLM_TRY(srlm_pairmap_init(&t->merges, n_merges));
    uint32_t rank = 0;
    cJSON_ArrayForEach(e, merges) {
        const char *a = NULL, *b = NULL;
        char *split = NULL;
        if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(e->child) && cJSON_IsString(e->child->next)) {
            a = e->child->valuestring;
            b = e->child->next->valuestring;
        } else if (cJSON_IsString(e)) {
            const char *sp = strchr(e->valuestring, ' ');
            if (sp && sp != e->valuestring && sp[1] && !strchr(sp + 1, ' ')) {
                split = strdup(e->valuestring);
                if (!split) return srlm_errorf(SRLM_ERR_OOM, "out of host memory reading merges");
                split[sp - e->valuestring] = '\0';
                a = split;
                b = split + (sp - e->valuestring) + 1;
            }
        }
        if (!a) {
            free(split);
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: merge %u is neither [\"a\", \"b\"] nor \"a b\"", name, rank);
        }
        int32_t ia, ib, im;
        size_t la = strlen(a), lb = strlen(b);
        char *ab = malloc(la + lb + 1);
        if (!ab) { free(split); return srlm_errorf(SRLM_ERR_OOM, "out of host memory reading merges"); }
        memcpy(ab, a, la);
        memcpy(ab + la, b, lb + 1);
        int ok = find_spelling(t, cp_byte, a, &ia) && find_spelling(t, cp_byte, b, &ib) && find_spelling(t, cp_byte, ab, &im);
        free(ab);
        if (!ok) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: merge %u ('%s' '%s') uses a token missing from the vocabulary", name, rank, a, b);
            free(split);
            return st;
        }
        free(split);
        srlm_pairmap_put(&t->merges, (uint32_t)ia, (uint32_t)ib, rank, (uint32_t)im);
        rank++;
    }

    cJSON_ArrayForEach(e, added) {
        int32_t id = cJSON_GetObjectItemCaseSensitive(e, "id")->valueint;
        const char *content = json_str(e, "content");
        size_t len = strlen(content);
        uint8_t f = SRLM_TOKF_ADDED;
        if (json_bool(e, "special", 0)) f |= SRLM_TOKF_SPECIAL;
        if (json_bool(e, "lstrip", 0)) f |= SRLM_TOKF_LSTRIP;
        if (json_bool(e, "rstrip", 0)) f |= SRLM_TOKF_RSTRIP;
        /* HF's ByteLevel decoder maps the content like any token; for contents outside the
         * byte alphabet it keeps the UTF-8 as is. */
        char *buf = malloc(len + 1);
        if (!buf) return srlm_errorf(SRLM_ERR_OOM, "out of host memory reading added tokens");
        long r = byte_level_decode(cp_byte, content, len, buf);
        st = srlm_tok_set_text(t, id, r >= 0 ? buf : content, r >= 0 ? (size_t)r : len, f);
        free(buf);
        SRLM_TRY(st);
        SRLM_TRY(srlm_tok_add_added(t, id, f));
        /* Matching happens on the raw content, so it is kept as the match key. */
        t->added[t->n_added - 1].off = (uint32_t)t->text.len;
        t->added[t->n_added - 1].len = (uint32_t)len;
        SRLM_TRY(srlm_bytebuf_append(&t->text, content, len));
    }
    SRLM_TRY(srlm_tok_index_added(t));
    return NULL;
}

/* ---- encoding ----------------------------------------------------------------------- */

typedef struct merge_cand {
    uint32_t rank;
    int32_t pos;           /* left symbol */
    int32_t left, right;   /* the ids the pair had when queued: stale entries are skipped */
    int32_t merged;
} merge_cand;

static inline int cand_less(const merge_cand *a, const merge_cand *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void heap_push(merge_cand *h, size_t *n, merge_cand c) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static merge_cand heap_pop(merge_cand *h, size_t *n) {
    merge_cand top = h[0];
    merge_cand last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = l + 1 < m && cand_less(&h[l + 1], &h[l]) ? l + 1 : l;
        if (!cand_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

static inline void queue_pair(const srlm_tokenizer *t, merge_cand *h, size_t *nh, const int32_t *id,
                              int32_t pos, int32_t next) {
    uint32_t rank, merged;
    if (srlm_pairmap_get(&t->merges, (uint32_t)id[pos], (uint32_t)id[next], &rank, &merged))
        heap_push(h, nh, (merge_cand){rank, pos, id[pos], id[next], (int32_t)merged});
}

/* One pre-token: start from single bytes, apply the lowest-ranked merge (leftmost on ties)
 * until none applies. Symbols form a linked list; the heap holds candidate pairs and
 * entries whose symbols changed since are skipped when popped. */
static srlm_status bpe_word(const srlm_tokenizer *t, const uint8_t *w, size_t n, srlm_i32vec *out) {
    enum { STACK = 64 };
    int32_t id_s[STACK], next_s[STACK], prev_s[STACK];
    merge_cand heap_s[3 * STACK];
    int32_t *id = id_s, *next = next_s, *prev = prev_s;
    merge_cand *heap = heap_s;
    if (n > STACK) {
        id = malloc(n * sizeof *id);
        next = malloc(n * sizeof *next);
        prev = malloc(n * sizeof *prev);
        heap = malloc(3 * n * sizeof *heap);
        if (!id || !next || !prev || !heap) {
            free(id); free(next); free(prev); free(heap);
            return srlm_errorf(SRLM_ERR_OOM, "out of host memory encoding a %zu-byte word", n);
        }
    }
    /* Bytes without a token (never in real byte-level vocabularies) are dropped, as HF
     * does when the model has no unk token. */
    int32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t b = t->byte_id[w[i]];
        if (b >= 0) id[m++] = b;
    }
    for (int32_t i = 0; i < m; i++) { next[i] = i + 1 < m ? i + 1 : -1; prev[i] = i - 1; }
    size_t nh = 0;
    for (int32_t i = 0; i + 1 < m; i++) queue_pair(t, heap, &nh, id, i, i + 1);
    while (nh) {
        merge_cand c = heap_pop(heap, &nh);
        int32_t p = c.pos, q = next[p];
        if (id[p] != c.left || q < 0 || id[q] != c.right) continue; /* stale */
        id[p] = c.merged;
        id[q] = -1; /* dead: never matches a queued left/right id */
        next[p] = next[q];
        if (next[q] >= 0) prev[next[q]] = p;
        if (prev[p] >= 0) queue_pair(t, heap, &nh, id, prev[p], p);
        if (next[p] >= 0) queue_pair(t, heap, &nh, id, p, next[p]);
    }
    srlm_status st = NULL;
    for (int32_t i = m ? 0 : -1; i >= 0 && !st; i = next[i]) st = srlm_i32vec_push(out, id[i]);
    if (n > STACK) { free(id); free(next); free(prev); free(heap); }
    return st;
}

srlm_status srlm_bpe_encode_segment(const srlm_tokenizer *t, const char *s, size_t n,
                                    pcre2_match_data *md, srlm_i32vec *out) {
    uint8_t *norm = NULL;
    if (t->nfc) {
        /* Code points below U+0300 (lead bytes < 0xCC) are stable under NFC and compose
         * with nothing before them, so plain text skips utf8proc entirely. */
        int need = 0;
        for (size_t i = 0; i < n && !need; i++) need = (uint8_t)s[i] >= 0xCC;
        if (need) {
            utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &norm,
                                              UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (r < 0) return srlm_errorf(SRLM_ERR_INVALID, "NFC normalisation failed: %s", utf8proc_errmsg(r));
            s = (const char *)norm;
            n = (size_t)r;
        }
    }
    srlm_status st = NULL;
    if (!t->split_re) {
        st = n ? bpe_word(t, (const uint8_t *)s, n, out) : NULL;
        free(norm);
        return st;
    }
    size_t off = 0;
    while (off < n && !st) {
        int rc = t->jit ? pcre2_jit_match(t->split_re, (PCRE2_SPTR)s, n, off, PCRE2_NOTEMPTY, md, NULL)
                        : pcre2_match(t->split_re, (PCRE2_SPTR)s, n, off, PCRE2_NOTEMPTY | PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) {
            st = bpe_word(t, (const uint8_t *)s + off, n - off, out);
            break;
        }
        if (rc < 0) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            st = srlm_errorf(SRLM_ERR_INVALID, "pre-tokenizer regex failed at byte %zu: %s", off, (const char *)msg);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (a > off) st = bpe_word(t, (const uint8_t *)s + off, a - off, out); /* Isolated keeps gaps */
        if (!st) st = bpe_word(t, (const uint8_t *)s + a, b - a, out);
        off = b;
    }
    free(norm);
    return st;
}
