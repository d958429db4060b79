/* reward.c: output parsing and rewards for the two text-to-SQL formats: SQL-R1
 * (<think>/<answer> with a ```sql block) and ReEx-SQL (<think>, <intermediate_sql>, <result>,
 * <final_sql>). Pure functions over text and flags: executing SQL and matching results happen
 * elsewhere, and finding tags split across tokens is the decode loop's job. */
#include "sql/sandbox.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- text helpers ------------------------------------------------------------------------ */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static srlm_status collapse_n(const char *s, size_t n, char **out) {
    sqlbuf b = {0};
    int pending = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i])) { pending = b.n > 0; continue; }
        if (pending) sqlbuf_put(&b, " ", 1);
        pending = 0;
        sqlbuf_put(&b, s + i, 1);
    }
    return sqlbuf_finish(&b, out);
}

srlm_status srlm_sql_collapse_ws(const char *sql, char **out) { return collapse_n(sql, strlen(sql), out); }

static size_t count_occ(const char *s, const char *needle) {
    size_t n = 0, k = strlen(needle);
    for (const char *p = s; (p = strstr(p, needle)); p += k) n++;
    return n;
}

/* ---- SQL-R1 ------------------------------------------------------------------------------- */

/* The last ```sql block in [a, b): returns 1 and its content bounds when found. A block
 * opened but never closed does not count. */
static int last_sql_block(const char *a, const char *b, const char **s, const char **e) {
    int found = 0;
    const char *p = a;
    for (;;) {
        const char *o = NULL;
        for (const char *q = p; q + 6 <= b; q++)
            if (!strncmp(q, "```sql", 6)) { o = q; break; }
        if (!o) break;
        const char *body = o + 6;
        const char *c = NULL;
        for (const char *q = body; q + 3 <= b; q++)
            if (!strncmp(q, "```", 3)) { c = q; break; }
        if (!c) break;
        *s = body;
        *e = c;
        found = 1;
        p = c + 3;
    }
    return found;
}

void srlm_sqlr1_parsed_free(srlm_sqlr1_parsed *p) {
    if (!p) return;
    free(p->sql);
    p->sql = NULL;
}

srlm_status srlm_sqlr1_parse(const char *text, int open_think, srlm_sqlr1_parsed *out) {
    memset(out, 0, sizeof *out);
    if (!text) text = "";
    size_t n_think = count_occ(text, "<think>") + (open_think ? 1 : 0);
    size_t n_ethink = count_occ(text, "</think>");
    size_t n_ans = count_occ(text, "<answer>");
    size_t n_eans = count_occ(text, "</answer>");
    const char *t_open = open_think ? text : strstr(text, "<think>");
    const char *t_body = t_open ? (open_think ? text : t_open + 7) : NULL;
    const char *t_close = strstr(text, "</think>");
    const char *a_open = strstr(text, "<answer>");
    const char *a_close = strstr(text, "</answer>");
    int tags_ok = n_think == 1 && n_ethink == 1 && n_ans == 1 && n_eans == 1 && t_open && t_close &&
                  a_open && a_close && t_body <= t_close && t_close < a_open && a_open < a_close;
    const char *s, *e;
    if (tags_ok) {
        out->think_chars = srlm_utf8_chars(t_body, (size_t)(t_close - t_body));
        out->answer_chars = srlm_utf8_chars(a_open + 8, (size_t)(a_close - (a_open + 8)));
        if (last_sql_block(a_open + 8, a_close, &s, &e)) {
            SRLM_TRY(collapse_n(s, (size_t)(e - s), &out->sql));
            out->format_ok = 1;
        }
    } else {
        /* Invalid format earns no execution reward, but the SQL is still extracted (from the
         * whole text) so that evaluation can run what the model meant. */
        if (last_sql_block(text, text + strlen(text), &s, &e)) SRLM_TRY(collapse_n(s, (size_t)(e - s), &out->sql));
    }
    if (out->sql) out->sql_chars = srlm_utf8_chars(out->sql, strlen(out->sql));
    if (out->format_ok && (!out->sql || !*out->sql)) out->format_ok = 0;
    return NULL;
}

srlm_sqlr1_reward srlm_sqlr1_reward_compute(const srlm_sqlr1_parsed *p, int executed, int matched) {
    srlm_sqlr1_reward r = {0};
    r.format = p->format_ok ? 1.0 : -1.0;
    if (p->format_ok) {
        r.execution = executed ? 2.0 : -2.0;
        if (executed) {
            r.result = matched ? 3.0 : -3.0;
            if (matched) {
                double tot = (double)(p->think_chars + p->answer_chars) / 2048.0;
                r.length = 0.5 * (tot < 1.0 ? tot : 1.0) +
                           (p->answer_chars ? (double)p->sql_chars / (double)p->answer_chars : 0.0);
                /* The SQL lies inside the answer, so the ratio is at most 1; collapsing whitespace
                 * only shortens it. Kept explicit in case of odd inputs. */
                if (r.length > 1.5) r.length = 1.5;
            }
        }
    }
    r.total = r.format + r.execution + r.result + r.length;
    return r;
}

/* ---- ReEx-SQL ------------------------------------------------------------------------------ */

typedef enum { T_THINK, T_INTER, T_RESULT, T_FINAL, T_COUNT } tagkind;
static const char *const tag_open[T_COUNT] = {"<think>", "<intermediate_sql>", "<result>", "<final_sql>"};
static const char *const tag_close[T_COUNT] = {"</think>", "</intermediate_sql>", "</result>", "</final_sql>"};

/* The SQL of a ReEx block, whitespace collapsed. Models sometimes fence it: the last closed
 * ```sql block inside wins, else bare ``` fences around the whole text are dropped. */
static srlm_status block_sql(const char *body, size_t n, char **out) {
    const char *s, *e;
    if (last_sql_block(body, body + n, &s, &e)) return collapse_n(s, (size_t)(e - s), out);
    const char *a = body, *b = body + n;
    while (a < b && is_space(*a)) a++;
    while (b > a && is_space(b[-1])) b--;
    if (b - a >= 6 && !strncmp(a, "```", 3) && !strncmp(b - 3, "```", 3)) { a += 3; b -= 3; }
    return collapse_n(a, (size_t)(b - a), out);
}

void srlm_reex_parsed_free(srlm_reex_parsed *p) {
    if (!p) return;
    free(p->final_sql);
    for (int i = 0; i < p->n_intermediate; i++) {
        free(p->intermediate[i]);
        free(p->results ? p->results[i] : NULL);
    }
    free(p->intermediate);
    free(p->results);
    memset(p, 0, sizeof *p);
}

/* Finds the next tag (open or close, any kind) at or after p. */
static const char *next_tag(const char *p, int *kind, int *closing) {
    const char *best = NULL;
    for (int k = 0; k < T_COUNT; k++)
        for (int c = 0; c < 2; c++) {
            const char *q = strstr(p, c ? tag_close[k] : tag_open[k]);
            if (q && (!best || q < best)) { best = q; *kind = k; *closing = c; }
        }
    return best;
}

srlm_status srlm_reex_parse(const char *text, int max_interactions, srlm_reex_parsed *out) {
    memset(out, 0, sizeof *out);
    if (!text) text = "";
    if (max_interactions <= 0) max_interactions = 10;
    const char *p = text;
    int open = -1;               /* kind of the open block, -1 none */
    const char *body = NULL;
    int saw_think = 0, saw_final = 0, awaiting_result = 0;
    const char *bad = NULL;
    int kind = 0, closing = 0;
    srlm_status st = NULL;
    const char *q;
    while (!st && (q = next_tag(p, &kind, &closing))) {
        size_t tl = strlen(closing ? tag_close[kind] : tag_open[kind]);
        if (!closing) {
            if (open >= 0) { bad = bad ? bad : "a tag opens inside another block"; }
            else if (saw_final) { bad = bad ? bad : "text continues after </final_sql>"; }
            else if (awaiting_result && kind != T_RESULT) { bad = bad ? bad : "an <intermediate_sql> block is not followed by <result>"; }
            else if (!awaiting_result && kind == T_RESULT) { bad = bad ? bad : "a <result> block without an <intermediate_sql> before it"; }
            open = kind;
            body = q + tl;
        } else {
            if (open != kind) { bad = bad ? bad : "a closing tag does not match the open block"; open = -1; p = q + tl; continue; }
            size_t n = (size_t)(q - body);
            if (kind == T_THINK) saw_think = 1;
            else if (kind == T_INTER) {
                char **ni = realloc(out->intermediate, (size_t)(out->n_intermediate + 1) * sizeof *ni);
                char **nr = ni ? realloc(out->results, (size_t)(out->n_intermediate + 1) * sizeof *nr) : NULL;
                if (ni) out->intermediate = ni;
                if (nr) out->results = nr;
                if (!ni || !nr) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                out->results[out->n_intermediate] = NULL;
                st = block_sql(body, n, &out->intermediate[out->n_intermediate]);
                if (st) break;
                out->n_intermediate++;
                awaiting_result = 1;
            } else if (kind == T_RESULT) {
                if (out->n_intermediate > 0 && !out->results[out->n_intermediate - 1]) {
                    char *r = malloc(n + 1);
                    if (!r) { st = srlm_errorf(SRLM_ERR_OOM, "out of host memory"); break; }
                    memcpy(r, body, n);
                    r[n] = '\0';
                    out->results[out->n_intermediate - 1] = r;
                }
                awaiting_result = 0;
            } else {
                if (saw_final) bad = bad ? bad : "more than one <final_sql> block";
                free(out->final_sql);
                out->final_sql = NULL;
                st = block_sql(body, n, &out->final_sql);
                saw_final = 1;
            }
            open = -1;
        }
        p = q + tl;
    }
    if (st) { srlm_reex_parsed_free(out); return st; }
    if (open >= 0) bad = bad ? bad : "a block is never closed";
    if (awaiting_result) bad = bad ? bad : "an <intermediate_sql> block is not followed by <result>";
    if (!saw_think) bad = bad ? bad : "no <think> block";
    if (!saw_final) bad = bad ? bad : "no <final_sql> block";
    else if (!out->final_sql || !*out->final_sql) bad = bad ? bad : "the <final_sql> block is empty";
    if (out->n_intermediate > max_interactions) bad = bad ? bad : "more intermediate queries than allowed";
    /* Only whitespace (or the end-of-turn marker) may follow the final block. */
    if (saw_final) {
        const char *fc = NULL, *s = text;
        while ((s = strstr(s, "</final_sql>"))) { fc = s; s += 12; }
        if (fc) {
            const char *t = fc + 12;
            while (is_space(*t)) t++;
            if (!strncmp(t, "<|im_end|>", 10)) t += 10;
            while (is_space(*t)) t++;
            if (*t) bad = bad ? bad : "text continues after </final_sql>";
        }
    }
    out->format_ok = bad == NULL;
    out->error = bad; /* static text */
    return NULL;
}

void srlm_reex_weights_default(srlm_reex_weights *w) {
    w->format = 2.0;
    w->exact = 1.0;
    w->execution = 3.0;
    w->entity = 1.0;
    w->exploration = 2.0;
}

/* Tokens for normalisation and entity matching: string literals stay as they are, quoted
 * identifiers are unquoted, everything else is lower-cased; whitespace is dropped. */
typedef struct tok { const char *s; size_t n; int kind; /* 0 word, 1 string, 2 quoted name, 3 punct */ } tok;

static int word_ch(int c) { return isalnum(c) || c == '_' || c == '$' || (c & 0x80); }

static size_t tokenize(const char *s, tok *toks, size_t cap) {
    size_t n = 0;
    const char *p = s;
    while (*p) {
        if (is_space(*p)) { p++; continue; }
        tok t = {p, 1, 3};
        if (*p == '\'' || *p == '"' || *p == '`' || *p == '[') {
            char close = *p == '[' ? ']' : *p;
            const char *q = p + 1;
            while (*q) {
                if (*q == close) {
                    if (close != ']' && q[1] == close) { q += 2; continue; }
                    break;
                }
                q++;
            }
            t.s = p + 1;
            t.n = (size_t)(q - (p + 1));
            t.kind = *p == '\'' ? 1 : 2;
            p = *q ? q + 1 : q;
        } else if (word_ch((unsigned char)*p)) {
            const char *q = p;
            while (*q && (word_ch((unsigned char)*q) || *q == '.')) q++;
            t.n = (size_t)(q - p);
            t.kind = 0;
            p = q;
        } else {
            /* two-character operators stay one token */
            if ((p[0] == '<' || p[0] == '>' || p[0] == '!' || p[0] == '=') && p[1] == '=') t.n = 2;
            else if (p[0] == '<' && p[1] == '>') t.n = 2;
            else if (p[0] == '|' && p[1] == '|') t.n = 2;
            p += t.n;
        }
        if (toks && n < cap) toks[n] = t;
        n++;
    }
    return n;
}

srlm_status srlm_sql_normalize(const char *sql, char **out) {
    size_t n = tokenize(sql, NULL, 0);
    tok *t = malloc((n ? n : 1) * sizeof *t);
    if (!t) return srlm_errorf(SRLM_ERR_OOM, "out of host memory");
    tokenize(sql, t, n);
    while (n > 0 && t[n - 1].kind == 3 && t[n - 1].n == 1 && t[n - 1].s[0] == ';') n--;
    sqlbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        /* a space only between two words/names/strings, so "count ( * )" == "count(*)" */
        if (i > 0 && t[i].kind != 3 && t[i - 1].kind != 3) sqlbuf_puts(&b, " ");
        if (t[i].kind == 1) {
            sqlbuf_puts(&b, "'");
            sqlbuf_put(&b, t[i].s, t[i].n);
            sqlbuf_puts(&b, "'");
        } else {
            for (size_t k = 0; k < t[i].n; k++) {
                char c = (char)tolower((unsigned char)t[i].s[k]);
                sqlbuf_put(&b, &c, 1);
            }
        }
    }
    free(t);
    return sqlbuf_finish(&b, out);
}

/* Does the token list mention `name` (case-insensitive) as a word, a quoted name, or the
 * part of a dotted word (t.col)? */
static int mentions(const tok *t, size_t n, const char *name) {
    size_t ln = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (t[i].kind != 0 && t[i].kind != 2) continue;
        const char *s = t[i].s, *e = t[i].s + t[i].n;
        if (t[i].kind == 2) {
            if (t[i].n == ln && !strncasecmp(s, name, ln)) return 1;
            continue;
        }
        while (s < e) {
            const char *dot = memchr(s, '.', (size_t)(e - s));
            const char *pe = dot ? dot : e;
            if ((size_t)(pe - s) == ln && !strncasecmp(s, name, ln)) return 1;
            s = dot ? dot + 1 : e;
        }
    }
    return 0;
}

srlm_reex_reward srlm_reex_reward_compute(const srlm_reex_parsed *p, const char *gold_sql,
                                          const char *const *names, size_t n_names,
                                          int executed_match, int n_explore_ok,
                                          const srlm_reex_weights *w) {
    srlm_reex_weights def;
    if (!w) { srlm_reex_weights_default(&def); w = &def; }
    srlm_reex_reward r = {0};
    if (!p->format_ok || !p->final_sql) {
        r.total = 0.0;
        return r;
    }
    r.format = w->format;
    char *a = NULL, *b = NULL;
    srlm_status sa = srlm_sql_normalize(p->final_sql, &a);
    srlm_status sb = srlm_sql_normalize(gold_sql ? gold_sql : "", &b);
    if (!sa && !sb && !strcmp(a, b)) r.exact = w->exact;
    srlm_status_free(sa);
    srlm_status_free(sb);
    free(a);
    free(b);
    r.execution = executed_match ? w->execution : 0.0;
    /* entity: fraction of the schema names in the gold query that the final query mentions */
    size_t ng = tokenize(gold_sql ? gold_sql : "", NULL, 0), np = tokenize(p->final_sql, NULL, 0);
    tok *tg = malloc((ng ? ng : 1) * sizeof *tg), *tp = malloc((np ? np : 1) * sizeof *tp);
    if (tg && tp) {
        tokenize(gold_sql ? gold_sql : "", tg, ng);
        tokenize(p->final_sql, tp, np);
        size_t in_gold = 0, both = 0;
        for (size_t i = 0; i < n_names; i++) {
            /* the same name listed twice (a column in two tables) counts once */
            int dup = 0;
            for (size_t k = 0; k < i && !dup; k++) dup = !strcasecmp(names[k], names[i]);
            if (dup || !mentions(tg, ng, names[i])) continue;
            in_gold++;
            both += (size_t)mentions(tp, np, names[i]);
        }
        if (in_gold) r.entity = w->entity * (double)both / (double)in_gold;
    }
    free(tg);
    free(tp);
    if (p->n_intermediate > 0) {
        int ok = n_explore_ok < 0 ? 0 : n_explore_ok > p->n_intermediate ? p->n_intermediate : n_explore_ok;
        r.exploration = w->exploration * (double)ok / (double)p->n_intermediate;
    }
    r.total = r.format + r.exact + r.execution + r.entity + r.exploration;
    return r;
}
