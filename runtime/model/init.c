/* init.c: `srlm init`: a randomly initialised model written as a Hugging Face folder
 * (config.json, model.safetensors, tokenizer files), atomically (temp folder, rename).
 * Not a trainer: the initial values only have to be deterministic and sensible. */
#include "model/init.h"

#include "model/atomic.h"
#include "model/dtype.h"
#include "model/safetensors.h"
#include "rng.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INIT_STD 0.02f

/* dir + "/" + name into buf; an error when it does not fit. */
static srlm_status join(char *buf, size_t cap, const char *dir, const char *name) {
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) return srlm_errorf(SRLM_ERR_INVALID, "%s: path too long", dir);
    return NULL;
}

typedef struct init_tensor {
    uint64_t seed;
    uint64_t stream; /* the tensor's index in srlm_model_tensor_spec order */
    srlm_tensor_kind kind;
} init_tensor;

static srlm_status fill_tensor(void *ctx, const srlm_st_write_tensor *t, void *dst, uint64_t nbytes) {
    const init_tensor *it = ctx;
    size_t es = srlm_dtype_size(t->dtype);
    uint64_t n = nbytes / es;
    float chunk[4096];
    for (uint64_t at = 0; at < n; at += 4096) {
        size_t m = (size_t)(n - at < 4096 ? n - at : 4096);
        for (size_t k = 0; k < m; k++)
            chunk[k] = it->kind == SRLM_TENSOR_NORM ? 1.0f : INIT_STD * srlm_rng_normal(it->seed, it->stream, at + k);
        srlm_convert_from_f32((uint8_t *)dst + at * es, chunk, t->dtype, m);
    }
    return NULL;
}

static srlm_status write_weights(const char *dir, const srlm_model_config *c, uint64_t seed, srlm_dtype dtype) {
    size_t n = srlm_model_tensor_count(c);
    srlm_tensor_spec *specs = calloc(n, sizeof *specs);
    init_tensor *its = calloc(n, sizeof *its);
    srlm_st_write_tensor *ts = calloc(n, sizeof *ts);
    srlm_status st = NULL;
    if (!specs || !its || !ts) st = srlm_errorf(SRLM_ERR_OOM, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        srlm_model_tensor_spec(c, i, &specs[i]);
        its[i] = (init_tensor){seed, i, specs[i].kind};
        ts[i].name = specs[i].name;
        ts[i].dtype = dtype;
        ts[i].n_dims = specs[i].n_dims;
        ts[i].shape[0] = specs[i].shape[0];
        ts[i].shape[1] = specs[i].shape[1];
        ts[i].fill = fill_tensor;
        ts[i].ctx = &its[i];
    }
    char path[4096];
    if (!st) st = join(path, sizeof path, dir, "model.safetensors");
    if (!st) st = srlm_safetensors_write(path, ts, n, NULL);
    free(specs);
    free(its);
    free(ts);
    return st;
}

/* Reads the preset's srlm-only key "srlm_tokenizer" ("byte-level", "external" or absent). */
static srlm_status preset_tokenizer(const char *path, const char *text, size_t n, char *out, size_t cap) {
    out[0] = 0;
    cJSON *r = cJSON_ParseWithLength(text, n);
    if (!r) return srlm_errorf(SRLM_ERR_FORMAT, "%s: invalid JSON", path);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "srlm_tokenizer");
    srlm_status st = NULL;
    if (v && !cJSON_IsString(v)) st = srlm_errorf(SRLM_ERR_FORMAT, "%s: \"srlm_tokenizer\" must be a string", path);
    else if (v && strcmp(v->valuestring, "byte-level") && strcmp(v->valuestring, "external"))
        st = srlm_errorf(SRLM_ERR_FORMAT, "%s: \"srlm_tokenizer\" must be \"byte-level\" or \"external\"", path);
    else if (v) snprintf(out, cap, "%s", v->valuestring);
    cJSON_Delete(r);
    return st;
}

static srlm_status read_text(const char *path, char **out, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (sz < 0 || sz > (1l << 20)) { fclose(f); return srlm_errorf(SRLM_ERR_FORMAT, "%s: not a config (size %ld)", path, sz); }
    char *buf = malloc((size_t)sz + 1);
    size_t got = buf ? fread(buf, 1, (size_t)sz, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)sz) { free(buf); return srlm_errorf(SRLM_ERR_IO, "%s: read failed", path); }
    buf[sz] = 0;
    *out = buf;
    *n = (size_t)sz;
    return NULL;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static srlm_status fill_folder(const srlm_init_options *o, const srlm_model_config *c, const char *tok_kind, const char *tmp) {
    char path[4096];
    SRLM_TRY(join(path, sizeof path, tmp, "config.json"));
    SRLM_TRY(srlm_model_config_write(c, path));
    if (o->tokenizer_dir) SRLM_TRY(srlm_copy_tokenizer(o->tokenizer_dir, tmp, c->vocab_size));
    else if (!strcmp(tok_kind, "byte-level")) SRLM_TRY(srlm_write_byte_tokenizer(tmp, c));
    SRLM_TRY(write_weights(tmp, c, o->seed, o->dtype));
    return srlm_fsync_dir(tmp);
}

srlm_status srlm_model_init(const srlm_init_options *o) {
    if (!o || !o->config_path || !o->out_dir) return srlm_errorf(SRLM_ERR_INVALID, "srlm_model_init: config_path and out_dir are required");
    if (o->dtype != SRLM_DTYPE_F32 && o->dtype != SRLM_DTYPE_F16 && o->dtype != SRLM_DTYPE_BF16)
        return srlm_errorf(SRLM_ERR_INVALID, "init: dtype %s is not f32, f16 or bf16", srlm_dtype_name(o->dtype));
    char *text = NULL;
    size_t n = 0;
    SRLM_TRY(read_text(o->config_path, &text, &n));
    srlm_model_config c;
    char tok_kind[32];
    srlm_status st = srlm_model_config_parse(text, n, o->config_path, &c);
    if (!st) st = preset_tokenizer(o->config_path, text, n, tok_kind, sizeof tok_kind);
    free(text);
    SRLM_TRY(st);
    if (!o->tokenizer_dir && strcmp(tok_kind, "byte-level"))
        return srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: this preset needs a tokenizer: pass --tokenizer DIR (a folder with tokenizer.json)",
                           o->config_path);
    c.torch_dtype = o->dtype;
    struct stat sb;
    if (stat(o->out_dir, &sb) == 0) return srlm_errorf(SRLM_ERR_INVALID, "%s already exists; srlm init does not overwrite", o->out_dir);
    char tmp[4096];
    int tn = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o->out_dir, (long)getpid());
    if (tn < 0 || (size_t)tn >= sizeof tmp - 64) return srlm_errorf(SRLM_ERR_INVALID, "%s: path too long", o->out_dir);
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS); /* a leftover of a crashed run with our pid */
    if (mkdir(tmp, 0755) != 0) return srlm_errorf(SRLM_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
    st = fill_folder(o, &c, tok_kind, tmp);
    if (!st && rename(tmp, o->out_dir) != 0)
        st = srlm_errorf(SRLM_ERR_IO, "%s: rename from %s failed: %s", o->out_dir, tmp, strerror(errno));
    if (st) {
        nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return st;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", o->out_dir);
    char *slash = strrchr(parent, '/');
    if (slash == parent) parent[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(parent, sizeof parent, ".");
    return srlm_fsync_dir(parent);
}
