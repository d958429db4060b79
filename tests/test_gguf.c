/* test_gguf.c: the GGUF reader on a real file (stories260K) and on files built here: every
 * metadata type, nested arrays, v2 and v3, alignment, Q8_0; then corrupt variants that must
 * fail with a message naming the file and what is wrong. */
#include "test.h"

#include "bytebuf.h"
#include "model/dtype.h"
#include "model/gguf.h"

/* A small GGUF with every metadata type and three tensors (F32, F16, Q8_0). */
static void build_gguf(bytebuf *b, uint32_t version, uint32_t alignment) {
    bb_u32(b, 0x46554747u);
    bb_u32(b, version);
    bb_u64(b, 3);  /* tensors */
    bb_u64(b, alignment ? 17 : 16); /* kvs */
    bb_gstr(b, "general.architecture"); bb_u32(b, 8); bb_gstr(b, "llama");
    bb_gstr(b, "k.u8"); bb_u32(b, 0); bb_u8(b, 200);
    bb_gstr(b, "k.i8"); bb_u32(b, 1); bb_u8(b, (uint8_t)(int8_t)-5);
    bb_gstr(b, "k.u16"); bb_u32(b, 2); { uint16_t v = 60000; bb_put(b, &v, 2); }
    bb_gstr(b, "k.i16"); bb_u32(b, 3); { int16_t v = -300; bb_put(b, &v, 2); }
    bb_gstr(b, "k.u32"); bb_u32(b, 4); bb_u32(b, 4000000000u);
    bb_gstr(b, "k.i32"); bb_u32(b, 5); bb_u32(b, (uint32_t)-7);
    bb_gstr(b, "k.f32"); bb_u32(b, 6); bb_f32(b, 1.5f);
    bb_gstr(b, "k.bool"); bb_u32(b, 7); bb_u8(b, 1);
    bb_gstr(b, "k.u64"); bb_u32(b, 10); bb_u64(b, 1ull << 40);
    bb_gstr(b, "k.i64"); bb_u32(b, 11); bb_u64(b, (uint64_t)-9);
    bb_gstr(b, "k.f64"); bb_u32(b, 12); { double v = 0.25; bb_put(b, &v, 8); }
    bb_gstr(b, "tokens"); bb_u32(b, 9); bb_u32(b, 8); bb_u64(b, 3);
    bb_gstr(b, "<s>"); bb_gstr(b, ""); bb_gstr(b, "hello");
    bb_gstr(b, "scores"); bb_u32(b, 9); bb_u32(b, 6); bb_u64(b, 3);
    bb_f32(b, 0.0f); bb_f32(b, -1.0f); bb_f32(b, -2.5f);
    bb_gstr(b, "types"); bb_u32(b, 9); bb_u32(b, 5); bb_u64(b, 3);
    bb_u32(b, 3); bb_u32(b, 1); bb_u32(b, 6);
    /* nested: [[1,2],["a","bc"],[]] */
    bb_gstr(b, "nested"); bb_u32(b, 9); bb_u32(b, 9); bb_u64(b, 3);
    bb_u32(b, 4); bb_u64(b, 2); bb_u32(b, 1); bb_u32(b, 2);
    bb_u32(b, 8); bb_u64(b, 2); bb_gstr(b, "a"); bb_gstr(b, "bc");
    bb_u32(b, 0); bb_u64(b, 0);
    if (alignment) { bb_gstr(b, "general.alignment"); bb_u32(b, 4); bb_u32(b, alignment); }
    uint32_t al = alignment ? alignment : 32;
    /* tensor infos: a F32 [4,2], b F16 [3], q Q8_0 [32,2] */
    size_t off_b = (32 + al - 1) / al * al, off_q = off_b + (6 + al - 1) / al * al;
    bb_gstr(b, "a"); bb_u32(b, 2); bb_u64(b, 4); bb_u64(b, 2); bb_u32(b, 0); bb_u64(b, 0);
    bb_gstr(b, "b"); bb_u32(b, 1); bb_u64(b, 3); bb_u32(b, 1); bb_u64(b, off_b);
    bb_gstr(b, "q"); bb_u32(b, 2); bb_u64(b, 32); bb_u64(b, 2); bb_u32(b, 8); bb_u64(b, off_q);
    bb_pad(b, al);
    size_t base = b->n;
    for (int i = 0; i < 8; i++) bb_f32(b, (float)i);
    while (b->n < base + off_b) bb_u8(b, 0);
    for (int i = 0; i < 3; i++) { uint16_t h = srlm_f32_to_f16((float)-i); bb_put(b, &h, 2); }
    while (b->n < base + off_q) bb_u8(b, 0);
    for (int blk = 0; blk < 2; blk++) {
        uint16_t d = srlm_f32_to_f16(blk ? 2.0f : 0.5f);
        bb_put(b, &d, 2);
        for (int i = 0; i < 32; i++) bb_u8(b, (uint8_t)(int8_t)(i - 10));
    }
}

static void check_built(uint32_t version, uint32_t alignment) {
    bytebuf b = {0};
    build_gguf(&b, version, alignment);
    srlm_gguf *g = NULL;
    CHECK_OK(srlm_gguf_open_memory(b.p, b.n, "built.gguf", &g));
    if (!g) { bb_free(&b); return; }
    CHECK(srlm_gguf_version(g) == version, "version");
    CHECK(srlm_gguf_alignment(g) == (alignment ? alignment : 32), "alignment %u", srlm_gguf_alignment(g));
    uint32_t u32; int32_t i32; uint64_t u64; float f; bool bo; const char *s; size_t len;
    CHECK_OK(srlm_gguf_get_u32(g, "k.u8", &u32)); CHECK(u32 == 200, "u8");
    CHECK_OK(srlm_gguf_get_i32(g, "k.i8", &i32)); CHECK(i32 == -5, "i8");
    CHECK_OK(srlm_gguf_get_u32(g, "k.u16", &u32)); CHECK(u32 == 60000, "u16");
    CHECK_OK(srlm_gguf_get_i32(g, "k.i16", &i32)); CHECK(i32 == -300, "i16");
    CHECK_OK(srlm_gguf_get_u32(g, "k.u32", &u32)); CHECK(u32 == 4000000000u, "u32");
    CHECK_OK(srlm_gguf_get_i32(g, "k.i32", &i32)); CHECK(i32 == -7, "i32");
    CHECK_OK(srlm_gguf_get_f32(g, "k.f32", &f)); CHECK(f == 1.5f, "f32");
    CHECK_OK(srlm_gguf_get_bool(g, "k.bool", &bo)); CHECK(bo, "bool");
    CHECK_OK(srlm_gguf_get_u64(g, "k.u64", &u64)); CHECK(u64 == 1ull << 40, "u64");
    CHECK_OK(srlm_gguf_get_f32(g, "k.f64", &f)); CHECK(f == 0.25f, "f64");
    CHECK_ERR(srlm_gguf_get_u32(g, "k.u64", &u32), SRLM_ERR_FORMAT, "k.u64");
    CHECK_ERR(srlm_gguf_get_u32(g, "k.i64", &u32), SRLM_ERR_FORMAT, "out of range");
    CHECK_ERR(srlm_gguf_get_u32(g, "k.f32", &u32), SRLM_ERR_FORMAT, "is f32, expected an integer");
    CHECK_ERR(srlm_gguf_get_u32(g, "no.such.key", &u32), SRLM_ERR_NOT_FOUND, "built.gguf: metadata key 'no.such.key' is missing");
    CHECK_OK(srlm_gguf_get_str(g, "general.architecture", &s, &len));
    CHECK(len == 5 && !memcmp(s, "llama", 5), "architecture");
    char *dup = NULL;
    CHECK_OK(srlm_gguf_get_str_dup(g, "general.architecture", &dup));
    CHECK(dup && !strcmp(dup, "llama"), "dup");
    free(dup);
    srlm_gguf_value arr, e, e2;
    CHECK_OK(srlm_gguf_get_array(g, "tokens", SRLM_GGUF_STRING, &arr));
    CHECK(arr.n == 3, "3 tokens");
    CHECK(srlm_gguf_array_str(&arr, 2, &s, &len) && len == 5 && !memcmp(s, "hello", 5), "token 2");
    CHECK(srlm_gguf_array_str(&arr, 1, &s, &len) && len == 0, "empty token");
    CHECK(!srlm_gguf_array_str(&arr, 3, &s, &len), "index past the end");
    CHECK_ERR(srlm_gguf_get_array(g, "tokens", SRLM_GGUF_F32, &arr), SRLM_ERR_FORMAT, "array of string");
    CHECK_OK(srlm_gguf_get_array(g, "scores", SRLM_GGUF_F32, &arr));
    CHECK(srlm_gguf_array_f32(&arr, 2, &f) && f == -2.5f, "score 2");
    int64_t iv;
    CHECK_OK(srlm_gguf_get_array(g, "types", SRLM_GGUF_I32, &arr));
    CHECK(srlm_gguf_array_i64(&arr, 2, &iv) && iv == 6, "type 2");
    CHECK_OK(srlm_gguf_get_array(g, "nested", SRLM_GGUF_ARRAY, &arr));
    CHECK(arr.n == 3, "nested count");
    CHECK(srlm_gguf_array_elem(&arr, 1, &e) && e.type == SRLM_GGUF_ARRAY && e.n == 2 &&
          srlm_gguf_array_str(&e, 1, &s, &len) && len == 2 && !memcmp(s, "bc", 2), "nested strings");
    CHECK(srlm_gguf_array_elem(&arr, 0, &e2) && srlm_gguf_array_i64(&e2, 1, &iv) && iv == 2, "nested ints");
    CHECK(srlm_gguf_array_elem(&arr, 2, &e2) && e2.n == 0, "nested empty");
    CHECK(srlm_gguf_tensor_count(g) == 3, "3 tensors");
    const srlm_gguf_tensor *t = srlm_gguf_find_tensor(g, "a");
    CHECK(t && t->dtype == SRLM_DTYPE_F32 && t->ne[0] == 4 && t->ne[1] == 2 && t->nbytes == 32, "tensor a");
    if (t) CHECK(((const float *)t->data)[7] == 7.0f, "tensor a data");
    t = srlm_gguf_find_tensor(g, "b");
    CHECK(t && t->dtype == SRLM_DTYPE_F16 && t->n_elements == 3, "tensor b");
    t = srlm_gguf_find_tensor(g, "q");
    CHECK(t && t->dtype == SRLM_DTYPE_Q8_0 && t->nbytes == 68, "tensor q");
    if (t) {
        float out[64];
        srlm_dequantize_q8_0(out, t->data, 64);
        CHECK(out[0] == -5.0f && out[63] == 2.0f * 21, "q8_0 values %g %g", out[0], out[63]);
    }
    CHECK(srlm_gguf_find_tensor(g, "zz") == NULL, "absent tensor");
    srlm_gguf_destroy(g);
    bb_free(&b);
}

static srlm_status open_mem(const bytebuf *b, size_t n) {
    srlm_gguf *g = NULL;
    srlm_status st = srlm_gguf_open_memory(b->p, n, "bad.gguf", &g);
    srlm_gguf_destroy(g);
    return st;
}

static void check_bad(void) {
    bytebuf b = {0};
    build_gguf(&b, 3, 0);
    /* Every truncation point must fail cleanly (never crash, never read past the end). */
    int ok_prefixes = 0;
    for (size_t n = 0; n < b.n; n++) {
        srlm_status st = open_mem(&b, n);
        if (!st) ok_prefixes++;
        else if (!strstr(srlm_status_msg(st), "bad.gguf")) {
            CHECK(0, "message without the file name: %s", srlm_status_msg(st));
        }
        srlm_status_free(st);
    }
    CHECK(ok_prefixes == 0, "%d truncated prefixes were accepted", ok_prefixes);
    CHECK_ERR(open_mem(&b, b.n - 1), SRLM_ERR_FORMAT, "tensor 'q'");
    CHECK_ERR(open_mem(&b, 2), SRLM_ERR_FORMAT, "bad.gguf");
    bytebuf c = {0};
    bb_put(&c, b.p, b.n);
    c.p[0] = 'X';
    CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "not a GGUF file");
    c.p[0] = 'G';
    c.p[4] = 1;
    CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_UNSUPPORTED, "version 1");
    c.p[4] = 3;
    memset(c.p + 8, 0xff, 8); /* tensor count */
    CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "more than the file can hold");
    bb_free(&c);
    /* A tensor offset pointing past the end; an unaligned one; overlapping ones. */
    const uint8_t pat[] = {1, 0, 0, 0, 0, 0, 0, 0, 'q'}; /* name length 1, "q" */
    uint8_t *q = memmem(b.p, b.n, pat, sizeof pat);
    CHECK(q != NULL, "found tensor info q");
    if (q) {
        uint8_t *off = q + 9 + 4 + 16 + 4;
        bb_put(&c, b.p, b.n);
        uint64_t v = 1u << 20;
        memcpy(c.p + (off - b.p), &v, 8);
        CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "outside the data region");
        v = 33;
        memcpy(c.p + (off - b.p), &v, 8);
        CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "not a multiple of the alignment");
        v = 0;
        memcpy(c.p + (off - b.p), &v, 8);
        CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "overlap");
        uint32_t ty = 12; /* Q4_K */
        memcpy(c.p + (off - 4 - b.p), &ty, 4);
        CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_UNSUPPORTED, "Q4_K");
        bb_free(&c);
    }
    /* A string length that runs past the end. */
    uint8_t *arch = memmem(b.p, b.n, "general.architecture", 20);
    if (arch) {
        bb_put(&c, b.p, b.n);
        uint64_t v = 1ull << 60;
        memcpy(c.p + (arch - b.p) + 20 + 4, &v, 8);
        CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "truncated GGUF");
        c.p[(arch - b.p) + 20] = 99; /* value type */
        CHECK_ERR(open_mem(&c, c.n), SRLM_ERR_FORMAT, "unknown value type 99");
        bb_free(&c);
    }
    bb_free(&b);
    srlm_gguf *g = NULL;
    CHECK_ERR(srlm_gguf_open("/nonexistent/x.gguf", &g), SRLM_ERR_IO, "/nonexistent/x.gguf");
    CHECK(g == NULL, "no handle on error");
}

static void check_stories(void) {
    const char *data = test_shared_data();
    if (!data) { printf("  SKIP stories260K: SRLM_SHARED_DATA not set\n"); return; }
    char path[1024];
    snprintf(path, sizeof path, "%s/stories260K/stories260K.gguf", data);
    srlm_gguf *g = NULL;
    CHECK_OK(srlm_gguf_open(path, &g));
    if (!g) return;
    CHECK(srlm_gguf_version(g) == 3, "v3");
    CHECK(srlm_gguf_tensor_count(g) == 48, "48 tensors, got %zu", srlm_gguf_tensor_count(g));
    uint32_t v;
    CHECK_OK(srlm_gguf_get_u32(g, "llama.embedding_length", &v)); CHECK(v == 64, "dim %u", v);
    CHECK_OK(srlm_gguf_get_u32(g, "llama.block_count", &v)); CHECK(v == 5, "layers %u", v);
    CHECK_OK(srlm_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &v)); CHECK(v == 1, "bos %u", v);
    CHECK_OK(srlm_gguf_get_u32(g, "tokenizer.ggml.eos_token_id", &v)); CHECK(v == 2, "eos %u", v);
    srlm_gguf_value toks, scores, types;
    CHECK_OK(srlm_gguf_get_array(g, "tokenizer.ggml.tokens", SRLM_GGUF_STRING, &toks));
    CHECK_OK(srlm_gguf_get_array(g, "tokenizer.ggml.scores", SRLM_GGUF_F32, &scores));
    CHECK_OK(srlm_gguf_get_array(g, "tokenizer.ggml.token_type", SRLM_GGUF_I32, &types));
    CHECK(toks.n == 512 && scores.n == 512 && types.n == 512, "512 tokens");
    const char *s;
    size_t len;
    CHECK(srlm_gguf_array_str(&toks, 0, &s, &len) && len == 5 && !memcmp(s, "<unk>", 5), "token 0 is <unk>");
    CHECK(srlm_gguf_array_str(&toks, 3, &s, &len) && len == 6 && !memcmp(s, "<0x00>", 6), "token 3 is <0x00>");
    const srlm_gguf_tensor *t = srlm_gguf_find_tensor(g, "blk.0.ffn_gate.weight");
    CHECK(t && t->ne[0] == 64 && t->ne[1] == 172 && t->dtype == SRLM_DTYPE_F32, "ffn_gate is ne [64, 172]");
    for (size_t i = 0; i < srlm_gguf_kv_count(g); i++) {
        const srlm_gguf_kv *kv = srlm_gguf_kv_at(g, i);
        if (kv->value.type != SRLM_GGUF_ARRAY) printf("  %s: %s\n", kv->key, srlm_gguf_type_name(kv->value.type));
        else printf("  %s: array of %llu %s\n", kv->key, (unsigned long long)kv->value.n, srlm_gguf_type_name(kv->value.elem_type));
    }
    srlm_gguf_destroy(g);
    /* A vocabulary-only GGUF (no tensors) from llama.cpp's tests: 32000 pieces. */
    snprintf(path, sizeof path, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-llama-spm.gguf", data);
    CHECK_OK(srlm_gguf_open(path, &g));
    if (!g) return;
    CHECK(srlm_gguf_tensor_count(g) == 0, "vocab-only");
    CHECK_OK(srlm_gguf_get_array(g, "tokenizer.ggml.tokens", SRLM_GGUF_STRING, &toks));
    CHECK(toks.n == 32000, "32000 pieces, got %llu", (unsigned long long)toks.n);
    CHECK(srlm_gguf_array_str(&toks, 31999, &s, &len) && len > 0, "last piece readable");
    srlm_gguf_destroy(g);
}

int main(void) {
    check_built(3, 0);
    check_built(2, 0);
    check_built(3, 64);
    check_built(2, 8);
    check_bad();
    check_stories();
    return test_finish("test_gguf");
}
