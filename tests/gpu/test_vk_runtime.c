/* test_vk_runtime.c: the Vulkan runtime itself: context, arenas, uploads/read-backs,
 * dispatch + replay, pieces for a tensor larger than maxStorageBufferRange (300 MiB), the
 * binding-range check, the memory budget, and the absence of validation messages. */
#include "gpu_test.h"

#include <stdint.h>

static void test_fill_sizes(gpu_env *g) {
    const uint64_t sizes[] = {1, 7, 13, 127, 1000, 4099};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        uint64_t n = sizes[s];
        srlm_buf y = gpu_alloc(g, (n + 1) * 4, NULL);
        float sentinel = -7.0f;
        CHECK_OK(srlm_buf_write(g->ctx, y, n * 4, &sentinel, 4));
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_fill(g->cmd, y, n, 3.5f));
        CHECK_OK(srlm_cmd_run(g->cmd));
        float *out = malloc((n + 1) * 4);
        gpu_read(g, y, out, (n + 1) * 4);
        uint64_t bad = 0;
        for (uint64_t i = 0; i < n; i++) bad += out[i] != 3.5f;
        CHECK(bad == 0, "fill n=%llu: %llu wrong", (unsigned long long)n, (unsigned long long)bad);
        CHECK(out[n] == -7.0f, "fill n=%llu wrote past the end", (unsigned long long)n);
        printf("  fill n=%-6llu ok\n", (unsigned long long)n);
        free(out);
    }
}

/* Record once, replay: the second submission repeats the work. */
static void test_replay(gpu_env *g) {
    srlm_buf y = gpu_alloc(g, 1000 * 4, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_fill(g->cmd, y, 1000, 1.25f));
    CHECK_OK(srlm_cmd_end(g->cmd));
    for (int rep = 0; rep < 3; rep++) {
        float z[1000] = {0};
        CHECK_OK(srlm_buf_write(g->ctx, y, 0, z, sizeof z));
        CHECK_OK(srlm_cmd_run(g->cmd));
        float out[1000];
        gpu_read(g, y, out, sizeof out);
        CHECK(out[0] == 1.25f && out[999] == 1.25f, "replay %d: %g %g", rep, out[0], out[999]);
    }
    printf("  replay x3 ok\n");
}

/* A 300 MiB tensor is processed in pieces, each binding within maxStorageBufferRange. */
static void test_large_tensor(gpu_env *g) {
    uint64_t n = 300ull * 1024 * 1024 / 4;
    srlm_arena *big;
    CHECK_OK(srlm_arena_create(g->ctx, "big", 0, &big));
    srlm_buf y;
    srlm_status st = srlm_arena_alloc(big, n * 4, &y);
    CHECK_OK(st);
    if (!st) {
        CHECK(y.size > g->ctx->caps.max_storage_buffer_range || g->ctx->caps.max_storage_buffer_range >= (1ull << 31),
              "test tensor should exceed the binding range");
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(srlm_op_fill(g->cmd, y, n, 2.0f));
        CHECK_OK(srlm_cmd_run(g->cmd));
        /* spot-check across the whole range, including every piece boundary */
        uint64_t piece = srlm_ops_piece_elems(g->ctx, 4);
        uint64_t bad = 0, checked = 0;
        for (uint64_t i = 0; i < n; i += 4099) {
            float v;
            CHECK_OK(srlm_buf_read(g->ctx, y, i * 4, &v, 4));
            bad += v != 2.0f, checked++;
        }
        for (uint64_t b = piece; b < n; b += piece)
            for (uint64_t i = b - 2; i < b + 2; i++) {
                float v;
                CHECK_OK(srlm_buf_read(g->ctx, y, i * 4, &v, 4));
                bad += v != 2.0f, checked++;
            }
        float last;
        CHECK_OK(srlm_buf_read(g->ctx, y, (n - 1) * 4, &last, 4));
        CHECK(last == 2.0f && bad == 0, "300 MiB fill: %llu of %llu wrong, last %g", (unsigned long long)bad,
              (unsigned long long)checked, last);
        printf("  300 MiB tensor in pieces of %llu MiB ok (%llu checks)\n", (unsigned long long)(piece * 4 >> 20),
               (unsigned long long)checked);
        /* A single binding of the whole tensor must be refused. */
        srlm_push_fill p = {.n = 1, .value = 0};
        CHECK_OK(srlm_cmd_begin(g->cmd));
        if (y.size > g->ctx->caps.max_storage_buffer_range)
            CHECK_ERR(srlm_cmd_dispatch(g->cmd, SRLM_OP_FILL_F32, NULL, &y, 1, &p, sizeof p, 1, 1, 1), SRLM_ERR_INVALID,
                      "maxStorageBufferRange");
        CHECK_OK(srlm_cmd_end(g->cmd));
    }
    srlm_arena_destroy(big);
}

static void test_budget(void) {
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    o.mem_budget = 64ull << 20;
    srlm_ctx *ctx;
    srlm_status st = srlm_ctx_create(&o, &ctx);
    CHECK_OK(st);
    if (st) return;
    srlm_arena *a;
    CHECK_OK(srlm_arena_create(ctx, "weights", 0, &a));
    srlm_buf b;
    CHECK_OK(srlm_arena_alloc(a, 32ull << 20, &b));
    CHECK_ERR(srlm_arena_alloc(a, 48ull << 20, &b), SRLM_ERR_DEVICE_OOM, "budget");
    srlm_arena_destroy(a);
    CHECK(srlm_ctx_validation_errors(ctx) == 0, "validation messages");
    srlm_ctx_destroy(ctx);
}

static void test_bad_device(void) {
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    o.device = 99;
    srlm_ctx *ctx = NULL;
    CHECK_ERR(srlm_ctx_create(&o, &ctx), SRLM_ERR_INVALID, "device 99");
    CHECK(ctx == NULL, "no context on error");
}

/* The validation layer is really on: a deliberately invalid call (a zero-sized buffer,
 * VUID-VkBufferCreateInfo-size-00912) is reported and counted, which would fail any test. */
static void test_validation_detects(gpu_env *g) {
    if (!g->ctx->validate) {
        printf("  validation layer off (SRLM_VALIDATE unset): detection not checked\n");
        return;
    }
    int before = srlm_ctx_validation_errors(g->ctx);
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 0,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkBuffer b = VK_NULL_HANDLE;
    fprintf(stderr, "(the next validation message is expected)\n");
    VkResult r = vkCreateBuffer(g->ctx->device, &bci, NULL, &b);
    if (r == VK_SUCCESS && b) vkDestroyBuffer(g->ctx->device, b, NULL);
    int after = srlm_ctx_validation_errors(g->ctx);
    CHECK(after > before, "a zero-sized buffer was not reported by the validation layer");
    printf("  validation layer reports invalid usage: %d message(s) counted\n", after - before);
    g->ctx->validation_errors = before; /* expected: do not fail the test for it */
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    test_validation_detects(&g);
    test_fill_sizes(&g);
    test_replay(&g);
    test_large_tensor(&g);
    test_budget();
    test_bad_device();
    return gpu_test_finish(&g, "test_vk_runtime");
}
