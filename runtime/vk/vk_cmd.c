/* vk_cmd.c: command buffers recorded once and replayed: dispatches through the op table,
 * a barrier only where a dispatch touches a range written (or writes a range read) since the
 * last barrier, push or pooled descriptors, fences, timestamp profiling. */
#include "vk.h"
#include "ops/op_table.h"

#include <stdlib.h>
#include <string.h>

#define POOL_SETS 256
#define MAX_PROFILED 8192

srlm_status srlm_cmd_create(srlm_ctx *ctx, srlm_cmd **out) {
    *out = NULL;
    srlm_cmd *c = calloc(1, sizeof *c);
    if (!c) return srlm_errorf(SRLM_ERR_OOM, "out of memory creating a command buffer");
    c->ctx = ctx;
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = ctx->cmd_pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    srlm_status st = srlm_vk_check(vkAllocateCommandBuffers(ctx->device, &cai, &c->cb), "vkAllocateCommandBuffers");
    if (!st) st = srlm_vk_check(vkCreateFence(ctx->device, &fci, NULL, &c->fence), "vkCreateFence");
    if (!st && ctx->profile && ctx->caps.timestamps) {
        VkQueryPoolCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                     .queryCount = 2 * MAX_PROFILED};
        st = srlm_vk_check(vkCreateQueryPool(ctx->device, &qci, NULL, &c->query_pool), "vkCreateQueryPool");
        c->query_cap = MAX_PROFILED;
        c->query_ops = calloc(MAX_PROFILED, sizeof *c->query_ops);
        if (!st && !c->query_ops) st = srlm_errorf(SRLM_ERR_OOM, "out of memory for profiling");
    }
    if (st) { srlm_cmd_destroy(c); return st; }
    *out = c;
    return NULL;
}

static void free_pools(srlm_cmd *c) {
    for (int i = 0; i < c->npools; i++) vkDestroyDescriptorPool(c->ctx->device, c->pools[i], NULL);
    free(c->pools);
    c->pools = NULL, c->npools = 0, c->pool_left = 0;
}

void srlm_cmd_destroy(srlm_cmd *c) {
    if (!c) return;
    srlm_ctx *ctx = c->ctx;
    if (c->pending) vkWaitForFences(ctx->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
    free_pools(c);
    if (c->query_pool) vkDestroyQueryPool(ctx->device, c->query_pool, NULL);
    if (c->fence) vkDestroyFence(ctx->device, c->fence, NULL);
    if (c->cb) vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &c->cb);
    free(c->writes);
    free(c->reads);
    free(c->query_ops);
    free(c);
}

srlm_status srlm_cmd_begin(srlm_cmd *c) {
    if (c->pending) SRLM_TRY(srlm_cmd_wait(c));
    SRLM_TRY(srlm_vk_check(vkResetCommandBuffer(c->cb, 0), "vkResetCommandBuffer"));
    free_pools(c);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    SRLM_TRY(srlm_vk_check(vkBeginCommandBuffer(c->cb, &bi), "vkBeginCommandBuffer"));
    c->recording = true;
    c->nwrites = c->nreads = 0;
    c->barriers = c->dispatches = 0;
    if (c->query_pool) vkCmdResetQueryPool(c->cb, c->query_pool, 0, 2 * c->query_cap);
    return NULL;
}

static bool overlaps(const srlm_range_rec *r, int n, VkBuffer b, uint64_t lo, uint64_t hi) {
    for (int i = 0; i < n; i++)
        if (r[i].buffer == b && lo < r[i].hi && r[i].lo < hi) return true;
    return false;
}

static srlm_status push_range(srlm_range_rec **arr, int *n, int *cap, VkBuffer b, uint64_t lo, uint64_t hi) {
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 32;
        srlm_range_rec *a = realloc(*arr, (size_t)nc * sizeof *a);
        if (!a) return srlm_errorf(SRLM_ERR_OOM, "out of memory tracking barriers");
        *arr = a, *cap = nc;
    }
    (*arr)[(*n)++] = (srlm_range_rec){b, lo, hi};
    return NULL;
}

void srlm_cmd_barrier(srlm_cmd *c) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                                           VK_ACCESS_TRANSFER_WRITE_BIT};
    const VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(c->cb, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
    c->nwrites = c->nreads = 0;
    c->barriers++;
}

/* Barrier if any access in this command conflicts with accesses since the last barrier
 * (read-after-write, write-after-write, write-after-read), then records the accesses. */
static srlm_status track(srlm_cmd *c, const srlm_buf *bufs, int n, uint32_t write_mask) {
    bool need = false;
    for (int i = 0; i < n && !need; i++) {
        uint64_t lo = bufs[i].offset, hi = lo + bufs[i].size;
        if (overlaps(c->writes, c->nwrites, bufs[i].buffer, lo, hi)) need = true;
        if ((write_mask >> i & 1) && overlaps(c->reads, c->nreads, bufs[i].buffer, lo, hi)) need = true;
    }
    if (need) srlm_cmd_barrier(c);
    for (int i = 0; i < n; i++) {
        uint64_t lo = bufs[i].offset, hi = lo + bufs[i].size;
        if (write_mask >> i & 1) SRLM_TRY(push_range(&c->writes, &c->nwrites, &c->cap_writes, bufs[i].buffer, lo, hi));
        else SRLM_TRY(push_range(&c->reads, &c->nreads, &c->cap_reads, bufs[i].buffer, lo, hi));
    }
    return NULL;
}

static srlm_status alloc_set(srlm_cmd *c, VkDescriptorSetLayout dsl, VkDescriptorSet *out) {
    srlm_ctx *ctx = c->ctx;
    if (!c->pool_left) {
        VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = POOL_SETS * SRLM_MAX_BINDINGS};
        VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = POOL_SETS,
                                          .poolSizeCount = 1, .pPoolSizes = &ps};
        VkDescriptorPool *pools = realloc(c->pools, (size_t)(c->npools + 1) * sizeof *pools);
        if (!pools) return srlm_errorf(SRLM_ERR_OOM, "out of memory for descriptor pools");
        c->pools = pools;
        SRLM_TRY(srlm_vk_check(vkCreateDescriptorPool(ctx->device, &pci, NULL, &c->pools[c->npools]), "vkCreateDescriptorPool"));
        c->npools++;
        c->pool_left = POOL_SETS;
    }
    VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = c->pools[c->npools - 1], .descriptorSetCount = 1, .pSetLayouts = &dsl};
    SRLM_TRY(srlm_vk_check(vkAllocateDescriptorSets(ctx->device, &ai, out), "vkAllocateDescriptorSets"));
    c->pool_left--;
    return NULL;
}

srlm_status srlm_cmd_dispatch(srlm_cmd *c, int op, const uint32_t *spec, const srlm_buf *bufs, int nbufs,
                              const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz) {
    srlm_ctx *ctx = c->ctx;
    const srlm_op_desc *d = &srlm_op_table[op];
    if (!c->recording) return srlm_errorf(SRLM_ERR_INVALID, "op %s: command buffer is not recording", d->name);
    if (nbufs != d->nbind || push_size != d->push_size)
        return srlm_errorf(SRLM_ERR_INVALID, "op %s: %d bindings and %u push bytes given, the op table says %d and %u", d->name,
                           nbufs, push_size, d->nbind, d->push_size);
    if (gx == 0 || gy == 0 || gz == 0) return NULL; /* nothing to do */
    if (gx > ctx->caps.max_wg_count[0] || gy > ctx->caps.max_wg_count[1] || gz > ctx->caps.max_wg_count[2])
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "op %s: %u x %u x %u workgroups exceed the device limit %u x %u x %u", d->name,
                           gx, gy, gz, ctx->caps.max_wg_count[0], ctx->caps.max_wg_count[1], ctx->caps.max_wg_count[2]);
    VkDescriptorBufferInfo bi[SRLM_MAX_BINDINGS];
    VkWriteDescriptorSet w[SRLM_MAX_BINDINGS];
    for (int i = 0; i < nbufs; i++) {
        /* The 128 MiB rule: no binding may exceed maxStorageBufferRange. */
        if (bufs[i].size > ctx->caps.max_storage_buffer_range)
            return srlm_errorf(SRLM_ERR_INVALID, "op %s: binding %d is %llu bytes, over maxStorageBufferRange %llu; tile it",
                               d->name, i, (unsigned long long)bufs[i].size, (unsigned long long)ctx->caps.max_storage_buffer_range);
        if (bufs[i].offset % ctx->caps.min_storage_offset_align)
            return srlm_errorf(SRLM_ERR_INVALID, "op %s: binding %d offset %llu is not a multiple of %llu", d->name, i,
                               (unsigned long long)bufs[i].offset, (unsigned long long)ctx->caps.min_storage_offset_align);
        if (bufs[i].buffer == VK_NULL_HANDLE) return srlm_errorf(SRLM_ERR_INVALID, "op %s: binding %d has no buffer", d->name, i);
        bi[i] = (VkDescriptorBufferInfo){.buffer = bufs[i].buffer, .offset = bufs[i].offset,
                                         .range = bufs[i].size ? (bufs[i].size + 3) / 4 * 4 : 4};
        w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstBinding = (uint32_t)i,
                                      .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      .pBufferInfo = &bi[i]};
    }
    srlm_pipeline *p;
    SRLM_TRY(srlm_pipeline_get(ctx, op, spec, &p));
    SRLM_TRY(track(c, bufs, nbufs, d->write_mask));
    const srlm_op_layout *L = &ctx->op_layouts[op];
    vkCmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    if (ctx->push_descriptor_fn) {
        ctx->push_descriptor_fn(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, L->layout, 0, (uint32_t)nbufs, w);
    } else {
        VkDescriptorSet set;
        SRLM_TRY(alloc_set(c, L->dsl, &set));
        for (int i = 0; i < nbufs; i++) w[i].dstSet = set;
        vkUpdateDescriptorSets(ctx->device, (uint32_t)nbufs, w, 0, NULL);
        vkCmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, L->layout, 0, 1, &set, 0, NULL);
    }
    if (push_size) vkCmdPushConstants(c->cb, L->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
    bool prof = c->query_pool && (uint32_t)c->dispatches < c->query_cap;
    if (prof) {
        vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->query_pool, 2u * (uint32_t)c->dispatches);
        c->query_ops[c->dispatches] = op;
    }
    vkCmdDispatch(c->cb, gx, gy, gz);
    if (prof) vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->query_pool, 2u * (uint32_t)c->dispatches + 1);
    c->dispatches++;
    return NULL;
}

srlm_status srlm_cmd_copy(srlm_cmd *c, srlm_buf dst, srlm_buf src, uint64_t n) {
    if (!c->recording) return srlm_errorf(SRLM_ERR_INVALID, "copy: command buffer is not recording");
    if (n > dst.size || n > src.size) return srlm_errorf(SRLM_ERR_INVALID, "copy of %llu bytes exceeds a buffer", (unsigned long long)n);
    if (n == 0) return NULL;
    srlm_buf pair[2] = {srlm_buf_slice(dst, 0, n), srlm_buf_slice(src, 0, n)};
    SRLM_TRY(track(c, pair, 2, 0x1));
    VkBufferCopy region = {.srcOffset = src.offset, .dstOffset = dst.offset, .size = n};
    vkCmdCopyBuffer(c->cb, src.buffer, dst.buffer, 1, &region);
    return NULL;
}

srlm_status srlm_cmd_end(srlm_cmd *c) {
    if (!c->recording) return NULL;
    /* Make every write visible to the host (read-backs) and to the next submission. */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    vkCmdPipelineBarrier(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb,
                         0, NULL, 0, NULL);
    c->recording = false;
    return srlm_vk_check(vkEndCommandBuffer(c->cb), "vkEndCommandBuffer");
}

srlm_status srlm_cmd_submit(srlm_cmd *c) {
    if (c->recording) SRLM_TRY(srlm_cmd_end(c));
    if (c->pending) SRLM_TRY(srlm_cmd_wait(c));
    SRLM_TRY(srlm_vk_check(vkResetFences(c->ctx->device, 1, &c->fence), "vkResetFences"));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &c->cb};
    SRLM_TRY(srlm_vk_check(vkQueueSubmit(c->ctx->queue, 1, &si, c->fence), "vkQueueSubmit"));
    c->pending = true;
    return NULL;
}

srlm_status srlm_cmd_wait(srlm_cmd *c) {
    if (!c->pending) return NULL;
    srlm_ctx *ctx = c->ctx;
    VkResult r = vkWaitForFences(ctx->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
    c->pending = false;
    SRLM_TRY(srlm_vk_check(r, "vkWaitForFences"));
    if (c->query_pool && c->dispatches) {
        uint32_t n = (uint32_t)c->dispatches < c->query_cap ? (uint32_t)c->dispatches : c->query_cap;
        uint64_t *ts = malloc(2 * n * sizeof *ts);
        if (ts && vkGetQueryPoolResults(ctx->device, c->query_pool, 0, 2 * n, 2 * n * sizeof *ts, ts, sizeof *ts,
                                        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) == VK_SUCCESS) {
            for (uint32_t i = 0; i < n; i++) {
                int op = c->query_ops[i];
                ctx->prof_ms[op] += (double)(ts[2 * i + 1] - ts[2 * i]) * ctx->caps.timestamp_period_ns * 1e-6;
                ctx->prof_calls[op]++;
            }
        }
        free(ts);
    }
    return NULL;
}

srlm_status srlm_cmd_run(srlm_cmd *c) {
    SRLM_TRY(srlm_cmd_submit(c));
    return srlm_cmd_wait(c);
}

void srlm_ctx_profile_print(srlm_ctx *ctx, FILE *f) {
    if (!ctx->profile) return;
    double total = 0;
    for (int i = 0; i < srlm_op_count; i++) total += ctx->prof_ms[i];
    fprintf(f, "%-28s %10s %12s %10s %7s\n", "op", "calls", "total ms", "ms/call", "share");
    for (int i = 0; i < srlm_op_count; i++) {
        if (!ctx->prof_calls[i]) continue;
        fprintf(f, "%-28s %10llu %12.3f %10.4f %6.1f%%\n", srlm_op_table[i].name, (unsigned long long)ctx->prof_calls[i],
                ctx->prof_ms[i], ctx->prof_ms[i] / (double)ctx->prof_calls[i], total > 0 ? 100.0 * ctx->prof_ms[i] / total : 0.0);
    }
    fprintf(f, "%-28s %10s %12.3f\n", "total", "", total);
}
