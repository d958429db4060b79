/* tokenizer.h: the internal layout of srlm_tokenizer shared by the byte-level BPE
 * (bpe.c), SentencePiece BPE (spm.c), the GGUF vocabulary reader and the public entry
 * points (tokenizer.c). Not public: callers use srlm.h. */
#ifndef SRLM_TEXT_TOKENIZER_H
#define SRLM_TEXT_TOKENIZER_H

#include "srlm.h"
#include "text_util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <cjson/cJSON.h>

typedef enum srlm_tok_kind {
    SRLM_TOK_BPE = 1,   /* byte-level BPE (GPT-2 / Qwen tokenizer.json) */
    SRLM_TOK_SPM = 2,   /* SentencePiece BPE (llama "spm") */
} srlm_tok_kind;

/* Per-token flags. */
enum {
    SRLM_TOKF_TEXT = 1,      /* the token has text (ids without it decode to nothing) */
    SRLM_TOKF_SPECIAL = 2,   /* special/control: skipped by SRLM_DECODE_SKIP_SPECIAL */
    SRLM_TOKF_ADDED = 4,     /* matched in raw text before the model runs */
    SRLM_TOKF_LSTRIP = 8,
    SRLM_TOKF_RSTRIP = 16,
};

/* SentencePiece piece types, as in GGUF tokenizer.ggml.token_type. */
enum {
    SRLM_SPM_NORMAL = 1, SRLM_SPM_UNKNOWN = 2, SRLM_SPM_CONTROL = 3,
    SRLM_SPM_USER_DEFINED = 4, SRLM_SPM_UNUSED = 5, SRLM_SPM_BYTE = 6,
};

typedef struct srlm_added_token {
    int32_t id;
    uint32_t off, len;        /* content in tok->text */
    uint8_t flags;
    uint8_t first;            /* first byte of the content (set when indexing) */
} srlm_added_token;

struct srlm_tokenizer {
    srlm_tok_kind kind;
    int32_t n_vocab;          /* highest id + 1 */
    /* Decoded bytes of each token (what decode emits) in one pool. */
    srlm_bytebuf text;
    uint32_t *text_off, *text_len;
    uint8_t *flags;
    /* Vocabulary spelling -> id (BPE: raw bytes; SPM: the piece as written, with U+2581). */
    srlm_strmap vocab;
    /* Added tokens, matched before the model: sorted by first byte, then longest first. */
    srlm_added_token *added;
    size_t n_added;
    uint32_t added_first[257]; /* added[added_first[b] .. added_first[b+1]) start with byte b */
    int32_t bos, eos, unk;    /* -1 when absent */
    int add_bos;              /* SRLM_ENCODE_BOS adds bos (GGUF / tokenizer_config add_bos_token) */
    int32_t byte_id[256];     /* BPE: token of each single byte; SPM: the <0xXX> pieces */

    /* Byte-level BPE. */
    srlm_pairmap merges;
    pcre2_code *split_re;     /* pre-tokenizer regex, NULL = whole segment is one word */
    int jit;                  /* split_re was JIT-compiled */
    int nfc;                  /* NFC normaliser */

    /* SentencePiece. */
    float *scores;
    uint8_t *types;
    int add_space_prefix;
    srlm_pairmap spm_pairs;   /* adjacent code points that occur inside some piece */
    int spm_no_split;         /* tests: merge each segment whole (the unsplit reference) */

    /* Chat: ChatML when the vocabulary has <|im_start|> and <|im_end|>. */
    int chatml;
    char *default_system;     /* NULL: no system turn unless given */
};

/* Allocates the per-token arrays for n tokens (all without text). */
srlm_status srlm_tok_alloc(srlm_tokenizer *t, int32_t n);
/* Sets the decoded bytes of token id. */
srlm_status srlm_tok_set_text(srlm_tokenizer *t, int32_t id, const char *s, size_t len, uint8_t flags);
/* Sorts added tokens and builds the first-byte index; call after all are appended. */
srlm_status srlm_tok_index_added(srlm_tokenizer *t);
srlm_status srlm_tok_add_added(srlm_tokenizer *t, int32_t id, uint8_t flags);

/* Byte-level BPE from a parsed tokenizer.json; `name` names the file in errors. */
srlm_status srlm_bpe_load(srlm_tokenizer *t, const cJSON *root, const char *name);
/* Encodes one segment free of added tokens (already split off), appending ids. */
srlm_status srlm_bpe_encode_segment(const srlm_tokenizer *t, const char *s, size_t n,
                                    pcre2_match_data *md, srlm_i32vec *out);

/* SentencePiece BPE from arrays (as in GGUF metadata): n pieces (NUL-terminated UTF-8),
 * scores and types (SRLM_SPM_*). Copies everything. bos/eos/unk may be -1. */
srlm_status srlm_tokenizer_create_spm(int32_t n, const char *const *pieces, const float *scores,
                                      const int32_t *types, int32_t bos, int32_t eos, int32_t unk,
                                      int add_space_prefix, int add_bos, srlm_tokenizer **out);
srlm_status srlm_spm_encode_segment(const srlm_tokenizer *t, const char *s, size_t n,
                                    int add_prefix, srlm_i32vec *out);

/* Reads the tokenizer from a GGUF file's metadata (tokenizer.ggml.*). Errors:
 * SRLM_ERR_NOT_FOUND when the file has no tokenizer, SRLM_ERR_UNSUPPORTED for GGUF
 * vocabularies other than "llama" (SentencePiece), SRLM_ERR_FORMAT as the GGUF reader. */
srlm_status srlm_tokenizer_create_gguf(const char *path, srlm_tokenizer **out);
/* The same from a GGUF image in memory; `name` appears in errors (fuzzing, tests). */
srlm_status srlm_tokenizer_create_gguf_memory(const void *data, size_t size, const char *name,
                                              srlm_tokenizer **out);
/* The same from an already opened GGUF (e.g. by the model loader); g is not kept. */
struct srlm_gguf;
srlm_status srlm_tokenizer_from_gguf(const struct srlm_gguf *g, srlm_tokenizer **out);

#endif
