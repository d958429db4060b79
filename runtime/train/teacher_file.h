/* teacher_file.h: top-k teacher files (`srlm teacher --topk K`): each position's K most
 * likely token ids with their logits, made once by a teacher too big to share the device, and
 * read back per training batch for distillation. Format below; the writer is
 * srlm_teacher_topk_write (srlm.h). Not the KL itself (kd.c, shaders/kl_topk.comp).
 *
 * File layout (little-endian), version 1:
 *   header, 64 bytes: char magic[8] = "SRLMTOPK"; u32 version = 1; u32 K; u32 V (embedding
 *     rows); u32 seq (the sequence length samples were truncated to); f32 tau (temperature of
 *     the stored log-sum-exps); u32 reserved = 0; u64 n_train, n_eval (samples of each split);
 *     u64 count (positions stored = tokens of all samples); u64 data_hash (FNV-1a 64 over every
 *     sample's length, token ids and loss flags, train split then eval split, in file order).
 *   then count records, sample after sample, position after position: i32 ids[K] (the teacher's
 *     top K at that position, larger logit first), f32 logits[K], f32 lse (log sum exp of the
 *     full row's logits / tau). The teacher's log-probability at temperature tau of ids[j] is
 *     logits[j] / tau - lse.
 * Per-sample logits do not depend on batching or packing (attention resets between packed
 * samples, positions restart), so a file fits any batch size and packing; it is tied to the
 * rendered samples (tokenizer, chat template, seq truncation, evaluation split), checked by
 * data_hash, and to V and tau. */
#ifndef SRLM_TRAIN_TEACHER_FILE_H
#define SRLM_TRAIN_TEACHER_FILE_H

#include "train/kd.h"

#define SRLM_TOPK_MAGIC "SRLMTOPK"
#define SRLM_TOPK_VERSION 1u

typedef struct srlm_teacher_file srlm_teacher_file;

/* Maps `path` and checks it against the dataset ds opened with options d and a student of V
 * embedding rows at temperature tau. Errors: SRLM_ERR_IO; SRLM_ERR_FORMAT naming the file
 * (magic, version, size); SRLM_ERR_INVALID naming the setting that differs (V, seq, tau,
 * sample counts, data hash). */
srlm_status srlm_teacher_file_open(const char *path, const srlm_dataset *ds, const srlm_data_options *d, int V, float tau,
                                   srlm_teacher_file **out);
void srlm_teacher_file_close(srlm_teacher_file *tf); /* accepts NULL */
int srlm_teacher_file_k(const srlm_teacher_file *tf);
/* Writes the teacher entries of batch b (laid out as the trainer uploads it into the
 * student's B x T inputs) into kd->tids / kd->tlogp; tokens without a sample get id -1. */
srlm_status srlm_teacher_file_upload(srlm_teacher_file *tf, srlm_kd *kd, const srlm_batch *b);
/* FNV-1a 64 of the dataset's samples as stored in data_hash. */
uint64_t srlm_teacher_data_hash(const srlm_dataset *ds);

#endif
