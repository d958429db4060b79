/* test_attn_train.c: training attention (attn_fwd, attn_bwd) against the CPU reference in
 * ops/ref.h (itself checked by finite differences in test_ref_attention): out, lse, dq, dk,
 * dv at awkward shapes, with and without packed-sample segments, grouped-query heads, one
 * or several heads (fwd, dq) and keys (dk/dv) per invocation; the
 * backward run twice must give bit-identical gradients (no atomics). */
#include "gpu_test.h"
#include "ops/ref.h"

static void run_case(gpu_env *g, uint32_t B, uint32_t T, uint32_t NH, uint32_t NKV, uint32_t HS, int use_seg, uint32_t hp) {
    unsigned long long seed = 99 + B * 1000 + T * 10 + HS;
    size_t nq = (size_t)B * T * NH * HS, nk = (size_t)B * T * NKV * HS, nl = (size_t)B * NH * T;
    float *q = malloc(nq * 4), *k = malloc(nk * 4), *v = malloc(nk * 4), *dout = malloc(nq * 4);
    float *out = malloc(nq * 4), *lse = malloc(nl * 4), *dq = malloc(nq * 4), *dk = malloc(nk * 4), *dv = malloc(nk * 4);
    float *gout = malloc(nq * 4), *glse = malloc(nl * 4), *gdq = malloc(nq * 4), *gdk = malloc(nk * 4), *gdv = malloc(nk * 4);
    float *gdq2 = malloc(nq * 4), *gdk2 = malloc(nk * 4), *gdv2 = malloc(nk * 4);
    int *seg = malloc((size_t)B * T * sizeof *seg);
    fill_random(q, nq, &seed, -2, 2);
    fill_random(k, nk, &seed, -2, 2);
    fill_random(v, nk, &seed, -1, 1);
    fill_random(dout, nq, &seed, -1, 1);
    /* segments: runs of random length 1..6 per sequence */
    for (uint32_t b = 0; b < B; b++) {
        int id = 0, left = 0;
        for (uint32_t t = 0; t < T; t++) {
            if (left-- <= 0) id++, left = (int)(test_rand_u64(&seed) % 6);
            seg[b * T + t] = id;
        }
    }
    srlm_ref_attention_fwd(out, lse, NULL, q, k, v, use_seg ? seg : NULL, (int)B, (int)T, (int)NH, (int)NKV, (int)HS);
    srlm_ref_attention_bwd(dq, dk, dv, dout, out, lse, q, k, v, use_seg ? seg : NULL, (int)B, (int)T, (int)NH, (int)NKV, (int)HS);

    srlm_buf bq = gpu_alloc(g, nq * 4, q), bk = gpu_alloc(g, nk * 4, k), bv = gpu_alloc(g, nk * 4, v);
    srlm_buf bdo = gpu_alloc(g, nq * 4, dout), bo = gpu_alloc(g, nq * 4, NULL), bl = gpu_alloc(g, nl * 4, NULL);
    srlm_buf bdq = gpu_alloc(g, nq * 4, NULL), bdk = gpu_alloc(g, nk * 4, NULL), bdv = gpu_alloc(g, nk * 4, NULL);
    srlm_buf bs = gpu_alloc(g, nl * 4, NULL);
    srlm_buf bseg = {0};
    if (use_seg) bseg = gpu_alloc(g, (size_t)B * T * 4, seg);
    CHECK_OK(srlm_cmd_begin(g->cmd));
    CHECK_OK(srlm_op_attention_fwd_hp(g->cmd, bo, bl, bq, bk, bv, bseg, B, T, NH, NKV, HS, hp));
    CHECK_OK(srlm_op_attention_bwd_hp(g->cmd, bdq, bdk, bdv, bs, bdo, bo, bl, bq, bk, bv, bseg, B, T, NH, NKV, HS, hp, hp == 1 ? 1 : 3));
    CHECK_OK(srlm_cmd_run(g->cmd));
    gpu_read(g, bo, gout, nq * 4);
    gpu_read(g, bl, glse, nl * 4);
    gpu_read(g, bdq, gdq, nq * 4);
    gpu_read(g, bdk, gdk, nk * 4);
    gpu_read(g, bdv, gdv, nk * 4);
    char name[96];
    const char *what[5] = {"out", "lse", "dq", "dk", "dv"};
    const float *got[5] = {gout, glse, gdq, gdk, gdv}, *want[5] = {out, lse, dq, dk, dv};
    size_t ns[5] = {nq, nl, nq, nk, nk};
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "B=%u T=%u NH=%u/%u HS=%u hp=%u kp=%u%s %s", B, T, NH, NKV, HS, hp, hp == 1 ? 1 : 3, use_seg ? " seg" : "", what[i]);
        check_close(name, got[i], want[i], ns[i], 1e-7);
    }
    /* determinism: the same backward again gives the same bits */
    CHECK_OK(srlm_cmd_run(g->cmd));
    gpu_read(g, bdq, gdq2, nq * 4);
    gpu_read(g, bdk, gdk2, nk * 4);
    gpu_read(g, bdv, gdv2, nk * 4);
    CHECK(!memcmp(gdq, gdq2, nq * 4) && !memcmp(gdk, gdk2, nk * 4) && !memcmp(gdv, gdv2, nk * 4), "backward is not bit-reproducible");
    free(q), free(k), free(v), free(dout), free(out), free(lse), free(dq), free(dk), free(dv);
    free(gout), free(glse), free(gdq), free(gdk), free(gdv), free(gdq2), free(gdk2), free(gdv2), free(seg);
}

int main(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return TEST_SKIP;
    /* heads per invocation: 1 (the GPU form) and the whole group (the CPU form) */
    for (uint32_t hp = 1; hp <= 2; hp++) {
        run_case(&g, 1, 1, 4, 1, 16, 0, hp == 1 ? 1 : 4);
        run_case(&g, 2, 13, 4, 2, 8, 0, hp);
        run_case(&g, 2, 13, 4, 2, 8, 1, hp);
        run_case(&g, 3, 7, 2, 2, 4, 1, 1);
        run_case(&g, 1, 127, 14, 2, 64, 0, hp == 1 ? 1 : 7);
        run_case(&g, 2, 100, 14, 2, 64, 1, hp == 1 ? 1 : 7);
    }
    srlm_buf x = gpu_alloc(&g, 4096, NULL);
    CHECK_OK(srlm_cmd_begin(g.cmd));
    CHECK_ERR(srlm_op_attention_fwd(g.cmd, x, x, x, x, x, (srlm_buf){0}, 1, 4, 3, 2, 8), SRLM_ERR_INVALID, "NH=3");
    CHECK_ERR(srlm_op_attention_fwd(g.cmd, x, x, x, x, x, (srlm_buf){0}, 1, 4, 4, 2, 6), SRLM_ERR_INVALID, "HS=6");
    CHECK_ERR(srlm_op_attention_fwd(g.cmd, x, x, x, x, x, (srlm_buf){0}, 1, 400, 4, 2, 8), SRLM_ERR_INVALID, "q needs");
    CHECK_ERR(srlm_op_attention_fwd_hp(g.cmd, x, x, x, x, x, (srlm_buf){0}, 1, 4, 14, 2, 8, 3), SRLM_ERR_INVALID, "divide");
    CHECK_OK(srlm_cmd_end(g.cmd));
    return gpu_test_finish(&g, "attn_train");
}
