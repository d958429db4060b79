/* match.c: result-set comparison with Spider's test-suite rules and BIRD's rules, and
 * Spider's query preprocessing (DISTINCT removal, "> =" fixes). Values compare with Python
 * semantics. It does not execute anything: results come from the sandbox.
 *
 * Spider's evaluator (exec_eval.result_eq) is reproduced with two deliberate differences, both
 * only in how it searches, never in what it accepts: its "quick reject" sorts each row by the
 * text of Python's str(value) + type name, which we replace by a canonical order in which equal
 * values sort together (so 1 and 1.0 in one row cannot make it reject a match); and for more
 * than three columns it prunes the column permutations with 20 random rows, where we prune
 * with every row (deterministic, and sound: a permutation that matches survives both).
 * The permutation search stops after 1,000,000 candidates (then: no match); Spider's would run
 * on, which only matters for results with many interchangeable columns. */
#include "sql/sandbox.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Python equality and a total order consistent with it -------------------------------- */

/* Exact comparison of an int64 and a double, as Python compares int and float. */
static int cmp_int_real(int64_t i, double r) {
    if (isnan(r)) return -1; /* SQLite never returns NaN (it becomes NULL); any fixed answer */
    if (r >= 9223372036854775808.0) return -1;
    if (r < -9223372036854775808.0) return 1;
    double fl = floor(r);
    int64_t ri = (int64_t)fl;
    if (i < ri) return -1;
    if (i > ri) return 1;
    return fl < r ? -1 : 0; /* i == floor(r): equal only if r is integral */
}

static int type_class(srlm_sql_type t) {
    switch (t) {
    case SRLM_SQL_NULL: return 0;
    case SRLM_SQL_INTEGER: case SRLM_SQL_REAL: return 1;
    case SRLM_SQL_TEXT: return 2;
    case SRLM_SQL_BLOB: return 3;
    }
    return 4;
}

/* Total order: NULL < numbers (by exact value) < text (bytes) < blob (bytes). Equal exactly
 * when Python's == says equal. */
static int value_cmp(const srlm_sql_value *a, const srlm_sql_value *b) {
    int ca = type_class(a->type), cb = type_class(b->type);
    if (ca != cb) return ca < cb ? -1 : 1;
    switch (ca) {
    case 0: return 0;
    case 1:
        if (a->type == SRLM_SQL_INTEGER && b->type == SRLM_SQL_INTEGER) return a->i < b->i ? -1 : a->i > b->i;
        if (a->type == SRLM_SQL_REAL && b->type == SRLM_SQL_REAL) return a->r < b->r ? -1 : a->r > b->r;
        if (a->type == SRLM_SQL_INTEGER) return cmp_int_real(a->i, b->r);
        return -cmp_int_real(b->i, a->r);
    default: {
        size_t n = a->n < b->n ? a->n : b->n;
        int c = n ? memcmp(a->s, b->s, n) : 0;
        if (c) return c < 0 ? -1 : 1;
        return a->n < b->n ? -1 : a->n > b->n;
    }
    }
}

int srlm_sql_value_eq(const srlm_sql_value *a, const srlm_sql_value *b) { return value_cmp(a, b) == 0; }

/* ---- row tables with a column mapping --------------------------------------------------- */

typedef struct rowview {
    const srlm_sql_result *r;
    const int *perm; /* column c of the view is column perm[c] of r; NULL: identity */
} rowview;

static const srlm_sql_value *view_cell(const rowview *v, size_t row, int c) {
    return srlm_sql_cell(v->r, row, v->perm ? v->perm[c] : c);
}

static int row_cmp(const rowview *va, size_t ra, const rowview *vb, size_t rb, int ncols) {
    for (int c = 0; c < ncols; c++) {
        int x = value_cmp(view_cell(va, ra, c), view_cell(vb, rb, c));
        if (x) return x;
    }
    return 0;
}

/* qsort has no context argument in C11: sort indices with a small merge sort instead. */
static void sort_rows(const rowview *v, int ncols, size_t *idx, size_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_rows(v, ncols, idx, tmp, h);
    sort_rows(v, ncols, idx + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = row_cmp(v, idx[j], v, idx[i], ncols) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

static size_t *sorted_index(const rowview *v, int ncols, size_t n) {
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!idx || !tmp) { free(idx); free(tmp); return NULL; }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_rows(v, ncols, idx, tmp, n);
    free(tmp);
    return idx;
}

/* Multiset (or set, when as_set) equality of the rows of two views with equal column counts.
 * Returns -1 on out-of-memory. */
static int rows_equal_unordered(const rowview *a, const rowview *b, int ncols, int as_set) {
    size_t na = a->r->nrows, nb = b->r->nrows;
    size_t *ia = sorted_index(a, ncols, na), *ib = sorted_index(b, ncols, nb);
    if (!ia || !ib) { free(ia); free(ib); return -1; }
    int eq = 1;
    if (!as_set) {
        if (na != nb) eq = 0;
        for (size_t i = 0; eq && i < na; i++) eq = row_cmp(a, ia[i], b, ib[i], ncols) == 0;
    } else {
        size_t i = 0, j = 0;
        while (eq && (i < na || j < nb)) {
            if (i >= na || j >= nb) { eq = 0; break; }
            if (row_cmp(a, ia[i], b, ib[j], ncols) != 0) { eq = 0; break; }
            /* skip duplicates on both sides */
            size_t i2 = i + 1, j2 = j + 1;
            while (i2 < na && row_cmp(a, ia[i2], a, ia[i], ncols) == 0) i2++;
            while (j2 < nb && row_cmp(b, ib[j2], b, ib[j], ncols) == 0) j2++;
            i = i2; j = j2;
        }
    }
    free(ia);
    free(ib);
    return eq;
}

/* ---- Spider ------------------------------------------------------------------------------ */

static int cmp_ptr_values(const void *x, const void *y) {
    return value_cmp(*(const srlm_sql_value *const *)x, *(const srlm_sql_value *const *)y);
}

/* Spider's quick reject: each row's values sorted, compared as lists (order matters) or sets. */
static int quick_accept(const srlm_sql_result *g, const srlm_sql_result *p, int order_matters) {
    int nc = g->ncols;
    size_t n = g->nrows;
    /* Build two synthetic results holding each row's sorted values (pointers copied). */
    srlm_sql_result sg = *g, sp = *p;
    srlm_sql_value *cg = malloc(n * (size_t)nc * sizeof *cg), *cp = malloc(n * (size_t)nc * sizeof *cp);
    const srlm_sql_value **tmp = malloc((size_t)nc * sizeof *tmp);
    int ok = -1;
    if (!cg || !cp || !tmp) goto out;
    for (int side = 0; side < 2; side++) {
        const srlm_sql_result *src = side ? p : g;
        srlm_sql_value *dst = side ? cp : cg;
        for (size_t i = 0; i < n; i++) {
            for (int c = 0; c < nc; c++) tmp[c] = srlm_sql_cell(src, i, c);
            qsort(tmp, (size_t)nc, sizeof *tmp, cmp_ptr_values);
            for (int c = 0; c < nc; c++) dst[i * (size_t)nc + (size_t)c] = *tmp[c];
        }
    }
    sg.cells = cg;
    sp.cells = cp;
    rowview vg = {&sg, NULL}, vp = {&sp, NULL};
    if (order_matters) {
        ok = 1;
        for (size_t i = 0; ok && i < n; i++) ok = row_cmp(&vg, i, &vp, i, nc) == 0;
    } else {
        ok = rows_equal_unordered(&vg, &vp, nc, 1);
    }
out:
    free(cg);
    free(cp);
    free(tmp);
    return ok;
}

typedef struct permsearch {
    const srlm_sql_result *g, *p;
    int nc, order_matters;
    unsigned char *allowed; /* allowed[g_col * nc + p_col] */
    int *perm;
    unsigned char *used;
    long tried, budget;
    int found; /* 1 match, -1 out of memory */
} permsearch;

static void search(permsearch *s, int c) {
    if (s->found) return;
    if (c == s->nc) {
        if (++s->tried > s->budget) return;
        rowview vg = {s->g, NULL}, vp = {s->p, s->perm};
        int eq;
        if (s->order_matters) {
            eq = 1;
            for (size_t i = 0; eq && i < s->g->nrows; i++) eq = row_cmp(&vg, i, &vp, i, s->nc) == 0;
        } else {
            eq = rows_equal_unordered(&vg, &vp, s->nc, 0);
        }
        if (eq) s->found = eq; /* 1, or -1 for out of memory */
        return;
    }
    for (int pc = 0; pc < s->nc && !s->found && s->tried <= s->budget; pc++) {
        if (s->used[pc] || !s->allowed[c * s->nc + pc]) continue;
        s->used[pc] = 1;
        s->perm[c] = pc;
        search(s, c + 1);
        s->used[pc] = 0;
    }
}

static int spider_match(const srlm_sql_result *g, const srlm_sql_result *p, int order_matters) {
    if (g->nrows == 0 && p->nrows == 0) return 1;
    if (g->nrows != p->nrows) return 0;
    int nc = g->ncols;
    if (p->ncols != nc) return 0;
    if (nc == 0) return 1;
    int q = quick_accept(g, p, order_matters);
    if (q <= 0) return 0;
    permsearch s = {g, p, nc, order_matters, NULL, NULL, NULL, 0, 1000000, 0};
    s.allowed = calloc((size_t)nc * (size_t)nc, 1);
    s.perm = calloc((size_t)nc, sizeof *s.perm);
    s.used = calloc((size_t)nc, 1);
    /* Column pc of the prediction may map to gold column gc only if each of its values occurs
     * in gold column gc (Python: `value in set(gold column)`). */
    srlm_sql_value **gcol = calloc((size_t)nc, sizeof *gcol);
    int ok = 0;
    if (!s.allowed || !s.perm || !s.used || !gcol) goto out;
    size_t n = g->nrows;
    for (int gc = 0; gc < nc; gc++) {
        gcol[gc] = malloc(n * sizeof **gcol);
        if (!gcol[gc]) goto out;
        for (size_t i = 0; i < n; i++) gcol[gc][i] = *srlm_sql_cell(g, i, gc);
        /* sort values of the column */
        const srlm_sql_value **ptr = malloc(n * sizeof *ptr);
        if (!ptr) goto out;
        for (size_t i = 0; i < n; i++) ptr[i] = srlm_sql_cell(g, i, gc);
        qsort(ptr, n, sizeof *ptr, cmp_ptr_values);
        for (size_t i = 0; i < n; i++) gcol[gc][i] = *ptr[i];
        free(ptr);
    }
    for (int gc = 0; gc < nc; gc++)
        for (int pc = 0; pc < nc; pc++) {
            int all_in = 1;
            for (size_t i = 0; all_in && i < n; i++) {
                const srlm_sql_value *v = srlm_sql_cell(p, i, pc);
                size_t lo = 0, hi = n;
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    if (value_cmp(&gcol[gc][mid], v) < 0) lo = mid + 1; else hi = mid;
                }
                all_in = lo < n && value_cmp(&gcol[gc][lo], v) == 0;
            }
            s.allowed[gc * nc + pc] = (unsigned char)all_in;
        }
    search(&s, 0);
    ok = s.found == 1;
out:
    if (gcol)
        for (int c = 0; c < nc; c++) free(gcol[c]);
    free(gcol);
    free(s.allowed);
    free(s.perm);
    free(s.used);
    return ok;
}

/* ---- BIRD ------------------------------------------------------------------------------- */

/* set(pred) == set(gold) over row tuples: tuples of different lengths never compare equal. */
static int bird_match(const srlm_sql_result *g, const srlm_sql_result *p) {
    if (g->nrows == 0 && p->nrows == 0) return 1;
    if (g->nrows == 0 || p->nrows == 0) return 0;
    if (g->ncols != p->ncols) return 0;
    rowview vg = {g, NULL}, vp = {p, NULL};
    return rows_equal_unordered(&vg, &vp, g->ncols, 1) == 1;
}

int srlm_sql_results_match(const srlm_sql_result *gold, const srlm_sql_result *pred, srlm_sql_rule rule,
                           int order_matters) {
    if (!gold || !pred || gold->outcome != SRLM_SQL_ROWS || pred->outcome != SRLM_SQL_ROWS) return 0;
    if (rule == SRLM_SQL_RULE_BIRD) return bird_match(gold, pred);
    return spider_match(gold, pred, order_matters);
}

/* ---- Spider preprocessing ------------------------------------------------------------------ */

static int is_word(int c) { return isalnum(c) || c == '_' || c == '$' || (c & 0x80); }

static void replace_all(sqlbuf *b, const char *s, const char *from, const char *to) {
    size_t nf = strlen(from);
    const char *p = s, *q;
    while ((q = strstr(p, from))) {
        sqlbuf_put(b, p, (size_t)(q - p));
        sqlbuf_puts(b, to);
        p = q + nf;
    }
    sqlbuf_puts(b, p);
}

/* YEAR\s*(\s*CURDATE\s*(\s*)\s*)\s* -> "2020", case-insensitive, as exec_eval.replace_cur_year. */
static const char *match_cur_year(const char *p) {
    static const char *const parts[] = {"year", "(", "curdate", "(", ")", ")"};
    for (size_t k = 0; k < 6; k++) {
        size_t n = strlen(parts[k]);
        if (strncasecmp(p, parts[k], n) != 0) return NULL;
        p += n;
        while (isspace((unsigned char)*p)) p++;
    }
    return p;
}

srlm_status srlm_sql_spider_preprocess(const char *sql, char **out) {
    /* 1. postprocess(): the three replacements, anywhere in the text (as Spider does). */
    sqlbuf a = {0}, t = {0};
    replace_all(&a, sql, "> =", ">=");
    char *s1 = NULL;
    SRLM_TRY(sqlbuf_finish(&a, &s1));
    replace_all(&t, s1, "< =", "<=");
    free(s1);
    SRLM_TRY(sqlbuf_finish(&t, &s1));
    replace_all(&a, s1, "! =", "!=");
    free(s1);
    SRLM_TRY(sqlbuf_finish(&a, &s1));
    /* 2. replace_cur_year, 3. remove_distinct: tokens outside literals and quoted names. */
    sqlbuf b = {0};
    const char *p = s1;
    while (*p) {
        char c = *p;
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : c;
            const char *q = p + 1;
            for (;;) {
                if (!*q) break;
                if (*q == close) {
                    if (close != ']' && q[1] == close) { q += 2; continue; }
                    q++;
                    break;
                }
                q++;
            }
            sqlbuf_put(&b, p, (size_t)(q - p));
            p = q;
        } else if (c == '-' && p[1] == '-') {
            const char *q = p;
            while (*q && *q != '\n') q++;
            sqlbuf_put(&b, p, (size_t)(q - p));
            p = q;
        } else if (c == '/' && p[1] == '*') {
            const char *q = strstr(p + 2, "*/");
            q = q ? q + 2 : p + strlen(p);
            sqlbuf_put(&b, p, (size_t)(q - p));
            p = q;
        } else if (is_word((unsigned char)c)) {
            const char *q = p;
            while (*q && is_word((unsigned char)*q)) q++;
            const char *after;
            if ((p == s1 || !is_word((unsigned char)p[-1])) && (after = match_cur_year(p)) &&
                (q - p) == 4) {
                sqlbuf_puts(&b, "2020");
                q = after;
            } else if (!((q - p) == 8 && !strncasecmp(p, "distinct", 8))) {
                sqlbuf_put(&b, p, (size_t)(q - p));
            }
            p = q;
        } else {
            sqlbuf_put(&b, p, 1);
            p++;
        }
    }
    free(s1);
    return sqlbuf_finish(&b, out);
}

int srlm_sql_spider_order_matters(const char *gold_sql) {
    for (const char *p = gold_sql; *p; p++)
        if (!strncasecmp(p, "order by", 8)) return 1;
    return 0;
}

void srlm_sql_result_utf8_ignore(srlm_sql_result *r) {
    for (size_t i = 0; i < r->nrows * (size_t)r->ncols; i++) {
        srlm_sql_value *v = &r->cells[i];
        if (v->type != SRLM_SQL_TEXT || srlm_utf8_invalid_at(v->s, v->n) == (size_t)-1) continue;
        char *s = (char *)v->s; /* owned by the result */
        size_t o = 0, k = 0;
        while (k < v->n) {
            size_t bad = srlm_utf8_invalid_at(s + k, v->n - k);
            size_t good = bad == (size_t)-1 ? v->n - k : bad;
            memmove(s + o, s + k, good);
            o += good;
            k += good;
            if (bad != (size_t)-1) k++; /* drop one byte; lone continuation bytes follow the same way */
        }
        s[o] = '\0';
        v->n = o;
    }
}

/* Identical results for voting: same column count and the same multiset of rows (two empty
 * results are identical only with the same column count). */
static int same_result(const srlm_sql_result *a, const srlm_sql_result *b) {
    if (a->ncols != b->ncols || a->nrows != b->nrows) return 0;
    rowview va = {a, NULL}, vb = {b, NULL};
    return rows_equal_unordered(&va, &vb, a->ncols, 0) == 1;
}

long srlm_sql_vote(const srlm_sql_result *const *results, size_t n, size_t *group_size) {
    long best = -1;
    size_t best_count = 0;
    for (size_t i = 0; i < n; i++) {
        const srlm_sql_result *r = results[i];
        if (!r || r->outcome != SRLM_SQL_ROWS || r->truncated) continue;
        /* only the first member of each group counts the group */
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const srlm_sql_result *q = results[j];
            seen = q && q->outcome == SRLM_SQL_ROWS && !q->truncated && same_result(q, r);
        }
        if (seen) continue;
        size_t count = 1;
        for (size_t j = i + 1; j < n; j++) {
            const srlm_sql_result *q = results[j];
            count += q && q->outcome == SRLM_SQL_ROWS && !q->truncated && same_result(q, r);
        }
        if (count > best_count) { best = (long)i; best_count = count; }
    }
    if (group_size) *group_size = best_count;
    return best;
}
