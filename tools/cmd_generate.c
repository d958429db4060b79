/* cmd_generate.c: `srlm generate`: streams a continuation of a prompt (or of token ids) and
 * prints prefill and decode speed on stderr. llama2.c's step counting is available with
 * --total-steps (see --help). */
#include "cli.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static int usage(FILE *f, int code) {
    fprintf(f,
            "usage: srlm generate -m MODEL [-p TEXT | --ids 1,2,3] [options]\n"
            "  -n N               new tokens to generate (default 128)\n"
            "  --total-steps N    llama2.c's -n: N positions in total, prompt positions included, after\n"
            "                     BOS (new tokens = N + 1 - prompt tokens incl. BOS)\n"
            "  --temp T (default 1; 0 = greedy)  --top-k K  --top-p P  --min-p P  --repeat-penalty R\n"
            "  --repeat-last-n N  --seed S  --stop TEXT (repeatable)  --stop-id ID (repeatable)\n"
            "  --ignore-eos       do not stop at the end-of-sequence token\n"
            "  --chat             render TEXT as one user turn of the chat template\n"
            "  --batch B          decode B samples of the prompt together (sequence ids 0..B-1)\n"
            "  --no-echo          do not print the prompt\n"
            "  --print-ids        print token ids (prompt and generated, comma-separated) instead of text\n"
            "  --ctx N            context length (default prompt + new tokens)\n"
            "  --dtype f32|f16    weight storage on the device (default f16)\n"
            "  --kv-dtype f32|f16|auto  KV cache storage (default auto: f32 with --dtype f32, else f16)\n"
            "Without a tokenizer (an HF folder without tokenizer.json) use --ids; ids are printed.\n");
    return code;
}

typedef struct stream_state {
    int batch;
} stream_state;

static void on_text(void *user, int index, const char *text, size_t len) {
    stream_state *s = user;
    if (s->batch > 1 || index != 0) return; /* batches are printed at the end */
    fwrite(text, 1, len, stdout);
    fflush(stdout);
}

int cmd_generate(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    srlm_sample_params sp;
    srlm_sample_params_default(&sp);
    sp.max_tokens = 128;
    const char *prompt = NULL, *idlist = NULL, *v;
    const char *stops[16];
    int32_t stop_ids[16];
    int nstops = 0, nstop_ids = 0, batch = 1, echo = 1, chat = 0, ignore_eos = 0, ctx_len = 0, print_ids = 0;
    long total_steps = -1;
    srlm_dtype dtype = SRLM_DTYPE_F16;
    srlm_kv_dtype kv_dtype = SRLM_KV_AUTO;
    bool seed_given = false;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--seed")) seed_given = true;
        if (cli_common_opt(argc, argv, &i, &cc)) continue;
        if (cli_opt_alias(argc, argv, &i, "-p", "--prompt", &v)) prompt = v;
        else if (cli_opt(argc, argv, &i, "--ids", &v)) idlist = v;
        else if (cli_opt(argc, argv, &i, "-n", &v)) sp.max_tokens = (int32_t)cli_parse_int("-n", v, 1, 1 << 24);
        else if (cli_opt(argc, argv, &i, "--total-steps", &v)) total_steps = (long)cli_parse_int("--total-steps", v, 1, 1 << 24);
        else if (cli_opt(argc, argv, &i, "--temp", &v)) sp.temperature = (float)cli_parse_double("--temp", v);
        else if (cli_opt(argc, argv, &i, "--top-k", &v)) sp.top_k = (int32_t)cli_parse_int("--top-k", v, 0, 1 << 30);
        else if (cli_opt(argc, argv, &i, "--top-p", &v)) sp.top_p = (float)cli_parse_double("--top-p", v);
        else if (cli_opt(argc, argv, &i, "--min-p", &v)) sp.min_p = (float)cli_parse_double("--min-p", v);
        else if (cli_opt(argc, argv, &i, "--repeat-penalty", &v)) sp.repeat_penalty = (float)cli_parse_double("--repeat-penalty", v);
        else if (cli_opt(argc, argv, &i, "--repeat-last-n", &v)) sp.repeat_last_n = (int32_t)cli_parse_int("--repeat-last-n", v, -1, 1 << 30);
        else if (cli_opt(argc, argv, &i, "--stop", &v)) {
            if (nstops == 16) return cli_usage_error("generate", "at most 16 --stop strings");
            stops[nstops++] = v;
        } else if (cli_opt(argc, argv, &i, "--stop-id", &v)) {
            if (nstop_ids == 15) return cli_usage_error("generate", "at most 15 --stop-id ids");
            stop_ids[nstop_ids++] = (int32_t)cli_parse_int("--stop-id", v, 0, INT32_MAX);
        } else if (cli_opt(argc, argv, &i, "--batch", &v)) batch = (int)cli_parse_int("--batch", v, 1, 256);
        else if (cli_opt(argc, argv, &i, "--ctx", &v)) ctx_len = (int)cli_parse_int("--ctx", v, 1, 1 << 24);
        else if (cli_opt(argc, argv, &i, "--dtype", &v)) dtype = cli_parse_dtype("--dtype", v);
        else if (cli_opt(argc, argv, &i, "--kv-dtype", &v)) kv_dtype = cli_parse_kv_dtype("--kv-dtype", v);
        else if (cli_flag(argv, i, "--no-echo")) echo = 0;
        else if (cli_flag(argv, i, "--print-ids")) print_ids = 1;
        else if (cli_flag(argv, i, "--chat")) chat = 1;
        else if (cli_flag(argv, i, "--ignore-eos")) ignore_eos = 1;
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) return usage(stdout, 0);
        else return cli_usage_error("generate", "unknown argument '%s'", argv[i]);
    }
    if (!cc.model || (prompt && idlist)) return usage(stderr, 2);
    if (seed_given) sp.seed = cc.seed;
    if (access(cc.model, R_OK) != 0) return cli_fail("generate", srlm_errorf(SRLM_ERR_NOT_FOUND, "model %s: %s", cc.model, strerror(errno)));
    srlm_tokenizer *tok = NULL;
    srlm_status st = srlm_tokenizer_create(cc.model, &tok);
    if (st && !idlist) return cli_fail("generate", srlm_status_wrap(st, "no tokenizer (use --ids): "));
    srlm_status_free(st);
    st = NULL;
    srlm_tokenizer *text_tok = print_ids ? NULL : tok; /* NULL: print ids instead of text */
    int32_t *ids = NULL;
    size_t n = 0;
    if (idlist) {
        ids = cli_parse_ids("--ids", idlist, &n);
    } else {
        char *text = NULL;
        const char *p = prompt ? prompt : "";
        if (chat) {
            srlm_chat_message msg = {"user", p};
            st = srlm_chat_render(tok, &msg, 1, 1, &text);
            p = text;
        }
        if (!st) st = srlm_tokenizer_encode(tok, p, strlen(p), SRLM_ENCODE_BOS | (chat ? SRLM_ENCODE_SPECIAL : 0), &ids, &n);
        free(text);
        if (!st && n == 0) st = srlm_errorf(SRLM_ERR_INVALID, "the prompt is empty and the tokenizer has no BOS token");
    }
    if (!st && total_steps >= 0) {
        long new_tokens = total_steps + 1 - (long)n;
        if (new_tokens < 1) st = srlm_errorf(SRLM_ERR_INVALID, "--total-steps %ld does not reach past the %zu prompt tokens", total_steps, n);
        else sp.max_tokens = (int32_t)new_tokens;
    }
    srlm_ctx *ctx = NULL;
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    if (!st) st = cli_ctx_create(&cc, &ctx);
    if (!st) st = srlm_model_load(ctx, cc.model, dtype, &m);
    if (!st && !ignore_eos) {
        int32_t eos = tok ? srlm_tokenizer_eos(tok) : -1;
        if (eos < 0) eos = srlm_model_eos(m);
        if (eos >= 0 && nstop_ids < 16) stop_ids[nstop_ids++] = eos;
    }
    sp.stop_ids = stop_ids, sp.n_stop_ids = nstop_ids;
    sp.stop_strings = stops, sp.n_stop_strings = nstops;
    if (!st) {
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_seqs = batch;
        eo.kv_dtype = kv_dtype;
        eo.max_ctx = ctx_len ? ctx_len : (int)n + sp.max_tokens;
        st = srlm_engine_create(m, &eo, &e);
    }
    if (!st && echo && batch == 1) {
        if (text_tok) {
            char *text;
            size_t len;
            st = srlm_tokenizer_decode(tok, ids, n, SRLM_DECODE_SKIP_SPECIAL, &text, &len);
            if (!st) fwrite(text, 1, len, stdout), free(text);
        } else {
            for (size_t i = 0; i < n; i++) printf("%s%d", i ? "," : "", ids[i]);
        }
        fflush(stdout);
    }
    srlm_gen_result *res = calloc((size_t)batch, sizeof *res);
    srlm_sample_params *params = calloc((size_t)batch, sizeof *params);
    const int32_t **prompts = calloc((size_t)batch, sizeof *prompts);
    size_t *lens = calloc((size_t)batch, sizeof *lens);
    if (!st && (!res || !params || !prompts || !lens)) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    srlm_gen_stats stats = {0};
    if (!st) {
        for (int b = 0; b < batch; b++) params[b] = sp, prompts[b] = ids, lens[b] = n;
        stream_state ss = {.batch = text_tok ? batch : 2};
        st = srlm_generate(e, tok, batch, prompts, lens, params, on_text, &ss, res, &stats);
    }
    if (!st) {
        for (int b = 0; b < batch; b++) {
            if (batch > 1) printf("--- sample %d ---\n", b);
            if (!text_tok) {
                for (size_t i = 0; i < res[b].n_tokens; i++) printf(",%d", res[b].tokens[i]);
            } else if (batch > 1) {
                fwrite(res[b].text, 1, res[b].n_text, stdout);
            }
            printf("\n");
            srlm_gen_result_free(&res[b]);
        }
        fprintf(stderr, "srlm generate: prefill %llu tokens at %.1f tokens/s, decode %llu tokens at %.1f tokens/s, peak device memory %.1f MiB (%s)\n",
                (unsigned long long)stats.prefill_tokens,
                stats.prefill_seconds > 0 ? (double)stats.prefill_tokens / stats.prefill_seconds : 0.0,
                (unsigned long long)stats.decode_tokens,
                stats.decode_seconds > 0 ? (double)stats.decode_tokens / stats.decode_seconds : 0.0,
                srlm_ctx_mem_peak(ctx) / 1048576.0, srlm_ctx_device_name(ctx));
    }
    int verr = ctx ? srlm_ctx_validation_errors(ctx) : 0;
    if (ctx) srlm_ctx_profile_report(ctx, stderr);
    free(res), free(params), free(prompts), free(lens), free(ids);
    srlm_engine_destroy(e);
    srlm_model_destroy(m);
    srlm_ctx_destroy(ctx);
    srlm_tokenizer_destroy(tok);
    if (st) return cli_fail("generate", st);
    if (verr) return cli_fail("generate", srlm_errorf(SRLM_ERR_VULKAN, "%d validation message(s)", verr));
    return 0;
}
