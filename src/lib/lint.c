/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "lint-guest.h"
#include "lint-lxc.h"
#include "lint.h"

const char *gp_file_type_to_string(gp_file_type t)
{
    switch (t) {
    case GP_FILE_PVE_VM:
        return "pve-vm";
    case GP_FILE_PVE_MAPPING:
        return "pve-mapping";
    case GP_FILE_PVE_CT:
        return "pve-ct";
    case GP_FILE_GRUB_DEFAULT:
        return "grub";
    case GP_FILE_KERNEL_CMDLINE:
        return "kernel-cmdline";
    case GP_FILE_PROC_CMDLINE:
        return "proc-cmdline";
    case GP_FILE_MODULES_LOAD:
        return "modules-load";
    case GP_FILE_MODPROBE:
        return "modprobe";
    case GP_FILE_INITRAMFS_MODULES:
        return "initramfs-modules";
    default:
        return "unknown";
    }
}

static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* The name decides where it is unambiguous (the paths the tools read);
 * otherwise the content: GRUB_ assignments, modprobe keywords, a single
 * line of kernel parameters. */
/* "<vmid>.conf": the only name qemu-server takes for a VM config. */
static bool pve_vm_name(const char *base)
{
    size_t n = strspn(base, "0123456789");

    return n >= 3 && n <= 9 && base[0] != '0' && strcmp(base + n, ".conf") == 0;
}

static unsigned pve_vm_id(const char *path)
{
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    return pve_vm_name(base) ? (unsigned)strtoul(base, NULL, 10) : 0;
}

gp_file_type gp_file_type_detect(const char *name, const char *buf, size_t len)
{
    const char *base = basename_of(name);
    bool grub_assign = false, modprobe_kw = false, kernel_words = false;
    size_t lines = 0;

    if (strstr(name, "mapping/pci.cfg"))
        return GP_FILE_PVE_MAPPING;
    if (strstr(name, "lxc/") && pve_vm_name(base))
        return GP_FILE_PVE_CT;
    if ((strstr(name, "qemu-server/") && gp_endswith(base, ".conf")) || pve_vm_name(base))
        return GP_FILE_PVE_VM;
    if (strstr(name, "default/grub.d/") || strcmp(base, "grub") == 0)
        return GP_FILE_GRUB_DEFAULT;
    if (strstr(name, "kernel/cmdline"))
        return GP_FILE_KERNEL_CMDLINE;
    if (strstr(name, "proc/cmdline") || strcmp(base, "cmdline") == 0)
        return GP_FILE_PROC_CMDLINE;
    if (strstr(name, "modprobe.d/"))
        return GP_FILE_MODPROBE;
    if (strstr(name, "modules-load.d/") || strcmp(base, "modules") == 0)
        return strstr(name, "initramfs-tools") ? GP_FILE_INITRAMFS_MODULES : GP_FILE_MODULES_LOAD;

    for (const char *p = buf; p < buf + len;) {
        const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        const char *s = p + strspn(p, " \t");

        lines++;
        if (gp_startswith(s, "GRUB_"))
            grub_assign = true;
        else if (gp_startswith(s, "options ") || gp_startswith(s, "blacklist ") || gp_startswith(s, "softdep ") ||
                 gp_startswith(s, "install ") || gp_startswith(s, "alias "))
            modprobe_kw = true;
        else if (strstr(s, "root=") || strstr(s, "iommu"))
            kernel_words = true;
        if (!nl)
            break;
        p = nl + 1;
    }
    if (grub_assign)
        return GP_FILE_GRUB_DEFAULT;
    if (modprobe_kw)
        return GP_FILE_MODPROBE;
    if (kernel_words && lines <= 1)
        return GP_FILE_PROC_CMDLINE;
    if (gp_endswith(base, ".conf"))
        return GP_FILE_MODPROBE;
    return GP_FILE_UNKNOWN;
}

int gp_lint_buffer(const gp_lint_ctx *ctx, const char *display, gp_file_type t, const char *buf, size_t len,
                   gp_findings *out)
{
    gp_finding *f;

    /* No configuration file the tools read holds a NUL byte; whatever this
     * is (a binary, a corrupted copy), its lines mean nothing. */
    if (memchr(buf, '\0', len)) {
        f = gp_findings_add(out, display, "lint.binary", GP_SEV_FAIL, "file content",
                            "contains NUL bytes: this is not a text configuration file");
        gp_finding_add_line(out, f, display, 0, NULL);
        gp_finding_set_fix(out, f, "restore the file from a backup or the package (e.g. apt install --reinstall)");
        return gp_findings_status(out);
    }

    switch (t) {
    case GP_FILE_PVE_VM:
    case GP_FILE_PVE_MAPPING:
    case GP_FILE_PVE_CT:
        if (!ctx->guest) {
            f = gp_findings_add(out, display, "lint.needs-host", GP_SEV_INFO, "file type",
                                "a Proxmox %s is judged against a host's devices; none was read",
                                t == GP_FILE_PVE_MAPPING ? "PCI mapping file" : "guest config");
            gp_finding_add_line(out, f, display, 0, NULL);
        } else if (t == GP_FILE_PVE_VM) {
            (void)gp_vm_lint_config(ctx->guest, display, pve_vm_id(display), buf, len, out);
        } else if (t == GP_FILE_PVE_CT) {
            (void)gp_lxc_lint_config(ctx->guest, display, pve_vm_id(display), buf, len, out);
        } else {
            (void)gp_map_lint_config(ctx->guest, display, buf, len, out);
        }
        break;
    case GP_FILE_GRUB_DEFAULT:
    case GP_FILE_KERNEL_CMDLINE:
    case GP_FILE_PROC_CMDLINE:
        gp_lint_cmdline_file(ctx, display, t, buf, len, out);
        break;
    case GP_FILE_MODULES_LOAD:
    case GP_FILE_MODPROBE:
    case GP_FILE_INITRAMFS_MODULES:
        gp_lint_modules_file(ctx, display, t, buf, len, out);
        break;
    default:
        f = gp_findings_add(out, display, "lint.unknown-type", GP_SEV_WARN, "file type",
                            "not a file gpupass knows: name it as the system does (/etc/default/grub, "
                            "/etc/kernel/cmdline, /etc/modules, /etc/modprobe.d/*.conf, ...)");
        gp_finding_add_line(out, f, display, 0, NULL);
        break;
    }
    return gp_findings_status(out);
}
