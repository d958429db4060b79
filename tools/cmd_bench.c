/* cmd_bench.c: `srlm bench <what>`: speed and bandwidth benchmarks on the chosen device.
 * Targets in docs/perf.md are stated as fractions of these numbers. */
#include "cli.h"

#include <stdbool.h>
#include <string.h>

int cmd_bench_tokenizer(int argc, char **argv); /* cmd_tokenize.c */

static void usage(FILE *f) {
    fprintf(f, "usage: srlm bench ops [--only FAMILY] | membw | matmul | decode -m MODEL | prefill -m MODEL [options]\n"
               "       srlm bench train -m MODEL --seq N [--batch B] [--steps S] [--warmup W] [--recompute 0|1] [--ref-gflops G]\n"
               "       srlm bench tokenizer -m MODEL -f FILE\n"
               "       srlm bench tree -m MODEL [--leaves N] [--half TOKENS] [--repeats N] [--dtype f32|f16]\n"
               "options: --device N, --min-time SECONDS (per measurement), --quick, --mem-budget SIZE\n"
               "decode/prefill: --batch B, --ctx N (context reserved), --fill N (positions\n"
               "  prefilled before timing; default ctx - steps), --steps N, --prompt N (prefill length),\n"
               "  --dtype f32|f16, --ref-gbs GB/s and --ref-gflops GFLOP/s (print the fraction reached)\n"
               "train: --seq N (default 256), --batch B, --steps S timed (default 3) after --warmup W (default 1), --recompute 0|1\n"
               "  (default 1), --ref-gflops G (default: measure bench matmul's f32 rate)\n");
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *what = argv[1];
    if (!strcmp(what, "-h") || !strcmp(what, "--help")) { usage(stdout); return 0; }
    if (!strcmp(what, "tokenizer")) return cmd_bench_tokenizer(argc - 1, argv + 1); /* no device needed */
    cli_common common;
    cli_common_init(&common);
    srlm_bench_opts bo;
    srlm_bench_opts_default(&bo);
    const char *only = NULL, *v;
    srlm_bench_model_opts mo;
    srlm_bench_model_opts_default(&mo);
    srlm_bench_train_opts tr;
    srlm_bench_train_opts_default(&tr);
    srlm_bench_tree_opts to;
    srlm_bench_tree_opts_default(&to);
    for (int i = 2; i < argc; i++) {
        if (cli_common_opt(argc, argv, &i, &common)) continue;
        if (cli_opt(argc, argv, &i, "--min-time", &v)) { bo.min_seconds = cli_parse_double("--min-time", v); continue; }
        if (cli_opt(argc, argv, &i, "--only", &v)) { only = v; continue; }
        if (cli_flag(argv, i, "--quick")) { bo.quick = 1; bo.min_seconds = 0.05; continue; }
        if (cli_opt(argc, argv, &i, "--batch", &v)) { mo.batch = tr.batch = (int)cli_parse_int("--batch", v, 1, 4096); continue; }
        if (cli_opt(argc, argv, &i, "--warmup", &v)) { tr.warmup = (int)cli_parse_int("--warmup", v, 0, 1000); continue; }
        if (cli_opt(argc, argv, &i, "--seq", &v)) { tr.seq = (int)cli_parse_int("--seq", v, 2, 1 << 20); continue; }
        if (cli_opt(argc, argv, &i, "--recompute", &v)) { tr.recompute = (int)cli_parse_int("--recompute", v, 0, 1); continue; }
        if (cli_opt(argc, argv, &i, "--ctx", &v)) { mo.ctx = (int)cli_parse_int("--ctx", v, 2, 1 << 22); continue; }
        if (cli_opt(argc, argv, &i, "--steps", &v)) { mo.steps = tr.steps = (int)cli_parse_int("--steps", v, 1, 1 << 20); continue; }
        if (cli_opt(argc, argv, &i, "--fill", &v)) { mo.fill = (int)cli_parse_int("--fill", v, 1, 1 << 22); continue; }
        if (cli_opt(argc, argv, &i, "--prompt", &v)) { mo.prompt = (int)cli_parse_int("--prompt", v, 1, 1 << 22); continue; }
        if (cli_opt(argc, argv, &i, "--dtype", &v)) { mo.dtype = to.dtype = cli_parse_dtype("--dtype", v); continue; }
        if (cli_opt(argc, argv, &i, "--leaves", &v)) { to.leaves = (int)cli_parse_int("--leaves", v, 2, 64); continue; }
        if (cli_opt(argc, argv, &i, "--half", &v)) { to.half = (int)cli_parse_int("--half", v, 8, 1 << 16); continue; }
        if (cli_opt(argc, argv, &i, "--repeats", &v)) { to.repeats = (int)cli_parse_int("--repeats", v, 1, 100); continue; }
        if (cli_opt(argc, argv, &i, "--ref-gbs", &v)) { mo.ref_gbs = cli_parse_double("--ref-gbs", v); continue; }
        if (cli_opt(argc, argv, &i, "--ref-gflops", &v)) { mo.ref_gflops = tr.ref_gflops = cli_parse_double("--ref-gflops", v); continue; }
        return cli_usage_error("bench", "unknown argument '%s'", argv[i]);
    }
    bool model_bench = !strcmp(what, "decode") || !strcmp(what, "prefill") || !strcmp(what, "tree") || !strcmp(what, "train");
    if (model_bench && !common.model) return cli_usage_error("bench", "%s needs -m MODEL", what);
    if (strcmp(what, "ops") && strcmp(what, "membw") && strcmp(what, "matmul") && !model_bench) {
        usage(stderr);
        return cli_usage_error("bench", "unknown benchmark '%s'", what);
    }
    if (!strcmp(what, "train")) setvbuf(stdout, NULL, _IOLBF, 0); /* a step can take minutes: show each */
    srlm_ctx *ctx;
    srlm_status st = cli_ctx_create(&common, &ctx);
    if (st) return cli_fail("bench", st);
    if (!strcmp(what, "ops")) st = srlm_bench_ops(ctx, stdout, &bo, only);
    else if (!strcmp(what, "matmul")) st = srlm_bench_matmul(ctx, stdout, &bo, NULL);
    else if (!strcmp(what, "membw")) st = srlm_bench_membw(ctx, stdout, &bo, NULL);
    else if (!strcmp(what, "decode")) st = srlm_bench_decode(ctx, stdout, common.model, &mo, NULL);
    else if (!strcmp(what, "train")) st = srlm_bench_train(ctx, stdout, common.model, &tr, NULL);
    else if (!strcmp(what, "tree")) st = srlm_bench_tree(ctx, stdout, common.model, &to);
    else st = srlm_bench_prefill(ctx, stdout, common.model, &mo, NULL);
    srlm_ctx_profile_report(ctx, stderr);
    int verr = srlm_ctx_validation_errors(ctx);
    srlm_ctx_destroy(ctx);
    if (st) return cli_fail("bench", st);
    if (verr) {
        fprintf(stderr, "srlm bench: %d validation message(s)\n", verr);
        return 1;
    }
    return 0;
}
