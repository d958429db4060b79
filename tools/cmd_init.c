/* cmd_init.c: `srlm init`: write a randomly initialised model folder from a preset. A thin
 * layer over srlm_model_init. */
#include "cli.h"

#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: srlm init --config models/PRESET.json --out DIR [--seed S] [--dtype f32|f16|bf16] [--tokenizer DIR]\n");
    return 2;
}

int cmd_init(int argc, char **argv) {
    cli_common common;
    cli_common_init(&common);
    srlm_init_options o = {0};
    o.dtype = SRLM_DTYPE_F32;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) { usage(); return 0; }
        if (cli_opt(argc, argv, &i, "--config", &v)) o.config_path = v;
        else if (cli_opt(argc, argv, &i, "--out", &v)) o.out_dir = v;
        else if (cli_opt(argc, argv, &i, "--tokenizer", &v)) o.tokenizer_dir = v;
        else if (cli_opt(argc, argv, &i, "--dtype", &v)) {
            if (!srlm_dtype_parse(v, &o.dtype) || o.dtype == SRLM_DTYPE_Q8_0)
                return cli_usage_error("init", "--dtype must be f32, f16 or bf16, got '%s'", v);
        } else if (cli_common_opt(argc, argv, &i, &common)) continue;
        else return cli_usage_error("init", "unknown option '%s'", argv[i]);
    }
    if (!o.config_path || !o.out_dir) return usage();
    o.seed = common.seed;
    srlm_status st = srlm_model_init(&o);
    if (st) return cli_fail("init", st);
    printf("wrote %s (%s, seed %llu)\n", o.out_dir, srlm_dtype_name(o.dtype), (unsigned long long)o.seed);
    return 0;
}
