/* cmd_query.c: `srlm query`: runs one SQL statement on a SQLite file through the sandbox and
 * prints the whole result table, or (--feedback) exactly the text a model sees inside
 * <result>...</result>. Not an interactive shell. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr, "usage: srlm query --db FILE.sqlite [--feedback] [--rows N] [--timeout MS] \"SQL\" | -\n"
                    "  runs one read-only statement in the sandbox; '-' reads the statement from stdin.\n"
                    "  --feedback  print what the model sees (column names + at most N rows, default 3, or the error)\n"
                    "  exit status: 0 result, 1 refused/failed/timed-out statement or unusable database, 2 usage\n");
}

static char *read_stdin(size_t *len) {
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    size_t got;
    while ((got = fread(b + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); return NULL; }
            b = nb;
            cap *= 2;
        }
    }
    *len = n;
    return b;
}

int cmd_query(int argc, char **argv) {
    const char *db_path = NULL, *sql = NULL, *v;
    int feedback = 0;
    long long rows = 3, timeout_ms = 10000;
    for (int i = 1; i < argc; i++) {
        if (cli_opt(argc, argv, &i, "--db", &v)) db_path = v;
        else if (cli_opt(argc, argv, &i, "--timeout", &v)) timeout_ms = cli_parse_int("--timeout", v, 1, 86400000);
        else if (cli_opt(argc, argv, &i, "--rows", &v)) rows = cli_parse_int("--rows", v, 0, 1000000);
        else if (cli_flag(argv, i, "--feedback")) feedback = 1;
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) { usage(); return 0; }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') return cli_usage_error("query", "unknown option '%s'", argv[i]);
        else if (!sql) sql = argv[i];
        else return cli_usage_error("query", "one statement only (quote it): extra argument '%s'", argv[i]);
    }
    if (!db_path || !sql) { usage(); return 2; }
    size_t len = 0;
    char *owned = NULL;
    if (!strcmp(sql, "-")) {
        owned = read_stdin(&len);
        if (!owned) return cli_fail("query", srlm_errorf(SRLM_ERR_OOM, "reading stdin: out of memory"));
        sql = owned;
    } else {
        len = strlen(sql);
    }
    srlm_sql_limits lim;
    srlm_sql_limits_default(&lim);
    lim.deadline_ms = timeout_ms;
    srlm_sql_db *db = NULL;
    srlm_status st = srlm_sql_open(db_path, &lim, &db);
    if (st) { free(owned); return cli_fail("query", st); }
    srlm_sql_result *r = NULL;
    st = srlm_sql_exec(db, sql, len, timeout_ms, &r);
    free(owned);
    if (st) { srlm_sql_close(db); return cli_fail("query", st); }
    char *text = NULL;
    st = feedback ? srlm_sql_result_feedback(r, (int)rows, &text) : srlm_sql_result_table(r, &text);
    int code = r->outcome == SRLM_SQL_ROWS ? 0 : 1;
    if (!st) {
        if (feedback) printf("%s\n", text);
        else if (code == 0) fputs(text, stdout);
        else fprintf(stderr, "srlm query: %s", text);
        free(text);
    }
    srlm_sql_result_free(r);
    srlm_sql_close(db);
    if (st) return cli_fail("query", st);
    return code;
}
