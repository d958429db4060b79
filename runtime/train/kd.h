/* kd.h: knowledge distillation for the trainer: a frozen teacher (f16 weights on the same
 * device, forward only, the student's batch layout) whose logits are made chunk by chunk
 * beside the student's, or a top-k teacher file (teacher_file.c); the KL term is added to the
 * student's loss through the train model's chunk hook. Not the training loop (trainer.c). */
#ifndef SRLM_TRAIN_KD_H
#define SRLM_TRAIN_KD_H

#include "train/train_model.h"

typedef struct srlm_kd {
    srlm_ctx *ctx;
    srlm_train_model *tm;        /* the student (not owned); its chunk hook points here */
    float alpha, tau;            /* loss = alpha CE + (1 - alpha) tau^2 KL */
    int dir;                     /* SRLM_KL_FORWARD (0) or SRLM_KL_REVERSE (1) */
    uint64_t bytes;              /* device bytes of the teacher side (weights, activations, logits) */
    srlm_arena *arena;
    /* live teacher (NULL in top-k mode) */
    srlm_model *teacher;         /* f16 matrices */
    srlm_buf tx[2];              /* (N,Ct) block inputs/outputs, ping-pong */
    srlm_block_acts ta;          /* one block's activations, reused per layer */
    srlm_buf thf, trstdf;        /* (N,Ct), (N): the teacher's final norm */
    srlm_buf tlogits;            /* (R,V) one chunk of teacher logits */
    /* top-k teacher (K > 0) */
    int K;
    srlm_buf tids, tlogp;        /* (N,K) int32 ids, f32 log-probabilities (host-written) */
    /* both */
    srlm_buf slog;               /* (R,V) copy of the student's chunk: receives the KL gradient */
    srlm_buf kl, kl_scratch;     /* (N) unweighted KL per token */
} srlm_kd;

/* Loads the teacher `teacher_dir` frozen in f16 and attaches it to the student tm (alpha in
 * [0,1], tau > 0, dir 0 forward / 1 reverse). The teacher must have the student's embedding
 * rows and, when both folders have a tokenizer, the same tokens (student_tok: the student's
 * tokenizer; may be NULL to skip that check). The student plan plus the teacher side must fit
 * the budget. Errors: SRLM_ERR_INVALID naming both models for another vocabulary or bad
 * alpha/tau; SRLM_ERR_DEVICE_OOM with the plan; load errors. */
srlm_status srlm_kd_create(srlm_train_model *tm, const char *teacher_dir, const char *student_dir,
                           const srlm_tokenizer *student_tok, float alpha, float tau, int dir, srlm_kd **out);
/* The same with a top-k teacher file of K entries per position instead of a live teacher
 * (the caller fills tids/tlogp per micro-batch, see teacher_file.c). */
srlm_status srlm_kd_create_topk(srlm_train_model *tm, int K, float alpha, float tau, int dir, srlm_kd **out);
/* Detaches from the student and frees the teacher side; accepts NULL. */
void srlm_kd_destroy(srlm_kd *kd);
/* Records the teacher's forward pass over the student's current inputs (tm->ids/pos/seg) up
 * to its final norm; record it before srlm_train_record_fwdbwd / _fwd in the same command
 * buffer. Nothing to record in top-k mode. */
srlm_status srlm_kd_record_teacher(srlm_cmd *c, srlm_kd *kd);
/* After a run: sum over tokens of w[n] * KL_n, w the host copy of the weights uploaded. */
srlm_status srlm_kd_kl_sum(srlm_kd *kd, const float *w, double *sum);
/* Bytes srlm_kd_create will take for a teacher of config tcfg beside a student tm. */
uint64_t srlm_kd_teacher_bytes(const srlm_train_model *tm, const srlm_model_config *tcfg);

#endif
