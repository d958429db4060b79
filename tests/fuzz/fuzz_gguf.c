/* fuzz_gguf.c: libFuzzer target for the gguf parser (built with -Dfuzz=true and clang; see
 * docs/fuzzing.md). The replay test (tests/test_fuzz_replay.c) calls the same entry. */
#include "fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_gguf(data, size);
    return 0;
}
