/* test_plot.c: `srlm plot` drawing: a run database built here (the metrics schema of
 * runtime/obs/rundb.c), rendered to PNG, decoded with stb_image: size, the line colours of
 * the drawn series present (and an unused one absent), text/axes drawn; errors for a missing
 * metric, file or table; the write is atomic (no temporary left behind). */
#include "test.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb_image.h>

static char dir[] = "/tmp/srlm_test_plot_XXXXXX";

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    CHECK(rc == SQLITE_OK, "%s: %s", sql, err ? err : "");
    sqlite3_free(err);
}

static void make_db(const char *path, int runs) {
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK, "open %s", path);
    exec(db, "CREATE TABLE runs (id INTEGER PRIMARY KEY, command TEXT NOT NULL, config TEXT, srlm_version TEXT NOT NULL,"
             " device TEXT, started_at TEXT NOT NULL, ended_at TEXT, status TEXT);"
             "CREATE TABLE metrics (run INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,"
             " name TEXT NOT NULL, value REAL, time REAL NOT NULL);");
    exec(db, "BEGIN");
    for (int r = 1; r <= runs; r++) {
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO runs VALUES (%d, 'train sft', '{}', '0.1', 'cpu', 'now', NULL, NULL)", r);
        exec(db, sql);
        for (int s = 0; s <= 300; s++) {
            double loss = 2.5 * exp(-s / 80.0) + 0.6 + 0.05 * sin(s * 0.7) + 0.1 * (r - 1);
            snprintf(sql, sizeof sql, "INSERT INTO metrics VALUES (%d, %d, 'loss', %.17g, %d)", r, s, loss, s);
            exec(db, sql);
            if (s % 25 == 0) {
                snprintf(sql, sizeof sql, "INSERT INTO metrics VALUES (%d, %d, 'eval_loss', %.17g, %d)", r, s,
                         loss + 0.2, s);
                exec(db, sql);
            }
        }
    }
    exec(db, "INSERT INTO metrics VALUES (1, 301, 'loss', NULL, 0)"); /* skipped, not drawn */
    exec(db, "COMMIT");
    sqlite3_close(db);
}

static int count_colour(const unsigned char *px, int w, int h, int r, int g, int b) {
    int n = 0;
    for (int i = 0; i < w * h; i++) n += px[3 * i] == r && px[3 * i + 1] == g && px[3 * i + 2] == b;
    return n;
}

static void check_png(const char *png, int w_expect, int h_expect, int lines, const char *what) {
    int w = 0, h = 0, ch = 0;
    unsigned char *px = stbi_load(png, &w, &h, &ch, 3);
    CHECK(px != NULL, "%s: PNG does not decode", what);
    if (!px) return;
    CHECK(w == w_expect && h == h_expect, "%s: size %dx%d", what, w, h);
    int c0 = count_colour(px, w, h, 31, 119, 180), c1 = count_colour(px, w, h, 255, 127, 14);
    int c2 = count_colour(px, w, h, 44, 160, 44), c3 = count_colour(px, w, h, 214, 39, 40);
    int black = count_colour(px, w, h, 0, 0, 0), white = count_colour(px, w, h, 255, 255, 255);
    printf("%s: %dx%d, colour pixels %d %d %d %d, black %d, white %d\n", what, w, h, c0, c1, c2, c3, black, white);
    CHECK(c0 > 200 && c1 > 30, "%s: line colours missing (%d, %d)", what, c0, c1);
    if (lines == 2) CHECK(c2 < 30 && c3 < 30, "%s: colours of series that do not exist (%d, %d)", what, c2, c3);
    if (lines == 4) CHECK(c2 > 30 && c3 > 30, "%s: third/fourth series missing (%d, %d)", what, c2, c3);
    CHECK(black > 1000 && white > w * h / 2, "%s: axes/text (%d black) or background (%d white)", what, black, white);
    stbi_image_free(px);
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    char db1[256], db2[256], png[256], png2[256], bad[256];
    snprintf(db1, sizeof db1, "%s/run.db", dir);
    snprintf(db2, sizeof db2, "%s/two_runs.db", dir);
    snprintf(png, sizeof png, "%s/loss.png", dir);
    snprintf(png2, sizeof png2, "%s/all.png", dir);
    snprintf(bad, sizeof bad, "%s/empty.db", dir);
    make_db(db1, 1);
    make_db(db2, 2);

    const char *names[] = {"loss", "eval_loss"};
    CHECK_OK(srlm_plot_metrics(db1, names, 2, png, 0, 0));
    check_png(png, 960, 540, 2, "loss+eval_loss");
    CHECK_OK(srlm_plot_metrics(db2, NULL, 0, png2, 800, 500));
    check_png(png2, 800, 500, 4, "two runs, all metrics");

    const char *missing[] = {"loss", "grad_norm"};
    CHECK_ERR(srlm_plot_metrics(db1, missing, 2, png, 0, 0), SRLM_ERR_NOT_FOUND, "grad_norm");
    CHECK_ERR(srlm_plot_metrics(bad, NULL, 0, png, 0, 0), SRLM_ERR_IO, "empty.db"); /* read-only: not created */
    CHECK(access(bad, F_OK) != 0, "opening read-only created %s", bad);
    sqlite3 *db = NULL;
    sqlite3_open(bad, &db);
    exec(db, "CREATE TABLE other (x)");
    sqlite3_close(db);
    CHECK_ERR(srlm_plot_metrics(bad, NULL, 0, png, 0, 0), SRLM_ERR_SQL, "metrics");
    CHECK_ERR(srlm_plot_metrics(db1, NULL, 0, png, 10, 10), SRLM_ERR_INVALID, "size");

    /* atomic write: only the final files remain */
    DIR *d = opendir(dir);
    int stray = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) stray += strstr(e->d_name, ".tmp") != NULL;
    if (d) closedir(d);
    CHECK(stray == 0, "%d temporary files left", stray);

    if (getenv("SRLM_PLOT_KEEP")) {
        printf("kept %s and %s\n", png, png2);
    } else {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return test_finish("test_plot");
}
