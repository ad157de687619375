/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 8: Proxmox VE — its version, and the VMs that take this host's GPUs. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"
#include "pveguest.h"

static bool entry_matches_any(const gp_check_ctx *ctx, const gp_pve_hostpci *e)
{
    for (size_t i = 0; i < ctx->pci->n; i++)
        if (gp_pve_hostpci_matches(e, ctx->pci->devs[i].name))
            return true;
    return false;
}

/* The GPU (index in ctx->gpus) an entry takes, or -1. */
static int entry_gpu(const gp_check_ctx *ctx, const gp_pve_hostpci *e)
{
    for (size_t g = 0; ctx->gpus && g < ctx->gpus->n; g++)
        for (size_t f = 0; f < ctx->gpus->gpus[g].functions.n; f++)
            if (gp_pve_hostpci_matches(e, ctx->pci->devs[ctx->gpus->gpus[g].functions.v[f]].name))
                return (int)g;
    return -1;
}

void gp_check_pve(const gp_check_ctx *ctx, gp_findings *out)
{
    const gp_pve_vms *vms = &ctx->vms;
    _cleanup_free_ unsigned *onboot_users = NULL;
    char version[64];
    gp_finding *f;

    if (gp_pve_package_version(ctx->h, "pve-manager", version, sizeof(version)))
        gp_findings_add(out, GP_LAYER_PVE, "pve.version", GP_SEV_PASS, "Proxmox VE", "pve-manager %s, kernel %s",
                        version, ctx->kver.release[0] ? ctx->kver.release : "unknown");
    else
        gp_findings_add(out, GP_LAYER_PVE, "pve.version", GP_SEV_INFO, "Proxmox VE",
                        "pve-manager version unknown (no var/lib/dpkg/status), kernel %s",
                        ctx->kver.release[0] ? ctx->kver.release : "unknown");

    if (ctx->vms_error < 0) {
        gp_findings_add(out, GP_LAYER_PVE, "pve.configs-unreadable", GP_SEV_WARN, "VM configs",
                        "cannot read /etc/pve/qemu-server: %s (is pve-cluster running?)", strerror(-ctx->vms_error));
        return;
    }
    onboot_users = calloc(ctx->gpus && ctx->gpus->n ? ctx->gpus->n : 1, sizeof(*onboot_users));
    if (!onboot_users) {
        out->oom = true;
        return;
    }
    for (size_t v = 0; v < vms->n; v++) {
        const gp_pve_vm *vm = &vms->v[v];

        for (size_t e = 0; e < vm->n_hostpci; e++) {
            const gp_pve_hostpci *ent = &vm->hostpci[e];
            int g = entry_gpu(ctx, ent);
            char text[300];

            snprintf(text, sizeof(text), "hostpci%u: %s", ent->index, ent->value);
            if (!ent->ids) {
                f = gp_findings_add(out, GP_LAYER_PVE, "pve.mapping-missing", GP_SEV_WARN, "VM configs",
                                    "VM %u hostpci%u: mapping '%s' has no device for this node in "
                                    "/etc/pve/mapping/pci.cfg; the VM will not start", vm->vmid, ent->index,
                                    ent->mapping ? ent->mapping : "?");
                gp_finding_add_line(out, f, vm->conf, ent->line, text);
                gp_finding_set_fix(out, f, "add a map line for this node: Datacenter > Resource Mappings, or "
                                           "`pvesh set /cluster/mapping/pci/%s --map ...`",
                                   ent->mapping ? ent->mapping : "NAME");
                continue;
            }
            if (!entry_matches_any(ctx, ent)) {
                /* qemu-server: "no PCI device found for '<id>'" at start. */
                f = gp_findings_add(out, GP_LAYER_PVE, "pve.hostpci-missing", GP_SEV_WARN, "VM configs",
                                    "VM %u hostpci%u names %s, which is not on this host; the VM will not start",
                                    vm->vmid, ent->index, ent->ids[0]);
                gp_finding_add_line(out, f, vm->conf, ent->line, text);
                gp_finding_set_fix(out, f, "gpupass list   # shows the addresses this host has; then "
                                           "qm set %u --hostpci%u <address>", vm->vmid, ent->index);
                continue;
            }
            if (g < 0)
                continue;
            assert(ctx->gpus); /* entry_gpu() found g in it */
            f = gp_findings_add(out, GP_LAYER_PVE, "pve.guest", GP_SEV_INFO, "VM configs",
                                "VM %u%s%s%s takes GPU %s (hostpci%u), %s%s", vm->vmid, vm->name ? " (" : "",
                                vm->name ? vm->name : "", vm->name ? ")" : "",
                                ctx->pci->devs[ctx->gpus->gpus[g].dev].name, ent->index,
                                vm->running ? "running" : "stopped", vm->onboot ? ", starts at boot" : "");
            gp_finding_add_line(out, f, vm->conf, ent->line, text);
            if (vm->onboot)
                onboot_users[g]++;
        }
    }
    for (size_t g = 0; ctx->gpus && g < ctx->gpus->n; g++) {
        if (onboot_users[g] < 2)
            continue;
        /* Only one VM can hold a device; the second one's start fails. */
        f = gp_findings_add(out, GP_LAYER_PVE, "pve.gpu-double-onboot", GP_SEV_WARN, "VM configs",
                            "%u VMs that start at boot take GPU %s: the second one fails to start",
                            onboot_users[g], ctx->pci->devs[ctx->gpus->gpus[g].dev].name);
        gp_finding_add_device(out, f, ctx->pci->devs[ctx->gpus->gpus[g].dev].name);
        gp_finding_set_fix(out, f, "qm set <vmid> --onboot 0   # for all but one of them");
    }
}
