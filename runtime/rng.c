/* rng.c: counter-based RNG (splitmix64 mixing keyed on seed, stream, counter). Stateless:
 * the cursor type lives in rng.h. */
#include "rng.h"

#include <math.h>

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t srlm_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter) {
    return mix64(mix64(mix64(seed) ^ stream) ^ counter);
}

float srlm_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter) {
    return (float)(srlm_rng_u64(seed, stream, counter) >> 40) * (1.0f / 16777216.0f);
}

double srlm_rng_uniform_f64(uint64_t seed, uint64_t stream, uint64_t counter) {
    return (double)(srlm_rng_u64(seed, stream, counter) >> 11) * (1.0 / 9007199254740992.0);
}

float srlm_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter) {
    uint64_t r = srlm_rng_u64(seed, stream, counter);
    /* u1 in (0, 1] so the log is finite; u2 in [0, 1). */
    double u1 = ((double)(r >> 32) + 1.0) * (1.0 / 4294967296.0);
    double u2 = (double)(r & 0xffffffffu) * (1.0 / 4294967296.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t srlm_rng_below(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t n) {
    if (n == 0) return 0;
    /* Accept x only at or above 2^64 mod n, so the accepted range is a whole number of
     * copies of [0, n) and x % n is unbiased. Redraws mix the attempt number into the
     * stream so they never reuse another counter's bits. */
    uint64_t threshold = (0 - n) % n;
    for (uint64_t attempt = 0;; attempt++) {
        uint64_t x = srlm_rng_u64(seed, stream ^ (attempt * 0xd1b54a32d192ed03ull), counter);
        if (x >= threshold) return x % n;
    }
}
