/* grpo_dump.c: a helper of test_grpo_parity.py (not a test by itself): one
 * srlm_trainer_accumulate of the GRPO loss on a seeded random batch, and what PyTorch checks:
 *   OUT/batch.json        ids, targets, weights, advantages, old/ref log-probs (or null), clip
 *                         eps, kl beta, srlm's loss terms, clip fraction, forward passes
 *   OUT/grads.safetensors every parameter gradient
 * MODE: "full" (old and reference log-probs: ratio, clipping and KL, two passes) or "plain"
 * (advantages only: ratio 1, one pass). It also checks that the log-probs the step returns
 * equal srlm_trainer_logprobs' bit for bit, and that batch rows and positions past the
 * batch's shape (padding) change nothing. */
#include "../test.h"
#include "train/train_step.h"

#include <stdlib.h>

static void write_arr_f(FILE *f, const char *name, const float *x, size_t n) {
    fprintf(f, ", \"%s\": ", name);
    if (!x) { fprintf(f, "null"); return; }
    fputc('[', f);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%.9g", i ? "," : "", x[i]);
    fputc(']', f);
}

static void write_arr_i(FILE *f, const char *name, const int32_t *x, size_t n) {
    fprintf(f, ", \"%s\": [", name);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", x[i]);
    fputc(']', f);
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: grpo_dump MODEL OUT ROWS T full|plain SEED\n");
        return 2;
    }
    const char *model = argv[1], *out = argv[2], *mode = argv[5];
    int R = atoi(argv[3]), T = atoi(argv[4]);
    unsigned long long seed = strtoull(argv[6], NULL, 10);
    int full = !strcmp(mode, "full");
    srlm_ctx_options co;
    srlm_ctx_options_default(&co);
    srlm_ctx *ctx;
    srlm_status st = srlm_ctx_create(&co, &ctx);
    if (st) { fprintf(stderr, "%s\n", srlm_status_msg(st)); return 1; }
    srlm_trainer_options o;
    srlm_trainer_options_default(&o);
    o.batch = R + 1, o.seq = T + 3; /* larger than the batch: the padding must not count */
    o.recompute = 0;
    o.max_grad_norm = 0;
    srlm_trainer *tr = NULL;
    CHECK_OK(srlm_trainer_create(ctx, model, &o, &tr));
    if (!tr) return 1;
    int V = tr->tm->cfg.vocab_size;
    size_t n = (size_t)R * (size_t)T;
    int32_t *ids = malloc(n * 4), *tg = malloc(n * 4);
    float *w = malloc(n * 4), *adv = malloc(n * 4), *old = malloc(n * 4), *ref = malloc(n * 4), *lp0 = malloc(n * 4),
          *lp1 = malloc(n * 4), *en = malloc(n * 4);
    int P = T / 4; /* the prompt: no loss */
    for (size_t i = 0; i < n; i++) ids[i] = (int32_t)(test_rand_u64(&seed) % (unsigned)V);
    for (int r = 0; r < R; r++) {
        float a = test_rand_uniform(&seed, -1.5f, 1.5f); /* one advantage per rollout, broadcast */
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)r * (size_t)T + (size_t)t;
            tg[i] = t + 1 < T ? ids[i + 1] : -100;
            w[i] = (t >= P && t + 1 < T) ? 1.0f / ((float)R * (float)(T - 1 - P)) : 0.0f;
            adv[i] = a;
        }
    }
    srlm_train_batch b = {.rows = R, .T = T, .ids = ids, .targets = tg, .weights = w, .advantages = adv};
    CHECK_OK(srlm_trainer_logprobs(tr, &b, lp0, en));
    if (full) {
        /* old and reference policies a little away from the current one: ratios on both sides
         * of the clip range, KL terms of both signs */
        for (size_t i = 0; i < n; i++) {
            old[i] = lp0[i] + test_rand_uniform(&seed, -0.5f, 0.5f);
            ref[i] = lp0[i] + test_rand_uniform(&seed, -0.5f, 0.5f);
        }
        b.old_logprob = old, b.ref_logprob = ref;
    }
    srlm_grpo_params g = {.clip_eps = 0.2f, .kl_beta = 0.5f}; /* a large beta so the KL gradient shows */
    srlm_train_step_stats s = {0};
    CHECK_OK(srlm_trainer_accumulate(tr, &b, &g, lp1, NULL, &s));
    CHECK(s.forward_passes == (full ? 2 : 1), "forward passes %d", s.forward_passes);
    CHECK(!memcmp(lp0, lp1, n * 4), "the step's log-probs differ from srlm_trainer_logprobs'");
    char path[2048];
    snprintf(path, sizeof path, "%s/grads.safetensors", out);
    CHECK_OK(srlm_model_save_safetensors(tr->tm->g, path, SRLM_DTYPE_F32));
    snprintf(path, sizeof path, "%s/batch.json", out);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fprintf(f, "{\"R\": %d, \"T\": %d, \"clip_eps\": %.9g, \"kl_beta\": %.9g, \"loss\": %.17g, \"pg_loss\": %.17g, "
                   "\"kl\": %.17g, \"clip_fraction\": %.17g",
                R, T, (double)g.clip_eps, (double)g.kl_beta, s.loss, s.pg_loss, s.kl, s.clip_fraction);
        write_arr_i(f, "ids", ids, n);
        write_arr_i(f, "targets", tg, n);
        write_arr_f(f, "weights", w, n);
        write_arr_f(f, "advantages", adv, n);
        write_arr_f(f, "old_logprob", full ? old : NULL, n);
        write_arr_f(f, "ref_logprob", full ? ref : NULL, n);
        write_arr_f(f, "logprob", lp1, n);
        write_arr_f(f, "entropy", en, n);
        fprintf(f, "}\n");
        fclose(f);
    }
    printf("grpo_dump %s: loss %.6g (pg %.6g, kl %.6g), clip fraction %.3f, %d forward passes\n", mode, s.loss, s.pg_loss, s.kl,
           s.clip_fraction, s.forward_passes);
    int verr = srlm_ctx_validation_errors(ctx);
    CHECK(verr == 0, "%d validation messages", verr);
    srlm_trainer_destroy(tr);
    srlm_ctx_destroy(ctx);
    free(ids), free(tg), free(w), free(adv), free(old), free(ref), free(lp0), free(lp1), free(en);
    return test_finish("grpo_dump");
}
