/* srlm.h: the public API of libsrlm, the portable Vulkan-compute runtime for small
 * language models. The CLI in tools/ and outside users include only this header.
 * It is not a header of internal types: those live beside their code in runtime/<area>/. */
#ifndef SRLM_H
#define SRLM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SRLM_VERSION "0.1.0"

/* ---- Errors are values -------------------------------------------------------------
 * A fallible function returns srlm_status: NULL on success, else an error object owned by
 * the caller (free it with srlm_status_free). Error objects carry a code and a message that
 * names the file, tensor, line or SQL that failed. Out-of-memory while building an error
 * yields a static, immutable OOM error (freeing it is a no-op). */
typedef enum srlm_code {
    SRLM_OK = 0,
    SRLM_ERR_INVALID,      /* bad argument or input value */
    SRLM_ERR_IO,           /* file missing, unreadable, short write */
    SRLM_ERR_FORMAT,       /* malformed file: JSON, safetensors, GGUF, JSONL, ... */
    SRLM_ERR_OOM,          /* host memory exhausted */
    SRLM_ERR_DEVICE_OOM,   /* device memory exhausted or plan over budget */
    SRLM_ERR_DEVICE_LOST,  /* VK_ERROR_DEVICE_LOST */
    SRLM_ERR_VULKAN,       /* any other Vulkan failure */
    SRLM_ERR_UNSUPPORTED,  /* device or file lacks a required feature */
    SRLM_ERR_SQL,          /* SQLite refused or failed a statement */
    SRLM_ERR_TIMEOUT,      /* a deadline passed */
    SRLM_ERR_NOT_FOUND,    /* a named thing does not exist */
} srlm_code;

typedef struct srlm_error *srlm_status;

/* Builds an error with a printf-style message. Never returns NULL. */
srlm_status srlm_errorf(srlm_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
srlm_status srlm_errorv(srlm_code code, const char *fmt, va_list ap);
/* Prepends context ("loading model.safetensors: ") to an error's message; returns st.
 * Passing NULL returns NULL. */
srlm_status srlm_status_wrap(srlm_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
srlm_code srlm_status_code(srlm_status st);          /* SRLM_OK for NULL */
const char *srlm_status_msg(srlm_status st);         /* "ok" for NULL */
const char *srlm_code_name(srlm_code code);
void srlm_status_free(srlm_status st);               /* accepts NULL */

/* Propagate an error from an expression returning srlm_status. */
#define SRLM_TRY(expr) do { srlm_status srlm_try_st_ = (expr); if (srlm_try_st_) return srlm_try_st_; } while (0)


/* ---- Vulkan context -----------------------------------------------------------------
 * One srlm_ctx per device: instance, device, queue, pipelines, memory accounting. Not
 * thread-safe: use one context per thread or serialise calls. */
typedef struct srlm_ctx srlm_ctx;

typedef struct srlm_ctx_options {
    int device;          /* device index; -1: SRLM_DEVICE or the best (discrete > integrated > virtual > CPU) */
    int validate;        /* 1/0; -1: SRLM_VALIDATE=1 turns the Khronos validation layer on */
    int profile;         /* 1/0; -1: SRLM_PROFILE=1 records per-op timestamps */
    uint64_t mem_budget; /* bytes; 0: SRLM_MEM_BUDGET (e.g. "6G") or the device heap size */
} srlm_ctx_options;

void srlm_ctx_options_default(srlm_ctx_options *o);
/* Creates a context. Errors: no Vulkan device, the validation layer asked for but missing,
 * device creation failures (SRLM_ERR_VULKAN / SRLM_ERR_UNSUPPORTED). */
srlm_status srlm_ctx_create(const srlm_ctx_options *o, srlm_ctx **out);
/* Destroys the context; saves the pipeline cache. Accepts NULL. */
void srlm_ctx_destroy(srlm_ctx *ctx);
/* Number of validation-layer messages (warnings and errors) seen so far: tests fail on > 0. */
int srlm_ctx_validation_errors(const srlm_ctx *ctx);
const char *srlm_ctx_device_name(const srlm_ctx *ctx);
/* True for a CPU implementation (lavapipe): benchmarks then also measure host memcpy. */
int srlm_ctx_is_cpu(const srlm_ctx *ctx);
/* Peak and current bytes of device memory allocated by this context. */
uint64_t srlm_ctx_mem_peak(const srlm_ctx *ctx);
uint64_t srlm_ctx_mem_budget(const srlm_ctx *ctx);
/* Writes the per-op time table (SRLM_PROFILE=1) to f; nothing when profiling is off. */
void srlm_ctx_profile_report(srlm_ctx *ctx, FILE *f);

/* A text listing every Vulkan device with the limits and features srlm uses (`srlm info`).
 * *text is malloc'd; the caller frees it. */
srlm_status srlm_devices_report(char **text);

/* ---- Benchmarks (`srlm bench`) -------------------------------------------------------
 * Speed is measured here, never by timed tests. Each prints a table to `out`. */
typedef struct srlm_bench_opts {
    double min_seconds; /* replay each measurement at least this long (default 0.3) */
    int quick;          /* smaller sizes, for smoke tests */
} srlm_bench_opts;

typedef struct srlm_membw_result {
    double read_gbs;        /* device read-and-reduce rate */
    double copy_gbs;        /* device copy, read + write bytes */
    double host_memcpy_gbs; /* CPU devices only: host memcpy, read + write bytes */
    double host_read_gbs;   /* half of host_memcpy_gbs: the reference for lavapipe targets */
} srlm_membw_result;

void srlm_bench_opts_default(srlm_bench_opts *o);
/* Every op at several sizes: ms per call, GB/s, GFLOP/s. `only` (may be NULL) filters families. */
srlm_status srlm_bench_ops(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *o, const char *only);
/* Device read and copy bandwidth, and on a CPU device the host's memcpy; res may be NULL. */
srlm_status srlm_bench_membw(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *o, srlm_membw_result *res);

/* `srlm bench matmul`: Y = X.W^T with f16 weights of K = 4096 inputs by N = 14336 outputs
 * (llama.cpp's "4096x14336") at 1, 8, 16 and 512 columns (M), f32 at 1024^3, then the
 * Qwen2.5-0.5B shapes and the backward forms for the record. Each rate is 2*M*N*K / best time
 * of the device's default kernel. o->quick uses smaller shapes. res may be NULL. */
typedef struct srlm_matmul_bench_result {
    double f16_gflops[4]; /* at 1, 8, 16, 512 columns (quick: 64) */
    double f32_gflops;    /* 1024^3 (quick: 256^3) */
} srlm_matmul_bench_result;
srlm_status srlm_bench_matmul(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *o, srlm_matmul_bench_result *res);
/* ---- Model files (runtime/model) ----------------------------------------------------
 * Element types of stored weights. Dense types have a fixed element size; Q8_0 is a block
 * type (32 values per 34-byte block) read from GGUF only. */
typedef enum srlm_dtype {
    SRLM_DTYPE_F32 = 0,
    SRLM_DTYPE_F16 = 1,
    SRLM_DTYPE_BF16 = 2,
    SRLM_DTYPE_Q8_0 = 3,
} srlm_dtype;

/* ---- Models on the device -----------------------------------------------------------
 * srlm_model: a Qwen2 / Llama model's weights uploaded to a context. */
typedef struct srlm_model srlm_model;

/* Loads `path` (HF folder or .gguf) onto ctx, storing matrices and the embedding as
 * `dtype` (SRLM_DTYPE_F32 or SRLM_DTYPE_F16; BF16 files are converted to f16). Errors name
 * the file and tensor (see srlm_weights_open), or the memory plan that does not fit. */
srlm_status srlm_model_load(srlm_ctx *ctx, const char *path, srlm_dtype dtype, srlm_model **out);
void srlm_model_destroy(srlm_model *m); /* accepts NULL */
int srlm_model_vocab_size(const srlm_model *m);
/* Device bytes the weights occupy. */
uint64_t srlm_model_weight_bytes(const srlm_model *m);
/* The model's first end-of-sequence id from its config (-1 when none). */
int32_t srlm_model_eos(const srlm_model *m);
/* Parameters of the model (the LM head counted once when tied). */
uint64_t srlm_model_param_count_of(const srlm_model *m);

/* ---- Inference engine ----------------------------------------------------------------
 * Many sequences decoding together over a paged KV cache (blocks of `block` tokens, a block
 * table per sequence; forks share their parent's full blocks and copy only the last partial
 * one). One forward pass per step for the whole batch. Not thread-safe. */
typedef struct srlm_engine srlm_engine;

typedef struct srlm_engine_options {
    int max_seqs;        /* sequences alive at once (default 1) */
    int max_ctx;         /* positions per sequence (default 2048) */
    int max_step_tokens; /* tokens per forward pass; longer prompts are chunked (default 256) */
    int max_out;         /* logit rows per forward pass (default max(max_seqs, 32)) */
    int block;           /* tokens per KV block (default 16) */
} srlm_engine_options;

void srlm_engine_options_default(srlm_engine_options *o);
/* Allocates the KV cache and the activation plan on the model's context. Errors: the plan
 * does not fit the budget (SRLM_ERR_DEVICE_OOM, naming the sizes). The model must outlive
 * the engine. */
srlm_status srlm_engine_create(srlm_model *m, const srlm_engine_options *o, srlm_engine **out);
void srlm_engine_destroy(srlm_engine *e);
int srlm_engine_max_seqs(const srlm_engine *e);
int srlm_engine_max_ctx(const srlm_engine *e);
int srlm_engine_free_blocks(const srlm_engine *e);
uint64_t srlm_engine_tokens_processed(const srlm_engine *e);

srlm_status srlm_engine_seq_new(srlm_engine *e, int *id);
/* A new sequence sharing `parent`'s prefix (full KV blocks shared, the partial one copied). */
srlm_status srlm_engine_seq_fork(srlm_engine *e, int parent, int *child);
void srlm_engine_seq_free(srlm_engine *e, int id);
int srlm_engine_seq_len(const srlm_engine *e, int id); /* -1 for a dead id */

/* Appends n_tokens[i] tokens (concatenated in `tokens`) to sequence seq_ids[i] for each of
 * the n sequences and runs the forward pass (prefill, extend and decode mixed; chunked when
 * longer than a step). logits receives, in order, the last token's row of each sequence
 * (n x V), or with all_logits every token's row (sum(n_tokens) x V). Errors: unknown or
 * repeated sequence, token id outside the vocabulary, context or KV cache full, device errors. */
srlm_status srlm_engine_step(srlm_engine *e, int n, const int *seq_ids, const int *n_tokens, const int32_t *tokens,
                             int all_logits, float *logits);
/* ---- Tokenizers and chat (runtime/text/) -------------------------------------------
 * Byte-level BPE (Qwen2/Qwen2.5, GPT-2 style) from a Hugging Face tokenizer.json, and
 * SentencePiece BPE (llama "spm") from GGUF metadata. Token ids are int32. A tokenizer is
 * immutable once created: encode, decode and lookups may run on several threads at once. */
typedef struct srlm_tokenizer srlm_tokenizer;

/* Loads a tokenizer from `path`: a model folder holding tokenizer.json (and optionally
 * tokenizer_config.json, which supplies bos/eos and the chat default), a tokenizer.json
 * file, or a GGUF file (tokenizer.ggml.* metadata). Errors: SRLM_ERR_NOT_FOUND / IO for
 * missing files, SRLM_ERR_FORMAT for malformed ones (naming the file), SRLM_ERR_UNSUPPORTED
 * for tokenizer kinds this library does not implement. */
srlm_status srlm_tokenizer_create(const char *path, srlm_tokenizer **out);
/* The same from tokenizer.json text in memory; `name` (may be NULL) is used in errors. */
srlm_status srlm_tokenizer_create_from_json(const char *json, size_t len, const char *name,
                                            srlm_tokenizer **out);
void srlm_tokenizer_destroy(srlm_tokenizer *tok); /* accepts NULL */

enum {
    SRLM_ENCODE_SPECIAL = 1, /* match special tokens such as <|im_start|> in the text */
    SRLM_ENCODE_BOS = 2,     /* prepend BOS when the tokenizer has one */
};
/* Encodes len bytes of UTF-8 text. Added tokens not marked special are always matched;
 * special ones only with SRLM_ENCODE_SPECIAL. On success *ids is a malloc'd array of *n_ids
 * ids (free() it; non-NULL even when empty). Errors: SRLM_ERR_INVALID for ill-formed UTF-8
 * (the message names the byte offset), SRLM_ERR_OOM. */
srlm_status srlm_tokenizer_encode(const srlm_tokenizer *tok, const char *text, size_t len,
                                  unsigned flags, int32_t **ids, size_t *n_ids);

enum {
    SRLM_DECODE_SKIP_SPECIAL = 1, /* special/control tokens produce no text */
};
/* Decodes ids to text (malloc'd, NUL-terminated, free() it; *len may be NULL). Ids without
 * text (e.g. Qwen2.5's 151665..151935 embedding rows, or any id >= vocab size) produce
 * nothing; ill-formed UTF-8 produced by odd id sequences becomes U+FFFD. Negative ids are
 * SRLM_ERR_INVALID. SentencePiece's dummy-prefix space before the first token is removed. */
srlm_status srlm_tokenizer_decode(const srlm_tokenizer *tok, const int32_t *ids, size_t n,
                                  unsigned flags, char **text, size_t *len);
/* The bytes token id decodes to (not NUL-terminated; may be part of a UTF-8 character),
 * or NULL (and *len 0) for ids without text. Owned by the tokenizer. */
const char *srlm_tokenizer_piece(const srlm_tokenizer *tok, int32_t id, size_t *len);
int32_t srlm_tokenizer_vocab_size(const srlm_tokenizer *tok); /* highest id with text + 1 */
int32_t srlm_tokenizer_bos(const srlm_tokenizer *tok);        /* -1 when none */
int32_t srlm_tokenizer_eos(const srlm_tokenizer *tok);        /* -1 when none */
int srlm_tokenizer_is_special(const srlm_tokenizer *tok, int32_t id);
/* The id of an added/special token by its content ("<|im_end|>", "<s>"), or of a regular
 * token by its decoded bytes (BPE: " Hello") or its piece (SentencePiece: "\u2581Hello").
 * SRLM_ERR_NOT_FOUND when absent. */
srlm_status srlm_tokenizer_find(const srlm_tokenizer *tok, const char *text, int32_t *id);
/* Writes a byte-level tokenizer.json for small test models: ids 0..255 are the bytes (no
 * merges), then <|endoftext|> 256, <|im_start|> 257, <|im_end|> 258, <|mask|> 259 (all
 * special), Qwen2.5's pre-tokenizer regex, no normaliser. Written atomically (temporary
 * name, rename). Errors: SRLM_ERR_IO, SRLM_ERR_OOM. */
srlm_status srlm_tokenizer_write_byte_level(const char *path);
/* Encodes text `repeats` times and reports the best speed in MB/s (1e6 bytes per second of
 * the calling thread's CPU time, i.e. one core) and the token count. For benchmarks/tests. */
srlm_status srlm_tokenizer_bench(const srlm_tokenizer *tok, const char *text, size_t len,
                                 int repeats, double *mb_per_s, size_t *n_tokens);

/* Streaming decoder: feed ids one at a time; each push returns the text that became
 * complete. It never returns part of a UTF-8 character: incomplete bytes are held back
 * until the next push completes them (ill-formed bytes become U+FFFD). The returned text
 * is owned by the decoder and valid until the next call. The tokenizer must outlive it. */
typedef struct srlm_detokenizer srlm_detokenizer;
srlm_status srlm_detokenizer_create(const srlm_tokenizer *tok, unsigned flags /* SRLM_DECODE_* */,
                                    srlm_detokenizer **out);
srlm_status srlm_detokenizer_push(srlm_detokenizer *d, int32_t id, const char **text, size_t *len);
/* Ends the stream: held-back bytes that never completed come out as U+FFFD. */
srlm_status srlm_detokenizer_flush(srlm_detokenizer *d, const char **text, size_t *len);
void srlm_detokenizer_reset(srlm_detokenizer *d); /* start a new stream, dropping held bytes */
void srlm_detokenizer_destroy(srlm_detokenizer *d); /* accepts NULL */

/* Chat rendering. Roles: "system", "user", "assistant", "tool". */
typedef struct srlm_chat_message {
    const char *role;
    const char *content;
} srlm_chat_message;
/* Renders messages with the tokenizer's chat format: ChatML (Qwen2.5-Instruct's template,
 * without tool definitions) when the vocabulary has <|im_start|> and <|im_end|>; the Qwen
 * default system prompt is used when the first message is not a system message (unless a
 * tokenizer_config.json chat template without it was loaded). With add_generation_prompt
 * the text ends with the assistant header. *out is malloc'd (free() it). Errors:
 * SRLM_ERR_UNSUPPORTED when the tokenizer has no chat format, SRLM_ERR_INVALID for an
 * unknown role, a NULL field or no messages. Encode the result with SRLM_ENCODE_SPECIAL. */
srlm_status srlm_chat_render(const srlm_tokenizer *tok, const srlm_chat_message *msgs, size_t n,
                             int add_generation_prompt, char **out);
/* Parses "f32"/"float32", "f16"/"float16", "bf16"/"bfloat16" (any case). Returns 0 when the
 * name is none of them, 1 on success. */
int srlm_dtype_parse(const char *name, srlm_dtype *out);
/* "F32", "F16", "BF16", "Q8_0". */
const char *srlm_dtype_name(srlm_dtype t);

/* What `srlm init` writes: a randomly initialised model as a Hugging Face folder. */
typedef struct srlm_init_options {
    const char *config_path;   /* a preset (models/NAME.json): HF config.json + srlm keys */
    const char *out_dir;       /* must not exist; written as out_dir.tmp.<pid>, then renamed */
    uint64_t seed;
    srlm_dtype dtype;          /* F32, F16 or BF16 storage (also the config's torch_dtype) */
    const char *tokenizer_dir; /* copy tokenizer.json (+ tokenizer_config.json, vocab.json,
                                  merges.txt when present) from here; NULL: presets with
                                  "srlm_tokenizer": "byte-level" get srlm's byte-level one */
} srlm_init_options;

/* Writes config.json, model.safetensors (HF names, `__metadata__ {"format":"pt"}`; matrices
 * and embeddings N(0, 0.02), biases N(0, 0.02), norm gains 1; element k of tensor i drawn
 * from the counter RNG at (seed, i, k), so the weights do not depend on dtype or order) and
 * the tokenizer files. Atomic: on error nothing is left at out_dir. Errors: SRLM_ERR_INVALID
 * (out_dir exists, bad dtype), SRLM_ERR_NOT_FOUND (tokenizer missing), the config parser's
 * errors naming the preset, SRLM_ERR_IO, SRLM_ERR_OOM. */
srlm_status srlm_model_init(const srlm_init_options *opt);

/* ---- Sampling parameters (runtime/decode) -------------------------------------------
 * What `srlm generate` / `chat` and the decode loops take per sequence. The order of the
 * logit processing follows Hugging Face `generate`: repetition penalty on the raw logits,
 * then temperature, then top-k, top-p and min-p on the tempered distribution; the token is
 * drawn from what is left, renormalised. Randomness: one uniform double per token,
 * srlm_rng_uniform_f64(seed, sequence id, position) (runtime/rng.h), so a sequence's tokens
 * depend only on its own logits, seed, id and positions, never on the rest of the batch. */
typedef struct srlm_sample_params {
    float temperature;     /* 0: greedy (argmax of the penalised logits, ties to the lowest id);
                              > 0: logits divided by it. Default 1. */
    int32_t top_k;         /* keep the k most likely tokens (ties to the lowest id); 0 or >= V: off.
                              Default 0. */
    float top_p;           /* nucleus: keep a token while the probability mass ranked strictly
                              above it is < top_p; in (0, 1]; 1: off. Default 1. */
    float min_p;           /* keep tokens with p >= min_p * max p; in [0, 1]; 0: off. Default 0. */
    float repeat_penalty;  /* > 0; a logit of an id seen in the window is divided by it when
                              positive, multiplied when negative (HF); 1: off. Default 1. */
    int32_t repeat_last_n; /* window: the last n ids before the sampled token (prompt included);
                              -1: the whole history; 0: none. Default -1. */
    uint64_t seed;         /* RNG seed. Default 0. */
    int32_t max_tokens;    /* stop after this many generated tokens; 0: no limit. Default 256. */
    const int32_t *stop_ids;          /* borrowed: ids that end the sequence (e.g. <|im_end|>) */
    int32_t n_stop_ids;
    const char *const *stop_strings;  /* borrowed, NUL-terminated, non-empty: text that ends the
                                         sequence, matched on decoded bytes across tokens */
    int32_t n_stop_strings;
} srlm_sample_params;

/* Fills p with the defaults above: plain sampling from the model's distribution. */
void srlm_sample_params_default(srlm_sample_params *p);
/* Checks ranges (temperature >= 0 and finite, top_k >= 0, top_p in (0, 1], min_p in [0, 1],
 * repeat_penalty > 0, repeat_last_n >= -1, max_tokens >= 0, stop ids >= 0, stop strings
 * non-empty). Errors: SRLM_ERR_INVALID naming the field and value. */
srlm_status srlm_sample_params_check(const srlm_sample_params *p);

/* ---- Generation ------------------------------------------------------------------------
 * Batched generation over an engine: all prompts prefilled in one step, then one decode
 * step per token for every live sequence together. Needs srlm_sample_params (sampling). */
enum {
    SRLM_GEN_FINISH_STOP_ID = 1,     /* a stop token (not part of the text) */
    SRLM_GEN_FINISH_LENGTH = 2,      /* max_tokens generated */
    SRLM_GEN_FINISH_STOP_STRING = 3, /* a stop string (cut from the text) */
    SRLM_GEN_FINISH_CONTEXT = 4,     /* the context is full */
};

/* One sequence's outcome: every generated token with the sampler's numbers (see
 * srlm_sample_params: logprob under the model at temperature 1, logprob under the
 * distribution actually sampled from, entropy of the model's distribution). Arrays are
 * malloc'd; srlm_gen_result_free releases them. */
typedef struct srlm_gen_result {
    int32_t *tokens;
    float *logprob, *logprob_sampled, *entropy;
    size_t n_tokens;
    char *text;          /* generated text, NUL-terminated, stop string excluded */
    size_t n_text;
    int finish;          /* SRLM_GEN_FINISH_* */
} srlm_gen_result;

typedef struct srlm_gen_stats {
    uint64_t prefill_tokens, decode_tokens;
    double prefill_seconds, decode_seconds;
} srlm_gen_stats;

/* Called with text as it becomes safe to show (whole UTF-8 characters, never the start of a
 * stop string); `index` is the prompt's index. */
typedef void (*srlm_gen_stream_fn)(void *user, int index, const char *text, size_t len);

/* Generates a continuation of each of the n prompts (n <= the engine's max_seqs), with
 * params[i] for prompt i; tok (may be NULL: no text) decodes for streaming and stop strings.
 * results (n of them) are filled; stats may be NULL. Errors: bad parameters, a prompt
 * longer than the context, device errors; on error no result needs freeing. */
srlm_status srlm_generate(srlm_engine *e, const srlm_tokenizer *tok, int n, const int32_t *const *prompts,
                          const size_t *n_prompts, const srlm_sample_params *params, srlm_gen_stream_fn stream, void *user,
                          srlm_gen_result *results, srlm_gen_stats *stats);
void srlm_gen_result_free(srlm_gen_result *r);

/* ---- Model benchmarks (`srlm bench decode|prefill`) ------------------------------------ */
typedef struct srlm_bench_model_opts {
    int batch;         /* sequences decoding together (decode) */
    int ctx;           /* context length at which decode is timed */
    int steps;         /* decode steps timed */
    int prompt;        /* prefill length */
    srlm_dtype dtype;  /* weight storage (default f16) */
    double ref_gbs;    /* reference read rate for the fraction printed (0: none) */
    double ref_gflops; /* reference matmul rate (0: none) */
} srlm_bench_model_opts;

typedef struct srlm_bench_model_result {
    double tokens_per_s, ms_per_step, gbs, gflops;
    uint64_t peak_bytes;
} srlm_bench_model_result;

void srlm_bench_model_opts_default(srlm_bench_model_opts *o);
srlm_status srlm_bench_decode(srlm_ctx *ctx, FILE *out, const char *model, const srlm_bench_model_opts *o, srlm_bench_model_result *res);
srlm_status srlm_bench_prefill(srlm_ctx *ctx, FILE *out, const char *model, const srlm_bench_model_opts *o, srlm_bench_model_result *res);

#ifdef __cplusplus
}
#endif
#endif /* SRLM_H */
