/* bench_fill.c: `srlm bench ops` rows for the fill op (a write-bandwidth probe). */
#include "bench/bench.h"

typedef struct fill_arg {
    srlm_buf y;
    uint64_t n;
} fill_arg;

static srlm_status record_fill(srlm_cmd *c, void *arg) {
    fill_arg *a = arg;
    return srlm_op_fill(c, a->y, a->n, 1.0f);
}

srlm_status srlm_bench_ops_fill(srlm_bench *b) {
    const uint64_t sizes[] = {4099, 1u << 20, 16u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        fill_arg a = {.n = sizes[i]};
        SRLM_TRY(srlm_arena_alloc(b->arena, a.n * 4, &a.y));
        char size[32];
        snprintf(size, sizeof size, "n=%llu", (unsigned long long)a.n);
        SRLM_TRY(srlm_bench_run(b, "fill_f32", size, a.n * 4, 0, a.n < 100000 ? 64 : 1, record_fill, &a, NULL));
    }
    return NULL;
}
