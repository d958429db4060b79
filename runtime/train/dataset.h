/* dataset.h: internals of the training-data loader (runtime/train/dataset.c) that tests
 * inspect: the tokenised samples and their loss flags. The public API is in srlm.h
 * ("Training data"); this header is not for the CLI. */
#ifndef SRLM_TRAIN_DATASET_H
#define SRLM_TRAIN_DATASET_H

#include "srlm.h"

#include <stddef.h>
#include <stdint.h>

/* One tokenised sample: ids[0..n), loss[j] = 1 when token j is a loss token (it is
 * predicted with weight 1 from position j-1). The answer span [P, P+A) is the last
 * contiguous run of loss tokens (MEAP SFT masks inside it); A = 0 for pre-training text. */
typedef struct srlm_sample {
    const int32_t *ids;
    const uint8_t *loss;
    int n, P, A;
    int line; /* 1-based line in its file (0 for .txt chunks) */
} srlm_sample;

/* Number of samples of a split and the i-th (in file order). */
size_t srlm_dataset_count(const srlm_dataset *ds, int split);
srlm_sample srlm_dataset_sample(const srlm_dataset *ds, int split, size_t i);

#endif
