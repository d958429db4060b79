/* fuzz_gguf_vocab.c: libFuzzer target for the GGUF tokenizer-metadata reader and the
 * SentencePiece encoder/decoder. Input: u16 little-endian text length, the text, then a
 * GGUF image. Checks the properties in fuzz_tokenizer_common.h. Built as a fuzzer only
 * with -Dfuzz=true and clang; replay.c runs it over the committed corpus in every build. */
#include "fuzz_tokenizer_common.h"
#include "text/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t tlen = (size_t)data[0] | (size_t)data[1] << 8;
    if (tlen > size - 2) tlen = size - 2;
    const char *text = (const char *)data + 2;
    srlm_tokenizer *tok = NULL;
    srlm_status st = srlm_tokenizer_create_gguf_memory(data + 2 + tlen, size - 2 - tlen, "fuzz.gguf", &tok);
    if (st) {
        require(tok == NULL && srlm_status_msg(st)[0]);
        srlm_status_free(st);
        return 0;
    }
    exercise_all(tok, text, tlen);
    srlm_tokenizer_destroy(tok);
    return 0;
}
