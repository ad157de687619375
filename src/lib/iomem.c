/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "iomem.h"
#include "shared/macro.h"

bool gp_iomem_framebuffer_in(const gp_host *h, const gp_pci_dev *d, int *ret_bar, char *ret_name, size_t name_len)
{
    static const char *const fbs[] = { "BOOTFB", "efifb", "vesafb", "simplefb", "simple-framebuffer", "simpledrm" };
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;

    if (gp_host_read_file(h, "proc/iomem", 4u * 1024 * 1024, &buf, &len) < 0)
        return false;
    /* "  c0000000-c07e8fff : BOOTFB", nested two spaces a level */
    for (char *p = buf; p && *p;) {
        char *nl = strchr(p, '\n'), *colon;
        unsigned long long a, b;

        if (nl)
            *nl = '\0';
        colon = strstr(p, " : ");
        if (colon && sscanf(p, " %llx-%llx", &a, &b) == 2 && b > 0) {
            for (size_t k = 0; k < ELEMENTSOF(fbs); k++) {
                if (!gp_startswith(colon + 3, fbs[k]))
                    continue;
                for (int i = 0; i < GP_PCI_BARS; i++) {
                    const gp_pci_bar *bar = &d->bars[i];

                    if (bar->size && !bar->io && a >= bar->start && a <= bar->start + bar->size - 1) {
                        *ret_bar = i;
                        snprintf(ret_name, name_len, "%s", colon + 3);
                        return true;
                    }
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}
