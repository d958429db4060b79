/* sandbox.c: the SQLite sandbox: one read-only connection per database, one read-only
 * statement per call, under a deadline and caps on what is kept. It is not a SQL parser:
 * SQLite parses, and its authoriser plus sqlite3_stmt_readonly decide what may run.
 * A read-only open alone is not enough: SQLite would still run VACUUM INTO, writing pragmas,
 * temp objects and transactions there, so each of those is refused here. */
#include "sql/sandbox.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

struct srlm_sql_db {
    sqlite3 *h;
    sqlite3 *aux;          /* in-memory connection that runs the real printf() for the wrapper */
    char *path;
    srlm_sql_limits lim;
    int64_t deadline_ns;   /* absolute, CLOCK_MONOTONIC; 0: none */
    int timed_out;
    char deny[160];        /* why the authoriser refused, for the message */
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void srlm_sql_limits_default(srlm_sql_limits *lim) {
    memset(lim, 0, sizeof *lim);
    lim->deadline_ms = 10000;
    lim->max_rows = 100000;
    lim->max_bytes = 64LL << 20;
    lim->max_length = 500000;
    lim->max_sql_length = 100000;
    lim->max_expr_depth = 200;
    lim->max_compound_select = 64;
    lim->max_vdbe_op = 100000;
    lim->max_like_pattern = 50;
    lim->immutable = 1;
}

sqlite3 *srlm_sql_handle(srlm_sql_db *db) { return db->h; }
const char *srlm_sql_path(const srlm_sql_db *db) { return db->path; }

/* ---- text buffer ---------------------------------------------------------------------- */

void sqlbuf_put(sqlbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sqlbuf_puts(sqlbuf *b, const char *s) { sqlbuf_put(b, s, strlen(s)); }

void sqlbuf_printf(sqlbuf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) { sqlbuf_put(b, small, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sqlbuf_put(b, big, (size_t)n);
    free(big);
}

srlm_status sqlbuf_finish(sqlbuf *b, char **out) {
    if (!b->oom && !b->p) sqlbuf_put(b, "", 0);
    if (b->oom) {
        free(b->p);
        memset(b, 0, sizeof *b);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory building text");
    }
    *out = b->p;
    memset(b, 0, sizeof *b);
    return NULL;
}

/* Shortest text that reads back as the same double, as Python's repr does. */
static void put_real(sqlbuf *b, double r) {
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, r);
        if (strtod(tmp, NULL) == r) break;
    }
    /* Python writes integral floats with ".0" (1.0, not 1). */
    if (!strpbrk(tmp, ".eninf")) strcat(tmp, ".0");
    sqlbuf_puts(b, tmp);
}

void sqlbuf_value(sqlbuf *b, const srlm_sql_value *v, int quote_text) {
    switch (v->type) {
    case SRLM_SQL_NULL: sqlbuf_puts(b, "NULL"); break;
    case SRLM_SQL_INTEGER: sqlbuf_printf(b, "%lld", (long long)v->i); break;
    case SRLM_SQL_REAL: put_real(b, v->r); break;
    case SRLM_SQL_TEXT:
        if (!quote_text) { sqlbuf_put(b, v->s, v->n); break; }
        sqlbuf_put(b, "'", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (v->s[i] == '\'') sqlbuf_put(b, "'", 1);
            sqlbuf_put(b, v->s + i, 1);
        }
        sqlbuf_put(b, "'", 1);
        break;
    case SRLM_SQL_BLOB:
        sqlbuf_puts(b, "x'");
        for (size_t i = 0; i < v->n; i++) sqlbuf_printf(b, "%02x", (unsigned char)v->s[i]);
        sqlbuf_puts(b, "'");
        break;
    }
}

/* ---- UTF-8 ---------------------------------------------------------------------------- */

size_t srlm_utf8_invalid_at(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        size_t len;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
        else return i;
        if (i + len > n) return i;
        for (size_t k = 1; k < len; k++) {
            if ((u[i + k] & 0xC0) != 0x80) return i;
            c = (c << 6) | (u[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
        i += len;
    }
    return (size_t)-1;
}

size_t srlm_utf8_chars(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

/* ---- authoriser and deadline ------------------------------------------------------------ */

/* PRAGMAs that only report on the schema; everything else (including every pragma that can
 * write: writable_schema, journal_mode, user_version=...) is refused. */
static const char *const pragma_ok[] = {
    "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
};

/* Functions refused although SQLite knows them: loading code, and fts3_tokenizer, whose two
 * argument form takes a raw pointer (Debian builds with ENABLE_FTS3_TOKENIZER). */
static const char *const function_denied[] = {"load_extension", "fts3_tokenizer"};

static int authorise(void *ctx, int action, const char *a1, const char *a2, const char *a3, const char *a4) {
    srlm_sql_db *db = ctx;
    (void)a3; (void)a4;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        for (size_t i = 0; i < sizeof function_denied / sizeof *function_denied; i++)
            if (a2 && !strcasecmp(a2, function_denied[i])) {
                snprintf(db->deny, sizeof db->deny, "function %s() is not allowed", a2);
                return SQLITE_DENY;
            }
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        for (size_t i = 0; i < sizeof pragma_ok / sizeof *pragma_ok; i++)
            if (a1 && !strcasecmp(a1, pragma_ok[i])) return SQLITE_OK;
        snprintf(db->deny, sizeof db->deny, "PRAGMA %s is not allowed (read-only sandbox)", a1 ? a1 : "?");
        return SQLITE_DENY;
    case SQLITE_INSERT: case SQLITE_UPDATE: case SQLITE_DELETE:
        /* DDL reaches the authoriser first as a write of the schema table */
        if (a1 && (!strcmp(a1, "sqlite_master") || !strcmp(a1, "sqlite_temp_master") ||
                   !strcmp(a1, "sqlite_schema") || !strcmp(a1, "sqlite_temp_schema")))
            snprintf(db->deny, sizeof db->deny, "schema changes and temporary objects are not allowed (read-only sandbox)");
        else
            snprintf(db->deny, sizeof db->deny, "writing to %s is not allowed (read-only sandbox)", a1 ? a1 : "a table");
        return SQLITE_DENY;
    case SQLITE_ATTACH: case SQLITE_DETACH:
        snprintf(db->deny, sizeof db->deny, "ATTACH and DETACH are not allowed");
        return SQLITE_DENY;
    case SQLITE_TRANSACTION: case SQLITE_SAVEPOINT:
        snprintf(db->deny, sizeof db->deny, "transactions and savepoints are not allowed");
        return SQLITE_DENY;
    default:
        snprintf(db->deny, sizeof db->deny, "only SELECT statements are allowed (schema changes, "
                 "temporary objects and maintenance commands are refused)");
        return SQLITE_DENY;
    }
}

static int progress(void *ctx) {
    srlm_sql_db *db = ctx;
    if (db->deadline_ns && now_ns() > db->deadline_ns) {
        db->timed_out = 1;
        return 1;
    }
    return 0;
}

/* ---- printf() guard -------------------------------------------------------------------------
 * SQLite's printf('%.*c', 2000000000, 'x') loops once per character inside one function call,
 * where neither the progress handler nor the length limit stops it (measured: 14 s). The wrapper
 * refuses widths and precisions above PRINTF_MAX, then runs the built-in printf on a private
 * in-memory connection with the same arguments, so results stay exactly SQLite's. */
#define PRINTF_MAX 100000

static void printf_guard(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    srlm_sql_db *db = sqlite3_user_data(ctx);
    if (argc < 1) { sqlite3_result_null(ctx); return; }
    const unsigned char *f = sqlite3_value_text(argv[0]);
    if (!f) { sqlite3_result_null(ctx); return; }
    int arg = 1;
    for (const unsigned char *p = f; *p; p++) {
        if (*p != '%') continue;
        p++;
        if (*p == '%') continue;
        while (*p && strchr("-+ #0!,", *p)) p++;
        for (int part = 0; part < 2 && *p; part++) {
            if (part == 1) {
                if (*p != '.') break;
                p++;
            }
            long long v = 0;
            if (*p == '*') {
                v = arg < argc ? sqlite3_value_int64(argv[arg]) : 0;
                arg++;
                p++;
            } else {
                while (*p >= '0' && *p <= '9') { if (v <= PRINTF_MAX) v = v * 10 + (*p - '0'); p++; }
            }
            if (v > PRINTF_MAX || v < -PRINTF_MAX) {
                sqlite3_result_error(ctx, "printf() width or precision too large (sandbox limit 100000)", -1);
                return;
            }
        }
        if (!*p) break;
        arg++; /* the conversion itself consumes an argument */
    }
    if (!db->aux) {
        if (sqlite3_open_v2(":memory:", &db->aux, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
            sqlite3_result_error_nomem(ctx);
            return;
        }
        sqlite3_limit(db->aux, SQLITE_LIMIT_LENGTH, sqlite3_limit(db->h, SQLITE_LIMIT_LENGTH, -1));
    }
    char q[400];
    int n = snprintf(q, sizeof q, "SELECT printf(?1");
    for (int i = 2; i <= argc && n < (int)sizeof q - 8; i++) n += snprintf(q + n, sizeof q - (size_t)n, ",?%d", i);
    snprintf(q + n, sizeof q - (size_t)n, ")");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->aux, q, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_result_error(ctx, sqlite3_errmsg(db->aux), -1);
        return;
    }
    for (int i = 0; i < argc; i++) sqlite3_bind_value(st, i + 1, argv[i]);
    if (sqlite3_step(st) == SQLITE_ROW) sqlite3_result_value(ctx, sqlite3_column_value(st, 0));
    else sqlite3_result_error(ctx, sqlite3_errmsg(db->aux), -1);
    sqlite3_finalize(st);
}

/* ---- open / close ----------------------------------------------------------------------- */

/* file:<percent-encoded path>?mode=ro[&immutable=1] */
static char *make_uri(const char *path, int immutable) {
    size_t n = strlen(path);
    char *u = malloc(n * 3 + 40);
    if (!u) return NULL;
    char *o = u;
    o += sprintf(o, "file:");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%' || c == '?' || c == '#' || c < 0x20 || c >= 0x7F) o += sprintf(o, "%%%02X", c);
        else *o++ = (char)c;
    }
    sprintf(o, "?mode=ro%s", immutable ? "&immutable=1" : "");
    return u;
}

void srlm_sql_close(srlm_sql_db *db) {
    if (!db) return;
    if (db->h) sqlite3_close_v2(db->h);
    if (db->aux) sqlite3_close_v2(db->aux);
    free(db->path);
    free(db);
}

static srlm_status check_header(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return srlm_errorf(SRLM_ERR_IO, "database '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return srlm_errorf(SRLM_ERR_IO, "database '%s' is not a regular file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "database '%s': %s", path, strerror(errno));
    char hdr[16];
    size_t got = fread(hdr, 1, sizeof hdr, f);
    fclose(f);
    if (got == 0) return srlm_errorf(SRLM_ERR_FORMAT, "database '%s' is an empty file, not a SQLite database", path);
    if (got < sizeof hdr || memcmp(hdr, "SQLite format 3", 16) != 0)
        return srlm_errorf(SRLM_ERR_FORMAT, "'%s' is not a SQLite database (no 'SQLite format 3' header)", path);
    return NULL;
}

srlm_status srlm_sql_open(const char *path, const srlm_sql_limits *lim, srlm_sql_db **out) {
    *out = NULL;
    if (!path || !*path) return srlm_errorf(SRLM_ERR_INVALID, "no database path given");
    SRLM_TRY(check_header(path));
    srlm_sql_db *db = calloc(1, sizeof *db);
    if (!db) return srlm_errorf(SRLM_ERR_OOM, "out of host memory opening '%s'", path);
    if (lim) db->lim = *lim;
    else srlm_sql_limits_default(&db->lim);
    db->path = strdup(path);
    char *uri = make_uri(path, db->lim.immutable);
    if (!db->path || !uri) {
        free(uri);
        srlm_sql_close(db);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory opening '%s'", path);
    }
    int rc = sqlite3_open_v2(uri, &db->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free(uri);
    if (rc != SQLITE_OK) {
        srlm_status st = srlm_errorf(SRLM_ERR_IO, "cannot open database '%s': %s", path,
                                     db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        srlm_sql_close(db);
        return st;
    }
    sqlite3 *h = db->h;
    int ok = 1, dummy;
    ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, &dummy) == SQLITE_OK;
    ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &dummy) == SQLITE_OK;
    ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, &dummy) == SQLITE_OK;
    ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, &dummy) == SQLITE_OK;
    ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 0, &dummy) == SQLITE_OK;
    /* Spider's gold queries use "double-quoted" string literals: keep them legal. */
    ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_DQS_DML, 1, &dummy) == SQLITE_OK;
    ok &= sqlite3_enable_load_extension(h, 0) == SQLITE_OK;
    if (!ok) {
        srlm_status st = srlm_errorf(SRLM_ERR_SQL, "configuring the sandbox for '%s': %s", path, sqlite3_errmsg(h));
        srlm_sql_close(db);
        return st;
    }
    /* Reading the schema catches corrupt files whose header looks right. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        srlm_status e = srlm_errorf(rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? SRLM_ERR_FORMAT : SRLM_ERR_IO,
                                    "database '%s' cannot be read: %s", path, sqlite3_errmsg(h));
        sqlite3_finalize(st);
        srlm_sql_close(db);
        return e;
    }
    sqlite3_finalize(st);
    /* The first use of an eponymous virtual table (json_each, pragma_table_info...) registers
     * it through an internal write of sqlite_master that the authoriser would refuse. Register
     * the harmless ones now, before the authoriser; the rest (dbstat, sqlite_dbpage, other
     * pragma tables) stay refused. */
    static const char *const warm[] = {
        "SELECT * FROM json_each('[]')", "SELECT * FROM json_tree('[]')",
        "SELECT * FROM pragma_table_info('')", "SELECT * FROM pragma_table_xinfo('')",
        "SELECT * FROM pragma_index_list('')", "SELECT * FROM pragma_index_info('')",
        "SELECT * FROM pragma_index_xinfo('')", "SELECT * FROM pragma_foreign_key_list('')",
    };
    for (size_t i = 0; i < sizeof warm / sizeof *warm; i++) {
        st = NULL;
        if (sqlite3_prepare_v2(h, warm[i], -1, &st, NULL) == SQLITE_OK) sqlite3_step(st);
        sqlite3_finalize(st);
    }

    sqlite3_limit(h, SQLITE_LIMIT_LENGTH, db->lim.max_length);
    sqlite3_limit(h, SQLITE_LIMIT_SQL_LENGTH, db->lim.max_sql_length);
    sqlite3_limit(h, SQLITE_LIMIT_EXPR_DEPTH, db->lim.max_expr_depth);
    sqlite3_limit(h, SQLITE_LIMIT_COMPOUND_SELECT, db->lim.max_compound_select);
    sqlite3_limit(h, SQLITE_LIMIT_VDBE_OP, db->lim.max_vdbe_op);
    sqlite3_limit(h, SQLITE_LIMIT_FUNCTION_ARG, 32);
    sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(h, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, db->lim.max_like_pattern);
    sqlite3_limit(h, SQLITE_LIMIT_VARIABLE_NUMBER, 32);
    sqlite3_limit(h, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
    sqlite3_limit(h, SQLITE_LIMIT_COLUMN, 2000);
    sqlite3_limit(h, SQLITE_LIMIT_WORKER_THREADS, 0);
    /* INNOCUOUS: views of an untrusted schema may still call them */
    const int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (sqlite3_create_function_v2(h, "printf", -1, fl, db, printf_guard, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(h, "format", -1, fl, db, printf_guard, NULL, NULL, NULL) != SQLITE_OK ||
        srlm_sql_register_linear_funcs(h) != SQLITE_OK) {
        srlm_status e = srlm_errorf(SRLM_ERR_SQL, "configuring the sandbox for '%s': %s", path, sqlite3_errmsg(h));
        srlm_sql_close(db);
        return e;
    }
    sqlite3_set_authorizer(h, authorise, db);
    /* Every 1000 VM instructions: a clock read costs ~25 ns, so this is noise. */
    sqlite3_progress_handler(h, 1000, progress, db);
    *out = db;
    return NULL;
}

/* ---- exec ------------------------------------------------------------------------------ */

void srlm_sql_result_free(srlm_sql_result *r) {
    if (!r) return;
    free(r->error);
    if (r->colnames)
        for (int c = 0; c < r->ncols; c++) free(r->colnames[c]);
    free(r->colnames);
    if (r->cells)
        for (size_t i = 0; i < r->nrows * (size_t)r->ncols; i++) free((void *)r->cells[i].s);
    free(r->cells);
    free(r);
}

static void drop_rows(srlm_sql_result *r) {
    if (r->cells)
        for (size_t i = 0; i < r->nrows * (size_t)r->ncols; i++) free((void *)r->cells[i].s);
    free(r->cells);
    r->cells = NULL;
    r->nrows = 0;
    r->truncated = 0;
}

/* Skips whitespace, semicolons and comments; returns the first other byte or end. */
static const char *skip_tail(const char *p, const char *end) {
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v' || *p == ';') p++;
        else if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n') p++;
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            const char *q = p + 2;
            while (q + 1 < end && !(q[0] == '*' && q[1] == '/')) q++;
            if (q + 1 >= end) return end; /* an unclosed comment runs to the end, as in SQLite */
            p = q + 2;
        } else return p;
    }
    return end;
}

static srlm_status set_msg(srlm_sql_result *r, srlm_sql_outcome oc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static srlm_status set_msg(srlm_sql_result *r, srlm_sql_outcome oc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(r->error);
    r->error = malloc((size_t)(n < 0 ? 0 : n) + 1);
    if (!r->error) return srlm_errorf(SRLM_ERR_OOM, "out of host memory keeping an SQL error");
    va_start(ap, fmt);
    vsnprintf(r->error, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    r->outcome = oc;
    drop_rows(r);
    return NULL;
}

static srlm_status collect(srlm_sql_db *db, sqlite3_stmt *stmt, srlm_sql_result *r) {
    r->ncols = sqlite3_column_count(stmt);
    if (r->ncols > 0) {
        r->colnames = calloc((size_t)r->ncols, sizeof *r->colnames);
        if (!r->colnames) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        for (int c = 0; c < r->ncols; c++) {
            const char *nm = sqlite3_column_name(stmt, c);
            r->colnames[c] = strdup(nm ? nm : "");
            if (!r->colnames[c]) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        }
    }
    size_t cap = 0;
    int64_t bytes = 0;
    for (;;) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) return NULL;
        if (rc != SQLITE_ROW) {
            if (db->timed_out)
                return set_msg(r, SRLM_SQL_TIMEOUT, "query exceeded the deadline of %lld ms",
                               (long long)db->lim.deadline_ms);
            return set_msg(r, SRLM_SQL_ERROR, "%s", sqlite3_errmsg(db->h));
        }
        if (r->ncols == 0) continue;
        if ((int64_t)r->nrows >= db->lim.max_rows) { r->truncated = 1; return NULL; }
        int64_t row_bytes = 0;
        for (int c = 0; c < r->ncols; c++) {
            int t = sqlite3_column_type(stmt, c);
            row_bytes += 16;
            if (t == SQLITE_TEXT || t == SQLITE_BLOB) row_bytes += sqlite3_column_bytes(stmt, c);
        }
        if (bytes + row_bytes > db->lim.max_bytes) { r->truncated = 1; return NULL; }
        bytes += row_bytes;
        if (r->nrows == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            srlm_sql_value *cells = realloc(r->cells, ncap * (size_t)r->ncols * sizeof *cells);
            if (!cells) return srlm_errorf(SRLM_ERR_OOM, "out of host memory keeping %zu rows", r->nrows);
            r->cells = cells;
            cap = ncap;
        }
        srlm_sql_value *row = r->cells + r->nrows * (size_t)r->ncols;
        memset(row, 0, (size_t)r->ncols * sizeof *row);
        r->nrows++;
        for (int c = 0; c < r->ncols; c++) {
            srlm_sql_value *v = &row[c];
            switch (sqlite3_column_type(stmt, c)) {
            case SQLITE_INTEGER: v->type = SRLM_SQL_INTEGER; v->i = sqlite3_column_int64(stmt, c); break;
            case SQLITE_FLOAT: v->type = SRLM_SQL_REAL; v->r = sqlite3_column_double(stmt, c); break;
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                int is_text = sqlite3_column_type(stmt, c) == SQLITE_TEXT;
                const void *src = is_text ? (const void *)sqlite3_column_text(stmt, c) : sqlite3_column_blob(stmt, c);
                size_t n = (size_t)sqlite3_column_bytes(stmt, c);
                char *s = malloc(n + 1);
                if (!s) return srlm_errorf(SRLM_ERR_OOM, "out of host memory keeping a value of %zu bytes", n);
                if (n) memcpy(s, src, n);
                s[n] = '\0';
                v->type = is_text ? SRLM_SQL_TEXT : SRLM_SQL_BLOB;
                v->s = s;
                v->n = n;
                break;
            }
            default: v->type = SRLM_SQL_NULL; break;
            }
        }
    }
}

srlm_status srlm_sql_exec(srlm_sql_db *db, const char *sql, size_t len, int64_t deadline_ms,
                          srlm_sql_result **out) {
    *out = NULL;
    if (!db || (!sql && len)) return srlm_errorf(SRLM_ERR_INVALID, "srlm_sql_exec: no connection or no SQL");
    srlm_sql_result *r = calloc(1, sizeof *r);
    if (!r) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    int64_t t0 = now_ns();
    if (deadline_ms < 0) deadline_ms = db->lim.deadline_ms;
    srlm_status st = NULL;
    sqlite3_stmt *stmt = NULL;
    size_t bad;
    if (memchr(sql ? sql : "", '\0', len)) {
        st = set_msg(r, SRLM_SQL_REFUSED, "the SQL text contains a NUL byte at offset %zu",
                     (size_t)((const char *)memchr(sql, '\0', len) - sql));
        goto done;
    }
    if ((bad = srlm_utf8_invalid_at(sql ? sql : "", len)) != (size_t)-1) {
        st = set_msg(r, SRLM_SQL_REFUSED, "the SQL text is not valid UTF-8 (byte offset %zu)", bad);
        goto done;
    }
    if (len > (size_t)db->lim.max_sql_length) {
        st = set_msg(r, SRLM_SQL_REFUSED, "statement too long: %zu bytes (limit %d)", len, db->lim.max_sql_length);
        goto done;
    }
    db->deny[0] = '\0';
    db->timed_out = 0;
    /* lim.deadline_ms holds this call's budget while it runs (for messages), then the default. */
    int64_t saved_ms = db->lim.deadline_ms;
    db->lim.deadline_ms = deadline_ms;
    db->deadline_ns = deadline_ms > 0 ? t0 + deadline_ms * 1000000LL : 0;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql ? sql : "", (int)len, 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
        if (db->deny[0]) st = set_msg(r, SRLM_SQL_REFUSED, "not authorized: %s", db->deny);
        else if (db->timed_out) st = set_msg(r, SRLM_SQL_TIMEOUT, "query exceeded the deadline of %lld ms", (long long)deadline_ms);
        else st = set_msg(r, SRLM_SQL_ERROR, "%s", sqlite3_errmsg(db->h));
    } else if (!stmt) {
        st = set_msg(r, SRLM_SQL_ERROR, "no SQL statement in the text");
    } else {
        const char *end = (sql ? sql : "") + len;
        const char *rest = skip_tail(tail ? tail : end, end);
        if (rest < end) {
            int show = (int)(end - rest < 40 ? end - rest : 40);
            while (show > 0 && rest + show < end && ((unsigned char)rest[show] & 0xC0) == 0x80) show--; /* whole characters */
            st = set_msg(r, SRLM_SQL_REFUSED, "only one statement per call; text after the first statement: '%.*s%s'",
                         show, rest, end - rest > 40 ? "..." : "");
        } else if (!sqlite3_stmt_readonly(stmt)) {
            /* VACUUM [INTO] and a few others pass the authoriser: the VM program tells. */
            st = set_msg(r, SRLM_SQL_REFUSED, "not authorized: the statement would write (read-only sandbox)");
        } else {
            r->outcome = SRLM_SQL_ROWS;
            st = collect(db, stmt, r);
        }
    }
    sqlite3_finalize(stmt);
    db->deadline_ns = 0;
    db->lim.deadline_ms = saved_ms;
done:
    r->elapsed_ms = (double)(now_ns() - t0) / 1e6;
    if (st) { srlm_sql_result_free(r); return st; }
    *out = r;
    return NULL;
}

/* ---- text renderings -------------------------------------------------------------------- */

static void put_cell(sqlbuf *b, const srlm_sql_value *v, size_t max_bytes) {
    if ((v->type == SRLM_SQL_TEXT || v->type == SRLM_SQL_BLOB) && max_bytes && v->n > max_bytes) {
        srlm_sql_value cut = *v;
        cut.n = max_bytes;
        /* do not split a UTF-8 sequence */
        while (cut.n > 0 && v->type == SRLM_SQL_TEXT && ((unsigned char)v->s[cut.n] & 0xC0) == 0x80) cut.n--;
        sqlbuf_value(b, &cut, 0);
        sqlbuf_puts(b, "...");
    } else {
        sqlbuf_value(b, v, 0);
    }
}

srlm_status srlm_sql_result_feedback(const srlm_sql_result *r, int max_rows, char **out) {
    sqlbuf b = {0};
    if (r->outcome != SRLM_SQL_ROWS) {
        sqlbuf_printf(&b, "error: %s", r->error ? r->error : "unknown");
        return sqlbuf_finish(&b, out);
    }
    for (int c = 0; c < r->ncols; c++) {
        if (c) sqlbuf_puts(&b, " | ");
        sqlbuf_puts(&b, r->colnames[c]);
    }
    size_t show = r->nrows < (size_t)(max_rows < 0 ? 0 : max_rows) ? r->nrows : (size_t)(max_rows < 0 ? 0 : max_rows);
    for (size_t i = 0; i < show; i++) {
        sqlbuf_puts(&b, "\n");
        for (int c = 0; c < r->ncols; c++) {
            if (c) sqlbuf_puts(&b, " | ");
            put_cell(&b, srlm_sql_cell(r, i, c), 200);
        }
    }
    if (r->nrows == 0) sqlbuf_puts(&b, "\n(no rows)");
    else if (r->nrows > show)
        sqlbuf_printf(&b, "\n... (%zu%s rows in total)", r->nrows, r->truncated ? "+" : "");
    return sqlbuf_finish(&b, out);
}

srlm_status srlm_sql_result_table(const srlm_sql_result *r, char **out) {
    sqlbuf b = {0};
    if (r->outcome != SRLM_SQL_ROWS) {
        sqlbuf_printf(&b, "error: %s\n", r->error ? r->error : "unknown");
        return sqlbuf_finish(&b, out);
    }
    size_t *w = calloc((size_t)r->ncols + 1, sizeof *w);
    if (!w) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    sqlbuf cell = {0};
    for (int c = 0; c < r->ncols; c++) {
        w[c] = srlm_utf8_chars(r->colnames[c], strlen(r->colnames[c]));
        for (size_t i = 0; i < r->nrows; i++) {
            cell.n = 0;
            sqlbuf_value(&cell, srlm_sql_cell(r, i, c), 0);
            size_t n = cell.p ? srlm_utf8_chars(cell.p, cell.n) : 0;
            if (n > w[c]) w[c] = n;
        }
    }
    for (int c = 0; c < r->ncols; c++) {
        size_t n = srlm_utf8_chars(r->colnames[c], strlen(r->colnames[c]));
        sqlbuf_printf(&b, "%s%s%*s", c ? " | " : "", r->colnames[c], c + 1 < r->ncols ? (int)(w[c] - n) : 0, "");
    }
    sqlbuf_puts(&b, "\n");
    for (int c = 0; c < r->ncols; c++) {
        sqlbuf_puts(&b, c ? "-+-" : "");
        for (size_t k = 0; k < w[c]; k++) sqlbuf_puts(&b, "-");
    }
    sqlbuf_puts(&b, "\n");
    for (size_t i = 0; i < r->nrows; i++) {
        for (int c = 0; c < r->ncols; c++) {
            cell.n = 0;
            sqlbuf_value(&cell, srlm_sql_cell(r, i, c), 0);
            size_t n = cell.p ? srlm_utf8_chars(cell.p, cell.n) : 0;
            if (c) sqlbuf_puts(&b, " | ");
            if (cell.p) sqlbuf_put(&b, cell.p, cell.n);
            if (c + 1 < r->ncols) sqlbuf_printf(&b, "%*s", (int)(w[c] - n), "");
        }
        sqlbuf_puts(&b, "\n");
    }
    sqlbuf_printf(&b, "(%zu row%s%s)\n", r->nrows, r->nrows == 1 ? "" : "s", r->truncated ? ", truncated" : "");
    free(cell.p);
    free(w);
    if (cell.oom) b.oom = 1;
    return sqlbuf_finish(&b, out);
}
