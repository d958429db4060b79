/* cli_sqlloop.c: what `srlm sql` and `srlm eval -m` share: the decode-loop options, and
 * loading context, model, tokenizer, engine and loop from them. A thin layer over srlm.h. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_sqlloop_args_init(cli_sqlloop_args *a) {
    memset(a, 0, sizeof *a);
    a->mode = SRLM_SQL_FORMAT_REEX;
    a->tree = 1;
    a->votes = 1;
    a->max_tokens = 512;
    a->temperature = -1;
    a->top_p = 1;
    a->timeout_s = 10;
    a->dtype = SRLM_DTYPE_F16;
    a->workers = 2;
}

bool cli_sqlloop_opt(int argc, char **argv, int *i, cli_sqlloop_args *a) {
    const char *v;
    if (cli_opt(argc, argv, i, "--mode", &v)) {
        if (!strcmp(v, "reex")) a->mode = SRLM_SQL_FORMAT_REEX;
        else if (!strcmp(v, "sqlr1")) a->mode = SRLM_SQL_FORMAT_SQLR1;
        else exit(cli_usage_error(argv[0], "--mode must be reex or sqlr1, got '%s'", v));
    } else if (cli_opt(argc, argv, i, "--tree", &v)) a->tree = (int)cli_parse_int("--tree", v, 1, 64);
    else if (cli_opt(argc, argv, i, "--votes", &v)) a->votes = (int)cli_parse_int("--votes", v, 1, 64);
    else if (cli_opt(argc, argv, i, "--max-leaves", &v)) a->max_leaves = (int)cli_parse_int("--max-leaves", v, 1, 256);
    else if (cli_opt(argc, argv, i, "--max-depth", &v)) a->max_depth = (int)cli_parse_int("--max-depth", v, 1, 64);
    else if (cli_opt(argc, argv, i, "-n", &v)) a->max_tokens = (int)cli_parse_int("-n", v, 1, 1 << 20);
    else if (cli_opt(argc, argv, i, "--temp", &v)) a->temperature = cli_parse_double("--temp", v);
    else if (cli_opt(argc, argv, i, "--top-p", &v)) a->top_p = cli_parse_double("--top-p", v);
    else if (cli_opt(argc, argv, i, "--top-k", &v)) a->top_k = (int)cli_parse_int("--top-k", v, 0, 1 << 30);
    else if (cli_opt(argc, argv, i, "--sql-timeout", &v)) a->timeout_s = cli_parse_double("--sql-timeout", v);
    else if (cli_opt(argc, argv, i, "--ctx", &v)) a->ctx = (int)cli_parse_int("--ctx", v, 16, 1 << 22);
    else if (cli_opt(argc, argv, i, "--dtype", &v)) a->dtype = cli_parse_dtype("--dtype", v);
    else if (cli_opt(argc, argv, i, "--sample-values", &v)) a->sample_values = (int)cli_parse_int("--sample-values", v, 0, 100);
    else if (cli_opt(argc, argv, i, "--max-interactions", &v)) a->max_interactions = (int)cli_parse_int("--max-interactions", v, 0, 100);
    else if (cli_opt(argc, argv, i, "--sql-workers", &v)) a->workers = (int)cli_parse_int("--sql-workers", v, 1, 64);
    else return false;
    return true;
}

const char *cli_sqlloop_help =
    "decoding: --mode reex|sqlr1 (default reex)  --tree W (fork W children after each result)\n"
    "  --votes N (independent samples from the prompt, prefilled once)  --max-leaves N (tree, default\n"
    "  max(8, votes))  --max-depth N (forks along a path, default 3)  -n N (model tokens per leaf,\n"
    "  default 512)  --temp T (default 0 for one sample, 0.8 with --votes/--tree)  --top-p P  --top-k K\n"
    "  --seed S  --sql-timeout SECONDS (per query, default 10)  --ctx N (default: prompt + n + 1024)\n"
    "  --max-interactions N (default 10)  --sample-values K  --dtype f32|f16  --sql-workers N\n";

srlm_status cli_sqlloop_open(const cli_common *c, const cli_sqlloop_args *a, cli_sqlloop *s) {
    memset(s, 0, sizeof *s);
    if (access(c->model, R_OK) != 0) return srlm_errorf(SRLM_ERR_NOT_FOUND, "model %s: %s", c->model, strerror(errno));
    srlm_sqlloop_options *o = &s->o;
    srlm_sqlloop_options_default(o);
    o->format = a->mode;
    o->n_samples = a->votes;
    o->tree_width = a->tree;
    o->max_leaves = a->max_leaves ? a->max_leaves : (a->votes > 8 ? a->votes : 8);
    if (a->tree <= 1 && !a->max_leaves) o->max_leaves = a->votes;
    if (a->max_depth) o->max_depth = a->max_depth;
    if (a->max_interactions) o->max_interactions = a->max_interactions;
    o->deadline_ms = (int64_t)(a->timeout_s * 1000.0);
    o->sample.max_tokens = a->max_tokens;
    o->sample.temperature = (float)(a->temperature >= 0 ? a->temperature : (a->votes > 1 || a->tree > 1 ? 0.8 : 0.0));
    o->sample.top_p = (float)a->top_p;
    o->sample.top_k = a->top_k;
    o->sample.seed = c->seed;
    srlm_sql_prompt_opts_default(&s->po);
    s->po.format = a->mode;
    s->po.sample_values = a->sample_values;
    s->po.max_interactions = o->max_interactions;
    return srlm_tokenizer_create(c->model, &s->tok);
}

srlm_status cli_sqlloop_start(const cli_common *c, const cli_sqlloop_args *a, int max_ctx, cli_sqlloop *s) {
    srlm_sqlloop_options *o = &s->o;
    SRLM_TRY(cli_ctx_create(c, &s->ctx));
    SRLM_TRY(srlm_model_load(s->ctx, c->model, a->dtype, &s->m));
    srlm_engine_options eo;
    srlm_engine_options_default(&eo);
    eo.max_seqs = o->max_leaves > o->n_samples ? o->max_leaves : o->n_samples;
    eo.max_ctx = a->ctx ? a->ctx : max_ctx;
    SRLM_TRY(srlm_engine_create(s->m, &eo, &s->e));
    return srlm_sqlloop_create(s->e, s->tok, a->workers, &s->loop);
}

void cli_sqlloop_close(cli_sqlloop *s) {
    srlm_sqlloop_destroy(s->loop);
    srlm_engine_destroy(s->e);
    srlm_model_destroy(s->m);
    srlm_ctx_destroy(s->ctx);
    srlm_tokenizer_destroy(s->tok);
    memset(s, 0, sizeof *s);
}
