/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Config space decoding: only what passthrough decisions need. Offsets and
 * bits are from the PCI Local Bus 3.0 and PCI Express Base r6.0 specs.
 */
#include <string.h>

#include "pci.h"

#define CFG_STATUS          0x06
#define CFG_STATUS_CAPLIST  0x10
#define CFG_HEADER_TYPE     0x0e
#define CFG_CAP_PTR         0x34    /* header types 0 and 1 */
#define CFG_CAP_PTR_CARDBUS 0x14

#define CAP_ID_EXP          0x10
#define CAP_ID_AF           0x13
#define EXP_FLAGS           0x02
#define EXP_DEVCAP          0x04
#define EXP_DEVCAP_FLR      (1u << 28)  /* Function Level Reset Capability */
#define AF_CAP              0x03
#define AF_CAP_FLR          0x02

#define ECAP_START          0x100
#define ECAP_ID_SRIOV       0x0010
#define ECAP_ID_ACS         0x000d
#define ECAP_ID_REBAR       0x0015
#define REBAR_CTRL0         0x08
#define REBAR_NBARS(ctrl)   (((ctrl) >> 5) & 0x7)

static uint16_t rd16(const uint8_t *c, size_t off) { return (uint16_t)(c[off] | c[off + 1] << 8); }
static uint32_t rd32(const uint8_t *c, size_t off)
{
    return (uint32_t)c[off] | (uint32_t)c[off + 1] << 8 | (uint32_t)c[off + 2] << 16 | (uint32_t)c[off + 3] << 24;
}

/* The Resizable BAR capability lists, per BAR, a bitmap of supported sizes:
 * bit n of the capability register (n = 4..31) means 2^(n-4) MiB. */
static uint64_t rebar_max(const uint8_t *cfg, size_t len, size_t pos)
{
    uint64_t best = 0;
    unsigned nbars;

    if (pos + REBAR_CTRL0 + 4 > len)
        return 0;
    nbars = REBAR_NBARS(rd32(cfg, pos + REBAR_CTRL0));
    if (nbars == 0 || nbars > 6)
        nbars = 1;
    for (unsigned i = 0; i < nbars; i++) {
        size_t capoff = pos + 4 + 8 * i;
        uint32_t sizes;

        if (capoff + 4 > len)
            break;
        sizes = rd32(cfg, capoff) >> 4;
        for (int bit = 27; bit >= 0; bit--)
            if (sizes & (1u << bit)) {
                uint64_t sz = (1ull << bit) << 20;

                if (sz > best)
                    best = sz;
                break;
            }
    }
    return best;
}

void gp_pci_parse_config(gp_pci_dev *dev, const uint8_t *cfg, size_t len)
{
    uint8_t ptr;
    bool express = false;

    dev->pcie_type = GP_PCIE_NONE;
    if (len < 64)
        return;
    dev->config_read = true;
    if (!(rd16(cfg, CFG_STATUS) & CFG_STATUS_CAPLIST))
        return;
    ptr = cfg[(cfg[CFG_HEADER_TYPE] & 0x7f) == 2 ? CFG_CAP_PTR_CARDBUS : CFG_CAP_PTR];

    /* 48 is the most capabilities that fit in 192 bytes: a loop guard. */
    for (int ttl = 48; ttl > 0 && ptr >= 0x40; ttl--) {
        size_t pos = ptr & 0xfc;
        uint8_t id;

        if (pos + 8 > len || pos + 8 > 256)
            break;
        id = cfg[pos];
        if (id == CAP_ID_EXP) {
            express = true;
            dev->pcie_type = (rd16(cfg, pos + EXP_FLAGS) >> 4) & 0xf;
            if (rd32(cfg, pos + EXP_DEVCAP) & EXP_DEVCAP_FLR)
                dev->flr = true;
        } else if (id == CAP_ID_AF) {
            if (cfg[pos + AF_CAP] & AF_CAP_FLR)
                dev->flr = true;
        }
        ptr = cfg[pos + 1];
    }

    /* Extended capabilities exist only on PCIe functions with 4 KiB config
     * space; sysfs gives 256 bytes to users without CAP_SYS_ADMIN. */
    if (!express || len < ECAP_START + 4)
        return;
    size_t pos = ECAP_START;
    for (int ttl = (4096 - 256) / 8; ttl > 0; ttl--) {
        uint32_t hdr = rd32(cfg, pos);
        size_t next;

        if (hdr == 0 || hdr == 0xffffffff)
            break;
        switch (hdr & 0xffff) {
        case ECAP_ID_ACS:
            dev->acs = true;
            break;
        case ECAP_ID_REBAR:
            dev->rebar = true;
            dev->rebar_max_size = rebar_max(cfg, len, pos);
            break;
        case ECAP_ID_SRIOV:
            dev->sriov_cap = true;
            break;
        default:
            break;
        }
        next = (hdr >> 20) & 0xffc;
        if (next < ECAP_START || next + 4 > len)
            break;
        pos = next;
    }
}
