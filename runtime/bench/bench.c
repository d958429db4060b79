/* bench.c: timing by replaying a recorded command buffer; the row printer; the entry points
 * of `srlm bench ops` and `srlm bench membw`. */
#include "bench/bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

double srlm_bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void srlm_bench_opts_default(srlm_bench_opts *o) {
    o->min_seconds = 0.3;
    o->quick = 0;
}

void srlm_bench_header(srlm_bench *b, const char *title) {
    fprintf(b->out, "\n%s on %s\n", title, srlm_ctx_device_name(b->ctx));
    fprintf(b->out, "%-26s %-22s %12s %10s %10s\n", "op", "size", "ms/call", "GB/s", "GFLOP/s");
}

srlm_status srlm_bench_run(srlm_bench *b, const char *op, const char *size, uint64_t bytes, uint64_t flops, int inner,
                           srlm_bench_record_fn record, void *arg, double *ms_out) {
    if (inner < 1) inner = 1;
    SRLM_TRY(srlm_cmd_begin(b->cmd));
    for (int i = 0; i < inner; i++) SRLM_TRY(record(b->cmd, arg));
    SRLM_TRY(srlm_cmd_end(b->cmd));
    SRLM_TRY(srlm_cmd_run(b->cmd)); /* warm-up: pipelines, caches, page faults */
    double best = 1e30, start = srlm_bench_now();
    int runs = 0;
    while (runs < 3 || srlm_bench_now() - start < b->opts.min_seconds) {
        double t0 = srlm_bench_now();
        SRLM_TRY(srlm_cmd_run(b->cmd));
        double dt = srlm_bench_now() - t0;
        if (dt < best) best = dt;
        runs++;
        if (runs >= 1000) break;
    }
    double ms = best * 1e3 / inner;
    fprintf(b->out, "%-26s %-22s %12.4f %10.2f %10.2f\n", op, size, ms, bytes ? (double)bytes / (ms * 1e6) : 0.0,
            flops ? (double)flops / (ms * 1e6) : 0.0);
    fflush(b->out);
    if (ms_out) *ms_out = ms;
    return NULL;
}

typedef srlm_status (*family_fn)(srlm_bench *b);
static const struct {
    const char *name;
    family_fn run;
} families[] = {
    {"fill", srlm_bench_ops_fill},
    {"eltwise", srlm_bench_ops_eltwise},
    {"activation", srlm_bench_ops_activation},
    {"convert", srlm_bench_ops_convert},
    {"reduce", srlm_bench_ops_reduce},
    {"rmsnorm", srlm_bench_ops_rmsnorm},
    {"softmax", srlm_bench_ops_softmax},
    {"rope", srlm_bench_ops_rope},
    {"embedding", srlm_bench_ops_embedding},
    {"loss", srlm_bench_ops_loss},
    {"select", srlm_bench_ops_select},
    {"adamw", srlm_bench_ops_adamw},
    {"attn", srlm_bench_ops_attn},
    {"matmul", srlm_bench_ops_matmul},
};

srlm_status srlm_bench_begin(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *opts, srlm_bench *b) {
    memset(b, 0, sizeof *b);
    b->ctx = ctx;
    b->out = out;
    if (opts) b->opts = *opts;
    else srlm_bench_opts_default(&b->opts);
    SRLM_TRY(srlm_arena_create(ctx, "bench", 0, &b->arena));
    return srlm_cmd_create(ctx, &b->cmd);
}

void srlm_bench_end(srlm_bench *b) {
    srlm_cmd_destroy(b->cmd);
    srlm_arena_destroy(b->arena);
}

srlm_status srlm_bench_ops(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *opts, const char *only) {
    srlm_bench b;
    srlm_status st = srlm_bench_begin(ctx, out, opts, &b);
    if (!st) srlm_bench_header(&b, "srlm bench ops");
    int ran = 0;
    for (size_t i = 0; !st && i < sizeof families / sizeof families[0]; i++) {
        if (only && *only && !strstr(families[i].name, only)) continue;
        st = families[i].run(&b);
        srlm_arena_reset(b.arena);
        ran++;
    }
    if (!st && !ran) st = srlm_errorf(SRLM_ERR_NOT_FOUND, "no op family matches '%s'", only);
    srlm_bench_end(&b);
    return st;
}

/* ---- bench membw ---- */

typedef struct membw_arg {
    srlm_buf x, y;
    uint64_t words; /* uvec4 words of x */
    int op;
    uint32_t wg;
} membw_arg;

static srlm_status record_membw(srlm_cmd *c, void *arg) {
    membw_arg *a = arg;
    uint64_t piece = srlm_ops_piece_elems(c->ctx, 16);
    const uint32_t chunk = 4096; /* words per workgroup: contiguous, so a CPU thread streams */
    for (uint64_t off = 0; off < a->words; off += piece) {
        uint64_t k = a->words - off < piece ? a->words - off : piece;
        uint32_t groups = (uint32_t)((k + chunk - 1) / chunk);
        srlm_push_membw p = {.n = (uint32_t)k, .chunk = chunk};
        srlm_buf b[2] = {srlm_buf_slice(a->x, off * 16, k * 16),
                         a->op == SRLM_OP_MEMBW_COPY ? srlm_buf_slice(a->y, off * 16, k * 16)
                                                     : srlm_buf_slice(a->y, 0, (uint64_t)groups * a->wg * 4)};
        SRLM_TRY(srlm_cmd_dispatch(c, a->op, NULL, b, 2, &p, sizeof p, groups, 1, 1));
    }
    return NULL;
}

srlm_status srlm_bench_membw(srlm_ctx *ctx, FILE *out, const srlm_bench_opts *opts, srlm_membw_result *res) {
    srlm_membw_result r = {0};
    srlm_bench b;
    srlm_status st = srlm_bench_begin(ctx, out, opts, &b);
    uint64_t bytes = b.opts.quick ? (64ull << 20) : (512ull << 20);
    membw_arg a = {.words = bytes / 16, .wg = srlm_op_table[SRLM_OP_MEMBW_READ].spec[0]};
    if (!st) st = srlm_arena_alloc(b.arena, bytes, &a.x);
    if (!st) st = srlm_arena_alloc(b.arena, bytes, &a.y);
    if (!st) {
        srlm_cmd_begin(b.cmd);
        st = srlm_op_fill(b.cmd, a.x, bytes / 4, 1.0f);
        if (!st) st = srlm_cmd_run(b.cmd);
    }
    if (!st) srlm_bench_header(&b, "srlm bench membw");
    char size[32];
    snprintf(size, sizeof size, "%llu MiB", (unsigned long long)(bytes >> 20));
    double ms;
    if (!st) {
        a.op = SRLM_OP_MEMBW_READ;
        st = srlm_bench_run(&b, "device read (reduce)", size, bytes, 0, 1, record_membw, &a, &ms);
        r.read_gbs = (double)bytes / (ms * 1e6);
    }
    if (!st) {
        a.op = SRLM_OP_MEMBW_COPY;
        st = srlm_bench_run(&b, "device copy (r+w)", size, 2 * bytes, 0, 1, record_membw, &a, &ms);
        r.copy_gbs = 2.0 * (double)bytes / (ms * 1e6);
    }
    if (!st && srlm_ctx_is_cpu(ctx)) {
        /* lavapipe: the host's own memcpy in the same run; targets use its read rate. */
        char *src = malloc(bytes), *dst = malloc(bytes);
        if (!src || !dst) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for the memcpy probe");
        if (!st) {
            memset(src, 1, bytes);
            memset(dst, 2, bytes);
            double best = 1e30, start = srlm_bench_now();
            for (int i = 0; i < 3 || srlm_bench_now() - start < b.opts.min_seconds; i++) {
                double t0 = srlm_bench_now();
                memcpy(dst, src, bytes);
                double dt = srlm_bench_now() - t0;
                if (dt < best) best = dt;
                src[i % bytes] ^= dst[(i * 7919) % bytes]; /* keep the copies observable */
            }
            r.host_memcpy_gbs = 2.0 * (double)bytes / (best * 1e9);
            r.host_read_gbs = r.host_memcpy_gbs / 2;
            fprintf(out, "%-26s %-22s %12.4f %10.2f %10s\n", "host memcpy (r+w)", size, best * 1e3, r.host_memcpy_gbs, "");
            fprintf(out, "host read rate (half of memcpy's read+write rate): %.2f GB/s -- the reference for lavapipe targets\n",
                    r.host_read_gbs);
        }
        free(src);
        free(dst);
    }
    if (!st)
        fprintf(out, "device read %.2f GB/s, device copy %.2f GB/s (read+write)%s\n", r.read_gbs, r.copy_gbs,
                srlm_ctx_is_cpu(ctx) ? "" : " -- the reference for GPU targets is the device read rate");
    srlm_bench_end(&b);
    if (res) *res = r;
    return st;
}
