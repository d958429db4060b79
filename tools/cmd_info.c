/* cmd_info.c: `srlm info`: every Vulkan device with the limits and features srlm uses. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_info(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "-h") || cli_flag(argv, i, "--help")) {
            printf("usage: srlm info\n  lists every Vulkan device and what srlm uses of it\n");
            return 0;
        }
        return cli_usage_error("info", "unknown argument '%s'", argv[i]);
    }
    char *text;
    srlm_status st = srlm_devices_report(&text);
    if (st) return cli_fail("info", st);
    fputs(text, stdout);
    free(text);
    return 0;
}
