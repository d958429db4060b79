/* vk.h: srlm's internal Vulkan layer: context (instance, device, queue), device
 * capabilities, memory arenas, pipelines from the op table, command recording with barrier
 * tracking, timing. Internal: the public API wraps these in srlm.h. */
#ifndef SRLM_VK_H
#define SRLM_VK_H

#include "srlm.h"

#include <stdbool.h>
#include <stdio.h>
#include <vulkan/vulkan.h>

#define SRLM_MAX_DEVICES 16
#define SRLM_MAX_BINDINGS 12
#define SRLM_MAX_SPEC 6
#define SRLM_MAX_HEAPS 16

/* What srlm reads from a device; every limit the code relies on comes from here. */
typedef struct srlm_device_caps {
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    char driver[VK_MAX_DRIVER_NAME_SIZE + VK_MAX_DRIVER_INFO_SIZE + 4];
    VkPhysicalDeviceType type;
    uint32_t vendor_id, device_id, api_version, driver_version;
    uint8_t pipeline_cache_uuid[VK_UUID_SIZE];
    uint64_t max_storage_buffer_range;
    uint64_t max_alloc_size;
    uint64_t max_buffer_size;
    uint32_t max_alloc_count;
    uint64_t min_storage_offset_align;
    uint64_t non_coherent_atom;
    uint32_t max_push_constants;
    uint32_t max_shared_memory;
    uint32_t max_wg_invocations;
    uint32_t max_wg_size[3];
    uint32_t max_wg_count[3];
    uint32_t max_storage_buffers_per_stage;
    uint32_t subgroup_size;
    uint32_t min_subgroup_size, max_subgroup_size;
    VkSubgroupFeatureFlags subgroup_ops;
    bool subgroup_in_compute;
    bool subgroup_size_control;
    bool storage16, storage8, float16, int8, int64;
    bool push_descriptor;
    bool coop_matrix_khr, coop_matrix_nv;
    bool timestamps;
    double timestamp_period_ns;
    uint32_t heap_count;
    uint64_t heap_size[SRLM_MAX_HEAPS];
    VkMemoryHeapFlags heap_flags[SRLM_MAX_HEAPS];
    bool unified_memory; /* a device-local memory type is also host-visible and coherent */
} srlm_device_caps;

/* One pipeline: an op with particular specialization constants. */
typedef struct srlm_pipeline {
    int op;
    uint32_t spec[SRLM_MAX_SPEC];
    VkPipeline pipeline;
    struct srlm_pipeline *next;
} srlm_pipeline;

typedef struct srlm_op_layout {
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkShaderModule module;
} srlm_op_layout;

struct srlm_ctx {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    bool validate;
    int validation_errors;       /* counted by the debug callback */
    bool profile;

    VkPhysicalDevice phys;
    int device_index;
    srlm_device_caps caps;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkCommandPool cmd_pool;
    PFN_vkCmdPushDescriptorSetKHR push_descriptor_fn; /* NULL: pooled descriptor sets */

    VkPipelineCache pipeline_cache;
    char pipeline_cache_path[1024];
    srlm_op_layout *op_layouts;  /* one per op in the op table, created lazily */
    srlm_pipeline *pipelines;    /* every pipeline created, a list */

    uint32_t mem_type;           /* for arenas */
    bool mem_mapped;             /* arenas' memory is host-visible: map directly */
    bool mem_coherent;
    uint32_t staging_type;       /* host-visible type for the staging ring */
    uint64_t mem_budget;         /* bytes of device memory the plans may use */
    uint64_t mem_used, mem_peak;
    uint32_t alloc_count;

    /* staging ring for uploads and read-backs when memory is not mapped directly */
    VkBuffer staging_buf;
    VkDeviceMemory staging_mem;
    void *staging_map;
    uint64_t staging_size;

    /* per-op profiling totals (SRLM_PROFILE=1) */
    double *prof_ms;
    uint64_t *prof_calls;
};

/* Turns a VkResult into a status naming what failed; NULL for VK_SUCCESS. */
srlm_status srlm_vk_check(VkResult r, const char *what);
const char *srlm_vk_result_name(VkResult r);

/* Enumerates devices and fills caps for each; count <= SRLM_MAX_DEVICES. */
srlm_status srlm_vk_enumerate(srlm_device_caps *caps, int *count);

/* ---- memory (vk_mem.c) ---- */

/* A contiguous range of one VkBuffer: what ops bind. `map` is non-NULL when the memory is
 * host-visible and mapped. */
typedef struct srlm_buf {
    VkBuffer buffer;
    uint64_t offset;
    uint64_t size;
    uint8_t *map;
} srlm_buf;

/* An arena: one or more large allocations, each one VkBuffer, handing out aligned ranges
 * (bump allocation; freed all together). */
typedef struct srlm_arena_chunk {
    VkDeviceMemory mem;
    VkBuffer buffer;
    uint64_t size, used;
    uint8_t *map;
} srlm_arena_chunk;

typedef struct srlm_arena {
    srlm_ctx *ctx;
    char name[32];
    uint64_t chunk_size;
    srlm_arena_chunk *chunks;
    int nchunks, cap;
} srlm_arena;

/* chunk_size: bytes per allocation (0: 64 MiB), capped at the device's allocation limit; a
 * request larger than a chunk gets a chunk of its own. */
srlm_status srlm_arena_create(srlm_ctx *ctx, const char *name, uint64_t chunk_size, srlm_arena **out);
void srlm_arena_destroy(srlm_arena *a);
/* Allocates `size` bytes aligned for storage-buffer binding; adds a chunk when needed. */
srlm_status srlm_arena_alloc(srlm_arena *a, uint64_t size, srlm_buf *out);
/* Releases everything allocated from the arena (chunks stay). */
void srlm_arena_reset(srlm_arena *a);
uint64_t srlm_arena_bytes(const srlm_arena *a);

/* A sub-range of a buffer. Asserts it lies inside. */
srlm_buf srlm_buf_slice(srlm_buf b, uint64_t offset, uint64_t size);

/* Host <-> device copies; synchronous. Use the mapping directly when there is one, else
 * the staging ring. */
srlm_status srlm_buf_write(srlm_ctx *ctx, srlm_buf dst, uint64_t offset, const void *src, uint64_t n);
srlm_status srlm_buf_read(srlm_ctx *ctx, srlm_buf src, uint64_t offset, void *dst, uint64_t n);

/* ---- pipelines (vk_pipeline.c) ---- */
srlm_status srlm_pipeline_get(srlm_ctx *ctx, int op, const uint32_t *spec, srlm_pipeline **out);
void srlm_pipelines_destroy(srlm_ctx *ctx);
srlm_status srlm_pipeline_cache_load(srlm_ctx *ctx);
void srlm_pipeline_cache_save(srlm_ctx *ctx);

/* ---- commands (vk_cmd.c) ---- */

typedef struct srlm_range_rec {
    VkBuffer buffer;
    uint64_t lo, hi;
} srlm_range_rec;

/* A recorded command buffer: record once, submit many times. */
typedef struct srlm_cmd {
    srlm_ctx *ctx;
    VkCommandBuffer cb;
    VkFence fence;
    bool recording, pending;
    /* hazard tracking since the last barrier */
    srlm_range_rec *writes, *reads;
    int nwrites, nreads, cap_writes, cap_reads;
    int barriers, dispatches;
    /* pooled descriptor sets when push descriptors are absent */
    VkDescriptorPool *pools;
    int npools;
    uint32_t pool_left;
    /* profiling */
    VkQueryPool query_pool;
    uint32_t query_cap;
    int *query_ops;              /* op of dispatch i */
} srlm_cmd;

/* One binding of a dispatch: a buffer range and whether the shader writes it. */
typedef struct srlm_binding {
    srlm_buf buf;
} srlm_binding;

srlm_status srlm_cmd_create(srlm_ctx *ctx, srlm_cmd **out);
void srlm_cmd_destroy(srlm_cmd *c);
/* Starts (re)recording; previous contents are dropped. */
srlm_status srlm_cmd_begin(srlm_cmd *c);
/* Records a dispatch of op `op` with `spec` constants (NULL: defaults from the op table),
 * bindings in the op's order, the push-constant struct, and the workgroup counts. Inserts a
 * barrier first when a binding overlaps a range written (or, for written bindings, read)
 * since the last barrier. Errors: binding over maxStorageBufferRange, group count over the
 * device limit, pipeline creation failures. */
srlm_status srlm_cmd_dispatch(srlm_cmd *c, int op, const uint32_t *spec, const srlm_buf *bufs, int nbufs,
                              const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz);
/* Records a buffer-to-buffer copy (tracked like a dispatch). */
srlm_status srlm_cmd_copy(srlm_cmd *c, srlm_buf dst, srlm_buf src, uint64_t n);
/* Forces a full barrier (e.g. between phases recorded by different code). */
void srlm_cmd_barrier(srlm_cmd *c);
srlm_status srlm_cmd_end(srlm_cmd *c);
srlm_status srlm_cmd_submit(srlm_cmd *c);
srlm_status srlm_cmd_wait(srlm_cmd *c);
/* end (if recording) + submit + wait */
srlm_status srlm_cmd_run(srlm_cmd *c);

/* Prints the per-op time table gathered with SRLM_PROFILE=1 (no-op otherwise). */
void srlm_ctx_profile_print(srlm_ctx *ctx, FILE *f);

#endif
