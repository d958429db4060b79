/* test_sql_sandbox.c: the SQLite sandbox against a hostile corpus on copies of real Spider
 * databases (and the read-only originals): the file stays byte-identical, no file appears,
 * every call returns within deadline + 1 s with an error or a truncated result, and normal
 * queries keep working. Also: value types, column names, SQLite's messages, bad files,
 * feedback text and one connection per thread. */
#include "test.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

static int write_all(const char *path, const char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static uint64_t fnv64(const char *b, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)b[i]) * 1099511628211ULL;
    return h;
}

/* Sorted listing of a folder, one name per line. */
static void listing(const char *dir, char *out, size_t cap) {
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    char names[64][256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char t[256];
                memcpy(t, names[i], 256);
                memcpy(names[i], names[j], 256);
                memcpy(names[j], t, 256);
            }
    for (int i = 0; i < n; i++) {
        strncat(out, names[i], cap - strlen(out) - 2);
        strcat(out, "\n");
    }
}

typedef struct hostile {
    const char *sql;  /* NULL: built below */
    size_t len;       /* 0: strlen */
} hostile;

#define DEADLINE_MS 300

/* Runs the corpus on one connection; db_dir is the folder holding the files that must not
 * change; tmp is a folder where ATTACH / VACUUM INTO targets would appear. */
static void run_corpus(srlm_sql_db *db, const char *tmp, const char *label) {
    static char attach1[600], attach2[600], vac[600], vac2[600];
    snprintf(attach1, sizeof attach1, "ATTACH DATABASE '%s/other.db' AS o", tmp);
    snprintf(attach2, sizeof attach2, "ATTACH '%s/concert_singer.sqlite' AS again", tmp);
    snprintf(vac, sizeof vac, "VACUUM INTO '%s/stolen.db'", tmp);
    snprintf(vac2, sizeof vac2, "VACUUM main INTO '%s/stolen2.db'", tmp);
    /* generated texts */
    static char longsql[200100], deep[30000], nul_sql[64], bad_utf8[64], likepat[3000], compound[4000];
    size_t p = 0;
    p += (size_t)sprintf(longsql, "SELECT ");
    while (p < 200000) p += (size_t)sprintf(longsql + p, "1+");
    sprintf(longsql + p, "1");
    p = 0;
    p += (size_t)sprintf(deep, "SELECT ");
    for (int i = 0; i < 5000; i++) deep[p++] = '(';
    deep[p++] = '1';
    for (int i = 0; i < 5000; i++) deep[p++] = ')';
    deep[p] = '\0';
    static const char nul_src[] = "SELECT 1\0; DROP TABLE singer";
    memcpy(nul_sql, nul_src, sizeof nul_src);
    snprintf(bad_utf8, sizeof bad_utf8, "SELECT 'caf\xc3' || '\xff\xfe'");
    p = (size_t)sprintf(likepat, "SELECT count(*) FROM singer WHERE name LIKE '");
    for (int i = 0; i < 1500; i++) likepat[p++] = i % 2 ? 'a' : '%';
    sprintf(likepat + p, "'");
    p = (size_t)sprintf(compound, "SELECT 1");
    for (int i = 0; i < 200; i++) p += (size_t)sprintf(compound + p, " UNION SELECT %d", i + 2);

    const hostile corpus[] = {
        {"DROP TABLE singer", 0},
        {"DROP TABLE IF EXISTS concert", 0},
        {"DROP VIEW IF EXISTS v", 0},
        {"DELETE FROM singer", 0},
        {"DELETE FROM singer WHERE 1", 0},
        {"UPDATE singer SET Age = 0", 0},
        {"INSERT INTO singer(Singer_ID, Name) VALUES (99, 'x')", 0},
        {"INSERT INTO singer SELECT * FROM singer", 0},
        {"REPLACE INTO singer(Singer_ID) VALUES (1)", 0},
        {"WITH x AS (SELECT 1) DELETE FROM singer", 0},
        {"CREATE TABLE evil(a)", 0},
        {"CREATE INDEX evil_i ON singer(Age)", 0},
        {"CREATE VIEW evil_v AS SELECT 1", 0},
        {"CREATE TRIGGER evil_t AFTER INSERT ON singer BEGIN SELECT 1; END", 0},
        {"CREATE TEMP TABLE t(x)", 0},
        {"CREATE TEMPORARY TABLE t AS SELECT * FROM singer", 0},
        {"CREATE TEMP VIEW tv AS SELECT 1", 0},
        {"CREATE TEMP TRIGGER tt AFTER INSERT ON singer BEGIN SELECT 1; END", 0},
        {"CREATE VIRTUAL TABLE f USING fts5(x)", 0},
        {"ALTER TABLE singer ADD COLUMN z", 0},
        {"ALTER TABLE singer RENAME TO s2", 0},
        {attach1, 0},
        {attach2, 0},
        {"ATTACH ':memory:' AS m", 0},
        {"DETACH main", 0},
        {"VACUUM", 0},
        {vac, 0},
        {vac2, 0},
        {"PRAGMA writable_schema=1", 0},
        {"PRAGMA writable_schema=ON", 0},
        {"PRAGMA journal_mode=DELETE", 0},
        {"PRAGMA journal_mode=WAL", 0},
        {"PRAGMA user_version=7", 0},
        {"PRAGMA query_only=0", 0},
        {"PRAGMA foreign_keys=ON", 0},
        {"PRAGMA temp_store=MEMORY", 0},
        {"PRAGMA cache_size=-1000000", 0},
        {"PRAGMA main.page_size=512", 0},
        {"SELECT * FROM pragma_user_version", 0},
        {"SELECT load_extension('/tmp/libevil.so')", 0},
        {"SELECT load_extension('libc.so.6', 'system')", 0},
        {"SELECT fts3_tokenizer('simple')", 0},
        {"SELECT * FROM dbstat", 0},
        {"SELECT * FROM sqlite_dbpage", 0},
        {"UPDATE sqlite_master SET sql = 'x'", 0},
        {"BEGIN", 0},
        {"BEGIN IMMEDIATE", 0},
        {"BEGIN EXCLUSIVE", 0},
        {"COMMIT", 0},
        {"END", 0},
        {"ROLLBACK", 0},
        {"SAVEPOINT s1", 0},
        {"RELEASE s1", 0},
        {"ANALYZE", 0},
        {"REINDEX", 0},
        {"EXPLAIN DELETE FROM singer", 0},
        /* endless or huge work */
        {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c", 0},
        {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", 0},
        {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x FROM c) SELECT max(x) FROM c ORDER BY 1", 0},
        {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT group_concat(x) FROM c", 0},
        {"WITH RECURSIVE c(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM c) SELECT length(s) FROM c", 0},
        {"SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f, singer g, singer h, "
         "singer i, singer j, singer k", 0},
        {"SELECT * FROM singer a, singer b, singer c, singer d, singer e, singer f, singer g", 0},
        {"SELECT a.Name, b.Name FROM singer a, singer b, singer c, singer d, singer e, singer f ORDER BY random()", 0},
        {"SELECT zeroblob(2000000000)", 0},
        {"SELECT randomblob(2000000000)", 0},
        {"SELECT length(replace(hex(zeroblob(300000)), '0', 'aaaa'))", 0},
        {"SELECT printf('%.*c', 2000000000, 'x')", 0},
        {"SELECT printf('%2000000000d', 1)", 0},
        {"SELECT format('%.*c', 1500000000, 'y')", 0},
        {"SELECT hex(zeroblob(600000))", 0},
        /* quadratic inside one call in SQLite's own functions: linear replacements / limits */
        {"SELECT instr(replace(hex(zeroblob(249999)), '0', 'a'), replace(hex(zeroblob(124999)), '0', 'a') || 'b') "
         "FROM singer a, singer b, singer c, singer d, singer e, singer f", 0},
        {"SELECT replace(replace(hex(zeroblob(249999)), '0', 'a'), replace(hex(zeroblob(124999)), '0', 'a') || 'b', '') "
         "FROM singer a, singer b, singer c, singer d, singer e, singer f", 0},
        {"SELECT trim(replace(hex(zeroblob(249999)), '0', 'a'), replace(hex(zeroblob(20000)), '0', 'b') || 'c') "
         "FROM singer a, singer b, singer c, singer d, singer e, singer f", 0},
        {"SELECT replace(hex(zeroblob(249999)), '0', 'a') LIKE '%' || replace(hex(zeroblob(24)), '0', 'a') || 'b' "
         "FROM singer a, singer b, singer c, singer d, singer e, singer f", 0},
        {"SELECT replace(hex(zeroblob(249999)), '0', 'a') GLOB '*' || replace(hex(zeroblob(24)), '0', 'a') || 'b' "
         "FROM singer a, singer b, singer c, singer d, singer e, singer f", 0},
        {"SELECT replace(hex(zeroblob(249999)), '0', 'a') LIKE '%' || replace(hex(zeroblob(600)), '0', 'a') || 'b'", 0},
        {"SELECT substr(replace(hex(zeroblob(400000)), '00', 'abcd'), 1, 5)", 0},
        /* stacked statements and bad text */
        {"SELECT 1; DROP TABLE singer", 0},
        {"SELECT 1; SELECT 2", 0},
        {"SELECT * FROM singer; PRAGMA writable_schema=1; UPDATE sqlite_master SET sql=''", 0},
        {nul_sql, sizeof nul_src - 1},
        {bad_utf8, 0},
        {longsql, 0},
        {deep, 0},
        {likepat, 0},
        {compound, 0},
    };
    size_t n = sizeof corpus / sizeof corpus[0];
    CHECK(n >= 40, "corpus has %zu statements", n);
    int refused = 0, errors = 0, timeouts = 0, truncated = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = corpus[i].len ? corpus[i].len : strlen(corpus[i].sql);
        srlm_sql_result *r = NULL;
        double t0 = now_ms();
        srlm_status st = srlm_sql_exec(db, corpus[i].sql, len, DEADLINE_MS, &r);
        double dt = now_ms() - t0;
        if (dt > worst) worst = dt;
        CHECK(st == NULL, "%s #%zu: exec returned a status: %s", label, i, srlm_status_msg(st));
        srlm_status_free(st);
        if (!r) continue;
        CHECK(dt < DEADLINE_MS + 1000, "%s #%zu took %.0f ms: %.60s", label, i, dt, corpus[i].sql);
        int ok = r->outcome != SRLM_SQL_ROWS || r->truncated;
        CHECK(ok, "%s #%zu was neither refused, failed, timed out nor truncated (%zu rows): %.80s", label, i,
              r->nrows, corpus[i].sql);
        if (r->outcome == SRLM_SQL_REFUSED) refused++;
        else if (r->outcome == SRLM_SQL_ERROR) errors++;
        else if (r->outcome == SRLM_SQL_TIMEOUT) timeouts++;
        else if (r->truncated) truncated++;
        if (getenv("SRLM_TEST_VERBOSE"))
            printf("  %s #%zu %.0f ms %s%s: %.60s\n", label, i, dt, r->error ? r->error : "rows",
                   r->truncated ? " (truncated)" : "", corpus[i].sql);
        srlm_sql_result_free(r);
    }
    printf("%s: %zu hostile statements: %d refused, %d SQLite errors, %d timeouts, %d truncated; slowest %.0f ms "
           "(deadline %d ms)\n", label, n, refused, errors, timeouts, truncated, worst, DEADLINE_MS);
    CHECK(timeouts >= 3, "expected some timeouts, got %d", timeouts);
    CHECK(refused >= 40, "expected most to be refused, got %d", refused);
    /* the process and the connection keep going */
    srlm_sql_result *r = NULL;
    CHECK_OK(srlm_sql_exec(db, "SELECT count(*) FROM singer", 27, DEADLINE_MS, &r));
    CHECK(r && r->outcome == SRLM_SQL_ROWS && r->nrows == 1 && srlm_sql_cell(r, 0, 0)->i == 6,
          "count(*) after the corpus");
    srlm_sql_result_free(r);
}

static void corpus_on(const char *db_path, const char *watch_dir, const char *tmp, int immutable, const char *label) {
    size_t n0 = 0, n1 = 0;
    char *before = read_all(db_path, &n0);
    CHECK(before != NULL, "read %s", db_path);
    char list0[4096], list1[4096], tl0[4096], tl1[4096];
    listing(watch_dir, list0, sizeof list0);
    listing(tmp, tl0, sizeof tl0);
    srlm_sql_limits lim;
    srlm_sql_limits_default(&lim);
    lim.deadline_ms = DEADLINE_MS;
    lim.max_rows = 10000;
    lim.max_bytes = 1 << 20;
    lim.immutable = immutable;
    srlm_sql_db *db = NULL;
    CHECK_OK(srlm_sql_open(db_path, &lim, &db));
    if (db) run_corpus(db, tmp, label);
    srlm_sql_close(db);
    char *after = read_all(db_path, &n1);
    CHECK(after && n0 == n1 && !memcmp(before, after, n0), "%s: database bytes changed", label);
    printf("%s: fnv64 before %016llx after %016llx (%zu bytes)\n", label, (unsigned long long)fnv64(before, n0),
           after ? (unsigned long long)fnv64(after, n1) : 0ULL, n1);
    listing(watch_dir, list1, sizeof list1);
    listing(tmp, tl1, sizeof tl1);
    CHECK(!strcmp(list0, list1), "%s: files in %s changed:\nbefore:\n%safter:\n%s", label, watch_dir, list0, list1);
    CHECK(!strcmp(tl0, tl1), "%s: files in %s changed:\nbefore:\n%safter:\n%s", label, tmp, tl0, tl1);
    free(before);
    free(after);
}

static void copy_file(const char *from, const char *to) {
    size_t n = 0;
    char *b = read_all(from, &n);
    CHECK(b && write_all(to, b, n) == 0, "copy %s -> %s", from, to);
    free(b);
}

static void test_types_and_errors(const char *path) {
    srlm_sql_db *db = NULL;
    CHECK_OK(srlm_sql_open(path, NULL, &db));
    if (!db) return;
    const char *q = "SELECT NULL AS n, 1 AS i, 1.5 AS r, 'caf\xc3\xa9' AS t, x'00ff' AS b, 9223372036854775807 AS big";
    srlm_sql_result *r = NULL;
    CHECK_OK(srlm_sql_exec(db, q, strlen(q), -1, &r));
    if (r) {
        CHECK(r->outcome == SRLM_SQL_ROWS && r->ncols == 6 && r->nrows == 1, "shape %d x %zu", r->ncols, r->nrows);
        const char *names[] = {"n", "i", "r", "t", "b", "big"};
        for (int c = 0; c < 6 && c < r->ncols; c++) CHECK(!strcmp(r->colnames[c], names[c]), "column %d is %s", c, r->colnames[c]);
        if (r->nrows == 1 && r->ncols == 6) {
            CHECK(srlm_sql_cell(r, 0, 0)->type == SRLM_SQL_NULL, "NULL type");
            CHECK(srlm_sql_cell(r, 0, 1)->type == SRLM_SQL_INTEGER && srlm_sql_cell(r, 0, 1)->i == 1, "integer");
            CHECK(srlm_sql_cell(r, 0, 2)->type == SRLM_SQL_REAL && srlm_sql_cell(r, 0, 2)->r == 1.5, "real");
            CHECK(srlm_sql_cell(r, 0, 3)->type == SRLM_SQL_TEXT && srlm_sql_cell(r, 0, 3)->n == 5 &&
                  !memcmp(srlm_sql_cell(r, 0, 3)->s, "caf\xc3\xa9", 5), "text");
            CHECK(srlm_sql_cell(r, 0, 4)->type == SRLM_SQL_BLOB && srlm_sql_cell(r, 0, 4)->n == 2 &&
                  (unsigned char)srlm_sql_cell(r, 0, 4)->s[1] == 0xff, "blob");
            CHECK(srlm_sql_cell(r, 0, 5)->i == INT64_MAX, "int64 max");
        }
        char *fb = NULL;
        CHECK_OK(srlm_sql_result_feedback(r, 3, &fb));
        CHECK(fb && !strcmp(fb, "n | i | r | t | b | big\nNULL | 1 | 1.5 | caf\xc3\xa9 | x'00ff' | 9223372036854775807"),
              "feedback '%s'", fb ? fb : "");
        free(fb);
    }
    srlm_sql_result_free(r);
    /* SQLite's own message is kept */
    r = NULL;
    CHECK_OK(srlm_sql_exec(db, "SELECT * FROM nope", 18, -1, &r));
    CHECK(r && r->outcome == SRLM_SQL_ERROR && r->error && !strcmp(r->error, "no such table: nope"), "error '%s'",
          r && r->error ? r->error : "");
    char *fb = NULL;
    if (r) CHECK_OK(srlm_sql_result_feedback(r, 3, &fb));
    CHECK(fb && !strcmp(fb, "error: no such table: nope"), "feedback '%s'", fb ? fb : "");
    free(fb);
    srlm_sql_result_free(r);
    /* feedback: 3 rows at most, the total after; empty results say so */
    const char *q2 = "SELECT Name FROM singer ORDER BY Singer_ID";
    CHECK_OK(srlm_sql_exec(db, q2, strlen(q2), -1, &r));
    fb = NULL;
    if (r) CHECK_OK(srlm_sql_result_feedback(r, 3, &fb));
    CHECK(fb && !strcmp(fb, "Name\nJoe Sharp\nTimbaland\nJustin Brown\n... (6 rows in total)"), "feedback '%s'", fb ? fb : "");
    free(fb);
    srlm_sql_result_free(r);
    const char *q3 = "SELECT Name FROM singer WHERE 0";
    CHECK_OK(srlm_sql_exec(db, q3, strlen(q3), -1, &r));
    fb = NULL;
    if (r) CHECK_OK(srlm_sql_result_feedback(r, 3, &fb));
    CHECK(fb && !strcmp(fb, "Name\n(no rows)"), "feedback '%s'", fb ? fb : "");
    free(fb);
    srlm_sql_result_free(r);
    /* one statement; trailing semicolons and comments are fine */
    const char *ok_tails[] = {"SELECT 1;", "SELECT 1 ;; ", "SELECT 1; -- done", "SELECT 1 /* c */ ;\n", "  select 1"};
    for (size_t i = 0; i < 5; i++) {
        CHECK_OK(srlm_sql_exec(db, ok_tails[i], strlen(ok_tails[i]), -1, &r));
        CHECK(r && r->outcome == SRLM_SQL_ROWS && r->nrows == 1, "'%s' -> %s", ok_tails[i], r && r->error ? r->error : "rows");
        srlm_sql_result_free(r);
    }
    const char *empty[] = {"", "   ", "-- nothing", ";"};
    for (size_t i = 0; i < 4; i++) {
        CHECK_OK(srlm_sql_exec(db, empty[i], strlen(empty[i]), -1, &r));
        CHECK(r && r->outcome == SRLM_SQL_ERROR, "empty '%s' is an error", empty[i]);
        srlm_sql_result_free(r);
    }
    /* read-only pragmas and schema functions the model may use */
    const char *reads[] = {"PRAGMA table_info(singer)", "SELECT name FROM pragma_table_info('singer')",
                           "SELECT * FROM pragma_foreign_key_list('concert')", "SELECT sql FROM sqlite_master",
                           "SELECT value FROM json_each('[1,2,3]')", "SELECT printf('%.2f', 3.14159)",
                           "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT sum(x) FROM c"};
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        CHECK_OK(srlm_sql_exec(db, reads[i], strlen(reads[i]), -1, &r));
        CHECK(r && r->outcome == SRLM_SQL_ROWS && r->nrows > 0, "'%s' -> %s", reads[i], r && r->error ? r->error : "rows");
        srlm_sql_result_free(r);
    }
    CHECK_OK(srlm_sql_exec(db, reads[5], strlen(reads[5]), -1, &r));
    CHECK(r && r->nrows == 1 && srlm_sql_cell(r, 0, 0)->type == SRLM_SQL_TEXT && !strcmp(srlm_sql_cell(r, 0, 0)->s, "3.14"),
          "printf through the guard");
    srlm_sql_result_free(r);
    srlm_sql_close(db);
}

static void test_bad_files(const char *tmp, const char *good) {
    char p[600];
    srlm_sql_db *db = NULL;
    snprintf(p, sizeof p, "%s/missing.sqlite", tmp);
    CHECK_ERR(srlm_sql_open(p, NULL, &db), SRLM_ERR_IO, "missing.sqlite");
    CHECK_ERR(srlm_sql_open(tmp, NULL, &db), SRLM_ERR_IO, "not a regular file");
    snprintf(p, sizeof p, "%s/text.sqlite", tmp);
    write_all(p, "hello, I am not a database\n", 27);
    CHECK_ERR(srlm_sql_open(p, NULL, &db), SRLM_ERR_FORMAT, "not a SQLite database");
    unlink(p);
    snprintf(p, sizeof p, "%s/empty.sqlite", tmp);
    write_all(p, "", 0);
    CHECK_ERR(srlm_sql_open(p, NULL, &db), SRLM_ERR_FORMAT, "empty");
    unlink(p);
    /* a real header followed by garbage */
    size_t n = 0;
    char *b = read_all(good, &n);
    if (b) {
        for (size_t i = 100; i < n; i++) b[i] = (char)(i * 131 + 7);
        snprintf(p, sizeof p, "%s/corrupt.sqlite", tmp);
        write_all(p, b, n);
        CHECK_ERR(srlm_sql_open(p, NULL, &db), SRLM_ERR_FORMAT, "corrupt.sqlite");
        unlink(p);
        free(b);
    }
    CHECK(db == NULL, "no handle after failures");
}

/* Cartesian products of the largest tables of car_1 (406 x 406 x ...) on a copy. */
static void test_car(const char *shared, const char *tmp) {
    char orig[600], copy[700];
    snprintf(orig, sizeof orig, "%s/spider/database/car_1/car_1.sqlite", shared);
    snprintf(copy, sizeof copy, "%s/car_1.sqlite", tmp);
    if (access(orig, R_OK) != 0) { printf("car_1 absent: cartesian checks skipped\n"); return; }
    copy_file(orig, copy);
    size_t n0 = 0, n1 = 0;
    char *before = read_all(copy, &n0);
    srlm_sql_limits lim;
    srlm_sql_limits_default(&lim);
    lim.deadline_ms = DEADLINE_MS;
    lim.max_rows = 10000;
    srlm_sql_db *db = NULL;
    CHECK_OK(srlm_sql_open(copy, &lim, &db));
    const char *q[] = {
        "SELECT count(*) FROM cars_data a, cars_data b, cars_data c",
        "SELECT * FROM cars_data a, car_names b",
        "SELECT a.Id, b.MakeId FROM cars_data a, car_names b ORDER BY a.MPG * b.MakeId DESC",
        "SELECT group_concat(a.Horsepower || b.Model) FROM cars_data a, car_names b, model_list c",
        "SELECT DISTINCT a.Id + b.MakeId * 1000 + c.ModelId * 1000000 FROM cars_data a, car_names b, model_list c",
    };
    for (size_t i = 0; db && i < sizeof q / sizeof *q; i++) {
        srlm_sql_result *r = NULL;
        double t0 = now_ms();
        CHECK_OK(srlm_sql_exec(db, q[i], strlen(q[i]), -1, &r));
        double dt = now_ms() - t0;
        CHECK(r && (r->outcome != SRLM_SQL_ROWS || r->truncated), "car_1 #%zu: %s", i, r && r->error ? r->error : "full result");
        CHECK(dt < DEADLINE_MS + 1000, "car_1 #%zu took %.0f ms", i, dt);
        printf("  car_1 #%zu: %.0f ms, %s%s\n", i, dt, r && r->error ? r->error : "rows", r && r->truncated ? " (truncated)" : "");
        srlm_sql_result_free(r);
    }
    srlm_sql_close(db);
    char *after = read_all(copy, &n1);
    CHECK(before && after && n0 == n1 && !memcmp(before, after, n0), "car_1 bytes unchanged");
    free(before);
    free(after);
    unlink(copy);
}

typedef struct worker { const char *path; int ok; } worker;

static void *work(void *arg) {
    worker *w = arg;
    srlm_sql_db *db = NULL;
    srlm_status st = srlm_sql_open(w->path, NULL, &db);
    if (st) { srlm_status_free(st); return NULL; }
    w->ok = 1;
    for (int i = 0; i < 200; i++) {
        char q[128];
        snprintf(q, sizeof q, "SELECT count(*) + %d FROM singer a, singer b", i);
        srlm_sql_result *r = NULL;
        st = srlm_sql_exec(db, q, strlen(q), 1000, &r);
        if (st || !r || r->nrows != 1 || srlm_sql_cell(r, 0, 0)->i != 36 + i) w->ok = 0;
        srlm_status_free(st);
        srlm_sql_result_free(r);
    }
    srlm_sql_close(db);
    return NULL;
}

int main(void) {
    const char *shared = test_shared_data();
    char orig[600];
    if (shared) snprintf(orig, sizeof orig, "%s/spider/database/concert_singer/concert_singer.sqlite", shared);
    if (!shared || access(orig, R_OK) != 0) {
        printf("SKIP: Spider databases not found under SRLM_SHARED_DATA (../shared/data)\n");
        return TEST_SKIP;
    }
    char tmp[] = "/tmp/srlm_sandbox_XXXXXX";
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    char copy[700];
    snprintf(copy, sizeof copy, "%s/concert_singer.sqlite", tmp);
    copy_file(orig, copy);

    test_types_and_errors(copy);
    test_bad_files(tmp, copy);
    corpus_on(copy, tmp, tmp, 1, "copy (immutable)");
    corpus_on(copy, tmp, tmp, 0, "copy (locking)");
    char orig_dir[600];
    snprintf(orig_dir, sizeof orig_dir, "%s/spider/database/concert_singer", shared);
    corpus_on(orig, orig_dir, tmp, 1, "original");

    test_car(shared, tmp);

    worker w[2] = {{copy, 0}, {copy, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, work, &w[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(w[0].ok && w[1].ok, "two threads, one connection each, 200 queries each");

    unlink(copy);
    rmdir(tmp);
    return test_finish("test_sql_sandbox");
}
