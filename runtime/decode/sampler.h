/* sampler.h: the host-side batch sampler. Turns a (B, V) block of f32 logits into B tokens
 * with per-sequence parameters (srlm_sample_params in srlm.h), deterministically, and reports
 * the log-probabilities and entropy RL needs. Not a decode loop (no model, no KV cache, no
 * text): stop strings are matched on decoded bytes by tagmatch.h. Rows whose parameters need
 * only the best few ids (greedy, top-k without repetition penalty) can instead be sampled
 * from a device-side selection (srlm_sampler_sample_select) with the same tokens. */
#ifndef SRLM_DECODE_SAMPLER_H
#define SRLM_DECODE_SAMPLER_H

#include "srlm.h"

/* The state one sequence brings to a sampling step. Everything is borrowed for the call.
 *
 * Random keying: the token at `position` of sequence `seq_id` uses exactly one uniform,
 *   u = srlm_rng_uniform_f64(params->seed, seq_id, position)
 * (53 random bits), and picks the first token, in ascending id order over the kept set,
 * whose cumulative probability exceeds u. So the token is a pure function of (this row's
 * logits, params, history window, seed, seq_id, position): batch composition, row order and
 * earlier calls never change it. `position` is the index the sampled token will have in
 * the sequence (prompt tokens included); callers that fork sequences (tree decoding) give
 * each branch its own seq_id so siblings do not draw the same numbers. */
typedef struct srlm_sample_seq {
    const srlm_sample_params *params;
    uint64_t seq_id;          /* RNG stream */
    uint64_t position;        /* RNG counter: position of the token being sampled */
    const int32_t *history;   /* ids before this token (prompt + generated), oldest first;
                                 read for the repetition penalty window only; may be NULL
                                 when n_history is 0 */
    size_t n_history;
    int32_t n_generated;      /* tokens generated so far (for max_tokens) */
} srlm_sample_seq;

typedef enum srlm_finish {
    SRLM_FINISH_NONE = 0,     /* keep going */
    SRLM_FINISH_STOP_ID = 1,  /* the sampled token is one of params->stop_ids */
    SRLM_FINISH_LENGTH = 2,   /* this token is the max_tokens-th generated one */
} srlm_finish;

/* One sampled token and the numbers reinforcement learning needs. Notation: x = the row's
 * raw logits as given; p = softmax(x), the model's distribution at temperature 1 with no
 * penalty and no truncation; q = the distribution the token was actually drawn from:
 * softmax over the kept set K of y = penalised(x) / temperature (q = 0 outside K). */
typedef struct srlm_sample_out {
    int32_t token;
    int32_t finish;           /* srlm_finish */
    float logprob;            /* log p(token), natural log */
    float logprob_sampled;    /* log q(token); 0 for greedy (q is a point mass) */
    float entropy;            /* H(p) = -sum_i p_i log p_i over all V ids, nats */
    int32_t n_kept;           /* |K|: size of q's support (1 for greedy) */
} srlm_sample_out;

/* A reusable workspace for one vocabulary size: about 24 bytes per vocabulary entry. No
 * allocation happens while sampling. Not thread-safe: one per thread. */
typedef struct srlm_sampler srlm_sampler;

/* Creates a workspace for vocabularies of `vocab` ids (1 .. 2^30). Errors: SRLM_ERR_INVALID
 * for a bad size, SRLM_ERR_OOM. */
srlm_status srlm_sampler_create(int32_t vocab, srlm_sampler **out);
/* Frees the workspace; accepts NULL. */
void srlm_sampler_destroy(srlm_sampler *s);

/* Samples one token per row of `logits` (B, V) f32 row-major on the host, using seqs[b]
 * for row b, into out[b]. Deterministic (see srlm_sample_seq). Greedy rows (temperature 0)
 * take the argmax of the penalised logits, ties to the lowest id.
 * Errors (SRLM_ERR_INVALID, naming the row): parameters out of range, a history id outside
 * [0, V), a row whose logits contain NaN or +inf or are all -inf (-inf alone is a valid
 * mask: such ids get probability 0 and are never sampled). On error, out is unspecified. */
srlm_status srlm_sampler_sample(srlm_sampler *s, const float *logits, int32_t B,
                                const srlm_sample_seq *seqs, srlm_sample_out *out);

/* The distribution q one row would be sampled from: its support K in ascending id order
 * into ids[0..*n) and q of each into probs (both arrays of at least V entries; probs may be
 * NULL). Greedy gives the argmax with probability 1. Same code path as
 * srlm_sampler_sample, so tests of K test the sampler itself. Errors as above. */
srlm_status srlm_sampler_support(srlm_sampler *s, const float *logits_row,
                                 const srlm_sample_seq *seq, int32_t *ids, float *probs,
                                 int32_t *n);

/* The number of best ids a row with these parameters needs from a device selection of at
 * most max_k: 1 for greedy, top_k for top-k sampling (1 <= top_k < V, top_k <= max_k); 0
 * when the full row is needed (repetition penalty in effect, or no top-k truncation). */
int32_t srlm_sampler_select_k(const srlm_sample_params *p, size_t n_history, int32_t V, int32_t max_k);

/* Samples B rows from their device selections (srlm_engine_step_select): per row b,
 * ids[b*k ..] the k best ids of y = logits / temperature in rank order (larger first, ties to
 * the lower id; temperature 1 for greedy rows), xs the raw logits of those ids, stats[2b]
 * and stats[2b+1] the row's log-sum-exp and entropy at temperature 1. Each row must satisfy
 * 1 <= srlm_sampler_select_k(params, n_history, V, k). The token (and n_kept,
 * logprob_sampled) is the one srlm_sampler_sample gives for the full row: same candidates,
 * same arithmetic; logprob and entropy use the device's statistics (float sums, so they
 * agree with the host path to ~1e-5, not bit for bit). Errors: SRLM_ERR_INVALID for rows
 * that need the full logits, NaN statistics (NaN/+inf/all -inf logits) or bad ids. */
srlm_status srlm_sampler_sample_select(srlm_sampler *s, int32_t B, int32_t k, const int32_t *ids, const float *xs,
                                       const float *stats, const srlm_sample_seq *seqs, srlm_sample_out *out);

#endif
