/* test_ops_convert.c: f32 -> f16, f32 -> bf16, f16 -> f32, bf16 -> f32 (shaders/convert.comp)
 * against the CPU references, bit for bit: every one of the 65,536 f16 and bf16 patterns
 * widened, and random plus hand-picked f32 values (ties, overflow edges, subnormals, inf,
 * NaN) narrowed, at awkward (odd) sizes, also with a lowered binding limit (pieces).
 * Tolerance: exact bits when narrowing (integer rounding in the shader, NaN payloads
 * included); when widening, exact bits except that a NaN only has to give a NaN (devices may
 * canonicalise NaN payloads in unpackHalf2x16). */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Interesting f32 values around the f16 and bf16 rounding edges. */
static const uint32_t specials[] = {
    0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u,
    0x477fe000u, 0x477fefffu, 0x477ff000u, 0x477ff001u, 0x47800000u, /* 65504 .. 65536 */
    0x38800000u, 0x387fffffu, 0x387fe000u, 0x387ff000u, /* f16 smallest normal edge */
    0x33000000u, 0x33000001u, 0x33800000u, 0x33c00000u, 0x34000000u, /* f16 subnormal edges */
    0x3f801000u, 0x3f803000u, 0x3f802000u, 0x3f800fffu, /* f16 ties to even at 1 */
    0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x7f7fffffu, 0x00000001u, 0x807fffffu, /* bf16 ties, max, denormals */
};


static void test_narrow(gpu_env *g, unsigned long long *seed, uint64_t n, const char *tag) {
    float *x = malloc(n * 4);
    uint16_t *want = malloc(n * 2 + 4), *got = malloc((n + 1) / 2 * 4);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t r = test_rand_u64(seed);
        if (i < sizeof specials / sizeof *specials && n > 40) x[i] = bitsf(specials[i]);
        else if (r % 3 == 0) x[i] = bitsf((uint32_t)(r >> 32)); /* any bit pattern */
        else if (r % 3 == 1) x[i] = ldexpf(test_rand_uniform(seed, -1, 1), (int)(r >> 40) % 40 - 28); /* f16 range */
        else x[i] = bitsf((fbits(test_rand_uniform(seed, 0.5f, 70000)) & ~0x1fffu) | 0x1000u); /* exact f16 ties */
    }
    srlm_buf X = gpu_alloc(g, n * 4, x), Y = gpu_alloc(g, (n + 1) / 2 * 4, NULL);
    for (int bf = 0; bf < 2; bf++) {
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(bf ? srlm_op_f32_to_bf16(g->cmd, Y, X, n) : srlm_op_f32_to_f16(g->cmd, Y, X, n));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, Y, got, (n + 1) / 2 * 4);
        if (bf) srlm_ref_f32_to_bf16_fwd(want, x, n);
        else srlm_ref_f32_to_f16_fwd(want, x, n);
        uint64_t bad = 0;
        for (uint64_t i = 0; i < n; i++)
            if (got[i] != want[i]) {
                if (bad++ < 8)
                    fprintf(stderr, "    [%llu] x=%08x got %04x want %04x\n", (unsigned long long)i, fbits(x[i]), got[i], want[i]);
            }
        if (n % 2) CHECK(got[n] == 0, "odd n=%llu: padding half is %04x, not 0", (unsigned long long)n, got[n]);
        printf("  %sf32 -> %s n=%-7llu %llu mismatches (exact bits)\n", tag, bf ? "bf16" : "f16 ", (unsigned long long)n,
               (unsigned long long)bad);
        CHECK(bad == 0, "f32 -> %s n=%llu: %llu mismatches", bf ? "bf16" : "f16", (unsigned long long)n, (unsigned long long)bad);
    }
    free(x), free(want), free(got);
    srlm_arena_reset(g->arena);
}

/* Every 16-bit pattern widened (n = 65536), then an odd-length prefix. */
static void test_widen(gpu_env *g, uint64_t n, const char *tag) {
    uint16_t *h = malloc(65536 * 2);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)(i * 40503u); /* a permutation of all patterns */
    float *got = malloc(n * 4), *want = malloc(n * 4);
    srlm_buf X = gpu_alloc(g, 65536 * 2, h), Y = gpu_alloc(g, n * 4, NULL);
    for (int bf = 0; bf < 2; bf++) {
        CHECK_OK(srlm_cmd_begin(g->cmd));
        CHECK_OK(bf ? srlm_op_bf16_to_f32(g->cmd, Y, X, n) : srlm_op_f16_to_f32(g->cmd, Y, X, n));
        CHECK_OK(srlm_cmd_run(g->cmd));
        gpu_read(g, Y, got, n * 4);
        if (bf) srlm_ref_bf16_to_f32_fwd(want, h, n);
        else srlm_ref_f16_to_f32_fwd(want, h, n);
        uint64_t bad = 0;
        for (uint64_t i = 0; i < n; i++) {
            int ok = fbits(got[i]) == fbits(want[i]) || (isnan(want[i]) && isnan(got[i]));
            if (!ok && bad++ < 8)
                fprintf(stderr, "    [%llu] h=%04x got %08x want %08x\n", (unsigned long long)i, h[i], fbits(got[i]), fbits(want[i]));
        }
        printf("  %s%s -> f32 n=%-7llu %llu mismatches (exact bits)\n", tag, bf ? "bf16" : "f16 ", (unsigned long long)n,
               (unsigned long long)bad);
        CHECK(bad == 0, "%s -> f32 n=%llu: %llu mismatches", bf ? "bf16" : "f16", (unsigned long long)n, (unsigned long long)bad);
    }
    free(h), free(got), free(want);
    srlm_arena_reset(g->arena);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    unsigned long long seed = 0xc0de0002ull;
    const uint64_t sizes[] = {1, 2, 7, 13, 127, 1000, 4098, 4099, 100001}; /* every n % 4 */
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) test_narrow(&g, &seed, sizes[s], "");
    test_widen(&g, 65536, "");
    test_widen(&g, 4099, "");
    test_widen(&g, 1, "");
    test_widen(&g, 2, "");
    test_widen(&g, 65534, "");
    setenv("SRLM_MAX_BINDING_BYTES", "1024", 1);
    test_narrow(&g, &seed, 4099, "[1 KiB limit] ");
    test_widen(&g, 65535, "[1 KiB limit] ");
    unsetenv("SRLM_MAX_BINDING_BYTES");
    return gpu_test_finish(&g, "test_ops_convert");
}
