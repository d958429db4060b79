/* cmd_eval.c: `srlm eval`: execution accuracy on Spider- or BIRD-format data, of given SQL
 * predictions (--predictions) or of a model's answers through the execution-aware decode loop
 * (-m, a prediction callback plugged into the same srlm_sql_eval_run). Writes OUT/report.json
 * and OUT/run.db, prints the summary; a progress bar goes to stderr. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(void) {
    fprintf(stderr,
            "usage: srlm eval --data FILE.json --db-dir DIR --predictions FILE --out DIR\n"
            "       srlm eval -m MODEL --data FILE.json --db-dir DIR --out DIR [decoding options]\n"
            "                 [--format spider|bird] [--rule spider|bird] [--timeout SECONDS] [--jobs N] [--limit N]\n"
            "  --predictions: one SQL per non-empty line in question order (a '\\t<db_id>' suffix is\n"
            "  ignored), a JSON list of strings, or BIRD's {\"0\": \"SQL\\t----- bird -----\\tdb_id\"} object.\n"
            "  The data format is detected from the data ('query': Spider, 'SQL': BIRD).\n"
            "  Timeout default: 60 s Spider, 30 s BIRD. --jobs: scoring threads (default 1).\n"
            "  Output: OUT/report.json, OUT/run.db, and the summary on stdout.\n"
            "  -m: each question is answered by the decode loop (as `srlm sql`); the voted final SQL is\n"
            "  scored. Questions whose prompt does not fit --ctx (default 4096) get no prediction.\n"
            "%s", cli_sqlloop_help);
}

typedef struct model_preds {
    cli_sqlloop *s;
    const char *db_dir;
    int max_ctx;
    size_t too_long, limit;
} model_preds;

static srlm_status from_model(void *ctx, size_t i, const srlm_sql_example *ex, char **sql) {
    model_preds *p = ctx;
    *sql = NULL;
    if (p->limit && i >= p->limit) return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s.sqlite", p->db_dir, ex->db_id, ex->db_id);
    srlm_sql_db *db = NULL;
    SRLM_TRY(srlm_sql_open(path, NULL, &db));
    int32_t *prompt = NULL;
    size_t np = 0;
    srlm_status st = srlm_sqlloop_prompt(p->s->tok, db, &p->s->po, ex->question, ex->evidence, &prompt, &np);
    srlm_sql_close(db);
    if (st) return srlm_status_wrap(st, "question %zu: ", i);
    if ((int)np + 16 > p->max_ctx) {
        p->too_long++;
        free(prompt);
        return NULL;
    }
    srlm_sqlloop_out out;
    st = srlm_sqlloop_run(p->s->loop, path, &p->s->o, prompt, np, &out);
    free(prompt);
    if (st) return srlm_status_wrap(st, "question %zu: ", i);
    if (out.final_sql) {
        *sql = strdup(out.final_sql);
        if (!*sql) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    srlm_sqlloop_out_free(&out);
    return st;
}

typedef struct preds { char **sql; size_t n; } preds;

static srlm_status from_file(void *ctx, size_t i, const srlm_sql_example *ex, char **sql) {
    (void)ex;
    preds *p = ctx;
    *sql = NULL;
    if (i >= p->n) return NULL;
    *sql = strdup(p->sql[i]);
    if (!*sql) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    return NULL;
}

typedef struct progress { int tty; double t0, last; size_t last_line; } progress;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fmt_eta(char *out, size_t n, double s) {
    if (s < 60) snprintf(out, n, "%.0fs", s);
    else if (s < 3600) snprintf(out, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(out, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void on_progress(void *ctx, size_t done, size_t total, size_t correct) {
    progress *p = ctx;
    double t = now_s(), el = t - p->t0;
    double eta = done ? el / (double)done * (double)(total - done) : 0;
    char e[32];
    fmt_eta(e, sizeof e, eta);
    double acc = done ? (double)correct / (double)done : 0;
    if (p->tty) {
        if (done < total && t - p->last < 0.1) return;
        p->last = t;
        int w = 30, fill = total ? (int)((double)w * (double)done / (double)total) : w;
        char bar[64];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu %5.1f%% acc %.4f ETA %s   ", bar, done, total,
                total ? 100.0 * (double)done / (double)total : 100.0, acc, e);
        if (done == total) fputc('\n', stderr);
    } else {
        /* plain lines: about every 10% and at the end */
        size_t step = total / 10 ? total / 10 : 1;
        if (done != total && done - p->last_line < step) return;
        p->last_line = done;
        fprintf(stderr, "eval: %zu/%zu (%.1f%%) acc %.4f elapsed %.1fs ETA %s\n", done, total,
                total ? 100.0 * (double)done / (double)total : 100.0, acc, el, e);
    }
    fflush(stderr);
}

/* Appends s as a JSON string literal (quotes, backslashes and control bytes escaped). */
static void json_str(char *out, size_t cap, const char *s) {
    size_t n = strlen(out);
    if (n + 2 >= cap) return;
    out[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[n++] = '\\'; out[n++] = (char)c; }
        else if (c < 0x20) n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        else out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n] = '\0';
}

static int mkdir_p(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int cmd_eval(int argc, char **argv) {
    const char *data = NULL, *db_dir = NULL, *pred_path = NULL, *out = NULL, *fmt_s = NULL, *rule_s = NULL, *v;
    double timeout_s = 0;
    int jobs = 1;
    long long limit = 0;
    cli_common common;
    cli_common_init(&common);
    cli_sqlloop_args la;
    cli_sqlloop_args_init(&la);
    for (int i = 1; i < argc; i++) {
        if (cli_opt(argc, argv, &i, "--data", &v)) data = v;
        else if (cli_opt(argc, argv, &i, "--db-dir", &v)) db_dir = v;
        else if (cli_opt(argc, argv, &i, "--predictions", &v)) pred_path = v;
        else if (cli_opt(argc, argv, &i, "--out", &v)) out = v;
        else if (cli_opt(argc, argv, &i, "--format", &v)) fmt_s = v;
        else if (cli_opt(argc, argv, &i, "--rule", &v)) rule_s = v;
        else if (cli_opt(argc, argv, &i, "--timeout", &v)) timeout_s = cli_parse_double("--timeout", v);
        else if (cli_opt(argc, argv, &i, "--jobs", &v)) jobs = (int)cli_parse_int("--jobs", v, 1, 64);
        else if (cli_opt(argc, argv, &i, "--limit", &v)) limit = cli_parse_int("--limit", v, 1, 1LL << 40);
        else if (cli_common_opt(argc, argv, &i, &common)) continue;
        else if (cli_sqlloop_opt(argc, argv, &i, &la)) continue;
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) { usage(); return 0; }
        else return cli_usage_error("eval", "unknown argument '%s' (try --help)", argv[i]);
    }
    if (common.model && pred_path) return cli_usage_error("eval", "give -m MODEL or --predictions FILE, not both");
    if (!data || !db_dir || (!pred_path && !common.model) || !out) { usage(); return 2; }
    if (timeout_s < 0) return cli_usage_error("eval", "--timeout must be positive");
    srlm_sql_data_format fmt = SRLM_SQL_DATA_AUTO;
    if (fmt_s) {
        if (!strcmp(fmt_s, "spider")) fmt = SRLM_SQL_DATA_SPIDER;
        else if (!strcmp(fmt_s, "bird")) fmt = SRLM_SQL_DATA_BIRD;
        else return cli_usage_error("eval", "--format must be spider or bird, got '%s'", fmt_s);
    }
    srlm_sql_eval_opts o = {0};
    if (rule_s) {
        if (!strcmp(rule_s, "spider")) o.rule = SRLM_SQL_RULE_SPIDER;
        else if (!strcmp(rule_s, "bird")) o.rule = SRLM_SQL_RULE_BIRD;
        else return cli_usage_error("eval", "--rule must be spider or bird, got '%s'", rule_s);
        o.rule_set = 1;
    }
    srlm_sql_dataset *d = NULL;
    srlm_status st = srlm_sql_dataset_load(data, fmt, &d);
    if (st) return cli_fail("eval", st);
    preds p = {0};
    cli_sqlloop s;
    memset(&s, 0, sizeof s);
    model_preds mp = {&s, db_dir, la.ctx ? la.ctx : 4096, 0, (size_t)limit};
    if (pred_path) st = srlm_sql_predictions_load(pred_path, srlm_sql_dataset_count(d), &p.sql, &p.n);
    else {
        st = cli_sqlloop_open(&common, &la, &s);
        if (!st) st = cli_sqlloop_start(&common, &la, mp.max_ctx, &s);
    }
    if (st) { cli_sqlloop_close(&s); srlm_sql_dataset_free(d); return cli_fail("eval", st); }
    if (mkdir_p(out) != 0) {
        cli_sqlloop_close(&s);
        srlm_sql_predictions_free(p.sql, p.n);
        srlm_sql_dataset_free(d);
        return cli_fail("eval", srlm_errorf(SRLM_ERR_IO, "cannot create output folder '%s': %s", out, strerror(errno)));
    }
    progress pr = {isatty(2), now_s(), 0, 0};
    o.db_dir = db_dir;
    o.timeout_ms = (int64_t)(timeout_s * 1000.0);
    o.jobs = jobs;
    o.progress = on_progress;
    o.progress_ctx = &pr;
    srlm_sql_eval_report *rep = NULL;
    if (pred_path) st = srlm_sql_eval_run(d, &o, from_file, &p, &rep);
    else st = srlm_sql_eval_run(d, &o, from_model, &mp, &rep);
    if (mp.too_long) fprintf(stderr, "srlm eval: %zu question(s) had a prompt longer than the context (%d): no prediction\n",
                             mp.too_long, mp.max_ctx);
    char device[256];
    snprintf(device, sizeof device, "%s", s.ctx ? srlm_ctx_device_name(s.ctx) : "cpu (SQLite, no model)");
    int verr = s.ctx ? srlm_ctx_validation_errors(s.ctx) : 0;
    float mp_temperature = s.o.sample.temperature;
    cli_sqlloop_close(&s);
    srlm_sql_predictions_free(p.sql, p.n);
    int is_bird = srlm_sql_dataset_format(d) == SRLM_SQL_DATA_BIRD;
    srlm_sql_dataset_free(d);
    if (st) return cli_fail("eval", st);

    char path[4096];
    snprintf(path, sizeof path, "%s/report.json", out);
    st = srlm_sql_eval_write_json(rep, path);
    srlm_rundb *rdb = NULL;
    if (!st) {
        snprintf(path, sizeof path, "%s/run.db", out);
        st = srlm_rundb_open(path, &rdb);
    }
    if (!st) {
        /* config: the arguments that decide the numbers */
        char cfg[16384] = "{\"data\":";
        json_str(cfg, sizeof cfg, data);
        strncat(cfg, ",\"db_dir\":", sizeof cfg - strlen(cfg) - 1);
        json_str(cfg, sizeof cfg, db_dir);
        strncat(cfg, pred_path ? ",\"predictions\":" : ",\"model\":", sizeof cfg - strlen(cfg) - 1);
        json_str(cfg, sizeof cfg, pred_path ? pred_path : common.model);
        if (!pred_path) {
            size_t l = strlen(cfg);
            snprintf(cfg + l, sizeof cfg - l, ",\"mode\":\"%s\",\"tree\":%d,\"votes\":%d,\"max_tokens\":%d,\"temperature\":%g,\"seed\":%llu",
                     la.mode == SRLM_SQL_FORMAT_SQLR1 ? "sqlr1" : "reex", la.tree, la.votes, la.max_tokens,
                     (double)mp_temperature, (unsigned long long)common.seed);
        }
        size_t cl = strlen(cfg);
        snprintf(cfg + cl, sizeof cfg - cl, ",\"format\":\"%s\",\"timeout_s\":%g}", is_bird ? "bird" : "spider",
                 timeout_s);
        int64_t run = 0;
        st = srlm_rundb_run_begin(rdb, "eval", cfg, device, &run);
        if (!st) st = srlm_sql_eval_write_rundb(rep, rdb, run, data);
        if (!st) st = srlm_rundb_metric(rdb, run, 0, "execution_accuracy",
                                        srlm_sql_eval_count(rep) ? (double)srlm_sql_eval_correct(rep) / (double)srlm_sql_eval_count(rep) : 0.0);
        if (!st) st = srlm_rundb_run_end(rdb, run, "ok");
    }
    srlm_rundb_close(rdb);
    char *summary = NULL;
    if (!st) st = srlm_sql_eval_summary(rep, &summary);
    srlm_sql_eval_report_free(rep);
    if (st) return cli_fail("eval", st);
    fputs(summary, stdout);
    free(summary);
    if (verr) return cli_fail("eval", srlm_errorf(SRLM_ERR_VULKAN, "%d validation message(s)", verr));
    return 0;
}
