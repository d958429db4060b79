/* dataset.c: training data: JSONL / .txt reading, tokenisation with loss flags, the
 * evaluation split, per-epoch shuffling, MEAP, padding and packing into batches. Not the
 * loss or the model: batches are plain arrays for the train step (srlm.h "Training data"). */
#include "dataset.h"

#include "meap.h"
#include "rng.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sample storage ------------------------------------------------------------------ */

typedef struct sample_rec {
    size_t off; /* into the split's token arrays */
    int n, P, A, line;
} sample_rec;

typedef struct split {
    int32_t *ids;
    uint8_t *loss;
    size_t n_tok, cap_tok;
    sample_rec *s;
    size_t n, cap;
} split;

/* A unit of output: one sequence piece (in, tgt, w) of n tokens. */
typedef struct piece {
    int32_t *in, *tgt;
    float *w;
    int n, cap;
    int32_t src; /* the sample the tokens are (train index, or train count + eval index); -1: masked */
} piece;

struct srlm_dataset {
    srlm_data_options o;
    int32_t mask_id;
    split sp[2];
    srlm_data_stats st;
    /* train iteration */
    uint64_t epoch;
    size_t *perm;       /* this epoch's order */
    size_t index;       /* perm position of the sample whose pieces are pending */
    int n_pend, used;   /* pieces of that sample (0 = not expanded) and how many emitted */
    int pend_concat;    /* the two pending pieces form one concat unit */
    piece pend[2];
    size_t eval_index;
};

static srlm_status oom(void) { return srlm_errorf(SRLM_ERR_OOM, "dataset: out of memory"); }

static srlm_status split_add(split *sp, const int32_t *ids, const uint8_t *loss, int n, int line,
                             int seq_len, srlm_data_stats *st) {
    if (n > seq_len) {
        st->truncated++;
        st->truncated_tokens += (size_t)(n - seq_len);
        n = seq_len;
    }
    if (sp->n_tok + (size_t)n > sp->cap_tok) {
        size_t cap = sp->cap_tok ? sp->cap_tok * 2 : 4096;
        while (cap < sp->n_tok + (size_t)n) cap *= 2;
        int32_t *a = realloc(sp->ids, cap * sizeof *a);
        if (!a) return oom();
        sp->ids = a;
        uint8_t *b = realloc(sp->loss, cap);
        if (!b) return oom();
        sp->loss = b;
        sp->cap_tok = cap;
    }
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 256;
        sample_rec *r = realloc(sp->s, cap * sizeof *r);
        if (!r) return oom();
        sp->s = r;
        sp->cap = cap;
    }
    memcpy(sp->ids + sp->n_tok, ids, (size_t)n * sizeof *ids);
    memcpy(sp->loss + sp->n_tok, loss, (size_t)n);
    /* answer span: the last contiguous run of loss tokens */
    int end = n;
    while (end > 0 && !loss[end - 1]) end--;
    int start = end;
    while (start > 0 && loss[start - 1]) start--;
    int any = end > 0;
    if (!any) st->no_loss++;
    sample_rec r = {sp->n_tok, n, any ? start : n, end - start, line};
    sp->s[sp->n++] = r;
    sp->n_tok += (size_t)n;
    return NULL;
}

static void split_free(split *sp) {
    free(sp->ids);
    free(sp->loss);
    free(sp->s);
}

/* ---- tokenisation ---------------------------------------------------------------------- */

/* A growing token list with loss flags. */
typedef struct toks {
    int32_t *ids;
    uint8_t *loss;
    size_t n, cap;
} toks;

static srlm_status toks_push(toks *t, const int32_t *ids, size_t n, uint8_t loss) {
    if (t->n + n > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        while (cap < t->n + n) cap *= 2;
        int32_t *a = realloc(t->ids, cap * sizeof *a);
        if (!a) return oom();
        t->ids = a;
        uint8_t *b = realloc(t->loss, cap);
        if (!b) return oom();
        t->loss = b;
        t->cap = cap;
    }
    memcpy(t->ids + t->n, ids, n * sizeof *ids);
    memset(t->loss + t->n, loss, n);
    t->n += n;
    return NULL;
}

static srlm_status toks_encode(toks *t, const srlm_tokenizer *tok, const char *text, size_t len, uint8_t loss) {
    if (len == 0) return NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    SRLM_TRY(srlm_tokenizer_encode(tok, text, len, SRLM_ENCODE_SPECIAL, &ids, &n));
    srlm_status st = toks_push(t, ids, n, loss);
    free(ids);
    return st;
}

static srlm_status eos_id(const srlm_tokenizer *tok, int32_t *id) {
    *id = srlm_tokenizer_eos(tok);
    if (*id >= 0) return NULL;
    srlm_status st = srlm_tokenizer_find(tok, "<|endoftext|>", id);
    if (st) {
        srlm_status_free(st);
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "dataset: the tokenizer has no end-of-sequence token");
    }
    return NULL;
}

/* A conversation: the rendered text F is cut at the text spans of each assistant message's
 * content plus its closing <|im_end|>; each piece is tokenised on its own and the ids
 * concatenated, so token boundaries coincide with span boundaries by construction (and an
 * answer starts on a fresh token exactly as at generation time, after the header). Spans are
 * found by rendering the prefix before each assistant turn with the generation prompt, which
 * must be a prefix of F followed by the content and <|im_end|>. */
static srlm_status tokenize_chat(toks *t, const srlm_tokenizer *tok, const srlm_chat_message *m, size_t nm,
                                 const char *file, int line) {
    char *full = NULL;
    srlm_status st = srlm_chat_render(tok, m, nm, 0, &full);
    if (st) return srlm_status_wrap(st, "%s:%d", file, line);
    static const char im_end[] = "<|im_end|>";
    size_t flen = strlen(full), done = 0;
    int n_asst = 0;
    for (size_t k = 0; k < nm && !st; k++) {
        if (strcmp(m[k].role, "assistant")) continue;
        if (k == 0) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: the conversation starts with an assistant message", file, line);
            break;
        }
        char *pre = NULL;
        st = srlm_chat_render(tok, m, k, 1, &pre);
        if (st) { st = srlm_status_wrap(st, "%s:%d", file, line); break; }
        size_t cs = strlen(pre), clen = strlen(m[k].content);
        int ok = cs >= done && cs <= flen && !memcmp(full, pre, cs) && cs + clen <= flen &&
                 !memcmp(full + cs, m[k].content, clen) && !strncmp(full + cs + clen, im_end, sizeof im_end - 1);
        free(pre);
        if (!ok) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: cannot locate assistant message %zu in the rendered chat", file,
                             line, k);
            break;
        }
        size_t ce = cs + clen + sizeof im_end - 1;
        st = toks_encode(t, tok, full + done, cs - done, 0);
        if (!st) st = toks_encode(t, tok, full + cs, ce - cs, 1);
        done = ce;
        n_asst++;
    }
    if (!st) st = toks_encode(t, tok, full + done, flen - done, 0);
    if (!st && !n_asst) st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: the conversation has no assistant message", file, line);
    free(full);
    return st;
}

static srlm_status parse_line(toks *t, const srlm_tokenizer *tok, const char *text, size_t len, const char *file,
                              int line) {
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j) {
        const char *e = cJSON_GetErrorPtr();
        long col = e && e >= text && e <= text + len ? (long)(e - text) + 1 : 0;
        return srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: malformed JSON (near column %ld)", file, line, col);
    }
    srlm_status st = NULL;
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(j, "completion");
    const cJSON *txt = cJSON_GetObjectItemCaseSensitive(j, "text");
    if (!cJSON_IsObject(j)) {
        st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: expected a JSON object", file, line);
    } else if (msgs) {
        int nm = cJSON_IsArray(msgs) ? cJSON_GetArraySize(msgs) : -1;
        srlm_chat_message *m = nm > 0 ? calloc((size_t)nm, sizeof *m) : NULL;
        if (nm <= 0) {
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: \"messages\" must be a non-empty array", file, line);
        } else if (!m) {
            st = oom();
        } else {
            for (int i = 0; i < nm && !st; i++) {
                const cJSON *e = cJSON_GetArrayItem(msgs, i);
                const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "role");
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");
                if (!cJSON_IsString(r) || !cJSON_IsString(c))
                    st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: message %d needs string \"role\" and \"content\"",
                                     file, line, i);
                else
                    m[i] = (srlm_chat_message){r->valuestring, c->valuestring};
            }
            if (!st) st = tokenize_chat(t, tok, m, (size_t)nm, file, line);
        }
        free(m);
    } else if (prompt || comp) {
        int32_t eos = -1;
        if (!cJSON_IsString(prompt) || !cJSON_IsString(comp))
            st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: \"prompt\" and \"completion\" must both be strings", file, line);
        if (!st) st = eos_id(tok, &eos);
        if (!st) st = toks_encode(t, tok, prompt->valuestring, strlen(prompt->valuestring), 0);
        if (!st) st = toks_encode(t, tok, comp->valuestring, strlen(comp->valuestring), 1);
        if (!st) st = toks_push(t, &eos, 1, 1);
    } else if (txt) {
        int32_t eos = -1;
        if (!cJSON_IsString(txt)) st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: \"text\" must be a string", file, line);
        if (!st) st = eos_id(tok, &eos);
        if (!st) st = toks_encode(t, tok, txt->valuestring, strlen(txt->valuestring), 1);
        if (!st) st = toks_push(t, &eos, 1, 1); /* documents end with EOS, which is predicted too */
    } else {
        st = srlm_errorf(SRLM_ERR_FORMAT, "%s:%d: expected \"messages\", \"prompt\"+\"completion\" or \"text\"", file,
                         line);
    }
    cJSON_Delete(j);
    if (st && srlm_status_code(st) == SRLM_ERR_INVALID) /* e.g. ill-formed UTF-8 from the tokenizer */
        st = srlm_status_wrap(st, "%s:%d", file, line);
    return st;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Reads one file into `sp`. .txt: the whole file is one document (plus EOS) cut into
 * windows of seq_len tokens, every token a loss token. Otherwise JSONL, one sample per
 * non-blank line. */
static srlm_status load_file(split *sp, const srlm_tokenizer *tok, const char *path, int seq_len,
                             srlm_data_stats *st) {
    FILE *f = fopen(path, "rb");
    if (!f) return srlm_errorf(SRLM_ERR_IO, "%s: %s", path, strerror(errno));
    srlm_status s = NULL;
    toks t = {0};
    char *buf = NULL;
    size_t bcap = 0;
    if (ends_with(path, ".txt")) {
        size_t n = 0;
        char chunk[65536];
        size_t r;
        while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (n + r + 1 > bcap) {
                size_t cap = bcap ? bcap * 2 : 65536;
                while (cap < n + r + 1) cap *= 2;
                char *nb = realloc(buf, cap);
                if (!nb) { s = oom(); break; }
                buf = nb;
                bcap = cap;
            }
            memcpy(buf + n, chunk, r);
            n += r;
        }
        if (!s && ferror(f)) s = srlm_errorf(SRLM_ERR_IO, "%s: read error", path);
        int32_t eos = -1;
        if (!s && n) s = toks_encode(&t, tok, buf, n, 1);
        if (!s && n) s = eos_id(tok, &eos);
        if (!s && n) s = toks_push(&t, &eos, 1, 1);
        if (s && srlm_status_code(s) == SRLM_ERR_INVALID) s = srlm_status_wrap(s, "%s", path);
        for (size_t o = 0; !s && o < t.n; o += (size_t)seq_len) {
            size_t m = t.n - o < (size_t)seq_len ? t.n - o : (size_t)seq_len;
            s = split_add(sp, t.ids + o, t.loss + o, (int)m, 0, seq_len, st);
            st->txt_chunks++;
        }
    } else {
        ssize_t len;
        int line = 0;
        while (!s && (len = getline(&buf, &bcap, f)) >= 0) {
            line++;
            size_t k = 0;
            while (k < (size_t)len && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r' || buf[k] == '\n')) k++;
            if (k == (size_t)len) continue; /* blank line */
            t.n = 0;
            s = parse_line(&t, tok, buf, (size_t)len, path, line);
            if (!s) s = split_add(sp, t.ids, t.loss, (int)t.n, line, seq_len, st);
        }
        if (!s && ferror(f)) s = srlm_errorf(SRLM_ERR_IO, "%s: read error after line %d", path, line);
    }
    free(buf);
    free(t.ids);
    free(t.loss);
    fclose(f);
    return s;
}

/* ---- open / split ----------------------------------------------------------------------- */

void srlm_data_options_default(srlm_data_options *o) {
    memset(o, 0, sizeof *o);
    o->seq_len = 1024;
    o->batch = 1;
    o->mask_id = -1;
}

/* Moves a seeded random eval_fraction of the train samples (at least one when the fraction
 * is positive, at most all but one) to the eval split, keeping file order in both. */
static srlm_status split_eval(srlm_dataset *ds) {
    split *tr = &ds->sp[SRLM_SPLIT_TRAIN], *ev = &ds->sp[SRLM_SPLIT_EVAL];
    size_t n = tr->n, ne = (size_t)(ds->o.eval_fraction * (double)n + 0.5);
    if (ne == 0) ne = 1;
    if (ne >= n) return srlm_errorf(SRLM_ERR_INVALID, "dataset: eval fraction %g leaves no training samples of %zu",
                                    ds->o.eval_fraction, n);
    size_t *idx = malloc(n * sizeof *idx);
    uint8_t *is_eval = calloc(n, 1);
    split keep = {0};
    srlm_status st = idx && is_eval ? NULL : oom();
    if (!st) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        srlm_rng r = srlm_rng_make(ds->o.seed, 0x4556414c5350ull /* "EVALSP" */);
        for (size_t i = 0; i < ne; i++) {
            size_t j = i + (size_t)srlm_rng_next_below(&r, n - i);
            size_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
            is_eval[idx[i]] = 1;
        }
        srlm_data_stats dummy = {0};
        for (size_t i = 0; i < n && !st; i++) {
            sample_rec *s = &tr->s[i];
            st = split_add(is_eval[i] ? ev : &keep, tr->ids + s->off, tr->loss + s->off, s->n, s->line,
                           ds->o.seq_len, &dummy);
        }
    }
    free(idx);
    free(is_eval);
    if (st) { split_free(&keep); return st; }
    split_free(tr);
    *tr = keep;
    return NULL;
}

static void piece_free(piece *p) {
    free(p->in);
    free(p->tgt);
    free(p->w);
}

void srlm_dataset_destroy(srlm_dataset *ds) {
    if (!ds) return;
    split_free(&ds->sp[0]);
    split_free(&ds->sp[1]);
    piece_free(&ds->pend[0]);
    piece_free(&ds->pend[1]);
    free(ds->perm);
    free(ds);
}

static void count_split(srlm_dataset *ds) {
    for (int k = 0; k < 2; k++) {
        split *sp = &ds->sp[k];
        size_t *n = k ? &ds->st.eval_samples : &ds->st.train_samples;
        size_t *nt = k ? &ds->st.eval_tokens : &ds->st.train_tokens;
        *n = sp->n;
        *nt = sp->n_tok;
    }
    ds->st.loss_tokens = 0;
    for (size_t i = 0; i < ds->sp[0].n_tok; i++) ds->st.loss_tokens += ds->sp[0].loss[i];
}

static void make_perm(srlm_dataset *ds);

srlm_status srlm_dataset_open(const srlm_tokenizer *tok, const char *path, const srlm_data_options *o,
                              srlm_dataset **out) {
    *out = NULL;
    if (o->seq_len < 2 || o->batch < 1)
        return srlm_errorf(SRLM_ERR_INVALID, "dataset: seq_len %d (need >= 2) and batch %d (need >= 1)", o->seq_len,
                           o->batch);
    if (o->eval_fraction < 0 || o->eval_fraction >= 1)
        return srlm_errorf(SRLM_ERR_INVALID, "dataset: eval fraction %g outside [0, 1)", o->eval_fraction);
    if (o->meap_ratio < 0 || o->meap_ratio >= 1)
        return srlm_errorf(SRLM_ERR_INVALID, "dataset: MEAP ratio %g outside (0, 1)", (double)o->meap_ratio);
    srlm_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return oom();
    ds->o = *o;
    ds->o.eval_path = NULL; /* not kept: the caller owns the string */
    if (ds->o.meap_ratio == 0) ds->o.meap_ratio = o->meap == SRLM_MEAP_SFT ? SRLM_MEAP_SFT_RATIO : SRLM_MEAP_PRETRAIN_RATIO;
    ds->mask_id = o->mask_id >= 0 ? o->mask_id : o->vocab_rows > 0 ? o->vocab_rows - 1 : -1;
    srlm_status st = NULL;
    if (o->meap != SRLM_MEAP_OFF && ds->mask_id < 0)
        st = srlm_errorf(SRLM_ERR_INVALID, "dataset: MEAP needs a mask token id or the model's vocabulary rows");
    else if (o->vocab_rows > 0 && ds->mask_id >= o->vocab_rows)
        st = srlm_errorf(SRLM_ERR_INVALID, "dataset: mask id %d outside the %d embedding rows", ds->mask_id,
                         o->vocab_rows);
    if (!st) st = load_file(&ds->sp[SRLM_SPLIT_TRAIN], tok, path, o->seq_len, &ds->st);
    if (!st && ds->sp[SRLM_SPLIT_TRAIN].n == 0) st = srlm_errorf(SRLM_ERR_INVALID, "%s: empty dataset", path);
    if (!st && o->eval_path) {
        st = load_file(&ds->sp[SRLM_SPLIT_EVAL], tok, o->eval_path, o->seq_len, &ds->st);
        if (!st && ds->sp[SRLM_SPLIT_EVAL].n == 0)
            st = srlm_errorf(SRLM_ERR_INVALID, "%s: empty evaluation dataset", o->eval_path);
    } else if (!st && o->eval_fraction > 0) {
        st = split_eval(ds);
    }
    if (!st) {
        ds->perm = malloc(ds->sp[0].n * sizeof *ds->perm);
        if (!ds->perm) st = oom();
    }
    if (st) { srlm_dataset_destroy(ds); return st; }
    count_split(ds);
    make_perm(ds);
    *out = ds;
    return NULL;
}

void srlm_dataset_stats(const srlm_dataset *ds, srlm_data_stats *s) { *s = ds->st; }

size_t srlm_dataset_count(const srlm_dataset *ds, int split) { return ds->sp[split ? 1 : 0].n; }

srlm_sample srlm_dataset_sample(const srlm_dataset *ds, int split, size_t i) {
    const struct split *sp = &ds->sp[split ? 1 : 0];
    const sample_rec *r = &sp->s[i];
    srlm_sample s = {sp->ids + r->off, sp->loss + r->off, r->n, r->P, r->A, r->line};
    return s;
}

/* ---- pieces: one sample -> its sequences ----------------------------------------------- */

static void make_perm(srlm_dataset *ds) {
    size_t n = ds->sp[0].n;
    for (size_t i = 0; i < n; i++) ds->perm[i] = i;
    srlm_rng r = srlm_rng_make(ds->o.seed, ds->epoch); /* keyed on (seed, epoch) */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)srlm_rng_next_below(&r, i);
        size_t t = ds->perm[i - 1]; ds->perm[i - 1] = ds->perm[j]; ds->perm[j] = t;
    }
}

static srlm_status piece_reserve(piece *p, int n) {
    if (n <= p->cap) return NULL;
    int32_t *a = realloc(p->in, (size_t)n * sizeof *a);
    if (!a) return oom();
    p->in = a;
    a = realloc(p->tgt, (size_t)n * sizeof *a);
    if (!a) return oom();
    p->tgt = a;
    float *w = realloc(p->w, (size_t)n * sizeof *w);
    if (!w) return oom();
    p->w = w;
    p->cap = n;
    return NULL;
}

/* The plain (unmasked) sequence: targets shifted by one, weight where the next token is a
 * loss token. */
static void piece_plain(piece *p, srlm_sample s) {
    for (int i = 0; i < s.n; i++) {
        p->in[i] = s.ids[i];
        p->tgt[i] = i + 1 < s.n ? s.ids[i + 1] : 0;
        p->w[i] = i + 1 < s.n && s.loss[i + 1] ? 1.0f : 0.0f;
    }
    p->n = s.n;
}

/* Expands train sample perm[index] of the current epoch into ds->pend. */
static srlm_status expand(srlm_dataset *ds) {
    size_t si = ds->perm[ds->index];
    srlm_sample s = srlm_dataset_sample(ds, SRLM_SPLIT_TRAIN, si);
    ds->n_pend = 1;
    ds->pend_concat = 0;
    SRLM_TRY(piece_reserve(&ds->pend[0], s.n));
    ds->pend[0].src = ds->o.meap == SRLM_MEAP_PRETRAIN && s.n >= 2 ? -1 : (int32_t)si;
    ds->pend[1].src = -1;
    if (ds->o.meap == SRLM_MEAP_PRETRAIN && s.n >= 2) {
        SRLM_TRY(srlm_meap_pretrain(ds->pend[0].in, ds->pend[0].tgt, ds->pend[0].w, NULL, s.ids, s.n,
                                    ds->o.meap_ratio, ds->mask_id, ds->o.seed, si, ds->epoch));
        ds->pend[0].n = s.n;
        return NULL;
    }
    piece_plain(&ds->pend[0], s);
    if (ds->o.meap == SRLM_MEAP_SFT) {
        int made = 0;
        SRLM_TRY(piece_reserve(&ds->pend[1], s.n));
        SRLM_TRY(srlm_meap_sft_copy(ds->pend[1].in, ds->pend[1].tgt, ds->pend[1].w, &made, NULL, s.ids, s.n, s.P,
                                    s.A, ds->o.meap_ratio, ds->mask_id, ds->o.seed, si, ds->epoch));
        if (made) {
            ds->pend[1].n = s.n;
            ds->n_pend = 2;
            ds->st.meap_copies++;
            if (ds->o.meap_concat) {
                if (2 * s.n <= ds->o.seq_len) ds->pend_concat = 1;
                else ds->st.concat_split++;
            }
        }
    }
    return NULL;
}

/* ---- batches ----------------------------------------------------------------------------- */

void srlm_batch_free(srlm_batch *b) {
    if (!b) return;
    free(b->ids);
    free(b->targets);
    free(b->weights);
    free(b->seg);
    free(b->pos);
    free(b->sample);
    memset(b, 0, sizeof *b);
}

static srlm_status batch_shape(srlm_batch *b, int B, int T) {
    size_t n = (size_t)B * (size_t)T;
    if (n > b->cap) {
        free(b->ids); free(b->targets); free(b->weights); free(b->seg); free(b->pos); free(b->sample);
        b->ids = malloc(n * sizeof *b->ids);
        b->targets = malloc(n * sizeof *b->targets);
        b->weights = malloc(n * sizeof *b->weights);
        b->seg = malloc(n * sizeof *b->seg);
        b->pos = malloc(n * sizeof *b->pos);
        b->sample = malloc(n * sizeof *b->sample);
        b->cap = n;
        if (!b->ids || !b->targets || !b->weights || !b->seg || !b->pos || !b->sample) { srlm_batch_free(b); return oom(); }
    }
    b->B = B;
    b->T = T;
    b->rows = 0;
    b->n_loss = 0;
    for (size_t i = 0; i < n; i++) {
        b->ids[i] = 0;
        b->targets[i] = 0;
        b->weights[i] = 0.0f;
        b->seg[i] = -1;
        b->pos[i] = 0;
        b->sample[i] = -1;
    }
    return NULL;
}

/* A row under construction: pieces placed at offsets, with segment numbers. */
typedef struct row_plan {
    const piece *p[64];
    int n, len;
} row_plan;

static void place(srlm_batch *b, int row, const row_plan *rp) {
    int off = 0;
    for (int k = 0; k < rp->n; k++) {
        const piece *p = rp->p[k];
        size_t base = (size_t)row * (size_t)b->T + (size_t)off;
        for (int i = 0; i < p->n; i++) {
            b->ids[base + i] = p->in[i];
            b->targets[base + i] = p->tgt[i];
            b->weights[base + i] = p->w[i];
            b->seg[base + i] = k;
            b->pos[base + i] = i;
            b->sample[base + i] = p->src;
            b->n_loss += p->w[i] != 0.0f;
        }
        off += p->n;
    }
}

/* Copies of the pieces a row uses: pend[] is overwritten when the next sample expands. */
typedef struct piece_pool {
    piece *p;
    int n, cap;
} piece_pool;

static srlm_status pool_copy(piece_pool *pp, const piece *src, const piece **out) {
    if (pp->n == pp->cap) {
        int cap = pp->cap ? pp->cap * 2 : 16;
        piece *np = realloc(pp->p, (size_t)cap * sizeof *np);
        if (!np) return oom();
        memset(np + pp->cap, 0, (size_t)(cap - pp->cap) * sizeof *np);
        pp->p = np;
        pp->cap = cap;
    }
    piece *d = &pp->p[pp->n];
    SRLM_TRY(piece_reserve(d, src->n));
    memcpy(d->in, src->in, (size_t)src->n * sizeof *d->in);
    memcpy(d->tgt, src->tgt, (size_t)src->n * sizeof *d->tgt);
    memcpy(d->w, src->w, (size_t)src->n * sizeof *d->w);
    d->n = src->n;
    d->src = src->src;
    pp->n++;
    *out = d;
    return NULL;
}

static void pool_free(piece_pool *pp) {
    for (int i = 0; i < pp->cap; i++) piece_free(&pp->p[i]);
    free(pp->p);
}

/* The next unit of the train stream (1 piece, or 2 for a concat pair), without consuming
 * it; *none at the end of the epoch. */
static srlm_status peek_unit(srlm_dataset *ds, const piece **u, int *nu, int *none) {
    *none = 0;
    if (ds->n_pend && ds->used >= ds->n_pend) {
        ds->n_pend = 0;
        ds->used = 0;
        ds->index++;
    }
    if (!ds->n_pend) {
        if (ds->index >= ds->sp[0].n) { *none = 1; return NULL; }
        SRLM_TRY(expand(ds));
        ds->used = 0;
    }
    if (ds->pend_concat) {
        u[0] = &ds->pend[0];
        u[1] = &ds->pend[1];
        *nu = 2;
    } else {
        u[0] = &ds->pend[ds->used];
        *nu = 1;
    }
    return NULL;
}

static void take_unit(srlm_dataset *ds, int nu) { ds->used += nu; }

/* Eval stream: plain pieces in file order. */
static srlm_status next_eval_rows(srlm_dataset *ds, srlm_batch *b, piece_pool *pp, row_plan *rows, int *last) {
    const split *ev = &ds->sp[SRLM_SPLIT_EVAL];
    int B = ds->o.batch;
    for (int r = 0; r < B && ds->eval_index < ev->n; r++) {
        rows[r].n = 0;
        rows[r].len = 0;
        while (ds->eval_index < ev->n && rows[r].n < 64) {
            srlm_sample s = srlm_dataset_sample(ds, SRLM_SPLIT_EVAL, ds->eval_index);
            if (rows[r].n > 0 && (!ds->o.pack || rows[r].len + s.n > ds->o.seq_len)) break;
            piece tmp = {0};
            srlm_status st = piece_reserve(&tmp, s.n);
            tmp.src = (int32_t)(ds->sp[0].n + ds->eval_index);
            if (!st) { piece_plain(&tmp, s); st = pool_copy(pp, &tmp, &rows[r].p[rows[r].n]); }
            piece_free(&tmp);
            SRLM_TRY(st);
            rows[r].n++;
            rows[r].len += s.n;
            ds->eval_index++;
        }
        b->rows = r + 1;
    }
    *last = ds->eval_index >= ev->n;
    if (*last) ds->eval_index = 0;
    return NULL;
}

static srlm_status next_train_rows(srlm_dataset *ds, srlm_batch *b, piece_pool *pp, row_plan *rows, int *last) {
    int B = ds->o.batch, none = 0;
    for (int r = 0; r < B; r++) {
        rows[r].n = 0;
        rows[r].len = 0;
        for (;;) {
            const piece *u[2];
            int nu = 0;
            SRLM_TRY(peek_unit(ds, u, &nu, &none));
            if (none) break;
            int ulen = u[0]->n + (nu == 2 ? u[1]->n : 0);
            if (rows[r].n > 0 && (!ds->o.pack || rows[r].len + ulen > ds->o.seq_len || rows[r].n + nu > 64)) break;
            for (int k = 0; k < nu; k++) SRLM_TRY(pool_copy(pp, u[k], &rows[r].p[rows[r].n++]));
            rows[r].len += ulen;
            take_unit(ds, nu);
        }
        if (rows[r].n == 0) break;
        b->rows = r + 1;
        if (none) break;
    }
    /* the epoch ends when nothing is left after this batch */
    const piece *u[2];
    int nu = 0;
    if (!none) SRLM_TRY(peek_unit(ds, u, &nu, &none));
    *last = none;
    if (none) {
        ds->epoch++;
        ds->index = 0;
        ds->n_pend = 0;
        ds->used = 0;
        make_perm(ds);
    }
    return NULL;
}

srlm_status srlm_dataset_next_batch(srlm_dataset *ds, int split, srlm_batch *b, int *last) {
    int B = ds->o.batch;
    row_plan *rows = calloc((size_t)B, sizeof *rows);
    piece_pool pp = {0};
    if (!rows) return oom();
    int rows_used = 0;
    b->rows = 0;
    srlm_status st = split == SRLM_SPLIT_EVAL ? next_eval_rows(ds, b, &pp, rows, last)
                                              : next_train_rows(ds, b, &pp, rows, last);
    rows_used = b->rows;
    if (!st) {
        int T = ds->o.seq_len;
        if (!ds->o.pack) { /* pad to the longest row */
            T = 1;
            for (int r = 0; r < rows_used; r++) T = rows[r].len > T ? rows[r].len : T;
        }
        st = batch_shape(b, B, T);
        if (!st) {
            b->rows = rows_used;
            for (int r = 0; r < rows_used; r++) place(b, r, &rows[r]);
        }
    }
    pool_free(&pp);
    free(rows);
    return st;
}

srlm_data_cursor srlm_dataset_cursor(const srlm_dataset *ds) {
    srlm_data_cursor c = {ds->epoch, ds->index, ds->n_pend ? (uint64_t)ds->used : 0};
    if (ds->n_pend && ds->used >= ds->n_pend) { c.index++; c.part = 0; }
    return c;
}

srlm_status srlm_dataset_seek(srlm_dataset *ds, srlm_data_cursor c) {
    if (c.index > ds->sp[0].n || c.part > 1 || (c.index == ds->sp[0].n && c.part))
        return srlm_errorf(SRLM_ERR_INVALID, "dataset: cursor (epoch %llu, index %llu, part %llu) outside %zu samples",
                           (unsigned long long)c.epoch, (unsigned long long)c.index, (unsigned long long)c.part,
                           ds->sp[0].n);
    ds->epoch = c.epoch;
    make_perm(ds);
    ds->index = (size_t)c.index;
    ds->n_pend = 0;
    ds->used = 0;
    if (c.part) {
        SRLM_TRY(expand(ds));
        if ((int)c.part >= ds->n_pend || ds->pend_concat)
            return srlm_errorf(SRLM_ERR_INVALID, "dataset: cursor part %llu but sample %llu has %d sequence(s)",
                               (unsigned long long)c.part, (unsigned long long)c.index, ds->n_pend);
        ds->used = (int)c.part;
    }
    return NULL;
}
