/* cmd_chat.c: `srlm chat -m MODEL`: an interactive chat on standard input; keeps the
 * conversation, renders it with the model's chat template each turn and streams the reply.
 * The conversation's sequence and its KV cache live across turns: when the previous turn's
 * rendering is a prefix of the new one, the cache is cut back to the tokens it shares with
 * the new rendering (the reply may tokenize differently once rendered) and only the rest
 * is prefilled; otherwise (or with --no-kv-reuse) the whole conversation is prefilled again.
 * Commands: /reset clears the history, /quit or end of input leaves. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_text(void *user, int index, const char *text, size_t len) {
    (void)user, (void)index;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
}

int cmd_chat(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    srlm_sample_params sp;
    srlm_sample_params_default(&sp);
    sp.temperature = 0.7f;
    sp.top_p = 0.8f;
    sp.max_tokens = 512;
    const char *system = NULL, *v;
    int ctx_len = 4096, reuse = 1, verbose = 0;
    srlm_dtype dtype = SRLM_DTYPE_F16;
    srlm_kv_dtype kv_dtype = SRLM_KV_AUTO;
    for (int i = 1; i < argc; i++) {
        if (cli_common_opt(argc, argv, &i, &cc)) continue;
        if (cli_opt(argc, argv, &i, "--system", &v)) system = v;
        else if (cli_opt(argc, argv, &i, "--temp", &v)) sp.temperature = (float)cli_parse_double("--temp", v);
        else if (cli_opt(argc, argv, &i, "--top-p", &v)) sp.top_p = (float)cli_parse_double("--top-p", v);
        else if (cli_opt(argc, argv, &i, "--top-k", &v)) sp.top_k = (int32_t)cli_parse_int("--top-k", v, 0, 1 << 30);
        else if (cli_opt(argc, argv, &i, "-n", &v)) sp.max_tokens = (int32_t)cli_parse_int("-n", v, 1, 1 << 20);
        else if (cli_opt(argc, argv, &i, "--ctx", &v)) ctx_len = (int)cli_parse_int("--ctx", v, 64, 1 << 20);
        else if (cli_opt(argc, argv, &i, "--dtype", &v)) dtype = cli_parse_dtype("--dtype", v);
        else if (cli_opt(argc, argv, &i, "--kv-dtype", &v)) kv_dtype = cli_parse_kv_dtype("--kv-dtype", v);
        else if (cli_flag(argv, i, "--no-kv-reuse")) reuse = 0;
        else if (cli_flag(argv, i, "--verbose")) verbose = 1;
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) {
            printf("usage: srlm chat -m MODEL [--system TEXT] [--temp T] [--top-p P] [--top-k K] [-n N] [--ctx N] [--seed S]\n"
                   "  [--dtype f32|f16] [--kv-dtype f32|f16|auto]  KV cache storage (default auto: f32 with --dtype f32, else f16)\n"
                   "  [--no-kv-reuse]  prefill the whole conversation every turn (default: keep the KV cache)\n"
                   "  [--verbose]      per turn on stderr: prompt tokens, reused from the cache, prefilled, reply ids\n"
                   "  type a message and press enter; /reset clears the history; /quit leaves\n");
            return 0;
        } else return cli_usage_error("chat", "unknown argument '%s'", argv[i]);
    }
    if (!cc.model) return cli_usage_error("chat", "-m MODEL is required");
    sp.seed = cc.seed;
    srlm_tokenizer *tok = NULL;
    srlm_ctx *ctx = NULL;
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    srlm_status st = srlm_tokenizer_create(cc.model, &tok);
    if (!st) st = cli_ctx_create(&cc, &ctx);
    if (!st) st = srlm_model_load(ctx, cc.model, dtype, &m);
    int32_t stop_ids[2];
    int nstop = 0;
    if (!st) {
        int32_t id;
        srlm_status s2 = srlm_tokenizer_find(tok, "<|im_end|>", &id);
        if (!s2) stop_ids[nstop++] = id;
        srlm_status_free(s2);
        if (srlm_tokenizer_eos(tok) >= 0) stop_ids[nstop++] = srlm_tokenizer_eos(tok);
        sp.stop_ids = stop_ids, sp.n_stop_ids = nstop;
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_ctx = ctx_len;
        eo.kv_dtype = kv_dtype;
        st = srlm_engine_create(m, &eo, &e);
    }
    if (st) {
        srlm_engine_destroy(e), srlm_model_destroy(m), srlm_ctx_destroy(ctx), srlm_tokenizer_destroy(tok);
        return cli_fail("chat", st);
    }
    srlm_chat_message *msgs = NULL;
    size_t nmsg = 0, cap = 0;
    /* The conversation's sequence: cached[0..ncached) are the tokens its KV cache holds;
     * prev_render is the rendering they started from (prompt of the last turn). */
    int seq = -1, turn_no = 0;
    int32_t *cached = NULL;
    size_t ncached = 0;
    char *prev_render = NULL;
    char line[65536];
    int interactive = isatty(0);
    for (;;) {
        if (interactive) fprintf(stderr, "> ");
        if (!fgets(line, sizeof line, stdin)) break;
        line[strcspn(line, "\n")] = 0;
        if (!strcmp(line, "/quit")) break;
        if (!strcmp(line, "/reset")) {
            for (size_t i = 0; i < nmsg; i++) free((char *)msgs[i].content);
            nmsg = 0;
            if (seq >= 0) srlm_engine_seq_free(e, seq);
            seq = -1, ncached = 0;
            free(prev_render), prev_render = NULL;
            continue;
        }
        if (!*line) continue;
        if (nmsg + 3 > cap) {
            cap = cap ? cap * 2 : 16;
            srlm_chat_message *nm = realloc(msgs, cap * sizeof *nm);
            if (!nm) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
            msgs = nm;
        }
        if (nmsg == 0 && system) msgs[nmsg++] = (srlm_chat_message){"system", strdup(system)};
        msgs[nmsg++] = (srlm_chat_message){"user", strdup(line)};
        char *text = NULL;
        int32_t *ids = NULL;
        size_t n = 0;
        st = srlm_chat_render(tok, msgs, nmsg, 1, &text);
        if (!st) st = srlm_tokenizer_encode(tok, text, strlen(text), SRLM_ENCODE_SPECIAL, &ids, &n);
        if (!st && (int)n >= ctx_len) st = srlm_errorf(SRLM_ERR_INVALID, "the conversation (%zu tokens) fills the context of %d; /reset", n, ctx_len);
        /* How much of the cache this turn can keep: none unless the last turn's rendering is
         * a prefix of this one; then the tokens cached and new agree on (at least one new). */
        size_t keep = 0;
        if (!st && reuse && seq >= 0 && prev_render && !strncmp(text, prev_render, strlen(prev_render)) &&
            srlm_engine_seq_len(e, seq) == (int)ncached) {
            while (keep < ncached && keep < n && cached[keep] == ids[keep]) keep++;
            if (keep == n) keep = n - 1;
        }
        if (!st && seq >= 0) st = srlm_engine_seq_truncate(e, seq, (int)keep);
        if (!st && seq < 0) st = srlm_engine_seq_new(e, &seq);
        srlm_gen_result r = {0};
        srlm_gen_stats gst = {0};
        if (!st) {
            srlm_sample_params turn = sp; /* the reply may not overflow the context */
            if (turn.max_tokens > ctx_len - (int32_t)n) turn.max_tokens = ctx_len - (int32_t)n;
            st = srlm_generate_continue(e, tok, seq, ids, n, &turn, on_text, NULL, &r, &gst);
            sp.seed++;
        }
        turn_no++;
        if (!st && verbose) {
            fprintf(stderr, "[turn %d: %zu prompt tokens, %zu reused from the KV cache, %llu prefilled]\n[reply ids:", turn_no, n,
                    keep, (unsigned long long)gst.prefill_tokens);
            for (size_t i = 0; i < r.n_tokens; i++) fprintf(stderr, "%s%d", i ? "," : " ", (int)r.tokens[i]);
            fprintf(stderr, "]\n");
        }
        /* What the cache holds now: the prompt and every generated token but the last. */
        if (!st) {
            size_t want = n + (r.n_tokens ? r.n_tokens - 1 : 0);
            int32_t *nc = realloc(cached, (want ? want : 1) * sizeof *nc);
            if (!nc) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
            else {
                cached = nc;
                memcpy(cached, ids, n * sizeof *ids);
                if (r.n_tokens) memcpy(cached + n, r.tokens, (r.n_tokens - 1) * sizeof *ids);
                ncached = want;
                free(prev_render);
                prev_render = text;
                text = NULL;
            }
        }
        free(text);
        free(ids);
        if (st) {
            fprintf(stderr, "srlm chat: %s\n", srlm_status_msg(st));
            srlm_status_free(st);
            st = NULL;
            free((char *)msgs[--nmsg].content);
            srlm_gen_result_free(&r);
            if (seq >= 0) srlm_engine_seq_free(e, seq); /* its cache is unknown now */
            seq = -1, ncached = 0;
            continue;
        }
        printf("\n");
        fflush(stdout);
        msgs[nmsg++] = (srlm_chat_message){"assistant", r.text};
        r.text = NULL;
        srlm_gen_result_free(&r);
    }
    for (size_t i = 0; i < nmsg; i++) free((char *)msgs[i].content);
    free(msgs);
    free(cached);
    free(prev_render);
    srlm_engine_destroy(e), srlm_model_destroy(m), srlm_ctx_destroy(ctx), srlm_tokenizer_destroy(tok);
    if (st) return cli_fail("chat", st);
    return 0;
}
