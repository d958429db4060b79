/* bench_tree.c: `srlm bench tree`: tree decoding against linear decoding of the text-to-SQL
 * loop on forced traces (any model, random weights included): N leaves that share their first
 * half (reasoning and one executed query), then differ. Both modes run the real loop, kernels
 * and SQL; printed: tokens through the forward pass, decode steps, queries, KV blocks, wall
 * time. Not a quality measure: the traces are scripted. */
#include "bench/bench.h"
#include "decode/engine.h"
#include "model/model.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void srlm_bench_tree_opts_default(srlm_bench_tree_opts *o) {
    o->leaves = 8;
    o->half = 64;
    o->dtype = SRLM_DTYPE_F16;
    o->repeats = 2;
}

static srlm_status make_db(const char *path) {
    sqlite3 *h = NULL;
    if (sqlite3_open(path, &h) != SQLITE_OK) {
        sqlite3_close(h);
        return srlm_errorf(SRLM_ERR_IO, "bench tree: cannot create %s", path);
    }
    char *err = NULL;
    int rc = sqlite3_exec(h,
                          "CREATE TABLE singer(id INTEGER PRIMARY KEY, name TEXT, age INTEGER);"
                          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200) "
                          "INSERT INTO singer SELECT x, 'singer ' || x, 20 + x % 40 FROM c;",
                          NULL, NULL, &err);
    srlm_status st = rc == SQLITE_OK ? NULL : srlm_errorf(SRLM_ERR_SQL, "bench tree: %s", err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(h);
    return st;
}

/* Appends words to `text` until it encodes to at least `want` tokens; returns the ids. */
static srlm_status grow_text(const srlm_tokenizer *tok, char *text, size_t cap, const char *salt, size_t want, int32_t **ids,
                             size_t *n) {
    static const char *words[] = {" we", " check", " the", " singers", " table", " and", " count", " rows", " by", " age"};
    for (int k = 0;; k++) {
        SRLM_TRY(srlm_tokenizer_encode(tok, text, strlen(text), 0, ids, n));
        if (*n >= want) return NULL;
        free(*ids);
        *ids = NULL;
        size_t l = strlen(text);
        if (l + 32 >= cap) return srlm_errorf(SRLM_ERR_INVALID, "bench tree: trace too long");
        snprintf(text + l, cap - l, "%s%s", words[(k + (int)salt[0]) % 10], k % 7 == 3 ? salt : "");
    }
}

srlm_status srlm_bench_tree(srlm_ctx *ctx, FILE *out, const char *path, const srlm_bench_tree_opts *o) {
    int N = o->leaves;
    if (N < 2 || N > 64 || o->half < 8 || o->repeats < 1)
        return srlm_errorf(SRLM_ERR_INVALID, "bench tree: leaves %d (2..64), half %d (>= 8), repeats %d", N, o->half, o->repeats);
    char db[] = "/tmp/srlm-bench-tree-XXXXXX";
    int fd = mkstemp(db);
    if (fd < 0) return srlm_errorf(SRLM_ERR_IO, "bench tree: cannot create a temporary database");
    close(fd);
    unlink(db);
    srlm_model *m = NULL;
    srlm_tokenizer *tok = NULL;
    srlm_engine *e = NULL;
    srlm_sqlloop *loop = NULL;
    int32_t **traces = calloc((size_t)N, sizeof *traces), *prompt = NULL;
    size_t *lens = calloc((size_t)N, sizeof *lens), np = 0;
    char *text = malloc(1 << 16);
    srlm_status st = !traces || !lens || !text ? srlm_errorf(SRLM_ERR_OOM, "out of host memory") : NULL;
    if (!st) st = make_db(db);
    if (!st) st = srlm_tokenizer_create(path, &tok);
    if (!st) st = srlm_model_load(ctx, path, o->dtype, &m);
    /* The shared half: reasoning, then one query; each leaf: more reasoning and a final query. */
    int32_t *shared = NULL;
    size_t ns = 0;
    if (!st) {
        snprintf(text, 1 << 16, "%s", "First look at the data.");
        size_t q_tokens = 0;
        int32_t *qi = NULL;
        const char *q = "</think>\n<intermediate_sql>SELECT name, age FROM singer WHERE age > 50 ORDER BY id</intermediate_sql>";
        st = srlm_tokenizer_encode(tok, q, strlen(q), 0, &qi, &q_tokens);
        free(qi);
        if (!st) st = grow_text(tok, text, 1 << 16, "a", (size_t)o->half > q_tokens ? (size_t)o->half - q_tokens : 1, &shared, &ns);
        free(shared);
        shared = NULL;
        if (!st) {
            strcat(text, q);
            st = srlm_tokenizer_encode(tok, text, strlen(text), 0, &shared, &ns);
        }
    }
    for (int i = 0; !st && i < N; i++) {
        char salt[8];
        snprintf(salt, sizeof salt, " %c", 'a' + i % 26);
        char *leaf = malloc(1 << 15);
        if (!leaf) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        snprintf(leaf, 1 << 15, "<think>Leaf %d:", i);
        char fin[128];
        snprintf(fin, sizeof fin, "</think>\n<final_sql>SELECT count(*) FROM singer WHERE age > %d</final_sql>", 30 + i % 3);
        int32_t *tmp = NULL, *fi = NULL;
        size_t nt = 0, nf = 0;
        st = srlm_tokenizer_encode(tok, fin, strlen(fin), 0, &fi, &nf);
        free(fi);
        if (!st) st = grow_text(tok, leaf, 1 << 15, salt, ns > nf ? ns - nf : 1, &tmp, &nt);
        free(tmp);
        if (!st) {
            strcat(leaf, fin);
            st = srlm_tokenizer_encode(tok, leaf, strlen(leaf), 0, &tmp, &nt);
        }
        free(leaf);
        if (st) break;
        traces[i] = malloc((ns + nt) * sizeof(int32_t));
        if (!traces[i]) { free(tmp); st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
        memcpy(traces[i], shared, ns * sizeof(int32_t));
        memcpy(traces[i] + ns, tmp, nt * sizeof(int32_t));
        lens[i] = ns + nt;
        free(tmp);
    }
    free(shared);
    const char *ptext = "<|im_start|>system\nYou are a data science expert.<|im_end|>\n<|im_start|>user\n"
                        "How many singers are older than 30?<|im_end|>\n<|im_start|>assistant\n<think>\n";
    if (!st) st = srlm_tokenizer_encode(tok, ptext, strlen(ptext), SRLM_ENCODE_SPECIAL | SRLM_ENCODE_BOS, &prompt, &np);
    size_t longest = 0;
    for (int i = 0; i < N && traces && !st; i++) longest = lens[i] > longest ? lens[i] : longest;
    if (!st) {
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_seqs = N;
        eo.max_ctx = (int)(np + longest + 512);
        st = srlm_engine_create(m, &eo, &e);
    }
    if (!st) st = srlm_sqlloop_create(e, tok, 2, &loop);
    if (!st) {
        fprintf(out, "bench tree: %s, %s weights, %d leaves; prompt %zu tokens, shared half %zu model tokens, leaves %zu..%zu "
                     "model tokens in all\n",
                srlm_ctx_device_name(ctx), srlm_dtype_name(o->dtype), N, np, ns, lens[0], longest);
        fprintf(out, "%-8s %8s %8s %8s %9s %7s %7s %7s %9s\n", "mode", "model", "result", "decoded", "engine", "steps",
                "queries", "blocks", "wall s");
    }
    double best[2] = {0, 0};
    uint64_t decoded[2] = {0, 0};
    for (int rep = 0; !st && rep <= o->repeats; rep++) {
        for (int mode = 0; !st && mode < 2; mode++) {
            srlm_sqlloop_options so;
            srlm_sqlloop_options_default(&so);
            so.sample.max_tokens = 0;
            so.forced = (const int32_t *const *)traces, so.n_forced = lens, so.n_forced_traces = N;
            if (mode == 0) so.tree_width = N, so.max_leaves = N, so.n_samples = 1;
            else so.n_samples = N;
            srlm_sqlloop_out r;
            st = srlm_sqlloop_run(loop, db, &so, prompt, np, &r);
            if (st) break;
            int final_ok = 0;
            for (int i = 0; i < r.n_leaves; i++) final_ok += r.leaves[i].finish == SRLM_SQLLOOP_FINAL;
            if (r.n_leaves != N || final_ok != N)
                st = srlm_errorf(SRLM_ERR_INVALID, "bench tree: %d leaves, %d finished at the final tag (want %d)", r.n_leaves, final_ok, N);
            const srlm_sqlloop_stats *s = &r.stats;
            decoded[mode] = s->engine_tokens - s->prompt_tokens;
            if (!st && rep > 0) { /* rep 0 warms up the recorded step shapes */
                if (!best[mode] || s->seconds < best[mode]) best[mode] = s->seconds;
                fprintf(out, "%-8s %8llu %8llu %8llu %9llu %7llu %7llu %7d %9.3f\n", mode ? "linear" : "tree",
                        (unsigned long long)s->model_tokens, (unsigned long long)s->env_tokens, (unsigned long long)decoded[mode],
                        (unsigned long long)s->engine_tokens, (unsigned long long)s->steps, (unsigned long long)s->queries,
                        s->peak_blocks, s->seconds);
            }
            srlm_sqlloop_out_free(&r);
        }
    }
    if (!st)
        fprintf(out, "tree / linear: decoded tokens %.3f (target <= 0.6), best wall time %.3f s / %.3f s = %.3f\n",
                (double)decoded[0] / (double)decoded[1], best[0], best[1], best[0] / best[1]);
    srlm_sqlloop_destroy(loop);
    srlm_engine_destroy(e);
    srlm_model_destroy(m);
    srlm_tokenizer_destroy(tok);
    for (int i = 0; traces && i < N; i++) free(traces[i]);
    free(traces), free(lens), free(text), free(prompt);
    unlink(db);
    return st;
}
