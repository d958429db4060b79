/* cmd_plot.c: `srlm plot RUN.db [--metric NAME ...] --out FILE.png`: a line chart of a run
 * database's metrics (srlm_plot_metrics). Not a viewer: it only writes the PNG. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static void plot_usage(FILE *f) {
    fprintf(f, "usage: srlm plot RUN.db [--metric NAME ...] --out FILE.png [--size WxH]\n"
               "  draws the named metrics (default: all) of every run in RUN.db against step\n");
}

int cmd_plot(int argc, char **argv) {
    const char *db = NULL, *out = NULL, *val = NULL;
    const char **names = calloc((size_t)argc, sizeof *names);
    size_t n = 0;
    int w = 0, h = 0;
    if (!names) return cli_usage_error("plot", "out of memory");
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) {
            plot_usage(stdout);
            free(names);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--metric", &val)) {
            names[n++] = val;
        } else if (cli_opt(argc, argv, &i, "--out", &val)) {
            out = val;
        } else if (cli_opt(argc, argv, &i, "--size", &val)) {
            if (sscanf(val, "%dx%d", &w, &h) != 2) {
                free(names);
                return cli_usage_error("plot", "--size wants WxH, got '%s'", val);
            }
        } else if (argv[i][0] != '-' && !db) {
            db = argv[i];
        } else {
            free(names);
            return cli_usage_error("plot", "unknown argument '%s'", argv[i]);
        }
    }
    if (!db || !out) {
        free(names);
        plot_usage(stderr);
        return 2;
    }
    srlm_status st = srlm_plot_metrics(db, names, n, out, w, h);
    free(names);
    if (st) return cli_fail("plot", st);
    fprintf(stderr, "srlm plot: wrote %s\n", out);
    return 0;
}
