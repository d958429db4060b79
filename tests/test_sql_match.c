/* test_sql_match.c: one check per matching rule (row order, duplicates, column permutation,
 * 1 vs 1.0 vs '1', NULLs, empty results, DISTINCT) on real Spider databases, for Spider's and
 * BIRD's rules, plus Spider's query preprocessing, Python value equality, and the matcher
 * against a brute-force search on thousands of small random tables. */
#include "test.h"

#include <stdint.h>
#include <unistd.h>

static srlm_sql_db *db_singer, *db_car;

static srlm_sql_result *run(srlm_sql_db *db, const char *sql) {
    srlm_sql_result *r = NULL;
    srlm_status st = srlm_sql_exec(db, sql, strlen(sql), 5000, &r);
    if (st) { fprintf(stderr, "exec %s: %s\n", sql, srlm_status_msg(st)); srlm_status_free(st); return NULL; }
    if (r->outcome != SRLM_SQL_ROWS) fprintf(stderr, "query failed: %s: %s\n", sql, r->error);
    return r;
}

/* Scores pred against gold as the evaluator does (Spider: preprocess both, order from gold). */
static int score(srlm_sql_db *db, const char *gold, const char *pred, srlm_sql_rule rule) {
    char *g = NULL, *p = NULL;
    if (rule == SRLM_SQL_RULE_SPIDER) {
        srlm_status_free(srlm_sql_spider_preprocess(gold, &g));
        srlm_status_free(srlm_sql_spider_preprocess(pred, &p));
    } else {
        g = strdup(gold);
        p = strdup(pred);
    }
    srlm_sql_result *gr = run(db, g), *pr = run(db, p);
    int m = gr && pr ? srlm_sql_results_match(gr, pr, rule, srlm_sql_spider_order_matters(g)) : -1;
    srlm_sql_result_free(gr);
    srlm_sql_result_free(pr);
    free(g);
    free(p);
    return m;
}

#define EXPECT(db, gold, pred, rule, want) do { \
    int got_ = score(db, gold, pred, rule); \
    CHECK(got_ == (want), "%s rule: gold [%s] pred [%s]: got %d want %d", \
          (rule) == SRLM_SQL_RULE_BIRD ? "BIRD" : "Spider", gold, pred, got_, want); } while (0)

static const srlm_sql_rule S = SRLM_SQL_RULE_SPIDER, B = SRLM_SQL_RULE_BIRD;

static void test_order(void) {
    /* row order matters only when gold has ORDER BY (Spider); never for BIRD */
    EXPECT(db_singer, "SELECT Name FROM singer ORDER BY Age", "SELECT Name FROM singer ORDER BY Age DESC", S, 0);
    EXPECT(db_singer, "SELECT Name FROM singer ORDER BY Age", "SELECT Name FROM singer ORDER BY Age", S, 1);
    EXPECT(db_singer, "SELECT Name FROM singer", "SELECT Name FROM singer ORDER BY Age DESC", S, 1);
    EXPECT(db_singer, "SELECT Name FROM singer ORDER BY Age", "SELECT Name FROM singer ORDER BY Age DESC", B, 1);
    /* order + column permutation together */
    EXPECT(db_singer, "SELECT Name, Age FROM singer ORDER BY Age", "SELECT Age, Name FROM singer ORDER BY Age", S, 1);
    EXPECT(db_singer, "SELECT Name, Age FROM singer ORDER BY Age", "SELECT Age, Name FROM singer ORDER BY Name", S, 0);
    /* Spider looks for the literal "order by" in lower case */
    CHECK(srlm_sql_spider_order_matters("select a from t ORDER BY a"), "ORDER BY");
    CHECK(!srlm_sql_spider_order_matters("select a from t order  by a"), "two spaces are not 'order by' for Spider");
    CHECK(!srlm_sql_spider_order_matters("select a from t"), "no order");
}

static void test_duplicates(void) {
    /* multiset (Spider) vs set (BIRD); DISTINCT kept here by writing GROUP BY */
    EXPECT(db_singer, "SELECT Country FROM singer", "SELECT Country FROM singer GROUP BY Country", S, 0);
    EXPECT(db_singer, "SELECT Country FROM singer", "SELECT Country FROM singer GROUP BY Country", B, 1);
    EXPECT(db_singer, "SELECT Country FROM singer", "SELECT Country FROM singer UNION ALL SELECT 'France'", S, 0);
    EXPECT(db_singer, "SELECT Country FROM singer", "SELECT Country FROM singer UNION ALL SELECT 'France'", B, 1);
    /* same multiset, different multiplicities of each value: must fail */
    EXPECT(db_singer, "SELECT 'a' UNION ALL SELECT 'a' UNION ALL SELECT 'b'",
           "SELECT 'a' UNION ALL SELECT 'b' UNION ALL SELECT 'b'", S, 0);
}

static void test_distinct(void) {
    /* Spider removes every DISTINCT from both queries, inside COUNT(...) too; BIRD keeps it */
    EXPECT(db_singer, "SELECT Country FROM singer", "SELECT DISTINCT Country FROM singer", S, 1);
    EXPECT(db_singer, "SELECT Country FROM singer", "SELECT DISTINCT Country FROM singer", B, 1); /* set rule */
    EXPECT(db_singer, "SELECT count(Country) FROM singer", "SELECT count(DISTINCT Country) FROM singer", S, 1);
    EXPECT(db_singer, "SELECT count(Country) FROM singer", "SELECT count(DISTINCT Country) FROM singer", B, 0);
    EXPECT(db_singer, "SELECT count(DISTINCT Country) FROM singer", "SELECT count(*) FROM singer", S, 1);
    char *o = NULL;
    CHECK_OK(srlm_sql_spider_preprocess("SELECT count(DISTINCT name), 'distinct' AS \"distinct\", distinct_col "
                                        "FROM t WHERE a > = 1 AND b < = 2 AND c ! = 3 AND d = YEAR ( CURDATE ( ) ) - 1", &o));
    CHECK(o && !strcmp(o, "SELECT count( name), 'distinct' AS \"distinct\", distinct_col FROM t WHERE a >= 1 AND "
                          "b <= 2 AND c != 3 AND d = 2020- 1"), "preprocessed: '%s'", o ? o : "");
    free(o);
    CHECK_OK(srlm_sql_spider_preprocess("select DiStInCt a from t -- distinct\n", &o));
    CHECK(o && !strcmp(o, "select  a from t -- distinct\n"), "preprocessed: '%s'", o ? o : "");
    free(o);
}

static void test_columns(void) {
    EXPECT(db_singer, "SELECT Name, Age FROM singer", "SELECT Age, Name FROM singer", S, 1);
    EXPECT(db_singer, "SELECT Name, Age FROM singer", "SELECT Age, Name FROM singer", B, 0);
    EXPECT(db_singer, "SELECT Name, Age FROM singer", "SELECT Name, Age FROM singer", B, 1);
    /* more than three columns: every permutation may match */
    EXPECT(db_singer, "SELECT Singer_ID, Name, Country, Age, Is_male FROM singer",
           "SELECT Is_male, Age, Country, Name, Singer_ID FROM singer", S, 1);
    EXPECT(db_car, "SELECT MakeId, Model, Make FROM car_names", "SELECT Make, MakeId, Model FROM car_names", S, 1);
    /* a column too many or too few */
    EXPECT(db_singer, "SELECT Name FROM singer", "SELECT Name, Age FROM singer", S, 0);
    EXPECT(db_singer, "SELECT Name FROM singer", "SELECT Name, Age FROM singer", B, 0);
    /* rows equal only as multisets of columns once both columns are swapped per row: (1,1),(1,2)
     * against (1,1),(2,1) needs the column swap, then matches */
    EXPECT(db_singer, "SELECT 1, 1 UNION ALL SELECT 1, 2", "SELECT 1, 1 UNION ALL SELECT 2, 1", S, 1);
    EXPECT(db_singer, "SELECT 1, 1 UNION ALL SELECT 1, 2", "SELECT 1, 1 UNION ALL SELECT 2, 1", B, 0);
    /* a per-row sort would accept this, a column permutation does not: (1,2),(2,1) vs (1,2),(1,2) */
    EXPECT(db_singer, "SELECT 1, 2 UNION ALL SELECT 2, 1", "SELECT 1, 2 UNION ALL SELECT 1, 2", S, 0);
    /* real data, four columns, wrong values in one column */
    EXPECT(db_car, "SELECT Id, Maker, FullName, Country FROM car_makers",
           "SELECT Country, FullName, Maker, Id + 0.5 FROM car_makers", S, 0);
}

static void test_values(void) {
    EXPECT(db_singer, "SELECT count(*) FROM singer", "SELECT 6.0", S, 1);
    EXPECT(db_singer, "SELECT count(*) FROM singer", "SELECT 6.0", B, 1);
    EXPECT(db_singer, "SELECT count(*) FROM singer", "SELECT '6'", S, 0);
    EXPECT(db_singer, "SELECT count(*) FROM singer", "SELECT '6'", B, 0);
    EXPECT(db_singer, "SELECT count(*) FROM singer", "SELECT 6.000001", S, 0);
    EXPECT(db_singer, "SELECT avg(Age) FROM singer", "SELECT sum(Age) * 1.0 / count(*) FROM singer", S, 1);
    EXPECT(db_singer, "SELECT x'01'", "SELECT '\x01'", S, 0); /* bytes != str */
    /* NULLs equal NULLs, not 0 or '' */
    EXPECT(db_singer, "SELECT NULL", "SELECT NULL", S, 1);
    EXPECT(db_singer, "SELECT NULL", "SELECT NULL", B, 1);
    EXPECT(db_singer, "SELECT NULL", "SELECT 0", S, 0);
    EXPECT(db_singer, "SELECT NULL", "SELECT ''", B, 0);
    EXPECT(db_singer, "SELECT max(Age) FROM singer WHERE 0", "SELECT NULL", S, 1);
    srlm_sql_value i1 = {SRLM_SQL_INTEGER, 1, 0, NULL, 0}, r1 = {SRLM_SQL_REAL, 0, 1.0, NULL, 0};
    srlm_sql_value t1 = {SRLM_SQL_TEXT, 0, 0, "1", 1}, b1 = {SRLM_SQL_BLOB, 0, 0, "1", 1};
    srlm_sql_value big = {SRLM_SQL_INTEGER, (1LL << 53) + 1, 0, NULL, 0}, bigr = {SRLM_SQL_REAL, 0, 9007199254740992.0, NULL, 0};
    srlm_sql_value nz = {SRLM_SQL_REAL, 0, -0.0, NULL, 0}, z = {SRLM_SQL_INTEGER, 0, 0, NULL, 0};
    srlm_sql_value n1 = {SRLM_SQL_NULL, 0, 0, NULL, 0}, n2 = {SRLM_SQL_NULL, 0, 0, NULL, 0};
    CHECK(srlm_sql_value_eq(&i1, &r1), "1 == 1.0");
    CHECK(!srlm_sql_value_eq(&i1, &t1), "1 != '1'");
    CHECK(!srlm_sql_value_eq(&t1, &b1), "'1' != b'1'");
    CHECK(!srlm_sql_value_eq(&big, &bigr), "2**53+1 != float(2**53) (exact, as Python)");
    CHECK(srlm_sql_value_eq(&nz, &z), "-0.0 == 0");
    CHECK(srlm_sql_value_eq(&n1, &n2), "None == None");
    CHECK(!srlm_sql_value_eq(&n1, &z), "None != 0");
}

static void test_empty(void) {
    /* two empty results match whatever their columns; empty vs non-empty does not */
    EXPECT(db_singer, "SELECT Name FROM singer WHERE Age > 1000", "SELECT Age, Name FROM singer WHERE 0", S, 1);
    EXPECT(db_singer, "SELECT Name FROM singer WHERE Age > 1000", "SELECT Age, Name FROM singer WHERE 0", B, 1);
    EXPECT(db_singer, "SELECT Name FROM singer WHERE Age > 1000", "SELECT Name FROM singer", S, 0);
    EXPECT(db_singer, "SELECT Name FROM singer WHERE Age > 1000", "SELECT Name FROM singer", B, 0);
    /* failed predictions never match */
    srlm_sql_result *g = run(db_singer, "SELECT 1"), *p = run(db_singer, "SELECT nope FROM singer");
    CHECK(g && p && p->outcome == SRLM_SQL_ERROR && !srlm_sql_results_match(g, p, S, 0), "an error never matches");
    srlm_sql_result_free(g);
    srlm_sql_result_free(p);
}

/* ---- randomized: the matcher against brute force on small random tables ---------------------- */

static const srlm_sql_value domain[] = {
    {SRLM_SQL_NULL, 0, 0, NULL, 0}, {SRLM_SQL_INTEGER, 0, 0, NULL, 0}, {SRLM_SQL_INTEGER, 1, 0, NULL, 0},
    {SRLM_SQL_REAL, 0, 1.0, NULL, 0}, {SRLM_SQL_REAL, 0, 2.5, NULL, 0}, {SRLM_SQL_TEXT, 0, 0, "1", 1},
    {SRLM_SQL_TEXT, 0, 0, "a", 1}, {SRLM_SQL_BLOB, 0, 0, "a", 1},
};

static srlm_sql_result *make(int nrows, int ncols) {
    srlm_sql_result *r = calloc(1, sizeof *r);
    r->outcome = SRLM_SQL_ROWS;
    r->nrows = (size_t)nrows;
    r->ncols = ncols;
    r->cells = calloc((size_t)(nrows * ncols) + 1, sizeof *r->cells);
    return r;
}

static void drop(srlm_sql_result *r) { free(r->cells); free(r); }

/* Brute force: some column permutation and (unless ordered) some row bijection. */
static int brute_rows(const srlm_sql_result *g, const srlm_sql_result *p, const int *perm, int ordered) {
    size_t n = g->nrows;
    int used[16] = {0};
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = ordered ? i : 0; j < (ordered ? i + 1 : n) && !found; j++) {
            if (used[j]) continue;
            int eq = 1;
            for (int c = 0; c < g->ncols && eq; c++) eq = srlm_sql_value_eq(srlm_sql_cell(g, i, c), srlm_sql_cell(p, j, perm[c]));
            if (eq) { used[j] = 1; found = 1; }
        }
        if (!found) return 0;
    }
    return 1;
}

static int brute_perm(const srlm_sql_result *g, const srlm_sql_result *p, int *perm, int k, int *used, int ordered) {
    if (k == g->ncols) return brute_rows(g, p, perm, ordered);
    for (int c = 0; c < g->ncols; c++) {
        if (used[c]) continue;
        used[c] = 1;
        perm[k] = c;
        int ok = brute_perm(g, p, perm, k + 1, used, ordered);
        used[c] = 0;
        if (ok) return 1;
    }
    return 0;
}

static int brute_spider(const srlm_sql_result *g, const srlm_sql_result *p, int ordered) {
    if (g->nrows == 0 && p->nrows == 0) return 1;
    if (g->nrows != p->nrows || g->ncols != p->ncols) return 0;
    int perm[8], used[8] = {0};
    return brute_perm(g, p, perm, 0, used, ordered);
}

static int brute_bird(const srlm_sql_result *g, const srlm_sql_result *p) {
    if (g->nrows == 0 && p->nrows == 0) return 1;
    if (g->nrows == 0 || p->nrows == 0 || g->ncols != p->ncols) return 0;
    for (int side = 0; side < 2; side++) {
        const srlm_sql_result *a = side ? p : g, *b = side ? g : p;
        for (size_t i = 0; i < a->nrows; i++) {
            int found = 0;
            for (size_t j = 0; j < b->nrows && !found; j++) {
                int eq = 1;
                for (int c = 0; c < a->ncols && eq; c++) eq = srlm_sql_value_eq(srlm_sql_cell(a, i, c), srlm_sql_cell(b, j, c));
                found = eq;
            }
            if (!found) return 0;
        }
    }
    return 1;
}

static void test_random(void) {
    unsigned long long seed = 12345;
    int agree = 0, matches = 0, cases = 4000;
    for (int t = 0; t < cases; t++) {
        int nrows = (int)(test_rand_u64(&seed) % 6), ncols = 1 + (int)(test_rand_u64(&seed) % 4);
        int dom = 2 + (int)(test_rand_u64(&seed) % 7); /* small domains make coincidences likely */
        srlm_sql_result *g = make(nrows, ncols);
        for (int i = 0; i < nrows * ncols; i++) g->cells[i] = domain[test_rand_u64(&seed) % (unsigned)dom];
        /* the prediction: a row shuffle and column permutation of gold, sometimes mutated */
        int pncols = test_rand_u64(&seed) % 10 == 0 ? ncols + 1 : ncols;
        int prows = test_rand_u64(&seed) % 10 == 0 ? nrows + 1 : nrows;
        srlm_sql_result *p = make(prows, pncols);
        int cperm[8], rperm[8];
        for (int c = 0; c < 8; c++) cperm[c] = c, rperm[c] = c;
        for (int c = ncols - 1; c > 0; c--) { int k = (int)(test_rand_u64(&seed) % (unsigned)(c + 1)); int x = cperm[c]; cperm[c] = cperm[k]; cperm[k] = x; }
        int shuffle = test_rand_u64(&seed) % 2;
        for (int r = nrows - 1; shuffle && r > 0; r--) { int k = (int)(test_rand_u64(&seed) % (unsigned)(r + 1)); int x = rperm[r]; rperm[r] = rperm[k]; rperm[k] = x; }
        for (int r = 0; r < prows; r++)
            for (int c = 0; c < pncols; c++)
                p->cells[r * pncols + c] = r < nrows && c < ncols ? *srlm_sql_cell(g, (size_t)rperm[r], cperm[c])
                                                                  : domain[test_rand_u64(&seed) % (unsigned)dom];
        int mutations = (int)(test_rand_u64(&seed) % 3);
        for (int m = 0; m < mutations && prows * pncols > 0; m++)
            p->cells[test_rand_u64(&seed) % (unsigned)(prows * pncols)] = domain[test_rand_u64(&seed) % (unsigned)dom];
        int ordered = (int)(test_rand_u64(&seed) % 2);
        int s = srlm_sql_results_match(g, p, SRLM_SQL_RULE_SPIDER, ordered), bs = brute_spider(g, p, ordered);
        int b = srlm_sql_results_match(g, p, SRLM_SQL_RULE_BIRD, 0), bb = brute_bird(g, p);
        CHECK(s == bs, "case %d: Spider rule %d, brute force %d (%dx%d vs %zux%d, ordered %d)", t, s, bs, nrows, ncols,
              p->nrows, p->ncols, ordered);
        CHECK(b == bb, "case %d: BIRD rule %d, brute force %d", t, b, bb);
        agree += (s == bs) && (b == bb);
        matches += s;
        drop(g);
        drop(p);
    }
    printf("random tables: %d/%d agree with brute force (%d Spider matches)\n", agree, cases, matches);
}

static void test_vote(void) {
    const char *sql[] = {
        "SELECT Name FROM singer WHERE Age > 40",            /* 0: group A */
        "SELECT nope FROM singer",                           /* 1: error */
        "SELECT Name FROM singer WHERE Age > 40 ORDER BY Name DESC", /* 2: A (order ignored) */
        "SELECT Name, Age FROM singer WHERE Age > 40",       /* 3: B (other columns) */
        "SELECT Name FROM singer WHERE Age > 30",            /* 4: C */
        "SELECT Name FROM singer WHERE Age > 30",            /* 5: C */
        "SELECT Name FROM singer WHERE Age >= 41",           /* 6: A */
        "SELECT Name FROM singer WHERE Age > 30 LIMIT 100",  /* 7: C */
    };
    srlm_sql_result *r[8];
    for (int i = 0; i < 8; i++) r[i] = run(db_singer, sql[i]);
    size_t g = 0;
    long w = srlm_sql_vote((const srlm_sql_result *const *)r, 8, &g);
    CHECK(w == 0 && g == 3, "tie of two groups of 3: the first seen wins (got %ld, size %zu)", w, g);
    w = srlm_sql_vote((const srlm_sql_result *const *)r + 1, 7, &g);
    CHECK(w == 3 && g == 3, "without #0: C (first at #4) beats A (2) -> index 3 of the slice, got %ld size %zu", w, g);
    const srlm_sql_result *only_err[2] = {r[1], NULL};
    CHECK(srlm_sql_vote(only_err, 2, &g) == -1 && g == 0, "no result: -1");
    for (int i = 0; i < 8; i++) srlm_sql_result_free(r[i]);
}

int main(void) {
    test_random();
    const char *shared = test_shared_data();
    char a[600], b[600];
    if (shared) {
        snprintf(a, sizeof a, "%s/spider/database/concert_singer/concert_singer.sqlite", shared);
        snprintf(b, sizeof b, "%s/spider/database/car_1/car_1.sqlite", shared);
    }
    if (!shared || access(a, R_OK) || access(b, R_OK)) {
        printf("SKIP: Spider databases not found under SRLM_SHARED_DATA (the random-table checks ran)\n");
        return test_failures ? 1 : TEST_SKIP;
    }
    CHECK_OK(srlm_sql_open(a, NULL, &db_singer));
    CHECK_OK(srlm_sql_open(b, NULL, &db_car));
    if (!db_singer || !db_car) return test_finish("test_sql_match");
    test_order();
    test_duplicates();
    test_distinct();
    test_columns();
    test_values();
    test_empty();
    test_vote();
    srlm_sql_close(db_singer);
    srlm_sql_close(db_car);
    return test_finish("test_sql_match");
}
