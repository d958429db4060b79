/* test.h: the tiny harness every test executable uses. A test prints what it compared and
 * fails loudly: any failed CHECK makes main return 1. Not a framework: no registration
 * magic, each test file calls its cases from main. */
#ifndef SRLM_TEST_H
#define SRLM_TEST_H

#include "srlm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond, ...) do { \
    test_checks++; \
    if (!(cond)) { \
        test_failures++; \
        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fputc('\n', stderr); \
    } } while (0)

/* Fails the test with the error's message when st is an error; frees st. */
#define CHECK_OK(expr) do { \
    srlm_status check_st_ = (expr); \
    test_checks++; \
    if (check_st_) { \
        test_failures++; \
        fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #expr, srlm_status_msg(check_st_)); \
        srlm_status_free(check_st_); \
    } } while (0)

static inline int test_msg_has(const char *msg, const char *needle) { return !needle || strstr(msg, needle) != NULL; }

/* Expects an error with the given code whose message contains `needle` (may be NULL). */
#define CHECK_ERR(expr, code, needle) do { \
    srlm_status check_st_ = (expr); \
    test_checks++; \
    if (!check_st_ || srlm_status_code(check_st_) != (code) || \
        !test_msg_has(srlm_status_msg(check_st_), (needle))) { \
        test_failures++; \
        fprintf(stderr, "FAIL %s:%d: %s: expected %s containing '%s', got %s: %s\n", __FILE__, __LINE__, \
                #expr, srlm_code_name(code), (needle) ? (needle) : "", \
                srlm_code_name(srlm_status_code(check_st_)), srlm_status_msg(check_st_)); \
    } else { \
        printf("  expected error: %s\n", srlm_status_msg(check_st_)); \
    } \
    srlm_status_free(check_st_); } while (0)

static inline int test_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

/* Exit code meson treats as "skipped". */
#define TEST_SKIP 77

/* ../shared/data relative to the source root, or NULL when absent. */
static inline const char *test_shared_data(void) {
    const char *d = getenv("SRLM_SHARED_DATA");
    return d && *d ? d : NULL;
}

/* xorshift64* for test inputs: deterministic per seed. */
static inline unsigned long long test_rand_u64(unsigned long long *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static inline float test_rand_uniform(unsigned long long *s, float lo, float hi) {
    return lo + (hi - lo) * (float)((test_rand_u64(s) >> 40) * (1.0 / 16777216.0));
}

#endif
