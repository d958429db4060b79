/* train_step.h: the trainer object behind the public srlm_trainer_* calls (train_step.c): a
 * srlm_train_model with its three recorded command buffers and host staging. Internal: tests
 * reach the gradients through it. Not the loop of `srlm train` (trainer.c). */
#ifndef SRLM_TRAIN_STEP_H
#define SRLM_TRAIN_STEP_H

#include "train/train_model.h"

struct srlm_trainer {
    srlm_ctx *ctx;
    srlm_trainer_options o;
    srlm_train_model *tm;
    srlm_cmd *fwd, *fb, *opt; /* forward only; forward+backward (accumulating); clip+AdamW+zero */
    long steps;               /* optimizer steps taken (AdamW's t) */
    int32_t *hi, *ht, *hp, *hs;
    float *hw, *lp, *en;      /* (B*T) staging */
};

#endif
