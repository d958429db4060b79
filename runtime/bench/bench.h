/* bench.h: the benchmark harness behind `srlm bench`: replay a recorded command buffer until
 * a minimum time has passed, report the best time per run with GB/s and GFLOP/s. Each op
 * family adds a function to the table in bench_ops.c. Speed targets are checked here, never
 * by timed tests. */
#ifndef SRLM_BENCH_H
#define SRLM_BENCH_H

#include "ops/ops.h"

typedef struct srlm_bench {
    srlm_ctx *ctx;
    srlm_arena *arena;   /* scratch for inputs; reset between families */
    srlm_cmd *cmd;
    FILE *out;
    srlm_bench_opts opts;
} srlm_bench;

/* Records one run of the work into c (called between begin and end). */
typedef srlm_status (*srlm_bench_record_fn)(srlm_cmd *c, void *arg);

/* Records `record` `inner` times into one command buffer, replays it until opts.min_seconds
 * has passed (at least 3 runs after a warm-up) and prints a row: op, size, ms per call,
 * GB/s (bytes moved per call), GFLOP/s. *ms_out (may be NULL) gets the best ms per call. */
srlm_status srlm_bench_run(srlm_bench *b, const char *op, const char *size, uint64_t bytes, uint64_t flops, int inner,
                           srlm_bench_record_fn record, void *arg, double *ms_out);
void srlm_bench_header(srlm_bench *b, const char *title);
double srlm_bench_now(void); /* seconds, monotonic */
/* Sets up b (arena, command buffer; opts NULL: defaults); srlm_bench_end releases them. */
srlm_status srlm_bench_begin(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *opts, srlm_bench *b);
void srlm_bench_end(srlm_bench *b);

/* The families of `srlm bench ops`, each in its own file. */
srlm_status srlm_bench_ops_fill(srlm_bench *b);
srlm_status srlm_bench_ops_eltwise(srlm_bench *b);     /* bench_eltwise.c */
srlm_status srlm_bench_ops_activation(srlm_bench *b);  /* bench_eltwise.c */
srlm_status srlm_bench_ops_convert(srlm_bench *b);     /* bench_eltwise.c */
srlm_status srlm_bench_ops_reduce(srlm_bench *b);      /* bench_reduce.c */
srlm_status srlm_bench_ops_rmsnorm(srlm_bench *b);     /* bench_norm.c */
srlm_status srlm_bench_ops_softmax(srlm_bench *b);     /* bench_norm.c */
srlm_status srlm_bench_ops_rope(srlm_bench *b);        /* bench_rope_embedding.c */
srlm_status srlm_bench_ops_embedding(srlm_bench *b);   /* bench_rope_embedding.c */
srlm_status srlm_bench_ops_loss(srlm_bench *b);        /* bench_loss.c */
srlm_status srlm_bench_ops_select(srlm_bench *b);      /* bench_loss.c */
srlm_status srlm_bench_ops_adamw(srlm_bench *b);       /* bench_loss.c */
srlm_status srlm_bench_ops_attn(srlm_bench *b);
srlm_status srlm_bench_ops_matmul(srlm_bench *b);

/* One matmul measurement (bench_matmul.c): form 0 = Y = X.W^T, 1 = dX = dY.W, 2 = dW += dY^T.X,
 * on fresh buffers from b->arena, with kernel configuration cfg (NULL: the device default).
 * *gflops (may be NULL) gets 2*M*N*K / best time. */
srlm_status srlm_bench_matmul_one(srlm_bench *b, int form, srlm_mm_wtype wt, uint32_t M, uint32_t N, uint32_t K,
                                  const srlm_mm_cfg *cfg, double *gflops);

#endif
