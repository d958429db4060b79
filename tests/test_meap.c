/* test_meap.c: MEAP index rules (issue 4, docs/papers.md §2) on constructed examples:
 * counts, spans, the last position never masked, prompt untouched, loss only at p-1 for the
 * chosen p in the SFT copy, targets the ORIGINAL tokens, no copy for A <= 50, determinism,
 * and the separate / concat layouts through the dataset batches. */
#include "test.h"
#include "train/dataset.h"
#include "train/meap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MASK 9999

static void fill(int32_t *x, int L, unsigned long long *s) {
    for (int i = 0; i < L; i++) x[i] = (int32_t)(test_rand_u64(s) % 1000);
}

static void test_pretrain(void) {
    static const int lens[] = {2, 3, 7, 10, 20, 33, 100, 257};
    unsigned long long rs = 7;
    int32_t x[300], in[300], tgt[300], in2[300], tgt2[300];
    float w[300], w2[300];
    int bad = 0, hits_last_eligible = 0, trials = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int L = lens[li];
        int expect = (int)floor(L * 0.15 + 1e-9);
        if (expect < 1) expect = 1;
        for (uint64_t seq = 0; seq < 40; seq++) {
            fill(x, L, &rs);
            int n = -1;
            CHECK_OK(srlm_meap_pretrain(in, tgt, w, &n, x, L, 0.15f, MASK, 1234, seq, 3));
            int masked = 0;
            for (int i = 0; i < L; i++) {
                if (in[i] == MASK) masked++;
                else if (in[i] != x[i]) bad++;
                if (i < L - 1 && (tgt[i] != x[i + 1] || w[i] != 1.0f)) bad++;
            }
            if (in[L - 1] == MASK) bad++;             /* never the last position */
            if (w[L - 1] != 0.0f) bad++;
            if (masked != expect || n != expect) bad++; /* count, and distinct positions */
            hits_last_eligible += in[L - 2] == MASK;
            trials++;
            /* determinism; another epoch draws another pattern (for long sequences) */
            CHECK_OK(srlm_meap_pretrain(in2, tgt2, w2, NULL, x, L, 0.15f, MASK, 1234, seq, 3));
            if (memcmp(in, in2, sizeof(int32_t) * (size_t)L) || memcmp(tgt, tgt2, sizeof(int32_t) * (size_t)L)) bad++;
            if (L >= 100) {
                CHECK_OK(srlm_meap_pretrain(in2, tgt2, w2, NULL, x, L, 0.15f, MASK, 1234, seq, 4));
                CHECK(memcmp(in, in2, sizeof(int32_t) * (size_t)L) != 0, "epoch 4 repeats epoch 3's mask (L=%d)", L);
                CHECK_OK(srlm_meap_pretrain(in2, tgt2, w2, NULL, x, L, 0.15f, MASK, 1234, seq + 1000, 3));
                CHECK(memcmp(in, in2, sizeof(int32_t) * (size_t)L) != 0, "sequence index does not change the mask");
            }
        }
    }
    CHECK(bad == 0, "%d violations of the pre-training rules", bad);
    CHECK(hits_last_eligible > 0, "position L-2 never drawn in %d trials", trials);
    printf("pretrain: %d sequences, counts max(1, floor(0.15 L)), L-1 never masked, L-2 masked %d times\n", trials,
           hits_last_eligible);

    /* L = 2: the only eligible position is 0 */
    int32_t x2[2] = {5, 6};
    int n = 0;
    CHECK_OK(srlm_meap_pretrain(in, tgt, w, &n, x2, 2, 0.15f, MASK, 1, 0, 0));
    CHECK(n == 1 && in[0] == MASK && in[1] == 6 && tgt[0] == 6 && w[0] == 1 && w[1] == 0, "L=2 case");
    CHECK_ERR(srlm_meap_pretrain(in, tgt, w, &n, x2, 1, 0.15f, MASK, 1, 0, 0), SRLM_ERR_INVALID, "need >= 2");
    CHECK_ERR(srlm_meap_pretrain(in, tgt, w, &n, x2, 2, 1.5f, MASK, 1, 0, 0), SRLM_ERR_INVALID, "ratio");

    /* uniform over 0..L-2: each of 9 positions of L = 10 (n = 1) about 1/9 of 9000 draws */
    int cnt[10] = {0};
    int32_t x10[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (uint64_t s = 0; s < 9000; s++) {
        CHECK_OK(srlm_meap_pretrain(in, tgt, w, NULL, x10, 10, 0.15f, MASK, 77, s, 0));
        for (int i = 0; i < 10; i++) cnt[i] += in[i] == MASK;
    }
    int lo = 9000, hi = 0;
    for (int i = 0; i < 9; i++) { lo = cnt[i] < lo ? cnt[i] : lo; hi = cnt[i] > hi ? cnt[i] : hi; }
    CHECK(cnt[9] == 0 && lo > 850 && hi < 1150, "position counts %d..%d (expect ~1000), last %d", lo, hi, cnt[9]);
    printf("pretrain: L=10 one mask per draw, positions 0..8 chosen %d..%d times of 9000, position 9 %d\n", lo, hi,
           cnt[9]);

    /* ratio written as a decimal: 0.7f is 0.69999999 but floor(10 * 0.7) is 7 */
    CHECK_OK(srlm_meap_pretrain(in, tgt, w, &n, x10, 10, 0.7f, MASK, 1, 0, 0));
    CHECK(n == 7, "floor(10 * 0.7) gave %d", n);
}

static void test_sft(void) {
    unsigned long long rs = 11;
    int32_t x[400], in[400], tgt[400], in2[400], tgt2[400];
    float w[400], w2[400];
    int made, n, bad = 0, trials = 0, last_hit = 0;
    static const int shapes[][3] = {/* L, P, A */ {61, 10, 51}, {80, 20, 60}, {120, 7, 113}, {300, 100, 199},
                                    {70, 0, 70}, {90, 15, 60}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        int L = shapes[k][0], P = shapes[k][1], A = shapes[k][2];
        int expect = (int)floor(A * 0.10 + 1e-9);
        if (expect < 1) expect = 1;
        int lo = P > 0 ? P : 1;
        for (uint64_t seq = 0; seq < 50; seq++, trials++) {
            fill(x, L, &rs);
            CHECK_OK(srlm_meap_sft_copy(in, tgt, w, &made, &n, x, L, P, A, 0.10f, MASK, 42, seq, 1));
            if (!made || n != expect) { bad++; continue; }
            int masked = 0, loss = 0;
            for (int i = 0; i < L; i++) {
                if (in[i] == MASK) {
                    masked++;
                    if (i < lo || i >= P + A) bad++;      /* only inside the answer span */
                    if (i == 0 || w[i - 1] != 1.0f) bad++; /* its prediction carries loss */
                } else if (in[i] != x[i]) {
                    bad++;
                }
                if (w[i] != 0.0f) {
                    loss++;
                    if (i + 1 >= L || in[i + 1] != MASK) bad++; /* loss only where the next input is masked */
                }
                if (i + 1 < L && tgt[i] != x[i + 1]) bad++; /* targets are the original tokens */
            }
            for (int i = 0; i < P; i++) if (in[i] != x[i]) bad++; /* prompt untouched */
            if (masked != expect || loss != expect) bad++;
            last_hit += in[P + A - 1] == MASK;
            CHECK_OK(srlm_meap_sft_copy(in2, tgt2, w2, &made, &n, x, L, P, A, 0.10f, MASK, 42, seq, 1));
            if (memcmp(in, in2, sizeof(int32_t) * (size_t)L) || memcmp(w, w2, sizeof(float) * (size_t)L)) bad++;
        }
    }
    CHECK(bad == 0, "%d violations of the SFT copy rules", bad);
    CHECK(last_hit > 0, "the answer's last token was never masked in %d copies", trials);
    printf("sft: %d copies, n = max(1, floor(0.1 A)) in the answer span, loss only at p-1, last answer token masked "
           "%d times\n", trials, last_hit);

    /* A <= 50: no copy; A = 51: floor(5.1) = 5 */
    fill(x, 80, &rs);
    CHECK_OK(srlm_meap_sft_copy(in, tgt, w, &made, &n, x, 80, 20, 50, 0.10f, MASK, 1, 0, 0));
    CHECK(!made && n == 0, "A = 50 made a copy");
    CHECK_OK(srlm_meap_sft_copy(in, tgt, w, &made, &n, x, 80, 20, 51, 0.10f, MASK, 1, 0, 0));
    CHECK(made && n == 5, "A = 51: made %d n %d", made, n);
    /* a small ratio still masks one position */
    CHECK_OK(srlm_meap_sft_copy(in, tgt, w, &made, &n, x, 80, 20, 60, 0.01f, MASK, 1, 0, 0));
    CHECK(made && n == 1, "n = max(1, floor(0.6)) gave %d", n);
    CHECK_ERR(srlm_meap_sft_copy(in, tgt, w, &made, &n, x, 80, 40, 60, 0.1f, MASK, 1, 0, 0), SRLM_ERR_INVALID,
              "exceed");
}

/* ---- through the dataset: layouts and the mask id ---- */

static char dir[] = "/tmp/srlm_test_meap_XXXXXX";

static srlm_tokenizer *byte_tokenizer(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK_OK(srlm_tokenizer_write_byte_level(path));
    srlm_tokenizer *tok = NULL;
    CHECK_OK(srlm_tokenizer_create(path, &tok));
    return tok;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_layouts(srlm_tokenizer *tok) {
    char path[256];
    snprintf(path, sizeof path, "%s/sft.jsonl", dir);
    /* prompt 6 bytes; completion 60 bytes + EOS = A 61 > 50; second sample A = 11 */
    char line[512];
    char comp[61];
    for (int i = 0; i < 60; i++) comp[i] = (char)('a' + i % 26);
    comp[60] = 0;
    snprintf(line, sizeof line, "{\"prompt\":\"Q: hi\\n\",\"completion\":\"%s\"}\n{\"prompt\":\"Q: yo\\n\",\"completion\":\"short one.\"}\n", comp);
    write_file(path, line);

    srlm_data_options o;
    srlm_data_options_default(&o);
    o.seq_len = 256;
    o.batch = 4;
    o.seed = 5;
    o.meap = SRLM_MEAP_SFT;
    o.vocab_rows = 260; /* mask = the last row, 259 (<|mask|> of the byte-level tokenizer) */
    srlm_dataset *ds = NULL;
    CHECK_OK(srlm_dataset_open(tok, path, &o, &ds));
    if (!ds) return;
    srlm_sample s0 = srlm_dataset_sample(ds, SRLM_SPLIT_TRAIN, 0);
    CHECK(s0.P == 6 && s0.A == 61 && s0.n == 67, "sample 0: P %d A %d n %d", s0.P, s0.A, s0.n);
    srlm_batch b = {0};
    int last = 0;
    CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
    /* separate: three rows (long original, its copy, short one), in some order */
    CHECK(b.rows == 3 && last, "separate: %d rows, last %d", b.rows, last);
    int copies = 0, originals = 0;
    for (int r = 0; r < b.rows; r++) {
        const int32_t *ids = b.ids + (size_t)r * b.T;
        const float *w = b.weights + (size_t)r * b.T;
        int nm = 0, nl = 0;
        for (int t = 0; t < b.T; t++) { nm += ids[t] == 259; nl += w[t] != 0; }
        if (nm) {
            copies++;
            CHECK(nm == 6 && nl == 6, "copy: %d masks, %d loss terms (expect floor(6.1) = 6)", nm, nl);
            for (int t = 0; t < 6; t++) CHECK(ids[t] == s0.ids[t], "copy prompt changed at %d", t);
            for (int t = 0; t + 1 < s0.n; t++)
                if (w[t] != 0) CHECK(ids[t + 1] == 259 && b.targets[(size_t)r * b.T + t] == s0.ids[t + 1],
                                     "copy loss at %d not a masked original", t);
        } else if (ids[1] == s0.ids[1] && ids[3] == 'h') {
            originals++;
            CHECK(nl == 61, "original keeps its 61 answer loss terms, got %d", nl);
        }
    }
    CHECK(copies == 1 && originals == 1, "separate: %d copies %d originals", copies, originals);
    srlm_dataset_destroy(ds);

    /* concat: one row with the original (segment 0) then the copy (segment 1, positions from 0) */
    o.meap_concat = 1;
    CHECK_OK(srlm_dataset_open(tok, path, &o, &ds));
    if (!ds) { srlm_batch_free(&b); return; }
    CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
    CHECK(b.rows == 2 && b.T == 2 * 67, "concat: %d rows, T %d (expect 2, 134)", b.rows, b.T);
    int found = 0;
    for (int r = 0; r < b.rows; r++) {
        const int32_t *ids = b.ids + (size_t)r * b.T, *seg = b.seg + (size_t)r * b.T, *pos = b.pos + (size_t)r * b.T;
        const float *w = b.weights + (size_t)r * b.T;
        if (seg[b.T - 1] != 1) continue;
        found = 1;
        int nl0 = 0, nl1 = 0, nm0 = 0, nm1 = 0;
        for (int t = 0; t < 67; t++) {
            CHECK(seg[t] == 0 && pos[t] == t && seg[67 + t] == 1 && pos[67 + t] == t, "segments/positions at %d", t);
            nl0 += w[t] != 0; nl1 += w[67 + t] != 0;
            nm0 += ids[t] == 259; nm1 += ids[67 + t] == 259;
        }
        CHECK(w[66] == 0, "the original's last token predicts across the segment boundary");
        CHECK(nl0 == 61 && nm0 == 0 && nl1 == 6 && nm1 == 6, "concat: original %d loss %d masks, copy %d loss %d masks",
              nl0, nm0, nl1, nm1);
    }
    CHECK(found, "no concat row");
    srlm_data_stats st;
    srlm_dataset_stats(ds, &st);
    CHECK(st.meap_copies == 1 && st.concat_split == 0, "copies %zu split %zu", st.meap_copies, st.concat_split);
    srlm_dataset_destroy(ds);

    /* concat longer than seq_len: emitted as two rows and counted */
    o.seq_len = 100;
    CHECK_OK(srlm_dataset_open(tok, path, &o, &ds));
    if (ds) {
        CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
        srlm_dataset_stats(ds, &st);
        CHECK(b.rows == 3 && st.concat_split == 1, "concat over seq_len: %d rows, %zu split", b.rows, st.concat_split);
        srlm_dataset_destroy(ds);
    }

    /* MEAP without a mask id or vocabulary size is refused */
    o.vocab_rows = 0;
    o.mask_id = -1;
    CHECK_ERR(srlm_dataset_open(tok, path, &o, &ds), SRLM_ERR_INVALID, "mask");

    /* pre-training mode through the dataset: every row masked, loss on every position but the last */
    snprintf(path, sizeof path, "%s/pt.jsonl", dir);
    write_file(path, "{\"text\":\"the quick brown fox jumps over the lazy dog\"}\n{\"text\":\"hello world\"}\n");
    srlm_data_options_default(&o);
    o.seq_len = 64;
    o.batch = 2;
    o.meap = SRLM_MEAP_PRETRAIN;
    o.mask_id = 259;
    CHECK_OK(srlm_dataset_open(tok, path, &o, &ds));
    if (ds) {
        CHECK_OK(srlm_dataset_next_batch(ds, SRLM_SPLIT_TRAIN, &b, &last));
        for (int r = 0; r < b.rows; r++) {
            int L = 0, nm = 0, nl = 0;
            for (int t = 0; t < b.T; t++) {
                L += b.seg[(size_t)r * b.T + t] == 0;
                nm += b.ids[(size_t)r * b.T + t] == 259;
                nl += b.weights[(size_t)r * b.T + t] != 0;
            }
            int expect = (int)floor(L * 0.15 + 1e-9);
            CHECK(nm == (expect < 1 ? 1 : expect) && nl == L - 1, "row %d: L %d masks %d loss %d", r, L, nm, nl);
        }
        srlm_dataset_destroy(ds);
    }
    srlm_batch_free(&b);
}

int main(void) {
    test_pretrain();
    test_sft();
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    srlm_tokenizer *tok = byte_tokenizer();
    if (tok) test_layouts(tok);
    srlm_tokenizer_destroy(tok);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_meap");
}
