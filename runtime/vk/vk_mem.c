/* vk_mem.c: device memory: arenas sub-allocated from large allocations (respecting the
 * device's allocation size and count), budget accounting, host<->device copies (direct
 * mapping on unified memory, else a staging ring). Not a general-purpose allocator: arenas
 * are planned up front and released as a whole. */
#include "vk.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define STAGING_SIZE (64ull << 20)

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* One VkBuffer + its memory; checked against the budget and the allocation count. */
static srlm_status alloc_buffer(srlm_ctx *ctx, uint64_t size, uint32_t type, bool map, bool count_budget,
                                VkBuffer *buf, VkDeviceMemory *mem, uint8_t **mapped) {
    *buf = VK_NULL_HANDLE, *mem = VK_NULL_HANDLE, *mapped = NULL;
    if (count_budget && ctx->mem_used + size > ctx->mem_budget)
        return srlm_errorf(SRLM_ERR_DEVICE_OOM,
                           "device memory budget exceeded: %.1f MiB in use + %.1f MiB requested > budget %.1f MiB "
                           "(set SRLM_MEM_BUDGET or --mem-budget to change it)",
                           ctx->mem_used / 1048576.0, size / 1048576.0, ctx->mem_budget / 1048576.0);
    if (ctx->alloc_count + 1 > ctx->caps.max_alloc_count)
        return srlm_errorf(SRLM_ERR_DEVICE_OOM, "device allocation count limit (%u) reached", ctx->caps.max_alloc_count);
    if (size > ctx->caps.max_alloc_size)
        return srlm_errorf(SRLM_ERR_DEVICE_OOM, "allocation of %.1f MiB exceeds maxMemoryAllocationSize %.1f MiB",
                           size / 1048576.0, ctx->caps.max_alloc_size / 1048576.0);
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    SRLM_TRY(srlm_vk_check(vkCreateBuffer(ctx->device, &bci, NULL, buf), "vkCreateBuffer"));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(ctx->device, *buf, &req);
    if (!(req.memoryTypeBits & (1u << type))) {
        vkDestroyBuffer(ctx->device, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "storage buffers cannot use memory type %u on this device", type);
    }
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size, .memoryTypeIndex = type};
    VkResult r = vkAllocateMemory(ctx->device, &mai, NULL, mem);
    if (r) {
        vkDestroyBuffer(ctx->device, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        srlm_status st = srlm_vk_check(r, "vkAllocateMemory");
        return srlm_status_wrap(st, "allocating %.1f MiB of device memory: ", size / 1048576.0);
    }
    r = vkBindBufferMemory(ctx->device, *buf, *mem, 0);
    if (!r && map) r = vkMapMemory(ctx->device, *mem, 0, VK_WHOLE_SIZE, 0, (void **)mapped);
    if (r) {
        vkDestroyBuffer(ctx->device, *buf, NULL);
        vkFreeMemory(ctx->device, *mem, NULL);
        *buf = VK_NULL_HANDLE, *mem = VK_NULL_HANDLE;
        return srlm_vk_check(r, "binding or mapping device memory");
    }
    ctx->alloc_count++;
    if (count_budget) {
        ctx->mem_used += size;
        if (ctx->mem_used > ctx->mem_peak) ctx->mem_peak = ctx->mem_used;
    }
    return NULL;
}

srlm_status srlm_arena_create(srlm_ctx *ctx, const char *name, uint64_t chunk_size, srlm_arena **out) {
    *out = NULL;
    srlm_arena *a = calloc(1, sizeof *a);
    if (!a) return srlm_errorf(SRLM_ERR_OOM, "out of memory creating arena %s", name);
    a->ctx = ctx;
    snprintf(a->name, sizeof a->name, "%s", name);
    uint64_t max_chunk = ctx->caps.max_alloc_size;
    if (max_chunk > ctx->caps.max_buffer_size) max_chunk = ctx->caps.max_buffer_size;
    max_chunk = max_chunk / 256 * 256;
    if (!chunk_size) chunk_size = 64ull << 20;
    a->chunk_size = chunk_size < max_chunk ? chunk_size : max_chunk;
    *out = a;
    return NULL;
}

void srlm_arena_destroy(srlm_arena *a) {
    if (!a) return;
    srlm_ctx *ctx = a->ctx;
    for (int i = 0; i < a->nchunks; i++) {
        srlm_arena_chunk *c = &a->chunks[i];
        if (c->map) vkUnmapMemory(ctx->device, c->mem);
        vkDestroyBuffer(ctx->device, c->buffer, NULL);
        vkFreeMemory(ctx->device, c->mem, NULL);
        ctx->alloc_count--;
        ctx->mem_used -= c->size;
    }
    free(a->chunks);
    free(a);
}

srlm_status srlm_arena_alloc(srlm_arena *a, uint64_t size, srlm_buf *out) {
    srlm_ctx *ctx = a->ctx;
    uint64_t align = ctx->caps.min_storage_offset_align < 256 ? 256 : ctx->caps.min_storage_offset_align;
    uint64_t need = align_up(size ? size : 4, 16);
    for (int i = 0; i < a->nchunks; i++) {
        srlm_arena_chunk *c = &a->chunks[i];
        uint64_t off = align_up(c->used, align);
        if (off + need <= c->size) {
            c->used = off + need;
            *out = (srlm_buf){.buffer = c->buffer, .offset = off, .size = size, .map = c->map ? c->map + off : NULL};
            return NULL;
        }
    }
    uint64_t csize = need > a->chunk_size ? align_up(need, align) : a->chunk_size;
    if (a->nchunks == a->cap) {
        int cap = a->cap ? a->cap * 2 : 4;
        srlm_arena_chunk *chunks = realloc(a->chunks, (size_t)cap * sizeof *chunks);
        if (!chunks) return srlm_errorf(SRLM_ERR_OOM, "out of memory growing arena %s", a->name);
        a->chunks = chunks, a->cap = cap;
    }
    srlm_arena_chunk *c = &a->chunks[a->nchunks];
    memset(c, 0, sizeof *c);
    srlm_status st = alloc_buffer(ctx, csize, ctx->mem_type, ctx->mem_mapped, true, &c->buffer, &c->mem, &c->map);
    if (st) return srlm_status_wrap(st, "arena %s: ", a->name);
    c->size = csize;
    c->used = need;
    a->nchunks++;
    *out = (srlm_buf){.buffer = c->buffer, .offset = 0, .size = size, .map = c->map};
    return NULL;
}

void srlm_arena_reset(srlm_arena *a) {
    for (int i = 0; i < a->nchunks; i++) a->chunks[i].used = 0;
}

uint64_t srlm_arena_bytes(const srlm_arena *a) {
    uint64_t n = 0;
    for (int i = 0; i < a->nchunks; i++) n += a->chunks[i].size;
    return n;
}

srlm_buf srlm_buf_slice(srlm_buf b, uint64_t offset, uint64_t size) {
    assert(offset + size <= b.size && "slice outside its buffer");
    srlm_buf s = b;
    s.offset += offset;
    s.size = size;
    if (s.map) s.map += offset;
    return s;
}

static srlm_status ensure_staging(srlm_ctx *ctx) {
    if (ctx->staging_buf) return NULL;
    SRLM_TRY(alloc_buffer(ctx, STAGING_SIZE, ctx->staging_type, true, false, &ctx->staging_buf, &ctx->staging_mem,
                          (uint8_t **)&ctx->staging_map));
    ctx->staging_size = STAGING_SIZE;
    return NULL;
}

/* One-shot copy through the staging buffer. */
static srlm_status staging_copy(srlm_ctx *ctx, VkBuffer dst, uint64_t dst_off, VkBuffer src, uint64_t src_off, uint64_t n) {
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = ctx->cmd_pool,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VkCommandBuffer cb;
    SRLM_TRY(srlm_vk_check(vkAllocateCommandBuffers(ctx->device, &cai, &cb), "vkAllocateCommandBuffers"));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VkResult r = vkBeginCommandBuffer(cb, &bi);
    if (!r) {
        VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                              .srcAccessMask = VK_ACCESS_HOST_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                             NULL, 0, NULL);
        VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = n};
        vkCmdCopyBuffer(cb, src, dst, 1, &region);
        VkMemoryBarrier mb2 = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
        vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb2, 0,
                             NULL, 0, NULL);
        r = vkEndCommandBuffer(cb);
    }
    if (!r) {
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
        r = vkQueueSubmit(ctx->queue, 1, &si, VK_NULL_HANDLE);
        if (!r) r = vkQueueWaitIdle(ctx->queue);
    }
    vkFreeCommandBuffers(ctx->device, ctx->cmd_pool, 1, &cb);
    return srlm_vk_check(r, "staging copy");
}

srlm_status srlm_buf_write(srlm_ctx *ctx, srlm_buf dst, uint64_t offset, const void *src, uint64_t n) {
    if (offset + n > dst.size)
        return srlm_errorf(SRLM_ERR_INVALID, "write of %llu bytes at %llu past the end of a %llu-byte buffer",
                           (unsigned long long)n, (unsigned long long)offset, (unsigned long long)dst.size);
    if (dst.map) {
        memcpy(dst.map + offset, src, n);
        return NULL;
    }
    SRLM_TRY(ensure_staging(ctx));
    const uint8_t *p = src;
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < ctx->staging_size ? n - done : ctx->staging_size;
        memcpy(ctx->staging_map, p + done, k);
        SRLM_TRY(staging_copy(ctx, dst.buffer, dst.offset + offset + done, ctx->staging_buf, 0, k));
        done += k;
    }
    return NULL;
}

srlm_status srlm_buf_read(srlm_ctx *ctx, srlm_buf src, uint64_t offset, void *dst, uint64_t n) {
    if (offset + n > src.size)
        return srlm_errorf(SRLM_ERR_INVALID, "read of %llu bytes at %llu past the end of a %llu-byte buffer",
                           (unsigned long long)n, (unsigned long long)offset, (unsigned long long)src.size);
    if (src.map) {
        memcpy(dst, src.map + offset, n);
        return NULL;
    }
    SRLM_TRY(ensure_staging(ctx));
    uint8_t *p = dst;
    for (uint64_t done = 0; done < n;) {
        uint64_t k = n - done < ctx->staging_size ? n - done : ctx->staging_size;
        SRLM_TRY(staging_copy(ctx, ctx->staging_buf, 0, src.buffer, src.offset + offset + done, k));
        memcpy(p + done, ctx->staging_map, k);
        done += k;
    }
    return NULL;
}
