/* ref_check.h: helpers shared by the tests of the CPU op references (test_ref_*.c): random
 * inputs, comparison against a double-precision result with a printed report, and central
 * finite differences in double. Test-only; not part of the library. */
#ifndef SRLM_REF_CHECK_H
#define SRLM_REF_CHECK_H

#include "test.h"
#include "ops/ref.h"

static unsigned long long ref_seed = 0x5eed1234abcdULL;

static inline float *ref_randf(size_t n, float lo, float hi) {
    float *x = malloc((n ? n : 1) * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = test_rand_uniform(&ref_seed, lo, hi);
    return x;
}

static inline double *ref_to_d(const float *x, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

static inline double *ref_zeros_d(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

/* Compares got (float) with want (double): prints op, size, max abs err, max rel err
 * (max |got - want| / max |want|) and normalised squared error sum (got-want)^2 / sum want^2;
 * fails when the max rel err exceeds tol (or any value is NaN where want is not). Returns
 * the max rel err. */
static inline double ref_compare(const char *op, const char *size, const float *got, const double *want,
                          size_t n, double tol) {
    double max_abs = 0.0, max_ref = 0.0, se = 0.0, sr = 0.0;
    size_t worst = 0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (isnan(got[i]) && !isnan(want[i])) nan = 1;
        if (e > max_abs) { max_abs = e; worst = i; }
        if (fabs(want[i]) > max_ref) max_ref = fabs(want[i]);
        se += e * e;
        sr += want[i] * want[i];
    }
    double rel = max_abs / (max_ref > 0.0 ? max_ref : 1.0);
    double nse = se / (sr > 0.0 ? sr : 1.0);
    printf("  %-24s %-26s max abs err %.3e  max rel err %.3e  nse %.3e  (tol %.0e)\n", op, size,
           max_abs, rel, nse, tol);
    CHECK(!nan && rel <= tol, "%s %s: max rel err %.3e > %.0e (worst [%zu] got %.9g want %.9g)",
          op, size, rel, tol, worst, n ? (double)got[worst] : 0.0, n ? want[worst] : 0.0);
    return rel;
}

/* Same with a float reference (e.g. another reference op). */
static inline double ref_compare_f(const char *op, const char *size, const float *got, const float *want,
                            size_t n, double tol) {
    double *w = ref_to_d(want, n);
    double r = ref_compare(op, size, got, w, n, tol);
    free(w);
    return r;
}

/* The GPU-vs-reference check of docs/ops.md: normalised squared error
 * nse = sum (got - want)^2 / sum want^2 (in double) must be below tol. Prints op, size, nse,
 * max abs err and max rel err, and on failure the first few elements whose error exceeds
 * sqrt(tol) * rms(want) (and the worst one). A NaN or inf in got where want is finite fails.
 * Returns 1 when it passed. */
static inline int ref_check_nse(const char *op, const char *size, const float *got,
                                const float *want, size_t n, double tol) {
    double se = 0.0, sr = 0.0, max_abs = 0.0, max_ref = 0.0;
    size_t worst = 0, bad_values = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)got[i] - want[i];
        if (!isfinite(got[i]) && isfinite(want[i])) bad_values++;
        se += e * e;
        sr += (double)want[i] * want[i];
        if (fabs(e) > max_abs) { max_abs = fabs(e); worst = i; }
        if (fabs(want[i]) > max_ref) max_ref = fabs(want[i]);
    }
    double nse = se / (sr > 0.0 ? sr : 1.0);
    int ok = bad_values == 0 && nse < tol;
    printf("  %-24s %-26s nse %.3e  max abs err %.3e  max rel err %.3e  (tol nse %.0e)%s\n", op, size,
           nse, max_abs, max_abs / (max_ref > 0.0 ? max_ref : 1.0), tol, ok ? "" : "  FAILED");
    if (!ok) {
        double lim = sqrt(tol) * sqrt(sr / (n ? (double)n : 1.0));
        int shown = 0;
        for (size_t i = 0; i < n && shown < 5; i++)
            if (!(fabs((double)got[i] - want[i]) <= lim)) {
                printf("    [%zu] got %.9g want %.9g\n", i, (double)got[i], (double)want[i]);
                shown++;
            }
        if (n) printf("    worst [%zu] got %.9g want %.9g\n", worst, (double)got[worst], (double)want[worst]);
    }
    CHECK(ok, "%s %s: nse %.3e >= %.0e or %zu non-finite values", op, size, nse, tol, bad_values);
    return ok;
}

/* Central differences of the scalar loss(ctx) w.r.t. each of x[0..n-1] (perturbed in place
 * and restored), into g. Step h = 1e-5 * max(1, |x|): truncation ~1e-10 in double. */
static inline void ref_fd(double (*loss)(void *), void *ctx, double *x, size_t n, double *g) {
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], h = 1e-5 * (fabs(xi) > 1.0 ? fabs(xi) : 1.0);
        x[i] = xi + h;
        double lp = loss(ctx);
        x[i] = xi - h;
        double lm = loss(ctx);
        x[i] = xi;
        g[i] = (lp - lm) / (2.0 * h);
    }
}

static inline double ref_dot_d(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

#endif
