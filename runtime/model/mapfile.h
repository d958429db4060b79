/* mapfile.h: read-only memory mapping of a whole file, shared by the safetensors and GGUF
 * readers. Not a cache and not writable: a mapping lives until srlm_mapfile_close. */
#ifndef SRLM_MODEL_MAPFILE_H
#define SRLM_MODEL_MAPFILE_H

#include "srlm.h"

typedef struct srlm_mapfile {
    const uint8_t *data; /* size bytes, read-only; NULL when size == 0 */
    size_t size;
    char *path;          /* owned copy, for error messages */
    int mapped;          /* 1: data came from mmap and close unmaps it */
} srlm_mapfile;

/* Maps `path` read-only. An empty file maps with data == NULL, size == 0 (callers reject it
 * with their own format message). Errors: SRLM_ERR_IO naming the path, SRLM_ERR_OOM. */
srlm_status srlm_mapfile_open(const char *path, srlm_mapfile *out);
/* Unmaps and frees; accepts a zeroed or already closed struct. */
void srlm_mapfile_close(srlm_mapfile *mf);

/* Wraps caller-owned bytes (not copied; close frees only the path copy): the
 * parsers' fuzz entry points use this to parse memory without a file. */
srlm_status srlm_mapfile_from_memory(const void *data, size_t size, const char *name, srlm_mapfile *out);

#endif
