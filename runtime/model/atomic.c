/* atomic.c: temp-file + fsync + rename writing for checkpoints, configs and model files. */
#include "model/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

srlm_status srlm_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return srlm_errorf(SRLM_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* Some filesystems refuse fsync on folders (EINVAL); the rename is still atomic there. */
    if (rc != 0 && e != EINVAL) return srlm_errorf(SRLM_ERR_IO, "%s: fsync of folder failed: %s", dir, strerror(e));
    return NULL;
}

srlm_status srlm_atomic_begin(const char *path, srlm_atomic_file *af) {
    memset(af, 0, sizeof *af);
    size_t n = strlen(path) + 32;
    af->path = strdup(path);
    af->tmp_path = malloc(n);
    if (!af->path || !af->tmp_path) {
        srlm_atomic_abort(af);
        return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", path);
    }
    snprintf(af->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
    af->f = fopen(af->tmp_path, "wbx");
    if (!af->f && errno == EEXIST) { /* a stale temp file of a crashed run with our pid */
        unlink(af->tmp_path);
        af->f = fopen(af->tmp_path, "wbx");
    }
    if (!af->f) {
        srlm_status st = srlm_errorf(SRLM_ERR_IO, "%s: cannot create %s: %s", path, af->tmp_path, strerror(errno));
        free(af->tmp_path);
        af->tmp_path = NULL;
        srlm_atomic_abort(af);
        return st;
    }
    return NULL;
}

srlm_status srlm_atomic_write(srlm_atomic_file *af, const void *data, size_t n) {
    if (n && fwrite(data, 1, n, af->f) != n)
        return srlm_errorf(SRLM_ERR_IO, "%s: write failed: %s", af->path, strerror(errno));
    return NULL;
}

srlm_status srlm_atomic_commit(srlm_atomic_file *af) {
    srlm_status st = NULL;
    if (fflush(af->f) != 0 || fsync(fileno(af->f)) != 0)
        st = srlm_errorf(SRLM_ERR_IO, "%s: flush/fsync failed: %s", af->path, strerror(errno));
    if (fclose(af->f) != 0 && !st) st = srlm_errorf(SRLM_ERR_IO, "%s: close failed: %s", af->path, strerror(errno));
    af->f = NULL;
    if (!st && rename(af->tmp_path, af->path) != 0)
        st = srlm_errorf(SRLM_ERR_IO, "%s: rename from %s failed: %s", af->path, af->tmp_path, strerror(errno));
    if (st) {
        srlm_atomic_abort(af);
        return st;
    }
    char *dir_copy = strdup(af->path);
    if (dir_copy) {
        st = srlm_fsync_dir(dirname(dir_copy));
        free(dir_copy);
    }
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
    return st;
}

void srlm_atomic_abort(srlm_atomic_file *af) {
    if (!af) return;
    if (af->f) fclose(af->f);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->path);
    memset(af, 0, sizeof *af);
}

srlm_status srlm_write_file_atomic(const char *path, const void *data, size_t n) {
    srlm_atomic_file af;
    SRLM_TRY(srlm_atomic_begin(path, &af));
    srlm_status st = srlm_atomic_write(&af, data, n);
    if (st) { srlm_atomic_abort(&af); return st; }
    return srlm_atomic_commit(&af);
}
