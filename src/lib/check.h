/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `gpupass check`: every layer from firmware to driver, each judged as
 * findings. gp_check_ctx holds what more than one layer needs, read once;
 * each layer lives in check-<layer>.c and only reads the context.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bootcfg.h"
#include "finding.h"
#include "gpu.h"
#include "host.h"
#include "hostcrit.h"
#include "kernel.h"
#include "pci.h"
#include "pveguest.h"

typedef enum gp_cpu_vendor {
    GP_CPU_UNKNOWN,
    GP_CPU_INTEL,
    GP_CPU_AMD,
} gp_cpu_vendor;

typedef struct gp_check_ctx {
    const gp_host *h;
    const gp_pci_list *pci;
    const gp_gpu_list *gpus;
    const gp_hostcrit *crit;
    const bool *gpu_selected;    /* per GPU index; NULL = every GPU */
    gp_kver kver;
    gp_cpu_vendor cpu;
    bool cpu_virt;               /* vmx or svm in proc/cpuinfo flags */
    bool cpu_hypervisor;         /* "hypervisor" flag: this host is itself a VM */
    char *cmdline;               /* proc/cmdline; NULL when unreadable */
    char *kmsg;                  /* kernel log; NULL when not available */
    size_t kmsg_len;
    const char *kmsg_source;
    int kmsg_error;              /* why kmsg is NULL (negative errno) */
    gp_bootcfg boot;
    bool pve;                    /* etc/pve exists: a Proxmox VE host */
    char *iomem;                 /* proc/iomem; NULL when unreadable */
    gp_pve_vms vms;              /* the VM configs of a Proxmox VE host */
    int vms_error;               /* why they could not be read (negative errno), 0 */
} gp_check_ctx;

/* The first CPU's vendor and virtualization flags from proc/cpuinfo
 * (unknown and false when it cannot be read). */
void gp_cpu_read(const gp_host *h, gp_cpu_vendor *vendor, bool *virt, bool *hypervisor);

/* Reads the shared facts (everything but pci/gpus/crit, which the caller
 * scans and passes in). Missing optional inputs are left NULL/unknown and
 * judged by the layers; only an allocation failure is an error. */
int gp_check_ctx_init(gp_check_ctx *ctx, const gp_host *h, const gp_pci_list *pci, const gp_gpu_list *gpus,
                      const gp_hostcrit *crit);
void gp_check_ctx_done(gp_check_ctx *ctx);

/* All layers in order. */
int gp_check_run(const gp_check_ctx *ctx, gp_findings *out);

/* The layers, in the order check runs them. */
void gp_check_cpu(const gp_check_ctx *ctx, gp_findings *out);        /* check-cpu.c */
void gp_check_iommu(const gp_check_ctx *ctx, gp_findings *out);      /* check-iommu.c: firmware, kernel, IR */
void gp_check_cmdline(const gp_check_ctx *ctx, gp_findings *out);    /* check-cmdline.c */
void gp_check_modules(const gp_check_ctx *ctx, gp_findings *out);    /* check-modules.c */
void gp_check_gpus(const gp_check_ctx *ctx, gp_findings *out);       /* check-gpu.c */
void gp_check_pve(const gp_check_ctx *ctx, gp_findings *out);        /* check-pve.c */
void gp_check_setup(const gp_check_ctx *ctx, gp_findings *out);      /* check-setup.c: after gpupass setup */

/* Layer headings, shared so that check and lint group the same way. */
#define GP_LAYER_CPU "CPU virtualization"
#define GP_LAYER_FIRMWARE "Firmware IOMMU"
#define GP_LAYER_IOMMU "Kernel IOMMU"
#define GP_LAYER_IR "Interrupt remapping"
#define GP_LAYER_CMDLINE "Kernel command line"
#define GP_LAYER_MODULES "Modules"
#define GP_LAYER_PVE "Proxmox VE"
