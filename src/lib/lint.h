/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `gpupass lint FILE...`: findings about configuration files a user wrote or
 * copied from a guide. The file type comes from the name and the content;
 * the host (optional) sharpens the rules: its kernel version, CPU vendor and
 * PCI devices. `check` runs the same linters over the host's own files.
 */
#pragma once

#include <stddef.h>

#include "finding.h"
#include "host.h"
#include "kernel.h"
#include "pci.h"

typedef enum gp_file_type {
    GP_FILE_UNKNOWN,
    GP_FILE_GRUB_DEFAULT,        /* /etc/default/grub, /etc/default/grub.d/ *.cfg */
    GP_FILE_KERNEL_CMDLINE,      /* /etc/kernel/cmdline (systemd-boot via proxmox-boot-tool) */
    GP_FILE_PROC_CMDLINE,        /* a copy of /proc/cmdline */
    GP_FILE_MODULES_LOAD,        /* /etc/modules, /etc/modules-load.d/ *.conf */
    GP_FILE_MODPROBE,            /* /etc/modprobe.d/ *.conf */
    GP_FILE_INITRAMFS_MODULES,   /* /etc/initramfs-tools/modules */
    GP_FILE_PVE_VM,              /* /etc/pve/qemu-server/<vmid>.conf */
    GP_FILE_PVE_MAPPING,         /* /etc/pve/mapping/pci.cfg */
    GP_FILE_PVE_CT,              /* /etc/pve/lxc/<ctid>.conf */
} gp_file_type;

const char *gp_file_type_to_string(gp_file_type t);   /* "grub", "kernel-cmdline", ... */
/* name: the path as given; buf: the content (NUL-terminated, len bytes). */
gp_file_type gp_file_type_detect(const char *name, const char *buf, size_t len);

typedef struct gp_lint_ctx {
    const gp_host *h;            /* NULL: no host facts */
    gp_kver kver;                /* unknown when no host */
    int cpu;                     /* gp_cpu_vendor from check.h */
    const gp_pci_list *pci;      /* NULL without a host */
    /* Proxmox guest configs are judged against a host's devices, groups and
     * other VMs: the whole check context. NULL: those files are not linted. */
    const struct gp_check_ctx *guest;
} gp_lint_ctx;

/* Findings for one file's content; display is the path shown in evidence
 * and used as the layer heading. */
int gp_lint_buffer(const gp_lint_ctx *ctx, const char *display, gp_file_type t, const char *buf, size_t len,
                   gp_findings *out);

/* The per-type linters gp_lint_buffer dispatches to. */
void gp_lint_cmdline_file(const gp_lint_ctx *ctx, const char *display, gp_file_type t, const char *buf, size_t len,
                          gp_findings *out);     /* lint-cmdline.c: grub, kernel-cmdline, proc-cmdline */
void gp_lint_modules_file(const gp_lint_ctx *ctx, const char *display, gp_file_type t, const char *buf, size_t len,
                          gp_findings *out);     /* lint-modules.c: modules-load, modprobe, initramfs */
