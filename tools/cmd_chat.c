/* cmd_chat.c: `srlm chat -m MODEL`: an interactive chat on standard input; keeps the
 * conversation, renders it with the model's chat template each turn and streams the reply.
 * (Each turn prefills the rendered conversation again; the KV cache is not kept between
 * turns yet.) Commands: /reset clears the history, /quit or end of input leaves. */
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
    int ctx_len = 4096;
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
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) {
            printf("usage: srlm chat -m MODEL [--system TEXT] [--temp T] [--top-p P] [--top-k K] [-n N] [--ctx N] [--seed S]\n"
                   "  [--dtype f32|f16] [--kv-dtype f32|f16|auto]  KV cache storage (default auto: f32 with --dtype f32, else f16)\n"
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
        free(text);
        if (!st && (int)n >= ctx_len) st = srlm_errorf(SRLM_ERR_INVALID, "the conversation (%zu tokens) fills the context of %d; /reset", n, ctx_len);
        srlm_gen_result r = {0};
        if (!st) {
            const int32_t *p = ids;
            srlm_sample_params turn = sp; /* the reply may not overflow the context */
            if (turn.max_tokens > ctx_len - (int32_t)n) turn.max_tokens = ctx_len - (int32_t)n;
            st = srlm_generate(e, tok, 1, &p, &n, &turn, on_text, NULL, &r, NULL);
            sp.seed++;
        }
        free(ids);
        if (st) {
            fprintf(stderr, "srlm chat: %s\n", srlm_status_msg(st));
            srlm_status_free(st);
            st = NULL;
            free((char *)msgs[--nmsg].content);
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
    srlm_engine_destroy(e), srlm_model_destroy(m), srlm_ctx_destroy(ctx), srlm_tokenizer_destroy(tok);
    if (st) return cli_fail("chat", st);
    return 0;
}
