/* rundb.c: the run database, one SQLite file per run with a versioned schema (meta, runs,
 * metrics, checkpoints, samples, evaluations). Metrics are buffered in one open transaction
 * and committed every RUNDB_BATCH rows or RUNDB_BATCH_NS; other rows commit at once. It is
 * not a query tool: plots and reports read the file with ordinary SQL. */
#include "srlm.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNDB_BATCH 512
#define RUNDB_BATCH_NS 2000000000LL

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, config TEXT,\n"
    "  srlm_version TEXT NOT NULL, device TEXT, started_at TEXT NOT NULL, ended_at TEXT, status TEXT);\n"
    "CREATE TABLE IF NOT EXISTS metrics (run INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL, value REAL, time REAL NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS metrics_run_name_step ON metrics(run, name, step);\n"
    "CREATE TABLE IF NOT EXISTS checkpoints (run INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,\n"
    "  path TEXT NOT NULL, time REAL NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS samples (run INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,\n"
    "  prompt_id INTEGER NOT NULL, leaf_id INTEGER NOT NULL, text TEXT, rewards TEXT);\n"
    "CREATE TABLE IF NOT EXISTS evaluations (run INTEGER NOT NULL REFERENCES runs(id), dataset TEXT NOT NULL,\n"
    "  question_id INTEGER NOT NULL, verdict TEXT NOT NULL, predicted_sql TEXT, details TEXT);\n";

enum { ST_METRIC, ST_CHECKPOINT, ST_SAMPLE, ST_EVAL, ST_BEGIN, ST_END, ST_COUNT };
static const char *const stmt_sql[ST_COUNT] = {
    "INSERT INTO metrics(run, step, name, value, time) VALUES (?1, ?2, ?3, ?4, ?5)",
    "INSERT INTO checkpoints(run, step, path, time) VALUES (?1, ?2, ?3, ?4)",
    "INSERT INTO samples(run, step, prompt_id, leaf_id, text, rewards) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO evaluations(run, dataset, question_id, verdict, predicted_sql, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO runs(command, config, srlm_version, device, started_at, status) VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
    "UPDATE runs SET ended_at = ?2, status = ?3 WHERE id = ?1",
};

struct srlm_rundb {
    sqlite3 *h;
    char *path;
    sqlite3_stmt *st[ST_COUNT];
    int in_tx;
    int pending;
    int64_t tx_start_ns;
};

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double unix_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ISO-8601 UTC with milliseconds */
static void iso_now(char out[32]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static srlm_status fail(srlm_rundb *db, const char *what) {
    return srlm_errorf(SRLM_ERR_IO, "run database '%s': %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

static srlm_status exec(srlm_rundb *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        srlm_status st = srlm_errorf(SRLM_ERR_IO, "run database '%s': %s", db->path, msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return st;
    }
    return NULL;
}

srlm_status srlm_rundb_flush(srlm_rundb *db) {
    if (!db || !db->in_tx) return NULL;
    db->in_tx = 0;
    db->pending = 0;
    return exec(db, "COMMIT");
}

void srlm_rundb_close(srlm_rundb *db) {
    if (!db) return;
    if (db->h) {
        srlm_status_free(srlm_rundb_flush(db));
        for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(db->st[i]);
        sqlite3_close_v2(db->h);
    }
    free(db->path);
    free(db);
}

srlm_status srlm_rundb_open(const char *path, srlm_rundb **out) {
    *out = NULL;
    srlm_rundb *db = calloc(1, sizeof *db);
    if (!db) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    db->path = strdup(path ? path : "");
    if (!db->path) { free(db); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    srlm_status st = NULL;
    if (rc != SQLITE_OK) { st = fail(db, "cannot open"); goto bad; }
    sqlite3_busy_timeout(db->h, 5000);
    /* A file that is not SQLite fails here with "file is not a database". */
    sqlite3_stmt *q = NULL;
    rc = sqlite3_prepare_v2(db->h, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &q, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            long long v = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
            if (v > SRLM_RUNDB_SCHEMA_VERSION || v < 1) {
                st = srlm_errorf(SRLM_ERR_FORMAT, "run database '%s' has schema_version %lld; this srlm (%s) "
                                 "knows version %d: use a newer srlm or another file", path, v, SRLM_VERSION,
                                 SRLM_RUNDB_SCHEMA_VERSION);
                goto bad;
            }
        } else {
            sqlite3_finalize(q);
            if (rc != SQLITE_DONE) { st = fail(db, "reading meta"); goto bad; }
        }
    } else {
        int ec = sqlite3_errcode(db->h);
        sqlite3_finalize(q);
        if (ec == SQLITE_NOTADB || ec == SQLITE_CORRUPT) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "'%s' is not a run database: %s", path, sqlite3_errmsg(db->h));
            goto bad;
        }
        /* "no such table: meta": a new file, or a SQLite file of something else */
        q = NULL;
        rc = sqlite3_prepare_v2(db->h, "SELECT count(*) FROM sqlite_master", -1, &q, NULL);
        long long ntables = -1;
        if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) ntables = sqlite3_column_int64(q, 0);
        int ec2 = sqlite3_errcode(db->h);
        sqlite3_finalize(q);
        if (ntables < 0) {
            st = ec2 == SQLITE_NOTADB ? srlm_errorf(SRLM_ERR_FORMAT, "'%s' is not a run database: %s", path,
                                                    sqlite3_errmsg(db->h))
                                      : fail(db, "reading the schema");
            goto bad;
        }
        if (ntables > 0) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "'%s' is a SQLite database but not a run database (no meta table)", path);
            goto bad;
        }
    }
    if ((st = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN"))) goto bad;
    if ((st = exec(db, schema_sql))) goto bad;
    char ins[160];
    snprintf(ins, sizeof ins, "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '%d'); COMMIT",
             SRLM_RUNDB_SCHEMA_VERSION);
    if ((st = exec(db, ins))) goto bad;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) != SQLITE_OK) {
            st = fail(db, "preparing statements");
            goto bad;
        }
    *out = db;
    return NULL;
bad:
    srlm_rundb_close(db);
    return st;
}

/* Runs a prepared insert; `batched` rows stay in the open transaction. */
static srlm_status run_stmt(srlm_rundb *db, int which, int batched) {
    sqlite3_stmt *s = db->st[which];
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) return fail(db, "writing a row");
    if (!batched) return srlm_rundb_flush(db);
    db->pending++;
    if (db->pending >= RUNDB_BATCH || mono_ns() - db->tx_start_ns > RUNDB_BATCH_NS) return srlm_rundb_flush(db);
    return NULL;
}

static srlm_status begin(srlm_rundb *db) {
    if (db->in_tx) return NULL;
    SRLM_TRY(exec(db, "BEGIN"));
    db->in_tx = 1;
    db->tx_start_ns = mono_ns();
    return NULL;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v) {
    if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(s, i);
}

srlm_status srlm_rundb_run_begin(srlm_rundb *db, const char *command, const char *config_json,
                                 const char *device, int64_t *run_id) {
    SRLM_TRY(begin(db));
    char now[32];
    iso_now(now);
    sqlite3_stmt *s = db->st[ST_BEGIN];
    bind_text(s, 1, command ? command : "");
    bind_text(s, 2, config_json);
    bind_text(s, 3, SRLM_VERSION);
    bind_text(s, 4, device);
    bind_text(s, 5, now);
    SRLM_TRY(run_stmt(db, ST_BEGIN, 0));
    *run_id = sqlite3_last_insert_rowid(db->h);
    return NULL;
}

srlm_status srlm_rundb_run_end(srlm_rundb *db, int64_t run_id, const char *status) {
    SRLM_TRY(begin(db));
    char now[32];
    iso_now(now);
    sqlite3_stmt *s = db->st[ST_END];
    sqlite3_bind_int64(s, 1, run_id);
    bind_text(s, 2, now);
    bind_text(s, 3, status ? status : "ok");
    return run_stmt(db, ST_END, 0);
}

srlm_status srlm_rundb_metric(srlm_rundb *db, int64_t run_id, int64_t step, const char *name, double value) {
    SRLM_TRY(begin(db));
    sqlite3_stmt *s = db->st[ST_METRIC];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, step);
    bind_text(s, 3, name);
    sqlite3_bind_double(s, 4, value); /* NaN binds as NULL: SQLite has no NaN */
    sqlite3_bind_double(s, 5, unix_time());
    return run_stmt(db, ST_METRIC, 1);
}

srlm_status srlm_rundb_checkpoint(srlm_rundb *db, int64_t run_id, int64_t step, const char *path) {
    SRLM_TRY(begin(db));
    sqlite3_stmt *s = db->st[ST_CHECKPOINT];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, step);
    bind_text(s, 3, path ? path : "");
    sqlite3_bind_double(s, 4, unix_time());
    return run_stmt(db, ST_CHECKPOINT, 0);
}

srlm_status srlm_rundb_sample(srlm_rundb *db, int64_t run_id, int64_t step, int64_t prompt_id,
                              int64_t leaf_id, const char *text, const char *rewards_json) {
    SRLM_TRY(begin(db));
    sqlite3_stmt *s = db->st[ST_SAMPLE];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, step);
    sqlite3_bind_int64(s, 3, prompt_id);
    sqlite3_bind_int64(s, 4, leaf_id);
    bind_text(s, 5, text);
    bind_text(s, 6, rewards_json);
    return run_stmt(db, ST_SAMPLE, 1);
}

srlm_status srlm_rundb_evaluation(srlm_rundb *db, int64_t run_id, const char *dataset, int64_t question_id,
                                  const char *verdict, const char *predicted_sql, const char *details_json) {
    SRLM_TRY(begin(db));
    sqlite3_stmt *s = db->st[ST_EVAL];
    sqlite3_bind_int64(s, 1, run_id);
    bind_text(s, 2, dataset ? dataset : "");
    sqlite3_bind_int64(s, 3, question_id);
    bind_text(s, 4, verdict ? verdict : "");
    bind_text(s, 5, predicted_sql);
    bind_text(s, 6, details_json);
    return run_stmt(db, ST_EVAL, 1);
}
