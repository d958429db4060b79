/* fuzz_tokenizer_json.c: libFuzzer target for the tokenizer.json parser and the byte-level
 * BPE encoder/decoder. Input: tokenizer.json bytes, optionally followed by a NUL byte and
 * a text to encode. Beyond "no crash, no leak" it checks the properties in
 * fuzz_tokenizer_common.h.
 * Built as a fuzzer only with -Dfuzz=true and clang; replay.c runs the same entry point
 * over the committed corpus in every normal build. */
#include "fuzz_tokenizer_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char default_text[] = "Hello, world! <|endoftext|> caf\xC3\xA9 \xE4\xB8\x96\xE7\x95\x8C 123  \n\t x";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    srlm_tokenizer *tok = NULL;
    srlm_status st = srlm_tokenizer_create_from_json((const char *)data, jlen, "fuzz.json", &tok);
    if (st) {
        require(tok == NULL && srlm_status_msg(st)[0]);
        srlm_status_free(st);
        return 0;
    }
    const char *text = nul ? (const char *)nul + 1 : default_text;
    size_t tlen = nul ? size - jlen - 1 : strlen(default_text);
    exercise_all(tok, text, tlen);
    srlm_tokenizer_destroy(tok);
    return 0;
}
