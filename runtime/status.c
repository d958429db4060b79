/* status.c: error values (srlm_status). Not a logger: errors are returned, never printed
 * or acted on here. */
#include "srlm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srlm_error {
    srlm_code code;
    int is_static;
    char msg[];
};

/* Returned when the error itself cannot be allocated; never freed. */
static const struct {
    srlm_code code;
    int is_static;
    char msg[40];
} srlm_oom_error = {SRLM_ERR_OOM, 1, "out of host memory"};

static srlm_status oom_status(void) { return (srlm_status)(void *)&srlm_oom_error; }

srlm_status srlm_errorv(srlm_code code, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    struct srlm_error *e = malloc(sizeof *e + (size_t)n + 1);
    if (!e) return oom_status();
    e->code = code == SRLM_OK ? SRLM_ERR_INVALID : code;
    e->is_static = 0;
    vsnprintf(e->msg, (size_t)n + 1, fmt, ap);
    return e;
}

srlm_status srlm_errorf(srlm_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    srlm_status st = srlm_errorv(code, fmt, ap);
    va_end(ap);
    return st;
}

srlm_status srlm_status_wrap(srlm_status st, const char *fmt, ...) {
    if (!st || st->is_static) return st;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    srlm_status wrapped = srlm_errorf(st->code, "%s%s", prefix, st->msg);
    if (wrapped->is_static) return st; /* keep the original rather than lose it */
    srlm_status_free(st);
    return wrapped;
}

srlm_code srlm_status_code(srlm_status st) { return st ? st->code : SRLM_OK; }
const char *srlm_status_msg(srlm_status st) { return st ? st->msg : "ok"; }

const char *srlm_code_name(srlm_code code) {
    switch (code) {
    case SRLM_OK: return "ok";
    case SRLM_ERR_INVALID: return "invalid argument";
    case SRLM_ERR_IO: return "I/O error";
    case SRLM_ERR_FORMAT: return "format error";
    case SRLM_ERR_OOM: return "out of host memory";
    case SRLM_ERR_DEVICE_OOM: return "out of device memory";
    case SRLM_ERR_DEVICE_LOST: return "device lost";
    case SRLM_ERR_VULKAN: return "Vulkan error";
    case SRLM_ERR_UNSUPPORTED: return "unsupported";
    case SRLM_ERR_SQL: return "SQL error";
    case SRLM_ERR_TIMEOUT: return "timeout";
    case SRLM_ERR_NOT_FOUND: return "not found";
    }
    return "unknown error";
}

void srlm_status_free(srlm_status st) {
    if (st && !st->is_static) free(st);
}
