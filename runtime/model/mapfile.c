/* mapfile.c: mmap of whole files for the weight readers. It does not parse anything. */
#include "model/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

srlm_status srlm_mapfile_open(const char *path, srlm_mapfile *out) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return srlm_errorf(SRLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return srlm_errorf(SRLM_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return srlm_errorf(SRLM_ERR_IO, "%s: not a regular file", path);
    }
    out->path = strdup(path);
    if (!out->path) { close(fd); return srlm_errorf(SRLM_ERR_OOM, "%s: out of memory", path); }
    out->size = (size_t)st.st_size;
    if (out->size > 0) {
        void *p = mmap(NULL, out->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            free(out->path);
            memset(out, 0, sizeof *out);
            return srlm_errorf(SRLM_ERR_IO, "%s: cannot mmap: %s", path, strerror(e));
        }
        out->data = p;
        out->mapped = 1;
    }
    close(fd); /* the mapping stays valid without the descriptor */
    return NULL;
}

srlm_status srlm_mapfile_from_memory(const void *data, size_t size, const char *name, srlm_mapfile *out) {
    memset(out, 0, sizeof *out);
    out->path = strdup(name ? name : "<memory>");
    if (!out->path) return srlm_errorf(SRLM_ERR_OOM, "out of memory");
    out->data = size ? data : NULL;
    out->size = size;
    return NULL;
}

void srlm_mapfile_close(srlm_mapfile *mf) {
    if (!mf) return;
    if (mf->mapped && mf->data) munmap((void *)mf->data, mf->size);
    free(mf->path);
    memset(mf, 0, sizeof *mf);
}
