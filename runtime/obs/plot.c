/* plot.c: `srlm plot`: line charts of a run database's metrics table as PNG, drawn on the
 * CPU (anti-aliased lines, stb_easy_font text rasterised from its quads, stb_image_write).
 * Not a general plotting library: one chart kind, x = step, linear axes. */
#include "srlm.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* stb_easy_font is header-only with static functions written for older warning sets. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-braces"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop
#include <stb_image_write.h>

typedef struct rgb {
    unsigned char r, g, b;
} rgb;

typedef struct canvas {
    int w, h;
    unsigned char *px; /* (h, w, 3) */
} canvas;

static const rgb PALETTE[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                              {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {23, 190, 207}};
#define N_PALETTE ((int)(sizeof PALETTE / sizeof PALETTE[0]))

static void blend(canvas *c, int x, int y, rgb col, float a) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h || a <= 0) return;
    if (a > 1) a = 1;
    unsigned char *p = c->px + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = (unsigned char)lrintf(p[0] + (col.r - p[0]) * a);
    p[1] = (unsigned char)lrintf(p[1] + (col.g - p[1]) * a);
    p[2] = (unsigned char)lrintf(p[2] + (col.b - p[2]) * a);
}

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, rgb col) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) blend(c, x, y, col, 1.0f);
}

/* An anti-aliased segment of half-width r: coverage from each pixel centre's distance to
 * the segment. Clipped to [cx0, cx1) x [cy0, cy1). */
static void line(canvas *c, float x0, float y0, float x1, float y1, float r, rgb col, int cx0, int cy0, int cx1,
                 int cy1) {
    int bx0 = (int)floorf(fminf(x0, x1) - r - 1), bx1 = (int)ceilf(fmaxf(x0, x1) + r + 1);
    int by0 = (int)floorf(fminf(y0, y1) - r - 1), by1 = (int)ceilf(fmaxf(y0, y1) + r + 1);
    if (bx0 < cx0) bx0 = cx0;
    if (by0 < cy0) by0 = cy0;
    if (bx1 > cx1) bx1 = cx1;
    if (by1 > cy1) by1 = cy1;
    float dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int y = by0; y < by1; y++)
        for (int x = bx0; x < bx1; x++) {
            float px = (float)x + 0.5f - x0, py = (float)y + 0.5f - y0;
            float t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            float ex = px - t * dx, ey = py - t * dy;
            float d = sqrtf(ex * ex + ey * ey);
            float a = r + 0.5f - d;
            if (a > 0) blend(c, x, y, col, a);
        }
}

/* stb_easy_font emits axis-aligned quads (x, y, z, colour per vertex, 16 bytes); each is
 * filled as a rectangle scaled by `s`. Returns the text width in pixels. */
static int text_width(const char *s, int scale) { return stb_easy_font_width((char *)s) * scale; }

static void text(canvas *c, int x, int y, const char *s, rgb col, int scale) {
    /* ~270 bytes of quads per character (stb_easy_font's estimate); a label that does not
     * fit is cut, which the fixed label lengths here never reach */
    char buf[32 * 1024];
    int nq = stb_easy_font_print(0, 0, (char *)s, NULL, buf, (int)sizeof buf);
    for (int q = 0; q < nq; q++) {
        const float *v = (const float *)(buf + (size_t)q * 64);
        float qx0 = v[0], qy0 = v[1], qx1 = v[0], qy1 = v[1];
        for (int k = 1; k < 4; k++) {
            qx0 = fminf(qx0, v[k * 4]);
            qx1 = fmaxf(qx1, v[k * 4]);
            qy0 = fminf(qy0, v[k * 4 + 1]);
            qy1 = fmaxf(qy1, v[k * 4 + 1]);
        }
        fill_rect(c, x + (int)qx0 * scale, y + (int)qy0 * scale, x + (int)qx1 * scale, y + (int)qy1 * scale, col);
    }
}

/* A "nice" tick step near range / target: 1, 2, 2.5 or 5 times a power of ten. */
static double nice_step(double range, int target) {
    double raw = range / target, p = pow(10, floor(log10(raw))), f = raw / p;
    double m = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    return m * p;
}

static void tick_label(char *out, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0;
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-4)) {
        snprintf(out, n, "%.3g", v);
        return;
    }
    int dec = (int)ceil(-log10(step) - 1e-9);
    if (step * pow(10, dec) != floor(step * pow(10, dec))) dec++; /* 2.5 steps */
    if (dec < 0) dec = 0;
    snprintf(out, n, "%.*f", dec, v);
}

typedef struct series {
    long long run;
    char *name;
    double *x, *y;
    size_t n, cap;
} series;

typedef struct plot_data {
    series *s;
    size_t n, cap;
} plot_data;

static void data_free(plot_data *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->s[i].name);
        free(d->s[i].x);
        free(d->s[i].y);
    }
    free(d->s);
}

static srlm_status oom(void) { return srlm_errorf(SRLM_ERR_OOM, "plot: out of memory"); }

static srlm_status add_point(plot_data *d, long long run, const char *name, double x, double y) {
    series *s = d->n ? &d->s[d->n - 1] : NULL;
    if (!s || s->run != run || strcmp(s->name, name)) {
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 8;
            series *ns = realloc(d->s, cap * sizeof *ns);
            if (!ns) return oom();
            d->s = ns;
            d->cap = cap;
        }
        s = &d->s[d->n];
        memset(s, 0, sizeof *s);
        s->run = run;
        s->name = strdup(name);
        if (!s->name) return oom();
        d->n++;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (!nx) return oom();
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof *ny);
        if (!ny) return oom();
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return NULL;
}

static const char *SQL_ONE = "SELECT run, step, value, name FROM metrics WHERE name = ?1 ORDER BY run, step";
static const char *SQL_ALL = "SELECT run, step, value, name FROM metrics ORDER BY name, run, step";

static srlm_status query(sqlite3 *db, const char *db_path, const char *name, plot_data *d) {
    const char *sql = name ? SQL_ONE : SQL_ALL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return srlm_errorf(SRLM_ERR_SQL, "%s: %s: %s", db_path, sql, sqlite3_errmsg(db));
    if (name) sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    size_t before = d->n;
    srlm_status err = NULL;
    int rc;
    while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 2) == SQLITE_NULL) continue;
        double v = sqlite3_column_double(st, 2);
        if (!isfinite(v)) continue; /* a NaN loss is a log event, not a point */
        err = add_point(d, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 3),
                        (double)sqlite3_column_int64(st, 1), v);
    }
    if (!err && rc != SQLITE_DONE) err = srlm_errorf(SRLM_ERR_SQL, "%s: %s: %s", db_path, sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!err && d->n == before)
        err = name ? srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: no values of metric '%s'", db_path, name)
                   : srlm_errorf(SRLM_ERR_NOT_FOUND, "%s: the metrics table is empty", db_path);
    return err;
}

static void draw(canvas *c, const plot_data *d, const char *title) {
    const rgb white = {255, 255, 255}, black = {0, 0, 0}, grid = {225, 225, 225}, grey = {90, 90, 90};
    fill_rect(c, 0, 0, c->w, c->h, white);
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < d->n; i++)
        for (size_t k = 0; k < d->s[i].n; k++) {
            xmin = fmin(xmin, d->s[i].x[k]);
            xmax = fmax(xmax, d->s[i].x[k]);
            ymin = fmin(ymin, d->s[i].y[k]);
            ymax = fmax(ymax, d->s[i].y[k]);
        }
    if (xmax == xmin) { xmin -= 1; xmax += 1; }
    if (ymax == ymin) { double e = fabs(ymin) > 0 ? fabs(ymin) * 0.1 : 1; ymin -= e; ymax += e; }
    double xs = nice_step(xmax - xmin, 8), ys = nice_step(ymax - ymin, 6);
    if (xs < 1) xs = 1; /* steps are integers */
    double x0 = floor(xmin / xs) * xs, x1 = ceil(xmax / xs) * xs;
    double y0 = floor(ymin / ys) * ys, y1 = ceil(ymax / ys) * ys;

    /* margins from the widest y tick label */
    const int ts = 2; /* tick/label text scale: easy_font glyphs are ~7 px high at scale 1 */
    int lw = 0;
    char lab[64];
    for (double v = y0; v <= y1 + ys * 0.5; v += ys) {
        tick_label(lab, sizeof lab, v, ys);
        int w = text_width(lab, ts);
        lw = w > lw ? w : lw;
    }
    int L = lw + 24, R = c->w - 36, T = 64, B = c->h - 60;
    if (R - L < 40 || B - T < 40) return;
    double sx = (R - L) / (x1 - x0), sy = (B - T) / (y1 - y0);

    /* grid, ticks and labels */
    for (double v = y0; v <= y1 + ys * 0.5; v += ys) {
        int y = (int)lrint(B - (v - y0) * sy);
        fill_rect(c, L, y, R, y + 1, grid);
        fill_rect(c, L - 6, y, L, y + 1, black);
        tick_label(lab, sizeof lab, v, ys);
        text(c, L - 10 - text_width(lab, ts), y - 6, lab, grey, ts);
    }
    for (double v = x0; v <= x1 + xs * 0.5; v += xs) {
        int x = (int)lrint(L + (v - x0) * sx);
        fill_rect(c, x, T, x + 1, B, grid);
        fill_rect(c, x, B, x + 1, B + 6, black);
        tick_label(lab, sizeof lab, v, xs);
        text(c, x - text_width(lab, ts) / 2, B + 12, lab, grey, ts);
    }
    fill_rect(c, L, T, L + 1, B + 1, black);
    fill_rect(c, L, B, R + 1, B + 1, black);
    text(c, (L + R) / 2 - text_width("step", ts) / 2, B + 36, "step", black, ts);
    text(c, 8, T - 22, "value", black, ts);
    text(c, (c->w - text_width(title, 3)) / 2, 14, title, black, 3);

    /* lines, clipped to the plot area */
    int multi_run = 0;
    for (size_t i = 1; i < d->n; i++) multi_run |= d->s[i].run != d->s[0].run;
    for (size_t i = 0; i < d->n; i++) {
        const series *s = &d->s[i];
        rgb col = PALETTE[i % N_PALETTE];
        for (size_t k = 0; k < s->n; k++) {
            float px = (float)(L + (s->x[k] - x0) * sx), py = (float)(B - (s->y[k] - y0) * sy);
            if (s->n == 1) {
                line(c, px, py, px, py, 2.5f, col, L, T, R + 1, B + 1);
            } else if (k > 0) {
                float qx = (float)(L + (s->x[k - 1] - x0) * sx), qy = (float)(B - (s->y[k - 1] - y0) * sy);
                line(c, qx, qy, px, py, 1.1f, col, L, T, R + 1, B + 1);
            }
        }
    }

    /* legend, top right inside the plot */
    int lh = 20, lwmax = 0;
    char names[16][96];
    size_t nl = d->n < 16 ? d->n : 16;
    for (size_t i = 0; i < nl; i++) {
        if (multi_run) snprintf(names[i], sizeof names[i], "run %lld: %s", d->s[i].run, d->s[i].name);
        else snprintf(names[i], sizeof names[i], "%s", d->s[i].name);
        int w = text_width(names[i], ts);
        lwmax = w > lwmax ? w : lwmax;
    }
    int bw = lwmax + 48, bh = (int)nl * lh + 10, bx = R - bw - 10, by = T + 10;
    fill_rect(c, bx, by, bx + bw, by + bh, white);
    fill_rect(c, bx, by, bx + bw, by + 1, grey);
    fill_rect(c, bx, by + bh - 1, bx + bw, by + bh, grey);
    fill_rect(c, bx, by, bx + 1, by + bh, grey);
    fill_rect(c, bx + bw - 1, by, bx + bw, by + bh, grey);
    for (size_t i = 0; i < nl; i++) {
        int y = by + 8 + (int)i * lh;
        fill_rect(c, bx + 8, y + 5, bx + 32, y + 9, PALETTE[i % N_PALETTE]);
        text(c, bx + 40, y, names[i], black, ts);
    }
}

srlm_status srlm_plot_metrics(const char *db_path, const char *const *names, size_t n_names, const char *png_path,
                              int width, int height) {
    if (width == 0 && height == 0) { width = 960; height = 540; }
    if (width < 200 || height < 150 || width > 8192 || height > 8192)
        return srlm_errorf(SRLM_ERR_INVALID, "plot: size %dx%d outside 200x150..8192x8192", width, height);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        srlm_status st = srlm_errorf(SRLM_ERR_IO, "%s: cannot open read-only: %s", db_path,
                                     db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return st;
    }
    plot_data d = {0};
    srlm_status st = NULL;
    if (n_names == 0) st = query(db, db_path, NULL, &d);
    for (size_t i = 0; i < n_names && !st; i++) st = query(db, db_path, names[i], &d);
    sqlite3_close(db);
    canvas c = {width, height, NULL};
    char *tmp = NULL;
    if (!st) {
        c.px = malloc((size_t)width * (size_t)height * 3);
        size_t tl = strlen(png_path) + 32;
        tmp = malloc(tl);
        if (!c.px || !tmp) st = oom();
        else snprintf(tmp, tl, "%s.tmp.%ld", png_path, (long)getpid());
    }
    if (!st) {
        const char *base = strrchr(db_path, '/');
        base = base ? base + 1 : db_path;
        char title[160];
        snprintf(title, sizeof title, "%.100s", base);
        draw(&c, &d, title);
        if (!stbi_write_png(tmp, width, height, 3, c.px, width * 3)) {
            st = srlm_errorf(SRLM_ERR_IO, "%s: cannot write PNG", tmp);
            remove(tmp);
        } else if (rename(tmp, png_path) != 0) {
            st = srlm_errorf(SRLM_ERR_IO, "%s: cannot rename from %s", png_path, tmp);
            remove(tmp);
        }
    }
    free(tmp);
    free(c.px);
    data_free(&d);
    return st;
}
