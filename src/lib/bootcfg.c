/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "bootcfg.h"
#include "shared/macro.h"

const char *gp_boot_loader_to_string(gp_boot_loader l)
{
    switch (l) {
    case GP_BOOT_GRUB:
        return "grub";
    case GP_BOOT_SYSTEMD_BOOT:
        return "systemd-boot";
    default:
        return "unknown";
    }
}

static bool secure_boot_on(const gp_host *h)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;

    if (gp_host_read_file(h, GP_EFI_SECURE_BOOT_VAR, 64, &buf, &len) < 0 || len < 5)
        return false;
    return buf[4] == 1;
}

int gp_bootcfg_detect(const gp_host *h, gp_bootcfg *ret)
{
    gp_bootcfg b = { .loader = GP_BOOT_UNKNOWN };

    b.efi = gp_host_exists(h, "sys/firmware/efi");
    b.proxmox_boot_tool = gp_host_exists(h, "etc/kernel/proxmox-boot-uuids");

    /* proxmox-boot-tool puts systemd-boot on the ESPs it manages when the
     * host boots via UEFI, except with Secure Boot, which Proxmox VE (8.1+)
     * supports only through its signed GRUB. */
    if (b.proxmox_boot_tool && b.efi && !secure_boot_on(h)) {
        b.loader = GP_BOOT_SYSTEMD_BOOT;
        snprintf(b.reason, sizeof(b.reason),
                 "/etc/kernel/proxmox-boot-uuids exists and the host booted via UEFI: proxmox-boot-tool "
                 "installs systemd-boot, which reads /etc/kernel/cmdline");
    } else if (b.proxmox_boot_tool) {
        b.loader = GP_BOOT_GRUB;
        snprintf(b.reason, sizeof(b.reason), "/etc/kernel/proxmox-boot-uuids exists but the host %s: "
                 "proxmox-boot-tool keeps GRUB, which reads /etc/default/grub",
                 b.efi ? "boots with Secure Boot" : "booted in legacy BIOS mode");
    } else if (gp_host_exists(h, "etc/default/grub") || gp_host_exists(h, "boot/grub/grub.cfg")) {
        b.loader = GP_BOOT_GRUB;
        snprintf(b.reason, sizeof(b.reason), "no /etc/kernel/proxmox-boot-uuids and /etc/default/grub exists: "
                 "GRUB boots this host");
    } else {
        snprintf(b.reason, sizeof(b.reason),
                 "neither /etc/kernel/proxmox-boot-uuids nor /etc/default/grub exists");
    }
    if (b.loader == GP_BOOT_SYSTEMD_BOOT) {
        b.config_file = "/etc/kernel/cmdline";
        b.refresh_cmd = "proxmox-boot-tool refresh";
    } else {
        b.config_file = "/etc/default/grub";
        b.refresh_cmd = "update-grub";
    }
    *ret = b;
    return 0;
}
