/* test_sql_eval.c: the execution-accuracy evaluator. Gold SQL scored as the prediction gives
 * 247/247 on the Spider questions in ../shared/data/spider, and every gold result equals the
 * reference rows executed by Python's sqlite3 (gold_results/dev_5db_gold_results.jsonl). A
 * project-made BIRD fixture checks BIRD's rules and the per-difficulty summary. Also: the
 * predictions file formats, data files with missing fields, reports and run-database rows. */
#include "test.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = b ? fread(b, 1, (size_t)n, f) : 0;
    if (b) b[got] = '\0';
    fclose(f);
    return b;
}

static void spit(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static srlm_status gold_as_prediction(void *ctx, size_t i, const srlm_sql_example *ex, char **sql) {
    (void)ctx; (void)i;
    *sql = strdup(ex->gold_sql);
    return *sql ? NULL : srlm_errorf(SRLM_ERR_OOM, "oom");
}

static srlm_status failing_predictor(void *ctx, size_t i, const srlm_sql_example *ex, char **sql) {
    (void)ctx;
    *sql = NULL;
    if (i == 100) return srlm_errorf(SRLM_ERR_INVALID, "predictor failed at %zu", i);
    *sql = strdup(ex->gold_sql);
    return NULL;
}

typedef struct preds { char **p; size_t n; } preds;
static srlm_status from_list(void *ctx, size_t i, const srlm_sql_example *ex, char **sql) {
    (void)ex;
    preds *p = ctx;
    *sql = i < p->n ? strdup(p->p[i]) : NULL;
    return NULL;
}

/* Python-equality of one SQLite value and one JSON value from the reference file. */
static int json_value_eq(const srlm_sql_value *v, const cJSON *j) {
    switch (v->type) {
    case SRLM_SQL_NULL: return cJSON_IsNull(j);
    case SRLM_SQL_INTEGER: return cJSON_IsNumber(j) && (double)v->i == j->valuedouble;
    case SRLM_SQL_REAL: return cJSON_IsNumber(j) && v->r == j->valuedouble;
    case SRLM_SQL_TEXT: return cJSON_IsString(j) && strlen(j->valuestring) == v->n && !memcmp(j->valuestring, v->s, v->n);
    case SRLM_SQL_BLOB: return 0;
    }
    return 0;
}

static void test_spider_gold(const char *shared) {
    char data[600], dbdir[600], ref[600];
    snprintf(data, sizeof data, "%s/spider/dev_5db.json", shared);
    snprintf(dbdir, sizeof dbdir, "%s/spider/database", shared);
    snprintf(ref, sizeof ref, "%s/spider/gold_results/dev_5db_gold_results.jsonl", shared);
    srlm_sql_dataset *d = NULL;
    CHECK_OK(srlm_sql_dataset_load(data, SRLM_SQL_DATA_AUTO, &d));
    if (!d) return;
    CHECK(srlm_sql_dataset_count(d) == 247, "247 questions, got %zu", srlm_sql_dataset_count(d));
    CHECK(srlm_sql_dataset_format(d) == SRLM_SQL_DATA_SPIDER, "detected Spider");
    srlm_sql_eval_opts o = {0};
    o.db_dir = dbdir;
    srlm_sql_eval_report *r = NULL;
    CHECK_OK(srlm_sql_eval_run(d, &o, gold_as_prediction, NULL, &r));
    if (r) {
        printf("Spider gold as prediction: %zu/%zu correct in %.3f s\n", srlm_sql_eval_correct(r), srlm_sql_eval_count(r),
               srlm_sql_eval_seconds(r));
        CHECK(srlm_sql_eval_correct(r) == 247 && srlm_sql_eval_count(r) == 247, "247/247, got %zu/%zu",
              srlm_sql_eval_correct(r), srlm_sql_eval_count(r));
        for (size_t i = 0; i < srlm_sql_eval_count(r); i++) {
            const srlm_sql_verdict *v = srlm_sql_eval_verdict(r, i);
            if (!v->correct) printf("  #%zu: %s / %s\n", i, v->error ? v->error : "wrong", v->gold_error ? v->gold_error : "");
        }
        char *s = NULL;
        CHECK_OK(srlm_sql_eval_summary(r, &s));
        CHECK(s && strstr(s, "execution accuracy: 1.0000 (247/247)\n"), "summary:\n%s", s ? s : "");
        size_t n = s ? strlen(s) : 0;
        CHECK(n && !strcmp(s + n - strlen("execution accuracy: 1.0000 (247/247)\n"), "execution accuracy: 1.0000 (247/247)\n"),
              "the summary ends with the accuracy line");
        free(s);
    }
    srlm_sql_eval_report_free(r);

    /* with two scoring threads: same verdicts; a predictor error stops the run and is returned */
    o.jobs = 2;
    r = NULL;
    CHECK_OK(srlm_sql_eval_run(d, &o, gold_as_prediction, NULL, &r));
    CHECK(r && srlm_sql_eval_correct(r) == 247, "2 jobs: %zu/247", r ? srlm_sql_eval_correct(r) : 0);
    if (r) printf("Spider gold as prediction, 2 scoring threads: %.3f s\n", srlm_sql_eval_seconds(r));
    srlm_sql_eval_report_free(r);
    for (int jobs = 1; jobs <= 3; jobs += 2) {
        o.jobs = jobs;
        CHECK_ERR(srlm_sql_eval_run(d, &o, failing_predictor, NULL, &r), SRLM_ERR_INVALID, "predictor failed at 100");
    }
    o.jobs = 0;

    /* every gold result equals the reference rows (same SQLite version, same row order) */
    char *text = slurp(ref);
    CHECK(text != NULL, "read %s", ref);
    size_t checked = 0, equal = 0;
    srlm_sql_db *db = NULL;
    char cur[128] = "";
    for (char *line = text; line && *line; ) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        line = nl ? nl + 1 : NULL;
        if (!j) continue;
        const char *db_id = cJSON_GetObjectItem(j, "db_id")->valuestring;
        const char *sql = cJSON_GetObjectItem(j, "gold_sql")->valuestring;
        if (strcmp(cur, db_id)) {
            srlm_sql_close(db);
            db = NULL;
            char p[800];
            snprintf(p, sizeof p, "%s/%s/%s.sqlite", dbdir, db_id, db_id);
            CHECK_OK(srlm_sql_open(p, NULL, &db));
            snprintf(cur, sizeof cur, "%s", db_id);
        }
        srlm_sql_result *res = NULL;
        if (db) CHECK_OK(srlm_sql_exec(db, sql, strlen(sql), 60000, &res));
        checked++;
        const cJSON *rows = cJSON_GetObjectItem(j, "rows");
        int ok = res && res->outcome == SRLM_SQL_ROWS && cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")) &&
                 (size_t)cJSON_GetArraySize(rows) == res->nrows &&
                 (res->nrows == 0 || cJSON_GetObjectItem(j, "ncols")->valueint == res->ncols);
        size_t ri = 0;
        for (const cJSON *row = rows ? rows->child : NULL; ok && row; row = row->next, ri++) {
            int ci = 0;
            for (const cJSON *c = row->child; ok && c; c = c->next, ci++)
                ok = ci < res->ncols && json_value_eq(srlm_sql_cell(res, ri, ci), c);
        }
        if (ok) equal++;
        else printf("  reference mismatch: %s\n", sql);
        srlm_sql_result_free(res);
        cJSON_Delete(j);
    }
    srlm_sql_close(db);
    free(text);
    printf("gold results equal to the reference file: %zu/%zu\n", equal, checked);
    CHECK(checked == 247 && equal == 247, "reference rows %zu/%zu", equal, checked);
    srlm_sql_dataset_free(d);
}

static int build_fixture(const char *src_root, const char *dbdir) {
    char sqlp[600], dir[700], dbp[800];
    snprintf(sqlp, sizeof sqlp, "%s/tests/data/bird_mini/bird_mini.sql", src_root);
    snprintf(dir, sizeof dir, "%s/bird_mini", dbdir);
    snprintf(dbp, sizeof dbp, "%s/bird_mini.sqlite", dir);
    mkdir(dir, 0777);
    char *script = slurp(sqlp);
    if (!script) return -1;
    sqlite3 *h = NULL;
    int rc = sqlite3_open(dbp, &h);
    if (rc == SQLITE_OK) rc = sqlite3_exec(h, script, NULL, NULL, NULL);
    sqlite3_close(h);
    free(script);
    return rc == SQLITE_OK ? 0 : -1;
}

static void test_bird(const char *src_root, const char *tmp) {
    CHECK(build_fixture(src_root, tmp) == 0, "build the BIRD fixture");
    char data[600], predp[600];
    snprintf(data, sizeof data, "%s/tests/data/bird_mini/bird_mini.json", src_root);
    snprintf(predp, sizeof predp, "%s/tests/data/bird_mini/predictions.sql", src_root);
    srlm_sql_dataset *d = NULL;
    CHECK_OK(srlm_sql_dataset_load(data, SRLM_SQL_DATA_AUTO, &d));
    if (!d) return;
    CHECK(srlm_sql_dataset_format(d) == SRLM_SQL_DATA_BIRD, "detected BIRD");
    const srlm_sql_example *e = srlm_sql_dataset_get(d, 2);
    CHECK(e && e->evidence && !strcmp(e->evidence, "total enrollment = SUM(enrollment)") && !strcmp(e->difficulty, "moderate"),
          "evidence and difficulty");
    preds p = {0};
    CHECK_OK(srlm_sql_predictions_load(predp, 6, &p.p, &p.n));
    srlm_sql_eval_opts o = {0};
    o.db_dir = tmp;
    srlm_sql_eval_report *r = NULL;
    CHECK_OK(srlm_sql_eval_run(d, &o, from_list, &p, &r));
    if (r) {
        int want[6] = {1, 1, 0, 0, 1, 0};
        for (size_t i = 0; i < 6; i++) {
            const srlm_sql_verdict *v = srlm_sql_eval_verdict(r, i);
            CHECK(v && v->correct == want[i], "BIRD question %zu: correct=%d want %d (%s)", i, v ? v->correct : -1, want[i],
                  v && v->error ? v->error : "");
        }
        const srlm_sql_verdict *v5 = srlm_sql_eval_verdict(r, 5);
        CHECK(v5 && v5->error && strstr(v5->error, "no such table: scorez"), "SQLite's message kept: %s", v5 && v5->error ? v5->error : "");
        char *s = NULL;
        CHECK_OK(srlm_sql_eval_summary(r, &s));
        if (s) printf("%s", s);
        CHECK(s && strstr(s, "simple") && strstr(s, "moderate") && strstr(s, "challenging") && strstr(s, "total"), "levels");
        CHECK(s && strstr(s, "accuracy         1.0000       0.0000       0.5000       0.5000\n"), "per-difficulty accuracy");
        CHECK(s && strstr(s, "count                 2            2            2            6\n"), "per-difficulty count");
        size_t n = s ? strlen(s) : 0;
        const char *last = "execution accuracy: 0.5000 (3/6)\n";
        CHECK(n > strlen(last) && !strcmp(s + n - strlen(last), last), "final line");
        free(s);

        /* JSON report and run-database rows */
        char jp[700], rp[700];
        snprintf(jp, sizeof jp, "%s/report.json", tmp);
        snprintf(rp, sizeof rp, "%s/run.db", tmp);
        CHECK_OK(srlm_sql_eval_write_json(r, jp));
        char *js = slurp(jp);
        cJSON *j = js ? cJSON_Parse(js) : NULL;
        CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "verdicts")) == 6, "6 verdicts in the JSON report");
        const cJSON *v3 = j ? cJSON_GetArrayItem(cJSON_GetObjectItem(j, "verdicts"), 3) : NULL;
        CHECK(v3 && !strcmp(cJSON_GetObjectItem(v3, "verdict")->valuestring, "wrong") &&
              strstr(cJSON_GetObjectItem(v3, "gold_sql")->valuestring, "free_meal_rate") &&
              strstr(cJSON_GetObjectItem(v3, "predicted_sql")->valuestring, "free_meal_rate, name"), "verdict 3 in JSON");
        const cJSON *bd = j ? cJSON_GetObjectItem(cJSON_GetObjectItem(j, "by_difficulty"), "challenging") : NULL;
        CHECK(bd && cJSON_GetObjectItem(bd, "correct")->valueint == 1, "by_difficulty in JSON");
        cJSON_Delete(j);
        free(js);
        srlm_rundb *rdb = NULL;
        CHECK_OK(srlm_rundb_open(rp, &rdb));
        int64_t run = 0;
        if (rdb) CHECK_OK(srlm_rundb_run_begin(rdb, "eval", "{}", "cpu", &run));
        if (rdb) CHECK_OK(srlm_sql_eval_write_rundb(r, rdb, run, "bird_mini"));
        srlm_rundb_close(rdb);
        sqlite3 *h = NULL;
        sqlite3_open(rp, &h);
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(h, "SELECT count(*), sum(verdict = 'correct'), sum(verdict = 'error') FROM evaluations "
                              "WHERE dataset = 'bird_mini'", -1, &st, NULL);
        CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 6 && sqlite3_column_int(st, 1) == 3 &&
              sqlite3_column_int(st, 2) == 1, "evaluations rows");
        sqlite3_finalize(st);
        sqlite3_close(h);
    }
    srlm_sql_eval_report_free(r);
    /* the same predictions under Spider's rule: the swapped columns (3) now match */
    o.rule = SRLM_SQL_RULE_SPIDER;
    o.rule_set = 1;
    r = NULL;
    CHECK_OK(srlm_sql_eval_run(d, &o, from_list, &p, &r));
    CHECK(r && srlm_sql_eval_verdict(r, 3)->correct && srlm_sql_eval_correct(r) == 4, "Spider rule on BIRD data: %zu",
          r ? srlm_sql_eval_correct(r) : 0);
    srlm_sql_eval_report_free(r);
    srlm_sql_predictions_free(p.p, p.n);
    /* a missing database is an error naming it */
    o.db_dir = "/nonexistent";
    CHECK_ERR(srlm_sql_eval_run(d, &o, gold_as_prediction, NULL, &r), SRLM_ERR_IO, "bird_mini");
    srlm_sql_dataset_free(d);
}

static void test_files(const char *tmp) {
    char p[700];
    char **v = NULL;
    size_t n = 0;
    snprintf(p, sizeof p, "%s/pred.txt", tmp);
    spit(p, "SELECT 1\tconcert_singer\n\n  SELECT 2  \r\nSELECT\t3\n");
    CHECK_OK(srlm_sql_predictions_load(p, 3, &v, &n));
    CHECK(n == 3 && !strcmp(v[0], "SELECT 1") && !strcmp(v[1], "SELECT 2") && !strcmp(v[2], "SELECT"),
          "lines: blank skipped, stripped, tab suffix dropped");
    srlm_sql_predictions_free(v, n);
    CHECK_ERR(srlm_sql_predictions_load(p, 4, &v, &n), SRLM_ERR_FORMAT, "3 predictions for 4 questions");
    spit(p, " [\"SELECT 1\", \"SELECT\\n2\"]");
    CHECK_OK(srlm_sql_predictions_load(p, 2, &v, &n));
    CHECK(n == 2 && !strcmp(v[1], "SELECT\n2"), "JSON list");
    srlm_sql_predictions_free(v, n);
    spit(p, "{\"1\": \"SELECT 2\\t----- bird -----\\tdb\", \"0\": \"SELECT 1\"}");
    CHECK_OK(srlm_sql_predictions_load(p, 2, &v, &n));
    CHECK(n == 2 && !strcmp(v[0], "SELECT 1") && !strcmp(v[1], "SELECT 2"), "BIRD's JSON object");
    srlm_sql_predictions_free(v, n);
    spit(p, "{\"0\": \"SELECT 1\", \"2\": \"SELECT 2\"}");
    CHECK_ERR(srlm_sql_predictions_load(p, 0, &v, &n), SRLM_ERR_FORMAT, "key '2'");
    spit(p, "[\"SELECT 1\", 7]");
    CHECK_ERR(srlm_sql_predictions_load(p, 0, &v, &n), SRLM_ERR_FORMAT, "entry 1");

    srlm_sql_dataset *d = NULL;
    spit(p, "[{\"question\": \"q\", \"query\": \"SELECT 1\", \"db_id\": \"a\"}, {\"question\": \"q\", \"query\": \"SELECT 1\"}]");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_FORMAT, "entry 1: missing field 'db_id'");
    spit(p, "[{\"question\": \"q\", \"SQL\": \"SELECT 1\", \"db_id\": \"a\", \"evidence\": \"\"}]");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_FORMAT, "entry 0: missing field 'difficulty'");
    spit(p, "[{\"question\": \"q\", \"query\": 5, \"db_id\": \"a\"}]");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_SPIDER, &d), SRLM_ERR_FORMAT, "field 'query' is not a string");
    spit(p, "[{\"question\": \"q\", \"db_id\": \"a\"}]");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_FORMAT, "neither");
    spit(p, "{\"question\": 1}");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_FORMAT, "list");
    spit(p, "[{\"question\": ");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_FORMAT, "not valid JSON");
    spit(p, "[{\"question\": \"q\", \"query\": \"SELECT 1\", \"db_id\": \"../etc\"}]");
    CHECK_ERR(srlm_sql_dataset_load(p, SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_FORMAT, "not a plain name");
    CHECK_ERR(srlm_sql_dataset_load("/nonexistent/dev.json", SRLM_SQL_DATA_AUTO, &d), SRLM_ERR_IO, "dev.json");
    unlink(p);
}

/* Spider's test-suite rule: every "*.sqlite" of the folder must agree; BIRD uses the main file.
 * Also Spider's errors="ignore" text decoding. */
static void test_suite_dbs(const char *shared, const char *tmp) {
    char orig[600], dir[800], variant[900], data[900];
    snprintf(orig, sizeof orig, "%s/spider/database/concert_singer/concert_singer.sqlite", shared);
    snprintf(dir, sizeof dir, "%s/ts/concert_singer", tmp);
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/concert_singer.sqlite' && cp '%s' '%s/concert_singer_2.sqlite'",
             dir, orig, dir, orig, dir);
    CHECK(system(cmd) == 0, "copy databases");
    snprintf(variant, sizeof variant, "%s/concert_singer_2.sqlite", dir);
    sqlite3 *h = NULL;
    sqlite3_open(variant, &h);
    CHECK(sqlite3_exec(h, "UPDATE singer SET Age = 53 WHERE Singer_ID = 1", NULL, NULL, NULL) == SQLITE_OK, "variant");
    sqlite3_close(h);
    snprintf(data, sizeof data, "%s/ts.json", tmp);
    spit(data, "[{\"question\": \"Who is 52?\", \"query\": \"SELECT Name FROM singer WHERE Age = 52\", \"db_id\": \"concert_singer\"},"
               " {\"question\": \"Who is 52?\", \"query\": \"SELECT Name FROM singer WHERE Age = 52\", \"db_id\": \"concert_singer\"},"
               " {\"question\": \"text\", \"query\": \"SELECT 'caf'\", \"db_id\": \"concert_singer\"}]");
    srlm_sql_dataset *d = NULL;
    CHECK_OK(srlm_sql_dataset_load(data, SRLM_SQL_DATA_AUTO, &d));
    if (!d) return;
    char *pl[3] = {"SELECT 'Joe Sharp'", "SELECT Name FROM singer WHERE Age BETWEEN 52 AND 52",
                   "SELECT CAST(x'6361ff66' AS TEXT)"};
    preds p = {pl, 3};
    char ts[900];
    snprintf(ts, sizeof ts, "%s/ts", tmp);
    srlm_sql_eval_opts o = {0};
    o.db_dir = ts;
    srlm_sql_eval_report *r = NULL;
    CHECK_OK(srlm_sql_eval_run(d, &o, from_list, &p, &r));
    CHECK(r && !srlm_sql_eval_verdict(r, 0)->correct, "a constant answer fails on the second database of the suite");
    CHECK(r && srlm_sql_eval_verdict(r, 1)->correct, "an equivalent query passes on both databases");
    CHECK(r && srlm_sql_eval_verdict(r, 2)->correct, "invalid UTF-8 bytes are ignored as Spider's evaluator does");
    srlm_sql_eval_report_free(r);
    o.rule = SRLM_SQL_RULE_BIRD;
    o.rule_set = 1;
    CHECK_OK(srlm_sql_eval_run(d, &o, from_list, &p, &r));
    CHECK(r && srlm_sql_eval_verdict(r, 0)->correct, "BIRD's rule uses the main database only");
    CHECK(r && !srlm_sql_eval_verdict(r, 2)->correct, "BIRD's rule compares the bytes");
    srlm_sql_eval_report_free(r);
    srlm_sql_dataset_free(d);
    unlink(data);
}

int main(void) {
    const char *shared = test_shared_data();
    const char *src = getenv("SRLM_SOURCE_ROOT");
    char tmp[] = "/tmp/srlm_eval_XXXXXX";
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    test_files(tmp);
    if (src) test_bird(src, tmp);
    else printf("SRLM_SOURCE_ROOT not set: BIRD fixture skipped\n");
    char ref[600];
    if (shared) snprintf(ref, sizeof ref, "%s/spider/dev_5db.json", shared);
    int skipped = !shared || access(ref, R_OK) != 0;
    if (!skipped) test_spider_gold(shared);
    if (!skipped) test_suite_dbs(shared, tmp);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "cleanup of %s failed\n", tmp);
    if (skipped) {
        printf("SKIP: Spider data not found under SRLM_SHARED_DATA (the checks above ran)\n");
        return test_failures ? 1 : TEST_SKIP;
    }
    return test_finish("test_sql_eval");
}
