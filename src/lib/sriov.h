/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SR-IOV on a physical function: what the kernel says (sriov_totalvfs,
 * sriov_numvfs, the VFs with their IOMMU groups), the vGPU types a VF
 * offers (mdev_supported_types, or the per-VF nvidia/ directory of the
 * NVIDIA vGPU manager on kernels >= 6.8), and the two ways VFs are made:
 * the generic sysfs write (Documentation/PCI/pci-iov-howto.rst) or NVIDIA's
 * sriov-manage, which NVIDIA requires for vGPU.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "error.h"
#include "host.h"
#include "pci.h"
#include "plan.h"
#include "runner.h"

#define GP_SRIOV_MANAGE "/usr/lib/nvidia/sriov-manage"

typedef enum gp_sriov_method {
    GP_SRIOV_SYSFS,            /* echo N > sriov_numvfs */
    GP_SRIOV_NVIDIA_MANAGE,    /* sriov-manage -e BDF: every VF the card has */
} gp_sriov_method;

typedef enum gp_vgpu_iface {
    GP_VGPU_NONE,
    GP_VGPU_MDEV,              /* mdev_supported_types/<type>/ */
    GP_VGPU_NVIDIA,            /* nvidia/creatable_vgpu_types, nvidia/current_vgpu_type */
} gp_vgpu_iface;

typedef struct gp_vgpu_type {
    char *id;                  /* "nvidia-1155" (mdev) or "1155" (nvidia/) */
    char *name;                /* "NVIDIA L40S-1Q", or NULL */
    int available;             /* mdev available_instances; -1 when the interface does not say */
} gp_vgpu_type;

typedef struct gp_sriov_vf {
    int dev;                   /* index in the PCI list */
    gp_vgpu_iface iface;
    char *current_type;        /* nvidia/current_vgpu_type; "0" or NULL: none */
    gp_vgpu_type *types;
    size_t n_types;
} gp_sriov_vf;

typedef struct gp_sriov {
    int pf;                    /* index in the PCI list */
    int total, num;            /* sriov_totalvfs, sriov_numvfs */
    int autoprobe;             /* sriov_drivers_autoprobe, -1 absent */
    gp_sriov_method method;
    bool pve_nvidia_helper;    /* Proxmox's pve-nvidia-sriov@.service is installed */
    gp_sriov_vf *vfs;          /* in address order: vfs[i] is virtfn<i> */
    size_t n_vfs;
} gp_sriov;

/* -EOPNOTSUPP when pf has no SR-IOV capability the kernel exposes. */
int gp_sriov_read(const gp_host *h, const gp_pci_list *pci, int pf, gp_sriov *ret, gp_error *err);
void gp_sriov_clear(gp_sriov *s);

/* A VF a guest uses now or is configured to use: bound to vfio-pci, or in
 * a VM's hostpci. Returns the first such VF's index in s->vfs (why says
 * which), or -1. */
int gp_sriov_vf_in_use(const gp_check_ctx *ctx, const gp_sriov *s, char *why, size_t why_size);

/*
 * The plan that makes n VFs come back at every boot: a udev rule that acts
 * when the PF's driver binds (the kernel makes VFs only through a bound
 * driver). Nothing is planned for NVIDIA when Proxmox's own
 * pve-nvidia-sriov@ unit is installed (a note says to enable it).
 * -EINVAL: n out of range (err says the range).
 */
int gp_sriov_plan(const gp_host *h, const gp_pci_list *pci, const gp_sriov *s, int n, gp_plan *plan,
                  gp_error *err);

/*
 * Makes n VFs now: sysfs writes "0" first when another non-zero count is
 * enabled (the kernel refuses to change one non-zero count into another),
 * then n; NVIDIA runs sriov-manage -e (or -d for 0) through run. Every
 * write passes a fault point ("sriov.disable", "sriov.enable"). The
 * kernel's refusals are explained in err (-ENOENT no driver able to make
 * VFs, -ENOMEM no MMIO space for the VF BARs, -EBUSY).
 */
int gp_sriov_enable_now(const gp_host *h, const gp_pci_list *pci, const gp_sriov *s, int n, const gp_runner *run,
                        gp_error *err);
