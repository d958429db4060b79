/* test_sqlloop.c: the execution-aware text-to-SQL loop on a tiny random model (byte-level
 * tokenizer, so every tag arrives split over one token per byte) and a small SQLite database
 * made here. Forced traces drive the real loop, kernels and SQL deterministically:
 *   - pause / execute / extend: the result text is inserted as environment tokens, and every
 *     model token's logprob equals the one from a fresh prefill of the whole path (so the KV
 *     after prefill, decode and extend equals a fresh prefill), origins and the query record;
 *   - a slow query (endless CTE, short deadline) on one sequence while another keeps decoding;
 *   - the interaction limit, an unbalanced closing tag, sqlr1, context full, a script without
 *     a final tag, sampled decoding that never closes a tag, a missing / non-SQLite database;
 *   - tree mode against linear mode on traces sharing a prefix: KV blocks shared (peak blocks),
 *     fewer tokens, the tree record rebuilds every leaf's path, the prompt prefilled once, vote. */
#include "gpu_test.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static int V;
static srlm_engine *E;
static srlm_tokenizer *TOK;
static srlm_sqlloop *LOOP;
static char DB[1100];

static const char PROMPT[] = "<|im_start|>user\nHow many rows?<|im_end|>\n<|im_start|>assistant\n<think>\n";

static int32_t *encode(const char *s, size_t *n, unsigned flags) {
    int32_t *ids = NULL;
    CHECK_OK(srlm_tokenizer_encode(TOK, s, strlen(s), flags, &ids, n));
    return ids;
}

static void make_db(const char *path) {
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(path, &h) == SQLITE_OK, "cannot create %s", path);
    char *err = NULL;
    int rc = sqlite3_exec(h,
                          "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);"
                          "INSERT INTO t VALUES (1,'ann'),(2,'bob'),(3,'cy'),(4,'dee'),(5,'eve');",
                          NULL, NULL, &err);
    CHECK(rc == SQLITE_OK, "db setup: %s", err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(h);
}

/* Runs forced traces; scripts are texts encoded without special tokens. */
static srlm_status run_forced(const char *const *scripts, int n, srlm_sqlloop_options *o, srlm_sqlloop_out *out) {
    int32_t *ids[16];
    size_t lens[16];
    for (int i = 0; i < n; i++) ids[i] = encode(scripts[i], &lens[i], 0);
    o->forced = (const int32_t *const *)ids;
    o->n_forced = lens;
    o->n_forced_traces = n;
    size_t np;
    int32_t *p = encode(PROMPT, &np, SRLM_ENCODE_SPECIAL);
    srlm_status st = srlm_sqlloop_run(LOOP, DB, o, p, np, out);
    free(p);
    for (int i = 0; i < n; i++) free(ids[i]);
    o->forced = NULL, o->n_forced = NULL, o->n_forced_traces = 0;
    return st;
}

static char *model_text(const srlm_sqlloop_leaf *f) {
    char *s = calloc(f->n_tokens + 1, 1);
    size_t k = 0;
    for (size_t i = 0; i < f->n_tokens; i++)
        if (f->origin[i] == SRLM_SQL_ORIGIN_MODEL && f->tokens[i] < 256) s[k++] = (char)f->tokens[i];
    return s;
}

/* Every model token's logprob against log-softmax of a fresh prefill of the whole path. */
static double logprob_vs_prefill(const srlm_sqlloop_leaf *f) {
    int n = (int)f->n_tokens, s = -1;
    float *lg = malloc((size_t)n * (size_t)V * sizeof(float));
    CHECK_OK(srlm_engine_seq_new(E, &s));
    CHECK_OK(srlm_engine_step(E, 1, &s, &n, f->tokens, 1, lg));
    srlm_engine_seq_free(E, s);
    double worst = 0;
    for (int i = 1; i < n; i++) {
        if (f->origin[i] != SRLM_SQL_ORIGIN_MODEL) continue;
        const float *row = lg + (size_t)(i - 1) * (size_t)V;
        double mx = row[0], sum = 0;
        for (int v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
        for (int v = 0; v < V; v++) sum += exp((double)row[v] - mx);
        double lp = (double)row[f->tokens[i]] - mx - log(sum);
        double d = fabs(lp - (double)f->logprob[i]);
        if (d > worst || d != d) worst = d;
    }
    free(lg);
    return worst;
}

static void test_extend(void) {
    const char *script = "look</think>\n<intermediate_sql>SELECT name FROM t ORDER BY id</intermediate_sql><think>fine</think>"
                         "<final_sql>SELECT count(*) FROM t</final_sql>";
    srlm_sqlloop_options o;
    srlm_sqlloop_options_default(&o);
    srlm_sqlloop_out out;
    CHECK_OK(run_forced(&script, 1, &o, &out));
    if (out.n_leaves != 1) { CHECK(0, "%d leaves", out.n_leaves); srlm_sqlloop_out_free(&out); return; }
    const srlm_sqlloop_leaf *f = &out.leaves[0];
    printf("  extend: finish %s, %zu tokens (%zu prompt), text:\n%s\n", srlm_sqlloop_finish_name(f->finish), f->n_tokens,
           f->n_prompt, f->text);
    CHECK(f->finish == SRLM_SQLLOOP_FINAL, "finish %s", srlm_sqlloop_finish_name(f->finish));
    CHECK(f->format_ok, "format: %s", f->format_error ? f->format_error : "?");
    CHECK(f->n_queries == 1 && out.n_queries == 1, "%d queries", f->n_queries);
    if (out.n_queries == 1) {
        const srlm_sqlloop_query *q = &out.queries[0];
        CHECK(!strcmp(q->sql, "SELECT name FROM t ORDER BY id"), "sql '%s'", q->sql);
        CHECK(q->result && q->result->outcome == SRLM_SQL_ROWS && q->result->nrows == 5, "query result");
        CHECK(!strcmp(q->feedback, "name\nann\nbob\ncy\n... (5 rows in total)"), "feedback '%s'", q->feedback);
    }
    CHECK(strstr(f->text, "</intermediate_sql>\n<result>\nname\nann\nbob\ncy\n... (5 rows in total)\n</result>\n<think>fine") != NULL,
          "result inserted after the closing tag");
    char *mt = model_text(f);
    CHECK(!strcmp(mt, script), "model tokens are the script: '%s'", mt);
    free(mt);
    /* origins: prompt, then model/environment; environment tokens spell the result block */
    size_t np = f->n_prompt, n_env = 0;
    int bad = 0;
    char env[512] = {0};
    for (size_t i = 0; i < f->n_tokens; i++) {
        int want_prompt = i < np;
        if (want_prompt != (f->origin[i] == SRLM_SQL_ORIGIN_PROMPT)) bad++;
        if (f->origin[i] == SRLM_SQL_ORIGIN_ENV) {
            if (n_env < sizeof env - 1) env[n_env] = (char)f->tokens[i];
            n_env++;
            if (f->logprob[i] != 0 || f->entropy[i] != 0) bad++;
        }
        if (f->origin[i] == SRLM_SQL_ORIGIN_MODEL && !(f->logprob[i] < 0 && f->entropy[i] > 0 && isfinite(f->logprob[i]))) bad++;
    }
    CHECK(bad == 0, "%d tokens with a wrong origin or log-prob", bad);
    CHECK(!strcmp(env, "\n<result>\nname\nann\nbob\ncy\n... (5 rows in total)\n</result>\n"), "environment tokens '%s'", env);
    CHECK(f->final_sql && !strcmp(f->final_sql, "SELECT count(*) FROM t"), "final sql");
    CHECK(f->final_result && f->final_result->nrows == 1 && srlm_sql_cell(f->final_result, 0, 0)->i == 5, "final result");
    CHECK(out.chosen == 0 && out.final_sql == f->final_sql, "chosen %ld", out.chosen);
    double worst = logprob_vs_prefill(f);
    printf("  extend: model-token logprobs vs a fresh prefill of the %zu-token path: max |d| %.3g\n", f->n_tokens, worst);
    CHECK(worst < 2e-3, "KV after extend differs from a fresh prefill: %.3g", worst);
    /* every fed token went through the engine exactly once: no re-prefill */
    CHECK(out.stats.engine_tokens == f->n_tokens - 1, "engine tokens %llu, path %zu", (unsigned long long)out.stats.engine_tokens,
          f->n_tokens);
    srlm_sqlloop_out_free(&out);
}

static void test_overlap(void) {
    char b[2048];
    snprintf(b, sizeof b, "%s", "x");
    for (int i = 0; i < 300; i++) strcat(b, "b");
    strcat(b, "<final_sql>SELECT 2</final_sql>");
    const char *scripts[2] = {
        "<intermediate_sql>WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
        "</intermediate_sql><final_sql>SELECT 1</final_sql>",
        b};
    srlm_sqlloop_options o;
    srlm_sqlloop_options_default(&o);
    o.n_samples = 2;
    o.deadline_ms = 1500;
    srlm_sqlloop_out out;
    CHECK_OK(run_forced(scripts, 2, &o, &out));
    CHECK(out.n_queries == 1, "%d queries", out.n_queries);
    if (out.n_queries == 1 && out.n_leaves == 2) {
        const srlm_sqlloop_query *q = &out.queries[0];
        printf("  overlap: slow query %s after %.0f ms; %llu engine steps of the other sequence meanwhile\n",
               q->result ? (q->result->outcome == SRLM_SQL_TIMEOUT ? "timed out" : "returned") : "missing", q->ms,
               (unsigned long long)q->steps_during);
        CHECK(q->result && q->result->outcome == SRLM_SQL_TIMEOUT, "the endless CTE must time out");
        CHECK(strstr(q->feedback, "error:") == q->feedback, "feedback '%s'", q->feedback);
        CHECK(q->steps_during >= 50, "only %llu steps while the query ran", (unsigned long long)q->steps_during);
        CHECK(out.leaves[0].finish == SRLM_SQLLOOP_FINAL && out.leaves[1].finish == SRLM_SQLLOOP_FINAL, "both finish");
        CHECK(q->ms >= 1400 && q->ms < 4000, "deadline respected (%.0f ms)", q->ms);
    }
    srlm_sqlloop_out_free(&out);
}

static void test_limits(void) {
    srlm_sqlloop_options o;
    srlm_sqlloop_options_default(&o);
    srlm_sqlloop_out out;
    /* interaction limit */
    o.max_interactions = 2;
    const char *three = "<intermediate_sql>SELECT 1</intermediate_sql><intermediate_sql>SELECT 2</intermediate_sql>"
                        "<intermediate_sql>SELECT 3</intermediate_sql><final_sql>SELECT 1</final_sql>";
    CHECK_OK(run_forced(&three, 1, &o, &out));
    if (out.n_leaves == 1) {
        const srlm_sqlloop_leaf *f = &out.leaves[0];
        printf("  limit: finish %s after %d queries, format_ok %d (%s)\n", srlm_sqlloop_finish_name(f->finish), f->n_queries,
               f->format_ok, f->format_error ? f->format_error : "");
        CHECK(f->finish == SRLM_SQLLOOP_INTERACTIONS && f->n_queries == 2 && !f->format_ok && !f->final_result,
              "interaction limit");
        CHECK(out.chosen == -1 && out.final_sql == NULL, "no answer");
    }
    srlm_sqlloop_out_free(&out);
    o.max_interactions = 10;
    /* unbalanced: a closing tag without an opening one is answered with an error, and decoding goes on */
    const char *unbal = "SELECT 1</intermediate_sql>then<final_sql>SELECT 7</final_sql>";
    CHECK_OK(run_forced(&unbal, 1, &o, &out));
    if (out.n_leaves == 1) {
        const srlm_sqlloop_leaf *f = &out.leaves[0];
        CHECK(f->n_queries == 1 && out.queries[0].result == NULL && strstr(out.queries[0].feedback, "without an opening"),
              "unbalanced closing tag answered");
        CHECK(f->finish == SRLM_SQLLOOP_FINAL && !f->format_ok, "unbalanced: finish %s format_ok %d",
              srlm_sqlloop_finish_name(f->finish), f->format_ok);
        CHECK(f->final_result && srlm_sql_cell(f->final_result, 0, 0)->i == 7, "final still executed");
    }
    srlm_sqlloop_out_free(&out);
    /* a model that never closes its tag: the script ends (forced) / max_tokens (sampled) */
    const char *open = "<intermediate_sql>SELECT name FROM t";
    CHECK_OK(run_forced(&open, 1, &o, &out));
    CHECK(out.n_leaves == 1 && out.leaves[0].finish == SRLM_SQLLOOP_LENGTH && !out.leaves[0].format_ok, "unclosed tag");
    srlm_sqlloop_out_free(&out);
    o.sample.max_tokens = 24;
    o.sample.seed = 3;
    o.n_samples = 3;
    size_t np;
    int32_t *p = encode(PROMPT, &np, SRLM_ENCODE_SPECIAL);
    CHECK_OK(srlm_sqlloop_run(LOOP, DB, &o, p, np, &out));
    srlm_sqlloop_out again;
    CHECK_OK(srlm_sqlloop_run(LOOP, DB, &o, p, np, &again));
    if (out.n_leaves == 3 && again.n_leaves == 3) {
        int same = 1, differ = 0;
        for (int i = 0; i < 3; i++) {
            const srlm_sqlloop_leaf *a = &out.leaves[i], *b = &again.leaves[i];
            same &= a->n_tokens == b->n_tokens && !memcmp(a->tokens, b->tokens, a->n_tokens * 4);
            CHECK(a->finish == SRLM_SQLLOOP_LENGTH || a->finish == SRLM_SQLLOOP_STOP_ID, "sampled finish %d", a->finish);
            CHECK(!a->format_ok, "random text cannot be well-formed");
        }
        differ = out.leaves[0].n_tokens != out.leaves[1].n_tokens ||
                 memcmp(out.leaves[0].tokens, out.leaves[1].tokens, out.leaves[0].n_tokens * 4) != 0;
        CHECK(same, "same seed, same samples");
        CHECK(differ, "samples of different branches must differ");
        CHECK(out.chosen == -1, "no vote without results");
        double worst = logprob_vs_prefill(&out.leaves[1]);
        printf("  sampled: 3 leaves of %zu tokens, logprobs vs prefill max |d| %.3g\n", out.leaves[1].n_tokens, worst);
        CHECK(worst < 2e-3, "sampled logprobs: %.3g", worst);
    } else {
        CHECK(0, "sampled leaves %d %d", out.n_leaves, again.n_leaves);
    }
    srlm_sqlloop_out_free(&out);
    srlm_sqlloop_out_free(&again);
    /* context full: a prompt that leaves 12 positions */
    o.n_samples = 1;
    o.sample.max_tokens = 0;
    int room = srlm_engine_max_ctx(E) - 12;
    int32_t *longp = malloc((size_t)room * sizeof *longp), zs[40];
    for (int i = 0; i < room; i++) longp[i] = 'a' + i % 26;
    for (int i = 0; i < 40; i++) zs[i] = 'z';
    const int32_t *zp = zs;
    size_t zn = 40;
    o.forced = &zp, o.n_forced = &zn, o.n_forced_traces = 1;
    CHECK_OK(srlm_sqlloop_run(LOOP, DB, &o, longp, (size_t)room, &out));
    o.forced = NULL, o.n_forced = NULL, o.n_forced_traces = 0;
    CHECK(out.n_leaves == 1 && out.leaves[0].finish == SRLM_SQLLOOP_CONTEXT, "context full: %s",
          out.n_leaves ? srlm_sqlloop_finish_name(out.leaves[0].finish) : "no leaf");
    srlm_sqlloop_out_free(&out);
    free(longp);
    /* databases */
    CHECK_ERR(srlm_sqlloop_run(LOOP, "/nonexistent/x.sqlite", &o, p, np, &out), SRLM_ERR_IO, "x.sqlite");
    char bad[1200];
    snprintf(bad, sizeof bad, "%s.txt", DB);
    FILE *fp = fopen(bad, "w");
    if (fp) fputs("this is not a database, just text that is long enough to have a header ......\n", fp), fclose(fp);
    CHECK_ERR(srlm_sqlloop_run(LOOP, bad, &o, p, np, &out), SRLM_ERR_FORMAT, NULL);
    unlink(bad);
    o.n_samples = 99;
    CHECK_ERR(srlm_sqlloop_run(LOOP, DB, &o, p, np, &out), SRLM_ERR_INVALID, "samples");
    free(p);
}

static void test_sqlr1(void) {
    srlm_sqlloop_options o;
    srlm_sqlloop_options_default(&o);
    o.format = SRLM_SQL_FORMAT_SQLR1;
    const char *s = "count them <intermediate_sql>SELECT 9</intermediate_sql></think>\n<answer>\n```sql\nSELECT  count(*)\nFROM t\n```\n</answer>";
    srlm_sqlloop_out out;
    CHECK_OK(run_forced(&s, 1, &o, &out));
    if (out.n_leaves == 1) {
        const srlm_sqlloop_leaf *f = &out.leaves[0];
        printf("  sqlr1: finish %s, format_ok %d, final '%s'\n", srlm_sqlloop_finish_name(f->finish), f->format_ok,
               f->final_sql ? f->final_sql : "");
        CHECK(f->finish == SRLM_SQLLOOP_FINAL && f->format_ok && out.n_queries == 0, "sqlr1 finish/format/no intermediate");
        CHECK(f->final_sql && !strcmp(f->final_sql, "SELECT count(*) FROM t"), "sqlr1 final sql");
        CHECK(f->final_result && srlm_sql_cell(f->final_result, 0, 0)->i == 5, "sqlr1 final executed");
    }
    srlm_sqlloop_out_free(&out);
}

/* A leaf's path from the tree record: the ancestors' tokens, root first. */
static int rebuild_ok(const srlm_sqlloop_out *out, int leaf) {
    const srlm_sqlloop_leaf *f = &out->leaves[leaf];
    int chain[64], n = 0;
    for (int b = f->branch; b >= 0 && n < 64; b = out->branches[b].parent) chain[n++] = b;
    size_t pos = 0;
    for (int k = n - 1; k >= 0; k--) {
        const srlm_sqlloop_branch *br = &out->branches[chain[k]];
        if (br->start != pos || pos + br->n_tokens > f->n_tokens) return 0;
        if (memcmp(br->tokens, f->tokens + pos, br->n_tokens * 4)) return 0;
        pos += br->n_tokens;
    }
    return pos == f->n_tokens && out->branches[f->branch].leaf == leaf;
}

static void test_tree(void) {
    /* 4 traces sharing a prefix with one executed query, then different endings; finals give
     * results 1, 2, 2, 2 so the vote picks leaf 1 with 3 votes. */
    char shared[512], s[4][768];
    snprintf(shared, sizeof shared, "%s", "we need the names first, then we count them carefully.</think>"
             "<intermediate_sql>SELECT id, name FROM t WHERE id < 4</intermediate_sql>");
    const char *ends[4] = {"<think>one row.</think><final_sql>SELECT 1</final_sql>",
                           "<think>two rows here.</think><final_sql>SELECT 2</final_sql>",
                           "<think>maybe two.</think><final_sql>SELECT 1+1</final_sql>",
                           "<think>two for sure.</think><final_sql>SELECT 2</final_sql>"};
    const char *scripts[4];
    for (int i = 0; i < 4; i++) snprintf(s[i], sizeof s[i], "%s%s", shared, ends[i]), scripts[i] = s[i];
    srlm_sqlloop_options o;
    srlm_sqlloop_options_default(&o);
    srlm_sqlloop_out tree, lin;
    o.tree_width = 4;
    o.max_leaves = 4;
    int free0 = srlm_engine_free_blocks(E);
    CHECK_OK(run_forced(scripts, 4, &o, &tree));
    srlm_sqlloop_options_default(&o);
    o.n_samples = 4;
    CHECK_OK(run_forced(scripts, 4, &o, &lin));
    CHECK(srlm_engine_free_blocks(E) == free0, "blocks leaked: %d free, %d before", srlm_engine_free_blocks(E), free0);
    if (tree.n_leaves != 4 || lin.n_leaves != 4) {
        CHECK(0, "leaves: tree %d linear %d", tree.n_leaves, lin.n_leaves);
        srlm_sqlloop_out_free(&tree), srlm_sqlloop_out_free(&lin);
        return;
    }
    printf("  tree:   %d branches, %d forks, %llu model + %llu result tokens, %llu engine tokens, %llu queries, peak %d blocks\n",
           tree.n_branches, tree.stats.forks, (unsigned long long)tree.stats.model_tokens,
           (unsigned long long)tree.stats.env_tokens, (unsigned long long)tree.stats.engine_tokens,
           (unsigned long long)tree.stats.queries, tree.stats.peak_blocks);
    printf("  linear: %d branches, %d forks, %llu model + %llu result tokens, %llu engine tokens, %llu queries, peak %d blocks\n",
           lin.n_branches, lin.stats.forks, (unsigned long long)lin.stats.model_tokens, (unsigned long long)lin.stats.env_tokens,
           (unsigned long long)lin.stats.engine_tokens, (unsigned long long)lin.stats.queries, lin.stats.peak_blocks);
    /* same leaves, token for token, in both modes */
    for (int i = 0; i < 4; i++) {
        const srlm_sqlloop_leaf *a = &tree.leaves[i], *b = &lin.leaves[i];
        char *ma = model_text(a);
        CHECK(!strcmp(ma, scripts[i]), "tree leaf %d follows script %d: '%s'", i, i, ma);
        free(ma);
        CHECK(a->n_tokens == b->n_tokens && !memcmp(a->tokens, b->tokens, a->n_tokens * 4), "leaf %d: tree = linear path", i);
        CHECK(a->finish == SRLM_SQLLOOP_FINAL && a->format_ok && a->n_queries == 1, "leaf %d finish/format", i);
        CHECK(rebuild_ok(&tree, i), "tree record rebuilds leaf %d", i);
        CHECK(rebuild_ok(&lin, i), "linear record rebuilds leaf %d", i);
        /* logprobs of the same path agree across modes (forked KV = private KV) */
        double worst = 0;
        for (size_t k = 0; k < a->n_tokens && a->n_tokens == b->n_tokens; k++)
            worst = fmax(worst, fabs((double)a->logprob[k] - (double)b->logprob[k]));
        CHECK(worst < 2e-3, "leaf %d logprobs tree vs linear %.3g", i, worst);
    }
    CHECK(tree.n_branches == 6 && tree.stats.forks == 3, "tree: root, one shared branch, 4 leaves; %d forks", tree.stats.forks);
    CHECK(lin.n_branches == 5, "linear: root and 4 samples");
    CHECK(tree.n_queries == 1 + 0 && lin.n_queries == 4, "shared query ran once in the tree (%d), 4x linear (%d)", tree.n_queries,
          lin.n_queries);
    for (int i = 0; i < 4; i++)
        CHECK(tree.leaves[i].n_queries == 1 && tree.leaves[i].queries[0] == 0, "every tree leaf sees the shared query");
    /* the prompt went through the engine once in both modes */
    const srlm_sqlloop_out *outs[2] = {&tree, &lin};
    for (int m = 0; m < 2; m++) {
        uint64_t want = 0;
        for (int b = 0; b < outs[m]->n_branches; b++) want += outs[m]->branches[b].n_tokens;
        want -= (uint64_t)outs[m]->n_leaves; /* a leaf's last token is never fed */
        CHECK(outs[m]->stats.engine_tokens == want, "%s: engine tokens %llu, want %llu (prompt once)", m ? "linear" : "tree",
              (unsigned long long)outs[m]->stats.engine_tokens, (unsigned long long)want);
        CHECK(outs[m]->stats.prompt_tokens == outs[m]->branches[0].n_tokens, "prompt tokens");
    }
    CHECK(tree.stats.engine_tokens < lin.stats.engine_tokens * 0.75, "tree saves tokens");
    /* KV sharing: the tree holds the shared prefix once */
    size_t shared_len = tree.branches[1].start + tree.branches[1].n_tokens;
    int prefix_blocks = (int)((shared_len + 15) / 16);
    CHECK(tree.stats.peak_blocks < lin.stats.peak_blocks, "tree peak %d blocks < linear %d", tree.stats.peak_blocks,
          lin.stats.peak_blocks);
    int tail = 0;
    for (int i = 0; i < 4; i++) tail += (int)((tree.leaves[i].n_tokens - shared_len) / 16) + 2;
    CHECK(tree.stats.peak_blocks <= prefix_blocks + tail, "tree peak %d blocks > shared %d + tails %d", tree.stats.peak_blocks,
          prefix_blocks, tail);
    size_t own = shared_len - tree.branches[0].n_tokens; /* the shared part after the prompt */
    CHECK(lin.stats.peak_blocks >= 4 * (int)(own / 16), "linear holds 4 copies of the shared part (%d blocks)", lin.stats.peak_blocks);
    /* vote: results 1, 2, 2, 2 -> leaf 1 (first of the largest group) with 3 votes */
    CHECK(tree.chosen == 1 && tree.votes == 3 && tree.final_sql && !strcmp(tree.final_sql, "SELECT 2"),
          "vote: chosen %ld votes %zu", tree.chosen, tree.votes);
    CHECK(lin.chosen == 1 && lin.votes == 3, "linear vote: chosen %ld votes %zu", lin.chosen, lin.votes);
    srlm_sqlloop_out_free(&tree);
    srlm_sqlloop_out_free(&lin);
    /* max_leaves bounds the width; max_depth 0 never forks */
    srlm_sqlloop_options_default(&o);
    o.tree_width = 4, o.max_leaves = 3;
    CHECK_OK(run_forced(scripts, 4, &o, &tree));
    CHECK(tree.n_leaves == 3, "max_leaves 3: %d leaves", tree.n_leaves);
    srlm_sqlloop_out_free(&tree);
    o.max_leaves = 4, o.max_depth = 1;
    CHECK_OK(run_forced(scripts, 4, &o, &tree));
    CHECK(tree.n_leaves == 1, "max_depth 1 (the prompt's sample only): %d leaves", tree.n_leaves);
    srlm_sqlloop_out_free(&tree);
}

static void test_prompt(void) {
    srlm_sql_db *db = NULL;
    CHECK_OK(srlm_sql_open(DB, NULL, &db));
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_OK(srlm_sqlloop_prompt(TOK, db, NULL, "How many rows?", NULL, &ids, &n));
    char *text = NULL;
    if (ids) CHECK_OK(srlm_tokenizer_decode(TOK, ids, n, 0, &text, NULL));
    CHECK(text && strstr(text, "CREATE TABLE t") && strstr(text, "<|im_start|>assistant\n<think>\n"), "prompt text");
    int specials = 0;
    for (size_t i = 0; i < n; i++) specials += ids[i] == 257;
    CHECK(specials == 3, "<|im_start|> encoded as one special id, 3 times (%d)", specials);
    free(text), free(ids);
    srlm_sql_close(db);
}

int main(void) {
    const char *root = getenv("SRLM_SOURCE_ROOT");
    if (!root) { fprintf(stderr, "SRLM_SOURCE_ROOT unset\n"); return 1; }
    char preset[1024], dir[] = "/tmp/srlm-sqlloop-test.XXXXXX", mdir[1100];
    snprintf(preset, sizeof preset, "%s/models/tiny.json", root);
    if (!mkdtemp(dir)) return 1;
    snprintf(mdir, sizeof mdir, "%s/model", dir);
    snprintf(DB, sizeof DB, "%s/t.sqlite", dir);
    make_db(DB);
    srlm_init_options io = {.config_path = preset, .out_dir = mdir, .seed = 5, .dtype = SRLM_DTYPE_F32};
    CHECK_OK(srlm_model_init(&io));
    gpu_env g;
    if (!gpu_env_init(&g)) return 1;
    srlm_model *m = NULL;
    CHECK_OK(srlm_model_load(g.ctx, mdir, SRLM_DTYPE_F32, &m));
    CHECK_OK(srlm_tokenizer_create(mdir, &TOK));
    if (m && TOK) {
        V = srlm_model_vocab_size(m);
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_seqs = 8;
        eo.max_ctx = 1024;
        eo.max_step_tokens = 256;
        CHECK_OK(srlm_engine_create(m, &eo, &E));
    }
    if (E) CHECK_OK(srlm_sqlloop_create(E, TOK, 2, &LOOP));
    if (LOOP) {
        test_extend();
        test_overlap();
        test_limits();
        test_sqlr1();
        test_tree();
        test_prompt();
    }
    srlm_sqlloop_destroy(LOOP);
    srlm_engine_destroy(E);
    srlm_model_destroy(m);
    srlm_tokenizer_destroy(TOK);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return gpu_test_finish(&g, "test_sqlloop");
}
