/* cmd_bench.c: `srlm bench <what>`: speed and bandwidth benchmarks on the chosen device.
 * Targets in docs/perf.md are stated as fractions of these numbers. */
#include "cli.h"

#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: srlm bench ops [--only FAMILY] | membw | matmul [options]\n"
               "options: --device N, --min-time SECONDS (per measurement), --quick, --mem-budget SIZE\n");
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *what = argv[1];
    if (!strcmp(what, "-h") || !strcmp(what, "--help")) { usage(stdout); return 0; }
    cli_common common;
    cli_common_init(&common);
    srlm_bench_opts bo;
    srlm_bench_opts_default(&bo);
    const char *only = NULL, *v;
    for (int i = 2; i < argc; i++) {
        if (cli_common_opt(argc, argv, &i, &common)) continue;
        if (cli_opt(argc, argv, &i, "--min-time", &v)) { bo.min_seconds = cli_parse_double("--min-time", v); continue; }
        if (cli_opt(argc, argv, &i, "--only", &v)) { only = v; continue; }
        if (cli_flag(argv, i, "--quick")) { bo.quick = 1; bo.min_seconds = 0.05; continue; }
        return cli_usage_error("bench", "unknown argument '%s'", argv[i]);
    }
    if (strcmp(what, "ops") && strcmp(what, "membw") && strcmp(what, "matmul")) {
        usage(stderr);
        return cli_usage_error("bench", "unknown benchmark '%s'", what);
    }
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    o.device = common.device;
    o.mem_budget = common.mem_budget;
    srlm_ctx *ctx;
    srlm_status st = srlm_ctx_create(&o, &ctx);
    if (st) return cli_fail("bench", st);
    if (!strcmp(what, "ops")) st = srlm_bench_ops(ctx, stdout, &bo, only);
    else if (!strcmp(what, "matmul")) st = srlm_bench_matmul(ctx, stdout, &bo, NULL);
    else st = srlm_bench_membw(ctx, stdout, &bo, NULL);
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
