/* test_ref_attention.c: the CPU references of RoPE (both layouts), grouped-query causal
 * attention (training forward/backward, packed segments, the paged KV-cache and decode
 * forms) and the embedding lookup, against double-precision twins written here, closed
 * forms and central finite differences in double. */
#include "ref_check.h"

#define TOL_FWD 1e-5
#define TOL_GRAD 1e-5

/* ---- RoPE ---------------------------------------------------------------------------- */

typedef struct { double *x, *dout; const int *pos; int N, NH, HS; double theta; srlm_rope_layout layout; } rope_ctx;

static void rope_fwd_d(const rope_ctx *c, double *y) {
    int half = c->HS / 2;
    for (int n = 0; n < c->N; n++)
        for (int h = 0; h < c->NH; h++)
            for (int i = 0; i < half; i++) {
                double ang = c->pos[n] * pow(c->theta, -2.0 * i / c->HS);
                int ia = c->layout == SRLM_ROPE_NEOX ? i : 2 * i;
                int ib = c->layout == SRLM_ROPE_NEOX ? i + half : 2 * i + 1;
                size_t base = ((size_t)n * c->NH + h) * c->HS;
                double a = c->x[base + ia], b = c->x[base + ib];
                y[base + ia] = a * cos(ang) - b * sin(ang);
                y[base + ib] = a * sin(ang) + b * cos(ang);
            }
}

static double rope_loss(void *p) {
    rope_ctx *c = p;
    size_t n = (size_t)c->N * c->NH * c->HS;
    double *y = ref_zeros_d(n);
    rope_fwd_d(c, y);
    double s = ref_dot_d(y, c->dout, n);
    free(y);
    return s;
}

static void test_rope(void) {
    printf("rope\n");
    int shapes[][3] = {{1, 1, 2}, {7, 3, 8}, {13, 2, 64}, {127, 2, 128}};
    const char *lname[] = {"neox", "interleaved"};
    for (int si = 0; si < 4; si++)
        for (int L = 0; L < 2; L++) {
            int N = shapes[si][0], NH = shapes[si][1], HS = shapes[si][2];
            size_t n = (size_t)N * NH * HS;
            char sz[64], nm[48];
            snprintf(sz, sizeof sz, "N=%d NH=%d HS=%d", N, NH, HS);
            int *pos = malloc((size_t)N * sizeof *pos);
            for (int i = 0; i < N; i++) pos[i] = (int)(test_rand_u64(&ref_seed) % 4096);
            float *x = ref_randf(n, -1, 1), *dout = ref_randf(n, -1, 1);
            float *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
            rope_ctx c = {ref_to_d(x, n), ref_to_d(dout, n), pos, N, NH, HS, 1e6, (srlm_rope_layout)L};
            double *want = ref_zeros_d(n);
            srlm_ref_rope_fwd(y, x, pos, N, NH, HS, 1e6f, (srlm_rope_layout)L);
            rope_fwd_d(&c, want);
            snprintf(nm, sizeof nm, "rope_fwd %s", lname[L]);
            ref_compare(nm, sz, y, want, n, TOL_FWD);
            // the rotation preserves each head's norm
            double worst = 0.0;
            for (size_t hd = 0; hd < (size_t)N * NH; hd++) {
                double a = 0.0, b = 0.0;
                for (int d = 0; d < HS; d++) {
                    a += (double)x[hd * HS + d] * x[hd * HS + d];
                    b += (double)y[hd * HS + d] * y[hd * HS + d];
                }
                worst = fmax(worst, fabs(sqrt(b) - sqrt(a)) / sqrt(a));
            }
            CHECK(worst < 1e-6, "rope %s %s preserves norms: worst rel change %.3e", lname[L], sz, worst);
            // in place gives the same result
            float *z = malloc(n * sizeof *z);
            memcpy(z, x, n * sizeof *z);
            srlm_ref_rope_fwd(z, z, pos, N, NH, HS, 1e6f, (srlm_rope_layout)L);
            CHECK(!memcmp(z, y, n * sizeof *z), "rope %s in place", lname[L]);
            if (n <= 20000) {
                double *g = ref_zeros_d(n);
                srlm_ref_rope_bwd(dx, dout, pos, N, NH, HS, 1e6f, (srlm_rope_layout)L);
                ref_fd(rope_loss, &c, c.x, n, g);
                snprintf(nm, sizeof nm, "rope_bwd %s", lname[L]);
                ref_compare(nm, sz, dx, g, n, TOL_GRAD);
                free(g);
            }
            free(pos); free(x); free(dout); free(y); free(dx); free(z); free(want); free(c.x); free(c.dout);
        }

    // position 0 is the identity; q.k after rotation depends only on the position difference
    float q[16], k[16], qr[16], kr[16], q2[16], k2[16];
    for (int i = 0; i < 16; i++) { q[i] = test_rand_uniform(&ref_seed, -1, 1); k[i] = test_rand_uniform(&ref_seed, -1, 1); }
    int p0 = 0, pa = 5, pb = 2, pc = 1003, pd = 1000;
    srlm_ref_rope_fwd(qr, q, &p0, 1, 1, 16, 10000.0f, SRLM_ROPE_NEOX);
    CHECK(!memcmp(qr, q, sizeof q), "rope at position 0 is the identity");
    for (int L = 0; L < 2; L++) {
        srlm_ref_rope_fwd(qr, q, &pa, 1, 1, 16, 10000.0f, (srlm_rope_layout)L);
        srlm_ref_rope_fwd(kr, k, &pb, 1, 1, 16, 10000.0f, (srlm_rope_layout)L);
        srlm_ref_rope_fwd(q2, q, &pc, 1, 1, 16, 10000.0f, (srlm_rope_layout)L);
        srlm_ref_rope_fwd(k2, k, &pd, 1, 1, 16, 10000.0f, (srlm_rope_layout)L);
        double d1 = 0.0, d2 = 0.0;
        for (int i = 0; i < 16; i++) { d1 += (double)qr[i] * kr[i]; d2 += (double)q2[i] * k2[i]; }
        CHECK(fabs(d1 - d2) < 1e-5, "rope %s: q.k at (5,2) %.7f vs (1003,1000) %.7f", lname[L], d1, d2);
    }
    // the table holds the values the rotation uses: rotating e_0 at position p gives (cos, sin)
    enum { TP = 300, THS = 64 };
    float *tc = malloc(TP * THS / 2 * sizeof *tc), *ts = malloc(TP * THS / 2 * sizeof *ts);
    srlm_ref_rope_table(tc, ts, TP, THS, 1e6f);
    int table_ok = 1;
    for (int p = 0; p < TP; p += 37)
        for (int i = 0; i < THS / 2; i++) {
            float e[THS] = {0}, r[THS];
            e[i] = 1.0f;
            srlm_ref_rope_fwd(r, e, &p, 1, 1, THS, 1e6f, SRLM_ROPE_NEOX);
            table_ok &= r[i] == tc[p * THS / 2 + i] && r[i + THS / 2] == ts[p * THS / 2 + i];
        }
    CHECK(table_ok, "rope_table matches the rotation's cos/sin");
    free(tc); free(ts);
    // the layouts are the same rotation on permuted channels: x'[2i] = x[i], x'[2i+1] = x[i+HS/2]
    float xp[16], yp[16];
    for (int i = 0; i < 8; i++) { xp[2 * i] = q[i]; xp[2 * i + 1] = q[i + 8]; }
    srlm_ref_rope_fwd(qr, q, &pc, 1, 1, 16, 10000.0f, SRLM_ROPE_NEOX);
    srlm_ref_rope_fwd(yp, xp, &pc, 1, 1, 16, 10000.0f, SRLM_ROPE_INTERLEAVED);
    int same = 1;
    for (int i = 0; i < 8; i++) same &= yp[2 * i] == qr[i] && yp[2 * i + 1] == qr[i + 8];
    CHECK(same, "interleaved rope == neox rope on permuted channels");
}

/* ---- attention ----------------------------------------------------------------------- */

typedef struct { double *q, *k, *v, *dout; const int *seg; int B, T, NH, NKV, HS; } att_ctx;

/* Naive double attention; also fills lse (B,NH,T) when given. */
static void att_fwd_d(const att_ctx *c, double *out, double *lse) {
    int T = c->T, HS = c->HS, grp = c->NH / c->NKV;
    double scale = 1.0 / sqrt((double)HS);
    double *s = malloc((size_t)T * sizeof *s);
    for (int b = 0; b < c->B; b++)
        for (int h = 0; h < c->NH; h++)
            for (int i = 0; i < T; i++) {
                const double *qi = c->q + (((size_t)b * T + i) * c->NH + h) * HS;
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j < T; j++) {
                    int ok = j <= i && (!c->seg || c->seg[b * T + j] == c->seg[b * T + i]);
                    s[j] = -INFINITY;
                    if (!ok) continue;
                    s[j] = ref_dot_d(qi, c->k + (((size_t)b * T + j) * c->NKV + h / grp) * HS, (size_t)HS) * scale;
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < T; j++) sum += s[j] == -INFINITY ? 0.0 : exp(s[j] - mx);
                double *oi = out + (((size_t)b * T + i) * c->NH + h) * HS;
                for (int d = 0; d < HS; d++) oi[d] = 0.0;
                for (int j = 0; j < T; j++) {
                    if (s[j] == -INFINITY) continue;
                    double p = exp(s[j] - mx) / sum;
                    const double *vj = c->v + (((size_t)b * T + j) * c->NKV + h / grp) * HS;
                    for (int d = 0; d < HS; d++) oi[d] += p * vj[d];
                }
                if (lse) lse[((size_t)b * c->NH + h) * T + i] = mx + log(sum);
            }
    free(s);
}

static double att_loss(void *p) {
    att_ctx *c = p;
    size_t n = (size_t)c->B * c->T * c->NH * c->HS;
    double *y = ref_zeros_d(n);
    att_fwd_d(c, y, NULL);
    double s = ref_dot_d(y, c->dout, n);
    free(y);
    return s;
}

static void test_attention_shape(int B, int T, int NH, int NKV, int HS, int with_seg, int with_fd) {
    char sz[80];
    snprintf(sz, sizeof sz, "B=%d T=%d NH=%d NKV=%d HS=%d%s", B, T, NH, NKV, HS, with_seg ? " seg" : "");
    size_t nq = (size_t)B * T * NH * HS, nk = (size_t)B * T * NKV * HS, nl = (size_t)B * NH * T;
    int *seg = NULL;
    if (with_seg) {  // a few packed samples per row
        seg = malloc((size_t)B * T * sizeof *seg);
        for (int b = 0; b < B; b++)
            for (int t = 0, id = 0; t < T; t++) {
                if (t > 0 && test_rand_u64(&ref_seed) % 4 == 0) id++;
                seg[b * T + t] = id;
            }
    }
    float *q = ref_randf(nq, -2, 2), *k = ref_randf(nk, -2, 2), *v = ref_randf(nk, -1, 1);
    float *dout = ref_randf(nq, -1, 1), *out = malloc(nq * sizeof *out), *lse = malloc(nl * sizeof *lse);
    att_ctx c = {ref_to_d(q, nq), ref_to_d(k, nk), ref_to_d(v, nk), ref_to_d(dout, nq), seg, B, T, NH, NKV, HS};
    double *want = ref_zeros_d(nq), *wlse = ref_zeros_d(nl);
    srlm_ref_attention_fwd(out, lse, NULL, q, k, v, seg, B, T, NH, NKV, HS);
    att_fwd_d(&c, want, wlse);
    ref_compare("attention_fwd out", sz, out, want, nq, TOL_FWD);
    ref_compare("attention_fwd lse", sz, lse, wlse, nl, TOL_FWD);
    if (T <= 127) {  // probabilities: rows sum to 1, zero where masked, and agree with lse
        float *att = malloc((size_t)B * NH * T * T * sizeof *att);
        srlm_ref_attention_fwd(out, NULL, att, q, k, v, seg, B, T, NH, NKV, HS);
        double worst = 0.0;
        int masked_ok = 1;
        for (size_t r = 0; r < (size_t)B * NH * T; r++) {
            int i = (int)(r % T), b = (int)(r / T / NH);
            double s = 0.0;
            for (int j = 0; j < T; j++) {
                s += att[r * T + j];
                int ok = j <= i && (!seg || seg[b * T + j] == seg[b * T + i]);
                if (!ok && att[r * T + j] != 0.0f) masked_ok = 0;
            }
            worst = fmax(worst, fabs(s - 1.0));
        }
        CHECK(worst < 1e-5 && masked_ok, "attention probabilities %s: worst |sum-1| %.3e, masked zero %d", sz,
              worst, masked_ok);
        free(att);
    }
    if (with_fd) {
        float *dq = malloc(nq * sizeof *dq), *dk = malloc(nk * sizeof *dk), *dv = malloc(nk * sizeof *dv);
        double *gq = ref_zeros_d(nq), *gk = ref_zeros_d(nk), *gv = ref_zeros_d(nk);
        srlm_ref_attention_bwd(dq, dk, dv, dout, out, lse, q, k, v, seg, B, T, NH, NKV, HS);
        ref_fd(att_loss, &c, c.q, nq, gq);
        ref_fd(att_loss, &c, c.k, nk, gk);
        ref_fd(att_loss, &c, c.v, nk, gv);
        ref_compare("attention_bwd dq", sz, dq, gq, nq, TOL_GRAD);
        ref_compare("attention_bwd dk", sz, dk, gk, nk, TOL_GRAD);
        ref_compare("attention_bwd dv", sz, dv, gv, nk, TOL_GRAD);
        free(dq); free(dk); free(dv); free(gq); free(gk); free(gv);
    }
    free(seg); free(q); free(k); free(v); free(dout); free(out); free(lse); free(want); free(wlse);
    free(c.q); free(c.k); free(c.v); free(c.dout);
}

static void test_attention(void) {
    printf("attention\n");
    test_attention_shape(1, 1, 1, 1, 1, 0, 1);
    test_attention_shape(2, 7, 4, 2, 8, 0, 1);
    test_attention_shape(1, 13, 3, 1, 5, 1, 1);
#if defined(__SANITIZE_ADDRESS__)  /* ASan runs ~20x slower: smaller long cases there */
    test_attention_shape(1, 61, 2, 1, 3, 0, 1);
    test_attention_shape(1, 300, 2, 1, 64, 0, 0);
#else
    test_attention_shape(1, 127, 2, 1, 3, 0, 1);
    test_attention_shape(1, 1000, 2, 1, 64, 0, 0);
#endif
    test_attention_shape(1, 13, 14, 2, 4, 1, 1);  // Qwen2.5-0.5B head grouping (7:1)
    test_attention_shape(2, 13, 14, 2, 64, 1, 0);

    // T = 1 returns v (each query head its group's value head)
    float q[4 * 8], k[2 * 8], v[2 * 8], out[4 * 8];
    for (int i = 0; i < 32; i++) q[i] = test_rand_uniform(&ref_seed, -3, 3);
    for (int i = 0; i < 16; i++) { k[i] = test_rand_uniform(&ref_seed, -3, 3); v[i] = test_rand_uniform(&ref_seed, -3, 3); }
    srlm_ref_attention_fwd(out, NULL, NULL, q, k, v, NULL, 1, 1, 4, 2, 8);
    int same = 1;
    for (int h = 0; h < 4; h++)
        for (int d = 0; d < 8; d++) same &= out[h * 8 + d] == v[(h / 2) * 8 + d];
    CHECK(same, "attention with T=1 returns v");

    // packed segments behave exactly as separate sequences
    enum { T1 = 5, T2 = 8, NH = 2, HS = 4 };
    int seg[T1 + T2];
    for (int t = 0; t < T1 + T2; t++) seg[t] = t < T1 ? 7 : 9;
    float *pq = ref_randf((T1 + T2) * NH * HS, -2, 2), *pk = ref_randf((T1 + T2) * HS, -2, 2);
    float *pv = ref_randf((T1 + T2) * HS, -2, 2), *po = malloc((T1 + T2) * NH * HS * sizeof *po);
    float *so = malloc((T1 + T2) * NH * HS * sizeof *so);
    srlm_ref_attention_fwd(po, NULL, NULL, pq, pk, pv, seg, 1, T1 + T2, NH, 1, HS);
    srlm_ref_attention_fwd(so, NULL, NULL, pq, pk, pv, NULL, 1, T1, NH, 1, HS);
    srlm_ref_attention_fwd(so + T1 * NH * HS, NULL, NULL, pq + T1 * NH * HS, pk + T1 * HS, pv + T1 * HS, NULL,
                           1, T2, NH, 1, HS);
    CHECK(!memcmp(po, so, (T1 + T2) * NH * HS * sizeof *po), "packed segments == separate sequences");
    free(pq); free(pk); free(pv); free(po); free(so);
}

/* The paged KV-cache form and decode against the training forward on the same K/V. */
static void test_attention_kv(void) {
    printf("attention over a paged KV cache\n");
    enum { S = 4, NH = 14, NKV = 2, HS = 64, BS = 16, MAXB = 8 };
    int lens[S] = {1, 13, 16, 127};
    int nblocks = S * MAXB, table[S * MAXB];
    // a shuffled block assignment, so sequences interleave in the cache
    int perm[S * MAXB];
    for (int i = 0; i < nblocks; i++) perm[i] = i;
    for (int i = nblocks - 1; i > 0; i--) {
        int j = (int)(test_rand_u64(&ref_seed) % (unsigned)(i + 1)), t = perm[i];
        perm[i] = perm[j]; perm[j] = t;
    }
    for (int i = 0; i < nblocks; i++) table[i] = perm[i];
    size_t row = (size_t)NKV * HS, ncache = (size_t)nblocks * BS * row;
    float *kc = ref_randf(ncache, -2, 2), *vc = ref_randf(ncache, -2, 2);
    uint16_t *kc16 = malloc(ncache * 2), *vc16 = malloc(ncache * 2);
    srlm_ref_f32_to_f16_fwd(kc16, kc, ncache);
    srlm_ref_f32_to_f16_fwd(vc16, vc, ncache);
    float *kw = malloc(ncache * sizeof *kw), *vw = malloc(ncache * sizeof *vw);  // widened f16
    srlm_ref_f16_to_f32_fwd(kw, kc16, ncache);
    srlm_ref_f16_to_f32_fwd(vw, vc16, ncache);

    int NQ = 0;
    for (int s = 0; s < S; s++) NQ += lens[s];
    int *qseq = malloc((size_t)NQ * sizeof *qseq), *qpos = malloc((size_t)NQ * sizeof *qpos);
    for (int s = 0, r = 0; s < S; s++)
        for (int p = 0; p < lens[s]; p++, r++) { qseq[r] = s; qpos[r] = p; }
    size_t nq = (size_t)NQ * NH * HS;
    float *q = ref_randf(nq, -2, 2), *o32 = malloc(nq * sizeof *o32), *o16 = malloc(nq * sizeof *o16);
    float *ow = malloc(nq * sizeof *ow), *want = malloc(nq * sizeof *want);
    srlm_ref_attention_kv_fwd(o32, q, kc, vc, table, qseq, qpos, NQ, NH, NKV, HS, BS, MAXB);
    srlm_ref_attention_kv_fwd_f16(o16, q, kc16, vc16, table, qseq, qpos, NQ, NH, NKV, HS, BS, MAXB);
    srlm_ref_attention_kv_fwd(ow, q, kw, vw, table, qseq, qpos, NQ, NH, NKV, HS, BS, MAXB);
    CHECK(!memcmp(o16, ow, nq * sizeof *o16), "kv form: f16 cache == f32 cache of the widened values");

    // each sequence gathered contiguously and run through the training forward
    for (int s = 0, r0 = 0; s < S; s++) {
        int T = lens[s];
        float *ks = malloc((size_t)T * row * sizeof *ks), *vs = malloc((size_t)T * row * sizeof *vs);
        for (int p = 0; p < T; p++) {
            size_t at = ((size_t)table[s * MAXB + p / BS] * BS + p % BS) * row;
            memcpy(ks + (size_t)p * row, kc + at, row * sizeof *ks);
            memcpy(vs + (size_t)p * row, vc + at, row * sizeof *vs);
        }
        srlm_ref_attention_fwd(want + (size_t)r0 * NH * HS, NULL, NULL, q + (size_t)r0 * NH * HS, ks, vs, NULL, 1,
                               T, NH, NKV, HS);
        r0 += T;
        free(ks); free(vs);
    }
    ref_compare_f("attention_kv_fwd vs fwd", "S=4 lens 1,13,16,127", o32, want, nq, 1e-6);

    // decode: the last position of each sequence, one query row per sequence
    float *qd = malloc((size_t)S * NH * HS * sizeof *qd), *od = malloc((size_t)S * NH * HS * sizeof *od);
    float *wd = malloc((size_t)S * NH * HS * sizeof *wd);
    for (int s = 0, r0 = 0; s < S; s++) {
        r0 += lens[s];
        memcpy(qd + (size_t)s * NH * HS, q + (size_t)(r0 - 1) * NH * HS, (size_t)NH * HS * sizeof *qd);
        memcpy(wd + (size_t)s * NH * HS, o16 + (size_t)(r0 - 1) * NH * HS, (size_t)NH * HS * sizeof *wd);
    }
    srlm_ref_attention_decode_f16(od, qd, kc16, vc16, table, lens, S, NH, NKV, HS, BS, MAXB);
    CHECK(!memcmp(od, wd, (size_t)S * NH * HS * sizeof *od), "decode_f16 == kv form at the last positions");
    printf("  kv form (f32 and f16 cache) and decode agree with the training forward\n");
    free(kc); free(vc); free(kc16); free(vc16); free(kw); free(vw); free(qseq); free(qpos);
    free(q); free(o32); free(o16); free(ow); free(want); free(qd); free(od); free(wd);
}

/* ---- embedding ----------------------------------------------------------------------- */

typedef struct { double *wte, *dout; const int *ids; int N, V, C; } emb_ctx;

static double emb_loss(void *p) {
    emb_ctx *c = p;
    double s = 0.0;
    for (int n = 0; n < c->N; n++) {
        if (c->ids[n] < 0 || c->ids[n] >= c->V) continue;
        s += ref_dot_d(c->wte + (size_t)c->ids[n] * c->C, c->dout + (size_t)n * c->C, (size_t)c->C);
    }
    return s;
}

static void test_embedding(void) {
    printf("embedding\n");
    int shapes[][3] = {{1, 1, 1}, {127, 13, 7}, {13, 4099, 64}};
    for (int si = 0; si < 3; si++) {
        int N = shapes[si][0], V = shapes[si][1], C = shapes[si][2];
        char sz[64];
        snprintf(sz, sizeof sz, "N=%d V=%d C=%d", N, V, C);
        int *ids = malloc((size_t)N * sizeof *ids);
        for (int n = 0; n < N; n++) ids[n] = (int)(test_rand_u64(&ref_seed) % (unsigned)(V + 2)) - 1;  // -1 and V too
        if (N == 1) ids[0] = 0;
        size_t nw = (size_t)V * C, ny = (size_t)N * C;
        float *wte = ref_randf(nw, -1, 1), *dout = ref_randf(ny, -1, 1), *y = malloc(ny * sizeof *y);
        uint16_t *w16 = malloc(nw * 2);
        srlm_ref_f32_to_f16_fwd(w16, wte, nw);
        srlm_ref_embedding_fwd(y, ids, wte, N, V, C);
        int ok = 1;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                ok &= y[(size_t)n * C + c] == (ids[n] < 0 || ids[n] >= V ? 0.0f : wte[(size_t)ids[n] * C + c]);
        CHECK(ok, "embedding_fwd %s: rows copied, out-of-range ids give zero rows", sz);
        srlm_ref_embedding_fwd_f16(y, ids, w16, N, V, C);
        ok = 1;
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                ok &= y[(size_t)n * C + c] ==
                      (ids[n] < 0 || ids[n] >= V ? 0.0f : srlm_ref_f16_to_f32(w16[(size_t)ids[n] * C + c]));
        CHECK(ok, "embedding_fwd_f16 %s", sz);
        float *dw = malloc(nw * sizeof *dw);
        srlm_ref_fill(dw, 0.125f, nw);
        srlm_ref_embedding_bwd(dw, dout, ids, N, V, C);
        emb_ctx c = {ref_to_d(wte, nw), ref_to_d(dout, ny), ids, N, V, C};
        double *g = ref_zeros_d(nw);
        if (nw * ny <= 5000000) ref_fd(emb_loss, &c, c.wte, nw, g);
        else  // large: the scatter-add written out in double
            for (int n = 0; n < N; n++)
                if (ids[n] >= 0 && ids[n] < V)
                    for (int k = 0; k < C; k++) g[(size_t)ids[n] * C + k] += c.dout[(size_t)n * C + k];
        for (size_t i = 0; i < nw; i++) g[i] += 0.125;
        ref_compare("embedding_bwd(+=)", sz, dw, g, nw, TOL_GRAD);
        free(ids); free(wte); free(dout); free(y); free(w16); free(dw); free(c.wte); free(c.dout); free(g);
    }
}

#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
    void (*cases[])(void) = {test_rope, test_attention, test_attention_kv, test_embedding};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double t0 = now_s();
        cases[i]();
        printf("  (%.2f s)\n", now_s() - t0);
    }
    return test_finish("test_ref_attention");
}
