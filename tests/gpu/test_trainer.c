/* test_trainer.c: the GRPO hooks through the public API only (srlm_trainer_*), on a tiny
 * random model:
 *   - an engine over srlm_trainer_model samples the policy; the log-probs the trainer computes
 *     for the sampled tokens equal the sampler's (what GRPO's old log-probs rely on);
 *   - GRPO steps (on-policy old log-probs, a frozen reference, +1 advantage for a chosen
 *     continuation, -1 for the model's own) change what the SAME engine generates, without a
 *     reload: greedy decoding then yields the chosen continuation, and the engine's log-probs
 *     again equal the trainer's for the trained weights;
 *   - gradient accumulation: two half-batches accumulated equal one whole batch's step;
 *   - bad batches are refused with messages. */
#include "../test.h"
#include "../tmpdir.h"
#include "srlm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT 4
#define GEN 10
#define TT (PROMPT + GEN)

static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

/* Greedy continuation of the prompt; its tokens and the sampler's log-probs. */
static void greedy(srlm_engine *e, const int32_t *prompt, int32_t *out, float *lp) {
    srlm_sample_params sp;
    srlm_sample_params_default(&sp);
    sp.temperature = 0;
    sp.max_tokens = GEN;
    size_t np = PROMPT;
    srlm_gen_result r = {0};
    CHECK_OK(srlm_generate(e, NULL, 1, &prompt, &np, &sp, NULL, NULL, &r, NULL));
    CHECK(r.n_tokens == GEN, "generated %zu tokens", r.n_tokens);
    for (size_t i = 0; i < GEN; i++) {
        out[i] = i < r.n_tokens ? r.tokens[i] : -1;
        lp[i] = i < r.n_tokens ? r.logprob[i] : 0;
    }
    srlm_gen_result_free(&r);
}

/* A row of prompt + continuation: ids, next-token targets, weights on the continuation. */
static void make_row(const int32_t *prompt, const int32_t *cont, int32_t *ids, int32_t *tg, float *w, float wv) {
    for (int t = 0; t < TT; t++) ids[t] = t < PROMPT ? prompt[t] : cont[t - PROMPT];
    for (int t = 0; t < TT; t++) {
        tg[t] = t + 1 < TT ? ids[t + 1] : -100;
        w[t] = t >= PROMPT - 1 && t + 1 < TT ? wv : 0.0f;
    }
}

/* The trainer's log-probs of the continuation tokens (positions PROMPT-1 .. TT-2). */
static void cont_logprobs(srlm_trainer *tr, const int32_t *prompt, const int32_t *cont, float *lp) {
    int32_t ids[TT], tg[TT];
    float w[TT], all[TT];
    make_row(prompt, cont, ids, tg, w, 1.0f);
    srlm_train_batch b = {.rows = 1, .T = TT, .ids = ids, .targets = tg, .weights = w};
    CHECK_OK(srlm_trainer_logprobs(tr, &b, all, NULL));
    for (int i = 0; i < GEN; i++) lp[i] = all[PROMPT - 1 + i];
}

static void test_errors(srlm_trainer *tr) {
    int32_t ids[TT] = {0}, tg[TT] = {0};
    float w[TT] = {0};
    srlm_train_batch b = {.rows = 3, .T = TT, .ids = ids, .targets = tg, .weights = w};
    CHECK_ERR(srlm_trainer_accumulate(tr, &b, NULL, NULL, NULL, NULL), SRLM_ERR_INVALID, "does not fit");
    b.rows = 1, b.T = 1000;
    CHECK_ERR(srlm_trainer_accumulate(tr, &b, NULL, NULL, NULL, NULL), SRLM_ERR_INVALID, "does not fit");
    b.T = TT;
    tg[5] = 100000;
    CHECK_ERR(srlm_trainer_accumulate(tr, &b, NULL, NULL, NULL, NULL), SRLM_ERR_INVALID, "target 100000 at row 0 position 5");
    tg[5] = 0, ids[2] = -4;
    CHECK_ERR(srlm_trainer_logprobs(tr, &b, NULL, NULL), SRLM_ERR_INVALID, "id -4 at row 0 position 2");
    ids[2] = 0;
    b.weights = NULL;
    CHECK_ERR(srlm_trainer_accumulate(tr, &b, NULL, NULL, NULL, NULL), SRLM_ERR_INVALID, "weights are required");
    CHECK_ERR(srlm_trainer_apply(tr, NAN, NULL), SRLM_ERR_INVALID, "learning rate");
    float adv[TT] = {0};
    adv[3] = NAN;
    b.weights = w, b.advantages = adv;
    CHECK_ERR(srlm_trainer_accumulate(tr, &b, NULL, NULL, NULL, NULL), SRLM_ERR_INVALID, "advantage at row 0 position 3");
}

/* Two half-batches accumulated then one apply == one whole-batch step (same weights after). */
static void test_accumulation(srlm_ctx *ctx, const char *model) {
    srlm_trainer_options o;
    srlm_trainer_options_default(&o);
    o.batch = 2, o.seq = TT;
    srlm_trainer *a = NULL, *b = NULL;
    CHECK_OK(srlm_trainer_create(ctx, model, &o, &a));
    CHECK_OK(srlm_trainer_create(ctx, model, &o, &b));
    if (!a || !b) { srlm_trainer_destroy(a), srlm_trainer_destroy(b); return; }
    int32_t p[PROMPT] = {257, 40, 41, 42}, c0[GEN], c1[GEN], ids[2 * TT], tg[2 * TT];
    float w[2 * TT], adv[2 * TT];
    for (int i = 0; i < GEN; i++) c0[i] = 60 + i, c1[i] = 90 + 2 * i;
    make_row(p, c0, ids, tg, w, 0.05f);
    make_row(p, c1, ids + TT, tg + TT, w + TT, 0.05f);
    for (int i = 0; i < 2 * TT; i++) adv[i] = i < TT ? 1.0f : -0.5f;
    srlm_train_batch whole = {.rows = 2, .T = TT, .ids = ids, .targets = tg, .weights = w, .advantages = adv};
    srlm_train_batch h0 = whole, h1 = whole;
    h0.rows = h1.rows = 1;
    h1.ids += TT, h1.targets += TT, h1.weights += TT, h1.advantages += TT;
    double n1 = 0, n2 = 0;
    CHECK_OK(srlm_trainer_accumulate(a, &whole, NULL, NULL, NULL, NULL));
    CHECK_OK(srlm_trainer_apply(a, 1e-3f, &n1));
    CHECK_OK(srlm_trainer_accumulate(b, &h0, NULL, NULL, NULL, NULL));
    CHECK_OK(srlm_trainer_accumulate(b, &h1, NULL, NULL, NULL, NULL));
    CHECK_OK(srlm_trainer_apply(b, 1e-3f, &n2));
    float la[GEN], lb[GEN];
    cont_logprobs(a, p, c0, la);
    cont_logprobs(b, p, c0, lb);
    double d = max_diff(la, lb, GEN);
    printf("accumulation: grad norm %.6g vs %.6g, log-prob difference after the step %.3g\n", n1, n2, d);
    CHECK(n1 > 0 && fabs(n1 - n2) <= 1e-5 * n1, "grad norms %g vs %g", n1, n2);
    CHECK(d <= 1e-5, "accumulated step differs by %g", d);
    srlm_trainer_destroy(a);
    srlm_trainer_destroy(b);
}

int main(void) {
    char dir[512], model[600];
    if (!tmpdir_make(dir, sizeof dir, "trainer")) { fprintf(stderr, "mkdtemp failed\n"); return 1; }
    snprintf(model, sizeof model, "%s/m", dir);
    const char *root = getenv("SRLM_SOURCE_ROOT");
    char preset[1024];
    snprintf(preset, sizeof preset, "%s/models/tiny.json", root ? root : ".");
    srlm_init_options io = {.config_path = preset, .out_dir = model, .seed = 5, .dtype = SRLM_DTYPE_F32};
    CHECK_OK(srlm_model_init(&io));
    srlm_ctx_options co;
    srlm_ctx_options_default(&co);
    srlm_ctx *ctx = NULL;
    CHECK_OK(srlm_ctx_create(&co, &ctx));
    srlm_trainer_options o;
    srlm_trainer_options_default(&o);
    o.batch = 2, o.seq = 16;
    srlm_trainer *tr = NULL;
    if (ctx) CHECK_OK(srlm_trainer_create(ctx, model, &o, &tr));
    srlm_engine *e = NULL;
    srlm_engine_options eo;
    srlm_engine_options_default(&eo);
    eo.max_ctx = 64;
    if (tr) CHECK_OK(srlm_engine_create(srlm_trainer_model(tr), &eo, &e));
    if (!e) goto done;
    test_errors(tr);
    int32_t prompt[PROMPT] = {257, 10, 20, 30}, before[GEN], after[GEN], want[GEN];
    float glp[GEN], tlp[GEN];
    greedy(e, prompt, before, glp);
    cont_logprobs(tr, prompt, before, tlp);
    double d0 = max_diff(glp, tlp, GEN);
    printf("before training: greedy continuation");
    for (int i = 0; i < GEN; i++) printf(" %d", before[i]);
    printf("; sampler vs trainer log-probs max |d| %.3g\n", d0);
    CHECK(d0 <= 1e-3, "engine and trainer log-probs differ by %g", d0);
    for (int i = 0; i < GEN; i++) want[i] = 65 + (before[i] == 65 + i ? 26 : 0) + i; /* "ABCDEFGHIJ", never the model's own */
    /* GRPO: row 0 = the wanted continuation with advantage +1, row 1 = the model's own with -1;
     * old log-probs from the current policy each step (on-policy), reference = the start */
    int32_t ids[2 * TT], tg[2 * TT];
    float w[2 * TT], adv[2 * TT], old[2 * TT], ref[2 * TT], lp[2 * TT];
    make_row(prompt, want, ids, tg, w, 1.0f / (2 * GEN));
    make_row(prompt, before, ids + TT, tg + TT, w + TT, 1.0f / (2 * GEN));
    for (int i = 0; i < 2 * TT; i++) adv[i] = i < TT ? 1.0f : -1.0f;
    srlm_train_batch b = {.rows = 2, .T = TT, .ids = ids, .targets = tg, .weights = w, .advantages = adv,
                          .old_logprob = old, .ref_logprob = ref};
    CHECK_OK(srlm_trainer_logprobs(tr, &b, ref, NULL));
    srlm_grpo_params g;
    srlm_grpo_params_default(&g);
    srlm_train_step_stats s = {0};
    double first = 0;
    for (int step = 0; step < 30; step++) {
        CHECK_OK(srlm_trainer_logprobs(tr, &b, old, NULL));
        CHECK_OK(srlm_trainer_step(tr, &b, &g, 1e-2f, lp, NULL, &s));
        CHECK(max_diff(lp, old, 2 * TT) == 0, "on-policy: the step's log-probs differ from the old ones");
        if (step == 0) first = s.loss;
    }
    printf("30 GRPO steps: loss %.4f -> %.4f (pg %.4f, kl %.4g, %d forward passes)\n", first, s.loss, s.pg_loss, s.kl,
           s.forward_passes);
    CHECK(s.forward_passes == 2 && s.kl > 0, "the KL term was not active");
    greedy(e, prompt, after, glp);
    cont_logprobs(tr, prompt, after, tlp);
    double d1 = max_diff(glp, tlp, GEN);
    printf("after training, same engine: greedy continuation");
    for (int i = 0; i < GEN; i++) printf(" %d", after[i]);
    printf("; sampler vs trainer log-probs max |d| %.3g\n", d1);
    CHECK(memcmp(after, before, sizeof after) != 0, "the engine generates the same as before training");
    CHECK(memcmp(after, want, sizeof after) == 0, "the engine does not generate the rewarded continuation");
    CHECK(d1 <= 1e-3, "engine and trainer log-probs differ by %g after training", d1);
    test_accumulation(ctx, model);
done:
    srlm_engine_destroy(e);
    srlm_trainer_destroy(tr);
    if (ctx) {
        int verr = srlm_ctx_validation_errors(ctx);
        CHECK(verr == 0, "%d validation messages", verr);
    }
    srlm_ctx_destroy(ctx);
    tmpdir_remove(dir);
    return test_finish("trainer");
}
