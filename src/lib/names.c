/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pci/pci.h>

#include "config.h"
#include "names.h"

struct gp_names {
    struct pci_access *pacc;
    char *file;
    char buf[256];
};

/* libpci's default error hook exits the process; the library must not. Its
 * errors here can only be allocation failures while loading pci.ids. */
static void PCI_NONRET names_error(char *msg, ...)
{
    (void)msg;
    abort();
}

static void names_quiet(char *msg, ...)
{
    (void)msg;
}

gp_names *gp_names_new(const gp_host *h)
{
    static const char *const candidates[] = { "usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids" };
    gp_names *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    /* Resolved inside the root, so a link in a snapshot cannot send libpci
     * (which opens the file itself) to the live host. */
    if (!gp_host_is_live(h))
        for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !n->file; i++) {
            _cleanup_free_ char *rel = NULL;

            if (gp_host_resolve(h, candidates[i], &rel) == 0)
                if (asprintf(&n->file, "%s/%s", gp_host_root(h), rel) < 0)
                    n->file = NULL;
        }
    if (!n->file)
        n->file = strdup(GP_SYSTEM_PCI_IDS);
    n->pacc = pci_alloc();
    if (!n->pacc || !n->file) {
        gp_names_free(n);
        return NULL;
    }
    n->pacc->error = names_error;
    n->pacc->warning = names_quiet;
    n->pacc->debug = names_quiet;
    pci_set_name_list_path(n->pacc, n->file, 0);
    return n;
}

void gp_names_free(gp_names *n)
{
    if (!n)
        return;
    if (n->pacc)
        pci_cleanup(n->pacc);
    free(n->file);
    free(n);
}

const char *gp_names_file(const gp_names *n) { return n->file; }

/* No hwdb: it would describe the live host, not the root being read. */
#define LOOKUP_FLAGS (PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB)

const char *gp_names_vendor(gp_names *n, uint16_t vendor)
{
    return pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_VENDOR | LOOKUP_FLAGS, vendor);
}

const char *gp_names_device(gp_names *n, uint16_t vendor, uint16_t device)
{
    return pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_DEVICE | LOOKUP_FLAGS, vendor, device);
}

const char *gp_names_subsystem(gp_names *n, uint16_t vendor, uint16_t device, uint16_t sv, uint16_t sd)
{
    return pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE | LOOKUP_FLAGS,
                           vendor, device, sv, sd);
}

const char *gp_names_class(gp_names *n, uint32_t class_code)
{
    return pci_lookup_name(n->pacc, n->buf, sizeof(n->buf), PCI_LOOKUP_CLASS | LOOKUP_FLAGS, class_code >> 8);
}
