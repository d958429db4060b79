/* spm.c: SentencePiece BPE as llama.cpp's "spm" vocabulary runs it: pieces with scores,
 * spaces as U+2581, a dummy prefix space, merges of adjacent symbols by highest score,
 * byte fallback to <0xXX> pieces. Not the SentencePiece unigram model. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

static const char sp_space[3] = {(char)0xE2, (char)0x96, (char)0x81}; /* U+2581 */

/* Piece text as decode emits it: U+2581 becomes a space. */
static srlm_status piece_text(srlm_tokenizer *t, int32_t id, const char *p, uint8_t flags) {
    size_t len = strlen(p);
    char *buf = malloc(len + 1);
    if (!buf) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (i + 3 <= len && !memcmp(p + i, sp_space, 3)) { buf[o++] = ' '; i += 3; }
        else buf[o++] = p[i++];
    }
    srlm_status st = srlm_tok_set_text(t, id, buf, o, flags);
    free(buf);
    return st;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Every pair of adjacent code points inside a piece that merges may produce: text splits
 * between characters that form no such pair (see srlm_spm_encode_segment). */
static srlm_status build_pair_set(srlm_tokenizer *t, const char *const *pieces) {
    size_t total = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) total += strlen(pieces[id]);
    SRLM_TRY(srlm_pairmap_init(&t->spm_pairs, total));
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (t->types[id] != SRLM_SPM_NORMAL && t->types[id] != SRLM_SPM_USER_DEFINED) continue;
        const uint8_t *p = (const uint8_t *)pieces[id];
        size_t len = strlen(pieces[id]), i = 0;
        uint32_t prev = 0;
        while (i < len) {
            uint32_t cp;
            int k = srlm_utf8_next(p + i, len - i, &cp); /* pieces were validated as UTF-8 */
            if (!k) break;
            if (i) srlm_pairmap_put(&t->spm_pairs, prev, cp, 0, 0);
            prev = cp;
            i += (size_t)k;
        }
    }
    return NULL;
}

srlm_status srlm_tokenizer_create_spm(int32_t n, const char *const *pieces, const float *scores,
                                      const int32_t *types, int32_t bos, int32_t eos, int32_t unk,
                                      int add_space_prefix, int add_bos, srlm_tokenizer **out) {
    *out = NULL;
    if (n <= 0) return srlm_errorf(SRLM_ERR_FORMAT, "SentencePiece vocabulary is empty");
    if (bos >= n || eos >= n || unk >= n)
        return srlm_errorf(SRLM_ERR_FORMAT, "special token id out of range (bos %d, eos %d, unk %d, %d pieces)", bos, eos, unk, n);
    srlm_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    t->kind = SRLM_TOK_SPM;
    t->bos = bos < 0 ? -1 : bos;
    t->eos = eos < 0 ? -1 : eos;
    t->unk = unk < 0 ? -1 : unk;
    t->add_space_prefix = add_space_prefix;
    t->add_bos = add_bos;
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    srlm_status st = srlm_tok_alloc(t, n);
    if (!st) {
        t->scores = malloc((size_t)n * sizeof *t->scores);
        t->types = malloc((size_t)n);
        if (!t->scores || !t->types) st = srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    }
    for (int32_t id = 0; id < n && !st; id++) {
        const char *p = pieces[id];
        if (!p) { st = srlm_errorf(SRLM_ERR_FORMAT, "piece %d is missing", id); break; }
        size_t len = strlen(p);
        if ((st = srlm_utf8_check(p, len, "piece"))) { st = srlm_status_wrap(st, "piece %d: ", id); break; }
        int type = types ? types[id] : SRLM_SPM_NORMAL;
        if (type < SRLM_SPM_NORMAL || type > SRLM_SPM_BYTE) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "piece %d ('%s') has unknown type %d", id, p, type);
            break;
        }
        t->scores[id] = scores ? scores[id] : 0.0f;
        t->types[id] = (uint8_t)type;
        int32_t prev;
        if (!srlm_strmap_get(&t->vocab, p, len, &prev)) st = srlm_strmap_put(&t->vocab, p, len, id);
        if (st) break;
        switch (type) {
        case SRLM_SPM_BYTE: {
            int hi = len == 6 && !memcmp(p, "<0x", 3) && p[5] == '>' ? hexval(p[3]) : -1;
            int lo = hi >= 0 ? hexval(p[4]) : -1;
            if (lo < 0) { st = srlm_errorf(SRLM_ERR_FORMAT, "byte piece %d is '%s', not <0xXX>", id, p); break; }
            char c = (char)(hi * 16 + lo);
            t->byte_id[(uint8_t)c] = id;
            st = srlm_tok_set_text(t, id, &c, 1, 0);
            break;
        }
        case SRLM_SPM_CONTROL:
        case SRLM_SPM_UNKNOWN:
            st = srlm_tok_set_text(t, id, p, len, SRLM_TOKF_SPECIAL);
            if (!st && type == SRLM_SPM_CONTROL && len) st = srlm_tok_add_added(t, id, SRLM_TOKF_SPECIAL | SRLM_TOKF_ADDED);
            break;
        case SRLM_SPM_USER_DEFINED:
            st = piece_text(t, id, p, SRLM_TOKF_ADDED);
            if (!st && len) {
                /* matched on the piece as written, decoded with spaces */
                st = srlm_tok_add_added(t, id, SRLM_TOKF_ADDED);
                if (!st) {
                    t->added[t->n_added - 1].off = (uint32_t)t->text.len;
                    t->added[t->n_added - 1].len = (uint32_t)len;
                    st = srlm_bytebuf_append(&t->text, p, len);
                }
            }
            break;
        case SRLM_SPM_UNUSED:
            break; /* no text */
        default:
            st = piece_text(t, id, p, 0);
        }
    }
    if (!st) st = srlm_tok_index_added(t);
    if (!st) st = build_pair_set(t, pieces);
    if (st) { srlm_tokenizer_destroy(t); return st; }
    *out = t;
    return NULL;
}

/* ---- encoding ----------------------------------------------------------------------- */

typedef struct spm_node {
    uint32_t start, len;     /* bytes in the escaped text */
    int32_t left, right;     /* children of a merged node, -1 for a single character */
} spm_node;

typedef struct spm_bigram {
    float score;
    int32_t left, right;     /* positions in the symbol list */
    uint32_t len;            /* combined length when queued: changed lengths mean stale */
} spm_bigram;

static int bigram_better(const spm_bigram *a, const spm_bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct spm_work {
    const srlm_tokenizer *t;
    const char *s;
    spm_node *nodes;
    int32_t *node_of, *prev, *next;  /* per position: current node, list links */
    spm_bigram *heap;
    size_t nh;
} spm_work;

/* Pieces that merges may produce and that resegmentation may emit. */
static int usable(const srlm_tokenizer *t, const char *s, size_t len, int32_t *id) {
    if (!srlm_strmap_get(&t->vocab, s, len, id)) return 0;
    return t->types[*id] == SRLM_SPM_NORMAL || t->types[*id] == SRLM_SPM_USER_DEFINED;
}

static void try_bigram(spm_work *w, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const spm_node *a = &w->nodes[w->node_of[l]], *b = &w->nodes[w->node_of[r]];
    int32_t id;
    if (!usable(w->t, w->s + a->start, a->len + b->len, &id)) return;
    spm_bigram g = {w->t->scores[id], l, r, a->len + b->len};
    size_t i = w->nh++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!bigram_better(&g, &w->heap[p])) break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = g;
}

static spm_bigram pop_bigram(spm_work *w) {
    spm_bigram top = w->heap[0], last = w->heap[--w->nh];
    size_t i = 0, m = w->nh;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= m) break;
        size_t c = l + 1 < m && bigram_better(&w->heap[l + 1], &w->heap[l]) ? l + 1 : l;
        if (!bigram_better(&w->heap[c], &last)) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (m) w->heap[i] = last;
    return top;
}

/* Emits a node: its piece if it is one, else its children, else its bytes. */
static srlm_status resegment(const spm_work *w, int32_t node, srlm_i32vec *out) {
    const spm_node *nd = &w->nodes[node];
    int32_t id;
    if (usable(w->t, w->s + nd->start, nd->len, &id)) return srlm_i32vec_push(out, id);
    if (nd->left >= 0) {
        SRLM_TRY(resegment(w, nd->left, out));
        return resegment(w, nd->right, out);
    }
    for (uint32_t i = 0; i < nd->len; i++) {
        int32_t b = w->t->byte_id[(uint8_t)w->s[nd->start + i]];
        if (b < 0) b = w->t->unk;
        if (b >= 0) SRLM_TRY(srlm_i32vec_push(out, b));
    }
    return NULL;
}

/* Merges one chunk s[0..len) (no merge can cross its ends) and emits its tokens. The work
 * arrays hold at least len entries (nodes 2 len, heap 3 len). */
static srlm_status spm_merge(spm_work *w, const char *s, size_t len, srlm_i32vec *out) {
    w->s = s;
    w->nh = 0;
    /* One symbol per UTF-8 character (the text was validated by the caller). */
    int32_t m = 0, nn = 0;
    for (size_t i = 0; i < len;) {
        int k = srlm_utf8_next((const uint8_t *)s + i, len - i, NULL);
        if (!k) k = 1;
        w->nodes[nn] = (spm_node){(uint32_t)i, (uint32_t)k, -1, -1};
        w->node_of[m] = nn++;
        w->prev[m] = m - 1;
        w->next[m] = m + 1;
        m++;
        i += (size_t)k;
    }
    if (m) w->next[m - 1] = -1;
    for (int32_t i = 0; i + 1 < m; i++) try_bigram(w, i, i + 1);
    while (w->nh) {
        spm_bigram g = pop_bigram(w);
        int32_t l = g.left, r = g.right;
        if (w->node_of[l] < 0 || w->node_of[r] < 0 || w->next[l] != r) continue;
        const spm_node *a = &w->nodes[w->node_of[l]], *b = &w->nodes[w->node_of[r]];
        if (a->len + b->len != g.len) continue; /* stale */
        w->nodes[nn] = (spm_node){a->start, a->len + b->len, w->node_of[l], w->node_of[r]};
        w->node_of[l] = nn++;
        w->node_of[r] = -1;
        w->next[l] = w->next[r];
        if (w->next[r] >= 0) w->prev[w->next[r]] = l;
        try_bigram(w, w->prev[l], l);
        try_bigram(w, l, w->next[l]);
    }
    for (int32_t i = m ? 0 : -1; i >= 0; i = w->next[i]) SRLM_TRY(resegment(w, w->node_of[i], out));
    return NULL;
}

srlm_status srlm_spm_encode_segment(const srlm_tokenizer *t, const char *s, size_t n, int add_prefix,
                                    srlm_i32vec *out) {
    /* Escape: optional dummy prefix, spaces as U+2581. */
    size_t spaces = 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    size_t len = n + 2 * spaces + (add_prefix ? 3 : 0);
    char *esc = malloc(len + 1);
    spm_work w = {.t = t};
    w.nodes = malloc(2 * len * sizeof *w.nodes);
    w.node_of = malloc(len * sizeof *w.node_of);
    w.prev = malloc(len * sizeof *w.prev);
    w.next = malloc(len * sizeof *w.next);
    w.heap = malloc(3 * len * sizeof *w.heap);
    srlm_status st = NULL;
    if (!esc || !w.nodes || !w.node_of || !w.prev || !w.next || !w.heap) {
        st = srlm_errorf(SRLM_ERR_OOM, "out of host memory encoding %zu bytes", n);
        goto done;
    }
    size_t o = 0;
    if (add_prefix) { memcpy(esc, sp_space, 3); o = 3; }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') { memcpy(esc + o, sp_space, 3); o += 3; }
        else esc[o++] = s[i];
    }
    /* Merge chunk by chunk: where two adjacent characters occur together in no piece, no
     * merge can ever join them, so the text splits there with the same result. Small
     * chunks keep the heap in cache. */
    size_t chunk = 0;
    uint32_t prev_cp = 0;
    for (size_t i = 0; i < len && !st;) {
        uint32_t cp = 0;
        int k = srlm_utf8_next((const uint8_t *)esc + i, len - i, &cp);
        if (!k) k = 1;
        uint32_t rank, merged;
        if (i > chunk && !t->spm_no_split && !srlm_pairmap_get(&t->spm_pairs, prev_cp, cp, &rank, &merged)) {
            st = spm_merge(&w, esc + chunk, i - chunk, out);
            chunk = i;
        }
        prev_cp = cp;
        i += (size_t)k;
    }
    if (!st && len > chunk) st = spm_merge(&w, esc + chunk, len - chunk, out);
done:
    free(w.nodes); free(w.node_of); free(w.prev); free(w.next); free(w.heap);
    free(esc);
    return st;
}
