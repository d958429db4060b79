/* init.h: pieces of `srlm init` (srlm_model_init in srlm.h): the random initialiser and the
 * tokenizer files of a new model folder. Not a tokenizer: runtime/text reads these files. */
#ifndef SRLM_MODEL_INIT_H
#define SRLM_MODEL_INIT_H

#include "model/config.h"

/* Special tokens of srlm's byte-level tokenizer: ids 0..255 are the bytes. */
#define SRLM_BYTE_TOK_ENDOFTEXT 256
#define SRLM_BYTE_TOK_IM_START 257
#define SRLM_BYTE_TOK_IM_END 258
/* The mask token <|mask|> sits on the last embedding row (vocab_size - 1). */

/* Writes tokenizer.json (byte-level BPE without merges, GPT-2 ByteLevel byte mapping, the
 * Qwen2 NFC normaliser / Split regex / ByteLevel pre-tokenizer and decoder, added specials)
 * and tokenizer_config.json (ChatML template, eos <|im_end|>, pad <|endoftext|>) into dir.
 * Needs vocab_size >= 260. Errors: SRLM_ERR_INVALID, SRLM_ERR_IO, SRLM_ERR_OOM. */
srlm_status srlm_write_byte_tokenizer(const char *dir, const srlm_model_config *c);

/* Copies tokenizer.json (required) and tokenizer_config.json, vocab.json, merges.txt,
 * generation_config.json (when present) from src to dst, after checking that every token id
 * in tokenizer.json is below vocab_size. Errors: SRLM_ERR_NOT_FOUND naming the missing
 * tokenizer.json, SRLM_ERR_FORMAT (bad JSON, ids past the vocabulary), SRLM_ERR_IO. */
srlm_status srlm_copy_tokenizer(const char *src, const char *dst, int vocab_size);

/* The UTF-8 encoding (1-2 bytes + NUL) of byte b under GPT-2's ByteLevel mapping. */
void srlm_bytelevel_char(uint8_t b, char out[4]);

#endif
