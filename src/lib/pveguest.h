/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Proxmox VE guests of this node that take PCI devices: each VM's
 * hostpciN entries (raw addresses or cluster mappings resolved for this
 * node), onboot, and whether it runs. Read-only; the lossless config editor
 * is a separate module.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host.h"
#include "pci.h"

typedef struct gp_pve_hostpci {
    unsigned index;          /* N of hostpciN */
    char *value;             /* the raw value */
    char *mapping;           /* mapping=NAME, or NULL */
    char **ids;              /* device IDs as written or mapped ("0000:01:00", "01:00.0"), NULL-terminated */
    unsigned line;           /* line in the config file */
} gp_pve_hostpci;

typedef struct gp_pve_vm {
    unsigned vmid;
    char *name;              /* "name:" or NULL */
    char *conf;              /* "/etc/pve/qemu-server/100.conf" */
    bool onboot;
    bool running;
    gp_pve_hostpci *hostpci;
    size_t n_hostpci;
} gp_pve_vm;

typedef struct gp_pve_vms {
    gp_pve_vm *v;
    size_t n;
} gp_pve_vms;

/* Every etc/pve/qemu-server/<vmid>.conf (main section only; snapshots are
 * not what runs). An absent directory is an empty list. */
int gp_pve_vms_read(const gp_host *h, gp_pve_vms *ret);
void gp_pve_vms_clear(gp_pve_vms *l);

/* True when the hostpci entry takes the device with this address: PVE
 * matches every device whose address starts with the ID, "0000:" assumed. */
bool gp_pve_hostpci_matches(const gp_pve_hostpci *e, const char *dev_name);
