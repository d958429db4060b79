/* sqlloop.c: the execution-aware text-to-SQL decode loop (ReEx-SQL and SQL-R1 formats) over
 * the batched engine: per-branch pauses at </intermediate_sql>, SQL on worker threads, result
 * feedback prefilled as an extend, tree forks sharing KV blocks, the final-SQL vote. Not the
 * sampler (decode/sampler.c), the tag detector (decode/tagmatch.c) or the sandbox (sandbox.c):
 * it drives them. */
#include "decode/engine.h"
#include "decode/sampler.h"
#include "decode/tagmatch.h"
#include "grow.h"
#include "sql/sandbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- worker pool ---------------------------------------------------------------------- */

typedef struct job {
    struct job *next;
    int branch;
    int final;              /* 1: the leaf's final SQL; 0: an intermediate query */
    char *sql;
    const char *db_path;    /* borrowed from the run */
    int64_t deadline_ms;
    int feedback_rows;
    srlm_sql_result *result;
    char *feedback;
    srlm_status err;        /* OOM/INVALID from the sandbox: aborts the run */
    uint64_t step_submit;
    double t_submit;
} job;

typedef struct worker {
    pthread_t th;
    struct srlm_sqlloop *l;
    srlm_sql_db *db;        /* cached connection of db_path */
    char *db_path;
    bool started;
} worker;

struct srlm_sqlloop {
    srlm_engine *e;
    const srlm_tokenizer *tok;
    int n_workers;
    worker *w;
    pthread_mutex_t mu;
    pthread_cond_t has_job, has_done;
    job *queue, *queue_tail, *done;
    bool stop;
};

static void job_free(job *j) {
    if (!j) return;
    free(j->sql);
    srlm_sql_result_free(j->result);
    free(j->feedback);
    srlm_status_free(j->err);
    free(j);
}

static void run_job(worker *w, job *j) {
    if (!w->db_path || strcmp(w->db_path, j->db_path) != 0) {
        srlm_sql_close(w->db);
        free(w->db_path);
        w->db = NULL;
        w->db_path = NULL;
        srlm_sql_limits lim;
        srlm_sql_limits_default(&lim);
        j->err = srlm_sql_open(j->db_path, &lim, &w->db);
        if (j->err) return;
        w->db_path = strdup(j->db_path);
        if (!w->db_path) {
            j->err = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
            return;
        }
    }
    j->err = srlm_sql_exec(w->db, j->sql, strlen(j->sql), j->deadline_ms, &j->result);
    if (!j->err) j->err = srlm_sql_result_feedback(j->result, j->feedback_rows, &j->feedback);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    srlm_sqlloop *l = w->l;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && !l->queue) pthread_cond_wait(&l->has_job, &l->mu);
        if (l->stop) break;
        job *j = l->queue;
        l->queue = j->next;
        if (!l->queue) l->queue_tail = NULL;
        pthread_mutex_unlock(&l->mu);
        run_job(w, j);
        pthread_mutex_lock(&l->mu);
        j->next = l->done;
        l->done = j;
        pthread_cond_broadcast(&l->has_done);
    }
    pthread_mutex_unlock(&l->mu);
    srlm_sql_close(w->db);
    free(w->db_path);
    return NULL;
}

void srlm_sqlloop_destroy(srlm_sqlloop *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->has_job);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->n_workers; i++)
        if (l->w[i].started) pthread_join(l->w[i].th, NULL);
    while (l->queue) {
        job *j = l->queue;
        l->queue = j->next;
        job_free(j);
    }
    while (l->done) {
        job *j = l->done;
        l->done = j->next;
        job_free(j);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->has_job);
    pthread_cond_destroy(&l->has_done);
    free(l->w);
    free(l);
}

srlm_status srlm_sqlloop_create(srlm_engine *e, const srlm_tokenizer *tok, int n_workers, srlm_sqlloop **out) {
    *out = NULL;
    if (!e || !tok) return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: engine and tokenizer are required");
    if (n_workers <= 0) n_workers = 2;
    if (n_workers > 64) n_workers = 64;
    srlm_sqlloop *l = calloc(1, sizeof *l);
    if (!l) return srlm_errorf(SRLM_ERR_OOM, "out of host memory for the SQL loop");
    l->w = calloc((size_t)n_workers, sizeof *l->w);
    if (!l->w) {
        free(l);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory for the SQL loop");
    }
    l->e = e;
    l->tok = tok;
    l->n_workers = n_workers;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->has_job, NULL);
    pthread_cond_init(&l->has_done, NULL);
    for (int i = 0; i < n_workers; i++) {
        l->w[i].l = l;
        if (pthread_create(&l->w[i].th, NULL, worker_main, &l->w[i]) != 0) {
            srlm_sqlloop_destroy(l);
            return srlm_errorf(SRLM_ERR_OOM, "sqlloop: cannot start SQL worker thread %d", i);
        }
        l->w[i].started = true;
    }
    *out = l;
    return NULL;
}

static void submit(srlm_sqlloop *l, job *j) {
    pthread_mutex_lock(&l->mu);
    j->next = NULL;
    if (l->queue_tail) l->queue_tail->next = j;
    else l->queue = j;
    l->queue_tail = j;
    pthread_cond_signal(&l->has_job);
    pthread_mutex_unlock(&l->mu);
}

/* Takes every finished job (blocking until at least one when `wait`). */
static job *collect(srlm_sqlloop *l, bool wait) {
    pthread_mutex_lock(&l->mu);
    while (wait && !l->done) pthread_cond_wait(&l->has_done, &l->mu);
    job *d = l->done;
    l->done = NULL;
    pthread_mutex_unlock(&l->mu);
    return d;
}

/* ---- options and outputs ----------------------------------------------------------------- */

void srlm_sqlloop_options_default(srlm_sqlloop_options *o) {
    memset(o, 0, sizeof *o);
    o->format = SRLM_SQL_FORMAT_REEX;
    srlm_sample_params_default(&o->sample);
    o->sample.max_tokens = 1024;
    o->open_think = 1;
    o->max_interactions = 10;
    o->deadline_ms = 10000;
    o->feedback_rows = 3;
    o->n_samples = 1;
    o->tree_width = 1;
    o->max_leaves = 8;
    o->max_depth = 3;
}

const char *srlm_sqlloop_finish_name(int finish) {
    switch (finish) {
    case SRLM_SQLLOOP_FINAL: return "final";
    case SRLM_SQLLOOP_STOP_ID: return "stop-id";
    case SRLM_SQLLOOP_LENGTH: return "length";
    case SRLM_SQLLOOP_INTERACTIONS: return "interactions";
    case SRLM_SQLLOOP_CONTEXT: return "context";
    default: return "none";
    }
}

void srlm_sqlloop_out_free(srlm_sqlloop_out *out) {
    if (!out) return;
    for (int i = 0; i < out->n_leaves; i++) {
        srlm_sqlloop_leaf *f = &out->leaves[i];
        free(f->tokens), free(f->origin), free(f->logprob), free(f->logprob_sampled), free(f->entropy);
        free(f->text), free(f->queries), free(f->final_sql);
        srlm_sql_result_free(f->final_result);
    }
    for (int i = 0; i < out->n_branches; i++) free(out->branches[i].tokens);
    for (int i = 0; i < out->n_queries; i++) {
        free(out->queries[i].sql);
        srlm_sql_result_free(out->queries[i].result);
        free(out->queries[i].feedback);
    }
    free(out->leaves), free(out->branches), free(out->queries);
    memset(out, 0, sizeof *out);
}

srlm_status srlm_sqlloop_prompt(const srlm_tokenizer *tok, srlm_sql_db *db, const srlm_sql_prompt_opts *po,
                                const char *question, const char *evidence, int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    char *text = NULL;
    SRLM_TRY(srlm_sql_prompt_chatml(db, po, question, evidence, &text));
    srlm_status st = srlm_tokenizer_encode(tok, text, strlen(text), SRLM_ENCODE_SPECIAL | SRLM_ENCODE_BOS, ids, n);
    free(text);
    return st;
}

/* ---- branches ------------------------------------------------------------------------------ */

typedef enum { B_DECODE, B_WAIT_SQL, B_EXTEND, B_FINALIZING, B_DONE, B_FORKED } bstate;

typedef struct branch {
    int parent, depth, seq;     /* engine sequence, -1 when none */
    bstate state;
    size_t start;               /* path tokens before this branch */
    /* the whole path, prompt included */
    int32_t *tok;
    uint8_t *origin;
    float *lp, *lps, *ent;
    size_t n, cap;
    char *text;                 /* assistant bytes after the prompt */
    size_t n_text, cap_text, text_mark; /* text_mark: end of the last inserted result */
    int *queries;
    int n_queries;
    size_t cap_queries;
    int n_inter;                /* intermediate queries executed on the path */
    size_t n_model;             /* model tokens on the path */
    srlm_tagmatch *tm;
    int32_t *ext;               /* tokens to prefill at the next step (pending + result) */
    size_t n_ext;
    int finish;
    char *final_sql;
    srlm_sql_result *final_result;
    int format_ok;
    const char *format_error;
    int lo, hi;                 /* forced-trace scripts owned [lo, hi) */
} branch;

typedef struct run {
    srlm_sqlloop *l;
    const srlm_sqlloop_options *o;
    const char *db_path;
    int V, max_ctx;
    int32_t stop_ids[20];
    srlm_sample_params sp;
    srlm_sampler *sampler;
    branch *b;
    int nb;
    size_t cap_b;
    srlm_sqlloop_query *q;
    int nq;
    size_t cap_q;
    int leaves;                 /* branches that are (or will be) leaves */
    int seqs;                   /* engine sequences held */
    int jobs_out;
    int free0;
    srlm_sqlloop_stats st;
} run;

static srlm_status push_tok(branch *b, int32_t t, int origin, float lp, float lps, float ent) {
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        int32_t *a = realloc(b->tok, c * sizeof *a);
        if (a) b->tok = a;
        uint8_t *o = realloc(b->origin, c);
        if (o) b->origin = o;
        float *x = realloc(b->lp, c * sizeof *x);
        if (x) b->lp = x;
        float *y = realloc(b->lps, c * sizeof *y);
        if (y) b->lps = y;
        float *z = realloc(b->ent, c * sizeof *z);
        if (z) b->ent = z;
        if (!a || !o || !x || !y || !z) return srlm_errorf(SRLM_ERR_OOM, "out of host memory in the SQL loop");
        b->cap = c;
    }
    b->tok[b->n] = t, b->origin[b->n] = (uint8_t)origin, b->lp[b->n] = lp, b->lps[b->n] = lps, b->ent[b->n] = ent;
    b->n++;
    return NULL;
}

static srlm_status add_text(branch *b, const char *s, size_t n) {
    SRLM_TRY(srlm_grow((void **)&b->text, &b->cap_text, b->n_text + n + 1, 1, "in the SQL loop"));
    memcpy(b->text + b->n_text, s, n);
    b->n_text += n;
    b->text[b->n_text] = 0;
    return NULL;
}

static void branch_free(branch *b) {
    free(b->tok), free(b->origin), free(b->lp), free(b->lps), free(b->ent), free(b->text), free(b->queries);
    free(b->ext), free(b->final_sql);
    srlm_sql_result_free(b->final_result);
    srlm_tagmatch_destroy(b->tm);
}

static srlm_status new_tagmatch(const run *r, srlm_tagmatch **tm) {
    static const char *const reex[] = {"</intermediate_sql>", "</final_sql>"};
    static const char *const sqlr1[] = {"</answer>"};
    if (r->o->format == SRLM_SQL_FORMAT_SQLR1) return srlm_tagmatch_create(sqlr1, NULL, 1, tm);
    return srlm_tagmatch_create(reex, NULL, 2, tm);
}

static void note_blocks(run *r) {
    int used = r->free0 - srlm_engine_free_blocks(r->l->e);
    if (used > r->st.peak_blocks) r->st.peak_blocks = used;
}

static void release_seq(run *r, branch *b) {
    if (b->seq >= 0) {
        srlm_engine_seq_free(r->l->e, b->seq);
        b->seq = -1;
        r->seqs--;
    }
}

/* A new branch continuing `parent` (index) on engine sequence `seq`. Copies the host-side
 * path (tokens and text are small); the KV prefix is shared by the engine. */
static srlm_status branch_new(run *r, int parent, int seq, int lo, int hi, int *idx) {
    SRLM_TRY(srlm_grow((void **)&r->b, &r->cap_b, (size_t)r->nb + 1, sizeof *r->b, "in the SQL loop"));
    branch *c = &r->b[r->nb];
    memset(c, 0, sizeof *c);
    c->parent = parent;
    c->seq = seq;
    c->lo = lo, c->hi = hi;
    c->state = B_DECODE;
    *idx = r->nb++;
    const branch *p = parent >= 0 ? &r->b[parent] : NULL;
    srlm_status st = new_tagmatch(r, &c->tm);
    if (st || !p) return st;
    c->depth = p->depth + 1;
    c->start = p->n;
    c->n_inter = p->n_inter;
    c->n_model = p->n_model;
    c->text_mark = p->text_mark;
    size_t n = p->n;
    c->cap = n + 64;
    c->tok = malloc(c->cap * sizeof *c->tok), c->origin = malloc(c->cap);
    c->lp = malloc(c->cap * sizeof(float)), c->lps = malloc(c->cap * sizeof(float)), c->ent = malloc(c->cap * sizeof(float));
    if (!c->tok || !c->origin || !c->lp || !c->lps || !c->ent) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    memcpy(c->tok, p->tok, n * sizeof *c->tok), memcpy(c->origin, p->origin, n);
    memcpy(c->lp, p->lp, n * sizeof(float)), memcpy(c->lps, p->lps, n * sizeof(float)), memcpy(c->ent, p->ent, n * sizeof(float));
    c->n = n;
    if (p->n_text) SRLM_TRY(add_text(c, p->text, p->n_text));
    if (p->n_queries) {
        c->queries = malloc((size_t)p->n_queries * sizeof *c->queries);
        if (!c->queries) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        memcpy(c->queries, p->queries, (size_t)p->n_queries * sizeof *c->queries);
        c->n_queries = p->n_queries;
        c->cap_queries = (size_t)p->n_queries;
    }
    return NULL;
}

static srlm_status add_query(run *r, branch *b, int branch_idx, char *sql, srlm_sql_result *res, char *fb, int *qi) {
    srlm_status st = srlm_grow((void **)&r->q, &r->cap_q, (size_t)r->nq + 1, sizeof *r->q, "in the SQL loop");
    if (!st) st = srlm_grow((void **)&b->queries, &b->cap_queries, (size_t)b->n_queries + 1, sizeof *b->queries, "in the SQL loop");
    if (st) {
        free(sql), free(fb);
        srlm_sql_result_free(res);
        return st;
    }
    srlm_sqlloop_query *q = &r->q[r->nq];
    memset(q, 0, sizeof *q);
    q->sql = sql, q->result = res, q->feedback = fb, q->branch = branch_idx;
    b->queries[b->n_queries++] = r->nq;
    *qi = r->nq++;
    return NULL;
}

/* Parses the finished text, extracts the final SQL and hands it to a worker. */
static srlm_status finish_branch(run *r, int bi, int finish) {
    branch *b = &r->b[bi];
    b->finish = finish;
    release_seq(r, b);
    note_blocks(r);
    /* reex's parser reads the whole turn; sqlr1's counts the prompt's <think> itself */
    const char *pre = r->o->open_think && r->o->format == SRLM_SQL_FORMAT_REEX ? "<think>\n" : "";
    size_t np = strlen(pre);
    char *full = malloc(np + b->n_text + 1);
    if (!full) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    memcpy(full, pre, np);
    if (b->n_text) memcpy(full + np, b->text, b->n_text);
    full[np + b->n_text] = 0;
    char *sql = NULL;
    srlm_status st = NULL;
    if (r->o->format == SRLM_SQL_FORMAT_SQLR1) {
        srlm_sqlr1_parsed p;
        st = srlm_sqlr1_parse(full, r->o->open_think, &p);
        if (!st) {
            b->format_ok = p.format_ok;
            b->format_error = p.format_ok ? NULL : "sqlr1: think/answer tags or the ```sql block are missing or out of order";
            sql = p.sql, p.sql = NULL;
            srlm_sqlr1_parsed_free(&p);
        }
    } else {
        srlm_reex_parsed p;
        st = srlm_reex_parse(full, r->o->max_interactions, &p);
        if (!st) {
            b->format_ok = p.format_ok;
            b->format_error = p.error;
            sql = p.final_sql, p.final_sql = NULL;
            srlm_reex_parsed_free(&p);
        }
    }
    free(full);
    if (st) return st;
    if (finish != SRLM_SQLLOOP_FINAL) {
        b->format_ok = 0;
        if (!b->format_error) b->format_error = "decoding stopped before the final tag";
    }
    if (finish != SRLM_SQLLOOP_FINAL || !sql || !*sql) {
        b->final_sql = sql;
        b->state = B_DONE;
        return NULL;
    }
    b->final_sql = sql;
    job *j = calloc(1, sizeof *j);
    if (j) j->sql = strdup(sql);
    if (!j || !j->sql) {
        free(j);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    j->branch = bi, j->final = 1, j->db_path = r->db_path, j->deadline_ms = r->o->deadline_ms;
    j->feedback_rows = r->o->feedback_rows, j->step_submit = r->st.steps, j->t_submit = now_s();
    b->state = B_FINALIZING;
    r->jobs_out++;
    r->st.queries++;
    submit(r->l, j);
    return NULL;
}

/* The result text tokenised (no special tokens: a value in the database cannot inject
 * <|im_end|>), queued behind the token that closed the tag. */
static srlm_status queue_feedback(run *r, branch *b, const char *fb) {
    static const char open[] = "\n<result>\n", close[] = "\n</result>\n";
    size_t n = strlen(fb);
    char *t = malloc(sizeof open + n + sizeof close);
    if (!t) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    memcpy(t, open, sizeof open - 1);
    memcpy(t + sizeof open - 1, fb, n);
    memcpy(t + sizeof open - 1 + n, close, sizeof close);
    size_t tl = strlen(t);
    int32_t *ids = NULL;
    size_t ni = 0;
    srlm_status st = srlm_tokenizer_encode(r->l->tok, t, tl, 0, &ids, &ni);
    if (!st) st = add_text(b, t, tl);
    free(t);
    if (st) {
        free(ids);
        return st;
    }
    b->text_mark = b->n_text;
    int32_t *ext = realloc(ids, (ni + 1) * sizeof *ext);
    if (!ext) {
        free(ids);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    memmove(ext + 1, ext, ni * sizeof *ext);
    ext[0] = b->tok[b->n - 1]; /* the closing token itself is not in the cache yet */
    for (size_t i = 0; i < ni; i++) SRLM_TRY(push_tok(b, ext[i + 1], SRLM_SQL_ORIGIN_ENV, 0, 0, 0));
    free(b->ext);
    b->ext = ext;
    b->n_ext = ni + 1;
    b->state = B_EXTEND;
    srlm_tagmatch_reset(b->tm);
    return NULL;
}

/* A closing </intermediate_sql> ended at text offset `end` (exclusive) after `tag` bytes. */
static srlm_status on_intermediate(run *r, int bi, size_t tag_start) {
    branch *b = &r->b[bi];
    if (b->n_inter >= r->o->max_interactions) return finish_branch(r, bi, SRLM_SQLLOOP_INTERACTIONS);
    b->n_inter++;
    static const char opener[] = "<intermediate_sql>";
    const char *body = NULL;
    for (size_t i = b->text_mark; i + sizeof opener - 1 <= tag_start; i++)
        if (!memcmp(b->text + i, opener, sizeof opener - 1)) body = b->text + i + sizeof opener - 1;
    if (!body) {
        /* Unbalanced: nothing to run. The model is told, as it would be told of an SQL error. */
        char *fb = strdup("error: </intermediate_sql> without an opening <intermediate_sql>");
        if (!fb) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        int qi;
        SRLM_TRY(add_query(r, b, bi, NULL, NULL, fb, &qi));
        return queue_feedback(r, b, fb);
    }
    char *raw = strndup(body, (size_t)(b->text + tag_start - body)), *sql = NULL;
    if (!raw) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    srlm_status st = srlm_sql_collapse_ws(raw, &sql);
    free(raw);
    if (st) return st;
    job *j = calloc(1, sizeof *j);
    if (!j) {
        free(sql);
        return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    j->sql = sql, j->branch = bi, j->db_path = r->db_path, j->deadline_ms = r->o->deadline_ms;
    j->feedback_rows = r->o->feedback_rows, j->step_submit = r->st.steps, j->t_submit = now_s();
    b->state = B_WAIT_SQL;
    r->jobs_out++;
    r->st.queries++;
    submit(r->l, j);
    return NULL;
}

/* Chooses the next token of branch bi from its logits row (sampled, or forced) and acts on
 * it: stop id, length, a closing tag, or another decode step. */
static srlm_status next_token(run *r, int bi, const float *row) {
    branch *b = &r->b[bi];
    srlm_sample_seq ss = {.params = &r->sp, .seq_id = (uint64_t)bi, .position = b->n, .history = b->tok,
                          .n_history = b->n, .n_generated = 0};
    srlm_sample_out so;
    SRLM_TRY(srlm_sampler_sample(r->sampler, row, 1, &ss, &so));
    if (r->o->n_forced_traces > 0) {
        const int32_t *script = r->o->forced[b->lo];
        size_t k = b->n_model;
        if (k >= r->o->n_forced[b->lo]) return finish_branch(r, bi, SRLM_SQLLOOP_LENGTH);
        int32_t f = script[k];
        if (f < 0 || f >= r->V)
            return srlm_errorf(SRLM_ERR_INVALID, "forced trace %d: token %d at %zu is outside the vocabulary (%d)", b->lo, f, k, r->V);
        /* log p(f) = x_f - logsumexp(x), and logsumexp(x) = x_s - log p(s) for the sampled s */
        float lp = row[f] - row[so.token] + so.logprob;
        so.finish = SRLM_FINISH_NONE;
        for (int i = 0; i < r->sp.n_stop_ids; i++)
            if (r->sp.stop_ids[i] == f) so.finish = SRLM_FINISH_STOP_ID;
        so.token = f, so.logprob = lp, so.logprob_sampled = lp;
    }
    SRLM_TRY(push_tok(b, so.token, SRLM_SQL_ORIGIN_MODEL, so.logprob, so.logprob_sampled, so.entropy));
    b->n_model++;
    r->st.model_tokens++;
    if (so.finish == SRLM_FINISH_STOP_ID) return finish_branch(r, bi, SRLM_SQLLOOP_STOP_ID);
    size_t len = 0;
    const char *piece = srlm_tokenizer_is_special(r->l->tok, so.token) ? NULL : srlm_tokenizer_piece(r->l->tok, so.token, &len);
    if (piece && len) {
        size_t base = b->n_text;
        SRLM_TRY(add_text(b, piece, len));
        srlm_tagmatch_result m = srlm_tagmatch_feed(b->tm, piece, len);
        if (m.pattern >= 0) {
            size_t tag_end = base + m.consumed;
            bool final = r->o->format == SRLM_SQL_FORMAT_SQLR1 || m.pattern == 1;
            if (final) return finish_branch(r, bi, SRLM_SQLLOOP_FINAL);
            return on_intermediate(r, bi, tag_end - strlen("</intermediate_sql>"));
        }
    }
    if (r->o->sample.max_tokens > 0 && b->n_model >= (size_t)r->o->sample.max_tokens)
        return finish_branch(r, bi, SRLM_SQLLOOP_LENGTH);
    if ((int)b->n >= r->max_ctx) return finish_branch(r, bi, SRLM_SQLLOOP_CONTEXT);
    b->state = B_DECODE;
    return NULL;
}

/* Splits branch bi (whose sequence just computed `row`) into `w` children: child 0 takes its
 * sequence, the others fork it (full KV blocks shared, the partial one copied). Each child
 * then draws its own first token from the same row with its own RNG stream. */
static srlm_status fork_children(run *r, int bi, int w, const float *row) {
    int lo = r->b[bi].lo, hi = r->b[bi].hi;
    int seq0 = r->b[bi].seq;
    int first = r->nb;
    for (int c = 0; c < w; c++) {
        int seq = seq0;
        if (c > 0) {
            SRLM_TRY(srlm_engine_seq_fork(r->l->e, seq0, &seq));
            r->seqs++;
            r->st.forks++;
        }
        int clo = lo + (int)((long)c * (hi - lo) / w), chi = lo + (int)((long)(c + 1) * (hi - lo) / w);
        int idx;
        srlm_status st = branch_new(r, bi, seq, clo, chi, &idx);
        if (st) {
            if (c > 0) srlm_engine_seq_free(r->l->e, seq), r->seqs--;
            return st;
        }
    }
    r->b[bi].seq = -1;
    r->b[bi].state = B_FORKED;
    r->leaves += w - (bi == 0 ? 0 : 1);
    note_blocks(r);
    for (int c = 0; c < w; c++) SRLM_TRY(next_token(r, first + c, row));
    return NULL;
}

/* How many children a branch that just took its result gets. */
static int fork_width(const run *r, const branch *b) {
    const srlm_sqlloop_options *o = r->o;
    if (o->tree_width <= 1 || b->depth >= o->max_depth) return 1;
    int w = o->tree_width;
    int room = o->max_leaves - r->leaves + 1;
    if (w > room) w = room;
    int slots = srlm_engine_max_seqs(r->l->e) - r->seqs + 1;
    if (w > slots) w = slots;
    if (o->n_forced_traces > 0 && w > b->hi - b->lo) w = b->hi - b->lo;
    return w < 1 ? 1 : w;
}

static srlm_status apply_done(run *r, job *j) {
    r->jobs_out--;
    if (j->err) {
        srlm_status st = j->err;
        j->err = NULL;
        return srlm_status_wrap(st, "SQL of branch %d (%s): ", j->branch, j->sql);
    }
    branch *b = &r->b[j->branch];
    if (j->final) {
        b->final_result = j->result, j->result = NULL;
        b->state = B_DONE;
        return NULL;
    }
    int qi;
    SRLM_TRY(add_query(r, b, j->branch, j->sql, j->result, j->feedback, &qi));
    r->q[qi].steps_during = r->st.steps - j->step_submit;
    r->q[qi].ms = (now_s() - j->t_submit) * 1e3;
    j->sql = NULL, j->result = NULL, j->feedback = NULL;
    return queue_feedback(r, b, r->q[qi].feedback);
}

static srlm_status build_out(run *r, srlm_sqlloop_out *out) {
    out->n_branches = r->nb;
    out->branches = calloc((size_t)r->nb, sizeof *out->branches);
    out->leaves = calloc((size_t)r->nb, sizeof *out->leaves);
    if (!out->branches || !out->leaves) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    for (int i = 0; i < r->nb; i++) {
        branch *b = &r->b[i];
        srlm_sqlloop_branch *ob = &out->branches[i];
        ob->parent = b->parent, ob->depth = b->depth, ob->start = b->start, ob->leaf = -1;
        size_t end = b->n; /* a forked branch's path ends where its children start */
        ob->n_tokens = end - b->start;
        ob->tokens = malloc((ob->n_tokens + 1) * sizeof *ob->tokens);
        if (!ob->tokens) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        memcpy(ob->tokens, b->tok + b->start, ob->n_tokens * sizeof *ob->tokens);
        if (b->state == B_FORKED) continue;
        ob->leaf = out->n_leaves;
        srlm_sqlloop_leaf *f = &out->leaves[out->n_leaves++];
        f->branch = i;
        f->n_tokens = b->n, f->n_prompt = r->st.prompt_tokens;
        f->tokens = b->tok, f->origin = b->origin, f->logprob = b->lp, f->logprob_sampled = b->lps, f->entropy = b->ent;
        b->tok = NULL, b->origin = NULL, b->lp = b->lps = b->ent = NULL;
        f->text = b->text ? b->text : calloc(1, 1);
        b->text = NULL;
        if (!f->text) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        f->n_queries = b->n_queries, f->queries = b->queries, b->queries = NULL;
        f->final_sql = b->final_sql, b->final_sql = NULL;
        f->final_result = b->final_result, b->final_result = NULL;
        f->finish = b->finish, f->format_ok = b->format_ok, f->format_error = b->format_error;
    }
    out->n_queries = r->nq, out->queries = r->q;
    r->q = NULL, r->nq = 0;
    const srlm_sql_result **res = calloc((size_t)out->n_leaves + 1, sizeof *res);
    if (!res) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    for (int i = 0; i < out->n_leaves; i++) res[i] = out->leaves[i].final_result;
    out->chosen = srlm_sql_vote(res, (size_t)out->n_leaves, &out->votes);
    free(res);
    if (out->chosen >= 0) out->final_sql = out->leaves[out->chosen].final_sql;
    else
        for (int i = 0; i < out->n_leaves && !out->final_sql; i++)
            if (out->leaves[i].final_sql && *out->leaves[i].final_sql) out->final_sql = out->leaves[i].final_sql;
    if (out->chosen < 0) out->votes = 0;
    out->stats = r->st;
    return NULL;
}

static srlm_status check_options(const run *r, const srlm_sqlloop_options *o, size_t n_prompt) {
    int max_seqs = srlm_engine_max_seqs(r->l->e);
    if (o->format != SRLM_SQL_FORMAT_REEX && o->format != SRLM_SQL_FORMAT_SQLR1)
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: unknown format %d", (int)o->format);
    if (o->n_samples < 1 || o->n_samples > max_seqs)
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: %d samples for an engine of %d sequences", o->n_samples, max_seqs);
    if (o->tree_width > 1 && (o->max_leaves < o->n_samples || o->max_leaves > max_seqs))
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: max_leaves %d must lie between the %d samples and the engine's %d sequences",
                           o->max_leaves, o->n_samples, max_seqs);
    if (o->max_interactions < 0 || o->deadline_ms < 0 || o->feedback_rows < 0 || o->max_depth < 0)
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: negative limit (interactions %d, deadline %lld ms, rows %d, depth %d)",
                           o->max_interactions, (long long)o->deadline_ms, o->feedback_rows, o->max_depth);
    if (n_prompt < 1 || (int)n_prompt >= r->max_ctx)
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: the prompt has %zu tokens, the context holds %d", n_prompt, r->max_ctx);
    if (o->n_forced_traces < 0 || (o->n_forced_traces > 0 && (!o->forced || !o->n_forced)))
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: %d forced traces without scripts", o->n_forced_traces);
    if (o->n_forced_traces > 0 && o->n_samples > o->n_forced_traces)
        return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: %d samples but only %d forced traces", o->n_samples, o->n_forced_traces);
    return srlm_sample_params_check(&o->sample);
}

/* The decode loop proper: one engine step per iteration for every branch that has tokens to
 * feed; finished SQL is picked up between steps; when nothing can step, wait for SQL. */
static srlm_status loop(run *r, float *logits, int *ids, int *counts, int *which, int32_t **flat, size_t *cap_flat) {
    srlm_sqlloop *l = r->l;
    for (;;) {
        job *d = collect(l, false);
        int n = 0;
        size_t total = 0;
        bool any_live = false;
        srlm_status st = NULL;
        while (d) {
            job *next = d->next;
            if (!st) st = apply_done(r, d);
            job_free(d);
            d = next;
        }
        if (st) return st;
        for (int i = 0; i < r->nb; i++) {
            branch *b = &r->b[i];
            if (b->state == B_DECODE || b->state == B_EXTEND) {
                size_t k = b->state == B_DECODE ? 1 : b->n_ext;
                if (srlm_engine_seq_len(l->e, b->seq) + (int)k > r->max_ctx) {
                    SRLM_TRY(finish_branch(r, i, SRLM_SQLLOOP_CONTEXT));
                    continue;
                }
                SRLM_TRY(srlm_grow((void **)flat, cap_flat, total + k, sizeof **flat, "in the SQL loop"));
                if (b->state == B_DECODE) (*flat)[total] = b->tok[b->n - 1];
                else memcpy(*flat + total, b->ext, k * sizeof **flat);
                ids[n] = b->seq, counts[n] = (int)k, which[n] = i;
                total += k;
                n++;
            }
            if (b->state != B_DONE && b->state != B_FORKED) any_live = true;
        }
        if (n == 0) {
            if (!any_live && r->jobs_out == 0) return NULL;
            if (r->jobs_out == 0) return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: branches wait without SQL running (bug)");
            d = collect(l, true);
            while (d) {
                job *next = d->next;
                if (!st) st = apply_done(r, d);
                job_free(d);
                d = next;
            }
            if (st) return st;
            continue;
        }
        SRLM_TRY(srlm_engine_step(l->e, n, ids, counts, *flat, 0, logits));
        r->st.steps++;
        r->st.engine_tokens += total;
        note_blocks(r);
        for (int k = 0; k < n; k++) {
            int bi = which[k];
            branch *b = &r->b[bi];
            const float *row = logits + (size_t)k * (size_t)r->V;
            if (b->state == B_EXTEND) {
                r->st.env_tokens += b->n_ext - 1;
                free(b->ext);
                b->ext = NULL, b->n_ext = 0;
                int w = fork_width(r, b);
                if (w > 1) {
                    SRLM_TRY(fork_children(r, bi, w, row));
                    continue;
                }
            }
            SRLM_TRY(next_token(r, bi, row));
        }
    }
}

srlm_status srlm_sqlloop_run(srlm_sqlloop *l, const char *db_path, const srlm_sqlloop_options *opts,
                             const int32_t *prompt, size_t n_prompt, srlm_sqlloop_out *out) {
    memset(out, 0, sizeof *out);
    srlm_sqlloop_options o;
    if (opts) o = *opts;
    else srlm_sqlloop_options_default(&o);
    run r;
    memset(&r, 0, sizeof r);
    r.l = l;
    r.o = &o;
    r.db_path = db_path;
    r.V = srlm_engine_model(l->e)->cfg.vocab_size;
    r.max_ctx = srlm_engine_max_ctx(l->e);
    if (!db_path) return srlm_errorf(SRLM_ERR_INVALID, "sqlloop: no database");
    SRLM_TRY(check_options(&r, &o, n_prompt));
    /* The database is opened once here so that a missing or non-SQLite file is an error of
     * the run, not a result of every query. */
    srlm_sql_db *probe = NULL;
    SRLM_TRY(srlm_sql_open(db_path, NULL, &probe));
    srlm_sql_close(probe);
    /* stop ids: the caller's, plus EOS of the tokenizer and of the model */
    r.sp = o.sample;
    int ns = 0;
    for (int i = 0; i < o.sample.n_stop_ids && ns < 16; i++) r.stop_ids[ns++] = o.sample.stop_ids[i];
    int32_t eos[2] = {srlm_tokenizer_eos(l->tok), srlm_model_eos(srlm_engine_model(l->e))};
    for (int i = 0; i < 2; i++)
        if (eos[i] >= 0) r.stop_ids[ns++] = eos[i];
    r.sp.stop_ids = r.stop_ids, r.sp.n_stop_ids = ns;
    r.sp.max_tokens = 0; /* counted here along the path, not per branch by the sampler */
    r.sp.stop_strings = NULL, r.sp.n_stop_strings = 0;

    double t0 = now_s();
    r.free0 = srlm_engine_free_blocks(l->e);
    int max_seqs = srlm_engine_max_seqs(l->e);
    float *logits = malloc((size_t)max_seqs * (size_t)r.V * sizeof(float));
    int *ids = malloc((size_t)max_seqs * sizeof(int)), *counts = malloc((size_t)max_seqs * sizeof(int));
    int *which = malloc((size_t)max_seqs * sizeof(int));
    int32_t *flat = NULL;
    size_t cap_flat = 0;
    srlm_status st = NULL;
    if (!logits || !ids || !counts || !which) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for the SQL loop");
    if (!st) st = srlm_sampler_create(r.V, &r.sampler);
    /* branch 0: the prompt, prefilled once */
    int root = -1, seq = -1;
    if (!st) st = srlm_engine_seq_new(l->e, &seq);
    if (!st) {
        r.seqs = 1;
        st = branch_new(&r, -1, seq, 0, o.n_forced_traces, &root);
        if (st) srlm_engine_seq_free(l->e, seq), r.seqs = 0;
    }
    for (size_t i = 0; !st && i < n_prompt; i++) st = push_tok(&r.b[root], prompt[i], SRLM_SQL_ORIGIN_PROMPT, 0, 0, 0);
    if (!st) {
        int np = (int)n_prompt;
        st = srlm_engine_step(l->e, 1, &seq, &np, prompt, 0, logits);
        r.st.prompt_tokens = n_prompt;
        r.st.engine_tokens = n_prompt;
        note_blocks(&r);
    }
    if (!st) st = fork_children(&r, root, o.n_samples, logits);
    if (!st) st = loop(&r, logits, ids, counts, which, &flat, &cap_flat);
    /* On error, drain the workers' jobs of this run before the branches go away. */
    while (r.jobs_out > 0) {
        job *d = collect(l, true);
        while (d) {
            job *next = d->next;
            r.jobs_out--;
            job_free(d);
            d = next;
        }
    }
    r.st.seconds = now_s() - t0;
    if (!st) st = build_out(&r, out);
    for (int i = 0; i < r.nb; i++) {
        release_seq(&r, &r.b[i]);
        branch_free(&r.b[i]);
    }
    for (int i = 0; i < r.nq; i++) {
        free(r.q[i].sql);
        srlm_sql_result_free(r.q[i].result);
        free(r.q[i].feedback);
    }
    free(r.q);
    free(r.b);
    srlm_sampler_destroy(r.sampler);
    free(logits), free(ids), free(counts), free(which), free(flat);
    if (st) srlm_sqlloop_out_free(out);
    return st;
}
