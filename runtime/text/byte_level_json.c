/* byte_level_json.c: writes the tokenizer.json srlm gives its small test presets: 256
 * byte tokens (no merges) plus ChatML specials and a mask token, in Hugging Face format
 * so that both srlm and `tokenizers` load it. Not a tokenizer trainer. */
#include "tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const byte_level_specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|mask|>"};

static cJSON *added_token(int id, const char *content) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "id", id);
    cJSON_AddStringToObject(o, "content", content);
    cJSON_AddBoolToObject(o, "single_word", 0);
    cJSON_AddBoolToObject(o, "lstrip", 0);
    cJSON_AddBoolToObject(o, "rstrip", 0);
    cJSON_AddBoolToObject(o, "normalized", 0);
    cJSON_AddBoolToObject(o, "special", 1);
    return o;
}

static cJSON *byte_level(void) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "type", "ByteLevel");
    cJSON_AddBoolToObject(o, "add_prefix_space", 0);
    cJSON_AddBoolToObject(o, "trim_offsets", 0);
    cJSON_AddBoolToObject(o, "use_regex", 0);
    return o;
}

srlm_status srlm_tokenizer_write_byte_level(const char *path) {
    cJSON *root = cJSON_CreateObject();
    cJSON *added = cJSON_CreateArray(), *model = cJSON_CreateObject(), *vocab = cJSON_CreateObject();
    cJSON *pre = cJSON_CreateObject(), *pres = cJSON_CreateArray(), *split = cJSON_CreateObject();
    cJSON *pattern = cJSON_CreateObject();
    int ok = root && added && model && vocab && pre && pres && split && pattern;
    /* The same Split regex as Qwen2.5, so word boundaries match a real tokenizer's. */
    static const char qwen_regex[] =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    if (ok) {
        cJSON_AddStringToObject(root, "version", "1.0");
        cJSON_AddNullToObject(root, "truncation");
        cJSON_AddNullToObject(root, "padding");
        cJSON_AddItemToObject(root, "added_tokens", added);
        cJSON_AddNullToObject(root, "normalizer");
        cJSON_AddStringToObject(pattern, "Regex", qwen_regex);
        cJSON_AddStringToObject(split, "type", "Split");
        cJSON_AddItemToObject(split, "pattern", pattern);
        cJSON_AddStringToObject(split, "behavior", "Isolated");
        cJSON_AddBoolToObject(split, "invert", 0);
        cJSON_AddItemToArray(pres, split);
        cJSON_AddItemToArray(pres, byte_level());
        cJSON_AddStringToObject(pre, "type", "Sequence");
        cJSON_AddItemToObject(pre, "pretokenizers", pres);
        cJSON_AddItemToObject(root, "pre_tokenizer", pre);
        cJSON_AddNullToObject(root, "post_processor");
        cJSON_AddItemToObject(root, "decoder", byte_level());
        cJSON_AddStringToObject(model, "type", "BPE");
        cJSON_AddNullToObject(model, "dropout");
        cJSON_AddNullToObject(model, "unk_token");
        cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
        cJSON_AddStringToObject(model, "end_of_word_suffix", "");
        cJSON_AddBoolToObject(model, "fuse_unk", 0);
        cJSON_AddBoolToObject(model, "byte_fallback", 0);
        cJSON_AddBoolToObject(model, "ignore_merges", 0);
        cJSON_AddItemToObject(model, "vocab", vocab);
        cJSON_AddItemToObject(model, "merges", cJSON_CreateArray());
        cJSON_AddItemToObject(root, "model", model);
        /* Byte b is token b, spelled with GPT-2's byte-to-unicode table. */
        int next = 256;
        for (int b = 0; b < 256; b++) {
            int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            char sp[5];
            sp[srlm_utf8_put((uint32_t)(printable ? b : next++), sp)] = '\0';
            cJSON_AddNumberToObject(vocab, sp, b);
        }
        for (int i = 0; i < 4; i++) cJSON_AddItemToArray(added, added_token(256 + i, byte_level_specials[i]));
    } else {
        cJSON_Delete(added); cJSON_Delete(model); cJSON_Delete(vocab); cJSON_Delete(pre);
        cJSON_Delete(pres); cJSON_Delete(split); cJSON_Delete(pattern);
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return srlm_errorf(SRLM_ERR_OOM, "out of host memory building %s", path);
    /* Write to a temporary name, then rename: a crash never leaves half a file. */
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    srlm_status st = NULL;
    if (!tmp) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    FILE *f = NULL;
    if (!st) {
        snprintf(tmp, pl + 8, "%s.tmp", path);
        f = fopen(tmp, "wb");
        if (!f) st = srlm_errorf(SRLM_ERR_IO, "%s: %s", tmp, strerror(errno));
    }
    if (!st) {
        size_t n = strlen(text);
        int bad = fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF;
        bad |= fclose(f) != 0;
        if (bad) st = srlm_errorf(SRLM_ERR_IO, "%s: short write", tmp);
        else if (rename(tmp, path)) st = srlm_errorf(SRLM_ERR_IO, "renaming %s to %s: %s", tmp, path, strerror(errno));
        if (st) remove(tmp);
    }
    free(tmp);
    cJSON_free(text);
    return st;
}
