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

/* Storage of the KV cache. f16 halves the cache's memory and read traffic; f32 keeps K and V
 * exactly as computed (the f16 rounding costs ~1e-4 relative logit error on 24 layers). */
typedef enum srlm_kv_dtype {
    SRLM_KV_AUTO = 0, /* f32 when the model's weights are stored f32, else f16 */
    SRLM_KV_F16 = 1,
    SRLM_KV_F32 = 2,
} srlm_kv_dtype;

typedef struct srlm_engine_options {
    int max_seqs;        /* sequences alive at once (default 1) */
    int max_ctx;         /* positions per sequence (default 2048) */
    int max_step_tokens; /* tokens per forward pass; longer prompts are chunked (default 256) */
    int max_out;         /* logit rows per forward pass (default max(max_seqs, 32)) */
    int block;           /* tokens per KV block (default 16) */
    srlm_kv_dtype kv_dtype; /* KV cache storage (default SRLM_KV_AUTO) */
    int host_select;     /* 1: srlm_generate always reads whole logit rows back and selects on
                            the host; 0 (default): greedy and top-k rows without repetition
                            penalty get their best ids, log-sum-exp and entropy from the
                            device (same tokens, O(k) read-back per row instead of V) */
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
/* The KV cache storage the engine chose (SRLM_KV_F16 or SRLM_KV_F32, never AUTO). */
srlm_kv_dtype srlm_engine_kv_dtype(const srlm_engine *e);

srlm_status srlm_engine_seq_new(srlm_engine *e, int *id);
/* A new sequence sharing `parent`'s prefix (full KV blocks shared, the partial one copied). */
srlm_status srlm_engine_seq_fork(srlm_engine *e, int parent, int *child);
void srlm_engine_seq_free(srlm_engine *e, int id);
int srlm_engine_seq_len(const srlm_engine *e, int id); /* -1 for a dead id */
/* Keeps the first len cached tokens of sequence id (0 <= len <= its length), so that it can
 * be extended with other tokens from there (e.g. a conversation whose re-rendered text only
 * shares a prefix with what was generated). A partial last block shared with a fork is
 * copied first. Errors: SRLM_ERR_INVALID (dead id, len out of range), SRLM_ERR_DEVICE_OOM (no
 * block for that copy; nothing changed); device errors leave the sequence unspecified. */
srlm_status srlm_engine_seq_truncate(srlm_engine *e, int id, int len);

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
    SRLM_ENCODE_BOS = 2,     /* prepend BOS when the tokenizer has one and its model wants it
                              * (GGUF add_bos_token, tokenizer_config.json add_bos_token;
                              * default yes): pass it when starting a sequence */
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
/* srlm_generate for one prompt on an existing sequence `seq` whose KV cache already holds
 * the first c = srlm_engine_seq_len(e, seq) tokens of ids (the caller's promise; c < n_ids):
 * only ids[c..n_ids) are prefilled; sampling sees the whole of ids as history and positions
 * (so the tokens equal those of srlm_generate on ids from an empty cache, up to the
 * rounding differences of cached decode vs. prefill arithmetic). The sequence is kept: on
 * return it holds ids plus every generated token but the last (which was sampled, never
 * fed back). stats->prefill_tokens counts the new tokens only. Errors: as srlm_generate,
 * SRLM_ERR_INVALID for a dead sequence or c >= n_ids; after an error the sequence's cache
 * is unspecified (truncate or free it). */
srlm_status srlm_generate_continue(srlm_engine *e, const srlm_tokenizer *tok, int seq, const int32_t *ids, size_t n_ids,
                                   const srlm_sample_params *params, srlm_gen_stream_fn stream, void *user,
                                   srlm_gen_result *result, srlm_gen_stats *stats);

/* ---- Model benchmarks (`srlm bench decode|prefill`) ------------------------------------ */
typedef struct srlm_bench_model_opts {
    int batch;         /* sequences decoding together (decode) */
    int ctx;           /* context reserved per sequence (KV cache and plan; decode) */
    int steps;         /* decode steps timed */
    int fill;          /* positions prefilled before the timed decode steps; 0: ctx - steps,
                          so decode is timed at the end of the context */
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

/* ---- Training data (runtime/train/) ------------------------------------------------
 * JSONL datasets ({"messages":[...]} rendered with the chat template, {"prompt","completion"},
 * {"text"}) or plain .txt files, tokenised once at open and held in memory; batches of
 * (input ids, target ids, loss weights, segment ids, positions) with the usual shift: the
 * logit at position i predicts targets[i] = the original token i+1. Optional MEAP masking
 * (docs/papers.md §2). Seeded shuffling per epoch; a held-out evaluation split; a cursor
 * for resume. */
typedef enum srlm_meap_mode {
    SRLM_MEAP_OFF = 0,
    SRLM_MEAP_PRETRAIN = 1, /* mask ratio of every sequence's positions 0..L-2 */
    SRLM_MEAP_SFT = 2,      /* a masked copy of each example whose answer has > 50 tokens */
} srlm_meap_mode;

typedef struct srlm_data_options {
    int seq_len;           /* maximum tokens of one sequence (T); longer samples are truncated and counted */
    int batch;             /* sequences per batch (B) */
    int pack;              /* 1: pack several samples per sequence (segment ids, positions restart) */
    uint64_t seed;         /* shuffling, the evaluation split and MEAP draws */
    double eval_fraction;  /* held out of the data file when eval_path is NULL (0: no split) */
    const char *eval_path; /* a separate evaluation file, or NULL */
    srlm_meap_mode meap;
    float meap_ratio;      /* 0: 0.15 for pre-training, 0.10 for SFT */
    int meap_concat;       /* SFT: 0 = `separate` (two sequences), 1 = `concat` (one sequence, two segments) */
    int32_t mask_id;       /* -1: vocab_rows - 1 (151935 for Qwen2.5) */
    int32_t vocab_rows;    /* embedding rows of the model (0: unknown; then mask_id must be set for MEAP) */
} srlm_data_options;
/* seq_len 1024, batch 1, no packing, seed 0, no evaluation split, MEAP off, mask_id -1. */
void srlm_data_options_default(srlm_data_options *o);

typedef struct srlm_dataset srlm_dataset;
/* Reads and tokenises `path` (and o->eval_path) with `tok` (used only during the call).
 * Errors: SRLM_ERR_IO (unreadable file), SRLM_ERR_FORMAT naming FILE:LINE for malformed JSON,
 * a line without "messages" / "prompt"+"completion" / "text", a conversation without an
 * assistant turn after the first message; SRLM_ERR_INVALID for an empty dataset (or an empty
 * train split) and bad options; SRLM_ERR_OOM. */
srlm_status srlm_dataset_open(const srlm_tokenizer *tok, const char *path, const srlm_data_options *o,
                              srlm_dataset **out);
void srlm_dataset_destroy(srlm_dataset *ds); /* accepts NULL */

typedef struct srlm_data_stats {
    size_t train_samples, eval_samples; /* after the split */
    size_t train_tokens, eval_tokens;   /* after truncation */
    size_t loss_tokens;                 /* train tokens that carry loss */
    size_t truncated;                   /* samples cut to seq_len (both splits) */
    size_t truncated_tokens;            /* tokens cut off */
    size_t no_loss;                     /* samples left without any loss token (e.g. truncated prompt) */
    size_t txt_chunks;                  /* seq_len windows cut from .txt files (not truncation) */
    size_t meap_copies;                 /* SFT masked copies made so far (all epochs) */
    size_t concat_split;                /* concat pairs longer than seq_len emitted as two sequences */
} srlm_data_stats;
void srlm_dataset_stats(const srlm_dataset *ds, srlm_data_stats *s);

/* One batch, row-major (B,T). Arrays are owned by the batch: zero-initialise it, let
 * srlm_dataset_next_batch (re)fill it, and release with srlm_batch_free. Padding and unused
 * rows have ids 0, targets 0, weight 0, seg -1. */
typedef struct srlm_batch {
    int B, T;          /* T: the longest row (padding) or seq_len (packing) */
    int rows;          /* rows holding data (<= B; the last batch of an epoch may have fewer) */
    int32_t *ids;      /* (B,T) inputs (MASK where MEAP masked) */
    int32_t *targets;  /* (B,T) the original token at t+1 */
    float *weights;    /* (B,T) loss weight of the prediction at t */
    int32_t *seg;      /* (B,T) segment per token: attention only within a segment */
    int32_t *pos;      /* (B,T) RoPE position, 0 at each segment start */
    int32_t *sample;   /* (B,T) the sample a token belongs to (train index, or the train count
                        * + eval index; its offset there is pos), -1 for padding and masked
                        * (MEAP) sequences: top-k teacher files are looked up by it */
    size_t n_loss;     /* weights summed */
    size_t cap;
} srlm_batch;
void srlm_batch_free(srlm_batch *b);

enum { SRLM_SPLIT_TRAIN = 0, SRLM_SPLIT_EVAL = 1 };
/* Fills the next batch of `split`. Train: shuffled per epoch (key (seed, epoch)), epochs
 * never end (the epoch advances after the last batch, on which *last is 1). Eval: in file
 * order, without MEAP; *last is 1 on the batch that ends the pass, and the next call starts
 * again. A split without samples gives rows == 0 and *last == 1. Errors: SRLM_ERR_OOM. */
srlm_status srlm_dataset_next_batch(srlm_dataset *ds, int split, srlm_batch *b, int *last);

/* The train position for resume: epoch, index into that epoch's order, and how many of that
 * sample's sequences (1, or 2 with a separate MEAP copy) were already emitted. */
typedef struct srlm_data_cursor {
    uint64_t epoch, index, part;
} srlm_data_cursor;
srlm_data_cursor srlm_dataset_cursor(const srlm_dataset *ds);
/* Restores a cursor; SRLM_ERR_INVALID when it lies outside the dataset. */
srlm_status srlm_dataset_seek(srlm_dataset *ds, srlm_data_cursor c);

/* ---- Plots (runtime/obs/) ------------------------------------------------------------ */
/* Draws metrics of a run database (table metrics(run, step, name, value)) as a line chart:
 * one line per (run, metric), x = step, with axes, round ticks, labels, title and legend,
 * and writes a PNG atomically (temporary name, rename). names: n_names metric names, or
 * n_names == 0 for every metric in the file. width/height 0: 960x540. The database is
 * opened read-only. Errors: SRLM_ERR_IO / SRLM_ERR_SQL (the message names the file or
 * statement), SRLM_ERR_NOT_FOUND when a named metric has no rows (or the file none),
 * SRLM_ERR_INVALID for a too small size. */
srlm_status srlm_plot_metrics(const char *db_path, const char *const *names, size_t n_names,
                              const char *png_path, int width, int height);
/* ---- Text-to-SQL: SQLite sandbox, prompts, result matching, rewards, evaluation ---------
 * A sandbox connection opens one SQLite database read-only and runs one read-only statement
 * per call under a deadline and caps on what is kept. A failing, refused or slow statement
 * is a *result* (srlm_sql_result.outcome), not an srlm_status error; srlm_status is for
 * things like a missing or non-SQLite database file. One connection per thread. */
typedef struct srlm_sql_db srlm_sql_db;

typedef struct srlm_sql_limits {
    int64_t deadline_ms;     /* wall-clock budget per statement (monotonic clock); 0: none */
    int64_t max_rows;        /* rows kept; more -> truncated */
    int64_t max_bytes;       /* bytes of values kept (text/blob bytes + 16 per cell) */
    int max_length;          /* SQLITE_LIMIT_LENGTH: longest string/blob/row, stored ones too */
    int max_sql_length;      /* SQLITE_LIMIT_SQL_LENGTH */
    int max_expr_depth;      /* SQLITE_LIMIT_EXPR_DEPTH */
    int max_compound_select; /* SQLITE_LIMIT_COMPOUND_SELECT */
    int max_vdbe_op;         /* SQLITE_LIMIT_VDBE_OP */
    int max_like_pattern;    /* SQLITE_LIMIT_LIKE_PATTERN_LENGTH: one LIKE/GLOB call costs up to
                              * max_length * max_like_pattern steps and cannot be interrupted */
    int immutable;           /* open with URI immutable=1 (no locks, no -wal/-shm files) */
} srlm_sql_limits;

/* Defaults: deadline 10 s (decode loop), 100,000 rows, 64 MiB, 500 kB strings, 100 kB SQL,
 * expression depth 200, 64 compound terms, 100,000 VM ops, LIKE patterns of 50 bytes,
 * immutable on. */
void srlm_sql_limits_default(srlm_sql_limits *lim);

/* Opens `path` read-only in the sandbox. lim may be NULL (defaults; copied).
 * Errors: SRLM_ERR_IO (missing or unreadable file, not a regular file), SRLM_ERR_FORMAT (not a
 * SQLite database, or corrupt), SRLM_ERR_SQL (SQLite refused a configuration step). */
srlm_status srlm_sql_open(const char *path, const srlm_sql_limits *lim, srlm_sql_db **out);
void srlm_sql_close(srlm_sql_db *db); /* accepts NULL */
const char *srlm_sql_path(const srlm_sql_db *db);

typedef enum srlm_sql_type {
    SRLM_SQL_NULL = 0, SRLM_SQL_INTEGER, SRLM_SQL_REAL, SRLM_SQL_TEXT, SRLM_SQL_BLOB
} srlm_sql_type;

typedef struct srlm_sql_value {
    srlm_sql_type type;
    int64_t i;        /* SRLM_SQL_INTEGER */
    double r;         /* SRLM_SQL_REAL */
    const char *s;    /* TEXT/BLOB bytes, NUL-terminated for convenience (blobs may hold NULs) */
    size_t n;         /* TEXT/BLOB length in bytes */
} srlm_sql_value;

typedef enum srlm_sql_outcome {
    SRLM_SQL_ROWS = 0,     /* executed; rows (maybe truncated) */
    SRLM_SQL_ERROR,        /* SQLite error: message from sqlite3_errmsg */
    SRLM_SQL_REFUSED,      /* the sandbox refused the statement (write, PRAGMA, two statements...) */
    SRLM_SQL_TIMEOUT,      /* deadline passed */
} srlm_sql_outcome;

typedef struct srlm_sql_result {
    srlm_sql_outcome outcome;
    char *error;           /* outcome != ROWS: the message; else NULL */
    int ncols;
    char **colnames;       /* ncols names */
    size_t nrows;
    srlm_sql_value *cells; /* row-major, nrows * ncols */
    int truncated;         /* a row or byte cap stopped the statement early */
    double elapsed_ms;
} srlm_sql_result;

/* Runs one statement (sql[0..len), len may contain anything; NUL bytes and invalid UTF-8
 * are refused). deadline_ms < 0 uses the connection's limit, 0 means none. *out is always set on success
 * (free with srlm_sql_result_free). Errors: only SRLM_ERR_OOM / SRLM_ERR_INVALID. */
srlm_status srlm_sql_exec(srlm_sql_db *db, const char *sql, size_t len, int64_t deadline_ms,
                          srlm_sql_result **out);
void srlm_sql_result_free(srlm_sql_result *r); /* accepts NULL */
static inline const srlm_sql_value *srlm_sql_cell(const srlm_sql_result *r, size_t row, int col) {
    return &r->cells[row * (size_t)r->ncols + (size_t)col];
}
/* The text the model sees inside <result>...</result>: the error message, or the column
 * names and at most max_rows rows (" | "-separated, one line each). Caller frees *out. */
srlm_status srlm_sql_result_feedback(const srlm_sql_result *r, int max_rows, char **out);
/* The whole result as an aligned text table (or "error: ..."), caller frees *out. */
srlm_status srlm_sql_result_table(const srlm_sql_result *r, char **out);

/* Prompt text. The schema comes from sqlite_master (CREATE TABLE statements, then the foreign
 * keys, optionally sample values per column); evidence (BIRD) when non-NULL and non-empty. */
typedef enum srlm_sql_format { SRLM_SQL_FORMAT_REEX = 0, SRLM_SQL_FORMAT_SQLR1 } srlm_sql_format;
typedef struct srlm_sql_prompt_opts {
    srlm_sql_format format;
    int sample_values;     /* distinct non-NULL values shown per column; 0: none */
    int max_interactions;  /* reex: stated in the instructions (default 10) */
    const char *system;    /* system message; NULL: srlm's default */
} srlm_sql_prompt_opts;
void srlm_sql_prompt_opts_default(srlm_sql_prompt_opts *o);
/* Schema text alone. Caller frees *out. Errors: SRLM_ERR_SQL when the schema cannot be read. */
srlm_status srlm_sql_schema_text(srlm_sql_db *db, int sample_values, char **out);
/* The user message: schema, evidence, question and the format's instructions. */
srlm_status srlm_sql_prompt_user(srlm_sql_db *db, const srlm_sql_prompt_opts *o, const char *question,
                                 const char *evidence, char **out);
/* The whole ChatML prompt (system, user, then the assistant turn opened and, for both
 * formats, "<think>\n" as SQL-R1 prescribes: the text ends with "<|im_start|>assistant\n<think>\n"). */
srlm_status srlm_sql_prompt_chatml(srlm_sql_db *db, const srlm_sql_prompt_opts *o, const char *question,
                                   const char *evidence, char **out);

/* Result comparison. SPIDER: multiset of rows, order only when the gold SQL has "order by",
 * any column permutation of the prediction; BIRD: set of rows, columns in order. Values use
 * Python equality (1 == 1.0, '1' != 1, NULL == NULL). */
typedef enum srlm_sql_rule { SRLM_SQL_RULE_SPIDER = 0, SRLM_SQL_RULE_BIRD } srlm_sql_rule;
/* gold and pred must be ROWS outcomes. order_matters only counts for SPIDER. */
int srlm_sql_results_match(const srlm_sql_result *gold, const srlm_sql_result *pred, srlm_sql_rule rule,
                           int order_matters);
/* Spider's preprocessing of a query before execution (both gold and prediction): "> =" -> ">=",
 * "< =" / "! =" likewise, YEAR(CURDATE()) -> 2020, every DISTINCT keyword removed (outside
 * strings and quoted names). Caller frees *out. */
srlm_status srlm_sql_spider_preprocess(const char *sql, char **out);
/* Spider's order rule: "order by" occurs in the lower-cased (preprocessed) gold SQL. */
int srlm_sql_spider_order_matters(const char *gold_sql);
/* Python equality of two values. */
int srlm_sql_value_eq(const srlm_sql_value *a, const srlm_sql_value *b);
/* Result-set vote (SQL-R1 inference, ReEx tree leaves): candidates whose result is ROWS and not
 * truncated are grouped by identical result (same column count and the same multiset of rows,
 * row order ignored, column order kept); the winner is the first-seen member of the largest
 * group (ties: the group seen first). Returns its index, or -1 when no candidate has a result.
 * results[i] may be NULL (a candidate without SQL). *group_size (may be NULL) gets the
 * winner's group size. */
long srlm_sql_vote(const srlm_sql_result *const *results, size_t n, size_t *group_size);

/* Output parsing and rewards (pure functions; see docs/papers.md sections 3-4). */
typedef struct srlm_sqlr1_parsed {
    int format_ok;       /* think/answer tags once each, in order; answer holds a ```sql block */
    char *sql;           /* last ```sql block of the answer, whitespace collapsed; NULL if none */
    size_t think_chars;  /* code points inside <think>...</think> */
    size_t answer_chars; /* code points inside <answer>...</answer> */
    size_t sql_chars;    /* code points of sql */
} srlm_sqlr1_parsed;
/* text: the assistant turn; when open_think, the prompt already ended with "<think>" and the
 * text is counted as if it began with it. */
srlm_status srlm_sqlr1_parse(const char *text, int open_think, srlm_sqlr1_parsed *out);
void srlm_sqlr1_parsed_free(srlm_sqlr1_parsed *p);
typedef struct srlm_sqlr1_reward { double format, execution, result, length, total; } srlm_sqlr1_reward;
/* executed: the SQL ran without error or timeout; matched: its result equals gold's. */
srlm_sqlr1_reward srlm_sqlr1_reward_compute(const srlm_sqlr1_parsed *p, int executed, int matched);

typedef struct srlm_reex_parsed {
    int format_ok;          /* see reward.c: tags balanced, not nested, think present, every
                             * intermediate followed by a result, one final_sql last, <= limit */
    char *final_sql;        /* whitespace collapsed; NULL if absent */
    int n_intermediate;
    char **intermediate;    /* n_intermediate SQL strings (collapsed) */
    char **results;         /* the <result> text after each (NULL when missing) */
    const char *error;      /* why the format is invalid (static text), NULL when ok */
} srlm_reex_parsed;
/* text: the whole assistant turn, including the "<think>\n" that srlm_sql_prompt_chatml ends
 * the prompt with (prepend it to the completion). max_interactions <= 0 means 10. */
srlm_status srlm_reex_parse(const char *text, int max_interactions, srlm_reex_parsed *out);
void srlm_reex_parsed_free(srlm_reex_parsed *p);
typedef struct srlm_reex_weights { double format, exact, execution, entity, exploration; } srlm_reex_weights;
void srlm_reex_weights_default(srlm_reex_weights *w); /* 2, 1, 3, 1, 2 */
typedef struct srlm_reex_reward { double format, exact, execution, entity, exploration, total; } srlm_reex_reward;
/* Pure: exact = normalised string equality of final and gold SQL; entity = fraction of the gold
 * query's schema names (tables and columns, from `names`, n_names) that the final SQL mentions;
 * exploration = n_explore_ok / n_intermediate (0 when none). Terms are 0..1 times weights;
 * everything but format is 0 when the format is invalid. */
srlm_reex_reward srlm_reex_reward_compute(const srlm_reex_parsed *p, const char *gold_sql,
                                          const char *const *names, size_t n_names,
                                          int executed_match, int n_explore_ok,
                                          const srlm_reex_weights *w);
/* Normalised SQL for exact match: lower case outside string literals, whitespace runs
 * collapsed, spaces around punctuation dropped, trailing semicolons removed. Caller frees. */
srlm_status srlm_sql_normalize(const char *sql, char **out);
/* Collapses whitespace runs to one space and trims. Caller frees. */
srlm_status srlm_sql_collapse_ws(const char *sql, char **out);

/* ---- Run database (runtime/obs) ----------------------------------------------------------
 * One SQLite file per run with a versioned schema: meta, runs, metrics, checkpoints, samples,
 * evaluations (docs/architecture.md, "Files and formats"). Metrics are written in batched
 * transactions; every other call commits at once. Not thread-safe: one writer. */
#define SRLM_RUNDB_SCHEMA_VERSION 1
typedef struct srlm_rundb srlm_rundb;
/* Opens or creates. Errors: SRLM_ERR_IO (cannot create/open), SRLM_ERR_FORMAT (not a run
 * database, or a newer schema_version than this srlm knows). */
srlm_status srlm_rundb_open(const char *path, srlm_rundb **out);
/* Commits pending rows and closes. Accepts NULL. */
void srlm_rundb_close(srlm_rundb *db);
srlm_status srlm_rundb_run_begin(srlm_rundb *db, const char *command, const char *config_json,
                                 const char *device, int64_t *run_id);
srlm_status srlm_rundb_run_end(srlm_rundb *db, int64_t run_id, const char *status);
srlm_status srlm_rundb_metric(srlm_rundb *db, int64_t run_id, int64_t step, const char *name, double value);
srlm_status srlm_rundb_flush(srlm_rundb *db);
srlm_status srlm_rundb_checkpoint(srlm_rundb *db, int64_t run_id, int64_t step, const char *path);
srlm_status srlm_rundb_sample(srlm_rundb *db, int64_t run_id, int64_t step, int64_t prompt_id,
                              int64_t leaf_id, const char *text, const char *rewards_json);
srlm_status srlm_rundb_evaluation(srlm_rundb *db, int64_t run_id, const char *dataset, int64_t question_id,
                                  const char *verdict, const char *predicted_sql, const char *details_json);

/* ---- Execution-accuracy evaluation (runtime/sql/eval.c) ---------------------------------
 * Data: Spider JSON (question, query, db_id) or BIRD JSON (question, evidence, SQL, db_id,
 * difficulty); databases at DB_DIR/<db_id>/<db_id>.sqlite. Predictions come from a callback
 * so that a model-driven source can be plugged in; srlm_sql_predictions_load reads a file. */
typedef enum srlm_sql_data_format { SRLM_SQL_DATA_AUTO = 0, SRLM_SQL_DATA_SPIDER, SRLM_SQL_DATA_BIRD } srlm_sql_data_format;
typedef struct srlm_sql_example {
    const char *question, *gold_sql, *db_id;
    const char *evidence;   /* BIRD; NULL for Spider */
    const char *difficulty; /* BIRD; NULL for Spider */
} srlm_sql_example;
typedef struct srlm_sql_dataset srlm_sql_dataset;
/* Errors: SRLM_ERR_IO, SRLM_ERR_FORMAT (bad JSON, not a list, an entry missing a field: the
 * message names the entry index and the field). */
srlm_status srlm_sql_dataset_load(const char *path, srlm_sql_data_format fmt, srlm_sql_dataset **out);
void srlm_sql_dataset_free(srlm_sql_dataset *d);
size_t srlm_sql_dataset_count(const srlm_sql_dataset *d);
srlm_sql_data_format srlm_sql_dataset_format(const srlm_sql_dataset *d);
const srlm_sql_example *srlm_sql_dataset_get(const srlm_sql_dataset *d, size_t i);

/* Reads predictions: a JSON list of strings; BIRD's JSON object {"0": "SQL\t----- bird -----\t
 * db_id", ...}; or one SQL per non-empty line (Spider's evaluator format; a "\t<db_id>" suffix
 * is dropped). Errors: SRLM_ERR_IO, SRLM_ERR_FORMAT
 * (count differs from `expected` when expected > 0). *out: array of *n strings; free with
 * srlm_sql_predictions_free. */
srlm_status srlm_sql_predictions_load(const char *path, size_t expected, char ***out, size_t *n);
void srlm_sql_predictions_free(char **p, size_t n);

/* The prediction source: writes a malloc'd SQL string to *sql (NULL = no prediction). */
typedef srlm_status (*srlm_sql_predict_fn)(void *ctx, size_t index, const srlm_sql_example *ex, char **sql);
typedef void (*srlm_sql_progress_fn)(void *ctx, size_t done, size_t total, size_t correct);

typedef struct srlm_sql_eval_opts {
    srlm_sql_rule rule;        /* default: SPIDER for Spider data, BIRD for BIRD data */
    int rule_set;              /* 0: choose from the data format */
    int64_t timeout_ms;        /* 0: 60000 Spider, 30000 BIRD */
    const char *db_dir;
    int jobs;                  /* scoring threads (one SQLite connection each); <= 1: the caller's
                                * thread scores each question right after its prediction */
    srlm_sql_progress_fn progress; /* called in order of completion, never concurrently */
    void *progress_ctx;
} srlm_sql_eval_opts;

typedef struct srlm_sql_verdict {
    int correct;
    char *predicted_sql;
    char *error;       /* prediction error/refusal/timeout/too large; NULL otherwise */
    char *gold_error;  /* the gold query failed (counted wrong) */
    double pred_ms, gold_ms;
} srlm_sql_verdict;
typedef struct srlm_sql_eval_report srlm_sql_eval_report;

/* Scores every example. predict is called from the calling thread, in question order. Results
 * do not depend on jobs. Errors: SRLM_ERR_IO/FORMAT when a database cannot be opened (the
 * message names it), or whatever the callback returns. */
srlm_status srlm_sql_eval_run(const srlm_sql_dataset *d, const srlm_sql_eval_opts *o,
                              srlm_sql_predict_fn predict, void *predict_ctx, srlm_sql_eval_report **out);
void srlm_sql_eval_report_free(srlm_sql_eval_report *r);
size_t srlm_sql_eval_count(const srlm_sql_eval_report *r);
size_t srlm_sql_eval_correct(const srlm_sql_eval_report *r);
const srlm_sql_verdict *srlm_sql_eval_verdict(const srlm_sql_eval_report *r, size_t i);
double srlm_sql_eval_seconds(const srlm_sql_eval_report *r);
/* Summary table (BIRD: simple/moderate/challenging/total) ending in the line
 * "execution accuracy: 0.xxxx (k/n)\n". Caller frees *out. */
srlm_status srlm_sql_eval_summary(const srlm_sql_eval_report *r, char **out);
/* JSON report, one verdict per question. */
srlm_status srlm_sql_eval_write_json(const srlm_sql_eval_report *r, const char *path);
/* One evaluations row per question in run `run_id`. */
srlm_status srlm_sql_eval_write_rundb(const srlm_sql_eval_report *r, srlm_rundb *db, int64_t run_id,
                                      const char *dataset);

/* ---- Execution-aware text-to-SQL decoding (runtime/sql/sqlloop.c) -----------------------
 * The ReEx-SQL / SQL-R1 loop over the inference engine (docs/papers.md sections 3-4): all live
 * branches of one question decode together, one engine step per token; a branch that closes
 * </intermediate_sql> (reex) pauses alone while a worker thread runs its SQL in the sandbox,
 * then "\n<result>\n" FEEDBACK "\n</result>\n" is tokenised and prefilled into that branch only
 * (an extend mixed into the others' decode step). Tree mode forks a branch into `tree_width`
 * children after each inserted result (children share the KV prefix through the engine's
 * block tables); linear mode forks the prefilled prompt into n_samples independent samples.
 * The final SQL of every leaf is executed and the answer chosen by result-set vote. */
typedef struct srlm_sqlloop srlm_sqlloop;

enum { SRLM_SQL_ORIGIN_PROMPT = 0, SRLM_SQL_ORIGIN_MODEL = 1, SRLM_SQL_ORIGIN_ENV = 2 };

typedef enum srlm_sqlloop_finish {
    SRLM_SQLLOOP_FINAL = 1,        /* the final tag (</final_sql> reex, </answer> sqlr1) */
    SRLM_SQLLOOP_STOP_ID = 2,      /* EOS / a stop id before the final tag: format failure */
    SRLM_SQLLOOP_LENGTH = 3,       /* max_tokens model tokens (forced mode: script ended) */
    SRLM_SQLLOOP_INTERACTIONS = 4, /* one </intermediate_sql> more than max_interactions */
    SRLM_SQLLOOP_CONTEXT = 5,      /* the engine's context is full */
} srlm_sqlloop_finish;
const char *srlm_sqlloop_finish_name(int finish);

typedef struct srlm_sqlloop_options {
    srlm_sql_format format;
    srlm_sample_params sample; /* for every branch; sample.max_tokens: model tokens per leaf
                                * (0: until the context is full); stop ids added to the EOS ids;
                                * stop_strings are not used (the tags end a branch) */
    int open_think;            /* the prompt ends with "<think>\n" (srlm_sql_prompt_chatml); default 1 */
    int max_interactions;      /* reex: executed intermediate queries per leaf (default 10) */
    int64_t deadline_ms;       /* per query, intermediate and final (default 10000) */
    int feedback_rows;         /* rows shown in <result> (default 3) */
    int n_samples;             /* branches forked from the prefilled prompt (default 1) */
    int tree_width;            /* children per executed query; <= 1: no tree (default 1) */
    int max_leaves;            /* tree: leaves in all (default 8) */
    int max_depth;             /* tree: forks along one path (default 3) */
    /* Forced-trace mode (n_forced > 0): instead of sampling, a branch emits the tokens of a
     * script (model tokens only; results still come from real execution). A branch owns a
     * range of scripts, split evenly among its children at each fork, and follows the first
     * of its range; a branch whose script ends finishes with SRLM_SQLLOOP_LENGTH. Log-probs are
     * the model's log p of the forced token (logprob_sampled = logprob). */
    const int32_t *const *forced;
    const size_t *n_forced;
    int n_forced_traces;
} srlm_sqlloop_options;
void srlm_sqlloop_options_default(srlm_sqlloop_options *o);

typedef struct srlm_sqlloop_query {
    char *sql;                /* the text between the tags, whitespace collapsed */
    srlm_sql_result *result;  /* NULL when nothing ran (no opening tag) */
    char *feedback;           /* the text inserted between <result> and </result> */
    int branch;               /* the branch that wrote it */
    uint64_t steps_during;    /* engine steps the other branches ran while it executed */
    double ms;                /* submit to result, as seen by the loop */
} srlm_sqlloop_query;

typedef struct srlm_sqlloop_leaf {
    int branch;               /* its branch in the tree record */
    size_t n_tokens, n_prompt; /* tokens: prompt + model + environment */
    int32_t *tokens;
    uint8_t *origin;          /* SRLM_SQL_ORIGIN_* per token */
    float *logprob, *logprob_sampled, *entropy; /* model tokens: the sampler's numbers; else 0 */
    char *text;               /* the assistant turn after the prompt (model text and inserted results) */
    int n_queries;
    int *queries;             /* indices into srlm_sqlloop_out.queries, in path order */
    char *final_sql;          /* NULL when none */
    srlm_sql_result *final_result; /* NULL when no final SQL ran */
    int finish;               /* srlm_sqlloop_finish */
    int format_ok;            /* the parser's verdict on "<think>\n" + text (open_think) */
    const char *format_error; /* static text or NULL */
} srlm_sqlloop_leaf;

/* The tree: branch 0 holds the prompt; every other branch starts where its parent stopped
 * (start = parent's start + parent's n_tokens) and holds only its own tokens, so a leaf's
 * path is the concatenation of its ancestors' tokens. */
typedef struct srlm_sqlloop_branch {
    int parent;               /* -1 for branch 0 */
    int depth;                /* forks above it (0: the prompt, 1: its samples) */
    size_t start, n_tokens;
    int32_t *tokens;
    int leaf;                 /* index into leaves, -1 for a branch that forked */
} srlm_sqlloop_branch;

typedef struct srlm_sqlloop_stats {
    uint64_t prompt_tokens;   /* prefilled once */
    uint64_t model_tokens;    /* tokens sampled or forced, all branches */
    uint64_t env_tokens;      /* result tokens prefilled by extends */
    uint64_t engine_tokens;   /* tokens through the forward pass (prompt + fed + extends) */
    uint64_t steps;           /* engine steps after the prefill */
    uint64_t queries;         /* SQL executions (intermediate + final) */
    int forks;                /* srlm_engine_seq_fork calls */
    int peak_blocks;          /* KV blocks held at once */
    double seconds;
} srlm_sqlloop_stats;

typedef struct srlm_sqlloop_out {
    int n_leaves;
    srlm_sqlloop_leaf *leaves;
    int n_branches;
    srlm_sqlloop_branch *branches;
    int n_queries;
    srlm_sqlloop_query *queries;
    long chosen;              /* the vote's winning leaf, -1 when no leaf has a result */
    size_t votes;             /* its group size */
    const char *final_sql;    /* the winner's SQL; without a winner the first leaf's final SQL,
                               * else NULL (points into leaves) */
    srlm_sqlloop_stats stats;
} srlm_sqlloop_out;

/* A loop over engine e (its max_seqs bounds the live branches) and tokenizer tok, with
 * n_workers SQL threads (<= 0: 2), each holding its own sandbox connection. Both must outlive
 * the loop. Errors: SRLM_ERR_INVALID, SRLM_ERR_OOM, thread creation failures. */
srlm_status srlm_sqlloop_create(srlm_engine *e, const srlm_tokenizer *tok, int n_workers, srlm_sqlloop **out);
void srlm_sqlloop_destroy(srlm_sqlloop *l); /* accepts NULL; joins the workers */

/* The prompt ids for a question: srlm_sql_prompt_chatml encoded with special tokens and BOS.
 * *ids is malloc'd. Errors: those of the prompt builder and the tokenizer. */
srlm_status srlm_sqlloop_prompt(const srlm_tokenizer *tok, srlm_sql_db *db, const srlm_sql_prompt_opts *po,
                                const char *question, const char *evidence, int32_t **ids, size_t *n);

/* Runs the loop for one prompt against the database at db_path and fills *out (free with
 * srlm_sqlloop_out_free; zeroed on error). Format failures, SQL errors and timeouts are
 * results, recorded in the leaves. Errors: SRLM_ERR_IO / FORMAT for a missing or non-SQLite
 * database (checked before decoding), SRLM_ERR_INVALID for bad options (n_samples or
 * max_leaves over the engine's max_seqs, a prompt that fills the context), device errors. */
srlm_status srlm_sqlloop_run(srlm_sqlloop *l, const char *db_path, const srlm_sqlloop_options *o,
                             const int32_t *prompt, size_t n_prompt, srlm_sqlloop_out *out);
void srlm_sqlloop_out_free(srlm_sqlloop_out *out); /* accepts NULL */

/* `srlm bench tree`: the loop above on forced traces whose `leaves` leaves share their first
 * half (`half` model tokens of reasoning ending in one executed query), in tree mode (one
 * sample, width = leaves) and linear mode (leaves samples); prints tokens, steps, queries, KV
 * blocks and wall time of each (best of `repeats` after a warm-up run), and the ratios. The
 * model folder must hold a tokenizer. */
typedef struct srlm_bench_tree_opts {
    int leaves;        /* default 8 */
    int half;          /* model tokens of the shared half, and of each leaf's own half (default 64) */
    srlm_dtype dtype;  /* default f16 */
    int repeats;       /* timed runs per mode (default 2) */
} srlm_bench_tree_opts;
void srlm_bench_tree_opts_default(srlm_bench_tree_opts *o);
srlm_status srlm_bench_tree(srlm_ctx *ctx, FILE *out, const char *model, const srlm_bench_tree_opts *o);

/* ---- Training (`srlm train`) ------------------------------------------------------------
 * SFT and pre-training (with optional MEAP) of a model on the device: fp32 master weights,
 * AdamW, global-norm clipping, gradient accumulation, warmup + cosine/linear/constant
 * schedule, metrics in OUT/run.db, atomic checkpoints OUT/step-N (an HF folder + optimizer/
 * + state.json; OUT/latest names the newest) and bit-exact resume. */
typedef struct srlm_train_options {
    const char *mode;        /* "sft", "pretrain" or "kd" (SFT data, distillation loss) */
    const char *model_dir;   /* base model folder (tokenizer and, unless init_from, weights) */
    const char *init_from;   /* start from these weights (a checkpoint folder), or NULL */
    const char *data, *eval_data, *out, *resume;
    int seq, batch, accum, epochs, pack, recompute;
    long max_steps;          /* 0: epochs x steps per epoch */
    long stop_after;         /* > 0: stop after this many steps of this invocation (time-boxed
                                jobs; resume later with the same schedule) */
    float lr, min_lr_ratio, beta1, beta2, eps, weight_decay, max_grad_norm;
    const char *schedule;    /* "cosine" (default), "linear", "constant" */
    int warmup;
    double eval_fraction;
    int eval_every, save_every;
    srlm_dtype save_dtype;   /* f32 (default), bf16 or f16 rounding of the saved weights */
    float meap;              /* 0: off; the mask ratio */
    const char *meap_layout; /* "separate" or "concat" */
    int32_t mask_id;         /* -1: the last embedding row */
    uint64_t seed;
    /* knowledge distillation (mode "kd"): loss = kd_alpha CE + (1 - kd_alpha) kd_temp^2 KL on
     * the same loss-weighted tokens, KL(teacher||student) or with kd_reverse KL(student||teacher),
     * both at temperature kd_temp; the teacher a model folder (frozen, f16, same device, logits
     * on the fly) or a top-k file of `srlm teacher` (teacher_logits). */
    const char *teacher, *teacher_logits;
    float kd_alpha, kd_temp; /* 0.5, 1 */
    int kd_reverse;
} srlm_train_options;

void srlm_train_options_default(srlm_train_options *o);
/* Trains; progress on `log` (a line per step when it is not a terminal). Errors: bad data
 * (naming file and line), a plan that does not fit (with the plan), NaN/Inf loss (the last
 * good checkpoint is kept), device and I/O errors. */
srlm_status srlm_train_run(srlm_ctx *ctx, const srlm_train_options *o, FILE *log);

/* ---- Top-k teacher files (`srlm teacher`, runtime/train/teacher_file.c) -----------------
 * A teacher too big to share the device with its student runs once over the data and stores
 * each position's top K token ids and logits (format in runtime/train/teacher_file.h: magic,
 * version, K, V, seq, temperature, sample counts, a hash of the rendered samples); `srlm
 * train kd --teacher-logits FILE` distils from it with one bucket for the remaining mass. The
 * data options must be the training run's: same data file, --seq, --seed and evaluation
 * split (batch size and packing do not matter). */
typedef struct srlm_teacher_options {
    const char *model_dir, *data, *eval_data, *out;
    int seq, topk;           /* 512, 64 */
    float temp;              /* 1: the temperature of the stored log-sum-exps (= --kd-temp) */
    double eval_fraction;
    uint64_t seed;           /* 1234, the trainer's default */
} srlm_teacher_options;
void srlm_teacher_options_default(srlm_teacher_options *o);
/* Writes o->out atomically (o->out.tmp, fsync, rename). Errors: data and model errors as
 * srlm_train_run's, SRLM_ERR_INVALID for a bad K or temperature, SRLM_ERR_IO. */
srlm_status srlm_teacher_topk_write(srlm_ctx *ctx, const srlm_teacher_options *o, FILE *log);

/* ---- Training benchmark (`srlm bench train`, runtime/bench/bench_train.c) -------------
 * Real training steps of a model (the trainer's recorded command buffers) on random tokens:
 * tokens/s, step-time breakdown (forward, backward, optimizer as separate submissions), the
 * memory plan, bytes allocated, and the fraction of 6*params*tokens/s at a matmul rate. */
typedef struct srlm_bench_train_opts {
    int seq, batch;    /* tokens per step = batch * seq (defaults 256, 1) */
    int steps;         /* timed steps (default 3) */
    int warmup;        /* untimed steps before them (default 1; 0 for models whose step takes minutes) */
    int recompute;     /* per-block activation recomputation (default 1, as `srlm train`) */
    double ref_gflops; /* reference matmul rate; <= 0: measure bench matmul's f32 1024^3 rate */
} srlm_bench_train_opts;

typedef struct srlm_bench_train_result {
    double tokens_per_s, step_ms, forward_ms, backward_ms, optimizer_ms;
    double gflops;         /* 6 * params * tokens/s / 1e9 */
    double ref_gflops;     /* the rate it is compared with */
    double bound_fraction; /* gflops / ref_gflops */
    double cpu_bound_fraction; /* CPU devices: the same by process CPU time (load-independent); else 0 */
    uint64_t allocated_bytes, peak_bytes, plan_bytes;
} srlm_bench_train_result;

void srlm_bench_train_opts_default(srlm_bench_train_opts *o);
/* Prints the plan, each step and the result table to `out`; res may be NULL. Errors: bad
 * sizes, a plan that does not fit the budget (with the plan), model and device errors. */
srlm_status srlm_bench_train(srlm_ctx *ctx, FILE *out, const char *model, const srlm_bench_train_opts *o,
                             srlm_bench_train_result *res);

/* ---- In-memory training steps: the GRPO hooks (runtime/train/train_step.c) -------------
 * A model being trained on batches the caller builds in memory (rollouts, rewards turned into
 * advantages), with per-token log-probabilities and entropies returned, and an f32 srlm_model
 * an inference engine samples from between steps without a reload (srlm_trainer_model).
 *
 * The loss, per token t of the batch (w = weights[t], A = advantages[t], lp = log p(target)
 * under the current weights, old = old_logprob[t], ref = ref_logprob[t]):
 *   ratio = exp(lp - old)                (ratio = 1 with its gradient when old_logprob is NULL:
 *                                         old = lp with the gradient stopped, as in DeepSeekMath)
 *   pg    = -min(ratio * A, clip(ratio, 1 - clip_eps, 1 + clip_eps) * A)
 *                                        (pg = -lp when advantages is NULL: weighted NLL / SFT)
 *   kl    = exp(ref - lp) - (ref - lp) - 1  (the "k3" estimator of KL(current || reference);
 *                                         0 when ref_logprob is NULL)
 *   loss  = sum_t w * (pg + kl_beta * kl)
 * The caller's weights carry the normalisation (GRPO: 1 / (G * |o_i|) on the response tokens
 * of rollout i, 0 on prompt, environment-inserted and padding tokens). No entropy bonus (its
 * gradient needs a kernel of its own; entropies are returned for logging).
 * Gradient: d loss / d logits = c * (softmax - onehot(target)) per token, with
 *   c = -d loss / d lp = w * (A * ratio * [unclipped] + kl_beta * (exp(ref - lp) - 1))
 * where [unclipped] is 1 unless the clipped side of the min is taken (A >= 0 and ratio >
 * 1 + eps, or A < 0 and ratio < 1 - eps). The cross-entropy kernel's per-token weight is
 * exactly this c, so: without old_logprob and ref_logprob c = w * A does not depend on lp and
 * one forward+backward does it; otherwise a forward pass computes lp first, c is computed on
 * the host in double, and the forward+backward runs with c as the weights (one extra forward,
 * about a third of a step; a shader computing c between the loss and its gradient would save
 * it). */
typedef struct srlm_trainer srlm_trainer;

typedef struct srlm_trainer_options {
    int batch, seq;      /* the fixed micro-batch: rows x positions (defaults 1, 512) */
    int recompute;       /* per-block activation recomputation (default 1) */
    float beta1, beta2, eps, weight_decay; /* AdamW (0.9, 0.999, 1e-8, 0); decay on matrices
                                              and embeddings only */
    float max_grad_norm; /* global-norm clipping; <= 0: none (default 1) */
} srlm_trainer_options;

void srlm_trainer_options_default(srlm_trainer_options *o);
/* Loads `model` (HF folder or .gguf) as fp32 master weights with gradients, AdamW moments and
 * activations for batch x seq tokens. Errors: the loader's, a plan over the memory budget
 * (SRLM_ERR_DEVICE_OOM with the plan). */
srlm_status srlm_trainer_create(srlm_ctx *ctx, const char *model, const srlm_trainer_options *o, srlm_trainer **out);
void srlm_trainer_destroy(srlm_trainer *t); /* accepts NULL; destroy engines over its model first */
/* The weights being trained (f32, owned by the trainer): srlm_engine_create over it samples the
 * current policy; every srlm_trainer_apply changes what the engine computes from then on. */
srlm_model *srlm_trainer_model(srlm_trainer *t);

/* One micro-batch, row-major rows x T (rows <= batch, T <= seq). Borrowed. */
typedef struct srlm_train_batch {
    int rows, T;
    const int32_t *ids;         /* inputs */
    const int32_t *targets;     /* the token each position predicts (usually ids[t+1]); < 0: none */
    const float *weights;       /* per-token loss weight (required) */
    const int32_t *pos;         /* RoPE positions; NULL: 0..T-1 on every row */
    const float *advantages;    /* NULL: weighted NLL */
    const float *old_logprob;   /* NULL: ratio 1 (on-policy) */
    const float *ref_logprob;   /* NULL: no KL term */
} srlm_train_batch;

typedef struct srlm_grpo_params {
    float clip_eps; /* 0.2 (SQL-R1) */
    float kl_beta;  /* 0.001 (SQL-R1) */
} srlm_grpo_params;

typedef struct srlm_train_step_stats {
    double loss;          /* sum_t w * (pg + kl_beta * kl) */
    double pg_loss;       /* sum_t w * pg */
    double kl;            /* sum_t w * kl */
    double clip_fraction; /* of the tokens with w != 0, those on the clipped side */
    int forward_passes;   /* 1, or 2 when the coefficients needed lp first */
} srlm_train_step_stats;

void srlm_grpo_params_default(srlm_grpo_params *g);
/* Forward only: per-token log p(target) (0 where target < 0) and entropy of the model's
 * distribution (temperature 1) into logprob / entropy (rows*T floats each; either may be
 * NULL). For old and reference log-probs. */
srlm_status srlm_trainer_logprobs(srlm_trainer *t, const srlm_train_batch *b, float *logprob, float *entropy);
/* Forward and backward of the loss above; gradients ADD UP over calls until srlm_trainer_apply
 * (gradient accumulation over micro-batches). g NULL: defaults. logprob / entropy (may be
 * NULL) get the current policy's values; stats may be NULL. Errors: shapes over the plan, ids
 * or targets outside the vocabulary, missing arrays, non-finite coefficients, device errors. */
srlm_status srlm_trainer_accumulate(srlm_trainer *t, const srlm_train_batch *b, const srlm_grpo_params *g, float *logprob,
                                    float *entropy, srlm_train_step_stats *stats);
/* Clips the accumulated gradients' global norm, takes one AdamW step at learning rate lr and
 * zeroes the gradients. grad_norm (may be NULL) gets the norm before clipping. */
srlm_status srlm_trainer_apply(srlm_trainer *t, float lr, double *grad_norm);
/* One whole step on one micro-batch: srlm_trainer_accumulate then srlm_trainer_apply. */
srlm_status srlm_trainer_step(srlm_trainer *t, const srlm_train_batch *b, const srlm_grpo_params *g, float lr, float *logprob,
                              float *entropy, srlm_train_step_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* SRLM_H */
