/* test_safetensors.c: safetensors writer -> reader round trips (all dtypes, metadata,
 * header padding, atomic writing) and every kind of corrupt file, built here from a valid
 * one: each must fail with a message naming the file and the tensor. */
#include "test.h"

#include "bytebuf.h"
#include "model/dtype.h"
#include "model/safetensors.h"
#include "tmpdir.h"

static char dir[256];

static srlm_status fill_ramp(void *ctx, const srlm_st_write_tensor *t, void *dst, uint64_t nbytes) {
    (void)t;
    float base = *(const float *)ctx;
    for (uint64_t i = 0; i < nbytes / 2; i++) {
        uint16_t h = srlm_f32_to_f16(base + (float)i);
        memcpy((uint8_t *)dst + 2 * i, &h, 2);
    }
    return NULL;
}

static srlm_status fill_fail(void *ctx, const srlm_st_write_tensor *t, void *dst, uint64_t nbytes) {
    (void)ctx; (void)dst; (void)nbytes;
    return srlm_errorf(SRLM_ERR_IO, "generator for '%s' failed", t->name);
}

static void round_trip(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);
    float a[6] = {1, 2, 3, 4, 5, 6};
    uint16_t b[3] = {srlm_f32_to_bf16(1.5f), srlm_f32_to_bf16(-2.0f), srlm_f32_to_bf16(0.0f)};
    float base = 10.0f;
    float scalar = 7.0f;
    srlm_st_write_tensor ts[] = {
        {.name = "a.weight", .dtype = SRLM_DTYPE_F32, .n_dims = 2, .shape = {2, 3}, .data = a},
        {.name = "b", .dtype = SRLM_DTYPE_BF16, .n_dims = 1, .shape = {3}, .data = b},
        {.name = "c", .dtype = SRLM_DTYPE_F16, .n_dims = 2, .shape = {5, 1}, .fill = fill_ramp, .ctx = &base},
        {.name = "empty", .dtype = SRLM_DTYPE_F32, .n_dims = 2, .shape = {0, 4}},
        {.name = "scalar", .dtype = SRLM_DTYPE_F32, .n_dims = 0, .data = &scalar},
    };
    const char *meta[] = {"producer", "srlm test", NULL};
    CHECK_OK(srlm_safetensors_write(path, ts, 5, meta));
    CHECK(tmpdir_count(dir) == 1, "only the final file is in the folder (%d entries)", tmpdir_count(dir));
    size_t n = 0;
    uint8_t *raw = bb_read_file(path, &n);
    uint64_t hlen = 0;
    if (raw) memcpy(&hlen, raw, 8);
    CHECK(raw && hlen % 8 == 0 && 8 + hlen + 24 + 6 + 10 + 4 == n, "header padded to 8 (hlen %llu, file %zu)", (unsigned long long)hlen, n);
    CHECK(raw && memmem(raw, n, "\"__metadata__\":{\"format\":\"pt\"", 29), "__metadata__ format pt present");
    free(raw);
    srlm_safetensors *f = NULL;
    CHECK_OK(srlm_safetensors_open(path, &f));
    if (!f) return;
    CHECK(srlm_safetensors_count(f) == 5, "5 tensors");
    CHECK(!strcmp(srlm_safetensors_metadata(f, "format"), "pt"), "format pt");
    CHECK(!strcmp(srlm_safetensors_metadata(f, "producer"), "srlm test"), "producer");
    CHECK(srlm_safetensors_metadata(f, "nope") == NULL, "absent metadata");
    const srlm_st_tensor *t = srlm_safetensors_find(f, "a.weight");
    CHECK(t && t->dtype == SRLM_DTYPE_F32 && t->n_dims == 2 && t->shape[0] == 2 && t->shape[1] == 3 &&
          !memcmp(t->data, a, sizeof a), "a.weight");
    t = srlm_safetensors_find(f, "b");
    CHECK(t && t->dtype == SRLM_DTYPE_BF16 && !memcmp(t->data, b, sizeof b), "b");
    t = srlm_safetensors_find(f, "c");
    float back[5];
    if (t) srlm_convert_to_f32(back, t->data, t->dtype, 5);
    CHECK(t && t->dtype == SRLM_DTYPE_F16 && back[0] == 10.0f && back[4] == 14.0f, "c filled by callback");
    t = srlm_safetensors_find(f, "empty");
    CHECK(t && t->n_elements == 0 && t->nbytes == 0, "empty tensor");
    t = srlm_safetensors_find(f, "scalar");
    CHECK(t && t->n_dims == 0 && t->n_elements == 1 && *(const float *)t->data == 7.0f, "scalar");
    srlm_safetensors_destroy(f);

    /* A failing fill leaves neither the final file nor a temporary. */
    char path2[512];
    snprintf(path2, sizeof path2, "%s/fail.safetensors", dir);
    srlm_st_write_tensor bad[] = {
        {.name = "a", .dtype = SRLM_DTYPE_F32, .n_dims = 1, .shape = {6}, .data = a},
        {.name = "x", .dtype = SRLM_DTYPE_F16, .n_dims = 1, .shape = {4}, .fill = fill_fail},
    };
    CHECK_ERR(srlm_safetensors_write(path2, bad, 2, NULL), SRLM_ERR_IO, "generator for 'x' failed");
    CHECK(tmpdir_count(dir) == 1, "no partial file left after a failed write (%d entries)", tmpdir_count(dir));
    srlm_st_write_tensor dup[] = {
        {.name = "a", .dtype = SRLM_DTYPE_F32, .n_dims = 1, .shape = {6}, .data = a},
        {.name = "a", .dtype = SRLM_DTYPE_F32, .n_dims = 1, .shape = {6}, .data = a},
    };
    CHECK_ERR(srlm_safetensors_write(path2, dup, 2, NULL), SRLM_ERR_INVALID, "'a' given twice");
    dup[1].name = "q";
    dup[1].dtype = SRLM_DTYPE_Q8_0;
    CHECK_ERR(srlm_safetensors_write(path2, dup, 2, NULL), SRLM_ERR_INVALID, "Q8_0");
    snprintf(path2, sizeof path2, "%s/no/such/dir/x.safetensors", dir);
    CHECK_ERR(srlm_safetensors_write(path2, ts, 1, NULL), SRLM_ERR_IO, "no/such/dir");
}

/* A valid file built by hand so corruptions can target exact bytes. */
static void make_file(bytebuf *b, const char *header, size_t data_bytes) {
    size_t hl = strlen(header);
    bb_u64(b, hl);
    bb_put(b, header, hl);
    for (size_t i = 0; i < data_bytes; i++) bb_u8(b, (uint8_t)i);
}

static srlm_status open_bytes(const void *p, size_t n) {
    srlm_safetensors *f = NULL;
    srlm_status st = srlm_safetensors_open_memory(p, n, "bad.safetensors", &f);
    srlm_safetensors_destroy(f);
    return st;
}

static srlm_status open_header(const char *header, size_t data_bytes) {
    bytebuf b = {0};
    make_file(&b, header, data_bytes);
    srlm_status st = open_bytes(b.p, b.n);
    bb_free(&b);
    return st;
}

static void bad_inputs(void) {
    const char *good = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                       "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]}}  ";
    CHECK_OK(open_header(good, 20));
    bytebuf b = {0};
    make_file(&b, good, 20);
    int accepted = 0;
    for (size_t n = 0; n < b.n; n++) { /* every truncation */
        srlm_status st = open_bytes(b.p, n);
        if (!st) accepted++;
        else CHECK(strstr(srlm_status_msg(st), "bad.safetensors") != NULL, "message names the file: %s", srlm_status_msg(st));
        srlm_status_free(st);
    }
    CHECK(accepted == 0, "%d truncations accepted", accepted);
    CHECK_ERR(open_bytes(b.p, 5), SRLM_ERR_FORMAT, "no header length");
    bytebuf c = {0};
    bb_put(&c, b.p, b.n);
    uint64_t big = 1ull << 40;
    memcpy(c.p, &big, 8);
    CHECK_ERR(open_bytes(c.p, c.n), SRLM_ERR_FORMAT, "runs past the end of the file");
    bb_free(&c);
    bb_free(&b);
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]", 16), SRLM_ERR_FORMAT, "not valid JSON");
    CHECK_ERR(open_header("[1,2]", 0), SRLM_ERR_FORMAT, "does not start with '{'");
    CHECK_ERR(open_header("{} x", 0), SRLM_ERR_FORMAT, "unexpected bytes after the header");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                          "\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16),
              SRLM_ERR_FORMAT, "overlap");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8), SRLM_ERR_FORMAT,
              "tensor 'w': data_offsets [0, 16] outside the data region of 8 bytes");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", 16), SRLM_ERR_FORMAT,
              "tensor 'w': 16 bytes for 6 F32 elements (expected 24)");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16), SRLM_ERR_FORMAT,
              "tensor 'w': 16 bytes for 4 F16 elements");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16), SRLM_ERR_UNSUPPORTED,
              "tensor 'w' has dtype I64");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8), SRLM_ERR_FORMAT,
              "shape[0] is not a non-negative integer");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8), SRLM_ERR_FORMAT, "shape[0]");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8), SRLM_ERR_FORMAT, "outside");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8), SRLM_ERR_FORMAT, "data_offsets");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), SRLM_ERR_FORMAT, "4 unused bytes before tensor 'w'");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8), SRLM_ERR_FORMAT, "data region has 8 bytes");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                          "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), SRLM_ERR_FORMAT, "'w' appears twice");
    CHECK_ERR(open_header("{\"__metadata__\":{\"format\":1}}", 0), SRLM_ERR_FORMAT, "__metadata__ value of \"format\"");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4), SRLM_ERR_FORMAT, "unexpected field");
    CHECK_ERR(open_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4), SRLM_ERR_FORMAT, "overflows");
    CHECK_ERR(open_header("{\"w\":[1]}", 0), SRLM_ERR_FORMAT, "not an object");
    srlm_safetensors *f = NULL;
    CHECK_ERR(srlm_safetensors_open("/nonexistent.safetensors", &f), SRLM_ERR_IO, "/nonexistent.safetensors");
    CHECK_OK(open_header("{}", 0));
}

int main(void) {
    if (!tmpdir_make(dir, sizeof dir, "st")) { fprintf(stderr, "mkdtemp failed\n"); return 1; }
    round_trip();
    bad_inputs();
    tmpdir_remove(dir);
    return test_finish("test_safetensors");
}
