/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the small parsers of what users type and hosts report:
 * PCI addresses (pciaddr.h), guest IDs (gp_pve_vmid_parse, gp_ctid_parse),
 * kernel releases (gp_kver_parse) and PVE's hostpci ID matching, each line
 * of the input on its own; and the whole input as /proc/iomem
 * (gp_iomem_framebuffer_in). Invariants:
 *   - an address that parses is in range (slot < 32, func < 8, func 0 for
 *     a whole slot), formats to the kernel's form, which parses back to the
 *     same address (and is a fixed point), compares equal to itself, and
 *     is matched by PVE's spellings of it ("01:00", "0000:01:00.0", ...);
 *     upper and lower case parse alike;
 *   - an ID that parses is 100..999999999 and prints back as written;
 *   - a release that parses is at least its own major.minor;
 *   - a framebuffer hit names a memory BAR the device has, and the name
 *     fits its buffer.
 * Plain builds replay tests/fuzz/seeds/pciaddr.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iomem.h"
#include "kernel.h"
#include "pciaddr.h"
#include "pvect.h"
#include "pveguest.h"

#define FUZZ_NAME "pciaddr"
#define FUZZ_TOKENS ":", ".", "\n", "0000:", "ffff", "0", "7", "8", "1f", "20", " : ", "BOOTFB", "efifb", "-", "pve"
#include "fuzz-main.h"

static void check_addr(const char *s)
{
    gp_pci_addr a, b;
    bool whole = false, whole2 = true;
    char name[GP_PCI_ADDR_MAX], name2[GP_PCI_ADDR_MAX], spell[64];
    char *up;

    if (gp_pci_addr_parse(s, &a, &whole) < 0)
        return;
    FUZZ_CHECK(a.slot < 32 && a.func < 8);
    FUZZ_CHECK(!whole || a.func == 0);
    gp_pci_addr_format(&a, name);
    FUZZ_CHECK(gp_pci_addr_parse(name, &b, &whole2) == 0 && !whole2);
    FUZZ_CHECK(gp_pci_addr_cmp(&a, &b) == 0 && gp_pci_addr_same_slot(&a, &b));
    gp_pci_addr_format(&b, name2);
    FUZZ_CHECK(strcmp(name, name2) == 0);
    b.func = (uint8_t)((a.func + 1) % 8);
    FUZZ_CHECK(gp_pci_addr_cmp(&a, &b) == -gp_pci_addr_cmp(&b, &a) && gp_pci_addr_cmp(&a, &b) != 0);
    FUZZ_CHECK(gp_pci_addr_same_slot(&a, &b));
    if (a.domain == 0) {   /* PVE reads an ID without a domain as domain 0000 */
        snprintf(spell, sizeof(spell), "%02x:%02x.%x", a.bus, a.slot, a.func);
        FUZZ_CHECK(gp_pve_id_matches(spell, name));
        snprintf(spell, sizeof(spell), "%02x:%02x", a.bus, a.slot);
        FUZZ_CHECK(gp_pve_id_matches(spell, name));
    }
    if (a.domain <= 0xffff) {
        snprintf(spell, sizeof(spell), "%04x:%02x:%02x", a.domain, a.bus, a.slot);
        FUZZ_CHECK(gp_pve_id_matches(spell, name));
        FUZZ_CHECK(gp_pve_id_matches(name, name));
    }
    up = strdup(s);
    FUZZ_CHECK(up);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    FUZZ_CHECK(gp_pci_addr_parse(up, &b, &whole2) == 0 && whole2 == whole && gp_pci_addr_cmp(&a, &b) == 0);
    free(up);
}

static void check_line(const char *s)
{
    unsigned id = 0, id2 = 0;
    gp_kver v;
    char back[32];

    check_addr(s);
    if (gp_pve_vmid_parse(s, &id)) {
        FUZZ_CHECK(id >= 100 && id <= 999999999u);
        snprintf(back, sizeof(back), "%u", id);
        FUZZ_CHECK(strcmp(back, s) == 0);
    }
    FUZZ_CHECK(gp_ctid_parse(s, &id2) == gp_pve_vmid_parse(s, &id));
    if (gp_kver_parse(s, &v) == 0) {
        FUZZ_CHECK(gp_kver_known(&v) && v.major >= 1);
        FUZZ_CHECK(gp_kver_at_least(&v, v.major, v.minor));
        FUZZ_CHECK(!gp_kver_at_least(&v, v.major + 1, 0));
        FUZZ_CHECK(memchr(v.release, '\0', sizeof(v.release)));
    }
    (void)gp_pve_id_matches(s, "0000:01:00.0");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size), *line, *save = NULL, fb[24];
    gp_pci_dev d = { 0 };
    int bar = -1;

    if (!s)
        return 0;
    /* the whole input as /proc/iomem, against a GPU with BARs from its first bytes */
    d.bars[0] = (gp_pci_bar){ .start = 0xc0000000, .size = 16 << 20 };
    d.bars[1] = (gp_pci_bar){ .start = 0x4000000000ULL, .size = 32ULL << 30, .prefetchable = true, .mem64 = true };
    d.bars[3] = (gp_pci_bar){ .start = size > 8 ? (uint64_t)data[1] << 24 : 0, .size = size > 8 ? data[2] : 0 };
    d.bars[5] = (gp_pci_bar){ .start = 0xe000, .size = 128, .io = true };
    if (gp_iomem_framebuffer_in(s, &d, &bar, fb, sizeof(fb))) {
        FUZZ_CHECK(bar >= 0 && bar < GP_PCI_BARS && d.bars[bar].size && !d.bars[bar].io);
        FUZZ_CHECK(memchr(fb, '\0', sizeof(fb)));
    }
    /* each line on its own */
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        check_line(line);
    free(s);
    return 0;
}
