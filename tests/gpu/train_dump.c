/* train_dump.c: a helper of test_train_parity.py (not a test by itself): runs S training
 * steps of a model on a seeded random batch and writes what PyTorch checks:
 *   OUT/batch.json        ids, targets, weights, B, T
 *   OUT/grads.safetensors every parameter gradient after the first forward/backward
 *   OUT/losses.txt        the loss of each step (before its update)
 * With --determinism it instead runs the first step twice from the same start and prints
 * whether every parameter's bits match (FNV-1a hashes). */
#include "../test.h"
#include "train/train_model.h"

#include <stdlib.h>

static uint64_t hash_model(srlm_model *m) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < srlm_model_tensor_count(&m->cfg); i++) {
        srlm_buf *b = srlm_model_tensor(m, i);
        uint8_t *d = malloc(b->size);
        if (!d || srlm_buf_read(m->ctx, *b, 0, d, b->size)) { free(d); return 0; }
        for (uint64_t k = 0; k < b->size; k++) h = (h ^ d[k]) * 1099511628211ull;
        free(d);
    }
    return h;
}

static srlm_status run_step(srlm_train_model *tm, srlm_cmd *fb, srlm_cmd *opt, int t, float lr, double *loss) {
    float hp[SRLM_ADAMW_PARAM_FLOATS];
    srlm_adamw_params(hp, lr, 0.9f, 0.999f, 0.1f, t, 1.0f);
    SRLM_TRY(srlm_buf_write(tm->ctx, tm->hp, 0, hp, sizeof hp));
    SRLM_TRY(srlm_cmd_run(fb));
    float *l = malloc((size_t)tm->N * 4);
    if (!l) return srlm_errorf(SRLM_ERR_OOM, "oom");
    srlm_status st = srlm_buf_read(tm->ctx, tm->loss, 0, l, (uint64_t)tm->N * 4);
    double s = 0;
    for (int i = 0; i < tm->N; i++) s += l[i];
    free(l);
    *loss = s;
    return st ? st : srlm_cmd_run(opt);
}

int main(int argc, char **argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: train_dump MODEL OUT B T STEPS LR SEED [--recompute] [--determinism]\n");
        return 2;
    }
    const char *model = argv[1], *out = argv[2];
    int B = atoi(argv[3]), T = atoi(argv[4]), S = atoi(argv[5]);
    float lr = (float)atof(argv[6]);
    unsigned long long seed = strtoull(argv[7], NULL, 10);
    int recompute = 0, determinism = 0;
    for (int i = 8; i < argc; i++) {
        if (!strcmp(argv[i], "--recompute")) recompute = 1;
        if (!strcmp(argv[i], "--determinism")) determinism = 1;
    }
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    srlm_ctx *ctx;
    srlm_status st = srlm_ctx_create(&o, &ctx);
    if (st) { fprintf(stderr, "%s\n", srlm_status_msg(st)); return 1; }
    srlm_train_model *tm = NULL;
    CHECK_OK(srlm_train_model_create(ctx, model, B, T, recompute, &tm));
    if (!tm) return 1;
    int N = B * T, V = tm->cfg.vocab_size;
    int32_t *ids = malloc((size_t)N * 4), *tg = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4), *seg = calloc((size_t)N, 4);
    float *w = malloc((size_t)N * 4);
    int valid = 0;
    for (int i = 0; i < N; i++) ids[i] = (int32_t)(test_rand_u64(&seed) % (unsigned)V);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            pos[i] = t;
            tg[i] = t + 1 < T ? ids[i + 1] : -100;         /* the last position has no target */
            if (tg[i] >= 0 && t >= T / 4) valid++;          /* the first quarter acts as a prompt */
        }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            w[i] = (tg[i] >= 0 && t >= T / 4) ? 1.0f / (float)valid : 0.0f;
        }
    CHECK_OK(srlm_buf_write(ctx, tm->ids, 0, ids, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->targets, 0, tg, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->weights, 0, w, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->pos, 0, pos, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->seg, 0, seg, (uint64_t)N * 4));
    srlm_cmd *fb, *opt;
    CHECK_OK(srlm_cmd_create(ctx, &fb));
    CHECK_OK(srlm_cmd_create(ctx, &opt));
    CHECK_OK(srlm_cmd_begin(fb));
    CHECK_OK(srlm_train_zero_grads(fb, tm));
    CHECK_OK(srlm_train_record_fwdbwd(fb, tm));
    CHECK_OK(srlm_cmd_end(fb));
    CHECK_OK(srlm_cmd_begin(opt));
    CHECK_OK(srlm_train_record_step(opt, tm, 0.9f, 0.999f, 1e-8f, 0.0f));
    CHECK_OK(srlm_cmd_end(opt));
    if (determinism) {
        /* the same step twice from the same start: bit-identical parameters */
        srlm_train_model *tm2 = NULL;
        double l1, l2;
        CHECK_OK(run_step(tm, fb, opt, 1, lr, &l1));
        uint64_t h1 = hash_model(tm->w);
        CHECK_OK(srlm_train_model_create(ctx, model, B, T, recompute, &tm2));
        srlm_train_model *keep = tm;
        (void)keep;
        /* re-record for the second model */
        srlm_cmd *fb2, *opt2;
        CHECK_OK(srlm_cmd_create(ctx, &fb2));
        CHECK_OK(srlm_cmd_create(ctx, &opt2));
        CHECK_OK(srlm_buf_write(ctx, tm2->ids, 0, ids, (uint64_t)N * 4));
        CHECK_OK(srlm_buf_write(ctx, tm2->targets, 0, tg, (uint64_t)N * 4));
        CHECK_OK(srlm_buf_write(ctx, tm2->weights, 0, w, (uint64_t)N * 4));
        CHECK_OK(srlm_buf_write(ctx, tm2->pos, 0, pos, (uint64_t)N * 4));
        CHECK_OK(srlm_buf_write(ctx, tm2->seg, 0, seg, (uint64_t)N * 4));
        CHECK_OK(srlm_cmd_begin(fb2));
        CHECK_OK(srlm_train_zero_grads(fb2, tm2));
        CHECK_OK(srlm_train_record_fwdbwd(fb2, tm2));
        CHECK_OK(srlm_cmd_end(fb2));
        CHECK_OK(srlm_cmd_begin(opt2));
        CHECK_OK(srlm_train_record_step(opt2, tm2, 0.9f, 0.999f, 1e-8f, 0.0f));
        CHECK_OK(srlm_cmd_end(opt2));
        CHECK_OK(run_step(tm2, fb2, opt2, 1, lr, &l2));
        uint64_t h2 = hash_model(tm2->w);
        printf("determinism: loss %.9g vs %.9g, parameter hash %016llx vs %016llx\n", l1, l2, (unsigned long long)h1,
               (unsigned long long)h2);
        CHECK(h1 == h2 && h1 != 0 && l1 == l2, "one step twice is not bit-identical");
        srlm_cmd_destroy(fb2), srlm_cmd_destroy(opt2);
        srlm_train_model_destroy(tm2);
    } else {
        char path[2048];
        snprintf(path, sizeof path, "%s/batch.json", out);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "{\"B\": %d, \"T\": %d, \"ids\": [", B, T);
            for (int i = 0; i < N; i++) fprintf(f, "%s%d", i ? "," : "", ids[i]);
            fprintf(f, "], \"targets\": [");
            for (int i = 0; i < N; i++) fprintf(f, "%s%d", i ? "," : "", tg[i]);
            fprintf(f, "], \"weights\": [");
            for (int i = 0; i < N; i++) fprintf(f, "%s%.9g", i ? "," : "", w[i]);
            fprintf(f, "]}\n");
            fclose(f);
        }
        snprintf(path, sizeof path, "%s/losses.txt", out);
        FILE *lf = fopen(path, "w");
        for (int t = 1; t <= S && lf; t++) {
            double loss = 0;
            if (t == 1) {
                CHECK_OK(srlm_cmd_run(fb));
                char gp[2048];
                snprintf(gp, sizeof gp, "%s/grads.safetensors", out);
                CHECK_OK(srlm_model_save_safetensors(tm->g, gp, SRLM_DTYPE_F32));
            }
            CHECK_OK(run_step(tm, fb, opt, t, lr, &loss));
            fprintf(lf, "%.10g\n", loss);
        }
        if (lf) fclose(lf);
    }
    int verr = srlm_ctx_validation_errors(ctx);
    CHECK(verr == 0, "%d validation messages", verr);
    srlm_cmd_destroy(fb), srlm_cmd_destroy(opt);
    srlm_train_model_destroy(tm);
    srlm_ctx_destroy(ctx);
    free(ids), free(tg), free(pos), free(seg), free(w);
    return test_finish("train_dump");
}
