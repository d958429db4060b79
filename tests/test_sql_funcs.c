/* test_sql_funcs.c: the sandbox's linear-time instr/replace/trim/ltrim/rtrim give exactly
 * SQLite's results (type and bytes) on random inputs: texts with multi-byte, malformed and NUL
 * bytes, blobs, numbers, NULLs. Then the worst cases of the originals run in milliseconds. */
#include "test.h"
#include "sql/sandbox.h"

#include <time.h>

static const char *const atoms[] = {"a", "b", " ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\x80",
                                    "\xc3", "\xe2\x82", "\0", "ab", "1"};

static void rand_value(sqlite3_stmt *st, int i, unsigned long long *seed) {
    unsigned k = (unsigned)(test_rand_u64(seed) % 20);
    if (k == 0) { sqlite3_bind_null(st, i); return; }
    if (k == 1) { sqlite3_bind_int64(st, i, (long long)(test_rand_u64(seed) % 200) - 50); return; }
    if (k == 2) { sqlite3_bind_double(st, i, (double)(test_rand_u64(seed) % 1000) / 8.0); return; }
    char buf[64];
    size_t n = 0, parts = (size_t)(test_rand_u64(seed) % 7);
    for (size_t p = 0; p < parts; p++) {
        const char *a = atoms[test_rand_u64(seed) % (sizeof atoms / sizeof *atoms)];
        size_t len = a[0] ? strlen(a) : 1;
        memcpy(buf + n, a, len);
        n += len;
    }
    if (k == 3) sqlite3_bind_blob(st, i, buf, (int)n, SQLITE_TRANSIENT);
    else sqlite3_bind_text(st, i, buf, (int)n, SQLITE_TRANSIENT);
}

static const char *const exprs[] = {
    "instr(?1, ?2)", "replace(?1, ?2, ?3)", "trim(?1)", "ltrim(?1)", "rtrim(?1)",
    "trim(?1, ?2)", "ltrim(?1, ?2)", "rtrim(?1, ?2)", "trim(?1, ?2 || ?3)",
};

int main(void) {
    sqlite3 *ref = NULL, *ours = NULL;
    CHECK(sqlite3_open(":memory:", &ref) == SQLITE_OK && sqlite3_open(":memory:", &ours) == SQLITE_OK, "open");
    CHECK(srlm_sql_register_linear_funcs(ours) == SQLITE_OK, "register");
    unsigned long long seed = 99;
    int cases = 0, same = 0;
    for (size_t e = 0; e < sizeof exprs / sizeof *exprs; e++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT %s", exprs[e]);
        sqlite3_stmt *a = NULL, *b = NULL;
        CHECK(sqlite3_prepare_v2(ref, sql, -1, &a, NULL) == SQLITE_OK && sqlite3_prepare_v2(ours, sql, -1, &b, NULL) == SQLITE_OK,
              "prepare %s", sql);
        for (int t = 0; t < 3000 && a && b; t++) {
            unsigned long long s2 = seed;
            for (int i = 1; i <= 3; i++) rand_value(a, i, &seed);
            for (int i = 1; i <= 3; i++) rand_value(b, i, &s2);
            int ra = sqlite3_step(a), rb = sqlite3_step(b);
            int ok = ra == rb;
            if (ok && ra == SQLITE_ROW) {
                int ta = sqlite3_column_type(a, 0), tb = sqlite3_column_type(b, 0);
                ok = ta == tb;
                if (ok && ta == SQLITE_INTEGER) ok = sqlite3_column_int64(a, 0) == sqlite3_column_int64(b, 0);
                else if (ok && ta == SQLITE_FLOAT) ok = sqlite3_column_double(a, 0) == sqlite3_column_double(b, 0);
                else if (ok && ta != SQLITE_NULL) {
                    int na = sqlite3_column_bytes(a, 0), nb = sqlite3_column_bytes(b, 0);
                    const void *pa = ta == SQLITE_BLOB ? sqlite3_column_blob(a, 0) : (const void *)sqlite3_column_text(a, 0);
                    const void *pb = tb == SQLITE_BLOB ? sqlite3_column_blob(b, 0) : (const void *)sqlite3_column_text(b, 0);
                    ok = na == nb && (na == 0 || !memcmp(pa, pb, (size_t)na));
                }
            }
            cases++;
            same += ok;
            if (!ok && cases - same <= 10)
                fprintf(stderr, "%s differs from SQLite's on case %d (rc %d vs %d)\n", exprs[e], t, ra, rb);
            sqlite3_reset(a);
            sqlite3_reset(b);
        }
        sqlite3_finalize(a);
        sqlite3_finalize(b);
    }
    printf("%d/%d random calls equal to SQLite's built-ins\n", same, cases);
    CHECK(same == cases, "all equal");

    /* worst cases of the quadratic built-ins, now linear */
    const char *worst[] = {
        "SELECT instr(replace(hex(zeroblob(400000)), '0', 'a'), replace(hex(zeroblob(200000)), '0', 'a') || 'b')",
        "SELECT length(replace(replace(hex(zeroblob(400000)), '0', 'a'), replace(hex(zeroblob(200000)), '0', 'a') || 'b', 'c'))",
        "SELECT length(trim(replace(hex(zeroblob(400000)), '0', 'a'), replace(hex(zeroblob(20000)), '0', 'b') || 'c'))",
    };
    sqlite3_limit(ours, SQLITE_LIMIT_LENGTH, 1000000);
    for (size_t i = 0; i < 3; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(ours, worst[i], -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        sqlite3_finalize(st);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        printf("worst case %zu: %.1f ms\n", i, ms);
        /* SQLite's own functions take tens of seconds here; generous for sanitizer builds */
        CHECK(rc == SQLITE_ROW && ms < 5000, "worst case %zu: rc %d, %.0f ms", i, rc, ms);
    }
    sqlite3_close(ref);
    sqlite3_close(ours);
    return test_finish("test_sql_funcs");
}
