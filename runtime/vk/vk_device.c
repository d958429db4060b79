/* vk_device.c: instance creation, device enumeration and capability queries, the choice
 * of device. Not the logical device (vk_ctx.c) nor memory (vk_mem.c). */
#include "vk.h"

#include <stdlib.h>
#include <string.h>

const char *srlm_vk_result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult(other)";
    }
}

srlm_status srlm_vk_check(VkResult r, const char *what) {
    if (r == VK_SUCCESS) return NULL;
    srlm_code code = SRLM_ERR_VULKAN;
    if (r == VK_ERROR_DEVICE_LOST) code = SRLM_ERR_DEVICE_LOST;
    else if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) code = SRLM_ERR_DEVICE_OOM;
    else if (r == VK_ERROR_OUT_OF_HOST_MEMORY) code = SRLM_ERR_OOM;
    else if (r == VK_ERROR_EXTENSION_NOT_PRESENT || r == VK_ERROR_FEATURE_NOT_PRESENT ||
             r == VK_ERROR_LAYER_NOT_PRESENT || r == VK_ERROR_INCOMPATIBLE_DRIVER)
        code = SRLM_ERR_UNSUPPORTED;
    return srlm_errorf(code, "%s failed: %s (%d)", what, srlm_vk_result_name(r), (int)r);
}

static bool has_ext(const VkExtensionProperties *e, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(e[i].extensionName, name)) return true;
    return false;
}

/* Fills caps from one physical device. Feature structs are chained only where the device's
 * API version or an extension makes them valid (Vulkan 1.1 is the floor). */
static srlm_status query_caps(VkPhysicalDevice pd, srlm_device_caps *c) {
    memset(c, 0, sizeof *c);
    uint32_t next = 0;
    VkResult r = vkEnumerateDeviceExtensionProperties(pd, NULL, &next, NULL);
    if (r) return srlm_vk_check(r, "vkEnumerateDeviceExtensionProperties");
    VkExtensionProperties *exts = calloc(next ? next : 1, sizeof *exts);
    if (!exts) return srlm_errorf(SRLM_ERR_OOM, "out of memory listing device extensions");
    r = vkEnumerateDeviceExtensionProperties(pd, NULL, &next, exts);
    if (r && r != VK_INCOMPLETE) { free(exts); return srlm_vk_check(r, "vkEnumerateDeviceExtensionProperties"); }

    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(pd, &base);
    bool v12 = base.apiVersion >= VK_API_VERSION_1_2;
    bool v13 = base.apiVersion >= VK_API_VERSION_1_3;

    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT sgc = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    sg.pNext = &m3;
    void **tail = &m3.pNext;
    c->subgroup_size_control = v13 || has_ext(exts, next, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    if (c->subgroup_size_control) { *tail = &sgc; tail = &sgc.pNext; }
    if (v12 || has_ext(exts, next, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME)) { *tail = &drv; tail = &drv.pNext; }
    vkGetPhysicalDeviceProperties2(pd, &p2);

    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    tail = &s16.pNext;
    if (v12 || has_ext(exts, next, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) { *tail = &f16; tail = &f16.pNext; }
    if (v12 || has_ext(exts, next, VK_KHR_8BIT_STORAGE_EXTENSION_NAME)) { *tail = &s8; tail = &s8.pNext; }
    vkGetPhysicalDeviceFeatures2(pd, &f2);

    const VkPhysicalDeviceLimits *L = &base.limits;
    snprintf(c->name, sizeof c->name, "%s", base.deviceName);
    if (drv.driverName[0]) snprintf(c->driver, sizeof c->driver, "%s %s", drv.driverName, drv.driverInfo);
    c->type = base.deviceType;
    c->vendor_id = base.vendorID;
    c->device_id = base.deviceID;
    c->api_version = base.apiVersion;
    c->driver_version = base.driverVersion;
    memcpy(c->pipeline_cache_uuid, base.pipelineCacheUUID, VK_UUID_SIZE);
    c->max_storage_buffer_range = L->maxStorageBufferRange;
    c->max_alloc_size = m3.maxMemoryAllocationSize ? m3.maxMemoryAllocationSize : (1ull << 30);
    c->max_buffer_size = c->max_alloc_size; /* maxBufferSize is Vulkan 1.3; the allocation cap bounds buffers too */
    c->max_alloc_count = L->maxMemoryAllocationCount;
    c->min_storage_offset_align = L->minStorageBufferOffsetAlignment;
    c->non_coherent_atom = L->nonCoherentAtomSize;
    c->max_push_constants = L->maxPushConstantsSize;
    c->max_shared_memory = L->maxComputeSharedMemorySize;
    c->max_wg_invocations = L->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        c->max_wg_size[i] = L->maxComputeWorkGroupSize[i];
        c->max_wg_count[i] = L->maxComputeWorkGroupCount[i];
    }
    c->max_storage_buffers_per_stage = L->maxPerStageDescriptorStorageBuffers;
    c->subgroup_size = sg.subgroupSize;
    c->subgroup_ops = sg.supportedOperations;
    c->subgroup_in_compute = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    c->min_subgroup_size = c->subgroup_size_control ? sgc.minSubgroupSize : sg.subgroupSize;
    c->max_subgroup_size = c->subgroup_size_control ? sgc.maxSubgroupSize : sg.subgroupSize;
    c->storage16 = s16.storageBuffer16BitAccess;
    c->storage8 = s8.storageBuffer8BitAccess;
    c->float16 = f16.shaderFloat16;
    c->int8 = f16.shaderInt8;
    c->int64 = f2.features.shaderInt64;
    c->push_descriptor = has_ext(exts, next, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
    c->coop_matrix_khr = has_ext(exts, next, "VK_KHR_cooperative_matrix");
    c->coop_matrix_nv = has_ext(exts, next, "VK_NV_cooperative_matrix");
    c->timestamp_period_ns = L->timestampPeriod;
    free(exts);

    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    if (nq > 16) nq = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
    for (uint32_t i = 0; i < nq; i++)
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && qf[i].timestampValidBits > 0 && L->timestampComputeAndGraphics)
            c->timestamps = true;

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    c->heap_count = mp.memoryHeapCount < SRLM_MAX_HEAPS ? mp.memoryHeapCount : SRLM_MAX_HEAPS;
    for (uint32_t i = 0; i < c->heap_count; i++) {
        c->heap_size[i] = mp.memoryHeaps[i].size;
        c->heap_flags[i] = mp.memoryHeaps[i].flags;
    }
    /* Unified memory: the largest device-local heap has a type that is host-visible and
     * coherent (integrated GPUs, phones, lavapipe). */
    uint64_t best = 0;
    int best_heap = -1;
    for (uint32_t i = 0; i < c->heap_count; i++)
        if ((c->heap_flags[i] & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && c->heap_size[i] > best) best = c->heap_size[i], best_heap = (int)i;
    const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
        if ((int)mp.memoryTypes[i].heapIndex == best_heap && (mp.memoryTypes[i].propertyFlags & want) == want &&
            (base.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU || base.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU))
            c->unified_memory = true;
    return NULL;
}

srlm_status srlm_vk_enumerate_with(VkInstance inst, VkPhysicalDevice *pds, srlm_device_caps *caps, int *count) {
    uint32_t n = SRLM_MAX_DEVICES;
    VkResult r = vkEnumeratePhysicalDevices(inst, &n, pds);
    if (r && r != VK_INCOMPLETE) return srlm_vk_check(r, "vkEnumeratePhysicalDevices");
    for (uint32_t i = 0; i < n; i++) SRLM_TRY(query_caps(pds[i], &caps[i]));
    *count = (int)n;
    return NULL;
}

/* Rank for the automatic choice: discrete > integrated > virtual > CPU > other. */
int srlm_vk_device_rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

int srlm_vk_choose_device(const srlm_device_caps *caps, int n) {
    int best = -1, best_rank = -1;
    for (int i = 0; i < n; i++) {
        int rank = srlm_vk_device_rank(caps[i].type);
        if (rank > best_rank) best = i, best_rank = rank;
    }
    return best;
}
