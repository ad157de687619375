/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices the host cannot give to a guest without losing itself: the storage
 * controller under the root filesystem and the NIC carrying the default route
 * (on Proxmox, the management bridge's port).
 */
#pragma once

#include "error.h"
#include "host.h"
#include "pci.h"

typedef struct gp_hostcrit gp_hostcrit;

int gp_hostcrit_find(const gp_host *h, const gp_pci_list *l, gp_hostcrit **ret);
void gp_hostcrit_free(gp_hostcrit *c);
static inline void gp_hostcrit_freep(gp_hostcrit **c) { if (*c) gp_hostcrit_free(*c); }
#define _cleanup_hostcrit_ _cleanup_(gp_hostcrit_freep)

/* Why device index dev is critical ("root filesystem /dev/mapper/pve-root"),
 * or NULL when it is not. Borrowed. */
const char *gp_hostcrit_reason(const gp_hostcrit *c, int dev);
