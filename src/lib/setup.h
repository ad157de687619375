/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `gpupass setup`: the persistent host configuration that gives one GPU to
 * VMs, built as a plan for *this* host: the kernel command line in the file
 * its boot loader reads, the vfio modules (at boot and in the initramfs),
 * and the binding of exactly the GPU's functions to vfio-pci at boot.
 * Nothing is written here; txn.h applies the plan.
 */
#pragma once

#include <stdbool.h>

#include "check.h"
#include "error.h"
#include "plan.h"

typedef enum gp_bind_method {
    GP_BIND_AUTO,          /* ids, unless another device shares an ID */
    GP_BIND_IDS,           /* options vfio-pci ids=... + softdep */
    GP_BIND_PER_DEVICE,    /* driver_override for these addresses, before any driver loads */
} gp_bind_method;

typedef struct gp_setup_opts {
    int gpu;                   /* index in ctx->gpus */
    gp_bind_method method;
    int iommu_pt;              /* 1: add iommu=pt, -1: take it off, 0: leave it as it is */
    bool allow_shared_group;   /* bind every endpoint of a shared group */
    bool force;                /* even with a device the host needs in the group */
} gp_setup_opts;

/* Where setup keeps what it meant, for `check` after the reboot; it is a
 * file of the plan, so undo takes it away with the rest. */
#define GP_SETUP_INTENT "var/lib/gpupass/setup.intent"

/*
 * Builds the plan. A refusal (the firmware IOMMU is off, the group is
 * shared or holds a device the host needs, a file gpupass cannot parse) is
 * -ECANCELED with err saying why and what to do; nothing is planned then.
 * ret_method: the binding method used (auto resolved).
 */
int gp_setup_plan(const gp_check_ctx *ctx, const gp_setup_opts *o, gp_plan *plan, gp_bind_method *ret_method,
                  gp_error *err);

const char *gp_bind_method_to_string(gp_bind_method m);   /* "auto", "ids", "per-device" */
