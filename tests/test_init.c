/* test_init.c: `srlm init` through srlm_model_init: every preset's folder opens through the
 * weights API with the shapes its config implies; values follow the documented init and do
 * not depend on the storage dtype; seeds are deterministic; the byte-level tokenizer.json
 * has 256 distinct byte tokens and the specials; failures leave nothing behind. With
 * --heavy (the 'heavy' suite) also the full-vocabulary 2-layer Qwen2.5 shape. */
#include "test.h"

#include "bytebuf.h"
#include "model/config.h"
#include "model/dtype.h"
#include "model/init.h"
#include "model/weights.h"
#include "tmpdir.h"

#include <cjson/cJSON.h>

static char dir[256];
static char src[512];

static srlm_status init(const char *preset, const char *out, uint64_t seed, srlm_dtype dt, const char *tok) {
    char cfg[1024], o[1024];
    snprintf(cfg, sizeof cfg, "%s/models/%s", src, preset);
    snprintf(o, sizeof o, "%s/%s", dir, out);
    srlm_init_options opt = {.config_path = cfg, .out_dir = o, .seed = seed, .dtype = dt, .tokenizer_dir = tok};
    return srlm_model_init(&opt);
}

static srlm_weights *open_out(const char *out) {
    char o[1024];
    snprintf(o, sizeof o, "%s/%s", dir, out);
    srlm_weights *w = NULL;
    CHECK_OK(srlm_weights_open(o, &w));
    return w;
}

static void check_values(srlm_weights *w, const char *what) {
    int bad_norm = 0;
    double s1 = 0, s2 = 0;
    uint64_t n = 0;
    for (size_t i = 0; i < srlm_weights_count(w); i++) {
        const srlm_weight *t = srlm_weights_at(w, i);
        float *v = malloc(t->n_elements * sizeof(float));
        if (!v) continue;
        srlm_weight_to_f32(t, v);
        bool norm = strstr(t->name, "norm") != NULL;
        for (uint64_t k = 0; k < t->n_elements; k++) {
            if (norm) bad_norm += v[k] != 1.0f;
            else { s1 += v[k]; s2 += (double)v[k] * v[k]; n++; }
        }
        free(v);
    }
    double mean = s1 / (double)n, sd = sqrt(s2 / (double)n - mean * mean);
    printf("  %s: %llu random values, mean %.5f, std %.5f\n", what, (unsigned long long)n, mean, sd);
    CHECK(bad_norm == 0, "%s: %d norm gains are not 1", what, bad_norm);
    CHECK(fabs(mean) < 1e-3 && fabs(sd - 0.02) < 1e-3, "%s: mean %g std %g (want 0, 0.02)", what, mean, sd);
}

static void test_tiny(void) {
    CHECK_OK(init("tiny.json", "tiny32", 7, SRLM_DTYPE_F32, NULL));
    CHECK_OK(init("tiny.json", "tiny16", 7, SRLM_DTYPE_F16, NULL));
    CHECK_OK(init("tiny.json", "tinybf", 7, SRLM_DTYPE_BF16, NULL));
    CHECK_OK(init("tiny.json", "tiny32b", 7, SRLM_DTYPE_F32, NULL));
    CHECK_OK(init("tiny.json", "tiny32s8", 8, SRLM_DTYPE_F32, NULL));
    srlm_weights *a = open_out("tiny32"), *h = open_out("tiny16"), *bf = open_out("tinybf"), *b = open_out("tiny32b"),
                 *s8 = open_out("tiny32s8");
    if (a && h && bf && b && s8) {
        const srlm_model_config *c = srlm_weights_config(a);
        CHECK(c->arch == SRLM_ARCH_QWEN2 && c->hidden_size == 64 && c->num_hidden_layers == 2 && c->num_attention_heads == 4 &&
              c->num_key_value_heads == 2 && c->intermediate_size == 176 && c->vocab_size == 272 && c->tie_word_embeddings &&
              c->attention_bias && c->torch_dtype == SRLM_DTYPE_F32, "tiny config");
        CHECK(srlm_weights_config(h)->torch_dtype == SRLM_DTYPE_F16 && srlm_weights_config(bf)->torch_dtype == SRLM_DTYPE_BF16,
              "torch_dtype follows --dtype");
        printf("  tiny: %llu parameters\n", (unsigned long long)srlm_model_param_count(c));
        check_values(a, "tiny f32");
        check_values(h, "tiny f16");
        int same = 1, f16_ok = 1, bf_ok = 1, differs = 0;
        for (size_t i = 0; i < srlm_weights_count(a); i++) {
            const srlm_weight *x = srlm_weights_at(a, i), *y = srlm_weights_at(b, i), *z = srlm_weights_at(h, i),
                              *q = srlm_weights_at(bf, i), *d = srlm_weights_at(s8, i);
            same &= x->nbytes == y->nbytes && !memcmp(x->data, y->data, x->nbytes);
            if (!strstr(x->name, "norm")) differs += !memcmp(x->data, d->data, x->nbytes) ? 0 : 1;
            const float *xf = x->data;
            for (uint64_t k = 0; k < x->n_elements; k++) {
                uint16_t hz, hq;
                memcpy(&hz, (const uint8_t *)z->data + 2 * k, 2);
                memcpy(&hq, (const uint8_t *)q->data + 2 * k, 2);
                f16_ok &= hz == srlm_f32_to_f16(xf[k]);
                bf_ok &= hq == srlm_f32_to_bf16(xf[k]);
            }
        }
        CHECK(same, "same seed gives identical bytes");
        CHECK(differs == (int)srlm_weights_count(a) - 2 * 2 - 1, "another seed changes every random tensor (%d)", differs);
        CHECK(f16_ok && bf_ok, "f16/bf16 folders hold the f32 values rounded to nearest even");
    }
    srlm_weights_destroy(a);
    srlm_weights_destroy(h);
    srlm_weights_destroy(bf);
    srlm_weights_destroy(b);
    srlm_weights_destroy(s8);

    CHECK_OK(init("tiny-llama.json", "tinyllama", 1, SRLM_DTYPE_F32, NULL));
    srlm_weights *l = open_out("tinyllama");
    if (l) {
        const srlm_model_config *c = srlm_weights_config(l);
        CHECK(c->arch == SRLM_ARCH_LLAMA && !c->tie_word_embeddings && !c->attention_bias && srlm_weights_count(l) == 21 &&
              srlm_weights_find(l, "lm_head.weight") != NULL, "tiny-llama: untied, no bias, 21 tensors");
        check_values(l, "tiny-llama f32");
    }
    srlm_weights_destroy(l);
}

static void test_tokenizer(void) {
    char p[1024];
    snprintf(p, sizeof p, "%s/tiny32/tokenizer.json", dir);
    size_t n = 0;
    uint8_t *text = bb_read_file(p, &n);
    cJSON *r = text ? cJSON_ParseWithLength((const char *)text, n) : NULL;
    free(text);
    CHECK(r != NULL, "tokenizer.json parses");
    if (!r) return;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "model"), "vocab");
    CHECK(cJSON_GetArraySize(vocab) == 256, "256 byte tokens");
    int seen[256] = {0}, ok = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        int id = (int)e->valuedouble;
        char ch[4];
        if (id < 0 || id > 255) { ok = 0; continue; }
        srlm_bytelevel_char((uint8_t)id, ch);
        ok &= !strcmp(ch, e->string);
        seen[id]++;
    }
    for (int i = 0; i < 256; i++) ok &= seen[i] == 1;
    CHECK(ok, "vocab maps each byte id to its ByteLevel character, once");
    char ch[4];
    srlm_bytelevel_char(' ', ch);
    CHECK(!strcmp(ch, "\xc4\xa0"), "space is U+0120 (Ġ)");
    srlm_bytelevel_char('A', ch);
    CHECK(!strcmp(ch, "A"), "A is itself");
    srlm_bytelevel_char(0xad, ch);
    CHECK(!strcmp(ch, "\xc5\x83"), "0xAD is U+0143");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(r, "added_tokens");
    const char *want[4] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|mask|>"};
    int ids[4] = {256, 257, 258, 271}, k = 0;
    cJSON_ArrayForEach(e, added) {
        if (k < 4)
            CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring, want[k]) &&
                  (int)cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble == ids[k], "special %d", k);
        k++;
    }
    CHECK(k == 4, "4 specials");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "model"), "merges")) == 0, "no merges");
    cJSON_Delete(r);
}

static void test_bad(void) {
    CHECK_ERR(init("tiny.json", "tiny32", 7, SRLM_DTYPE_F32, NULL), SRLM_ERR_INVALID, "already exists");
    CHECK_ERR(init("qwen2.5-0.5b.json", "q", 7, SRLM_DTYPE_F32, NULL), SRLM_ERR_NOT_FOUND, "needs a tokenizer");
    CHECK_ERR(init("qwen2.5-0.5b.json", "q", 7, SRLM_DTYPE_F32, "/nonexistent/tok"), SRLM_ERR_NOT_FOUND,
              "/nonexistent/tok: no tokenizer.json");
    CHECK_ERR(init("tiny.json", "q", 7, SRLM_DTYPE_Q8_0, NULL), SRLM_ERR_INVALID, "Q8_0");
    CHECK_ERR(init("nope.json", "q", 7, SRLM_DTYPE_F32, NULL), SRLM_ERR_IO, "nope.json");
    const char *data = test_shared_data();
    if (data) {
        char tok[1024];
        snprintf(tok, sizeof tok, "%s/qwen-tokenizer", data);
        CHECK_ERR(init("tiny.json", "q", 7, SRLM_DTYPE_F32, tok), SRLM_ERR_FORMAT, "does not fit the model's vocabulary of 272");
    }
    int before = tmpdir_count(dir);
    CHECK(before == 6, "failed inits left nothing behind (%d entries)", before);
}

static void test_heavy(bool heavy) {
    const char *data = test_shared_data();
    if (!heavy || !data) { printf("  (2-layer full-vocabulary preset: run with --heavy; heavy suite)\n"); return; }
    char tok[1024];
    snprintf(tok, sizeof tok, "%s/qwen-tokenizer", data);
    CHECK_OK(init("qwen2.5-0.5b-2layer.json", "q2", 3, SRLM_DTYPE_F16, tok));
    srlm_weights *w = open_out("q2");
    if (w) {
        const srlm_model_config *c = srlm_weights_config(w);
        uint64_t p = srlm_model_param_count(c);
        printf("  qwen2.5-0.5b-2layer: %llu parameters\n", (unsigned long long)p);
        CHECK(p == 165960320ull && c->vocab_size == 151936 && c->hidden_size == 896, "2-layer shape");
        const srlm_weight *e = srlm_weights_find(w, "model.embed_tokens.weight");
        CHECK(e && e->dtype == SRLM_DTYPE_F16 && e->nbytes == 151936ull * 896 * 2, "embedding f16 [151936, 896]");
    }
    srlm_weights_destroy(w);
    char p[1024];
    snprintf(p, sizeof p, "%s/q2/tokenizer.json", dir);
    size_t n = 0;
    uint8_t *t = bb_read_file(p, &n);
    CHECK(t && n > 1000000, "tokenizer.json copied (%zu bytes)", n);
    free(t);
}

int main(int argc, char **argv) {
    bool heavy = argc > 1 && !strcmp(argv[1], "--heavy");
    const char *root = getenv("SRLM_SOURCE_ROOT");
    snprintf(src, sizeof src, "%s", root && *root ? root : ".");
    if (!tmpdir_make(dir, sizeof dir, "init")) { fprintf(stderr, "mkdtemp failed\n"); return 1; }
    if (!heavy) {
        test_tiny();
        test_tokenizer();
        test_bad();
    }
    test_heavy(heavy);
    tmpdir_remove(dir);
    return test_finish("test_init");
}
