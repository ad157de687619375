/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pciaddr.h"

/* Reads 1..maxdigits hex digits; returns the count read, 0 on none or too many. */
static int hex_field(const char **s, unsigned maxdigits, uint32_t *ret)
{
    uint32_t v = 0;
    unsigned n = 0;

    while (isxdigit((unsigned char)**s)) {
        if (++n > maxdigits)
            return 0;
        v = v * 16 + (uint32_t)(isdigit((unsigned char)**s) ? **s - '0' : tolower((unsigned char)**s) - 'a' + 10);
        (*s)++;
    }
    *ret = v;
    return (int)n;
}

int gp_pci_addr_parse(const char *s, gp_pci_addr *ret, bool *ret_whole_slot)
{
    uint32_t f[3], func = 0;
    int nf = 0;
    bool whole = true;

    if (!s)
        return -EINVAL;
    /* Up to three colon-separated fields: [domain:]bus:slot. */
    for (;;) {
        if (nf == 3 || !hex_field(&s, nf == 0 ? 8 : 4, &f[nf]))
            return -EINVAL;
        nf++;
        if (*s != ':')
            break;
        s++;
    }
    if (nf < 2)
        return -EINVAL;
    if (*s == '.') {
        s++;
        if (!hex_field(&s, 1, &func) || func > 7)
            return -EINVAL;
        whole = false;
    }
    if (*s != '\0')
        return -EINVAL;

    gp_pci_addr a = { 0 };
    uint32_t bus = f[nf - 2], slot = f[nf - 1];

    if (nf == 3)
        a.domain = f[0];
    if (bus > 0xff || slot > 0x1f)
        return -EINVAL;
    a.bus = (uint8_t)bus;
    a.slot = (uint8_t)slot;
    a.func = (uint8_t)func;
    *ret = a;
    if (ret_whole_slot)
        *ret_whole_slot = whole;
    return 0;
}

void gp_pci_addr_format(const gp_pci_addr *a, char buf[GP_PCI_ADDR_MAX])
{
    snprintf(buf, GP_PCI_ADDR_MAX, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot, a->func);
}

int gp_pci_addr_cmp(const gp_pci_addr *a, const gp_pci_addr *b)
{
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    if (a->bus != b->bus)
        return a->bus < b->bus ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->func != b->func)
        return a->func < b->func ? -1 : 1;
    return 0;
}

bool gp_pci_addr_same_slot(const gp_pci_addr *a, const gp_pci_addr *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}
