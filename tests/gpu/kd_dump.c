/* kd_dump.c: a helper of test_kd_parity.py (not a test by itself): one distillation
 * forward/backward of a student against a frozen f16 teacher on a seeded random batch, and
 * writes what PyTorch checks:
 *   OUT/batch.json        ids, targets, weights, B, T
 *   OUT/grads.safetensors every student parameter gradient
 *   OUT/loss.txt          ce (sum of -w logprob), kl (sum of w KL), loss = alpha ce + (1-alpha) tau^2 kl
 * Usage: kd_dump STUDENT TEACHER OUT B T ALPHA TAU DIR SEED */
#include "../test.h"
#include "train/kd.h"

#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 10) {
        fprintf(stderr, "usage: kd_dump STUDENT TEACHER OUT B T ALPHA TAU DIR SEED\n");
        return 2;
    }
    const char *student = argv[1], *teacher = argv[2], *out = argv[3];
    int B = atoi(argv[4]), T = atoi(argv[5]), dir = atoi(argv[8]);
    float alpha = (float)atof(argv[6]), tau = (float)atof(argv[7]);
    unsigned long long seed = strtoull(argv[9], NULL, 10);
    srlm_ctx_options o;
    srlm_ctx_options_default(&o);
    srlm_ctx *ctx;
    srlm_status st = srlm_ctx_create(&o, &ctx);
    if (st) { fprintf(stderr, "%s\n", srlm_status_msg(st)); return 1; }
    srlm_train_model *tm = NULL;
    srlm_kd *kd = NULL;
    CHECK_OK(srlm_train_model_create(ctx, student, B, T, 0, &tm));
    if (!tm) return 1;
    CHECK_OK(srlm_kd_create(tm, teacher, student, NULL, alpha, tau, dir, &kd));
    if (!kd) return 1;
    int N = B * T, V = tm->cfg.vocab_size;
    int32_t *ids = malloc((size_t)N * 4), *tg = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4), *seg = calloc((size_t)N, 4);
    float *w = malloc((size_t)N * 4), *l = malloc((size_t)N * 4);
    int valid = 0;
    for (int i = 0; i < N; i++) ids[i] = (int32_t)(test_rand_u64(&seed) % (unsigned)V);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int i = b * T + t;
            pos[i] = t;
            tg[i] = t + 1 < T ? ids[i + 1] : -100;
            if (tg[i] >= 0 && t >= T / 4) valid++;
        }
    for (int i = 0; i < N; i++) w[i] = (tg[i] >= 0 && i % T >= T / 4) ? 1.0f / (float)valid : 0.0f;
    CHECK_OK(srlm_buf_write(ctx, tm->ids, 0, ids, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->targets, 0, tg, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->weights, 0, w, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->pos, 0, pos, (uint64_t)N * 4));
    CHECK_OK(srlm_buf_write(ctx, tm->seg, 0, seg, (uint64_t)N * 4));
    srlm_cmd *fb;
    CHECK_OK(srlm_cmd_create(ctx, &fb));
    CHECK_OK(srlm_cmd_begin(fb));
    CHECK_OK(srlm_train_zero_grads(fb, tm));
    CHECK_OK(srlm_kd_record_teacher(fb, kd));
    CHECK_OK(srlm_train_record_fwdbwd(fb, tm));
    CHECK_OK(srlm_cmd_end(fb));
    CHECK_OK(srlm_cmd_run(fb));
    double ce = 0, kl = 0;
    CHECK_OK(srlm_buf_read(ctx, tm->loss, 0, l, (uint64_t)N * 4));
    for (int i = 0; i < N; i++) ce += l[i];
    CHECK_OK(srlm_kd_kl_sum(kd, w, &kl));
    char path[2048];
    snprintf(path, sizeof path, "%s/grads.safetensors", out);
    CHECK_OK(srlm_model_save_safetensors(tm->g, path, SRLM_DTYPE_F32));
    snprintf(path, sizeof path, "%s/loss.txt", out);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%.10g %.10g %.10g\n", ce, kl, alpha * ce + (1.0 - alpha) * tau * tau * kl);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/batch.json", out);
    f = fopen(path, "w");
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
    printf("kd_dump: ce %.6g kl %.6g\n", ce, kl);
    int verr = srlm_ctx_validation_errors(ctx);
    CHECK(verr == 0, "%d validation messages", verr);
    srlm_cmd_destroy(fb);
    srlm_kd_destroy(kd);
    srlm_train_model_destroy(tm);
    srlm_ctx_destroy(ctx);
    free(ids), free(tg), free(pos), free(seg), free(w), free(l);
    return test_finish("kd_dump");
}
