/* test_fuzz_replay.c: replays the committed fuzz corpora (tests/fuzz/corpus/<kind>/) through
 * the same entry functions the libFuzzer targets use, then 2000 deterministic mutations per
 * parser (fixed seed: bit flips, interesting bytes and 64-bit values, truncation, deletion,
 * duplication). Under ASan/UBSan this is the always-on part of fuzzing; the parsers must
 * never crash, leak or read outside the input. See docs/fuzzing.md for long campaigns. */
#include "test.h"

#include "bytebuf.h"
#include "fuzz/fuzz_entry.h"
#include "rng.h"

#include <dirent.h>

#define MUTATIONS 2000
#define MAX_FILES 64

typedef int (*entry_fn)(const uint8_t *, size_t);

typedef struct corpus {
    uint8_t *data[MAX_FILES];
    size_t size[MAX_FILES];
    char name[MAX_FILES][128];
    int n;
} corpus;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void load(corpus *c, const char *root, const char *kind) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", root, kind);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "corpus folder %s", dir);
    if (!d) return;
    char *names[MAX_FILES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_FILES)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str); /* readdir order is not deterministic */
    for (int i = 0; i < n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        c->data[c->n] = bb_read_file(p, &c->size[c->n]);
        snprintf(c->name[c->n], sizeof c->name[0], "%s", names[i]);
        if (c->data[c->n]) c->n++;
        free(names[i]);
    }
}

static const uint64_t interesting64[] = {0, 1, 2, 7, 8, 32, 0x7f, 0xff, 0x7fffffff, 0xffffffffull, 1ull << 32,
                                         1ull << 53, 1ull << 62, 1ull << 63, ~0ull, ~0ull - 7};
static const uint8_t interesting8[] = {0, 1, 0x7f, 0x80, 0xff, '{', '}', '"', ' ', '[', ']', ',', ':', '-', '0', '9'};

/* Mutates buf (size *n, capacity cap) in place with 1..4 random edits. */
static void mutate(uint8_t *buf, size_t *n, size_t cap, srlm_rng *r) {
    int edits = 1 + (int)srlm_rng_next_below(r, 4);
    for (int k = 0; k < edits && *n > 0; k++) {
        size_t at = (size_t)srlm_rng_next_below(r, *n);
        switch (srlm_rng_next_below(r, 6)) {
        case 0: buf[at] ^= (uint8_t)(1u << srlm_rng_next_below(r, 8)); break;
        case 1: buf[at] = interesting8[srlm_rng_next_below(r, sizeof interesting8)]; break;
        case 2: {
            uint64_t v = interesting64[srlm_rng_next_below(r, sizeof interesting64 / 8)];
            if (srlm_rng_next_below(r, 2)) v = *n + (v & 15);
            size_t m = *n - at < 8 ? *n - at : 8;
            memcpy(buf + at, &v, m);
            break;
        }
        case 3: *n = at; break; /* truncate */
        case 4: {                /* delete a range */
            size_t len = (size_t)srlm_rng_next_below(r, *n - at) + 1;
            memmove(buf + at, buf + at + len, *n - at - len);
            *n -= len;
            break;
        }
        default: { /* duplicate a range in place after itself */
            size_t len = (size_t)srlm_rng_next_below(r, (*n - at < 64 ? *n - at : 64)) + 1;
            if (*n + len > cap) break;
            memmove(buf + at + len, buf + at, *n - at);
            *n += len;
            break;
        }
        }
    }
}

static void replay(const char *root, const char *kind, entry_fn fn, const char *must_accept, const char *must_reject,
                   uint64_t seed) {
    corpus c = {0};
    load(&c, root, kind);
    CHECK(c.n >= 3, "%s corpus has %d files", kind, c.n);
    int accepted = 0;
    for (int i = 0; i < c.n; i++) {
        /* Copy to an exact-size heap block so ASan catches any read past the end. */
        uint8_t *copy = malloc(c.size[i] ? c.size[i] : 1);
        memcpy(copy, c.data[i], c.size[i]);
        int ok = fn(copy, c.size[i]);
        free(copy);
        accepted += ok;
        if (must_accept && !strcmp(c.name[i], must_accept)) CHECK(ok, "%s/%s is accepted", kind, c.name[i]);
        if (must_reject && !strcmp(c.name[i], must_reject)) CHECK(!ok, "%s/%s is rejected", kind, c.name[i]);
    }
    srlm_rng r = srlm_rng_make(seed, 0);
    int mut_accepted = 0;
    for (int it = 0; it < MUTATIONS && c.n; it++) {
        int f = (int)srlm_rng_next_below(&r, (uint64_t)c.n);
        size_t cap = c.size[f] + 256, n = c.size[f];
        uint8_t *buf = malloc(cap);
        memcpy(buf, c.data[f], n);
        mutate(buf, &n, cap, &r);
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        free(buf);
        mut_accepted += fn(exact, n);
        free(exact);
    }
    printf("  %s: %d corpus files (%d accepted), %d mutations (%d accepted)\n", kind, c.n, accepted, MUTATIONS, mut_accepted);
    CHECK(accepted > 0 && accepted < c.n, "%s corpus holds accepted and rejected inputs", kind);
    for (int i = 0; i < c.n; i++) free(c.data[i]);
}

int main(void) {
    const char *root = getenv("SRLM_SOURCE_ROOT");
    if (!root || !*root) root = ".";
    replay(root, "safetensors", fuzz_safetensors, "three_dtypes", "overlap", 1);
    replay(root, "gguf", fuzz_gguf, "tiny_llama_model", NULL, 2);
    replay(root, "config", fuzz_config, "tiny.json", NULL, 3);
    /* The tiny GGUF model seed must map all the way to a config. */
    char p[1024];
    snprintf(p, sizeof p, "%s/tests/fuzz/corpus/gguf/tiny_llama_model", root);
    srlm_gguf *g = NULL;
    CHECK_OK(srlm_gguf_open(p, &g));
    srlm_model_config c;
    if (g) CHECK_OK(srlm_gguf_model_config(g, &c));
    if (g) CHECK(c.hidden_size == 8 && c.num_key_value_heads == 1 && c.vocab_size == 4 && c.tie_word_embeddings, "tiny GGUF config (no output.weight: tied)");
    srlm_gguf_destroy(g);
    return test_finish("test_fuzz_replay");
}
