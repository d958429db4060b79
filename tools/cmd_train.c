/* cmd_train.c: `srlm train sft|kd|pretrain -m DIR --data FILE --out DIR [options]` or with
 * `--config FILE.json` holding the same keys (without the dashes; command-line options win). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f, int code) {
    fprintf(f, "usage: srlm train sft|kd|pretrain -m/--model DIR --data FILE.jsonl|FILE.txt --out DIR [options]\n"
               "  --config FILE.json   the same keys as the options below, without dashes\n"
               "  --lr 4e-5 --epochs 1 --steps N (instead of epochs) --seq 512 --batch 1 --accum 1\n"
               "  --schedule cosine|linear|constant --warmup N --min-lr-ratio 0.1 --weight-decay 0\n"
               "  --beta1 0.9 --beta2 0.999 --eps 1e-8 --max-grad-norm 1 (0: no clipping)\n"
               "  --meap R (0.15 pre-training, 0.10 SFT) --meap-layout separate|concat --mask-id ID\n"
               "  --pack  --eval-data FILE | --eval-fraction F  --eval-every N  --save-every N\n"
               "  --save-dtype f32|bf16|f16  --no-recompute  --resume OUT|OUT/step-N  --init-from DIR\n"
               "  --stop-after N (end this invocation after N steps; --resume continues the same schedule)\n"
               "  kd: --teacher DIR (frozen, f16, same device) | --teacher-logits FILE (from `srlm teacher --topk`)\n"
               "      --kd-alpha 0.5 (loss = a CE + (1-a) T^2 KL)  --kd-temp 1  --kd-reverse (KL(student||teacher))\n"
               "  --seed S --device N --mem-budget SIZE\n");
    return code;
}

/* argv strings made from --config keys live as long as the command */
typedef struct argbuf {
    char **v;
    int n, cap;
} argbuf;

static void push(argbuf *a, const char *s) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = realloc(a->v, (size_t)a->cap * sizeof *a->v);
        if (!a->v) { fprintf(stderr, "srlm: out of memory\n"); exit(1); }
    }
    a->v[a->n++] = strdup(s);
}

static int config_args(const char *path, argbuf *a) {
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text) return cli_fail("train", srlm_errorf(SRLM_ERR_IO, "cannot read %s", path));
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return cli_fail("train", srlm_errorf(SRLM_ERR_FORMAT, "%s: not a JSON object", path));
    }
    for (cJSON *it = j->child; it; it = it->next) {
        char key[128], val[1024];
        snprintf(key, sizeof key, "--%s", it->string);
        for (char *k = key + 2; *k; k++)
            if (*k == '_') *k = '-';
        if (cJSON_IsBool(it)) {
            if (cJSON_IsTrue(it)) push(a, key);
            continue;
        }
        if (cJSON_IsString(it)) snprintf(val, sizeof val, "%s", it->valuestring);
        else if (cJSON_IsNumber(it)) snprintf(val, sizeof val, "%.17g", it->valuedouble);
        else {
            cJSON_Delete(j);
            return cli_fail("train", srlm_errorf(SRLM_ERR_FORMAT, "%s: key %s must be a string, number or boolean", path, it->string));
        }
        push(a, key);
        push(a, val);
    }
    cJSON_Delete(j);
    return 0;
}

int cmd_train(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) return usage(argc < 2 ? stderr : stdout, argc < 2 ? 2 : 0);
    srlm_train_options o;
    srlm_train_options_default(&o);
    o.mode = argv[1];
    cli_common cc;
    cli_common_init(&cc);
    /* --config first, then the command line on top */
    argbuf a = {0};
    push(&a, "train");
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            int r = config_args(argv[i + 1], &a);
            if (r) return r;
        }
    for (int i = 2; i < argc; i++) push(&a, argv[i]);
    const char *v;
    bool seed_given = false;
    for (int i = 1; i < a.n; i++) {
        char **av = a.v;
        if (!strcmp(av[i], "--seed")) seed_given = true;
        if (cli_common_opt(a.n, av, &i, &cc)) continue;
        if (cli_opt(a.n, av, &i, "--config", &v)) continue;
        if (cli_opt(a.n, av, &i, "--data", &v)) o.data = v;
        else if (cli_opt(a.n, av, &i, "--eval-data", &v)) o.eval_data = v;
        else if (cli_opt(a.n, av, &i, "--out", &v)) o.out = v;
        else if (cli_opt(a.n, av, &i, "--resume", &v)) o.resume = v;
        else if (cli_opt(a.n, av, &i, "--init-from", &v)) o.init_from = v;
        else if (cli_opt(a.n, av, &i, "--lr", &v)) o.lr = (float)cli_parse_double("--lr", v);
        else if (cli_opt(a.n, av, &i, "--epochs", &v)) o.epochs = (int)cli_parse_int("--epochs", v, 1, 1 << 20);
        else if (cli_opt(a.n, av, &i, "--steps", &v)) o.max_steps = (long)cli_parse_int("--steps", v, 1, 1L << 40);
        else if (cli_opt(a.n, av, &i, "--stop-after", &v)) o.stop_after = (long)cli_parse_int("--stop-after", v, 1, 1L << 40);
        else if (cli_opt(a.n, av, &i, "--seq", &v)) o.seq = (int)cli_parse_int("--seq", v, 2, 1 << 20);
        else if (cli_opt(a.n, av, &i, "--batch", &v)) o.batch = (int)cli_parse_int("--batch", v, 1, 1 << 16);
        else if (cli_opt(a.n, av, &i, "--accum", &v)) o.accum = (int)cli_parse_int("--accum", v, 1, 1 << 16);
        else if (cli_opt(a.n, av, &i, "--schedule", &v)) o.schedule = v;
        else if (cli_opt(a.n, av, &i, "--warmup", &v)) o.warmup = (int)cli_parse_int("--warmup", v, 0, 1 << 30);
        else if (cli_opt(a.n, av, &i, "--min-lr-ratio", &v)) o.min_lr_ratio = (float)cli_parse_double("--min-lr-ratio", v);
        else if (cli_opt(a.n, av, &i, "--weight-decay", &v)) o.weight_decay = (float)cli_parse_double("--weight-decay", v);
        else if (cli_opt(a.n, av, &i, "--beta1", &v)) o.beta1 = (float)cli_parse_double("--beta1", v);
        else if (cli_opt(a.n, av, &i, "--beta2", &v)) o.beta2 = (float)cli_parse_double("--beta2", v);
        else if (cli_opt(a.n, av, &i, "--eps", &v)) o.eps = (float)cli_parse_double("--eps", v);
        else if (cli_opt(a.n, av, &i, "--max-grad-norm", &v)) o.max_grad_norm = (float)cli_parse_double("--max-grad-norm", v);
        else if (cli_opt(a.n, av, &i, "--meap", &v)) o.meap = (float)cli_parse_double("--meap", v);
        else if (cli_opt(a.n, av, &i, "--meap-layout", &v)) o.meap_layout = v;
        else if (cli_opt(a.n, av, &i, "--mask-id", &v)) o.mask_id = (int32_t)cli_parse_int("--mask-id", v, -1, INT32_MAX);
        else if (cli_opt(a.n, av, &i, "--eval-fraction", &v)) o.eval_fraction = cli_parse_double("--eval-fraction", v);
        else if (cli_opt(a.n, av, &i, "--eval-every", &v)) o.eval_every = (int)cli_parse_int("--eval-every", v, 0, 1 << 30);
        else if (cli_opt(a.n, av, &i, "--save-every", &v)) o.save_every = (int)cli_parse_int("--save-every", v, 0, 1 << 30);
        else if (cli_opt(a.n, av, &i, "--save-dtype", &v)) o.save_dtype = cli_parse_dtype("--save-dtype", v);
        else if (cli_opt(a.n, av, &i, "--teacher", &v)) o.teacher = v;
        else if (cli_opt(a.n, av, &i, "--teacher-logits", &v)) o.teacher_logits = v;
        else if (cli_opt(a.n, av, &i, "--kd-alpha", &v)) o.kd_alpha = (float)cli_parse_double("--kd-alpha", v);
        else if (cli_opt(a.n, av, &i, "--kd-temp", &v)) o.kd_temp = (float)cli_parse_double("--kd-temp", v);
        else if (cli_flag(av, i, "--kd-reverse")) o.kd_reverse = 1;
        else if (cli_flag(av, i, "--pack")) o.pack = 1;
        else if (cli_flag(av, i, "--no-recompute")) o.recompute = 0;
        else return cli_usage_error("train", "unknown argument '%s'", av[i]);
    }
    o.model_dir = cc.model;
    if (seed_given) o.seed = cc.seed;
    if (!o.model_dir || !o.data || !o.out) return usage(stderr, 2);
    if (!strcmp(o.mode, "kd") && !o.teacher == !o.teacher_logits)
        return cli_usage_error("train", "kd needs either --teacher DIR or --teacher-logits FILE");
    if ((o.teacher || o.teacher_logits) && strcmp(o.mode, "kd"))
        return cli_usage_error("train", "--teacher and --teacher-logits belong to `train kd`");
    if (!(o.kd_alpha >= 0.0f && o.kd_alpha <= 1.0f)) return cli_usage_error("train", "--kd-alpha must be in [0,1]");
    if (!(o.kd_temp > 0.0f)) return cli_usage_error("train", "--kd-temp must be positive");
    if (strcmp(o.meap_layout, "separate") && strcmp(o.meap_layout, "concat"))
        return cli_usage_error("train", "--meap-layout must be separate or concat");
    if (strcmp(o.schedule, "cosine") && strcmp(o.schedule, "linear") && strcmp(o.schedule, "constant"))
        return cli_usage_error("train", "--schedule must be cosine, linear or constant");
    srlm_ctx *ctx;
    srlm_status st = cli_ctx_create(&cc, &ctx);
    if (!st) {
        st = srlm_train_run(ctx, &o, stderr);
        int verr = srlm_ctx_validation_errors(ctx);
        if (!st && verr) st = srlm_errorf(SRLM_ERR_VULKAN, "%d validation message(s)", verr);
        srlm_ctx_destroy(ctx);
    }
    for (int i = 0; i < a.n; i++) free(a.v[i]);
    free(a.v);
    if (st) return cli_fail("train", st);
    return 0;
}
