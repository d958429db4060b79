/* cmd_forward.c: `srlm forward -m MODEL (-p TEXT | --ids 1,2,3) --out FILE`: the logits of
 * every position as little-endian float32, row-major [T, V]; prints T and V. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void) {
    fprintf(stderr, "usage: srlm forward -m MODEL (-p TEXT | --ids 1,2,3) --out FILE [--dtype f32|f16] [--device N]\n"
                    "       [--decode-from N]  prefill N tokens, then decode the rest one per step (KV cache)\n"
                    "       [--kv-dtype f32|f16|auto]  KV cache storage (default auto: f32 with --dtype f32, else f16)\n"
                    "  writes the logits of every position as little-endian float32, row-major [T, V]\n");
    return 2;
}

int cmd_forward(int argc, char **argv) {
    cli_common cc;
    cli_common_init(&cc);
    const char *prompt = NULL, *idlist = NULL, *out = NULL, *v;
    srlm_dtype dtype = SRLM_DTYPE_F16;
    srlm_kv_dtype kv_dtype = SRLM_KV_AUTO;
    int decode_from = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_common_opt(argc, argv, &i, &cc)) continue;
        if (cli_opt_alias(argc, argv, &i, "-p", "--prompt", &v)) { prompt = v; continue; }
        if (cli_opt(argc, argv, &i, "--ids", &v)) { idlist = v; continue; }
        if (cli_opt(argc, argv, &i, "--out", &v)) { out = v; continue; }
        if (cli_opt(argc, argv, &i, "--decode-from", &v)) { decode_from = (int)cli_parse_int("--decode-from", v, 0, 1 << 30); continue; }
        if (cli_opt(argc, argv, &i, "--dtype", &v)) { dtype = cli_parse_dtype("--dtype", v); continue; }
        if (cli_opt(argc, argv, &i, "--kv-dtype", &v)) { kv_dtype = cli_parse_kv_dtype("--kv-dtype", v); continue; }
        if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) return usage();
        return cli_usage_error("forward", "unknown argument '%s'", argv[i]);
    }
    if (!cc.model || !out || (!prompt == !idlist)) return usage();
    int32_t *ids = NULL;
    size_t n = 0;
    srlm_status st = NULL;
    if (idlist) {
        ids = cli_parse_ids("--ids", idlist, &n);
    } else {
        srlm_tokenizer *tok;
        st = srlm_tokenizer_create(cc.model, &tok);
        if (st) return cli_fail("forward", st);
        st = srlm_tokenizer_encode(tok, prompt, strlen(prompt), SRLM_ENCODE_BOS, &ids, &n);
        srlm_tokenizer_destroy(tok);
        if (st) return cli_fail("forward", st);
    }
    if (n == 0) {
        free(ids);
        return cli_usage_error("forward", "no tokens to run");
    }
    srlm_ctx *ctx = NULL;
    srlm_model *m = NULL;
    srlm_engine *e = NULL;
    float *logits = NULL;
    st = cli_ctx_create(&cc, &ctx);
    if (!st) st = srlm_model_load(ctx, cc.model, dtype, &m);
    if (!st) {
        srlm_engine_options eo;
        srlm_engine_options_default(&eo);
        eo.max_ctx = (int)n;
        eo.max_step_tokens = n < 256 ? (int)n : 256;
        eo.max_out = eo.max_step_tokens < 64 ? eo.max_step_tokens : 64;
        eo.kv_dtype = kv_dtype;
        st = srlm_engine_create(m, &eo, &e);
    }
    int V = m ? srlm_model_vocab_size(m) : 0;
    int seq = 0, nt = (int)n;
    if (!st) {
        logits = malloc(n * (size_t)V * sizeof(float));
        if (!logits) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory for %zu x %d logits", n, V);
    }
    if (!st) st = srlm_engine_seq_new(e, &seq);
    if (!st && decode_from > 0 && decode_from < nt) {
        /* KV-cached decoding: prefill the first tokens, then one token per step. */
        st = srlm_engine_step(e, 1, &seq, &decode_from, ids, 1, logits);
        for (int t = decode_from; !st && t < nt; t++) {
            int one = 1;
            st = srlm_engine_step(e, 1, &seq, &one, ids + t, 0, logits + (size_t)t * (size_t)V);
        }
    } else if (!st) {
        st = srlm_engine_step(e, 1, &seq, &nt, ids, 1, logits);
    }
    if (!st) {
        /* atomic: a temporary name then rename, so a failure leaves no partial file */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out, (long)getpid());
        FILE *f = fopen(tmp, "wb");
        if (!f) st = srlm_errorf(SRLM_ERR_IO, "cannot write %s", tmp);
        else {
            size_t w = fwrite(logits, sizeof(float), n * (size_t)V, f);
            int cl = fclose(f);
            if (w != n * (size_t)V || cl) st = srlm_errorf(SRLM_ERR_IO, "short write to %s", tmp);
            else if (rename(tmp, out)) st = srlm_errorf(SRLM_ERR_IO, "cannot rename %s to %s", tmp, out);
            if (st) remove(tmp);
        }
    }
    if (!st) printf("T=%zu V=%d\n", n, V);
    int verr = ctx ? srlm_ctx_validation_errors(ctx) : 0;
    free(logits);
    free(ids);
    srlm_engine_destroy(e);
    srlm_model_destroy(m);
    srlm_ctx_destroy(ctx);
    if (st) return cli_fail("forward", st);
    if (verr) return cli_fail("forward", srlm_errorf(SRLM_ERR_VULKAN, "%d validation message(s)", verr));
    return 0;
}
