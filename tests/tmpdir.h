/* tmpdir.h: a scratch folder for tests that write files, removed (recursively) at the end. */
#ifndef SRLM_TEST_TMPDIR_H
#define SRLM_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int tmpdir_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

/* Creates /tmp/srlm_<tag>_XXXXXX into buf; returns buf or NULL. */
static inline char *tmpdir_make(char *buf, size_t cap, const char *tag) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/srlm_%s_XXXXXX", base && *base ? base : "/tmp", tag);
    return mkdtemp(buf);
}

static inline void tmpdir_remove(const char *dir) { nftw(dir, tmpdir_rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

/* Counts entries in a folder other than . and .. (to prove no temp files were left). */
#include <dirent.h>
static inline int tmpdir_count(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

#endif
