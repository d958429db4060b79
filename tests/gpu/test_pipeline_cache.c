/* test_pipeline_cache.c: the on-disk pipeline cache is written on destroy with srlm's header,
 * reused by the next context, and a corrupt or stale file is ignored (then rewritten). */
#include "gpu_test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int run_fill(void) {
    gpu_env g;
    if (!gpu_env_init(&g)) return 0;
    srlm_buf y = gpu_alloc(&g, 64 * 4, NULL);
    CHECK_OK(srlm_cmd_begin(g.cmd));
    CHECK_OK(srlm_op_fill(g.cmd, y, 64, 9.0f));
    CHECK_OK(srlm_cmd_run(g.cmd));
    float out[64];
    gpu_read(&g, y, out, sizeof out);
    CHECK(out[0] == 9.0f && out[63] == 9.0f, "fill through the cache: %g %g", out[0], out[63]);
    char path[1024];
    snprintf(path, sizeof path, "%s", g.ctx->pipeline_cache_path);
    int verr = srlm_ctx_validation_errors(g.ctx);
    CHECK(verr == 0, "validation messages: %d", verr);
    srlm_cmd_destroy(g.cmd);
    srlm_arena_destroy(g.arena);
    srlm_ctx_destroy(g.ctx);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 48, "cache file %s written", path);
    return 1;
}

int main(void) {
    char dir[] = "/tmp/srlm-cache-test.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("SRLM_PIPELINE_CACHE");
    if (!run_fill()) return 1;   /* cold: writes the cache */
    if (!run_fill()) return 1;   /* warm: reads it */
    /* corrupt it: the next run must ignore it and still work */
    char path[1200];
    snprintf(path, sizeof path, "%s/srlm", dir);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "for f in %s/pipelines-*.bin; do printf 'SRLMPIPEgarbage' > \"$f\"; done", path);
    CHECK(system(cmd) == 0, "corrupting the cache");
    if (!run_fill()) return 1;
    printf("  pipeline cache: cold, warm and corrupt runs ok\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_pipeline_cache");
}
