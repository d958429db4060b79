/* cmd_sql.c: `srlm sql`: answers one question about a SQLite database with the execution-aware
 * decode loop (ReEx-SQL or SQL-R1 format, optional tree decoding or votes) and prints the
 * reasoning, every executed query with its result, then the final SQL and its result table.
 * Not an evaluator (`srlm eval`) and not a SQL shell (`srlm query`). */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f, int code) {
    fprintf(f, "usage: srlm sql -m MODEL --db FILE.sqlite [options] \"question\"\n"
               "  --evidence TEXT    external knowledge (BIRD) added to the prompt\n"
               "  --force FILE       forced-trace mode: the model's output is the text of FILE (repeatable, one\n"
               "                     trace per leaf; without --tree, --votes defaults to the number of traces);\n"
               "                     queries still run on the database\n"
               "  --all              print every leaf, not only the chosen one\n"
               "%s", cli_sqlloop_help);
    return code;
}

static void print_result(const srlm_sql_result *r) {
    char *t = NULL;
    srlm_status st = srlm_sql_result_table(r, &t);
    if (st) {
        printf("(cannot print the result: %s)\n", srlm_status_msg(st));
        srlm_status_free(st);
        return;
    }
    fputs(t, stdout);
    size_t n = strlen(t);
    if (n && t[n - 1] != '\n') putchar('\n');
    free(t);
}

static void print_leaf(const srlm_sqlloop_out *out, int i) {
    const srlm_sqlloop_leaf *f = &out->leaves[i];
    printf("=== leaf %d of %d (finish: %s, format %s%s%s) ===\n", i, out->n_leaves, srlm_sqlloop_finish_name(f->finish),
           f->format_ok ? "ok" : "invalid", f->format_error ? ": " : "", f->format_error ? f->format_error : "");
    printf("--- reasoning ---\n<think>\n%s\n", f->text);
    for (int k = 0; k < f->n_queries; k++) {
        const srlm_sqlloop_query *q = &out->queries[f->queries[k]];
        printf("--- query %d: %s\n", k + 1, q->sql ? q->sql : "(none: the closing tag had no opening tag)");
        if (q->result) print_result(q->result);
        else printf("%s\n", q->feedback);
    }
}

int cmd_sql(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    cli_sqlloop_args a;
    cli_sqlloop_args_init(&a);
    const char *db_path = NULL, *question = NULL, *evidence = NULL, *force[16], *v;
    int nforce = 0, all = 0, votes_given = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--votes")) votes_given = 1;
        if (cli_common_opt(argc, argv, &i, &cc)) continue;
        if (cli_sqlloop_opt(argc, argv, &i, &a)) continue;
        if (cli_opt(argc, argv, &i, "--db", &v)) db_path = v;
        else if (cli_opt(argc, argv, &i, "--evidence", &v)) evidence = v;
        else if (cli_opt(argc, argv, &i, "--force", &v)) {
            if (nforce == 16) return cli_usage_error("sql", "at most 16 --force traces");
            force[nforce++] = v;
        } else if (cli_flag(argv, i, "--all")) all = 1;
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) return usage(stdout, 0);
        else if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("sql", "unknown argument '%s' (try --help)", argv[i]);
        else if (question) return cli_usage_error("sql", "one question only (quote it)");
        else question = argv[i];
    }
    if (!cc.model || !db_path || !question) return usage(stderr, 2);
    if (nforce && !votes_given && a.tree <= 1) a.votes = nforce;
    cli_sqlloop s;
    srlm_sql_db *db = NULL;
    int32_t *prompt = NULL, *traces[16] = {0};
    size_t np = 0, tlen[16] = {0};
    srlm_sqlloop_out out = {0};
    int ran = 0;
    srlm_status st = srlm_sql_open(db_path, NULL, &db);
    if (!st) st = cli_sqlloop_open(&cc, &a, &s);
    else memset(&s, 0, sizeof s);
    if (!st) st = srlm_sqlloop_prompt(s.tok, db, &s.po, question, evidence, &prompt, &np);
    for (int k = 0; !st && k < nforce; k++) {
        size_t len = 0;
        char *text = cli_read_file(force[k], &len);
        if (!text) {
            st = srlm_errorf(SRLM_ERR_IO, "--force %s: %s", force[k], strerror(errno));
            break;
        }
        st = srlm_tokenizer_encode(s.tok, text, len, 0, &traces[k], &tlen[k]);
        free(text);
        if (!st && (int)tlen[k] > a.max_tokens) a.max_tokens = (int)tlen[k] + 1;
    }
    if (nforce) {
        s.o.forced = (const int32_t *const *)traces, s.o.n_forced = tlen, s.o.n_forced_traces = nforce;
        s.o.sample.max_tokens = a.max_tokens;
    }
    if (!st) st = cli_sqlloop_start(&cc, &a, (int)np + a.max_tokens + 1024, &s);
    if (!st) st = srlm_sqlloop_run(s.loop, db_path, &s.o, prompt, np, &out);
    if (!st) {
        ran = 1;
        int show = out.chosen >= 0 ? (int)out.chosen : 0;
        for (int i = 0; i < out.n_leaves; i++)
            if (all || i == show) print_leaf(&out, i);
        if (out.n_leaves > 1) {
            printf("--- vote over %d leaves ---\n", out.n_leaves);
            for (int i = 0; i < out.n_leaves; i++) {
                const srlm_sqlloop_leaf *f = &out.leaves[i];
                printf("leaf %d: %-12s %s%s\n", i, srlm_sqlloop_finish_name(f->finish),
                       f->final_sql ? f->final_sql : "(no final SQL)",
                       !f->final_result ? "" : f->final_result->outcome == SRLM_SQL_ROWS ? "" : "  [error]");
            }
            if (out.chosen >= 0) printf("chosen: leaf %ld with %zu vote(s)\n", out.chosen, out.votes);
            else printf("chosen: none (no leaf's final SQL gave a result)\n");
        }
        printf("=== final SQL ===\n%s\n", out.final_sql ? out.final_sql : "(none)");
        const srlm_sqlloop_leaf *w = out.chosen >= 0 ? &out.leaves[out.chosen] : NULL;
        if (w && w->final_result) {
            printf("=== result ===\n");
            print_result(w->final_result);
        }
        const srlm_sqlloop_stats *t = &out.stats;
        fprintf(stderr, "srlm sql: %d leaves, %llu model + %llu result tokens, %llu queries, %.2f s (%s)\n", out.n_leaves,
                (unsigned long long)t->model_tokens, (unsigned long long)t->env_tokens, (unsigned long long)t->queries, t->seconds,
                srlm_ctx_device_name(s.ctx));
    }
    int verr = s.ctx ? srlm_ctx_validation_errors(s.ctx) : 0;
    srlm_sqlloop_out_free(&out);
    for (int k = 0; k < nforce; k++) free(traces[k]);
    free(prompt);
    srlm_sql_close(db);
    cli_sqlloop_close(&s);
    if (st) return cli_fail("sql", st);
    if (verr) return cli_fail("sql", srlm_errorf(SRLM_ERR_VULKAN, "%d validation message(s)", verr));
    return ran ? 0 : 1;
}
