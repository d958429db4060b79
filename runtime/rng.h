/* rng.h: the one seeded counter-based random number generator of srlm. A value is a pure
 * function of (seed, stream, counter), so any consumer (init, sampling, MEAP, shuffling)
 * can draw in any order, in parallel, and resume from a saved counter. Not cryptographic. */
#ifndef SRLM_RNG_H
#define SRLM_RNG_H

#include <stdint.h>

/* 64 random bits for (seed, stream, counter): splitmix64's finaliser applied three times,
 * keyed in turn on seed, stream and counter. */
uint64_t srlm_rng_u64(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float srlm_rng_uniform(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform in [0, 1) with 53 random bits. */
double srlm_rng_uniform_f64(uint64_t seed, uint64_t stream, uint64_t counter);
/* Standard normal N(0, 1) by Box-Muller from the 64 bits at `counter` (one output per
 * counter, so the stream stays counter-addressable). */
float srlm_rng_normal(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform integer in [0, n) for n > 0, without modulo bias (rejection below 2^64 mod n;
 * redraws are keyed on the attempt number). n == 0 returns 0. */
uint64_t srlm_rng_below(uint64_t seed, uint64_t stream, uint64_t counter, uint64_t n);

/* A convenience cursor: draws consecutive counters of one (seed, stream). */
typedef struct srlm_rng {
    uint64_t seed, stream, counter;
} srlm_rng;

static inline srlm_rng srlm_rng_make(uint64_t seed, uint64_t stream) {
    srlm_rng r = {seed, stream, 0};
    return r;
}
static inline uint64_t srlm_rng_next_u64(srlm_rng *r) { return srlm_rng_u64(r->seed, r->stream, r->counter++); }
static inline float srlm_rng_next_uniform(srlm_rng *r) { return srlm_rng_uniform(r->seed, r->stream, r->counter++); }
static inline float srlm_rng_next_normal(srlm_rng *r) { return srlm_rng_normal(r->seed, r->stream, r->counter++); }
static inline uint64_t srlm_rng_next_below(srlm_rng *r, uint64_t n) { return srlm_rng_below(r->seed, r->stream, r->counter++, n); }

#endif
