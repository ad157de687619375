/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which boot loader boots this host, and so which file holds the kernel
 * command line that takes effect (Proxmox VE admin guide, "Host Bootloader";
 * proxmox-boot-tool's own rule, see ../shared/reference/proxmox-formats.md §6.1):
 *   - /etc/kernel/proxmox-boot-uuids present, booted via UEFI and the ESP set
 *     up for systemd-boot: /etc/kernel/cmdline, then `proxmox-boot-tool refresh`;
 *   - otherwise GRUB: /etc/default/grub (+ /etc/default/grub.d/ *.cfg),
 *     then `update-grub`.
 */
#pragma once

#include <stdbool.h>

#include "host.h"

/* EFI global variable GUID (UEFI spec): the SecureBoot variable holds the
 * 4-byte efivarfs attribute header, then one byte, 1 when Secure Boot is on. */
#define GP_EFI_SECURE_BOOT_VAR "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c2b8cf4b6"

typedef enum gp_boot_loader {
    GP_BOOT_UNKNOWN,
    GP_BOOT_GRUB,
    GP_BOOT_SYSTEMD_BOOT,
} gp_boot_loader;

typedef struct gp_bootcfg {
    gp_boot_loader loader;
    bool efi;                 /* sys/firmware/efi exists */
    bool proxmox_boot_tool;   /* etc/kernel/proxmox-boot-uuids exists */
    const char *config_file;  /* "/etc/default/grub" or "/etc/kernel/cmdline" (static) */
    const char *refresh_cmd;  /* "update-grub" or "proxmox-boot-tool refresh" (static) */
    char reason[256];         /* why this loader: the evidence, one line */
} gp_bootcfg;

const char *gp_boot_loader_to_string(gp_boot_loader l);   /* "grub", "systemd-boot", "unknown" */
int gp_bootcfg_detect(const gp_host *h, gp_bootcfg *ret);
