/* sandbox.h: internals of the SQLite sandbox shared by the other runtime/sql files (the
 * schema reader needs the raw handle). Not public: the CLI uses srlm.h. */
#ifndef SRLM_SQL_SANDBOX_H
#define SRLM_SQL_SANDBOX_H

#include "srlm.h"

#include <sqlite3.h>

/* The connection's raw handle, with the authoriser installed: callers may prepare read-only
 * statements on it from the thread that owns the connection. */
sqlite3 *srlm_sql_handle(srlm_sql_db *db);

/* Registers funcs.c's linear-time instr/replace/trim/ltrim/rtrim on h; returns an SQLite code. */
int srlm_sql_register_linear_funcs(sqlite3 *h);

/* A growable byte buffer used by the text builders of runtime/sql. */
typedef struct sqlbuf {
    char *p;
    size_t n, cap;
    int oom;
} sqlbuf;
void sqlbuf_put(sqlbuf *b, const char *s, size_t n);
void sqlbuf_puts(sqlbuf *b, const char *s);
void sqlbuf_printf(sqlbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hands the NUL-terminated text to *out (or returns SRLM_ERR_OOM and frees it). */
srlm_status sqlbuf_finish(sqlbuf *b, char **out);
/* Appends a value as text: integers in decimal, reals as the shortest text that reads back
 * (Python's repr: 1.0, 0.1), blobs as x'hex', NULL as NULL; text raw, or as an SQL literal
 * ('O''Brien') when quote_text. */
void sqlbuf_value(sqlbuf *b, const srlm_sql_value *v, int quote_text);

/* Checks UTF-8 well-formedness; returns the offset of the first bad byte or (size_t)-1. */
size_t srlm_utf8_invalid_at(const char *s, size_t n);
/* Number of code points of valid-or-not UTF-8 (continuation bytes not counted). */
size_t srlm_utf8_chars(const char *s, size_t n);

/* Drops the bytes of TEXT values that are not valid UTF-8, as Python's
 * bytes.decode(errors="ignore") does (Spider's evaluator reads text that way). */
void srlm_sql_result_utf8_ignore(srlm_sql_result *r);

/* Drops the bytes of TEXT values that are not valid UTF-8, as Python's
 * bytes.decode(errors="ignore") does (Spider's evaluator reads text that way). */
void srlm_sql_result_utf8_ignore(srlm_sql_result *r);

#endif
