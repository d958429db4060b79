/* replay.c: runs a fuzz target's entry point without libFuzzer, so the normal test suite
 * exercises it: every file of the given corpus folders, then --mutations N deterministic
 * mutants of each (byte flips, deletions, duplications, truncations) from --seed S.
 * Not a fuzzer: no coverage feedback. Fails (crashes or exits 1) on any finding. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int run_file(const char *path, long mutations, uint64_t *rng) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n + 1);
    if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(d); return 1; }
    fclose(f);
    LLVMFuzzerTestOneInput(d, (size_t)n);
    uint8_t *m = malloc(2 * (size_t)n + 16);
    if (!m) { free(d); return 1; }
    for (long k = 0; k < mutations; k++) {
        size_t len = (size_t)n;
        memcpy(m, d, len);
        int edits = 1 + (int)(rng_next(rng) % 4);
        for (int e = 0; e < edits && len; e++) {
            size_t at = (size_t)(rng_next(rng) % len);
            size_t span = 1 + (size_t)(rng_next(rng) % 8);
            if (span > len - at) span = len - at;
            switch (rng_next(rng) % 5) {
            case 0: m[at] ^= (uint8_t)(1u << (rng_next(rng) % 8)); break;        /* bit flip */
            case 1: m[at] = (uint8_t)rng_next(rng); break;                         /* random byte */
            case 2: memmove(m + at, m + at + span, len - at - span); len -= span; break; /* delete */
            case 3: if (len + span <= 2 * (size_t)n + 16) {                        /* duplicate */
                        memmove(m + at + span, m + at, len - at); len += span; }
                    break;
            default: len = at; break;                                              /* truncate */
            }
        }
        LLVMFuzzerTestOneInput(m, len);
    }
    free(m);
    free(d);
    return 0;
}

int main(int argc, char **argv) {
    long mutations = 0;
    uint64_t seed = 1;
    int files = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mutations") && i + 1 < argc) { mutations = atol(argv[++i]); continue; }
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) { seed = strtoull(argv[++i], NULL, 10); continue; }
        struct stat sb;
        if (stat(argv[i], &sb)) { fprintf(stderr, "replay: %s does not exist\n", argv[i]); return 1; }
        if (!S_ISDIR(sb.st_mode)) { uint64_t r = seed | 1; rc |= run_file(argv[i], mutations, &r); files++; continue; }
        DIR *dir = opendir(argv[i]);
        struct dirent *e;
        /* Sorted order keeps the mutation stream deterministic. */
        char **names = NULL;
        size_t nn = 0;
        while (dir && (e = readdir(dir))) {
            if (e->d_name[0] == '.') continue;
            char **nv = realloc(names, (nn + 1) * sizeof *names);
            if (!nv) break;
            names = nv;
            names[nn++] = strdup(e->d_name);
        }
        if (dir) closedir(dir);
        if (nn) qsort(names, nn, sizeof *names, cmp_name);
        for (size_t k = 0; k < nn; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            uint64_t r = (seed + k) | 1;
            rc |= run_file(path, mutations, &r);
            files++;
            free(names[k]);
        }
        free(names);
    }
    printf("replay: %d corpus files, %ld mutants each, seed %llu: %s\n", files, mutations,
           (unsigned long long)seed, rc ? "FAILED" : "ok");
    return rc || files == 0;
}
