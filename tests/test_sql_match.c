/* test_sql_match.c: one check per matching rule (row order, duplicates, column permutation,
 * 1 vs 1.0 vs '1', NULLs, empty results, DISTINCT) on real Spider databases, for Spider's and
 * BIRD's rules, plus Spider's query preprocessing and Python value equality. */
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

int main(void) {
    const char *shared = test_shared_data();
    char a[600], b[600];
    if (shared) {
        snprintf(a, sizeof a, "%s/spider/database/concert_singer/concert_singer.sqlite", shared);
        snprintf(b, sizeof b, "%s/spider/database/car_1/car_1.sqlite", shared);
    }
    if (!shared || access(a, R_OK) || access(b, R_OK)) {
        printf("SKIP: Spider databases not found under SRLM_SHARED_DATA\n");
        return TEST_SKIP;
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
    srlm_sql_close(db_singer);
    srlm_sql_close(db_car);
    return test_finish("test_sql_match");
}
