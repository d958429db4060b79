/* cmd_perplexity.c: `srlm perplexity -m MODEL -f TEXTFILE [--ctx N]`: the model's perplexity
 * on a text, exp(mean negative log-likelihood of each token given the ones before it), over
 * consecutive windows of N tokens (each window scored from its second token on, as
 * llama.cpp's perplexity does without overlap). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cmd_perplexity(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    const char *file = NULL, *v;
    int ctx_len = 512;
    long max_windows = 0;
    srlm_dtype dtype = SRLM_DTYPE_F16;
    srlm_kv_dtype kv_dtype = SRLM_KV_AUTO;
    for (int i = 1; i < argc; i++) {
        if (cli_common_opt(argc, argv, &i, &cc)) continue;
        if (cli_opt_alias(argc, argv, &i, "-f", "--file", &v)) file = v;
        else if (cli_opt(argc, argv, &i, "--ctx", &v)) ctx_len = (int)cli_parse_int("--ctx", v, 2, 1 << 20);
        else if (cli_opt(argc, argv, &i, "--windows", &v)) max_windows = (long)cli_parse_int("--windows", v, 1, 1 << 30);
        else if (cli_opt(argc, argv, &i, "--dtype", &v)) dtype = cli_parse_dtype("--dtype", v);
        else if (cli_opt(argc, argv, &i, "--kv-dtype", &v)) kv_dtype = cli_parse_kv_dtype("--kv-dtype", v);
        else if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) {
            printf("usage: srlm perplexity -m MODEL -f TEXTFILE [--ctx N (default 512)] [--windows K] [--dtype f32|f16]\n"
                   "  --kv-dtype f32|f16|auto  KV cache storage (default auto: f32 with --dtype f32, else f16)\n");
            return 0;
        } else return cli_usage_error("perplexity", "unknown argument '%s'", argv[i]);
    }
    if (!cc.model || !file) return cli_usage_error("perplexity", "-m MODEL and -f TEXTFILE are required");
    size_t len;
    char *text = cli_read_file(file, &len);
    if (!text) return cli_fail("perplexity", srlm_errorf(SRLM_ERR_IO, "cannot read %s", file));
    srlm_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    srlm_status st = srlm_tokenizer_create(cc.model, &tok);
    if (!st) st = srlm_tokenizer_encode(tok, text, len, SRLM_ENCODE_BOS, &ids, &n);
    if (st) st = srlm_status_wrap(st, "%s: ", file);
    free(text);
    if (!st && n < 2) st = srlm_errorf(SRLM_ERR_INVALID, "%s has fewer than 2 tokens", file);
    if (!st && (size_t)ctx_len > n) ctx_len = (int)n;
    srlm_ctx *ctx = NULL;
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    float *logits = NULL;
    if (!st) st = cli_ctx_create(&cc, &ctx);
    if (!st) st = srlm_model_load(ctx, cc.model, dtype, &m);
    if (!st) {
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_ctx = ctx_len;
        eo.max_step_tokens = ctx_len < 256 ? ctx_len : 256;
        eo.max_out = eo.max_step_tokens < 64 ? eo.max_step_tokens : 64;
        eo.kv_dtype = kv_dtype;
        st = srlm_engine_create(m, &eo, &e);
    }
    int V = m ? srlm_model_vocab_size(m) : 0;
    if (!st) {
        logits = malloc((size_t)ctx_len * (size_t)V * sizeof(float));
        if (!logits) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for %d x %d logits", ctx_len, V);
    }
    double nll = 0;
    uint64_t scored = 0;
    long windows = 0;
    for (size_t start = 0; !st && start + 1 < n; start += (size_t)ctx_len) {
        if (max_windows && windows >= max_windows) break;
        int w = (int)(n - start < (size_t)ctx_len ? n - start : (size_t)ctx_len);
        if (w < 2) break;
        int s;
        st = srlm_engine_seq_new(e, &s);
        if (!st) st = srlm_engine_step(e, 1, &s, &w, ids + start, 1, logits);
        srlm_engine_seq_free(e, s);
        for (int t = 0; !st && t + 1 < w; t++) {
            const float *row = logits + (size_t)t * (size_t)V;
            double mx = row[0], sum = 0;
            for (int j = 1; j < V; j++) mx = row[j] > mx ? row[j] : mx;
            for (int j = 0; j < V; j++) sum += exp((double)row[j] - mx);
            nll += -((double)row[ids[start + (size_t)t + 1]] - mx - log(sum));
            scored++;
        }
        windows++;
        fprintf(stderr, "\rsrlm perplexity: window %ld, %llu tokens, running perplexity %.4f", windows,
                (unsigned long long)scored, exp(nll / (double)(scored ? scored : 1)));
    }
    if (windows) fputc('\n', stderr);
    if (!st) printf("perplexity: %.4f over %llu tokens (%ld windows of up to %d tokens)\n", exp(nll / (double)scored),
                    (unsigned long long)scored, windows, ctx_len);
    free(logits), free(ids);
    srlm_engine_destroy(e);
    srlm_model_destroy(m);
    srlm_ctx_destroy(ctx);
    srlm_tokenizer_destroy(tok);
    if (st) return cli_fail("perplexity", st);
    return 0;
}
