/* atomic.h: crash-safe file writing. A file is written under a temporary name in the same
 * folder, fsynced, then renamed over the final name (and the folder fsynced), so readers see
 * the old file or the complete new one, never a partial file. Not a general I/O layer. */
#ifndef SRLM_MODEL_ATOMIC_H
#define SRLM_MODEL_ATOMIC_H

#include "srlm.h"

#include <stdio.h>

typedef struct srlm_atomic_file {
    FILE *f;         /* write here */
    char *path;      /* final name */
    char *tmp_path;  /* `<path>.tmp.<pid>` */
} srlm_atomic_file;

/* Creates the temporary file. Errors: SRLM_ERR_IO naming the path. */
srlm_status srlm_atomic_begin(const char *path, srlm_atomic_file *af);
/* Writes n bytes; SRLM_ERR_IO (disk full, ...) naming the final path. */
srlm_status srlm_atomic_write(srlm_atomic_file *af, const void *data, size_t n);
/* Flushes, fsyncs, renames over the final path, fsyncs the folder; frees af. On error the
 * temporary file is removed. */
srlm_status srlm_atomic_commit(srlm_atomic_file *af);
/* Removes the temporary file and frees af (after an error); accepts a zeroed struct. */
void srlm_atomic_abort(srlm_atomic_file *af);

/* Whole-buffer convenience: begin, write, commit. */
srlm_status srlm_write_file_atomic(const char *path, const void *data, size_t n);
/* fsyncs a folder so a rename inside it is durable. */
srlm_status srlm_fsync_dir(const char *dir);

#endif
