/* test_rundb.c: the run database: schema and version, runs, batched metrics, checkpoints,
 * samples, evaluations; reopening appends; newer schema versions and foreign files are
 * refused. Reads the file back with plain SQLite. */
#include "test.h"

#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

static long long q1(sqlite3 *h, const char *sql) {
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    else fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(h));
    sqlite3_finalize(s);
    return v;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void) {
    char tmp[] = "/tmp/srlm_rundb_XXXXXX";
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    char path[256], other[256];
    snprintf(path, sizeof path, "%s/run.db", tmp);
    srlm_rundb *db = NULL;
    CHECK_OK(srlm_rundb_open(path, &db));
    if (!db) return test_finish("test_rundb");
    int64_t run = 0;
    CHECK_OK(srlm_rundb_run_begin(db, "train sft", "{\"lr\":4e-5}", "lavapipe (llvmpipe)", &run));
    CHECK(run == 1, "first run id %lld", (long long)run);
    double t0 = now_s();
    const int N = 20000;
    for (int i = 0; i < N; i++) CHECK_OK(srlm_rundb_metric(db, run, i / 2, i % 2 ? "lr" : "loss", 1.0 / (i + 1)));
    CHECK_OK(srlm_rundb_flush(db));
    double dt = now_s() - t0;
    printf("%d metric rows in %.3f s (%.0f rows/s, batched transactions)\n", N, dt, N / dt);
    CHECK_OK(srlm_rundb_checkpoint(db, run, 100, "out/step-100"));
    CHECK_OK(srlm_rundb_sample(db, run, 100, 3, 7, "<think>x</think>", "{\"format\":1}"));
    CHECK_OK(srlm_rundb_evaluation(db, run, "spider-dev", 42, "correct", "SELECT 1", "{\"gold_sql\":\"SELECT 1\"}"));
    CHECK_OK(srlm_rundb_run_end(db, run, "ok"));
    srlm_rundb_close(db);

    /* read back with plain SQLite */
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, "open");
    CHECK(q1(h, "SELECT value FROM meta WHERE key = 'schema_version'") == SRLM_RUNDB_SCHEMA_VERSION, "schema_version");
    CHECK(q1(h, "SELECT count(*) FROM metrics") == N, "metrics rows");
    CHECK(q1(h, "SELECT count(*) FROM metrics WHERE name = 'loss' AND run = 1") == N / 2, "loss rows");
    CHECK(q1(h, "SELECT max(step) FROM metrics") == N / 2 - 1, "max step");
    CHECK(q1(h, "SELECT count(*) FROM checkpoints WHERE step = 100 AND path = 'out/step-100'") == 1, "checkpoint");
    CHECK(q1(h, "SELECT count(*) FROM samples WHERE prompt_id = 3 AND leaf_id = 7 AND json_extract(rewards, '$.format') = 1") == 1, "sample");
    CHECK(q1(h, "SELECT count(*) FROM evaluations WHERE question_id = 42 AND verdict = 'correct' AND dataset = 'spider-dev'") == 1, "evaluation");
    CHECK(q1(h, "SELECT count(*) FROM runs WHERE command = 'train sft' AND json_extract(config, '$.lr') = 4e-5 AND "
                "srlm_version = '" SRLM_VERSION "' AND device LIKE 'lavapipe%' AND ended_at >= started_at AND status = 'ok'") == 1, "run row");
    sqlite3_close(h);

    /* reopening appends a second run */
    CHECK_OK(srlm_rundb_open(path, &db));
    run = 0;
    if (db) CHECK_OK(srlm_rundb_run_begin(db, "eval", NULL, NULL, &run));
    CHECK(run == 2, "second run id %lld", (long long)run);
    srlm_rundb_close(db);

    /* a newer schema is refused */
    sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_exec(h, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", NULL, NULL, NULL);
    sqlite3_close(h);
    db = NULL;
    CHECK_ERR(srlm_rundb_open(path, &db), SRLM_ERR_FORMAT, "schema_version 99");
    CHECK(db == NULL, "no handle");

    /* a file that is not SQLite, and a SQLite file of something else */
    snprintf(other, sizeof other, "%s/notes.txt", tmp);
    FILE *f = fopen(other, "wb");
    fputs("these are my notes, not a database, padded to more than a page ......................"
          "...................................................................................", f);
    fclose(f);
    CHECK_ERR(srlm_rundb_open(other, &db), SRLM_ERR_FORMAT, "notes.txt");
    unlink(other);
    snprintf(other, sizeof other, "%s/other.db", tmp);
    sqlite3_open(other, &h);
    sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(h);
    CHECK_ERR(srlm_rundb_open(other, &db), SRLM_ERR_FORMAT, "not a run database");
    unlink(other);
    snprintf(other, sizeof other, "%s/no/such/dir/run.db", tmp);
    CHECK_ERR(srlm_rundb_open(other, &db), SRLM_ERR_IO, "run.db");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0, "cleanup");
    return test_finish("test_rundb");
}
