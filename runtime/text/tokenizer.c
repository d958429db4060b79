/* tokenizer.c: the public tokenizer API: creation from a folder / tokenizer.json / GGUF,
 * splitting off added tokens before the model runs, decoding and streaming decoding.
 * The models themselves live in bpe.c (byte-level BPE) and spm.c (SentencePiece BPE). */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- shared construction helpers ---------------------------------------------------- */

srlm_status srlm_tok_alloc(srlm_tokenizer *t, int32_t n) {
    t->n_vocab = n;
    t->text_off = calloc((size_t)n, sizeof *t->text_off);
    t->text_len = calloc((size_t)n, sizeof *t->text_len);
    t->flags = calloc((size_t)n, sizeof *t->flags);
    if (!t->text_off || !t->text_len || !t->flags)
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory for a %d-token vocabulary", n);
    return NULL;
}

srlm_status srlm_tok_set_text(srlm_tokenizer *t, int32_t id, const char *s, size_t len, uint8_t flags) {
    if (t->text.len + len > UINT32_MAX)
        return srlm_errorf(SRLM_ERR_FORMAT, "vocabulary text exceeds 4 GiB");
    t->text_off[id] = (uint32_t)t->text.len;
    t->text_len[id] = (uint32_t)len;
    t->flags[id] = (uint8_t)(flags | SRLM_TOKF_TEXT);
    return srlm_bytebuf_append(&t->text, s, len);
}

srlm_status srlm_tok_add_added(srlm_tokenizer *t, int32_t id, uint8_t flags) {
    srlm_added_token *a = realloc(t->added, (t->n_added + 1) * sizeof *a);
    if (!a) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for added tokens");
    t->added = a;
    a[t->n_added++] = (srlm_added_token){id, t->text_off[id], t->text_len[id], flags, 0};
    return NULL;
}

static int added_cmp(const void *pa, const void *pb) {
    const srlm_added_token *a = pa, *b = pb;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1; /* longest first */
    return a->id < b->id ? -1 : a->id > b->id;
}

srlm_status srlm_tok_index_added(srlm_tokenizer *t) {
    for (size_t i = 0; i < t->n_added; i++) {
        if (!t->added[i].len) return srlm_errorf(SRLM_ERR_FORMAT, "added token %d is empty", t->added[i].id);
        srlm_status st = srlm_utf8_check(t->text.data + t->added[i].off, t->added[i].len, "added token");
        if (st) return srlm_status_wrap(st, "token %d: ", t->added[i].id);
        t->added[i].first = (uint8_t)t->text.data[t->added[i].off];
    }
    if (t->n_added) qsort(t->added, t->n_added, sizeof *t->added, added_cmp);
    size_t k = 0;
    for (int b = 0; b <= 256; b++) {
        while (k < t->n_added && t->added[k].first < b) k++;
        t->added_first[b] = (uint32_t)k;
    }
    t->added_first[256] = (uint32_t)t->n_added;
    return NULL;
}

/* ---- creation ----------------------------------------------------------------------- */

static srlm_status read_file(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(errno == ENOENT ? SRLM_ERR_NOT_FOUND : SRLM_ERR_IO, "%s: %s", path, strerror(errno));
    srlm_bytebuf b = {0};
    char chunk[65536];
    size_t r;
    srlm_status st = NULL;
    while (!st && (r = fread(chunk, 1, sizeof chunk, f)) > 0) st = srlm_bytebuf_append(&b, chunk, r);
    if (!st && ferror(f)) st = srlm_errorf(SRLM_ERR_IO, "%s: read error", path);
    fclose(f);
    if (!st && !b.data) st = srlm_bytebuf_append(&b, "", 0);
    if (st) { srlm_bytebuf_free(&b); return st; }
    *data = b.data;
    *len = b.len;
    return NULL;
}

static const char qwen_default_system[] = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

static int lookup(const srlm_tokenizer *t, const char *text, int32_t *id) {
    size_t len = strlen(text);
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == len && !memcmp(t->text.data + t->added[i].off, text, len)) {
            *id = t->added[i].id;
            return 1;
        }
    return srlm_strmap_get(&t->vocab, text, len, id);
}

/* Chat style follows the vocabulary: ChatML when <|im_start|>/<|im_end|> exist. */
static srlm_status setup_chat(srlm_tokenizer *t) {
    int32_t a, b;
    t->chatml = lookup(t, "<|im_start|>", &a) && lookup(t, "<|im_end|>", &b);
    free(t->default_system);
    t->default_system = NULL;
    if (t->chatml && !(t->default_system = strdup(qwen_default_system)))
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    return NULL;
}

srlm_status srlm_tokenizer_create_from_json(const char *json, size_t len, const char *name, srlm_tokenizer **out) {
    *out = NULL;
    if (!name) name = "tokenizer.json";
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return srlm_errorf(SRLM_ERR_FORMAT, "%s: not valid JSON (near byte %zu)", name,
                                  cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - json) : (size_t)0);
    srlm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { cJSON_Delete(root); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    t->add_bos = 1; /* until tokenizer_config.json says otherwise */
    srlm_status st = srlm_bpe_load(t, root, name);
    cJSON_Delete(root);
    if (!st) st = setup_chat(t);
    if (st) { srlm_tokenizer_destroy(t); return st; }
    *out = t;
    return NULL;
}

/* tokenizer_config.json beside tokenizer.json: bos/eos names, and whether the chat
 * template carries Qwen's default system prompt. Optional; malformed is an error. */
static srlm_status apply_config(srlm_tokenizer *t, const char *path) {
    char *data;
    size_t len;
    srlm_status st = read_file(path, &data, &len);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) { srlm_status_free(st); return NULL; }
    SRLM_TRY(st);
    cJSON *root = cJSON_ParseWithLength(data, len);
    free(data);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a JSON object", path);
    }
    const char *keys[2] = {"bos_token", "eos_token"};
    int32_t *dst[2] = {&t->bos, &t->eos};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (!cJSON_IsString(v)) continue;
        if (!lookup(t, v->valuestring, dst[i])) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: %s '%s' is not in the vocabulary", path, keys[i], v->valuestring);
            break;
        }
    }
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(root, "add_bos_token");
    if (cJSON_IsBool(ab)) t->add_bos = cJSON_IsTrue(ab);
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(root, "chat_template");
    if (!st && t->chatml && cJSON_IsString(tmpl) && !strstr(tmpl->valuestring, qwen_default_system)) {
        free(t->default_system);
        t->default_system = NULL;
    }
    cJSON_Delete(root);
    return st;
}

static int has_gguf_magic(const char *path) {
    FILE *f = fopen(path, "rb");
    char m[4] = {0};
    if (!f) return 0;
    size_t r = fread(m, 1, 4, f);
    fclose(f);
    return r == 4 && !memcmp(m, "GGUF", 4);
}

srlm_status srlm_tokenizer_create(const char *path, srlm_tokenizer **out) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb)) return srlm_errorf(errno == ENOENT ? SRLM_ERR_NOT_FOUND : SRLM_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode) && has_gguf_magic(path)) return srlm_tokenizer_create_gguf(path, out);
    size_t pl = strlen(path);
    char *json_path = malloc(pl + 32), *cfg_path = malloc(pl + 32);
    if (!json_path || !cfg_path) { free(json_path); free(cfg_path); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    if (S_ISDIR(sb.st_mode)) {
        snprintf(json_path, pl + 32, "%s/tokenizer.json", path);
        snprintf(cfg_path, pl + 32, "%s/tokenizer_config.json", path);
    } else {
        memcpy(json_path, path, pl + 1);
        memcpy(cfg_path, path, pl + 1);
        char *slash = strrchr(cfg_path, '/');
        snprintf(slash ? slash + 1 : cfg_path, pl + 32 - (size_t)(slash ? slash + 1 - cfg_path : 0), "tokenizer_config.json");
    }
    char *data = NULL;
    size_t len = 0;
    srlm_status st = read_file(json_path, &data, &len);
    if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND && S_ISDIR(sb.st_mode))
        st = srlm_status_wrap(st, "no tokenizer in model folder: ");
    if (!st) st = srlm_tokenizer_create_from_json(data, len, json_path, out);
    free(data);
    if (!st) {
        st = apply_config(*out, cfg_path);
        if (st) { srlm_tokenizer_destroy(*out); *out = NULL; }
    }
    free(json_path);
    free(cfg_path);
    return st;
}

void srlm_tokenizer_destroy(srlm_tokenizer *t) {
    if (!t) return;
    srlm_bytebuf_free(&t->text);
    free(t->text_off);
    free(t->text_len);
    free(t->flags);
    srlm_strmap_free(&t->vocab);
    free(t->added);
    srlm_pairmap_free(&t->merges);
    srlm_pairmap_free(&t->spm_pairs);
    pcre2_code_free(t->split_re);
    free(t->scores);
    free(t->types);
    free(t->default_system);
    free(t);
}

/* ---- queries ------------------------------------------------------------------------ */

int32_t srlm_tokenizer_vocab_size(const srlm_tokenizer *t) { return t->n_vocab; }
int32_t srlm_tokenizer_bos(const srlm_tokenizer *t) { return t->bos; }
int32_t srlm_tokenizer_eos(const srlm_tokenizer *t) { return t->eos; }

int srlm_tokenizer_is_special(const srlm_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && (t->flags[id] & SRLM_TOKF_SPECIAL);
}

const char *srlm_tokenizer_piece(const srlm_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab || !(t->flags[id] & SRLM_TOKF_TEXT)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->text_len[id];
    return t->text.data + t->text_off[id];
}

srlm_status srlm_tokenizer_find(const srlm_tokenizer *t, const char *text, int32_t *id) {
    if (lookup(t, text, id)) return NULL;
    return srlm_errorf(SRLM_ERR_NOT_FOUND, "token '%s' is not in the vocabulary", text);
}

/* ---- encoding ----------------------------------------------------------------------- */

/* Unicode White_Space (what HF's lstrip/rstrip strip: Rust's char::is_whitespace). */
static int is_white_space(uint32_t c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Length of the white-space character that ends at s[end) and starts at or after `from`
 * (0 if none). The caller guarantees end > from, both on character boundaries. */
static size_t space_before(const char *s, size_t from, size_t end) {
    size_t b = end - 1;
    while (b > from && end - b < 4 && ((uint8_t)s[b] & 0xC0) == 0x80) b--;
    uint32_t cp;
    int k = srlm_utf8_next((const uint8_t *)s + b, end - b, &cp);
    return k && (size_t)k == end - b && is_white_space(cp) ? (size_t)k : 0;
}

static size_t space_after(const char *s, size_t at, size_t n) {
    uint32_t cp;
    int k = srlm_utf8_next((const uint8_t *)s + at, n - at, &cp);
    return k && is_white_space(cp) ? (size_t)k : 0;
}

/* Finds the leftmost, then longest, added token at or after `from`. */
static const srlm_added_token *next_added(const srlm_tokenizer *t, const char *s, size_t n, size_t from,
                                          int special_ok, size_t *at) {
    if (!t->n_added) return NULL;
    for (size_t i = from; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        for (uint32_t k = t->added_first[b]; k < t->added_first[b + 1]; k++) {
            const srlm_added_token *a = &t->added[k];
            if ((a->flags & SRLM_TOKF_SPECIAL) && !special_ok) continue;
            if (a->len <= n - i && !memcmp(s + i, t->text.data + a->off, a->len)) {
                *at = i;
                return a;
            }
        }
    }
    return NULL;
}

static srlm_status encode_segment(const srlm_tokenizer *t, const char *s, size_t n, pcre2_match_data *md,
                                  int *prev_special, srlm_i32vec *out) {
    if (!n) return NULL;
    int prefix = *prev_special;
    *prev_special = 0;
    if (t->kind == SRLM_TOK_BPE) return srlm_bpe_encode_segment(t, s, n, md, out);
    return srlm_spm_encode_segment(t, s, n, prefix && t->add_space_prefix, out);
}

srlm_status srlm_tokenizer_encode(const srlm_tokenizer *t, const char *text, size_t len, unsigned flags,
                                  int32_t **ids, size_t *n_ids) {
    *ids = NULL;
    *n_ids = 0;
    SRLM_TRY(srlm_utf8_check(text, len, "text to encode"));
    srlm_i32vec out = {0};
    srlm_status st = NULL;
    pcre2_match_data *md = NULL;
    if (t->split_re && !(md = pcre2_match_data_create_from_pattern(t->split_re, NULL)))
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory for regex match data");
    if ((flags & SRLM_ENCODE_BOS) && t->bos >= 0 && t->add_bos) st = srlm_i32vec_push(&out, t->bos);
    int prev_special = 1; /* SentencePiece adds its dummy prefix at the start and after specials */
    size_t seg = 0, at;
    const srlm_added_token *a;
    while (!st && (a = next_added(t, text, len, seg, flags & SRLM_ENCODE_SPECIAL, &at))) {
        size_t start = at, end = at + a->len;
        /* lstrip/rstrip: the token swallows whitespace beside it, as HF's added tokens do. */
        size_t k;
        if (a->flags & SRLM_TOKF_LSTRIP) while (start > seg && (k = space_before(text, seg, start))) start -= k;
        if (a->flags & SRLM_TOKF_RSTRIP) while (end < len && (k = space_after(text, end, len))) end += k;
        st = encode_segment(t, text + seg, start - seg, md, &prev_special, &out);
        if (!st) st = srlm_i32vec_push(&out, a->id);
        prev_special = 1;
        seg = end;
    }
    if (!st) st = encode_segment(t, text + seg, len - seg, md, &prev_special, &out);
    pcre2_match_data_free(md);
    if (st) { srlm_i32vec_free(&out); return st; }
    if (!out.data) st = srlm_i32vec_push(&out, 0), out.len = 0; /* a valid pointer even when empty */
    if (st) return st;
    *ids = out.data;
    *n_ids = out.len;
    return NULL;
}

/* ---- decoding ----------------------------------------------------------------------- */

struct srlm_detokenizer {
    const srlm_tokenizer *tok;
    unsigned flags;
    int started;            /* a text token was emitted (SentencePiece strips one leading space) */
    uint8_t pending[4];     /* an incomplete UTF-8 sequence held back */
    size_t n_pending;
    srlm_bytebuf work, out;
};

/* Appends the bytes of token id to b (nothing for ids without text). */
static srlm_status token_bytes(const srlm_tokenizer *t, int32_t id, unsigned flags, int *started, srlm_bytebuf *b) {
    if (id < 0) return srlm_errorf(SRLM_ERR_INVALID, "token id %d is negative", id);
    if (id >= t->n_vocab || !(t->flags[id] & SRLM_TOKF_TEXT)) return NULL;
    if ((t->flags[id] & SRLM_TOKF_SPECIAL) && (flags & SRLM_DECODE_SKIP_SPECIAL)) return NULL;
    const char *s = t->text.data + t->text_off[id];
    size_t n = t->text_len[id];
    if (!(t->flags[id] & SRLM_TOKF_SPECIAL)) {
        if (!*started && t->kind == SRLM_TOK_SPM && t->add_space_prefix && n && s[0] == ' ') s++, n--;
        *started = 1;
    }
    return srlm_bytebuf_append(b, s, n);
}

srlm_status srlm_tokenizer_decode(const srlm_tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
                                  char **text, size_t *len) {
    *text = NULL;
    if (len) *len = 0;
    srlm_bytebuf raw = {0}, out = {0};
    int started = 0;
    srlm_status st = NULL;
    for (size_t i = 0; i < n && !st; i++) st = token_bytes(t, ids[i], flags, &started, &raw);
    size_t used;
    if (!st) st = srlm_utf8_sanitize((const uint8_t *)raw.data, raw.len, 1, &out, &used);
    if (!st && !out.data) st = srlm_bytebuf_append(&out, "", 0);
    srlm_bytebuf_free(&raw);
    if (st) { srlm_bytebuf_free(&out); return st; }
    *text = out.data;
    if (len) *len = out.len;
    return NULL;
}

srlm_status srlm_detokenizer_create(const srlm_tokenizer *tok, unsigned flags, srlm_detokenizer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    (*out)->tok = tok;
    (*out)->flags = flags;
    return NULL;
}

void srlm_detokenizer_reset(srlm_detokenizer *d) {
    d->started = 0;
    d->n_pending = 0;
}

static srlm_status detok_emit(srlm_detokenizer *d, int final, const char **text, size_t *len) {
    size_t used;
    d->out.len = 0;
    SRLM_TRY(srlm_utf8_sanitize((const uint8_t *)d->work.data, d->work.len, final, &d->out, &used));
    d->n_pending = d->work.len - used; /* at most 3 bytes */
    memcpy(d->pending, d->work.data + used, d->n_pending);
    if (!d->out.data) SRLM_TRY(srlm_bytebuf_append(&d->out, "", 0));
    *text = d->out.data;
    *len = d->out.len;
    return NULL;
}

srlm_status srlm_detokenizer_push(srlm_detokenizer *d, int32_t id, const char **text, size_t *len) {
    *text = "";
    *len = 0;
    d->work.len = 0;
    SRLM_TRY(srlm_bytebuf_append(&d->work, d->pending, d->n_pending));
    SRLM_TRY(token_bytes(d->tok, id, d->flags, &d->started, &d->work));
    return detok_emit(d, 0, text, len);
}

srlm_status srlm_detokenizer_flush(srlm_detokenizer *d, const char **text, size_t *len) {
    *text = "";
    *len = 0;
    d->work.len = 0;
    SRLM_TRY(srlm_bytebuf_append(&d->work, d->pending, d->n_pending));
    SRLM_TRY(detok_emit(d, 1, text, len));
    d->started = 0;
    return NULL;
}

void srlm_detokenizer_destroy(srlm_detokenizer *d) {
    if (!d) return;
    srlm_bytebuf_free(&d->work);
    srlm_bytebuf_free(&d->out);
    free(d);
}

/* ---- benchmark ---------------------------------------------------------------------- */

srlm_status srlm_tokenizer_bench(const srlm_tokenizer *t, const char *text, size_t len, int repeats,
                                 double *mb_per_s, size_t *n_tokens) {
    double best = 0;
    for (int r = 0; r < (repeats > 0 ? repeats : 1); r++) {
        struct timespec a, b;
        int32_t *ids;
        size_t n;
        /* Thread CPU time: the speed of one core, not diluted when the machine is shared. */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
        SRLM_TRY(srlm_tokenizer_encode(t, text, len, 0, &ids, &n));
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
        free(ids);
        double s = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
        double mbs = s > 0 ? (double)len / 1e6 / s : 0;
        if (mbs > best) best = mbs;
        if (n_tokens) *n_tokens = n;
    }
    *mb_per_s = best;
    return NULL;
}
