/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run-time binding of a GPU to vfio-pci and back, as qemu-server does at VM
 * start (PVE::SysFSTools): driver_override, unbind, drivers_probe, then a
 * check that the VFIO group is really usable. Binding is a transaction:
 * when one device fails, those already moved go back. The driver each
 * device had is saved under /run/gpupass/bind/ so that unbind restores
 * exactly that.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "gpu.h"
#include "hostcrit.h"
#include "pci.h"
#include "runner.h"

#define GP_BIND_SAVE_DIR "run/gpupass/bind"

typedef struct gp_bind_opts {
    bool group;            /* every endpoint of the IOMMU group, not only the card's functions */
    bool force;            /* even the boot VGA or a device the host needs */
    bool dry_run;          /* say what would happen, change nothing */
    const char *reset_method;   /* written to the card's functions first ("device_specific"), or NULL */
} gp_bind_opts;

/* A process that holds a device node of the GPU (it would make the unbind hang). */
typedef struct gp_holder {
    int pid;
    char comm[32];
    char node[64];
    unsigned vmid;         /* a Proxmox VM's QEMU ("-id N" on its command line), else 0 */
} gp_holder;

typedef struct gp_bind_set {
    gp_idx_list devs;      /* PCI indexes, in binding order */
    gp_holder *holders;
    size_t n_holders;
} gp_bind_set;

/* What bind would move, after the interlocks (-ECANCELED with err saying
 * why: shared group without opts->group, the boot console or a device the
 * host needs without force, processes holding the GPU). */
int gp_bind_prepare(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, const gp_hostcrit *crit,
                    const gp_bind_opts *opts, gp_bind_set *ret, gp_error *err);
void gp_bind_set_clear(gp_bind_set *s);

/* Moves the set to vfio-pci (rolling back on failure) and checks that the
 * group is viable through the VFIO API. ret_group: the group number. */
int gp_bind_apply(const gp_host *h, const gp_pci_list *pci, const gp_bind_set *s, const gp_bind_opts *opts,
                  const gp_runner *run, int *ret_group, gp_error *err);

/* Gives the card's functions (and whatever was bound with it) back to the
 * drivers saved at bind time, or to whatever probes. */
int gp_unbind(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, gp_error *err);

/* The driver saved for a device at bind time ("" none), or NULL. Free it. */
char *gp_bind_saved_driver(const gp_host *h, const char *dev);

/* Processes with an open file on path (a /dev node), via /proc/<pid>/fd. */
int gp_holders_of(const gp_host *h, const char *const *nodes, gp_holder **ret, size_t *ret_n);

/* VFIO_GROUP_GET_STATUS on /dev/vfio/<group>: 1 viable, 0 not viable,
 * -EBUSY when another process (a VM) has it open, other negative errno. */
int gp_vfio_group_viable(const gp_host *h, int group);
