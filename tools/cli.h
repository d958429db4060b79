/* cli.h: what every srlm subcommand shares: the command table entry type, option parsing
 * helpers and error reporting. Not part of libsrlm: the CLI uses the public srlm.h only. */
#ifndef SRLM_CLI_H
#define SRLM_CLI_H

#include "srlm.h"

#include <stdbool.h>
#include <stdio.h>

typedef int (*cli_main_fn)(int argc, char **argv);

typedef struct cli_command {
    const char *name;
    const char *summary;
    cli_main_fn run;
} cli_command;

/* Options every command understands (-m/--model, --device, --seed, --mem-budget). */
typedef struct cli_common {
    const char *model;
    int device;          /* -1: automatic choice */
    uint64_t seed;
    uint64_t mem_budget; /* 0: from the device heap or SRLM_MEM_BUDGET */
} cli_common;

/* Option matching: returns true and sets *val when argv[*i] is `name` followed by a value
 * (advancing *i), or `name=value`. Exits with a message when the value is missing. */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
bool cli_opt_alias(int argc, char **argv, int *i, const char *shortname, const char *name, const char **val);
bool cli_flag(char **argv, int i, const char *name);
/* Consumes a common option at argv[*i]; returns true if it was one. */
bool cli_common_opt(int argc, char **argv, int *i, cli_common *c);
void cli_common_init(cli_common *c);
long long cli_parse_int(const char *opt, const char *s, long long lo, long long hi);
double cli_parse_double(const char *opt, const char *s);
/* Parses sizes like 1500M, 2G, 1073741824. */
uint64_t cli_parse_size(const char *opt, const char *s);
/* Creates the Vulkan context the common options ask for (--device, --mem-budget). */
srlm_status cli_ctx_create(const cli_common *c, srlm_ctx **out);
/* Parses "1,2,3" (commas and/or spaces) into a malloc'd array; exits with a message on bad
 * input. */
int32_t *cli_parse_ids(const char *opt, const char *list, size_t *n);
/* Reads a whole file (malloc'd, NUL-terminated); NULL with errno on failure. */
char *cli_read_file(const char *path, size_t *len);
/* Parses f32 | f16 | bf16 for --dtype. */
srlm_dtype cli_parse_dtype(const char *opt, const char *s);
/* Parses f32 | f16 | auto for --kv-dtype (auto: f32 with f32 weights, else f16). */
srlm_kv_dtype cli_parse_kv_dtype(const char *opt, const char *s);
/* Prints "srlm <cmd>: <message>" to stderr, frees st, returns 1 (the exit code). */
int cli_fail(const char *cmd, srlm_status st);
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- `srlm sql` / `srlm eval -m`: the text-to-SQL decode loop (cli_sqlloop.c) ---- */
typedef struct cli_sqlloop_args {
    srlm_sql_format mode;
    int tree, votes, max_leaves, max_depth, max_tokens, top_k, ctx, sample_values, max_interactions, workers;
    double temperature, top_p, timeout_s; /* temperature < 0: 0 for one sample, 0.8 for several */
    srlm_dtype dtype;
} cli_sqlloop_args;
typedef struct cli_sqlloop {
    srlm_ctx *ctx;
    srlm_model *m;
    srlm_tokenizer *tok;
    srlm_engine *e;
    srlm_sqlloop *loop;
    srlm_sqlloop_options o;
    srlm_sql_prompt_opts po;
} cli_sqlloop;
extern const char *cli_sqlloop_help;
void cli_sqlloop_args_init(cli_sqlloop_args *a);
/* Consumes one decode-loop option at argv[*i]; returns true if it was one. */
bool cli_sqlloop_opt(int argc, char **argv, int *i, cli_sqlloop_args *a);
/* Sets the loop and prompt options and loads the tokenizer (so prompts can be measured);
 * cli_sqlloop_start then creates context, model, engine (context a->ctx or max_ctx) and loop.
 * On error the caller still calls cli_sqlloop_close. */
srlm_status cli_sqlloop_open(const cli_common *c, const cli_sqlloop_args *a, cli_sqlloop *s);
srlm_status cli_sqlloop_start(const cli_common *c, const cli_sqlloop_args *a, int max_ctx, cli_sqlloop *s);
void cli_sqlloop_close(cli_sqlloop *s);

#endif
