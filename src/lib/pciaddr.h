/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI addresses as users type them and as sysfs names them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct gp_pci_addr {
    uint32_t domain;
    uint8_t bus;
    uint8_t slot;    /* 0..31 */
    uint8_t func;    /* 0..7 */
} gp_pci_addr;

/* "dddd:bb:ss.f" plus NUL; domains above 0xffff (Intel VMD) take more digits. */
#define GP_PCI_ADDR_MAX 20

/*
 * Parses "01:00.0", "0000:01:00.0", "1:0.0", and a whole slot "01:00" or
 * "0000:01:00" (ret_whole_slot = true, func = 0). Hex, any case. A missing
 * domain is 0, as lspci assumes. Returns -EINVAL for anything else.
 */
int gp_pci_addr_parse(const char *s, gp_pci_addr *ret, bool *ret_whole_slot);
/* The kernel's form: "0000:01:00.0". */
void gp_pci_addr_format(const gp_pci_addr *a, char buf[GP_PCI_ADDR_MAX]);
int gp_pci_addr_cmp(const gp_pci_addr *a, const gp_pci_addr *b);
bool gp_pci_addr_same_slot(const gp_pci_addr *a, const gp_pci_addr *b);
