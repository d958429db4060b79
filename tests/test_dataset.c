/* test_dataset.c: the training-data loader: chat / prompt-completion / text / .txt samples and
 * their loss tokens, errors naming file and line, truncation counted, padding and packing
 * (shift, segments, positions), seeded shuffling per epoch, the evaluation split, and resume
 * from a cursor. Byte-level tokenizer written by the test; the Qwen tokenizer of ../shared/data
 * when present (chat boundaries against whole-text encoding). */
#include "test.h"
#include "train/dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/srlm_test_dataset_XXXXXX";

static const char *tmp(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static srlm_data_options opts(int seq_len, int batch) {
    srlm_data_options o;
    srlm_data_options_default(&o);
    o.seq_len = seq_len;
    o.batch = batch;
    o.seed = 17;
    return o;
}

/* Decodes the loss tokens of a sample run by run, joined with '|'. */
static char *loss_text(const srlm_tokenizer *tok, srlm_sample s) {
    static char out[4096];
    out[0] = 0;
    for (int i = 0; i < s.n;) {
        if (!s.loss[i]) { i++; continue; }
        int j = i;
        while (j < s.n && s.loss[j]) j++;
        char *t = NULL;
        CHECK_OK(srlm_tokenizer_decode(tok, s.ids + i, (size_t)(j - i), 0, &t, NULL));
        if (t) {
            if (out[0]) strncat(out, "|", sizeof out - strlen(out) - 1);
            strncat(out, t, sizeof out - strlen(out) - 1);
        }
        free(t);
        i = j;
    }
    return out;
}

static const char *CHAT =
    "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi there\"},"
    "{\"role\":\"assistant\",\"content\":\"Hello!\"},{\"role\":\"user\",\"content\":\"2+2?\"},"
    "{\"role\":\"assistant\",\"content\":\" 4, of course\\n\"}]}\n";

static void test_kinds(const srlm_tokenizer *tok, const char *label) {
    const char *p = tmp("kinds.jsonl");
    char text[2048];
    snprintf(text, sizeof text, "%s\n  \n{\"prompt\":\"Q: 1+1=\",\"completion\":\" 2\"}\n{\"text\":\"plain text\"}\n",
             CHAT);
    write_file(p, text);
    srlm_data_options o = opts(512, 1);
    srlm_dataset *ds = NULL;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (!ds) return;
    CHECK(srlm_dataset_count(ds, SRLM_SPLIT_TRAIN) == 3, "%s: %zu samples", label, srlm_dataset_count(ds, 0));
    int32_t eos = srlm_tokenizer_eos(tok);
    if (eos < 0) CHECK_OK(srlm_tokenizer_find(tok, "<|endoftext|>", &eos));

    /* chat: loss exactly on each assistant content plus its <|im_end|> */
    srlm_sample s = srlm_dataset_sample(ds, 0, 0);
    const char *lt = loss_text(tok, s);
    CHECK(!strcmp(lt, "Hello!<|im_end|>| 4, of course\n<|im_end|>"), "%s: chat loss text '%s'", label, lt);
    CHECK(s.line == 1, "line %d", s.line);
    /* the ids decode to the rendered conversation */
    srlm_chat_message m[] = {{"system", "Be brief."}, {"user", "Hi there"}, {"assistant", "Hello!"},
                             {"user", "2+2?"}, {"assistant", " 4, of course\n"}};
    char *full = NULL, *dec = NULL;
    CHECK_OK(srlm_chat_render(tok, m, 5, 0, &full));
    CHECK_OK(srlm_tokenizer_decode(tok, s.ids, (size_t)s.n, 0, &dec, NULL));
    CHECK(full && dec && !strcmp(full, dec), "%s: chat ids decode to\n%s\nnot\n%s", label, dec, full);
    /* the answer span (MEAP SFT) is the last assistant turn */
    char *ans = NULL;
    CHECK_OK(srlm_tokenizer_decode(tok, s.ids + s.P, (size_t)s.A, 0, &ans, NULL));
    CHECK(ans && !strcmp(ans, " 4, of course\n<|im_end|>"), "%s: answer span '%s'", label, ans);
    /* piecewise tokenisation agrees with encoding the whole text here (the content starts
     * after the header's newline, so the pre-tokenizer splits there anyway) */
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_OK(srlm_tokenizer_encode(tok, full, strlen(full), SRLM_ENCODE_SPECIAL, &ids, &n));
    CHECK(n == (size_t)s.n && !memcmp(ids, s.ids, n * sizeof *ids), "%s: ids differ from whole-text encoding (%zu vs %d)",
          label, n, s.n);
    printf("%s: chat sample %d tokens, loss on '%s'\n", label, s.n, lt);
    free(ids);
    free(full);
    free(dec);
    free(ans);

    /* prompt/completion: loss on the completion and the appended EOS */
    s = srlm_dataset_sample(ds, 0, 1);
    lt = loss_text(tok, s);
    CHECK(s.line == 4 && s.ids[s.n - 1] == eos && s.loss[s.n - 1], "%s: completion ends with a loss EOS", label);
    CHECK(!strncmp(lt, " 2", 2) && s.P + s.A == s.n, "%s: completion loss '%s'", label, lt);
    for (int i = 0; i < s.P; i++) CHECK(!s.loss[i], "prompt token %d has loss", i);

    /* text: every token, EOS appended */
    s = srlm_dataset_sample(ds, 0, 2);
    int all = 1;
    for (int i = 0; i < s.n; i++) all &= s.loss[i];
    CHECK(all && s.ids[s.n - 1] == eos && s.line == 5, "%s: text sample", label);
    srlm_dataset_destroy(ds);
}

static void test_errors(const srlm_tokenizer *tok) {
    srlm_data_options o = opts(64, 2);
    srlm_dataset *ds = NULL;
    const char *p = tmp("bad.jsonl");
    write_file(p, "{\"text\":\"a\"}\n{\"text\":\"b\"}\n{\"text\": \"c\",\n{\"text\":\"d\"}\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_FORMAT, "bad.jsonl:3: malformed JSON");
    write_file(p, "{\"text\":\"a\"}\n\n{\"txt\":\"b\"}\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_FORMAT, "bad.jsonl:3: expected \"messages\"");
    write_file(p, "{\"prompt\":\"a\"}\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_FORMAT, "bad.jsonl:1: \"prompt\" and \"completion\"");
    write_file(p, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_FORMAT, "bad.jsonl:1: the conversation has no assistant");
    write_file(p, "{\"text\":\"a\"}\n{\"messages\":[{\"role\":\"user\"}]}\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_FORMAT, "bad.jsonl:2: message 0");
    write_file(p, "[1,2]\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_FORMAT, "bad.jsonl:1:");
    write_file(p, "{\"text\":\"bad \\udc00 surrogate\"}\n");
    srlm_status st = srlm_dataset_open(tok, p, &o, &ds);
    CHECK(st == NULL || strstr(srlm_status_msg(st), "bad.jsonl:1"), "ill-formed text: %s", srlm_status_msg(st));
    srlm_status_free(st);
    srlm_dataset_destroy(ds);
    ds = NULL;
    write_file(p, "");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_INVALID, "empty dataset");
    write_file(p, "\n  \n\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_INVALID, "empty dataset");
    CHECK_ERR(srlm_dataset_open(tok, tmp("missing.jsonl"), &o, &ds), SRLM_ERR_IO, "missing.jsonl");
    write_file(p, "{\"text\":\"a\"}\n");
    o.eval_fraction = 0.5;
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_INVALID, "leaves no training samples");
    CHECK(ds == NULL, "dataset returned on error");
}

static void test_truncation(const srlm_tokenizer *tok) {
    const char *p = tmp("long.jsonl");
    write_file(p, "{\"text\":\"0123456789abcdefghijklmnopqrstuvwxyz\"}\n{\"text\":\"short\"}\n"
                  "{\"prompt\":\"a very long prompt that fills everything\",\"completion\":\"x\"}\n");
    srlm_data_options o = opts(16, 4);
    srlm_dataset *ds = NULL;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (!ds) return;
    srlm_data_stats st;
    srlm_dataset_stats(ds, &st);
    /* byte-level: 36 + EOS = 37 tokens -> 16 (21 cut); prompt 40 + 1 + EOS = 42 -> 16 (26 cut) */
    CHECK(st.truncated == 2 && st.truncated_tokens == 21 + 26 && st.no_loss == 1 && st.train_samples == 3,
          "truncated %zu (%zu tokens), no-loss %zu, samples %zu", st.truncated, st.truncated_tokens, st.no_loss,
          st.train_samples);
    CHECK(srlm_dataset_sample(ds, 0, 0).n == 16, "kept the first 16 tokens");
    printf("truncation: %zu samples cut to 16 tokens (%zu tokens dropped), %zu left without loss, none dropped\n",
           st.truncated, st.truncated_tokens, st.no_loss);
    srlm_dataset_destroy(ds);

    /* .txt: windows of seq_len, all loss */
    p = tmp("doc.txt");
    write_file(p, "A plain text file of fifty-odd bytes for pre-training.\n");
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (!ds) return;
    srlm_dataset_stats(ds, &st);
    size_t bytes = strlen("A plain text file of fifty-odd bytes for pre-training.\n") + 1;
    CHECK(st.txt_chunks == (bytes + 15) / 16 && st.train_tokens == bytes && st.truncated == 0 &&
          st.loss_tokens == bytes, ".txt: %zu chunks, %zu tokens", st.txt_chunks, st.train_tokens);
    srlm_dataset_destroy(ds);
}

/* Samples "s00".."sNN" as text lines; returns the sample number a row segment starts with. */
static int sample_no(const int32_t *ids) { return (ids[1] - '0') * 10 + (ids[2] - '0'); }

static void make_numbered(const char *p, int n) {
    FILE *f = fopen(p, "w");
    CHECK(f != NULL, "write %s", p);
    if (!f) return;
    for (int i = 0; i < n; i++) fprintf(f, "{\"text\":\"s%02d%.*s\"}\n", i, i % 7, "xxxxxxx");
    fclose(f);
}

static void test_batches(const srlm_tokenizer *tok) {
    const char *p = tmp("num.jsonl");
    make_numbered(p, 20);
    srlm_data_options o = opts(32, 3);
    srlm_dataset *ds = NULL;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (!ds) return;
    srlm_batch b = {0};
    int last = 0, seen[2][20] = {{0}}, order[2][20], no = 0, bad = 0, batches = 0;
    for (int e = 0; e < 2; e++) {
        no = 0;
        do {
            CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
            batches++;
            for (int r = 0; r < b.B; r++) {
                const int32_t *ids = b.ids + (size_t)r * b.T, *seg = b.seg + (size_t)r * b.T;
                const float *w = b.weights + (size_t)r * b.T;
                if (r >= b.rows) {
                    for (int t = 0; t < b.T; t++) bad += seg[t] != -1 || w[t] != 0;
                    continue;
                }
                int k = sample_no(ids);
                int len = 4 + k % 7;
                seen[e][k]++;
                if (no < 20) order[e][no++] = k;
                for (int t = 0; t < b.T; t++) {
                    if (t < len - 1) bad += ids[t + 1] != b.targets[(size_t)r * b.T + t] || w[t] != 1 || seg[t] != 0 ||
                                          b.pos[(size_t)r * b.T + t] != t;
                    else if (t == len - 1) bad += w[t] != 0 || seg[t] != 0; /* the last token predicts nothing */
                    else bad += w[t] != 0 || seg[t] != -1;                  /* padding */
                }
            }
        } while (!last);
    }
    CHECK(bad == 0, "padding batches: %d wrong entries", bad);
    CHECK(batches == 14, "20 samples, batch 3: 7 batches per epoch, got %d in 2 epochs", batches);
    for (int e = 0; e < 2; e++)
        for (int k = 0; k < 20; k++) CHECK(seen[e][k] == 1, "epoch %d: sample %d seen %d times", e, k, seen[e][k]);
    CHECK(memcmp(order[0], order[1], sizeof order[0]) != 0, "epoch 1 repeats epoch 0's order");
    int sorted = 1;
    for (int i = 1; i < 20; i++) sorted &= order[0][i] > order[0][i - 1];
    CHECK(!sorted, "epoch 0 not shuffled");
    printf("padding: 2 epochs of 20 samples in batches of 3, each sample once per epoch, orders differ\n");
    srlm_dataset_destroy(ds);

    /* same seed, same order; another seed, another */
    int first[3];
    for (int v = 0; v < 3; v++) {
        o.seed = v < 2 ? 17 : 18;
        CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
        if (!ds) return;
        CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
        first[v] = sample_no(b.ids) * 10000 + sample_no(b.ids + b.T) * 100 + sample_no(b.ids + 2 * b.T);
        srlm_dataset_destroy(ds);
    }
    CHECK(first[0] == first[1] && first[0] != first[2], "seeded order: %d %d %d", first[0], first[1], first[2]);

    /* packing: segments, positions restarting, no loss across boundaries, every sample once */
    o = opts(32, 2);
    o.pack = 1;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (!ds) return;
    int seen1[20] = {0}, rows = 0, segs = 0;
    bad = 0;
    do {
        CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
        CHECK(b.T == 32, "packed T %d", b.T);
        for (int r = 0; r < b.rows; r++, rows++) {
            const int32_t *ids = b.ids + (size_t)r * b.T, *seg = b.seg + (size_t)r * b.T, *pos = b.pos + (size_t)r * b.T;
            const float *w = b.weights + (size_t)r * b.T;
            for (int t = 0; t < b.T && seg[t] >= 0;) {
                int s = seg[t], k = sample_no(ids + t), len = 4 + k % 7;
                seen1[k]++;
                segs++;
                for (int i = 0; i < len; i++) {
                    /* the sample id names the sample these tokens are, pos the offset in it */
                    int32_t si = b.sample[(size_t)r * b.T + t + i];
                    bad += si < 0 || si >= 20 || srlm_dataset_sample(ds, SRLM_SPLIT_TRAIN, (size_t)si).ids[i] != ids[t + i];
                    bad += seg[t + i] != s || pos[t + i] != i;
                    bad += w[t + i] != (i < len - 1 ? 1.0f : 0.0f);
                    if (i < len - 1) bad += b.targets[(size_t)r * b.T + t + i] != ids[t + i + 1];
                }
                t += len;
                if (t < b.T && seg[t] >= 0) bad += seg[t] != s + 1;
            }
        }
    } while (!last);
    CHECK(bad == 0, "packing: %d wrong entries (segments, positions, weights, targets, sample ids)", bad);
    for (int k = 0; k < 20; k++) CHECK(seen1[k] == 1, "packed: sample %d seen %d times", k, seen1[k]);
    CHECK(rows < 20, "packing used %d rows for 20 samples", rows);
    printf("packing: 20 samples in %d rows of 32 tokens, %d segments\n", rows, segs);
    srlm_dataset_destroy(ds);
    srlm_batch_free(&b);
}

static void test_eval(const srlm_tokenizer *tok) {
    const char *p = tmp("num.jsonl");
    make_numbered(p, 20);
    srlm_data_options o = opts(32, 4);
    o.eval_fraction = 0.25;
    srlm_dataset *ds = NULL;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (!ds) return;
    srlm_data_stats st;
    srlm_dataset_stats(ds, &st);
    CHECK(st.train_samples == 15 && st.eval_samples == 5, "split %zu/%zu", st.train_samples, st.eval_samples);
    int in_eval[20] = {0}, prev = -1, bad = 0;
    for (size_t i = 0; i < 5; i++) {
        int k = sample_no(srlm_dataset_sample(ds, SRLM_SPLIT_EVAL, i).ids);
        in_eval[k] = 1;
        bad += k <= prev; /* file order */
        prev = k;
    }
    for (size_t i = 0; i < 15; i++) bad += in_eval[sample_no(srlm_dataset_sample(ds, SRLM_SPLIT_TRAIN, i).ids)];
    CHECK(bad == 0, "eval split overlaps train or is out of order");
    srlm_batch b = {0};
    int last = 0, n = 0, passes = 0;
    for (int it = 0; it < 4; it++) {
        CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_EVAL, &b, &last));
        n += b.rows;
        for (int r = 0; r < b.B; r++) { /* eval sample ids follow the 15 train ones */
            int32_t si = b.sample[(size_t)r * b.T];
            if (r >= b.rows) bad += si != -1;
            else bad += si < 15 || si >= 20 || sample_no(srlm_dataset_sample(ds, SRLM_SPLIT_EVAL, (size_t)si - 15).ids) !=
                                                  sample_no(b.ids + (size_t)r * b.T);
        }
        if (last) passes++;
    }
    CHECK(n == 5 + 5 && passes == 2, "eval: 2 passes of 5 samples in batches of 4 gave %d rows, %d passes", n, passes);
    CHECK(bad == 0, "eval batches: %d wrong sample ids", bad);
    srlm_dataset_destroy(ds);

    /* a separate eval file */
    const char *pe = tmp("eval.jsonl");
    write_file(pe, "{\"text\":\"held out one\"}\n{\"text\":\"held out two\"}\n");
    o.eval_fraction = 0;
    o.eval_path = pe;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &ds));
    if (ds) {
        srlm_dataset_stats(ds, &st);
        CHECK(st.train_samples == 20 && st.eval_samples == 2, "eval file: %zu/%zu", st.train_samples, st.eval_samples);
        CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_EVAL, &b, &last));
        CHECK(b.rows == 2 && last && b.ids[0] == 'h', "eval file batch");
        srlm_dataset_destroy(ds);
    }
    write_file(pe, "\n");
    CHECK_ERR(srlm_dataset_open(tok, p, &o, &ds), SRLM_ERR_INVALID, "empty evaluation dataset");
    srlm_batch_free(&b);
}

/* Resume: a dataset restored from the cursor after k batches yields the same batches as the
 * uninterrupted one, across an epoch boundary, with MEAP separate copies splitting pairs. */
static void test_resume(const srlm_tokenizer *tok) {
    const char *p = tmp("resume.jsonl");
    FILE *f = fopen(p, "w");
    if (!f) return;
    for (int i = 0; i < 7; i++)
        fprintf(f, "{\"prompt\":\"q%d \",\"completion\":\"%.*s\"}\n", i, 20 + 15 * i,
                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
    fclose(f);
    srlm_data_options o = opts(256, 3);
    o.meap = SRLM_MEAP_SFT;
    o.mask_id = 259;
    int mismatches = 0, checked = 0;
    for (int k = 1; k <= 9; k++) {
        srlm_dataset *a = NULL, *r = NULL;
        CHECK_OK(srlm_dataset_open(tok, p, &o, &a));
        CHECK_OK(srlm_dataset_open(tok, p, &o, &r));
        if (!a || !r) { srlm_dataset_destroy(a); srlm_dataset_destroy(r); return; }
        srlm_batch ba = {0}, br = {0};
        int last;
        for (int i = 0; i < k; i++) CHECK_OK(srlm_dataset_next_batch(a, SRLM_SPLIT_TRAIN, &ba, &last));
        srlm_data_cursor c = srlm_dataset_cursor(a);
        CHECK_OK(srlm_dataset_seek(r, c));
        for (int i = 0; i < 4; i++) {
            CHECK_OK(srlm_dataset_next_batch(a, SRLM_SPLIT_TRAIN, &ba, &last));
            CHECK_OK(srlm_dataset_next_batch(r, SRLM_SPLIT_TRAIN, &br, &last));
            size_t n = (size_t)ba.B * (size_t)ba.T;
            checked++;
            if (ba.T != br.T || ba.rows != br.rows || memcmp(ba.ids, br.ids, n * 4) || memcmp(ba.targets, br.targets, n * 4) ||
                memcmp(ba.weights, br.weights, n * 4) || memcmp(ba.seg, br.seg, n * 4))
                mismatches++;
        }
        if (k == 9) printf("resume: cursor after 9 batches = epoch %llu index %llu part %llu\n",
                           (unsigned long long)c.epoch, (unsigned long long)c.index, (unsigned long long)c.part);
        srlm_batch_free(&ba);
        srlm_batch_free(&br);
        srlm_dataset_destroy(a);
        srlm_dataset_destroy(r);
    }
    CHECK(mismatches == 0, "resume: %d of %d batches differ", mismatches, checked);
    srlm_dataset *a = NULL;
    CHECK_OK(srlm_dataset_open(tok, p, &o, &a));
    srlm_data_cursor bad = {0, 99, 0};
    if (a) CHECK_ERR(srlm_dataset_seek(a, bad), SRLM_ERR_INVALID, "outside");
    srlm_dataset_destroy(a);
}

static void test_qwen(void) {
    const char *sd = test_shared_data();
    char path[512];
    snprintf(path, sizeof path, "%s/qwen-tokenizer", sd ? sd : "");
    if (!sd || access(path, R_OK) != 0) {
        printf("SKIP qwen part: no ../shared/data/qwen-tokenizer\n");
        return;
    }
    srlm_tokenizer *tok = NULL;
    CHECK_OK(srlm_tokenizer_create(path, &tok));
    if (tok) test_kinds(tok, "qwen");
    srlm_tokenizer_destroy(tok);
}

int main(void) {
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    srlm_tokenizer *tok = NULL;
    CHECK_OK(srlm_tokenizer_write_byte_level(tmp("tokenizer.json")));
    CHECK_OK(srlm_tokenizer_create(tmp("tokenizer.json"), &tok));
    if (tok) {
        test_kinds(tok, "byte-level");
        test_errors(tok);
        test_truncation(tok);
        test_batches(tok);
        test_eval(tok);
        test_resume(tok);
    }
    srlm_tokenizer_destroy(tok);
    test_qwen();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_dataset");
}
