/* cmd_tokenize.c: `srlm tokenize -m MODEL [--chat] [--no-special] [--bench] TEXT | -f FILE`:
 * prints the token ids of TEXT (space-separated, one line). With --chat the text is one
 * user turn rendered with the model's chat template plus the assistant header. With
 * --bench it prints encoding speed instead. A thin layer over the tokenizer API. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: srlm tokenize -m MODEL [--chat] [--no-special] [--decode] (TEXT | -f FILE) [--bench]\n"
                    "  MODEL: a folder with tokenizer.json, a tokenizer.json file or a GGUF file\n"
                    "  --chat        render TEXT as one user turn of the chat template first\n"
                    "  --no-special  treat special tokens such as <|im_start|> in TEXT as plain text\n"
                    "  --decode      TEXT is a list of ids (1,2,3 or '1 2 3'): print their text\n"
                    "  --bench       print encoding speed in MB/s instead of ids\n");
    return 2;
}

static int decode_ids(srlm_tokenizer *tok, const char *list) {
    size_t n;
    int32_t *ids = cli_parse_ids("--decode", list, &n);
    char *text;
    size_t len;
    srlm_status st = srlm_tokenizer_decode(tok, ids, n, 0, &text, &len);
    free(ids);
    if (st) return cli_fail("tokenize", st);
    fwrite(text, 1, len, stdout);
    putchar('\n');
    free(text);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *text = NULL, *file = NULL;
    int chat = 0, special = 1, bench = 0, decode = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_common_opt(argc, argv, &i, &c)) continue;
        if (cli_opt_alias(argc, argv, &i, "-f", "--file", &v)) { file = v; continue; }
        if (cli_flag(argv, i, "--chat")) { chat = 1; continue; }
        if (cli_flag(argv, i, "--no-special")) { special = 0; continue; }
        if (cli_flag(argv, i, "--bench")) { bench = 1; continue; }
        if (cli_flag(argv, i, "--decode")) { decode = 1; continue; }
        if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) { usage(); return 0; }
        if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error("tokenize", "unknown option '%s'", argv[i]);
        if (text) return cli_usage_error("tokenize", "more than one TEXT argument (quote it)");
        text = argv[i];
    }
    if (!c.model || (!text == !file)) return usage();
    srlm_tokenizer *tok;
    srlm_status st = srlm_tokenizer_create(c.model, &tok);
    if (st) return cli_fail("tokenize", st);
    if (decode) {
        int rc = text ? decode_ids(tok, text) : cli_usage_error("tokenize", "--decode takes the ids as TEXT");
        srlm_tokenizer_destroy(tok);
        return rc;
    }
    size_t len = 0;
    char *owned = NULL;
    if (file) {
        owned = cli_read_file(file, &len);
        if (!owned) {
            srlm_tokenizer_destroy(tok);
            return cli_fail("tokenize", srlm_errorf(SRLM_ERR_IO, "%s: cannot read", file));
        }
        text = owned;
    } else {
        len = strlen(text);
    }
    if (chat) {
        char *rendered = NULL;
        char *content = strndup(text, len);
        srlm_chat_message m = {"user", content ? content : ""};
        st = content ? srlm_chat_render(tok, &m, 1, 1, &rendered) : srlm_errorf(SRLM_ERR_OOM, "out of host memory");
        free(content);
        free(owned);
        owned = rendered;
        text = rendered;
        len = rendered ? strlen(rendered) : 0;
        special = 1; /* the template's markers are special tokens */
    }
    if (!st && bench) {
        double mbs;
        size_t n;
        st = srlm_tokenizer_bench(tok, text, len, 5, &mbs, &n);
        if (!st) printf("%zu bytes -> %zu tokens, %.2f MB/s (best of 5, one thread)\n", len, n, mbs);
    } else if (!st) {
        int32_t *ids;
        size_t n;
        st = srlm_tokenizer_encode(tok, text, len, special ? SRLM_ENCODE_SPECIAL : 0, &ids, &n);
        if (!st) {
            for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
            putchar('\n');
            free(ids);
        }
    }
    free(owned);
    srlm_tokenizer_destroy(tok);
    return st ? cli_fail("tokenize", st) : 0;
}

/* `srlm bench tokenizer -m MODEL -f FILE [--repeats N]`: encoding speed on one core. */
int cmd_bench_tokenizer(int argc, char **argv) {
    cli_common c;
    cli_common_init(&c);
    const char *file = NULL, *v;
    int repeats = 5;
    for (int i = 1; i < argc; i++) {
        if (cli_common_opt(argc, argv, &i, &c)) continue;
        if (cli_opt_alias(argc, argv, &i, "-f", "--file", &v)) { file = v; continue; }
        if (cli_opt(argc, argv, &i, "--repeats", &v)) { repeats = (int)cli_parse_int("--repeats", v, 1, 1000); continue; }
        return cli_usage_error("bench tokenizer", "unknown argument '%s'", argv[i]);
    }
    if (!c.model || !file)
        return cli_usage_error("bench tokenizer", "usage: srlm bench tokenizer -m MODEL -f FILE [--repeats N]");
    size_t len;
    char *text = cli_read_file(file, &len);
    if (!text) return cli_fail("bench tokenizer", srlm_errorf(SRLM_ERR_IO, "%s: cannot read", file));
    srlm_tokenizer *tok;
    srlm_status st = srlm_tokenizer_create(c.model, &tok);
    double mbs = 0;
    size_t n = 0;
    if (!st) st = srlm_tokenizer_bench(tok, text, len, repeats, &mbs, &n);
    if (!st)
        printf("tokenizer encode  %s: %zu bytes -> %zu tokens, %.2f MB/s (best of %d, thread CPU time, one core)\n",
               file, len, n, mbs, repeats);
    srlm_tokenizer_destroy(tok);
    free(text);
    return st ? cli_fail("bench tokenizer", st) : 0;
}
