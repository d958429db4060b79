/* cmd_teacher.c: `srlm teacher -m TEACHER --data FILE --topk K --out FILE [--seq N ...]`: one
 * pass of a teacher over a data file, storing each position's top-K token ids and logits for
 * `srlm train kd --teacher-logits FILE` (format: runtime/train/teacher_file.h). */
#include "cli.h"

#include <string.h>

static int usage(FILE *f, int code) {
    fprintf(f, "usage: srlm teacher -m/--model TEACHER --data FILE.jsonl --topk 64 --out FILE [options]\n"
               "  --seq 512 --kd-temp 1 --eval-data FILE | --eval-fraction F --seed S (as the `train kd` run that reads it)\n"
               "  --device N --mem-budget SIZE\n");
    return code;
}

int cmd_teacher(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) return usage(stdout, 0);
    srlm_teacher_options o;
    srlm_teacher_options_default(&o);
    cli_common cc;
    cli_common_init(&cc);
    bool seed_given = false;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed")) seed_given = true;
        if (cli_common_opt(argc, argv, &i, &cc)) continue;
        if (cli_opt(argc, argv, &i, "--data", &v)) o.data = v;
        else if (cli_opt(argc, argv, &i, "--eval-data", &v)) o.eval_data = v;
        else if (cli_opt(argc, argv, &i, "--out", &v)) o.out = v;
        else if (cli_opt(argc, argv, &i, "--topk", &v)) o.topk = (int)cli_parse_int("--topk", v, 1, 1 << 20);
        else if (cli_opt(argc, argv, &i, "--seq", &v)) o.seq = (int)cli_parse_int("--seq", v, 2, 1 << 20);
        else if (cli_opt(argc, argv, &i, "--kd-temp", &v)) o.temp = (float)cli_parse_double("--kd-temp", v);
        else if (cli_opt(argc, argv, &i, "--eval-fraction", &v)) o.eval_fraction = cli_parse_double("--eval-fraction", v);
        else return cli_usage_error("teacher", "unknown argument '%s'", argv[i]);
    }
    o.model_dir = cc.model;
    if (seed_given) o.seed = cc.seed;
    if (!o.model_dir || !o.data || !o.out) return usage(stderr, 2);
    srlm_ctx *ctx;
    srlm_status st = cli_ctx_create(&cc, &ctx);
    if (!st) {
        st = srlm_teacher_topk_write(ctx, &o, stderr);
        int verr = srlm_ctx_validation_errors(ctx);
        if (!st && verr) st = srlm_errorf(SRLM_ERR_VULKAN, "%d validation message(s)", verr);
        srlm_ctx_destroy(ctx);
    }
    return st ? cli_fail("teacher", st) : 0;
}
