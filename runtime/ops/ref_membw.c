/* ref_membw.c: CPU reference of the bandwidth probes in shaders/membw.comp (integer sums and
 * a copy), so that `srlm bench membw` is known to read and write every byte it counts. */
#include "ref.h"

#include <string.h>

void srlm_ref_membw_read(uint32_t *partial, const uint32_t *x, uint32_t n, uint32_t chunk, uint32_t wg) {
    uint32_t groups = (n + chunk - 1) / chunk;
    for (uint32_t g = 0; g < groups; g++) {
        uint32_t begin = g * chunk, end = begin + chunk < n ? begin + chunk : n;
        for (uint32_t l = 0; l < wg; l++) {
            uint32_t acc = 0;
            for (uint32_t i = begin + l; i < end; i += wg)
                acc += x[4 * (size_t)i] + x[4 * (size_t)i + 1] + x[4 * (size_t)i + 2] + x[4 * (size_t)i + 3];
            partial[(size_t)g * wg + l] = acc;
        }
    }
}

void srlm_ref_membw_copy(uint32_t *y, const uint32_t *x, uint32_t n) { memcpy(y, x, (size_t)n * 16); }
