/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI facts of a host, read from sysfs through the host root: what the kernel
 * says about each function, and what its config space says. Facts only; the
 * passthrough policy built on them lives in gpu.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "host.h"
#include "pciaddr.h"

/* PCI Express Capability, Device/Port Type (PCIe r6.0 §7.5.3.2). */
enum gp_pcie_type {
    GP_PCIE_NONE = -1,          /* conventional PCI, no Express capability */
    GP_PCIE_ENDPOINT = 0x0,
    GP_PCIE_LEGACY_ENDPOINT = 0x1,
    GP_PCIE_RC_INTEGRATED = 0x9,
    GP_PCIE_RC_EVENT_COLLECTOR = 0xa,
    GP_PCIE_ROOT_PORT = 0x4,
    GP_PCIE_UPSTREAM = 0x5,
    GP_PCIE_DOWNSTREAM = 0x6,
    GP_PCIE_PCIE_TO_PCI = 0x7,
    GP_PCIE_PCI_TO_PCIE = 0x8,
};

#define GP_PCI_BARS 6

typedef struct gp_pci_bar {
    uint64_t start;
    uint64_t size;          /* 0: BAR unused */
    bool io;
    bool prefetchable;
    bool mem64;
} gp_pci_bar;

typedef struct gp_pci_dev {
    gp_pci_addr addr;
    char name[GP_PCI_ADDR_MAX];   /* "0000:01:00.0" */
    char *path;                   /* canonical root-relative sysfs dir */
    int parent;                   /* index of the upstream bridge in the list, -1 at a root bus */

    uint16_t vendor_id, device_id;
    uint16_t subsys_vendor_id, subsys_device_id;
    uint32_t class_code;          /* 24 bits: class, subclass, prog-if */
    uint8_t revision;

    char *driver;                 /* NULL: no driver bound */
    int iommu_group;              /* -1: none (IOMMU off, or not translated) */
    int numa_node;                /* -1: unknown / single node */

    char *cur_link_speed, *max_link_speed;   /* "16.0 GT/s PCIe", NULL if absent */
    int cur_link_width, max_link_width;      /* 0 if absent */

    char *reset_method;           /* "flr bus", NULL if the kernel offers none */
    int boot_vga;                 /* 1, 0, or -1 when the file is absent */
    int sriov_total_vfs, sriov_num_vfs;      /* -1: not SR-IOV capable */
    bool is_vf;                   /* an SR-IOV virtual function (has physfn) */
    gp_pci_addr physfn_addr;
    int physfn;                   /* index of the PF in the list, else -1 */

    gp_pci_bar bars[GP_PCI_BARS];

    /* From config space (0 / false when it could not be read). */
    bool config_read;
    int pcie_type;                /* enum gp_pcie_type */
    bool flr;                     /* PCIe DevCap bit 28, or AF FLR */
    bool acs;                     /* ACS extended capability present */
    bool rebar;                   /* Physical Resizable BAR capability present */
    uint64_t rebar_max_size;      /* largest size any BAR advertises, bytes */
    bool sriov_cap;               /* SR-IOV extended capability present */
} gp_pci_dev;

typedef struct gp_pci_list {
    gp_pci_dev *devs;             /* sorted by address */
    size_t n;
    int iommu_groups;             /* entries in sys/kernel/iommu_groups */
} gp_pci_list;

/* Reads every function under sys/bus/pci/devices. A host with no PCI bus in
 * sysfs is an empty list, not an error. */
int gp_pci_scan(const gp_host *h, gp_pci_list **ret, gp_error *err);
void gp_pci_list_free(gp_pci_list *l);
static inline void gp_pci_list_freep(gp_pci_list **l) { if (*l) gp_pci_list_free(*l); }
#define _cleanup_pci_list_ _cleanup_(gp_pci_list_freep)

/* Index of the device at addr, or -1. */
int gp_pci_list_find(const gp_pci_list *l, const gp_pci_addr *addr);

/* Parses config space bytes into the config-derived fields of dev. */
void gp_pci_parse_config(gp_pci_dev *dev, const uint8_t *cfg, size_t len);

/* Class helpers (class code is 24-bit: base << 16 | sub << 8 | prog-if). */
static inline unsigned gp_pci_base_class(const gp_pci_dev *d) { return d->class_code >> 16; }
static inline unsigned gp_pci_class16(const gp_pci_dev *d) { return d->class_code >> 8; }
bool gp_pci_is_gpu(const gp_pci_dev *d);
/* Host bridges and PCI(-to-PCI) bridges: vfio lets them stay on their host
 * drivers in a group that is otherwise assigned (vfio_pci_is_bridge logic). */
bool gp_pci_is_bridge(const gp_pci_dev *d);
