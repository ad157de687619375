/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "iomem.h"
#include "shared/macro.h"

bool gp_iomem_framebuffer_in(const char *iomem, const gp_pci_dev *d, int *ret_bar, char *ret_name, size_t name_len)
{
    static const char *const fbs[] = { "BOOTFB", "efifb", "vesafb", "simplefb", "simple-framebuffer", "simpledrm" };

    /* "  c0000000-c07e8fff : BOOTFB", nested two spaces a level */
    for (const char *p = iomem; p && *p;) {
        const char *nl = strchr(p, '\n'), *colon = strstr(p, " : ");
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        unsigned long long a, b;

        if (colon && colon < p + len && sscanf(p, " %llx-%llx", &a, &b) == 2 && b > 0) {
            const char *name = colon + 3;
            size_t name_n = len - (size_t)(name - p);

            for (size_t k = 0; k < ELEMENTSOF(fbs); k++) {
                if (strncmp(name, fbs[k], strlen(fbs[k])) != 0)
                    continue;
                for (int i = 0; i < GP_PCI_BARS; i++) {
                    const gp_pci_bar *bar = &d->bars[i];

                    if (bar->size && !bar->io && a >= bar->start && a <= bar->start + bar->size - 1) {
                        *ret_bar = i;
                        snprintf(ret_name, name_len, "%.*s", (int)name_n, name);
                        return true;
                    }
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}
