/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 9: what `gpupass setup` wrote against what the running host shows,
 * so that after the reboot the user learns which layer did not take. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"
#include "fileio.h"
#include "setup.h"
#include "txn.h"

/* When the running kernel booted: "btime <epoch>" in proc/stat; 0 unknown. */
static time_t boot_time(const gp_host *h)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    const char *p;
    long long t;

    if (gp_host_read_file(h, "proc/stat", 1024 * 1024, &buf, &len) < 0)
        return 0;
    p = strstr(buf, "\nbtime ");
    return p && sscanf(p + 7, "%lld", &t) == 1 ? (time_t)t : 0;
}

/* When the newest transaction still in force wrote the intent file. */
static time_t setup_time(const gp_host *h, char *id, size_t id_len)
{
    gp_txn_info *v = NULL;
    size_t n = 0;
    time_t when = 0;

    if (gp_txn_list(h, &v, &n) < 0)
        return 0;
    for (size_t i = n; i-- > 0 && !when;) {
        if (v[i].undone)
            continue;
        for (char **f = v[i].files; f && *f && !when; f++)
            if (strcmp(*f, GP_SETUP_INTENT) == 0) {
                when = v[i].when;
                snprintf(id, id_len, "%s", v[i].id);
            }
    }
    gp_txn_info_free(v, n);
    return when;
}

void gp_check_setup(const gp_check_ctx *ctx, gp_findings *out)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0, missing = 0, checked = 0;
    char id[64] = "";
    time_t booted, written;
    bool rebooted;
    gp_finding *f;

    if (gp_host_read_file(ctx->h, GP_SETUP_INTENT, 64 * 1024, &buf, &len) < 0)
        return;
    booted = boot_time(ctx->h);
    written = setup_time(ctx->h, id, sizeof(id));
    rebooted = booted && written && booted > written;

    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        char what[32], arg[256];
        const char *layer = NULL, *effect = NULL, *fix = NULL;
        char title[512];

        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (sscanf(line, "%31s %255s", what, arg) != 2)
            continue;
        if (strcmp(what, "cmdline") == 0) {
            char name[256];
            char *eq;

            snprintf(name, sizeof(name), "%s", arg);
            eq = strchr(name, '=');
            if (eq)
                *eq = '\0';
            checked++;
            if (gp_cmdline_has(ctx->cmdline, name, eq ? eq + 1 : NULL))
                continue;
            layer = GP_LAYER_CMDLINE;
            snprintf(title, sizeof(title), "%s is not on the running command line", arg);
            effect = "the boot loader did not pick up the change";
            fix = ctx->boot.loader == GP_BOOT_SYSTEMD_BOOT ? "proxmox-boot-tool refresh && reboot"
                                                           : "update-grub && reboot";
        } else if (strcmp(what, "bind") == 0) {
            gp_pci_addr a;
            int d;

            checked++;
            if (gp_pci_addr_parse(arg, &a, NULL) < 0 || (d = gp_pci_list_find(ctx->pci, &a)) < 0) {
                layer = "device";
                snprintf(title, sizeof(title), "%s is gone from the PCI bus", arg);
                effect = "the card was moved or removed since setup";
                fix = "gpupass list   # then run gpupass setup for its new address";
            } else if (ctx->pci->devs[d].driver && strcmp(ctx->pci->devs[d].driver, "vfio-pci") == 0) {
                continue;
            } else {
                layer = GP_LAYER_MODULES;
                snprintf(title, sizeof(title), "%s is on %s, not vfio-pci", arg,
                         ctx->pci->devs[d].driver ? ctx->pci->devs[d].driver : "no driver");
                effect = "the binding did not take: the initramfs is older than the modprobe.d files";
                fix = "update-initramfs -u -k all && reboot";
            }
        } else {
            continue;
        }
        missing++;
        if (!rebooted) {
            f = gp_findings_add(out, "gpupass setup", "setup.pending-reboot", GP_SEV_WARN, "setup in effect",
                                "%s: written by gpupass setup%s%s, waiting for a reboot", title, id[0] ? " " : "",
                                id);
            gp_finding_add_line(out, f, "/" GP_SETUP_INTENT, 0, line);
            gp_finding_set_fix(out, f, "reboot, then run gpupass check again");
        } else {
            f = gp_findings_add(out, "gpupass setup", "setup.not-effective", GP_SEV_FAIL, "setup in effect",
                                "%s after the reboot: %s (layer: %s)", title, effect, layer);
            gp_finding_add_line(out, f, "/" GP_SETUP_INTENT, 0, line);
            gp_finding_set_fix(out, f, "%s", fix);
        }
    }
    if (checked && !missing)
        gp_findings_add(out, "gpupass setup", "setup.effective", GP_SEV_PASS, "setup in effect",
                        "everything gpupass setup%s%s wrote is in effect", id[0] ? " " : "", id);
}
