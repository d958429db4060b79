/* test_tokenizer.c: the byte-level BPE (Qwen2.5 tokenizer.json) and SentencePiece (llama
 * GGUF vocabulary) tokenizers against llama.cpp's test vectors, round trips, streaming
 * decoding, bad input, added tokens and the ChatML renderer. It prints the encoding speed
 * for information only (speed targets live in docs/perf.md: `srlm bench tokenizer`);
 * `--min-mbps X` makes a speed floor fail the run when wanted by hand. */
#include "test.h"
#include "text/tokenizer.h" /* spm_no_split: the unsplit reference encoder */

#include <pthread.h>
#include <stdint.h>

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) { free(d); d = NULL; }
    fclose(f);
    if (d) { d[n] = '\0'; *len = (size_t)n; }
    return d;
}

/* Runs every case of a llama.cpp vocab test: .inp holds inputs each followed by a line
 * "__ggml_vocab_test__" (the newline before the marker is not part of the input); .out
 * holds one line per input of space-separated ids. */
static void run_vocab_tests(const srlm_tokenizer *tok, const char *inp_path, const char *out_path, int expect_cases) {
    size_t ilen, olen;
    char *inp = slurp(inp_path, &ilen), *outs = slurp(out_path, &olen);
    CHECK(inp && outs, "reading %s and %s", inp_path, out_path);
    if (!inp || !outs) { free(inp); free(outs); return; }
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t seplen = strlen(sep);
    char *p = inp, *o = outs;
    int cases = 0, ok_ids = 0, ok_round = 0;
    while (p < inp + ilen) {
        char *end = strstr(p, sep);
        CHECK(end != NULL, "case %d: no separator after the input", cases);
        if (!end) break;
        size_t n = (size_t)(end - p);
        char *eol = strchr(o, '\n');
        CHECK(eol != NULL, "case %d: .out has too few lines", cases);
        if (!eol) break;
        *eol = '\0';
        int32_t want[2048];
        size_t nwant = 0;
        for (char *q = o; *q;) {
            char *e;
            long v = strtol(q, &e, 10);
            if (e == q) break;
            if (nwant < 2048) want[nwant++] = (int32_t)v;
            q = e;
        }
        int32_t *ids = NULL;
        size_t nids = 0;
        CHECK_OK(srlm_tokenizer_encode(tok, p, n, 0, &ids, &nids));
        int same = ids && nids == nwant && (!nids || !memcmp(ids, want, nids * sizeof *ids));
        CHECK(same, "case %d (%.*s): got %zu ids, want %zu", cases, (int)(n > 40 ? 40 : n), p, nids, nwant);
        if (!same && ids) {
            fprintf(stderr, "  got: ");
            for (size_t i = 0; i < nids && i < 40; i++) fprintf(stderr, "%d ", ids[i]);
            fprintf(stderr, "\n  want: %s\n", o);
        }
        ok_ids += same;
        char *text = NULL;
        size_t tlen = 0;
        CHECK_OK(srlm_tokenizer_decode(tok, ids, nids, 0, &text, &tlen));
        int round = text && tlen == n && !memcmp(text, p, n);
        CHECK(round, "case %d: decode(encode(x)) != x ('%s')", cases, text ? text : "(null)");
        ok_round += round;
        free(text);
        free(ids);
        cases++;
        p = end + seplen;
        o = eol + 1;
    }
    CHECK(cases == expect_cases, "%s: %d cases, expected %d", inp_path, cases, expect_cases);
    printf("  %s: %d cases, %d ids match, %d round trips\n", inp_path, cases, ok_ids, ok_round);
    free(inp);
    free(outs);
}

static void check_ids(const srlm_tokenizer *tok, const char *text, unsigned flags, const int32_t *want, size_t nwant) {
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_OK(srlm_tokenizer_encode(tok, text, strlen(text), flags, &ids, &n));
    int same = ids && n == nwant && !memcmp(ids, want, n * sizeof *ids);
    CHECK(same, "encode('%s'): %zu ids, want %zu", text, n, nwant);
    if (!same && ids) {
        fprintf(stderr, "  got:");
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    free(ids);
}

static int32_t find(const srlm_tokenizer *tok, const char *s) {
    int32_t id = -1;
    CHECK_OK(srlm_tokenizer_find(tok, s, &id));
    return id;
}

/* Streaming: every chunk is complete UTF-8 and the chunks add up to the text. */
static void test_stream(const srlm_tokenizer *tok) {
    const char *text = "Grüße, 世界! 🦙🦙 naïve café — ok";
    int32_t *ids;
    size_t n;
    CHECK_OK(srlm_tokenizer_encode(tok, text, strlen(text), 0, &ids, &n));
    char *empty = NULL;
    CHECK_OK(srlm_tokenizer_decode(tok, NULL, 0, 0, &empty, NULL));
    CHECK(empty && !empty[0], "decoding no ids gives an empty string");
    free(empty);
    srlm_detokenizer *d;
    CHECK_OK(srlm_detokenizer_create(tok, 0, &d));
    char acc[256] = "";
    size_t acclen = 0;
    int split_seen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        size_t plen;
        const char *piece = srlm_tokenizer_piece(tok, ids[i], &plen);
        CHECK_OK(srlm_detokenizer_push(d, ids[i], &s, &len));
        if (piece && len != plen) split_seen = 1;
        /* each chunk must be well-formed on its own */
        int32_t *tmp;
        size_t ntmp;
        srlm_status st = srlm_tokenizer_encode(tok, s, len, 0, &tmp, &ntmp);
        CHECK(st == NULL, "chunk %zu is not valid UTF-8: %s", i, srlm_status_msg(st));
        srlm_status_free(st);
        if (!st) free(tmp);
        memcpy(acc + acclen, s, len);
        acclen += len;
    }
    const char *s;
    size_t len;
    CHECK_OK(srlm_detokenizer_flush(d, &s, &len));
    CHECK(len == 0, "nothing left at the end");
    CHECK(acclen == strlen(text) && !memcmp(acc, text, acclen), "stream gives '%.*s'", (int)acclen, acc);
    CHECK(split_seen, "the test text should split a character across tokens");
    free(ids);

    /* Byte tokens one by one: the euro sign E2 82 AC comes out only when complete. */
    int32_t b[3] = {find(tok, "\xE2"), find(tok, "\x82"), find(tok, "\xAC")};
    srlm_detokenizer_reset(d);
    CHECK_OK(srlm_detokenizer_push(d, b[0], &s, &len));
    CHECK(len == 0, "E2 held back (%zu bytes out)", len);
    CHECK_OK(srlm_detokenizer_push(d, b[1], &s, &len));
    CHECK(len == 0, "E2 82 held back (%zu bytes out)", len);
    CHECK_OK(srlm_detokenizer_push(d, b[2], &s, &len));
    CHECK(len == 3 && !memcmp(s, "\xE2\x82\xAC", 3), "euro sign complete");
    /* A lone continuation byte becomes U+FFFD; an unfinished sequence at the end too. */
    CHECK_OK(srlm_detokenizer_push(d, b[1], &s, &len));
    CHECK(len == 3 && !memcmp(s, "\xEF\xBF\xBD", 3), "lone continuation -> U+FFFD");
    CHECK_OK(srlm_detokenizer_push(d, b[0], &s, &len));
    CHECK(len == 0, "E2 held back");
    CHECK_OK(srlm_detokenizer_push(d, find(tok, "a"), &s, &len));
    CHECK(len == 4 && !memcmp(s, "\xEF\xBF\xBD" "a", 4), "E2 then 'a' -> U+FFFD a (%zu)", len);
    CHECK_OK(srlm_detokenizer_push(d, b[0], &s, &len));
    CHECK_OK(srlm_detokenizer_flush(d, &s, &len));
    CHECK(len == 3 && !memcmp(s, "\xEF\xBF\xBD", 3), "unfinished at flush -> U+FFFD");
    CHECK_ERR(srlm_detokenizer_push(d, -5, &s, &len), SRLM_ERR_INVALID, "negative");
    srlm_detokenizer_destroy(d);
}

static void check_chat(const srlm_tokenizer *tok, const srlm_chat_message *m, size_t n, int gen, const char *want) {
    char *out = NULL;
    CHECK_OK(srlm_chat_render(tok, m, n, gen, &out));
    CHECK(out && !strcmp(out, want), "chat render:\n--- got ---\n%s\n--- want ---\n%s", out ? out : "(null)", want);
    free(out);
}

static void test_chat(const srlm_tokenizer *tok) {
    /* Expected strings derived by hand from chat_template_qwen2.5_instruct.jinja (no tools). */
    const char *sys = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n";
    char want[1024];
    srlm_chat_message one[] = {{"user", "Hello"}};
    snprintf(want, sizeof want, "%s<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", sys);
    check_chat(tok, one, 1, 1, want);
    snprintf(want, sizeof want, "%s<|im_start|>user\nHello<|im_end|>\n", sys);
    check_chat(tok, one, 1, 0, want);
    srlm_chat_message multi[] = {{"system", "Be brief."}, {"user", "2+2?"}, {"assistant", "4"},
                                 {"user", "And 3+3?"}, {"system", "Late note"}, {"assistant", ""}};
    check_chat(tok, multi, 6, 1,
               "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n"
               "<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n"
               "<|im_start|>system\nLate note<|im_end|>\n<|im_start|>assistant\n<|im_end|>\n"
               "<|im_start|>assistant\n");
    srlm_chat_message tools[] = {{"user", "q"}, {"tool", "r1"}, {"tool", "r2"}, {"assistant", "a"}};
    snprintf(want, sizeof want,
             "%s<|im_start|>user\nq<|im_end|>\n<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n"
             "<tool_response>\nr2\n</tool_response><|im_end|>\n<|im_start|>assistant\na<|im_end|>\n", sys);
    check_chat(tok, tools, 4, 0, want);
    srlm_chat_message bad[] = {{"robot", "x"}};
    char *out = NULL;
    CHECK_ERR(srlm_chat_render(tok, bad, 1, 1, &out), SRLM_ERR_INVALID, "robot");
    CHECK_ERR(srlm_chat_render(tok, one, 0, 1, &out), SRLM_ERR_INVALID, "no messages");

    /* The rendered prompt tokenises with the specials as single ids. Ids from Qwen2.5. */
    CHECK_OK(srlm_chat_render(tok, one, 1, 1, &out));
    static const int32_t chat_ids[] = {151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13,
                                       1446, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 9707, 151645,
                                       198, 151644, 77091, 198};
    if (out) check_ids(tok, out, SRLM_ENCODE_SPECIAL, chat_ids, sizeof chat_ids / sizeof chat_ids[0]);
    free(out);
}

static void test_speed(const srlm_tokenizer *tok, const char *data, double min_mbps) {
    char path[1024];
    snprintf(path, sizeof path, "%s/spider/tables.json", data);
    size_t len;
    char *tables = slurp(path, &len);
    CHECK(tables != NULL, "reading %s", path);
    if (!tables) return;
    double mbs = 0;
    size_t ntok = 0;
    CHECK_OK(srlm_tokenizer_bench(tok, tables, len, 5, &mbs, &ntok));
    printf("  encode speed: %.2f MB/s on %s (%zu bytes -> %zu tokens, best of 5, one core)\n", mbs, path, len, ntok);
    if (min_mbps > 0) CHECK(mbs >= min_mbps, "encoding at %.2f MB/s, below %.2f", mbs, min_mbps);
    int32_t *ids;
    size_t n;
    char *txt;
    size_t tl;
    CHECK_OK(srlm_tokenizer_encode(tok, tables, len, 0, &ids, &n));
    CHECK_OK(srlm_tokenizer_decode(tok, ids, n, 0, &txt, &tl));
    CHECK(tl == len && !memcmp(txt, tables, len), "tables.json round trip");
    free(ids);
    free(txt);
    free(tables);
}

/* A tokenizer is immutable once created: threads encode the same text concurrently and
 * must all get the single-threaded answer. */
typedef struct thread_job {
    const srlm_tokenizer *tok;
    const char *text;
    size_t len;
    const int32_t *want;
    size_t nwant;
    int ok;
} thread_job;

static void *encode_thread(void *arg) {
    thread_job *j = arg;
    j->ok = 1;
    for (int r = 0; r < 20; r++) {
        int32_t *ids;
        size_t n;
        srlm_status st = srlm_tokenizer_encode(j->tok, j->text, j->len, SRLM_ENCODE_SPECIAL, &ids, &n);
        if (st) { srlm_status_free(st); j->ok = 0; return NULL; }
        if (n != j->nwant || memcmp(ids, j->want, n * sizeof *ids)) j->ok = 0;
        free(ids);
    }
    return NULL;
}

static void test_threads(const srlm_tokenizer *tok) {
    const char *text = "<|im_start|>user\nSELECT name, COUNT(*) FROM singer GROUP BY country; -- Grüße 世界 🦙<|im_end|>\n";
    int32_t *want;
    size_t nwant;
    CHECK_OK(srlm_tokenizer_encode(tok, text, strlen(text), SRLM_ENCODE_SPECIAL, &want, &nwant));
    thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){tok, text, strlen(text), want, nwant, 0};
        CHECK(pthread_create(&th[i], NULL, encode_thread, &jobs[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].ok, "thread %d got a different encoding", i);
    }
    free(want);
}

static void test_qwen(const char *data, double min_mbps) {
    char path[1024];
    snprintf(path, sizeof path, "%s/qwen-tokenizer", data);
    srlm_tokenizer *tok = NULL;
    CHECK_OK(srlm_tokenizer_create(path, &tok));
    if (!tok) return;
    CHECK(srlm_tokenizer_vocab_size(tok) == 151665, "vocab size %d", srlm_tokenizer_vocab_size(tok));
    CHECK(srlm_tokenizer_eos(tok) == 151645, "eos %d (<|im_end|> from tokenizer_config.json)", srlm_tokenizer_eos(tok));
    CHECK(srlm_tokenizer_bos(tok) == -1, "no bos");
    CHECK(find(tok, "<|endoftext|>") == 151643 && find(tok, "<|im_start|>") == 151644 && find(tok, "<|file_sep|>") == 151664,
          "special ids");
    CHECK(find(tok, " Hello") == 21927, "' Hello' by decoded bytes");
    CHECK(srlm_tokenizer_is_special(tok, 151645) && !srlm_tokenizer_is_special(tok, 9707), "special flags");
    int32_t id;
    CHECK_ERR(srlm_tokenizer_find(tok, "<|no such token|>", &id), SRLM_ERR_NOT_FOUND, "no such token");

    snprintf(path, sizeof path, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-qwen2.gguf.inp", data);
    char outp[1024];
    snprintf(outp, sizeof outp, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-qwen2.gguf.out", data);
    run_vocab_tests(tok, path, outp, 46);

    /* Added tokens: matched with SRLM_ENCODE_SPECIAL, plain text without. */
    static const int32_t sp[] = {151644, 872, 198, 6023, 151645};
    check_ids(tok, "<|im_start|>user\nhi<|im_end|>", SRLM_ENCODE_SPECIAL, sp, 5);
    int32_t *ids;
    size_t n;
    CHECK_OK(srlm_tokenizer_encode(tok, "<|im_start|>user", 16, 0, &ids, &n));
    for (size_t i = 0; i < n; i++) CHECK(ids[i] < 151643, "special matched without SRLM_ENCODE_SPECIAL");
    free(ids);
    /* Longest match: <|im_start|> must not be cut short by a shorter token sharing its start. */
    static const int32_t two[] = {151643, 151643};
    check_ids(tok, "<|endoftext|><|endoftext|>", SRLM_ENCODE_SPECIAL, two, 2);
    /* NFC: a decomposed e + combining acute encodes like the composed character. */
    int32_t *a, *b;
    size_t na, nb;
    CHECK_OK(srlm_tokenizer_encode(tok, "caf\x65\xCC\x81", 6, 0, &a, &na));
    CHECK_OK(srlm_tokenizer_encode(tok, "caf\xC3\xA9", 5, 0, &b, &nb));
    CHECK(na == nb && !memcmp(a, b, na * sizeof *a), "NFC: %zu vs %zu ids", na, nb);
    free(a);
    free(b);
    /* A long word (past the on-stack symbol buffers) round-trips. */
    char longw[3001];
    for (int i = 0; i < 3000; i++) longw[i] = "abcdefgh"[(i * 7 + i / 5) % 8];
    longw[3000] = '\0';
    char *txt;
    size_t tl;
    CHECK_OK(srlm_tokenizer_encode(tok, longw, 3000, 0, &ids, &n));
    CHECK_OK(srlm_tokenizer_decode(tok, ids, n, 0, &txt, &tl));
    CHECK(tl == 3000 && !memcmp(txt, longw, 3000), "long word round trip");
    CHECK(n < 3000, "long word was merged (%zu ids)", n);
    free(txt);
    free(ids);

    /* Bad input: the error names the byte offset. */
    CHECK_ERR(srlm_tokenizer_encode(tok, "abc\xFF" "def", 7, 0, &ids, &n), SRLM_ERR_INVALID, "byte 3");
    CHECK_ERR(srlm_tokenizer_encode(tok, "ab\xE2\x82", 4, 0, &ids, &n), SRLM_ERR_INVALID, "byte 2");
    CHECK_ERR(srlm_tokenizer_encode(tok, "\xED\xA0\x80", 3, 0, &ids, &n), SRLM_ERR_INVALID, "byte 0"); /* surrogate */
    CHECK_ERR(srlm_tokenizer_encode(tok, "x\xC0\xAF", 3, 0, &ids, &n), SRLM_ERR_INVALID, "byte 1");  /* overlong */

    /* Ids inside the embedding but without text decode to nothing; specials can be skipped. */
    int32_t tail[] = {9707, 151665, 151935, 151645, 1879};
    CHECK_OK(srlm_tokenizer_decode(tok, tail, 5, 0, &txt, &tl));
    CHECK(txt && !strcmp(txt, "Hello<|im_end|> world"), "decode '%s'", txt);
    free(txt);
    CHECK_OK(srlm_tokenizer_decode(tok, tail, 5, SRLM_DECODE_SKIP_SPECIAL, &txt, &tl));
    CHECK(txt && !strcmp(txt, "Hello world"), "decode skipping specials '%s'", txt);
    free(txt);
    CHECK(srlm_tokenizer_piece(tok, 151700, &tl) == NULL && tl == 0, "no piece for 151700");
    CHECK_ERR(srlm_tokenizer_decode(tok, (int32_t[]){-1}, 1, 0, &txt, &tl), SRLM_ERR_INVALID, "-1");

    test_stream(tok);
    test_chat(tok);
    test_threads(tok);

    test_speed(tok, data, min_mbps);
    srlm_tokenizer_destroy(tok);
}

static void test_spm(const char *data) {
    char path[1024], outp[1024];
    snprintf(path, sizeof path, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-llama-spm.gguf", data);
    srlm_tokenizer *tok = NULL;
    CHECK_OK(srlm_tokenizer_create(path, &tok));
    if (!tok) return;
    CHECK(srlm_tokenizer_vocab_size(tok) == 32000, "vocab size %d", srlm_tokenizer_vocab_size(tok));
    CHECK(srlm_tokenizer_bos(tok) == 1 && srlm_tokenizer_eos(tok) == 2, "bos %d eos %d", srlm_tokenizer_bos(tok), srlm_tokenizer_eos(tok));
    snprintf(path, sizeof path, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-llama-spm.gguf.inp", data);
    snprintf(outp, sizeof outp, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-llama-spm.gguf.out", data);
    run_vocab_tests(tok, path, outp, 46);
    static const int32_t bos_hello[] = {1, 15043, 3186};
    check_ids(tok, "Hello world", SRLM_ENCODE_BOS, bos_hello, 3);
    /* Control tokens are matched only when asked; a dummy prefix follows them (llama.cpp). */
    static const int32_t ctl[] = {1, 15043};
    check_ids(tok, "<s>Hello", SRLM_ENCODE_SPECIAL, ctl, 2);
    int32_t *ids;
    size_t n;
    CHECK_OK(srlm_tokenizer_encode(tok, "<s>Hello", 8, 0, &ids, &n));
    CHECK(n > 2 && ids[0] != 1, "<s> is text without SRLM_ENCODE_SPECIAL (%zu ids, first %d)", n, n ? ids[0] : -1);
    free(ids);
    char *txt;
    size_t tl;
    CHECK_OK(srlm_tokenizer_decode(tok, bos_hello, 3, SRLM_DECODE_SKIP_SPECIAL, &txt, &tl));
    CHECK(txt && !strcmp(txt, "Hello world"), "spm decode '%s'", txt);
    free(txt);
    char *out;
    CHECK_ERR(srlm_chat_render(tok, (srlm_chat_message[]){{"user", "x"}}, 1, 1, &out), SRLM_ERR_UNSUPPORTED, "chat");
    /* Splitting the text where no piece joins two characters must not change the result:
     * compare with merging each segment whole, on 0.8 MB of varied text. */
    snprintf(path, sizeof path, "%s/spider/tables.json", data);
    size_t tlen;
    char *tables = slurp(path, &tlen);
    if (tables) {
        size_t cut = tlen > 200000 ? 200000 : tlen; /* the unsplit reference is slow */
        while (cut < tlen && ((unsigned char)tables[cut] & 0xC0) == 0x80) cut++;
        int32_t *a, *b;
        size_t na, nb;
        CHECK_OK(srlm_tokenizer_encode(tok, tables, cut, 0, &a, &na));
        tok->spm_no_split = 1;
        CHECK_OK(srlm_tokenizer_encode(tok, tables, cut, 0, &b, &nb));
        tok->spm_no_split = 0;
        CHECK(na == nb && !memcmp(a, b, na * sizeof *a), "split vs whole: %zu vs %zu ids", na, nb);
        printf("  spm chunked merging equals whole-segment merging on %zu bytes (%zu ids)\n", cut, na);
        free(a);
        free(b);
        free(tables);
    }
    srlm_tokenizer_destroy(tok);

    /* stories260K's tokenizer inside a model GGUF (512 pieces). */
    snprintf(path, sizeof path, "%s/stories260K/stories260K.gguf", data);
    CHECK_OK(srlm_tokenizer_create(path, &tok));
    if (tok) {
        CHECK(srlm_tokenizer_vocab_size(tok) == 512, "stories260K vocab %d", srlm_tokenizer_vocab_size(tok));
        const char *t = "Once upon a time, there was a little girl named Lily.";
        CHECK_OK(srlm_tokenizer_encode(tok, t, strlen(t), 0, &ids, &n));
        CHECK_OK(srlm_tokenizer_decode(tok, ids, n, 0, &txt, &tl));
        CHECK(txt && !strcmp(txt, t), "stories260K round trip '%s' (%zu ids)", txt, n);
        free(txt);
        free(ids);
        srlm_tokenizer_destroy(tok);
    }
}

static void test_bad_files(const char *data) {
    srlm_tokenizer *tok = NULL;
    CHECK_ERR(srlm_tokenizer_create("/nonexistent/model", &tok), SRLM_ERR_NOT_FOUND, "/nonexistent/model");
    CHECK(tok == NULL, "no tokenizer on error");
    CHECK_ERR(srlm_tokenizer_create_from_json("{\"model\":", 9, "x.json", &tok), SRLM_ERR_FORMAT, "x.json");
    const char *nobl = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}";
    CHECK_ERR(srlm_tokenizer_create_from_json(nobl, strlen(nobl), "y.json", &tok), SRLM_ERR_UNSUPPORTED, "byte-level");
    const char *badmerge = "{\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"use_regex\":true},"
                           "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}";
    CHECK_ERR(srlm_tokenizer_create_from_json(badmerge, strlen(badmerge), "z.json", &tok), SRLM_ERR_FORMAT, "merge 0");
    const char *badre = "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"},"
                        "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}";
    CHECK_ERR(srlm_tokenizer_create_from_json(badre, strlen(badre), "r.json", &tok), SRLM_ERR_FORMAT, "regex");
    (void)data;
    /* A truncated GGUF: the real header, cut short. */
    char path[1024];
    snprintf(path, sizeof path, "%s/qwen-tokenizer/vocab-tests/ggml-vocab-llama-spm.gguf", data);
    size_t len;
    char *g = slurp(path, &len);
    if (g) {
        char tmp[] = "/tmp/srlm_tok_trunc_XXXXXX";
        int fd = mkstemp(tmp);
        CHECK(fd >= 0, "mkstemp");
        if (fd >= 0) {
            FILE *f = fdopen(fd, "wb");
            fwrite(g, 1, len / 3, f);
            fclose(f);
            CHECK_ERR(srlm_tokenizer_create(tmp, &tok), SRLM_ERR_FORMAT, "tokenizer.ggml.tokens");
            f = fopen(tmp, "wb");
            g[4] = 7; /* version 7 */
            fwrite(g, 1, 64, f);
            fclose(f);
            CHECK_ERR(srlm_tokenizer_create(tmp, &tok), SRLM_ERR_UNSUPPORTED, "version 7");
            remove(tmp);
        }
        free(g);
    }
}

/* The byte-level tokenizer srlm writes for small presets: loads, maps bytes to ids 0..255,
 * round-trips any UTF-8 exactly (no normaliser), and supports ChatML. Needs no data. */
static void test_byte_level_writer(void) {
    char dir[] = "/tmp/srlm_bytetok_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK_OK(srlm_tokenizer_write_byte_level(path));
    srlm_tokenizer *tok = NULL;
    CHECK_OK(srlm_tokenizer_create(dir, &tok));
    if (tok) {
        CHECK(srlm_tokenizer_vocab_size(tok) == 260, "vocab %d", srlm_tokenizer_vocab_size(tok));
        CHECK(find(tok, "<|mask|>") == 259 && find(tok, "<|im_end|>") == 258, "special ids");
        const char *text = "caf\x65\xCC\x81 \xF0\x9F\xA6\x99\n\t<|im_end|>";
        int32_t *ids;
        size_t n;
        CHECK_OK(srlm_tokenizer_encode(tok, text, strlen(text), SRLM_ENCODE_SPECIAL, &ids, &n));
        CHECK(n == strlen(text) - strlen("<|im_end|>") + 1, "%zu ids", n);
        for (size_t i = 0; i + 1 < n; i++) CHECK(ids[i] == (uint8_t)text[i], "id %zu is %d, byte %d", i, ids[i], (uint8_t)text[i]);
        CHECK(n && ids[n - 1] == 258, "last id is <|im_end|>");
        char *back;
        size_t bl;
        CHECK_OK(srlm_tokenizer_decode(tok, ids, n, 0, &back, &bl));
        CHECK(back && !strcmp(back, text), "byte-level round trip (non-NFC text kept)");
        free(back);
        free(ids);
        char *chat;
        CHECK_OK(srlm_chat_render(tok, (srlm_chat_message[]){{"user", "x"}}, 1, 1, &chat));
        free(chat);
        srlm_tokenizer_destroy(tok);
    }
    /* lstrip/rstrip: give <|mask|> both flags and special = false; it then swallows the
     * white space (Unicode White_Space, as HF) on either side, and matches without
     * SRLM_ENCODE_SPECIAL. */
    size_t jl;
    char *js = slurp(path, &jl);
    cJSON *root = js ? cJSON_ParseWithLength(js, jl) : NULL;
    CHECK(root != NULL, "re-reading %s", path);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(root, "added_tokens")) {
        if (strcmp(cJSON_GetObjectItem(e, "content")->valuestring, "<|mask|>")) continue;
        cJSON_ReplaceItemInObject((cJSON *)e, "lstrip", cJSON_CreateTrue());
        cJSON_ReplaceItemInObject((cJSON *)e, "rstrip", cJSON_CreateTrue());
        cJSON_ReplaceItemInObject((cJSON *)e, "special", cJSON_CreateFalse());
    }
    char *mod = root ? cJSON_PrintUnformatted(root) : NULL;
    tok = NULL;
    if (mod) CHECK_OK(srlm_tokenizer_create_from_json(mod, strlen(mod), "modified.json", &tok));
    if (tok) {
        /* "a \t<|mask|>\u3000\u00a0 b": both sides' spaces belong to the token; the ideographic
         * space U+3000 and no-break space U+00A0 are white space too. */
        static const int32_t want[] = {'a', 259, 'b'};
        check_ids(tok, "a \t<|mask|>\xE3\x80\x80\xC2\xA0 b", 0, want, 3);
        static const int32_t want2[] = {259};
        check_ids(tok, "  <|mask|>  ", 0, want2, 1);
        srlm_tokenizer_destroy(tok);
    }
    cJSON_free(mod);
    cJSON_Delete(root);
    free(js);
    remove(path);
    remove(dir);
}

int main(int argc, char **argv) {
    double min_mbps = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--min-mbps") && i + 1 < argc) min_mbps = atof(argv[++i]);
    test_byte_level_writer();
    const char *data = test_shared_data();
    if (!data) {
        printf("test_tokenizer: SRLM_SHARED_DATA not set (../shared/data absent): data tests skipped\n");
        return test_failures ? test_finish("test_tokenizer") : TEST_SKIP;
    }
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/qwen-tokenizer/tokenizer.json", data);
    FILE *f = fopen(probe, "rb");
    if (!f) {
        printf("test_tokenizer: %s absent: data tests skipped\n", probe);
        return test_failures ? test_finish("test_tokenizer") : TEST_SKIP;
    }
    fclose(f);
    test_qwen(data, min_mbps);
    test_spm(data);
    test_bad_files(data);
    return test_finish("test_tokenizer");
}
