/* cli.c: option parsing and error reporting shared by the srlm subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return false;
    if (a[n] == '=') { *val = a + n + 1; return true; }
    if (a[n] != '\0') return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "srlm: option %s needs a value\n", name);
        exit(2);
    }
    *val = argv[++*i];
    return true;
}

bool cli_opt_alias(int argc, char **argv, int *i, const char *shortname, const char *name, const char **val) {
    return cli_opt(argc, argv, i, shortname, val) || cli_opt(argc, argv, i, name, val);
}

bool cli_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

void cli_common_init(cli_common *c) {
    memset(c, 0, sizeof *c);
    c->device = -1;
    c->seed = 1234;
}

bool cli_common_opt(int argc, char **argv, int *i, cli_common *c) {
    const char *v;
    if (cli_opt_alias(argc, argv, i, "-m", "--model", &v)) { c->model = v; return true; }
    if (cli_opt(argc, argv, i, "--device", &v)) { c->device = (int)cli_parse_int("--device", v, 0, 1 << 20); return true; }
    if (cli_opt(argc, argv, i, "--seed", &v)) { c->seed = (uint64_t)cli_parse_int("--seed", v, 0, INT64_MAX); return true; }
    if (cli_opt(argc, argv, i, "--mem-budget", &v)) { c->mem_budget = cli_parse_size("--mem-budget", v); return true; }
    return false;
}

long long cli_parse_int(const char *opt, const char *s, long long lo, long long hi) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "srlm: %s expects an integer in [%lld, %lld], got '%s'\n", opt, lo, hi, s);
        exit(2);
    }
    return v;
}

double cli_parse_double(const char *opt, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) {
        fprintf(stderr, "srlm: %s expects a number, got '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

uint64_t cli_parse_size(const char *opt, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double mult = 1;
    if (*end == 'K' || *end == 'k') mult = 1024.0, end++;
    else if (*end == 'M' || *end == 'm') mult = 1024.0 * 1024, end++;
    else if (*end == 'G' || *end == 'g') mult = 1024.0 * 1024 * 1024, end++;
    if (*end == 'i' || *end == 'B') end++;
    if (*end == 'B') end++;
    if (errno || end == s || *end || v < 0) {
        fprintf(stderr, "srlm: %s expects a size such as 1500M or 2G, got '%s'\n", opt, s);
        exit(2);
    }
    return (uint64_t)(v * mult);
}

int cli_fail(const char *cmd, srlm_status st) {
    fprintf(stderr, "srlm %s: %s\n", cmd, srlm_status_msg(st));
    srlm_status_free(st);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "srlm %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int32_t *cli_parse_ids(const char *opt, const char *list, size_t *n) {
    size_t cap = 16;
    *n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    const char *p = list;
    while (ids && *p) {
        while (*p == ',' || *p == ' ' || *p == '\n' || *p == '\t') p++;
        if (!*p) break;
        char *e;
        errno = 0;
        long v = strtol(p, &e, 10);
        if (e == p || errno || v < INT32_MIN || v > INT32_MAX) {
            fprintf(stderr, "srlm: %s expects token ids such as 1,2,3; got '%s'\n", opt, list);
            exit(2);
        }
        if (*n == cap) {
            int32_t *nd = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!nd) free(ids);
            ids = nd;
        }
        if (ids) ids[(*n)++] = (int32_t)v;
        p = e;
    }
    if (!ids) {
        fprintf(stderr, "srlm: out of host memory\n");
        exit(1);
    }
    return ids;
}

char *cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, r;
    char *d = malloc(cap + 1);
    while (d && (r = fread(d + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nd = realloc(d, (cap *= 2) + 1);
            if (!nd) free(d);
            d = nd;
        }
    }
    fclose(f);
    if (!d) return NULL;
    d[n] = 0;
    if (len) *len = n;
    return d;
}

srlm_dtype cli_parse_dtype(const char *opt, const char *s) {
    if (!strcmp(s, "f32")) return SRLM_DTYPE_F32;
    if (!strcmp(s, "f16")) return SRLM_DTYPE_F16;
    if (!strcmp(s, "bf16")) return SRLM_DTYPE_BF16;
    fprintf(stderr, "srlm: %s expects f32, f16 or bf16, got '%s'\n", opt, s);
    exit(2);
}

srlm_kv_dtype cli_parse_kv_dtype(const char *opt, const char *s) {
    if (!strcmp(s, "f32")) return SRLM_KV_F32;
    if (!strcmp(s, "f16")) return SRLM_KV_F16;
    if (!strcmp(s, "auto")) return SRLM_KV_AUTO;
    fprintf(stderr, "srlm: %s expects f32, f16 or auto, got '%s'\n", opt, s);
    exit(2);
}

srlm_status cli_ctx_create(const cli_common *c, srlm_ctx **out) {
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    o.device = c->device;
    o.mem_budget = c->mem_budget;
    return srlm_ctx_create(&o, out);
}
