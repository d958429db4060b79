/* vk_pipeline.c: compute pipelines built from the embedded SPIR-V of the op table, one per
 * (op, specialization constants), created once and kept; the on-disk pipeline cache. */
#include "vk.h"
#include "ops/op_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static srlm_status op_layout(srlm_ctx *ctx, int op, srlm_op_layout **out) {
    srlm_op_layout *L = &ctx->op_layouts[op];
    *out = L;
    if (L->layout) return NULL;
    const srlm_op_desc *d = &srlm_op_table[op];
    VkDescriptorSetLayoutBinding b[SRLM_MAX_BINDINGS];
    for (int i = 0; i < d->nbind; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = (uint32_t)i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .flags = ctx->push_descriptor_fn ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
        .bindingCount = d->nbind,
        .pBindings = b,
    };
    SRLM_TRY(srlm_vk_check(vkCreateDescriptorSetLayout(ctx->device, &dci, NULL, &L->dsl), "vkCreateDescriptorSetLayout"));
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = d->push_size};
    VkPipelineLayoutCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &L->dsl,
        .pushConstantRangeCount = d->push_size ? 1 : 0,
        .pPushConstantRanges = &pcr,
    };
    SRLM_TRY(srlm_vk_check(vkCreatePipelineLayout(ctx->device, &pci, NULL, &L->layout), "vkCreatePipelineLayout"));
    VkShaderModuleCreateInfo smci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = *d->spv_size, .pCode = d->spv};
    srlm_status st = srlm_vk_check(vkCreateShaderModule(ctx->device, &smci, NULL, &L->module), "vkCreateShaderModule");
    return srlm_status_wrap(st, "op %s: ", d->name);
}

srlm_status srlm_pipeline_get(srlm_ctx *ctx, int op, const uint32_t *spec, srlm_pipeline **out) {
    const srlm_op_desc *d = &srlm_op_table[op];
    uint32_t key[SRLM_MAX_SPEC] = {0};
    for (int i = 0; i < d->nspec; i++) key[i] = spec ? spec[i] : d->spec[i];
    for (srlm_pipeline *p = ctx->pipelines; p; p = p->next)
        if (p->op == op && !memcmp(p->spec, key, sizeof key)) { *out = p; return NULL; }
    if (key[0] == 0 || key[0] > ctx->caps.max_wg_invocations || key[0] > ctx->caps.max_wg_size[0])
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "op %s: workgroup size %u exceeds the device limit %u", d->name, key[0],
                           ctx->caps.max_wg_invocations);
    srlm_op_layout *L;
    SRLM_TRY(op_layout(ctx, op, &L));
    VkSpecializationMapEntry me[SRLM_MAX_SPEC];
    for (int i = 0; i < d->nspec; i++)
        me[i] = (VkSpecializationMapEntry){.constantID = (uint32_t)i, .offset = (uint32_t)(i * 4), .size = 4};
    VkSpecializationInfo si = {.mapEntryCount = d->nspec, .pMapEntries = me, .dataSize = d->nspec * 4u, .pData = key};
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = L->module, .pName = "main", .pSpecializationInfo = d->nspec ? &si : NULL},
        .layout = L->layout,
    };
    srlm_pipeline *p = calloc(1, sizeof *p);
    if (!p) return srlm_errorf(SRLM_ERR_OOM, "out of memory creating pipeline %s", d->name);
    VkResult r = vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &cpi, NULL, &p->pipeline);
    if (r) {
        free(p);
        return srlm_status_wrap(srlm_vk_check(r, "vkCreateComputePipelines"), "op %s: ", d->name);
    }
    p->op = op;
    memcpy(p->spec, key, sizeof key);
    p->next = ctx->pipelines;
    ctx->pipelines = p;
    *out = p;
    return NULL;
}

void srlm_pipelines_destroy(srlm_ctx *ctx) {
    for (srlm_pipeline *p = ctx->pipelines, *n; p; p = n) {
        n = p->next;
        vkDestroyPipeline(ctx->device, p->pipeline, NULL);
        free(p);
    }
    ctx->pipelines = NULL;
    if (ctx->op_layouts)
        for (int i = 0; i < srlm_op_count; i++) {
            srlm_op_layout *L = &ctx->op_layouts[i];
            if (L->module) vkDestroyShaderModule(ctx->device, L->module, NULL);
            if (L->layout) vkDestroyPipelineLayout(ctx->device, L->layout, NULL);
            if (L->dsl) vkDestroyDescriptorSetLayout(ctx->device, L->dsl, NULL);
        }
    if (ctx->pipeline_cache) vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    ctx->pipeline_cache = VK_NULL_HANDLE;
}

/* ---- on-disk pipeline cache ----
 * File: $XDG_CACHE_HOME/srlm (or ~/.cache/srlm) / pipelines-<vendor>-<device>.bin, holding
 * our header (magic, format version, srlm version, payload size, checksum) then Vulkan's
 * own cache data, whose header (vendor, device, pipelineCacheUUID) is checked too. Any
 * mismatch: ignored and rebuilt. SRLM_PIPELINE_CACHE=0 disables it. */

#define CACHE_MAGIC "SRLMPIPE"
#define CACHE_FORMAT 1u

typedef struct cache_header {
    char magic[8];
    uint32_t format;
    char version[16];
    uint64_t size;
    uint64_t checksum;
} cache_header;

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static bool cache_dir(char *out, size_t n) {
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int k;
    if (x && *x) k = snprintf(out, n, "%s/srlm", x);
    else if (home && *home) k = snprintf(out, n, "%s/.cache/srlm", home);
    else return false;
    return k > 0 && (size_t)k < n;
}

/* Checks Vulkan's cache header (VkPipelineCacheHeaderVersionOne) against this device. */
static bool vk_cache_header_ok(const srlm_ctx *ctx, const uint8_t *d, size_t n) {
    if (n < 32) return false;
    uint32_t len, ver, vendor, device;
    memcpy(&len, d, 4), memcpy(&ver, d + 4, 4), memcpy(&vendor, d + 8, 4), memcpy(&device, d + 12, 4);
    return len >= 32 && ver == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && vendor == ctx->caps.vendor_id &&
           device == ctx->caps.device_id && !memcmp(d + 16, ctx->caps.pipeline_cache_uuid, VK_UUID_SIZE);
}

srlm_status srlm_pipeline_cache_load(srlm_ctx *ctx) {
    const char *off = getenv("SRLM_PIPELINE_CACHE");
    bool enabled = !(off && !strcmp(off, "0"));
    char dir[900];
    void *data = NULL;
    size_t size = 0;
    if (enabled && cache_dir(dir, sizeof dir)) {
        snprintf(ctx->pipeline_cache_path, sizeof ctx->pipeline_cache_path, "%s/pipelines-%04x-%04x.bin", dir,
                 ctx->caps.vendor_id, ctx->caps.device_id);
        FILE *f = fopen(ctx->pipeline_cache_path, "rb");
        cache_header h;
        if (f && fread(&h, sizeof h, 1, f) == 1 && !memcmp(h.magic, CACHE_MAGIC, 8) && h.format == CACHE_FORMAT &&
            !strncmp(h.version, SRLM_VERSION, sizeof h.version) && h.size < (1ull << 31)) {
            data = malloc(h.size ? h.size : 1);
            if (data && fread(data, 1, h.size, f) == h.size && fnv1a(data, h.size) == h.checksum &&
                vk_cache_header_ok(ctx, data, h.size)) {
                size = h.size;
            } else {
                free(data);
                data = NULL;
            }
        }
        if (f) fclose(f);
    }
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, .initialDataSize = size, .pInitialData = data};
    VkResult r = vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipeline_cache);
    free(data);
    return srlm_vk_check(r, "vkCreatePipelineCache");
}

/* Best effort: a cache that cannot be written only costs time on the next start. Written to
 * a temporary name then renamed, so concurrent processes never see half a file. */
void srlm_pipeline_cache_save(srlm_ctx *ctx) {
    if (!ctx->pipeline_cache_path[0] || !ctx->pipelines) return;
    size_t size = 0;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, NULL) != VK_SUCCESS || !size) return;
    uint8_t *data = malloc(size);
    if (!data) return;
    if (vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, data) != VK_SUCCESS) { free(data); return; }
    char dir[900];
    if (cache_dir(dir, sizeof dir)) {
        char parent[900];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash) { *slash = 0; mkdir(parent, 0755); }
        mkdir(dir, 0755);
    }
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", ctx->pipeline_cache_path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        cache_header h = {.format = CACHE_FORMAT, .size = size, .checksum = fnv1a(data, size)};
        memcpy(h.magic, CACHE_MAGIC, 8);
        snprintf(h.version, sizeof h.version, "%s", SRLM_VERSION);
        bool ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, size, f) == size;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, ctx->pipeline_cache_path) != 0) remove(tmp);
    }
    free(data);
}
