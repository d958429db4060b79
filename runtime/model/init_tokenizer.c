/* init_tokenizer.c: the tokenizer files `srlm init` puts in a new model folder: srlm's own
 * byte-level tokenizer for small presets, or a checked copy of an existing tokenizer. The
 * format follows Hugging Face tokenizers' tokenizer.json; nothing here tokenizes text. */
#include "model/init.h"

#include "model/atomic.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Qwen2's pre-tokenizer split pattern, so byte-level models pre-tokenise text the way the
 * real Qwen tokenizer does. */
static const char qwen2_split_regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* ChatML with Qwen2.5's default system prompt (same text as the Qwen2.5-Instruct template
 * for system/user/assistant turns; no tool calls). */
static const char chatml_template[] =
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (message['role'] == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

void srlm_bytelevel_char(uint8_t b, char out[4]) {
    /* GPT-2: printable Latin-1 bytes map to themselves; the other 68 bytes map, in byte
     * order, to U+0100, U+0101, ... */
    unsigned cp;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) {
        cp = b;
    } else {
        unsigned n = 0;
        for (unsigned x = 0; x < b; x++)
            if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        out[2] = 0;
    }
}

static cJSON *bytelevel_obj(const char *type) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddBoolToObject(o, "add_prefix_space", 0);
    cJSON_AddBoolToObject(o, "trim_offsets", 0);
    cJSON_AddBoolToObject(o, "use_regex", 0);
    return o;
}

typedef struct special { int id; const char *text; } special;

static void specials(const srlm_model_config *c, special out[4]) {
    out[0] = (special){SRLM_BYTE_TOK_ENDOFTEXT, "<|endoftext|>"};
    out[1] = (special){SRLM_BYTE_TOK_IM_START, "<|im_start|>"};
    out[2] = (special){SRLM_BYTE_TOK_IM_END, "<|im_end|>"};
    out[3] = (special){c->vocab_size - 1, "<|mask|>"};
}

static cJSON *tokenizer_json(const srlm_model_config *c) {
    special sp[4];
    specials(c, sp);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "version", "1.0");
    cJSON_AddNullToObject(r, "truncation");
    cJSON_AddNullToObject(r, "padding");
    cJSON *added = cJSON_AddArrayToObject(r, "added_tokens");
    for (int i = 0; i < 4; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "id", sp[i].id);
        cJSON_AddStringToObject(t, "content", sp[i].text);
        cJSON_AddBoolToObject(t, "single_word", 0);
        cJSON_AddBoolToObject(t, "lstrip", 0);
        cJSON_AddBoolToObject(t, "rstrip", 0);
        cJSON_AddBoolToObject(t, "normalized", 0);
        cJSON_AddBoolToObject(t, "special", 1);
        cJSON_AddItemToArray(added, t);
    }
    cJSON *norm = cJSON_AddObjectToObject(r, "normalizer");
    cJSON_AddStringToObject(norm, "type", "NFC");
    cJSON *pre = cJSON_AddObjectToObject(r, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "Sequence");
    cJSON *pres = cJSON_AddArrayToObject(pre, "pretokenizers");
    cJSON *split = cJSON_CreateObject();
    cJSON_AddStringToObject(split, "type", "Split");
    cJSON *pat = cJSON_AddObjectToObject(split, "pattern");
    cJSON_AddStringToObject(pat, "Regex", qwen2_split_regex);
    cJSON_AddStringToObject(split, "behavior", "Isolated");
    cJSON_AddBoolToObject(split, "invert", 0);
    cJSON_AddItemToArray(pres, split);
    cJSON_AddItemToArray(pres, bytelevel_obj("ByteLevel"));
    cJSON_AddItemToObject(r, "post_processor", bytelevel_obj("ByteLevel"));
    cJSON_AddItemToObject(r, "decoder", bytelevel_obj("ByteLevel"));
    cJSON *m = cJSON_AddObjectToObject(r, "model");
    cJSON_AddStringToObject(m, "type", "BPE");
    cJSON_AddNullToObject(m, "dropout");
    cJSON_AddNullToObject(m, "unk_token");
    cJSON_AddStringToObject(m, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(m, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(m, "fuse_unk", 0);
    cJSON_AddBoolToObject(m, "byte_fallback", 0);
    cJSON_AddBoolToObject(m, "ignore_merges", 0);
    cJSON *vocab = cJSON_AddObjectToObject(m, "vocab");
    for (int b = 0; b < 256; b++) {
        char ch[4];
        srlm_bytelevel_char((uint8_t)b, ch);
        cJSON_AddNumberToObject(vocab, ch, b);
    }
    cJSON_AddArrayToObject(m, "merges");
    return r;
}

static cJSON *tokenizer_config_json(const srlm_model_config *c) {
    special sp[4];
    specials(c, sp);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "add_bos_token", 0);
    cJSON_AddBoolToObject(r, "add_prefix_space", 0);
    cJSON *dec = cJSON_AddObjectToObject(r, "added_tokens_decoder");
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", sp[i].id);
        cJSON *t = cJSON_AddObjectToObject(dec, id);
        cJSON_AddStringToObject(t, "content", sp[i].text);
        cJSON_AddBoolToObject(t, "lstrip", 0);
        cJSON_AddBoolToObject(t, "normalized", 0);
        cJSON_AddBoolToObject(t, "rstrip", 0);
        cJSON_AddBoolToObject(t, "single_word", 0);
        cJSON_AddBoolToObject(t, "special", 1);
    }
    cJSON *extra = cJSON_AddArrayToObject(r, "additional_special_tokens");
    cJSON_AddItemToArray(extra, cJSON_CreateString("<|im_start|>"));
    cJSON_AddItemToArray(extra, cJSON_CreateString("<|im_end|>"));
    cJSON_AddItemToArray(extra, cJSON_CreateString("<|mask|>"));
    cJSON_AddNullToObject(r, "bos_token");
    cJSON_AddStringToObject(r, "chat_template", chatml_template);
    cJSON_AddBoolToObject(r, "clean_up_tokenization_spaces", 0);
    cJSON_AddStringToObject(r, "eos_token", "<|im_end|>");
    cJSON_AddStringToObject(r, "errors", "replace");
    cJSON_AddStringToObject(r, "mask_token", "<|mask|>");
    cJSON_AddNumberToObject(r, "model_max_length", c->max_position_embeddings);
    cJSON_AddStringToObject(r, "pad_token", "<|endoftext|>");
    cJSON_AddBoolToObject(r, "split_special_tokens", 0);
    cJSON_AddStringToObject(r, "tokenizer_class", "Qwen2Tokenizer");
    cJSON_AddNullToObject(r, "unk_token");
    return r;
}

static srlm_status write_json(const char *dir, const char *name, cJSON *root) {
    char *s = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!s) return srlm_errorf(SRLM_ERR_OOM, "out of memory rendering %s", name);
    size_t n = strlen(s) + strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    srlm_status st;
    if (!path) st = srlm_errorf(SRLM_ERR_OOM, "out of memory");
    else {
        snprintf(path, n, "%s/%s", dir, name);
        st = srlm_write_file_atomic(path, s, strlen(s));
    }
    free(path);
    cJSON_free(s);
    return st;
}

srlm_status srlm_write_byte_tokenizer(const char *dir, const srlm_model_config *c) {
    if (c->vocab_size < 260)
        return srlm_errorf(SRLM_ERR_INVALID, "a byte-level tokenizer needs a vocabulary of at least 260 (256 bytes + 4 specials), the config has %d",
                           c->vocab_size);
    SRLM_TRY(write_json(dir, "tokenizer.json", tokenizer_json(c)));
    return write_json(dir, "tokenizer_config.json", tokenizer_config_json(c));
}

/* Reads a whole file (up to 256 MiB). */
static srlm_status read_all(const char *path, char **out, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(errno == ENOENT ? SRLM_ERR_NOT_FOUND : SRLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0 || sz > (256l << 20)) { fclose(f); return srlm_errorf(SRLM_ERR_FORMAT, "%s: unreasonable size", path); }
    char *buf = malloc((size_t)sz + 1);
    size_t got = buf ? fread(buf, 1, (size_t)sz, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)sz) { free(buf); return srlm_errorf(SRLM_ERR_IO, "%s: read failed", path); }
    buf[sz] = 0;
    *out = buf;
    *n = (size_t)sz;
    return NULL;
}

/* Largest token id in a tokenizer.json (model.vocab values and added_tokens ids). */
static srlm_status max_token_id(const char *path, const char *text, size_t n, double *max_id) {
    cJSON *r = cJSON_ParseWithLength(text, n);
    if (!r) return srlm_errorf(SRLM_ERR_FORMAT, "%s: invalid JSON", path);
    *max_id = -1;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab");
    const cJSON *e;
    if (cJSON_IsObject(vocab))
        cJSON_ArrayForEach(e, vocab) if (cJSON_IsNumber(e) && e->valuedouble > *max_id) *max_id = e->valuedouble;
    if (cJSON_IsArray(vocab)) /* Unigram: [piece, score] pairs, ids are positions */
        *max_id = cJSON_GetArraySize(vocab) - 1;
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(r, "added_tokens");
    cJSON_ArrayForEach(e, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        if (cJSON_IsNumber(id) && id->valuedouble > *max_id) *max_id = id->valuedouble;
    }
    cJSON_Delete(r);
    return NULL;
}

srlm_status srlm_copy_tokenizer(const char *src, const char *dst, int vocab_size) {
    static const char *const optional[] = {"tokenizer_config.json", "vocab.json", "merges.txt", "generation_config.json"};
    char sp[4096], dp[4096];
    snprintf(sp, sizeof sp, "%s/tokenizer.json", src);
    char *text = NULL;
    size_t n = 0;
    srlm_status st = read_all(sp, &text, &n);
    if (st) {
        if (srlm_status_code(st) == SRLM_ERR_NOT_FOUND) {
            srlm_status_free(st);
            return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: no tokenizer.json in the tokenizer folder", src);
        }
        return st;
    }
    double max_id = -1;
    st = max_token_id(sp, text, n, &max_id);
    if (!st && max_id >= vocab_size)
        st = srlm_errorf(SRLM_ERR_FORMAT, "%s: token id %.0f does not fit the model's vocabulary of %d", sp, max_id, vocab_size);
    snprintf(dp, sizeof dp, "%s/tokenizer.json", dst);
    if (!st) st = srlm_write_file_atomic(dp, text, n);
    free(text);
    for (size_t i = 0; !st && i < sizeof optional / sizeof optional[0]; i++) {
        snprintf(sp, sizeof sp, "%s/%s", src, optional[i]);
        struct stat sb;
        if (stat(sp, &sb) != 0) continue;
        st = read_all(sp, &text, &n);
        snprintf(dp, sizeof dp, "%s/%s", dst, optional[i]);
        if (!st) st = srlm_write_file_atomic(dp, text, n);
        free(text);
        text = NULL;
    }
    return st;
}
