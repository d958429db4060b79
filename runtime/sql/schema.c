/* schema.c: the text a model reads about a database and its task: CREATE TABLE statements
 * from sqlite_master, foreign keys, optional sample values, BIRD evidence, the question and
 * the output-format instructions of ReEx-SQL or SQL-R1. It does not tokenise or apply a chat
 * template of a tokenizer: srlm_sql_prompt_chatml writes Qwen's ChatML directly. */
#include "sql/sandbox.h"

#include <stdlib.h>
#include <string.h>

void srlm_sql_prompt_opts_default(srlm_sql_prompt_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = SRLM_SQL_FORMAT_REEX;
    o->sample_values = 0;
    o->max_interactions = 10;
    o->system = NULL;
}

/* Quotes an identifier for SQL ("a""b"). */
static void put_ident(sqlbuf *b, const char *s) {
    sqlbuf_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"') sqlbuf_puts(b, "\"");
        sqlbuf_put(b, s, 1);
    }
    sqlbuf_puts(b, "\"");
}

static srlm_status sql_fail(sqlite3 *h, const char *what) {
    return srlm_errorf(SRLM_ERR_SQL, "reading the schema (%s): %s", what, sqlite3_errmsg(h));
}

static srlm_status add_samples(sqlite3 *h, sqlbuf *b, const char *table, int n) {
    sqlbuf q = {0};
    sqlbuf_puts(&q, "SELECT * FROM ");
    put_ident(&q, table);
    sqlbuf_puts(&q, " LIMIT 0");
    char *qs = NULL;
    SRLM_TRY(sqlbuf_finish(&q, &qs));
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, qs, -1, &st, NULL);
    free(qs);
    if (rc != SQLITE_OK) return sql_fail(h, table);
    int nc = sqlite3_column_count(st);
    char **cols = calloc((size_t)nc + 1, sizeof *cols);
    if (!cols) { sqlite3_finalize(st); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    for (int c = 0; c < nc; c++) cols[c] = strdup(sqlite3_column_name(st, c) ? sqlite3_column_name(st, c) : "");
    sqlite3_finalize(st);
    srlm_status err = NULL;
    for (int c = 0; c < nc && !err; c++) {
        if (!cols[c]) { err = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        sqlbuf_printf(b, "-- %s.%s:", table, cols[c]);
        sqlbuf vq = {0};
        sqlbuf_puts(&vq, "SELECT DISTINCT ");
        put_ident(&vq, cols[c]);
        sqlbuf_puts(&vq, " FROM ");
        put_ident(&vq, table);
        sqlbuf_puts(&vq, " WHERE ");
        put_ident(&vq, cols[c]);
        sqlbuf_printf(&vq, " IS NOT NULL LIMIT %d", n);
        char *vs = NULL;
        if ((err = sqlbuf_finish(&vq, &vs))) break;
        rc = sqlite3_prepare_v2(h, vs, -1, &st, NULL);
        free(vs);
        if (rc != SQLITE_OK) { err = sql_fail(h, cols[c]); break; }
        int k = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            srlm_sql_value v = {0};
            switch (sqlite3_column_type(st, 0)) {
            case SQLITE_INTEGER: v.type = SRLM_SQL_INTEGER; v.i = sqlite3_column_int64(st, 0); break;
            case SQLITE_FLOAT: v.type = SRLM_SQL_REAL; v.r = sqlite3_column_double(st, 0); break;
            case SQLITE_BLOB: v.type = SRLM_SQL_BLOB; v.s = sqlite3_column_blob(st, 0); v.n = (size_t)sqlite3_column_bytes(st, 0); break;
            default: v.type = SRLM_SQL_TEXT; v.s = (const char *)sqlite3_column_text(st, 0); v.n = (size_t)sqlite3_column_bytes(st, 0); break;
            }
            if (v.type == SRLM_SQL_BLOB && v.n > 16) v.n = 16;
            /* long texts are cut: they are examples, not data */
            if (v.type == SRLM_SQL_TEXT && v.n > 60) {
                v.n = 60;
                while (v.n > 0 && ((unsigned char)v.s[v.n] & 0xC0) == 0x80) v.n--;
            }
            sqlbuf_puts(b, k++ ? ", " : " ");
            sqlbuf_value(b, &v, 1);
        }
        if (rc != SQLITE_DONE) err = sql_fail(h, cols[c]);
        sqlite3_finalize(st);
        sqlbuf_puts(b, "\n");
    }
    for (int c = 0; c < nc; c++) free(cols[c]);
    free(cols);
    return err;
}

srlm_status srlm_sql_schema_text(srlm_sql_db *db, int sample_values, char **out) {
    sqlite3 *h = srlm_sql_handle(db);
    sqlite3_stmt *st = NULL;
    /* rowid order = creation order, like the original schema script */
    int rc = sqlite3_prepare_v2(h, "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND "
                                   "name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY rowid", -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_fail(h, "sqlite_master");
    sqlbuf b = {0}, fk = {0};
    char **names = NULL;
    size_t nn = 0;
    srlm_status err = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *sql = (const char *)sqlite3_column_text(st, 1);
        char **nn2 = realloc(names, (nn + 1) * sizeof *names);
        if (!nn2) { err = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        names = nn2;
        names[nn] = strdup(name ? name : "");
        if (!names[nn]) { err = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        nn++;
        sqlbuf_puts(&b, sql ? sql : "");
        sqlbuf_puts(&b, ";\n");
    }
    if (!err && rc != SQLITE_DONE) err = sql_fail(h, "sqlite_master");
    sqlite3_finalize(st);
    /* Foreign keys, one line each, from the schema itself (pragma_foreign_key_list). */
    for (size_t t = 0; t < nn && !err; t++) {
        rc = sqlite3_prepare_v2(h, "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                                -1, &st, NULL);
        if (rc != SQLITE_OK) { err = sql_fail(h, "foreign keys"); break; }
        sqlite3_bind_text(st, 1, names[t], -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *to_t = (const char *)sqlite3_column_text(st, 0);
            const char *from = (const char *)sqlite3_column_text(st, 1);
            const char *to_c = (const char *)sqlite3_column_text(st, 2);
            sqlbuf_printf(&fk, "%s.%s = %s.%s\n", names[t], from ? from : "?", to_t ? to_t : "?",
                          to_c ? to_c : "(primary key)");
        }
        if (rc != SQLITE_DONE) err = sql_fail(h, "foreign keys");
        sqlite3_finalize(st);
    }
    if (!err && fk.n) {
        sqlbuf_puts(&b, "\nForeign keys:\n");
        sqlbuf_put(&b, fk.p, fk.n);
    }
    if (!err && sample_values > 0) {
        sqlbuf_printf(&b, "\nSample values (up to %d distinct per column):\n", sample_values);
        for (size_t t = 0; t < nn && !err; t++) err = add_samples(h, &b, names[t], sample_values);
    }
    for (size_t t = 0; t < nn; t++) free(names[t]);
    free(names);
    free(fk.p);
    if (err) { free(b.p); return err; }
    return sqlbuf_finish(&b, out);
}

static const char *default_system =
    "You are a data science expert. You answer questions about a SQLite database by writing "
    "SQL queries.";

static void put_instructions(sqlbuf *b, const srlm_sql_prompt_opts *o) {
    if (o->format == SRLM_SQL_FORMAT_SQLR1) {
        sqlbuf_puts(b,
            "Instructions:\n"
            "- First think step by step inside <think> ... </think>.\n"
            "- Then give the answer inside <answer> ... </answer>; the answer contains exactly one "
            "SQLite query in a ```sql ... ``` block.\n"
            "- Output format:\n"
            "<think> reasoning </think>\n"
            "<answer>\n```sql\nSELECT ...\n```\n</answer>\n");
    } else {
        sqlbuf_printf(b,
            "Instructions:\n"
            "- Think step by step inside <think> ... </think>.\n"
            "- To explore the database, write a query inside <intermediate_sql> ... </intermediate_sql>; "
            "it is executed and its result (the column names and at most 3 rows, or the error) is "
            "returned to you inside <result> ... </result>. Never write <result> yourself. At most %d "
            "such queries.\n"
            "- Give your final SQLite query inside <final_sql> ... </final_sql> and stop.\n",
            o->max_interactions > 0 ? o->max_interactions : 10);
    }
}

srlm_status srlm_sql_prompt_user(srlm_sql_db *db, const srlm_sql_prompt_opts *o, const char *question,
                                 const char *evidence, char **out) {
    srlm_sql_prompt_opts def;
    if (!o) { srlm_sql_prompt_opts_default(&def); o = &def; }
    char *schema = NULL;
    SRLM_TRY(srlm_sql_schema_text(db, o->sample_values, &schema));
    sqlbuf b = {0};
    sqlbuf_puts(&b, "Database engine: SQLite\n\nDatabase schema:\n");
    sqlbuf_puts(&b, schema);
    free(schema);
    if (evidence && *evidence) {
        sqlbuf_puts(&b, "\nExternal knowledge: ");
        sqlbuf_puts(&b, evidence);
        sqlbuf_puts(&b, "\n");
    }
    sqlbuf_puts(&b, "\nQuestion: ");
    sqlbuf_puts(&b, question ? question : "");
    sqlbuf_puts(&b, "\n\n");
    put_instructions(&b, o);
    return sqlbuf_finish(&b, out);
}

srlm_status srlm_sql_prompt_chatml(srlm_sql_db *db, const srlm_sql_prompt_opts *o, const char *question,
                                   const char *evidence, char **out) {
    srlm_sql_prompt_opts def;
    if (!o) { srlm_sql_prompt_opts_default(&def); o = &def; }
    char *user = NULL;
    SRLM_TRY(srlm_sql_prompt_user(db, o, question, evidence, &user));
    sqlbuf b = {0};
    sqlbuf_printf(&b, "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n", o->system ? o->system : default_system);
    sqlbuf_puts(&b, user);
    free(user);
    /* SQL-R1: "the prompt ends with <|im_start|>assistant\n<think>\n"; ReEx starts the same way. */
    sqlbuf_puts(&b, "<|im_end|>\n<|im_start|>assistant\n<think>\n");
    return sqlbuf_finish(&b, out);
}
