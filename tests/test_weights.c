/* test_weights.c: config.json parsing and validation, the tensor list a config implies, and
 * the weights source API on the real stories260K model in both formats (GGUF and HF folder:
 * same weights, Q/K rows permuted between the two RoPE layouts), on sharded folders, and on
 * folders with missing or mis-shaped tensors. */
#include "test.h"

#include "bytebuf.h"

#include "model/config.h"
#include "model/dtype.h"
#include "model/gguf_model.h"
#include "model/safetensors.h"
#include "model/weights.h"
#include "tmpdir.h"

#include <sys/stat.h>

static char dir[256];

static const char *qwen_json =
    "{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":896,\"num_hidden_layers\":24,"
    "\"num_attention_heads\":14,\"num_key_value_heads\":2,\"intermediate_size\":4864,\"vocab_size\":151936,"
    "\"rms_norm_eps\":1e-06,\"rope_theta\":1000000.0,\"tie_word_embeddings\":true,\"max_position_embeddings\":32768,"
    "\"torch_dtype\":\"bfloat16\",\"bos_token_id\":151643,\"eos_token_id\":151645,\"hidden_act\":\"silu\","
    "\"use_sliding_window\":false,\"sliding_window\":32768,\"rope_scaling\":null}";

static srlm_status parse(const char *json, srlm_model_config *c) {
    return srlm_model_config_parse(json, strlen(json), "cfg.json", c);
}

/* Replaces the first occurrence of `from` in `json` by `to` and parses the result. */
static srlm_status parse_edit(const char *json, const char *from, const char *to) {
    char buf[4096];
    const char *at = strstr(json, from);
    if (!at) return srlm_errorf(SRLM_ERR_INVALID, "test bug: '%s' not in json", from);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    srlm_model_config c;
    return parse(buf, &c);
}

static void test_config(void) {
    srlm_model_config c;
    CHECK_OK(parse(qwen_json, &c));
    CHECK(c.arch == SRLM_ARCH_QWEN2 && c.hidden_size == 896 && c.num_hidden_layers == 24 && c.num_attention_heads == 14 &&
          c.num_key_value_heads == 2 && c.head_dim == 64 && c.intermediate_size == 4864 && c.vocab_size == 151936,
          "qwen sizes");
    CHECK(c.tie_word_embeddings && c.attention_bias && c.rope_layout == SRLM_ROPE_ROTATE_HALF, "qwen flags");
    CHECK(c.rms_norm_eps == 1e-6 && c.rope_theta == 1e6 && c.torch_dtype == SRLM_DTYPE_BF16, "qwen floats");
    CHECK(c.bos_token_id == 151643 && c.n_eos == 1 && c.eos_token_ids[0] == 151645, "qwen ids");
    uint64_t params = srlm_model_param_count(&c);
    printf("  Qwen2.5-0.5B shape: %zu tensors, %llu parameters\n", srlm_model_tensor_count(&c), (unsigned long long)params);
    CHECK(params == 494032768ull, "Qwen2.5-0.5B has 494,032,768 parameters, got %llu", (unsigned long long)params);
    CHECK(srlm_model_tensor_count(&c) == 1 + 24 * 12 + 1, "tensor count");
    srlm_tensor_spec s;
    srlm_model_tensor_spec(&c, 2, &s);
    CHECK(!strcmp(s.name, "model.layers.0.self_attn.q_proj.weight") && s.shape[0] == 896 && s.shape[1] == 896, "q_proj spec");
    srlm_model_tensor_spec(&c, 3, &s);
    CHECK(!strcmp(s.name, "model.layers.0.self_attn.k_proj.weight") && s.shape[0] == 128 && s.shape[1] == 896, "k_proj spec");
    srlm_model_tensor_spec(&c, 11, &s);
    CHECK(!strcmp(s.name, "model.layers.0.self_attn.k_proj.bias") && s.n_dims == 1 && s.shape[0] == 128, "k bias spec");

    /* Round trip through the writer. */
    char *js = NULL;
    CHECK_OK(srlm_model_config_to_json(&c, &js));
    srlm_model_config c2;
    if (js) CHECK_OK(parse(js, &c2));
    CHECK(js && !memcmp(&c, &c2, sizeof c), "config survives to_json -> parse");
    free(js);
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK_OK(srlm_model_config_write(&c, path));
    CHECK_OK(srlm_model_config_load(path, &c2));
    CHECK(!memcmp(&c, &c2, sizeof c), "config survives write -> load");

    const char *llama = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"num_hidden_layers\":2,"
                        "\"num_attention_heads\":8,\"num_key_value_heads\":4,\"intermediate_size\":172,\"vocab_size\":512,"
                        "\"eos_token_id\":[2,3]}";
    CHECK_OK(parse(llama, &c));
    CHECK(c.arch == SRLM_ARCH_LLAMA && !c.attention_bias && !c.tie_word_embeddings && c.rope_theta == 1e4 && c.n_eos == 2 &&
          c.eos_token_ids[1] == 3 && c.bos_token_id == -1, "llama defaults");
    CHECK(srlm_model_tensor_count(&c) == 1 + 2 * 9 + 2, "llama tensor count (untied, no bias)");
    CHECK_OK(parse_edit(llama, "\"vocab_size\"", "\"attention_bias\":true,\"vocab_size\""));

    CHECK_ERR(parse_edit(qwen_json, "Qwen2ForCausalLM", "MistralForCausalLM"), SRLM_ERR_UNSUPPORTED,
              "cfg.json: unknown architecture 'MistralForCausalLM'");
    CHECK_ERR(parse_edit(qwen_json, "\"num_attention_heads\":14", "\"num_attention_heads\":15"), SRLM_ERR_INVALID,
              "does not divide hidden_size");
    CHECK_ERR(parse_edit(qwen_json, "\"num_key_value_heads\":2", "\"num_key_value_heads\":3"), SRLM_ERR_INVALID,
              "num_key_value_heads 3 does not divide");
    CHECK_ERR(parse_edit(qwen_json, "\"hidden_size\":896", "\"hidden_size\":0"), SRLM_ERR_FORMAT, "hidden_size");
    CHECK_ERR(parse_edit(qwen_json, "\"hidden_size\":896,", ""), SRLM_ERR_FORMAT, "missing \"hidden_size\"");
    CHECK_ERR(parse_edit(qwen_json, "\"vocab_size\":151936", "\"vocab_size\":\"big\""), SRLM_ERR_FORMAT, "vocab_size");
    CHECK_ERR(parse_edit(qwen_json, "\"rope_scaling\":null", "\"rope_scaling\":{\"type\":\"yarn\"}"), SRLM_ERR_UNSUPPORTED, "rope_scaling");
    CHECK_ERR(parse_edit(qwen_json, "\"use_sliding_window\":false", "\"use_sliding_window\":true"), SRLM_ERR_UNSUPPORTED, "sliding");
    CHECK_ERR(parse_edit(qwen_json, "\"hidden_act\":\"silu\"", "\"hidden_act\":\"gelu\""), SRLM_ERR_UNSUPPORTED, "silu");
    CHECK_ERR(parse_edit(qwen_json, "bfloat16", "int8"), SRLM_ERR_UNSUPPORTED, "torch_dtype int8");
    CHECK_ERR(parse_edit(qwen_json, "\"eos_token_id\":151645", "\"eos_token_id\":200000"), SRLM_ERR_INVALID, "outside the vocabulary");
    CHECK_ERR(parse_edit(qwen_json, "\"rms_norm_eps\":1e-06", "\"rms_norm_eps\":-1"), SRLM_ERR_INVALID, "rms_norm_eps");
    CHECK_ERR(parse_edit(qwen_json, "{", "[{"), SRLM_ERR_FORMAT, "cfg.json: invalid JSON");
    CHECK_ERR(parse("{\"hidden_size\":4}", &c), SRLM_ERR_FORMAT, "no \"architectures\"");
    CHECK_ERR(srlm_model_config_load("/nonexistent/config.json", &c), SRLM_ERR_IO, "/nonexistent/config.json");
}

static void test_names(void) {
    char out[128];
    CHECK(srlm_gguf_name_to_hf("blk.12.attn_output.weight", out, sizeof out) && !strcmp(out, "model.layers.12.self_attn.o_proj.weight"), "attn_output");
    CHECK(srlm_gguf_name_to_hf("blk.0.ffn_norm.weight", out, sizeof out) && !strcmp(out, "model.layers.0.post_attention_layernorm.weight"), "ffn_norm");
    CHECK(srlm_gguf_name_to_hf("token_embd.weight", out, sizeof out) && !strcmp(out, "model.embed_tokens.weight"), "token_embd");
    CHECK(srlm_gguf_name_to_hf("blk.3.attn_k.bias", out, sizeof out) && !strcmp(out, "model.layers.3.self_attn.k_proj.bias"), "k bias");
    CHECK(!srlm_gguf_name_to_hf("blk.x.attn_k.weight", out, sizeof out), "bad layer");
    CHECK(!srlm_gguf_name_to_hf("rope_freqs.weight", out, sizeof out), "unknown");
    CHECK(srlm_hf_name_to_gguf("model.layers.4.mlp.down_proj.weight", out, sizeof out) && !strcmp(out, "blk.4.ffn_down.weight"), "inverse");
    CHECK(srlm_hf_name_to_gguf("lm_head.weight", out, sizeof out) && !strcmp(out, "output.weight"), "inverse lm_head");
}

static void test_stories(void) {
    const char *data = test_shared_data();
    if (!data) { printf("  SKIP stories260K: SRLM_SHARED_DATA not set\n"); return; }
    char gpath[512], hpath[512];
    snprintf(gpath, sizeof gpath, "%s/stories260K/stories260K.gguf", data);
    snprintf(hpath, sizeof hpath, "%s/stories260K/hf", data);
    srlm_weights *g = NULL, *h = NULL;
    CHECK_OK(srlm_weights_open(gpath, &g));
    CHECK_OK(srlm_weights_open(hpath, &h));
    if (!g || !h) { srlm_weights_destroy(g); srlm_weights_destroy(h); return; }
    const srlm_model_config *cg = srlm_weights_config(g), *ch = srlm_weights_config(h);
    CHECK(cg->arch == SRLM_ARCH_LLAMA && cg->hidden_size == 64 && cg->num_hidden_layers == 5 && cg->num_attention_heads == 8 &&
          cg->num_key_value_heads == 4 && cg->intermediate_size == 172 && cg->vocab_size == 512 && !cg->tie_word_embeddings &&
          !cg->attention_bias && cg->rope_layout == SRLM_ROPE_INTERLEAVED && cg->bos_token_id == 1 && cg->eos_token_ids[0] == 2,
          "GGUF config");
    CHECK(fabs(cg->rms_norm_eps - 1e-5) < 1e-10 && cg->rope_theta == 10000.0, "GGUF eps %g theta %g", cg->rms_norm_eps, cg->rope_theta);
    CHECK(ch->hidden_size == cg->hidden_size && ch->num_hidden_layers == cg->num_hidden_layers &&
          ch->num_key_value_heads == cg->num_key_value_heads && ch->intermediate_size == cg->intermediate_size &&
          ch->vocab_size == cg->vocab_size && ch->rms_norm_eps == cg->rms_norm_eps && ch->rope_layout == SRLM_ROPE_ROTATE_HALF,
          "HF config matches GGUF");
    CHECK(srlm_weights_gguf(g) != NULL && srlm_weights_gguf(h) == NULL, "gguf handle only for GGUF");
    CHECK(srlm_weights_count(g) == 48 && srlm_weights_count(h) == 48, "48 tensors");
    int identical = 0, permuted = 0, bad = 0;
    for (size_t i = 0; i < srlm_weights_count(h); i++) {
        const srlm_weight *a = srlm_weights_at(h, i);
        const srlm_weight *b = srlm_weights_find(g, a->name);
        if (!b || b->nbytes != a->nbytes || b->shape[0] != a->shape[0] || b->shape[1] != a->shape[1] || a->dtype != SRLM_DTYPE_F32) { bad++; continue; }
        bool is_qk = strstr(a->name, "q_proj") || strstr(a->name, "k_proj");
        if (!is_qk) {
            if (memcmp(a->data, b->data, a->nbytes)) { bad++; fprintf(stderr, "  %s differs\n", a->name); }
            else identical++;
            continue;
        }
        /* GGUF row (head h, pair i, j) = HF row (h, j * HS/2 + i): llama.cpp's permutation. */
        int64_t HS = cg->head_dim, rows = a->shape[0], cols = a->shape[1];
        const float *hf = a->data, *gg = b->data;
        int mism = 0;
        for (int64_t r = 0; r < rows; r++) {
            int64_t head = r / HS, k = r % HS, pair = k / 2, j = k % 2;
            int64_t hr = head * HS + j * (HS / 2) + pair;
            if (memcmp(gg + r * cols, hf + hr * cols, (size_t)cols * 4)) mism++;
        }
        if (mism) { bad++; fprintf(stderr, "  %s: %d rows do not match the permutation\n", a->name, mism); }
        else permuted++;
    }
    printf("  stories260K GGUF vs HF: %d tensors byte-identical, %d Q/K tensors equal up to the RoPE row permutation\n",
           identical, permuted);
    CHECK(bad == 0 && identical == 38 && permuted == 10, "%d bad, %d identical, %d permuted", bad, identical, permuted);
    const srlm_weight *t = NULL;
    CHECK_OK(srlm_weights_get(g, "model.layers.4.mlp.down_proj.weight", &t));
    CHECK(t && t->shape[0] == 64 && t->shape[1] == 172 && !strcmp(t->file_name, "blk.4.ffn_down.weight"), "down_proj [64,172]");
    const srlm_weight *absent = NULL;
    CHECK_ERR(srlm_weights_get(g, "model.layers.5.mlp.down_proj.weight", &absent), SRLM_ERR_NOT_FOUND, "model.layers.5.mlp.down_proj.weight");
    float *buf = malloc(64 * 172 * sizeof(float));
    CHECK(buf && t, "down_proj available for conversion");
    if (buf && t) {
        srlm_weight_to_f32(t, buf);
        CHECK(!memcmp(buf, t->data, t->nbytes), "to_f32 of F32 copies");
        uint16_t *h = (uint16_t *)buf;
        CHECK_OK(srlm_weight_convert(t, SRLM_DTYPE_F16, h));
        int bad = 0;
        for (uint64_t k = 0; k < t->n_elements; k++) bad += h[k] != srlm_f32_to_f16(((const float *)t->data)[k]);
        CHECK(bad == 0, "weight_convert to f16 rounds each value (%d wrong)", bad);
        CHECK_ERR(srlm_weight_convert(t, SRLM_DTYPE_Q8_0, h), SRLM_ERR_INVALID, "cannot convert to Q8_0");
    }
    free(buf);
    srlm_weights_destroy(g);
    srlm_weights_destroy(h);
}

/* Writes a tiny HF folder: config + safetensors; `skip` names a tensor to leave out,
 * `wrong` a tensor whose shape gets an extra row; `shards` 2 splits it in two files. */
static srlm_status write_folder(const char *out, const char *skip, const char *wrong, int shards) {
    srlm_model_config c;
    srlm_model_config_defaults(&c, SRLM_ARCH_QWEN2);
    c.hidden_size = 16; c.num_hidden_layers = 2; c.num_attention_heads = 4; c.num_key_value_heads = 2;
    c.head_dim = 4; c.intermediate_size = 24; c.vocab_size = 40; c.tie_word_embeddings = true;
    mkdir(out, 0755);
    char p[512];
    snprintf(p, sizeof p, "%s/config.json", out);
    SRLM_TRY(srlm_model_config_write(&c, p));
    size_t n = srlm_model_tensor_count(&c);
    srlm_tensor_spec *specs = calloc(n, sizeof *specs);
    srlm_st_write_tensor *ts = calloc(n, sizeof *ts);
    static float zeros[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        srlm_model_tensor_spec(&c, i, &specs[i]);
        if (skip && !strcmp(specs[i].name, skip)) continue;
        srlm_st_write_tensor *t = &ts[k++];
        t->name = specs[i].name;
        t->dtype = SRLM_DTYPE_F32;
        t->n_dims = specs[i].n_dims;
        t->shape[0] = specs[i].shape[0] + (wrong && !strcmp(wrong, specs[i].name));
        t->shape[1] = specs[i].shape[1];
        t->data = zeros;
    }
    srlm_status st = NULL;
    if (shards == 1) {
        snprintf(p, sizeof p, "%s/model.safetensors", out);
        st = srlm_safetensors_write(p, ts, k, NULL);
    } else {
        size_t half = k / 2;
        snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", out);
        st = srlm_safetensors_write(p, ts, half, NULL);
        snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", out);
        if (!st) st = srlm_safetensors_write(p, ts + half, k - half, NULL);
        char idx[16384];
        size_t at = (size_t)snprintf(idx, sizeof idx, "{\"metadata\":{\"total_size\":0},\"weight_map\":{");
        for (size_t i = 0; i < k; i++)
            at += (size_t)snprintf(idx + at, sizeof idx - at, "%s\"%s\":\"model-0000%d-of-00002.safetensors\"", i ? "," : "",
                                   ts[i].name, i < half ? 1 : 2);
        snprintf(idx + at, sizeof idx - at, "}}");
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", out);
        FILE *f = fopen(p, "w");
        if (f) { fputs(idx, f); fclose(f); }
    }
    free(specs);
    free(ts);
    return st;
}

static srlm_status open_folder(const char *p) {
    srlm_weights *w = NULL;
    srlm_status st = srlm_weights_open(p, &w);
    srlm_weights_destroy(w);
    return st;
}

static void test_folders(void) {
    char p[512];
    snprintf(p, sizeof p, "%s/ok", dir);
    CHECK_OK(write_folder(p, NULL, NULL, 1));
    CHECK_OK(open_folder(p));
    snprintf(p, sizeof p, "%s/sharded", dir);
    CHECK_OK(write_folder(p, NULL, NULL, 2));
    srlm_weights *w = NULL;
    CHECK_OK(srlm_weights_open(p, &w));
    if (w) {
        const srlm_weight *a = srlm_weights_at(w, 0), *z = srlm_weights_at(w, srlm_weights_count(w) - 1);
        CHECK(strstr(a->file, "00001") && strstr(z->file, "00002"), "tensors come from both shards (%s, %s)", a->file, z->file);
    }
    srlm_weights_destroy(w);
    snprintf(p, sizeof p, "%s/missing", dir);
    CHECK_OK(write_folder(p, "model.layers.1.mlp.up_proj.weight", NULL, 1));
    CHECK_ERR(open_folder(p), SRLM_ERR_NOT_FOUND, "tensor 'model.layers.1.mlp.up_proj.weight' (shape [24, 16]) is missing");
    snprintf(p, sizeof p, "%s/wrong", dir);
    CHECK_OK(write_folder(p, NULL, "model.layers.0.self_attn.k_proj.weight", 1));
    CHECK_ERR(open_folder(p), SRLM_ERR_FORMAT, "tensor 'model.layers.0.self_attn.k_proj.weight' has shape [9, 16] but the config implies [8, 16]");
    snprintf(p, sizeof p, "%s/wrong/config.json", dir);
    FILE *f = fopen(p, "w");
    if (f) { fputs("{\"architectures\":[\"GPT2LMHeadModel\"]}", f); fclose(f); }
    snprintf(p, sizeof p, "%s/wrong", dir);
    CHECK_ERR(open_folder(p), SRLM_ERR_UNSUPPORTED, "config.json: unknown architecture 'GPT2LMHeadModel'");
    snprintf(p, sizeof p, "%s/ok/model.safetensors", dir);
    remove(p);
    snprintf(p, sizeof p, "%s/ok", dir);
    CHECK_ERR(open_folder(p), SRLM_ERR_NOT_FOUND, "no model.safetensors");
    snprintf(p, sizeof p, "%s/empty", dir);
    mkdir(p, 0755);
    CHECK_ERR(open_folder(p), SRLM_ERR_NOT_FOUND, "no config.json");
    CHECK_ERR(open_folder("/nonexistent/model"), SRLM_ERR_IO, "/nonexistent/model");
    snprintf(p, sizeof p, "%s/sharded/model-00002-of-00002.safetensors", dir);
    remove(p);
    snprintf(p, sizeof p, "%s/sharded", dir);
    CHECK_ERR(open_folder(p), SRLM_ERR_IO, "model-00002-of-00002.safetensors");
}

/* Writes a copy of a corpus GGUF with one byte string replaced (same length) and opens it. */
#define EDIT(seed, from, to) open_edited_gguf(seed, from, to, sizeof(from) - 1)
static srlm_status open_edited_gguf(const char *seed, const char *from, const char *to, size_t flen) {
    char p[1024];
    const char *root = getenv("SRLM_SOURCE_ROOT");
    snprintf(p, sizeof p, "%s/tests/fuzz/corpus/gguf/%s", root && *root ? root : ".", seed);
    size_t n = 0;
    uint8_t *b = bb_read_file(p, &n);
    if (!b) return srlm_errorf(SRLM_ERR_IO, "test bug: cannot read %s", p);
    if (from) {
        uint8_t *at = memmem(b, n, from, flen);
        if (!at) { free(b); return srlm_errorf(SRLM_ERR_INVALID, "test bug: '%s' not in %s", from, seed); }
        memcpy(at, to, flen);
    }
    snprintf(p, sizeof p, "%s/edited.gguf", dir);
    bb_write_file(p, b, n);
    free(b);
    return open_folder(p);
}

static void test_gguf_models(void) {
    CHECK_OK(open_edited_gguf("tiny_llama_model", NULL, NULL, 0));
    CHECK_OK(open_edited_gguf("tiny_qwen2_model", NULL, NULL, 0));
    char p[1024];
    snprintf(p, sizeof p, "%s/edited.gguf", dir);
    srlm_weights *w = NULL;
    CHECK_OK(srlm_weights_open(p, &w));
    if (w) {
        const srlm_model_config *c = srlm_weights_config(w);
        CHECK(c->arch == SRLM_ARCH_QWEN2 && c->attention_bias && c->tie_word_embeddings && c->rope_layout == SRLM_ROPE_ROTATE_HALF &&
              c->rope_theta == 1e6 && c->max_position_embeddings == 128 && srlm_weights_count(w) == 1 + 12 + 1,
              "qwen2 GGUF: bias, tied, rotate-half");
        const srlm_weight *b = srlm_weights_find(w, "model.layers.0.self_attn.k_proj.bias");
        CHECK(b && b->n_dims == 1 && b->shape[0] == 4 && !strcmp(b->file_name, "blk.0.attn_k.bias"), "k bias mapped");
    }
    srlm_weights_destroy(w);
    CHECK_ERR(EDIT("tiny_llama_model", "llama", "gpt2x"),
              SRLM_ERR_UNSUPPORTED, "edited.gguf: unknown architecture 'gpt2x'");
    CHECK_ERR(EDIT("tiny_llama_model", "blk.0.ffn_up.weight", "blk.0.ffn_xx.weight"), SRLM_ERR_NOT_FOUND,
              "tensor 'blk.0.ffn_up.weight' (model.layers.0.mlp.up_proj.weight, shape [16, 8]) is missing");
    CHECK_ERR(EDIT("tiny_llama_model", "feed_forward_length\x04\0\0\0\x10", "feed_forward_length\x04\0\0\0\x20"),
              SRLM_ERR_FORMAT, "tensor 'model.layers.0.mlp.gate_proj.weight' (blk.0.ffn_gate.weight) has shape [16, 8] but the config implies [32, 8]");
    CHECK_ERR(open_edited_gguf("truncated_model", NULL, NULL, 0), SRLM_ERR_FORMAT, "edited.gguf: tensor 'blk.0.ffn_down.weight'");
    CHECK_ERR(open_edited_gguf("version1", NULL, NULL, 0), SRLM_ERR_UNSUPPORTED, "GGUF version 1");
    CHECK_ERR(EDIT("tiny_llama_model", "GGUF", "GGUG"), SRLM_ERR_FORMAT, "not a GGUF file");
}

int main(void) {
    if (!tmpdir_make(dir, sizeof dir, "weights")) { fprintf(stderr, "mkdtemp failed\n"); return 1; }
    test_config();
    test_names();
    test_stories();
    test_folders();
    test_gguf_models();
    tmpdir_remove(dir);
    return test_finish("test_weights");
}
