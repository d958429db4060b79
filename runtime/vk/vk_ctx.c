/* vk_ctx.c: the srlm_ctx lifecycle: instance (+ validation layer), logical device, queue,
 * memory-type choice and budget, and the `srlm info` report. Memory arenas live in
 * vk_mem.c, pipelines in vk_pipeline.c, command recording in vk_cmd.c. */
#include "vk.h"
#include "ops/op_table.h"

#include <stdlib.h>
#include <string.h>

srlm_status srlm_vk_enumerate_with(VkInstance inst, VkPhysicalDevice *pds, srlm_device_caps *caps, int *count);
int srlm_vk_choose_device(const srlm_device_caps *caps, int n);

static const char *validation_layer = "VK_LAYER_KHRONOS_validation";

static VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT types,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *user) {
    (void)types;
    srlm_ctx *ctx = user;
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        ctx->validation_errors++;
        /* The validation layer's own channel: tests fail on any message, so show it. */
        fprintf(stderr, "srlm: validation: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

static int env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

static bool layer_present(const char *name) {
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return false;
    VkLayerProperties *props = calloc(n, sizeof *props);
    if (!props) return false;
    bool found = false;
    if (vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            if (!strcmp(props[i].layerName, name)) found = true;
    free(props);
    return found;
}

/* Creates the instance; with `ctx` non-NULL and validation on, also the debug messenger. */
static srlm_status create_instance(bool validate, srlm_ctx *ctx, VkInstance *out) {
    uint32_t loader_version = VK_API_VERSION_1_1;
    PFN_vkEnumerateInstanceVersion eiv = (PFN_vkEnumerateInstanceVersion)vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
    if (eiv) eiv(&loader_version);
    if (loader_version < VK_API_VERSION_1_1)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "the Vulkan loader supports only %u.%u; srlm needs Vulkan 1.1",
                           VK_API_VERSION_MAJOR(loader_version), VK_API_VERSION_MINOR(loader_version));
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "srlm",
        .applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0),
        .pEngineName = "srlm",
        .apiVersion = loader_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : loader_version,
    };
    const char *layers[1] = {validation_layer};
    const char *exts[1] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    if (validate && !layer_present(validation_layer))
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "SRLM_VALIDATE=1 but the Khronos validation layer is not installed "
                                                 "(Debian package vulkan-validationlayers)");
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = debug_callback,
        .pUserData = ctx,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = validate && ctx ? &dbg : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validate ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = validate && ctx ? 1 : 0,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ici, NULL, out);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return srlm_errorf(SRLM_ERR_UNSUPPORTED, "no Vulkan driver found (install mesa-vulkan-drivers for the CPU driver lavapipe)");
    SRLM_TRY(srlm_vk_check(r, "vkCreateInstance"));
    if (validate && ctx) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(*out, "vkCreateDebugUtilsMessengerEXT");
        if (create) {
            r = create(*out, &dbg, NULL, &ctx->messenger);
            if (r) { vkDestroyInstance(*out, NULL); *out = VK_NULL_HANDLE; return srlm_vk_check(r, "vkCreateDebugUtilsMessengerEXT"); }
        }
    }
    return NULL;
}

void srlm_ctx_options_default(srlm_ctx_options *o) {
    o->device = -1;
    o->validate = -1;
    o->profile = -1;
    o->mem_budget = 0;
}

/* Parses "1500M", "6G", "123456" (bytes). Returns 0 when unparsable. */
static uint64_t parse_size(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0) return 0;
    double mult = 1;
    if (*end == 'K' || *end == 'k') mult = 1024.0;
    else if (*end == 'M' || *end == 'm') mult = 1024.0 * 1024;
    else if (*end == 'G' || *end == 'g') mult = 1024.0 * 1024 * 1024;
    else if (*end) return 0;
    return (uint64_t)(v * mult);
}

static int find_mem_type(const VkPhysicalDeviceMemoryProperties *mp, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid) {
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
        if ((f & want) == want && !(f & avoid)) return (int)i;
    }
    return -1;
}

static srlm_status create_device(srlm_ctx *ctx) {
    const srlm_device_caps *c = &ctx->caps;
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    if (nq > 16) nq = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->phys, &nq, qf);
    int family = -1;
    /* Prefer a compute-only family (async compute), else any with compute. */
    for (uint32_t i = 0; i < nq && family < 0; i++)
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && qf[i].timestampValidBits) family = (int)i;
    for (uint32_t i = 0; i < nq && family < 0; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = (int)i;
    if (family < 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "device '%s' has no compute queue", c->name);
    ctx->queue_family = (uint32_t)family;
    if (!qf[family].timestampValidBits) ctx->caps.timestamps = false;

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = ctx->queue_family, .queueCount = 1, .pQueuePriorities = &prio};
    bool v12 = c->api_version >= VK_API_VERSION_1_2;
    const char *exts[4];
    uint32_t next = 0;
    if (c->push_descriptor && !env_flag("SRLM_NO_PUSH_DESCRIPTOR")) exts[next++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
                                                .storageBuffer16BitAccess = c->storage16};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
                                                     .shaderFloat16 = c->float16, .shaderInt8 = c->int8};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES,
                                              .storageBuffer8BitAccess = c->storage8};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    f2.features.shaderInt64 = c->int64;
    void **tail = &s16.pNext;
    if (c->float16 || c->int8) {
        if (!v12) exts[next++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
        *tail = &f16, tail = &f16.pNext;
    }
    if (c->storage8) {
        if (!v12) exts[next++] = VK_KHR_8BIT_STORAGE_EXTENSION_NAME;
        *tail = &s8, tail = &s8.pNext;
    }
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &f2,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = next,
        .ppEnabledExtensionNames = exts,
    };
    SRLM_TRY(srlm_vk_check(vkCreateDevice(ctx->phys, &dci, NULL, &ctx->device), "vkCreateDevice"));
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    if (c->push_descriptor && !env_flag("SRLM_NO_PUSH_DESCRIPTOR"))
        ctx->push_descriptor_fn = (PFN_vkCmdPushDescriptorSetKHR)vkGetDeviceProcAddr(ctx->device, "vkCmdPushDescriptorSetKHR");
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = ctx->queue_family};
    SRLM_TRY(srlm_vk_check(vkCreateCommandPool(ctx->device, &pci, NULL, &ctx->cmd_pool), "vkCreateCommandPool"));

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(ctx->phys, &mp);
    const VkMemoryPropertyFlags dl = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int t = -1;
    if (c->unified_memory && !env_flag("SRLM_NO_UNIFIED")) {
        t = find_mem_type(&mp, dl | hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (t < 0) t = find_mem_type(&mp, dl | hv, 0);
        ctx->mem_mapped = t >= 0;
        ctx->mem_coherent = true;
    }
    if (t < 0) t = find_mem_type(&mp, dl, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (t < 0) t = find_mem_type(&mp, dl, 0);
    if (t < 0) t = find_mem_type(&mp, hv, 0);
    if (t < 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "device '%s' has no usable memory type", c->name);
    ctx->mem_type = (uint32_t)t;
    int s = find_mem_type(&mp, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
    if (s < 0) s = find_mem_type(&mp, hv, 0);
    if (s < 0) return srlm_errorf(SRLM_ERR_UNSUPPORTED, "device '%s' has no host-visible coherent memory for staging", c->name);
    ctx->staging_type = (uint32_t)s;
    uint64_t heap = mp.memoryHeaps[mp.memoryTypes[t].heapIndex].size;
    if (!ctx->mem_budget) {
        const char *b = getenv("SRLM_MEM_BUDGET");
        if (b && *b) {
            ctx->mem_budget = parse_size(b);
            if (!ctx->mem_budget) return srlm_errorf(SRLM_ERR_INVALID, "SRLM_MEM_BUDGET='%s' is not a size such as 6G or 1500M", b);
        } else {
            ctx->mem_budget = heap;
        }
    }
    return NULL;
}

srlm_status srlm_ctx_create(const srlm_ctx_options *opts, srlm_ctx **out) {
    *out = NULL;
    srlm_ctx_options o;
    if (opts) o = *opts;
    else srlm_ctx_options_default(&o);
    srlm_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return srlm_errorf(SRLM_ERR_OOM, "out of memory creating the context");
    ctx->validate = o.validate >= 0 ? o.validate : env_flag("SRLM_VALIDATE");
    ctx->profile = o.profile >= 0 ? o.profile : env_flag("SRLM_PROFILE");
    ctx->mem_budget = o.mem_budget;
    srlm_status st = create_instance(ctx->validate, ctx, &ctx->instance);
    if (st) { srlm_ctx_destroy(ctx); return st; }

    VkPhysicalDevice pds[SRLM_MAX_DEVICES];
    srlm_device_caps *caps = calloc(SRLM_MAX_DEVICES, sizeof *caps);
    int n = 0;
    if (!caps) st = srlm_errorf(SRLM_ERR_OOM, "out of memory listing devices");
    else st = srlm_vk_enumerate_with(ctx->instance, pds, caps, &n);
    if (!st && n == 0) st = srlm_errorf(SRLM_ERR_UNSUPPORTED, "no Vulkan device found (install mesa-vulkan-drivers for lavapipe)");
    int idx = o.device;
    if (!st && idx < 0) {
        const char *e = getenv("SRLM_DEVICE");
        if (e && *e) {
            char *end;
            long v = strtol(e, &end, 10);
            if (*end || v < 0) st = srlm_errorf(SRLM_ERR_INVALID, "SRLM_DEVICE='%s' is not a device index", e);
            idx = (int)v;
        }
    }
    if (!st && idx < 0) idx = srlm_vk_choose_device(caps, n);
    if (!st && idx >= n) st = srlm_errorf(SRLM_ERR_INVALID, "device %d does not exist: %d device(s) found (see srlm info)", idx, n);
    if (!st) {
        ctx->phys = pds[idx];
        ctx->device_index = idx;
        ctx->caps = caps[idx];
    }
    free(caps);
    if (!st) st = create_device(ctx);
    if (!st) {
        ctx->op_layouts = calloc((size_t)srlm_op_count, sizeof *ctx->op_layouts);
        ctx->prof_ms = calloc((size_t)srlm_op_count, sizeof *ctx->prof_ms);
        ctx->prof_calls = calloc((size_t)srlm_op_count, sizeof *ctx->prof_calls);
        if (!ctx->op_layouts || !ctx->prof_ms || !ctx->prof_calls) st = srlm_errorf(SRLM_ERR_OOM, "out of memory creating the context");
    }
    if (!st) st = srlm_pipeline_cache_load(ctx);
    if (st) { srlm_ctx_destroy(ctx); return st; }
    *out = ctx;
    return NULL;
}

void srlm_ctx_destroy(srlm_ctx *ctx) {
    if (!ctx) return;
    if (ctx->device) {
        vkDeviceWaitIdle(ctx->device);
        if (ctx->pipeline_cache) srlm_pipeline_cache_save(ctx);
        srlm_pipelines_destroy(ctx);
        if (ctx->staging_buf) vkDestroyBuffer(ctx->device, ctx->staging_buf, NULL);
        if (ctx->staging_mem) vkFreeMemory(ctx->device, ctx->staging_mem, NULL);
        if (ctx->cmd_pool) vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
        vkDestroyDevice(ctx->device, NULL);
    }
    if (ctx->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy) destroy(ctx->instance, ctx->messenger, NULL);
    }
    if (ctx->instance) vkDestroyInstance(ctx->instance, NULL);
    free(ctx->op_layouts);
    free(ctx->prof_ms);
    free(ctx->prof_calls);
    free(ctx);
}

int srlm_ctx_validation_errors(const srlm_ctx *ctx) { return ctx->validation_errors; }
const char *srlm_ctx_device_name(const srlm_ctx *ctx) { return ctx->caps.name; }
int srlm_ctx_is_cpu(const srlm_ctx *ctx) { return ctx->caps.type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
uint64_t srlm_ctx_mem_peak(const srlm_ctx *ctx) { return ctx->mem_peak; }
uint64_t srlm_ctx_mem_budget(const srlm_ctx *ctx) { return ctx->mem_budget; }
void srlm_ctx_profile_report(srlm_ctx *ctx, FILE *f) { srlm_ctx_profile_print(ctx, f); }

/* ---- srlm info ---- */

typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(strbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->s && b->len + (size_t)n < b->cap) { b->len += (size_t)n; return; }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = true; return; }
        b->s = s, b->cap = cap;
    }
}

static const char *type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

static const char *yn(bool b) { return b ? "yes" : "no"; }

srlm_status srlm_devices_report(char **text) {
    *text = NULL;
    VkInstance inst;
    SRLM_TRY(create_instance(false, NULL, &inst));
    VkPhysicalDevice pds[SRLM_MAX_DEVICES];
    srlm_device_caps *caps = calloc(SRLM_MAX_DEVICES, sizeof *caps);
    if (!caps) { vkDestroyInstance(inst, NULL); return srlm_errorf(SRLM_ERR_OOM, "out of memory"); }
    int n = 0;
    srlm_status st = srlm_vk_enumerate_with(inst, pds, caps, &n);
    vkDestroyInstance(inst, NULL);
    if (st) { free(caps); return st; }
    int chosen = srlm_vk_choose_device(caps, n);
    strbuf b = {0};
    sb_printf(&b, "srlm %s: %d Vulkan device(s); default choice: %d (discrete > integrated > virtual > CPU; "
                  "override with --device N or SRLM_DEVICE=N)\n", SRLM_VERSION, n, chosen);
    for (int i = 0; i < n; i++) {
        const srlm_device_caps *c = &caps[i];
        sb_printf(&b, "\ndevice %d%s: %s (%s)\n", i, i == chosen ? " [default]" : "", c->name, type_name(c->type));
        sb_printf(&b, "  vendor 0x%04x device 0x%04x, Vulkan %u.%u.%u, driver %s\n", c->vendor_id, c->device_id,
                  VK_API_VERSION_MAJOR(c->api_version), VK_API_VERSION_MINOR(c->api_version),
                  VK_API_VERSION_PATCH(c->api_version), c->driver[0] ? c->driver : "(unknown)");
        sb_printf(&b, "  maxStorageBufferRange      %llu (%.0f MiB)\n", (unsigned long long)c->max_storage_buffer_range,
                  c->max_storage_buffer_range / 1048576.0);
        sb_printf(&b, "  maxMemoryAllocationSize    %llu (%.2f GiB)\n", (unsigned long long)c->max_alloc_size,
                  c->max_alloc_size / 1073741824.0);
        sb_printf(&b, "  maxMemoryAllocationCount   %u\n", c->max_alloc_count);
        sb_printf(&b, "  minStorageBufferOffsetAlignment %llu\n", (unsigned long long)c->min_storage_offset_align);
        sb_printf(&b, "  shared memory per workgroup %u bytes\n", c->max_shared_memory);
        sb_printf(&b, "  workgroup: %u invocations, size %u x %u x %u, count %u x %u x %u\n", c->max_wg_invocations,
                  c->max_wg_size[0], c->max_wg_size[1], c->max_wg_size[2], c->max_wg_count[0], c->max_wg_count[1],
                  c->max_wg_count[2]);
        sb_printf(&b, "  subgroup size %u (control: %s, %u..%u), in compute: %s, operations:%s%s%s%s%s%s%s%s\n",
                  c->subgroup_size, yn(c->subgroup_size_control), c->min_subgroup_size, c->max_subgroup_size,
                  yn(c->subgroup_in_compute),
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_BASIC_BIT ? " basic" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_VOTE_BIT ? " vote" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT ? " arithmetic" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_BALLOT_BIT ? " ballot" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT ? " shuffle" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT ? " shuffle-relative" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_CLUSTERED_BIT ? " clustered" : "",
                  c->subgroup_ops & VK_SUBGROUP_FEATURE_QUAD_BIT ? " quad" : "");
        sb_printf(&b, "  16-bit storage %s, 8-bit storage %s, shaderFloat16 %s, shaderInt8 %s, shaderInt64 %s\n",
                  yn(c->storage16), yn(c->storage8), yn(c->float16), yn(c->int8), yn(c->int64));
        sb_printf(&b, "  cooperative matrix: KHR %s, NV %s; push descriptors %s; storage buffers per stage %u; push constants %u bytes\n",
                  yn(c->coop_matrix_khr), yn(c->coop_matrix_nv), yn(c->push_descriptor), c->max_storage_buffers_per_stage,
                  c->max_push_constants);
        sb_printf(&b, "  timestamps %s (period %.3g ns)\n", yn(c->timestamps), c->timestamp_period_ns);
        for (uint32_t h = 0; h < c->heap_count; h++)
            sb_printf(&b, "  memory heap %u: %.2f GiB%s\n", h, c->heap_size[h] / 1073741824.0,
                      c->heap_flags[h] & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT ? " device-local" : "");
        sb_printf(&b, "  unified memory: %s%s\n", yn(c->unified_memory),
                  c->unified_memory ? " (device memory mapped directly, no staging copies)" : " (uploads through a staging ring)");
        sb_printf(&b, "  f16 weights: %s\n", c->storage16 ? "16-bit storage available; srlm stores them as uint words either way"
                                                          : "stored as uint words, unpacked with unpackHalf2x16");
    }
    free(caps);
    if (b.oom) { free(b.s); return srlm_errorf(SRLM_ERR_OOM, "out of memory writing the device report"); }
    *text = b.s;
    return NULL;
}
