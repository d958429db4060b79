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

#ifdef __cplusplus
}
#endif
#endif /* SRLM_H */
