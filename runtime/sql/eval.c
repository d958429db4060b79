/* eval.c: execution-accuracy evaluation over Spider- or BIRD-format data: loads the data and
 * predictions, runs gold and predicted SQL in the sandbox, matches results with the data's
 * rule and writes the summary, the JSON report and run-database rows. Predictions come from a
 * callback (a file here; a model-driven source plugs in the same way). It never prints. */
#include "sql/sandbox.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- files --------------------------------------------------------------------------------- */

static srlm_status read_file(const char *path, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    sqlbuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) sqlbuf_put(&b, tmp, n);
    int err = ferror(f);
    fclose(f);
    if (err) { free(b.p); return srlm_errorf(SRLM_ERR_IO, "reading '%s' failed", path); }
    size_t total = b.n;
    SRLM_TRY(sqlbuf_finish(&b, out));
    if (len) *len = total;
    return NULL;
}

/* ---- dataset --------------------------------------------------------------------------------- */

struct srlm_sql_dataset {
    cJSON *root;
    srlm_sql_data_format fmt;
    size_t n;
    srlm_sql_example *ex;
};

void srlm_sql_dataset_free(srlm_sql_dataset *d) {
    if (!d) return;
    cJSON_Delete(d->root);
    free(d->ex);
    free(d);
}
size_t srlm_sql_dataset_count(const srlm_sql_dataset *d) { return d->n; }
srlm_sql_data_format srlm_sql_dataset_format(const srlm_sql_dataset *d) { return d->fmt; }
const srlm_sql_example *srlm_sql_dataset_get(const srlm_sql_dataset *d, size_t i) { return i < d->n ? &d->ex[i] : NULL; }

static srlm_status field(const cJSON *o, size_t i, const char *name, const char *path, const char **out) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!f) return srlm_errorf(SRLM_ERR_FORMAT, "%s: entry %zu: missing field '%s'", path, i, name);
    if (!cJSON_IsString(f)) return srlm_errorf(SRLM_ERR_FORMAT, "%s: entry %zu: field '%s' is not a string", path, i, name);
    *out = f->valuestring;
    return NULL;
}

srlm_status srlm_sql_dataset_load(const char *path, srlm_sql_data_format fmt, srlm_sql_dataset **out) {
    *out = NULL;
    char *text = NULL;
    SRLM_TRY(read_file(path, &text, NULL));
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        srlm_status st = srlm_errorf(SRLM_ERR_FORMAT, "%s: not valid JSON (near byte %ld)", path,
                                     at ? (long)(at - text) : -1L);
        free(text);
        return st;
    }
    free(text);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return srlm_errorf(SRLM_ERR_FORMAT, "%s: expected a JSON list of questions", path);
    }
    srlm_sql_dataset *d = calloc(1, sizeof *d);
    if (!d) { cJSON_Delete(root); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    d->root = root;
    d->n = (size_t)cJSON_GetArraySize(root);
    if (fmt == SRLM_SQL_DATA_AUTO) {
        /* BIRD names the gold query "SQL", Spider "query" */
        const cJSON *first = d->n ? cJSON_GetArrayItem(root, 0) : NULL;
        if (first && cJSON_GetObjectItemCaseSensitive(first, "SQL")) fmt = SRLM_SQL_DATA_BIRD;
        else if (first && cJSON_GetObjectItemCaseSensitive(first, "query")) fmt = SRLM_SQL_DATA_SPIDER;
        else if (!first) fmt = SRLM_SQL_DATA_SPIDER;
        else {
            srlm_sql_dataset_free(d);
            return srlm_errorf(SRLM_ERR_FORMAT, "%s: entry 0 has neither 'query' (Spider) nor 'SQL' (BIRD): "
                               "cannot tell the format (use --format)", path);
        }
    }
    d->fmt = fmt;
    d->ex = calloc(d->n ? d->n : 1, sizeof *d->ex);
    if (!d->ex) { srlm_sql_dataset_free(d); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    srlm_status st = NULL;
    size_t i = 0;
    for (const cJSON *o = root->child; o && !st; o = o->next, i++) {
        srlm_sql_example *e = &d->ex[i];
        if (!cJSON_IsObject(o)) { st = srlm_errorf(SRLM_ERR_FORMAT, "%s: entry %zu is not an object", path, i); break; }
        if ((st = field(o, i, "question", path, &e->question))) break;
        if ((st = field(o, i, "db_id", path, &e->db_id))) break;
        if (fmt == SRLM_SQL_DATA_BIRD) {
            if ((st = field(o, i, "SQL", path, &e->gold_sql))) break;
            if ((st = field(o, i, "evidence", path, &e->evidence))) break;
            if ((st = field(o, i, "difficulty", path, &e->difficulty))) break;
        } else {
            if ((st = field(o, i, "query", path, &e->gold_sql))) break;
        }
        if (!*e->db_id || strchr(e->db_id, '/') || strstr(e->db_id, ".."))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: entry %zu: db_id '%s' is not a plain name", path, i, e->db_id);
    }
    if (st) { srlm_sql_dataset_free(d); return st; }
    *out = d;
    return NULL;
}

/* ---- predictions -------------------------------------------------------------------------- */

void srlm_sql_predictions_free(char **p, size_t n) {
    if (!p) return;
    for (size_t i = 0; i < n; i++) free(p[i]);
    free(p);
}

static int py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

srlm_status srlm_sql_predictions_load(const char *path, size_t expected, char ***out, size_t *nout) {
    *out = NULL;
    *nout = 0;
    char *text = NULL;
    size_t len = 0;
    SRLM_TRY(read_file(path, &text, &len));
    const char *p = text;
    while (py_space(*p)) p++;
    char **v = NULL;
    size_t n = 0, cap = 0;
    srlm_status st = NULL;
    if (*p == '{') {
        /* BIRD's predict_dev.json: {"0": "SQL\t----- bird -----\tdb_id", ...} */
        cJSON *root = cJSON_Parse(text);
        if (!root || !cJSON_IsObject(root)) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: starts with '{' but is not a JSON object", path);
        } else {
            n = (size_t)cJSON_GetArraySize(root);
            v = calloc(n ? n : 1, sizeof *v);
            if (!v) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
            for (const cJSON *it = root->child; it && !st; it = it->next) {
                char *end = NULL;
                long long k = strtoll(it->string ? it->string : "", &end, 10);
                if (!it->string || !*it->string || *end || k < 0 || (size_t)k >= n || v[k]) {
                    st = srlm_errorf(SRLM_ERR_FORMAT, "%s: key '%s' is not a question index 0..%zu (or repeats)", path,
                                     it->string ? it->string : "", n ? n - 1 : 0);
                } else if (!cJSON_IsString(it)) {
                    st = srlm_errorf(SRLM_ERR_FORMAT, "%s: entry '%s' is not a string", path, it->string);
                } else {
                    const char *val = it->valuestring;
                    const char *cut = strstr(val, "\t----- bird -----\t");
                    size_t len = cut ? (size_t)(cut - val) : strlen(val);
                    v[k] = malloc(len + 1);
                    if (!v[k]) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                    memcpy(v[k], val, len);
                    v[k][len] = '\0';
                }
            }
        }
        cJSON_Delete(root);
    } else if (*p == '[') {
        cJSON *root = cJSON_Parse(text);
        if (!root || !cJSON_IsArray(root)) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s: starts with '[' but is not a JSON list", path);
        } else {
            size_t k = 0;
            for (const cJSON *it = root->child; it && !st; it = it->next, k++) {
                if (!cJSON_IsString(it)) { st = srlm_errorf(SRLM_ERR_FORMAT, "%s: entry %zu is not a string", path, k); break; }
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    char **nv = realloc(v, cap * sizeof *nv);
                    if (!nv) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                    v = nv;
                }
                v[n] = strdup(it->valuestring);
                if (!v[n]) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                n++;
            }
        }
        cJSON_Delete(root);
    } else {
        /* Spider's evaluator: [l.strip().split('\t') for l in f if l.strip()] -> first field */
        const char *s = text, *end = text + len;
        while (s < end && !st) {
            const char *e = memchr(s, '\n', (size_t)(end - s));
            if (!e) e = end;
            const char *a = s, *b = e;
            while (a < b && py_space(*a)) a++;
            while (b > a && py_space(b[-1])) b--;
            if (b > a) {
                const char *tab = memchr(a, '\t', (size_t)(b - a));
                if (tab) b = tab;
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    char **nv = realloc(v, cap * sizeof *nv);
                    if (!nv) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                    v = nv;
                }
                v[n] = malloc((size_t)(b - a) + 1);
                if (!v[n]) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                memcpy(v[n], a, (size_t)(b - a));
                v[n][b - a] = '\0';
                n++;
            }
            s = e + 1;
        }
    }
    free(text);
    if (!st && expected && n != expected)
        st = srlm_errorf(SRLM_ERR_FORMAT, "%s: %zu predictions for %zu questions (one SQL per non-empty line, "
                         "or a JSON list of strings)", path, n, expected);
    if (st) { srlm_sql_predictions_free(v, n); return st; }
    *out = v;
    *nout = n;
    return NULL;
}

/* ---- evaluation ----------------------------------------------------------------------------- */

typedef struct entry {
    char *question, *gold_sql, *db_id, *difficulty;
} entry;

struct srlm_sql_eval_report {
    size_t n, correct;
    srlm_sql_verdict *v;
    entry *e;
    srlm_sql_rule rule;
    srlm_sql_data_format fmt;
    int64_t timeout_ms;
    double seconds;
};

size_t srlm_sql_eval_count(const srlm_sql_eval_report *r) { return r->n; }
size_t srlm_sql_eval_correct(const srlm_sql_eval_report *r) { return r->correct; }
const srlm_sql_verdict *srlm_sql_eval_verdict(const srlm_sql_eval_report *r, size_t i) { return i < r->n ? &r->v[i] : NULL; }
double srlm_sql_eval_seconds(const srlm_sql_eval_report *r) { return r->seconds; }

void srlm_sql_eval_report_free(srlm_sql_eval_report *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].predicted_sql);
        free(r->v[i].error);
        free(r->v[i].gold_error);
        free(r->e[i].question);
        free(r->e[i].gold_sql);
        free(r->e[i].db_id);
        free(r->e[i].difficulty);
    }
    free(r->v);
    free(r->e);
    free(r);
}

/* The databases of one db_id. Spider's test-suite evaluator runs both queries on every file
 * of the folder whose name contains ".sqlite" (its denotation test suite) and needs all to
 * agree; BIRD uses <db_id>.sqlite alone. The main file comes first. */
typedef struct conn { char *db_id; srlm_sql_db **db; size_t ndb; } conn;

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

static srlm_status open_one(const char *path, int64_t timeout_ms, srlm_sql_db **out) {
    srlm_sql_limits lim;
    srlm_sql_limits_default(&lim);
    /* Evaluation keeps whole results (a truncated result cannot be compared) and lets the
     * gold queries of real benchmarks run: larger caps than the decode loop's. */
    lim.deadline_ms = timeout_ms;
    lim.max_rows = 10000000;
    lim.max_bytes = 1LL << 30;
    lim.max_sql_length = 1000000;
    lim.max_length = 4000000;     /* stored values longer than this could not be read */
    lim.max_like_pattern = 200;
    lim.max_vdbe_op = 1000000;
    lim.max_expr_depth = 1000;
    lim.max_compound_select = 500;
    return srlm_sql_open(path, &lim, out);
}

static srlm_status get_conn(conn **cs, size_t *nc, const char *dir, const char *db_id, int64_t timeout_ms,
                            int test_suite, conn **out) {
    for (size_t i = 0; i < *nc; i++)
        if (!strcmp((*cs)[i].db_id, db_id)) { *out = &(*cs)[i]; return NULL; }
    conn c = {0};
    c.db_id = strdup(db_id);
    if (!c.db_id) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    char *names[256];
    size_t nn = 0;
    sqlbuf main_name = {0};
    sqlbuf_printf(&main_name, "%s.sqlite", db_id);
    char *mainf = NULL;
    srlm_status st = sqlbuf_finish(&main_name, &mainf);
    if (!st && (names[nn] = strdup(mainf)) != NULL) nn++;
    else if (!st) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    if (!st && test_suite) {
        sqlbuf d = {0};
        sqlbuf_printf(&d, "%s/%s", dir, db_id);
        char *dp = NULL;
        st = sqlbuf_finish(&d, &dp);
        DIR *dh = st ? NULL : opendir(dp);
        struct dirent *e;
        size_t first_extra = nn;
        while (dh && (e = readdir(dh)) && nn < 256) {
            if (!strstr(e->d_name, ".sqlite") || !strcmp(e->d_name, mainf) || ends_with(e->d_name, "-journal") ||
                ends_with(e->d_name, "-wal") || ends_with(e->d_name, "-shm"))
                continue;
            if (!(names[nn] = strdup(e->d_name))) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
            nn++;
        }
        if (dh) closedir(dh);
        free(dp);
        qsort(names + first_extra, nn - first_extra, sizeof *names, name_cmp);
    }
    free(mainf);
    if (!st) {
        c.db = calloc(nn ? nn : 1, sizeof *c.db);
        if (!c.db) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    for (size_t i = 0; i < nn && !st; i++) {
        sqlbuf p = {0};
        sqlbuf_printf(&p, "%s/%s/%s", dir, db_id, names[i]);
        char *path = NULL;
        if ((st = sqlbuf_finish(&p, &path))) break;
        st = open_one(path, timeout_ms, &c.db[c.ndb]);
        free(path);
        if (st) st = srlm_status_wrap(st, "database of '%s': ", db_id);
        else c.ndb++;
    }
    for (size_t i = 0; i < nn; i++) free(names[i]);
    conn *ncs = st ? NULL : realloc(*cs, (*nc + 1) * sizeof *ncs);
    if (!st && !ncs) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    if (st) {
        for (size_t i = 0; i < c.ndb; i++) srlm_sql_close(c.db[i]);
        free(c.db);
        free(c.db_id);
        return st;
    }
    *cs = ncs;
    (*cs)[*nc] = c;
    *out = &(*cs)[*nc];
    (*nc)++;
    return NULL;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static char *describe(const srlm_sql_result *r) {
    const char *what = r->outcome == SRLM_SQL_TIMEOUT ? "timeout" : r->outcome == SRLM_SQL_REFUSED ? "refused" : "error";
    size_t n = strlen(what) + strlen(r->error ? r->error : "") + 4;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s: %s", what, r->error ? r->error : "");
    return s;
}

/* Executes one question on every database of c; fills v. Returns an error only for
 * out-of-memory. The prediction is correct when it matches the gold on all of them. */
static srlm_status score_one(const conn *c, srlm_sql_rule rule, int64_t timeout_ms, const char *gold,
                             const char *pred, srlm_sql_verdict *v) {
    char *g = NULL, *p = NULL;
    srlm_status st = NULL;
    if (rule == SRLM_SQL_RULE_SPIDER) {
        if ((st = srlm_sql_spider_preprocess(gold, &g))) return st;
        if ((st = srlm_sql_spider_preprocess(pred, &p))) { free(g); return st; }
    } else {
        g = strdup(gold);
        p = strdup(pred);
        if (!g || !p) { free(g); free(p); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    }
    int order = rule == SRLM_SQL_RULE_SPIDER && srlm_sql_spider_order_matters(g);
    v->correct = 1;
    for (size_t k = 0; k < c->ndb && v->correct && !st; k++) {
        srlm_sql_result *gr = NULL, *pr = NULL;
        v->correct = 0;
        if ((st = srlm_sql_exec(c->db[k], g, strlen(g), timeout_ms, &gr))) break;
        v->gold_ms += gr->elapsed_ms;
        if (gr->outcome != SRLM_SQL_ROWS || gr->truncated) {
            v->gold_error = gr->outcome != SRLM_SQL_ROWS ? describe(gr) : strdup("gold result too large (truncated)");
        } else if (!(st = srlm_sql_exec(c->db[k], p, strlen(p), timeout_ms, &pr))) {
            v->pred_ms += pr->elapsed_ms;
            if (pr->outcome != SRLM_SQL_ROWS) v->error = describe(pr);
            else if (pr->truncated) v->error = strdup("result too large (truncated by the sandbox caps)");
            else {
                /* Spider's evaluator decodes text with errors="ignore" */
                if (rule == SRLM_SQL_RULE_SPIDER) {
                    srlm_sql_result_utf8_ignore(gr);
                    srlm_sql_result_utf8_ignore(pr);
                }
                v->correct = srlm_sql_results_match(gr, pr, rule, order);
            }
        }
        srlm_sql_result_free(gr);
        srlm_sql_result_free(pr);
    }
    if (st) v->correct = 0;
    free(g);
    free(p);
    return st;
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void close_conns(conn *cs, size_t nc) {
    for (size_t i = 0; i < nc; i++) {
        for (size_t k = 0; k < cs[i].ndb; k++) srlm_sql_close(cs[i].db[k]);
        free(cs[i].db);
        free(cs[i].db_id);
    }
    free(cs);
}

/* Shared state of a parallel evaluation: the calling thread produces predictions in question
 * order (so a model-driven predictor need not be thread-safe); workers, each with its own
 * connections, score every question whose prediction is ready. */
typedef struct evalshare {
    const srlm_sql_dataset *d;
    const srlm_sql_eval_opts *o;
    srlm_sql_eval_report *r;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t ready, next, done;
    int producing, stop;
    srlm_status err;      /* the error of the lowest question index, for a deterministic message */
    size_t err_index;
} evalshare;

static void set_err(evalshare *s, size_t i, srlm_status st) {
    if (!s->err || i < s->err_index) {
        srlm_status_free(s->err);
        s->err = st;
        s->err_index = i;
    } else {
        srlm_status_free(st);
    }
    s->stop = 1;
}

/* Scores question i with the worker's connections; fills r->v[i]. */
static srlm_status score_index(evalshare *s, conn **cs, size_t *nc, size_t i) {
    const srlm_sql_example *ex = &s->d->ex[i];
    srlm_sql_verdict *v = &s->r->v[i];
    conn *c = NULL;
    srlm_status st = get_conn(cs, nc, s->o->db_dir, ex->db_id, s->r->timeout_ms, s->r->rule == SRLM_SQL_RULE_SPIDER, &c);
    if (st) return srlm_status_wrap(st, "question %zu: ", i);
    if (!v->predicted_sql) {
        v->error = strdup("no prediction");
        return v->error ? NULL : srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    return score_one(c, s->r->rule, s->r->timeout_ms, ex->gold_sql, v->predicted_sql, v);
}

static void finish_one(evalshare *s, size_t i) {
    /* called with the lock held */
    s->done++;
    if (s->r->v[i].correct) s->r->correct++;
    if (s->o->progress) s->o->progress(s->o->progress_ctx, s->done, s->d->n, s->r->correct);
}

static void *worker(void *arg) {
    evalshare *s = arg;
    conn *cs = NULL;
    size_t nc = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->next >= s->ready && s->producing) pthread_cond_wait(&s->cv, &s->mu);
        if (s->stop || s->next >= s->ready) break;
        size_t i = s->next++;
        pthread_mutex_unlock(&s->mu);
        srlm_status st = score_index(s, &cs, &nc, i);
        pthread_mutex_lock(&s->mu);
        if (st) set_err(s, i, st);
        else finish_one(s, i);
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    close_conns(cs, nc);
    return NULL;
}

srlm_status srlm_sql_eval_run(const srlm_sql_dataset *d, const srlm_sql_eval_opts *o,
                              srlm_sql_predict_fn predict, void *predict_ctx, srlm_sql_eval_report **out) {
    *out = NULL;
    if (!o || !o->db_dir || !predict) return srlm_errorf(SRLM_ERR_INVALID, "srlm_sql_eval_run: missing db_dir or predictor");
    srlm_sql_eval_report *r = calloc(1, sizeof *r);
    if (!r) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    r->fmt = d->fmt;
    r->rule = o->rule_set ? o->rule : d->fmt == SRLM_SQL_DATA_BIRD ? SRLM_SQL_RULE_BIRD : SRLM_SQL_RULE_SPIDER;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : d->fmt == SRLM_SQL_DATA_BIRD ? 30000 : 60000;
    r->v = calloc(d->n ? d->n : 1, sizeof *r->v);
    r->e = calloc(d->n ? d->n : 1, sizeof *r->e);
    if (!r->v || !r->e) { srlm_sql_eval_report_free(r); return srlm_errorf(SRLM_ERR_OOM, "out of host memory"); }
    r->n = d->n;
    evalshare s = {0};
    s.d = d;
    s.o = o;
    s.r = r;
    s.producing = 1;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    int jobs = o->jobs > 64 ? 64 : o->jobs;
    pthread_t th[64];
    int nth = 0;
    for (int k = 0; jobs > 1 && k < jobs; k++) {
        if (pthread_create(&th[nth], NULL, worker, &s) != 0) break;
        nth++;
    }
    conn *cs = NULL; /* the calling thread's connections, when it scores itself */
    size_t nc = 0;
    int64_t t0 = mono_ns();
    for (size_t i = 0; i < d->n; i++) {
        const srlm_sql_example *ex = &d->ex[i];
        entry *e = &r->e[i];
        e->question = dup_or_null(ex->question);
        e->gold_sql = dup_or_null(ex->gold_sql);
        e->db_id = dup_or_null(ex->db_id);
        e->difficulty = dup_or_null(ex->difficulty);
        char *pred = NULL;
        srlm_status st = predict(predict_ctx, i, ex, &pred);
        pthread_mutex_lock(&s.mu);
        int stop = s.stop;
        if (st) set_err(&s, i, st);
        else r->v[i].predicted_sql = pred;
        if (!st && !stop) s.ready = i + 1;
        pthread_cond_broadcast(&s.cv);
        pthread_mutex_unlock(&s.mu);
        if (st || stop) break;
        if (nth == 0) {
            /* no workers: score here, in order */
            s.next = i + 1;
            st = score_index(&s, &cs, &nc, i);
            if (st) { set_err(&s, i, st); break; }
            finish_one(&s, i);
        }
    }
    pthread_mutex_lock(&s.mu);
    s.producing = 0;
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.mu);
    for (int k = 0; k < nth; k++) pthread_join(th[k], NULL);
    close_conns(cs, nc);
    r->seconds = (double)(mono_ns() - t0) / 1e9;
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    if (s.err) { srlm_sql_eval_report_free(r); return s.err; }
    *out = r;
    return NULL;
}

/* ---- reports ---------------------------------------------------------------------------------- */

static const char *verdict_name(const srlm_sql_verdict *v) {
    if (v->correct) return "correct";
    if (v->gold_error) return "gold_error";
    if (v->error) return "error";
    return "wrong";
}

static const char *const bird_levels[3] = {"simple", "moderate", "challenging"};

srlm_status srlm_sql_eval_summary(const srlm_sql_eval_report *r, char **out) {
    sqlbuf b = {0};
    size_t errors = 0, gold_errors = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].gold_error) gold_errors++;
        else if (r->v[i].error) errors++;
    }
    sqlbuf_printf(&b, "rule: %s; timeout %lld ms; %.2f s\n",
                  r->rule == SRLM_SQL_RULE_BIRD ? "BIRD (set of rows, columns in order, DISTINCT kept)"
                                                 : "Spider (multiset of rows, order only with ORDER BY, any "
                                                   "column permutation, DISTINCT removed)",
                  (long long)r->timeout_ms, r->seconds);
    if (r->fmt == SRLM_SQL_DATA_BIRD) {
        size_t cnt[4] = {0}, ok[4] = {0};
        for (size_t i = 0; i < r->n; i++) {
            for (int k = 0; k < 3; k++)
                if (r->e[i].difficulty && !strcmp(r->e[i].difficulty, bird_levels[k])) {
                    cnt[k]++;
                    ok[k] += (size_t)r->v[i].correct;
                }
            cnt[3]++;
            ok[3] += (size_t)r->v[i].correct;
        }
        sqlbuf_printf(&b, "%-10s %12s %12s %12s %12s\n", "", "simple", "moderate", "challenging", "total");
        sqlbuf_printf(&b, "%-10s", "count");
        for (int k = 0; k < 4; k++) sqlbuf_printf(&b, " %12zu", cnt[k]);
        sqlbuf_printf(&b, "\n%-10s", "accuracy");
        for (int k = 0; k < 4; k++) {
            if (cnt[k]) sqlbuf_printf(&b, " %12.4f", (double)ok[k] / (double)cnt[k]);
            else sqlbuf_printf(&b, " %12s", "-");
        }
        sqlbuf_puts(&b, "\n");
    } else {
        sqlbuf_printf(&b, "%-10s %12s %12s %12s\n", "", "questions", "correct", "errors");
        sqlbuf_printf(&b, "%-10s %12zu %12zu %12zu\n", "total", r->n, r->correct, errors);
    }
    if (gold_errors) sqlbuf_printf(&b, "gold queries that failed (counted wrong): %zu\n", gold_errors);
    sqlbuf_printf(&b, "execution accuracy: %.4f (%zu/%zu)\n", r->n ? (double)r->correct / (double)r->n : 0.0,
                  r->correct, r->n);
    return sqlbuf_finish(&b, out);
}

static void add_str(cJSON *o, const char *k, const char *v) {
    if (v) cJSON_AddStringToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

srlm_status srlm_sql_eval_write_json(const srlm_sql_eval_report *r, const char *path) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    cJSON_AddStringToObject(root, "format", r->fmt == SRLM_SQL_DATA_BIRD ? "bird" : "spider");
    cJSON_AddStringToObject(root, "rule", r->rule == SRLM_SQL_RULE_BIRD ? "bird" : "spider");
    cJSON_AddNumberToObject(root, "timeout_ms", (double)r->timeout_ms);
    cJSON_AddNumberToObject(root, "count", (double)r->n);
    cJSON_AddNumberToObject(root, "correct", (double)r->correct);
    cJSON_AddNumberToObject(root, "execution_accuracy", r->n ? (double)r->correct / (double)r->n : 0.0);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    if (r->fmt == SRLM_SQL_DATA_BIRD) {
        cJSON *bd = cJSON_AddObjectToObject(root, "by_difficulty");
        for (int k = 0; k < 3 && bd; k++) {
            size_t c = 0, ok = 0;
            for (size_t i = 0; i < r->n; i++)
                if (r->e[i].difficulty && !strcmp(r->e[i].difficulty, bird_levels[k])) { c++; ok += (size_t)r->v[i].correct; }
            cJSON *lv = cJSON_AddObjectToObject(bd, bird_levels[k]);
            if (!lv) continue;
            cJSON_AddNumberToObject(lv, "count", (double)c);
            cJSON_AddNumberToObject(lv, "correct", (double)ok);
            cJSON_AddNumberToObject(lv, "execution_accuracy", c ? (double)ok / (double)c : 0.0);
        }
    }
    cJSON *arr = cJSON_AddArrayToObject(root, "verdicts");
    for (size_t i = 0; i < r->n && arr; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddItemToArray(arr, o);
        cJSON_AddNumberToObject(o, "index", (double)i);
        add_str(o, "db_id", r->e[i].db_id);
        add_str(o, "question", r->e[i].question);
        if (r->e[i].difficulty) add_str(o, "difficulty", r->e[i].difficulty);
        add_str(o, "verdict", verdict_name(&r->v[i]));
        add_str(o, "predicted_sql", r->v[i].predicted_sql);
        add_str(o, "gold_sql", r->e[i].gold_sql);
        add_str(o, "error", r->v[i].error);
        if (r->v[i].gold_error) add_str(o, "gold_error", r->v[i].gold_error);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return srlm_errorf(SRLM_ERR_OOM, "out of host memory writing '%s'", path);
    FILE *f = fopen(path, "wb");
    if (!f) { free(text); return srlm_errorf(SRLM_ERR_IO, "cannot create '%s': %s", path, strerror(errno)); }
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF;
    bad |= fclose(f) != 0;
    free(text);
    if (bad) return srlm_errorf(SRLM_ERR_IO, "writing '%s' failed", path);
    return NULL;
}

srlm_status srlm_sql_eval_write_rundb(const srlm_sql_eval_report *r, srlm_rundb *db, int64_t run_id,
                                      const char *dataset) {
    for (size_t i = 0; i < r->n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        add_str(o, "db_id", r->e[i].db_id);
        add_str(o, "gold_sql", r->e[i].gold_sql);
        if (r->e[i].difficulty) add_str(o, "difficulty", r->e[i].difficulty);
        add_str(o, "error", r->v[i].error);
        if (r->v[i].gold_error) add_str(o, "gold_error", r->v[i].gold_error);
        cJSON_AddNumberToObject(o, "pred_ms", r->v[i].pred_ms);
        cJSON_AddNumberToObject(o, "gold_ms", r->v[i].gold_ms);
        char *details = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!details) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        srlm_status st = srlm_rundb_evaluation(db, run_id, dataset, (int64_t)i, verdict_name(&r->v[i]),
                                               r->v[i].predicted_sql, details);
        free(details);
        SRLM_TRY(st);
    }
    return srlm_rundb_flush(db);
}
