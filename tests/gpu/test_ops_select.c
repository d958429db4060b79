/* test_ops_select.c: logit_topk on the device against the CPU reference srlm_ref_topk
 * (ref_select.c) applied to y = x * invt, and a float64 log-sum-exp and entropy: random
 * rows, rows full of ties (few distinct values, an all-equal row), -inf masks, vocabulary
 * sizes 1, 13, 127 (one part), 5000 and 151,936 (many parts; the Qwen2.5 vocabulary),
 * k = 1 (argmax), 5, 40, 64, temperatures 1, 0.7 and 1.5; rows with NaN, +inf or only -inf
 * give NaN statistics. The selected ids must be identical, not close. */
#include "gpu_test.h"
#include "ops/ref.h"

#include <stdint.h>

static void run_case(gpu_env *g, const char *what, const float *x, const float *invt, uint32_t rows, uint32_t V, uint32_t k) {
    srlm_buf xb = gpu_alloc(g, (uint64_t)rows * V * 4, x), ib = gpu_alloc(g, rows * 4, invt);
    uint64_t sbytes = srlm_logit_topk_scratch_bytes(g->ctx, rows, V, k);
    srlm_buf sb = gpu_alloc(g, sbytes, NULL), oi = gpu_alloc(g, (uint64_t)rows * k * 4, NULL);
    srlm_buf ox = gpu_alloc(g, (uint64_t)rows * k * 4, NULL), os = gpu_alloc(g, (uint64_t)rows * 8, NULL);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_logit_topk(g->cmd, oi, ox, os, sb, xb, ib, rows, V, k));
    CHECK_OK(srlm_cmd_run(g->cmd));
    int32_t *gid = malloc((size_t)rows * k * 4);
    float *gx = malloc((size_t)rows * k * 4), *gs = malloc((size_t)rows * 8);
    gpu_read(g, oi, gid, (uint64_t)rows * k * 4);
    gpu_read(g, ox, gx, (uint64_t)rows * k * 4);
    gpu_read(g, os, gs, (uint64_t)rows * 8);
    float *y = malloc((size_t)V * 4);
    int *want = malloc((size_t)k * sizeof(int));
    size_t bad_ids = 0, bad_stats = 0;
    double worst = 0;
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * V;
        int has_bad = 0, finite = 0;
        double M = -INFINITY;
        for (uint32_t j = 0; j < V; j++) {
            y[j] = xr[j] * invt[r];
            if (isnan(xr[j]) || xr[j] == INFINITY) has_bad = 1;
            else if (xr[j] != -INFINITY) finite = 1, M = xr[j] > M ? xr[j] : M;
        }
        if (!has_bad) { /* ids are only specified for rows without NaN (NaN ranks as -inf in ref.h) */
            srlm_ref_topk(want, NULL, y, 1, (int)V, (int)k);
            for (uint32_t i = 0; i < k; i++) {
                int32_t id = gid[(size_t)r * k + i];
                float xv = gx[(size_t)r * k + i];
                if (id != want[i] || (id >= 0 && id < (int32_t)V && memcmp(&xv, &xr[id], 4))) {
                    if (bad_ids++ < 6)
                        fprintf(stderr, "    %s row %u rank %u: id %d want %d (x %.9g)\n", what, r, i, id, want[i], (double)xv);
                }
            }
        }
        float lse = gs[2 * r], H = gs[2 * r + 1];
        if (has_bad || !finite) {
            if (!isnan(lse) || !isnan(H)) bad_stats++;
            continue;
        }
        double S = 0, W = 0;
        for (uint32_t j = 0; j < V; j++)
            if (xr[j] != -INFINITY) {
                double e = exp((double)xr[j] - M);
                S += e, W += e * ((double)xr[j] - M);
            }
        double wl = M + log(S), wh = log(S) - W / S;
        double d = fmax(fabs(lse - wl), fabs(H - wh));
        if (d > worst) worst = d;
        if (!(d <= 1e-4 * fmax(1.0, fabs(wl)))) {
            if (bad_stats++ < 6) fprintf(stderr, "    %s row %u: lse %.7g want %.7g, H %.7g want %.7g\n", what, r, lse, wl, H, wh);
        }
    }
    CHECK(bad_ids == 0, "%s: %zu selected ids differ from srlm_ref_topk", what, bad_ids);
    CHECK(bad_stats == 0, "%s: %zu rows with wrong statistics", what, bad_stats);
    printf("  %-44s rows=%u V=%u k=%u ids exact, stats max|d| %.2g\n", what, rows, V, k, worst);
    free(gid), free(gx), free(gs), free(y), free(want);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return TEST_SKIP;
    unsigned long long seed = 77;
    static const uint32_t Vs[] = {1, 13, 127, 5000, 151936};
    static const uint32_t ks[] = {1, 5, 40, 64};
    const float temps[3] = {1.0f, 0.7f, 1.5f};
    for (int vi = 0; vi < 5; vi++) {
        uint32_t V = Vs[vi], rows = V > 10000 ? 3 : 6;
        float *x = malloc((size_t)rows * V * 4), invt[6];
        for (int ki = 0; ki < 4; ki++) {
            uint32_t k = ks[ki];
            if (k > V) continue;
            if (V > 10000 && k != 1 && k != 40) continue; /* CI time */
            for (uint32_t r = 0; r < rows; r++) {
                float *xr = x + (size_t)r * V;
                invt[r] = 1.0f / temps[r % 3];
                fill_random(xr, V, &seed, -12, 12);
                switch (r % 6) {
                case 1: /* few distinct values: ties everywhere, across parts too */
                    for (uint32_t j = 0; j < V; j++) xr[j] = floorf(xr[j] / 6.0f);
                    break;
                case 2: /* masked: most ids -inf, a few finite (fewer than k sometimes) */
                    for (uint32_t j = 0; j < V; j++)
                        if (j % 97 != 3) xr[j] = -INFINITY;
                    break;
                case 3: /* all equal */
                    for (uint32_t j = 0; j < V; j++) xr[j] = 0.25f;
                    break;
                case 4: /* maximum at the very end, a tie for it at the start */
                    xr[V - 1] = 30.0f;
                    xr[0] = 30.0f;
                    break;
                default: break;
                }
            }
            char what[64];
            snprintf(what, sizeof what, "V=%u k=%u mixed rows", V, k);
            run_case(&g, what, x, invt, rows, V, k);
        }
        free(x);
    }
    /* rows the sampler must refuse: NaN, +inf, only -inf (ids unspecified, stats NaN) */
    {
        enum { V = 300 };
        float x[3 * V], invt[3] = {1, 1, 1};
        fill_random(x, 3 * V, &seed, -3, 3);
        x[17] = NAN;
        x[V + 250] = INFINITY;
        for (int j = 0; j < V; j++) x[2 * V + j] = -INFINITY;
        run_case(&g, "NaN / +inf / all -inf rows", x, invt, 3, V, 5);
    }
    srlm_buf t = gpu_alloc(&g, 4096, NULL);
    CHECK_OK(srlm_cmd_begin(g.cmd));
    CHECK_ERR(srlm_op_logit_topk(g.cmd, t, t, t, t, t, t, 1, 100, 65), SRLM_ERR_INVALID, "k = 65");
    CHECK_ERR(srlm_op_logit_topk(g.cmd, t, t, t, t, t, t, 1, 3, 4), SRLM_ERR_INVALID, "k = 4");
    CHECK_ERR(srlm_op_logit_topk(g.cmd, t, t, t, t, t, t, 2, 1000, 5), SRLM_ERR_INVALID, "logits needs");
    CHECK_OK(srlm_cmd_end(g.cmd));
    return gpu_test_finish(&g, "ops_select");
}
