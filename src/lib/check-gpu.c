/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 7: each GPU — driver, IOMMU group, reset, boot framebuffer, BARs, ROM. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"
#include "fileio.h"
#include "iomem.h"
#include "pveguest.h"
#include "quirks.h"

#define GIB ((uint64_t)1024 * 1024 * 1024)

typedef struct gpu_view {
    const gp_check_ctx *ctx;
    const gp_gpu *gpu;
    const gp_pci_dev *dev;
    char layer[64];
    bool intended;      /* meant for a guest: named, on vfio-pci, or in a VM config */
} gpu_view;

/* A GPU the host keeps for itself (its console, its CUDA work) is shown, but
 * what would block passthrough is only information there. */
static gp_severity sev(const gpu_view *g, gp_severity s)
{
    return g->intended || s <= GP_SEV_INFO ? s : GP_SEV_INFO;
}

static const gp_pci_dev *fn_dev(const gpu_view *g, size_t i)
{
    return &g->ctx->pci->devs[g->gpu->functions.v[i]];
}

static void check_driver(const gpu_view *g, gp_findings *out)
{
    size_t on_vfio = 0, n = g->gpu->functions.n;
    char list[512] = "";
    gp_finding *f;

    for (size_t i = 0; i < n; i++) {
        const gp_pci_dev *d = fn_dev(g, i);
        size_t used = strlen(list);

        if (d->driver && strcmp(d->driver, "vfio-pci") == 0)
            on_vfio++;
        snprintf(list + used, sizeof(list) - used, "%s%s on %s", used ? ", " : "", d->name + 5,
                 d->driver ? d->driver : "no driver");
    }
    if (on_vfio == n) {
        gp_findings_add(out, g->layer, "gpu.driver", GP_SEV_PASS, "driver", "all %zu function%s on vfio-pci", n,
                        n == 1 ? "" : "s");
        return;
    }
    /* qemu-server binds every non-bridge device of the group to vfio-pci at
     * VM start; that unbind can hang while the host still uses the card. */
    f = gp_findings_add(out, g->layer, "gpu.driver", GP_SEV_INFO, "driver",
                        "%s: Proxmox binds them to vfio-pci when the VM starts; stop every host user "
                        "(display manager, nvidia-persistenced, CUDA jobs) first, or bind at boot",
                        list);
    for (size_t i = 0; i < n; i++)
        if (!fn_dev(g, i)->driver || strcmp(fn_dev(g, i)->driver, "vfio-pci") != 0)
            gp_finding_add_device(out, f, fn_dev(g, i)->name);
    gp_finding_set_fix(out, f, "gpupass setup %s   # shows the plan that binds it at every boot; add --apply",
                       g->dev->name);
}

static void check_group(const gpu_view *g, gp_findings *out)
{
    const gp_check_ctx *ctx = g->ctx;
    gp_finding *f;
    char groups[128] = "";

    for (size_t i = 0; i < g->gpu->groups.n; i++) {
        size_t used = strlen(groups);

        snprintf(groups + used, sizeof(groups) - used, "%s%d", used ? ", " : "", g->gpu->groups.v[i]);
    }
    switch (g->gpu->verdict) {
    case GP_VERDICT_ISOLATED:
        gp_findings_add(out, g->layer, "gpu.group", GP_SEV_PASS, "IOMMU group",
                        "isolated: group %s holds only this card's functions%s", groups,
                        g->gpu->members.n > g->gpu->functions.n ? " and bridges" : "");
        return;
    case GP_VERDICT_NO_IOMMU:
        f = gp_findings_add(out, g->layer, "gpu.no-iommu", sev(g, GP_SEV_FAIL), "IOMMU group",
                            "no IOMMU group: passthrough is impossible until the IOMMU is on (see above)");
        gp_finding_add_device(out, f, g->dev->name);
        return;
    case GP_VERDICT_SHARED:
        break;
    }
    f = gp_findings_add(out, g->layer, "gpu.group-shared", sev(g, GP_SEV_FAIL), "IOMMU group",
                        "shared: group %s also holds %zu other device%s%s; all of them would go to the VM", groups,
                        g->gpu->shared_with.n, g->gpu->shared_with.n == 1 ? "" : "s",
                        g->gpu->host_critical.n ? ", including what the host needs to stay up" : "");
    for (size_t i = 0; i < g->gpu->shared_with.n; i++) {
        int idx = g->gpu->shared_with.v[i];

        gp_finding_add_device_text(out, f, ctx->pci->devs[idx].name,
                                   ctx->crit ? gp_hostcrit_reason(ctx->crit, idx) : NULL);
    }
    gp_finding_set_fix(out, f,
                       "move the card to a slot wired to the CPU (a root port with its own group), or enable "
                       "ACS / \"PCIe ARI\" in the firmware setup; the last resort, which gives up isolation "
                       "between those devices, is the kernel parameter pcie_acs_override=downstream,multifunction");
}

static void check_reset(const gpu_view *g, gp_findings *out)
{
    const gp_pci_dev *d = g->dev;
    const char *family = gp_quirk_amd_reset_family(d->vendor_id, d->device_id);
    const char *rm = d->reset_method;
    gp_finding *f;

    if (family) {
        bool hooked = rm && strstr(rm, "device_specific") && gp_host_exists(g->ctx->h, "sys/module/vendor_reset");

        if (hooked) {
            gp_findings_add(out, g->layer, "gpu.reset", GP_SEV_PASS, "reset",
                            "AMD %s: vendor-reset is loaded and reset_method is device_specific", family);
            return;
        }
        /* Polaris/Vega/Navi 10-14 do not come back after a VM stops; since
         * 5.15 vendor-reset must also be selected in reset_method. */
        f = gp_findings_add(out, g->layer, "gpu.reset-bug", sev(g, GP_SEV_WARN), "reset",
                            "AMD %s has the reset bug: after the VM stops it stays unusable until the host "
                            "reboots, unless vendor-reset resets it (reset_method now: %s)", family,
                            rm ? rm : "none");
        gp_finding_add_device(out, f, d->name);
        gp_finding_set_fix(out, f,
                           "apt install proxmox-default-headers dkms git && git clone "
                           "https://github.com/gnif/vendor-reset && dkms install ./vendor-reset\n"
                           "echo vendor-reset >> /etc/modules\n"
                           "echo 'ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x1002\", "
                           "ATTR{device}==\"0x%04x\", ATTR{reset_method}=\"device_specific\"' > "
                           "/etc/udev/rules.d/99-vendor-reset.rules\n"
                           "update-initramfs -u -k all && reboot",
                           d->device_id);
        return;
    }
    if (!rm) {
        bool old = gp_kver_known(&g->ctx->kver) && !gp_kver_at_least(&g->ctx->kver, 5, 15);

        if (old || d->flr) {
            gp_findings_add(out, g->layer, "gpu.reset", GP_SEV_PASS, "reset", "%s",
                            d->flr ? "Function Level Reset (FLR) advertised" : "kernel < 5.15 shows no reset_method");
            return;
        }
        /* The kernel offers a per-function bus reset only to a device alone
         * on its bus (pci_parent_bus_reset); for a card with an audio
         * function VFIO instead resets the whole bus, which it may do when
         * one VM owns every function on it. */
        if (d->parent >= 0 && g->gpu->functions.n > 1) {
            gp_findings_add(out, g->layer, "gpu.reset", GP_SEV_PASS, "reset",
                            "no FLR; VFIO resets the slot's bus, so give all %zu functions to the same VM",
                            g->gpu->functions.n);
            return;
        }
        f = gp_findings_add(out, g->layer, "gpu.no-reset", sev(g, GP_SEV_WARN), "reset",
                            "the kernel offers no reset method: the card may keep its state, or hang, between VM "
                            "starts");
        gp_finding_add_device(out, f, d->name);
        gp_finding_set_fix(out, f, "stop and start (not reboot) the VM to test; if the card does not come back, "
                                   "reboot the host between guest runs");
        return;
    }
    if (strstr(rm, "flr"))
        gp_findings_add(out, g->layer, "gpu.reset", GP_SEV_PASS, "reset", "Function Level Reset (reset_method: %s)",
                        rm);
    else if (strstr(rm, "bus"))
        gp_findings_add(out, g->layer, "gpu.reset", GP_SEV_PASS, "reset",
                        "bus reset of the slot (reset_method: %s): every function behind the bridge resets "
                        "together, so give them all to the same VM", rm);
    else
        gp_findings_add(out, g->layer, "gpu.reset", GP_SEV_INFO, "reset", "reset_method: %s", rm);
}

static void check_boot_display(const gpu_view *g, gp_findings *out)
{
    const gp_check_ctx *ctx = g->ctx;
    char fb[64];
    int bar = -1;
    gp_finding *f;

    if (g->dev->boot_vga != 1)
        return;
    if (gp_iomem_framebuffer_in(g->ctx->iomem, g->dev, &bar, fb, sizeof(fb))) {
        /* Since 5.15 the framebuffer comes from sysfb; video=efifb:off no
         * longer stops it, initcall_blacklist=sysfb_init does. */
        bool sysfb = !gp_kver_known(&ctx->kver) || gp_kver_at_least(&ctx->kver, 5, 15);
        const char *add_new[] = { "initcall_blacklist=sysfb_init", NULL };
        const char *add_old[] = { "video=efifb:off", "video=vesafb:off", NULL };
        _cleanup_free_ char *fix = NULL;

        if ((sysfb && gp_cmdline_has(ctx->cmdline, "initcall_blacklist", "sysfb_init")) ||
            (!sysfb && gp_cmdline_has(ctx->cmdline, "video", "efifb:off"))) {
            gp_findings_add(out, g->layer, "gpu.bootfb", GP_SEV_INFO, "boot framebuffer",
                            "%s still sits in BAR %d, but the parameter that frees it is on the running "
                            "command line", fb, bar);
            return;
        }
        f = gp_findings_add(out, g->layer, "gpu.bootfb", sev(g, GP_SEV_WARN), "boot framebuffer",
                            "boot VGA: the firmware framebuffer (%s) sits in BAR %d, so vfio-pci cannot reserve it "
                            "(\"BAR %d: can't reserve\") and the guest gets no display", fb, bar, bar);
        gp_finding_add_device(out, f, g->dev->name);
        gp_finding_add_line(out, f, "/proc/iomem", 0, fb);
        fix = gp_cmdline_fix(ctx->h, &ctx->boot, sysfb ? add_new : add_old, NULL);
        if (!fix)
            out->oom = true;
        else
            gp_finding_set_fix(out, f, "%s\n(the host loses its console on this GPU; another GPU as primary "
                                       "display in the firmware avoids that)", fix);
        return;
    }
    f = gp_findings_add(out, g->layer, "gpu.boot-vga", GP_SEV_INFO, "boot display",
                        "this is the firmware's boot display: the host console is on it, and its ROM in the "
                        "guest may be the shadowed copy (dump it while another GPU is primary if the guest "
                        "shows nothing)");
    gp_finding_add_device(out, f, g->dev->name);
}

static void check_bars(const gpu_view *g, gp_findings *out)
{
    const gp_pci_dev *d = g->dev;
    uint64_t total = 0, biggest = 0;
    int big = -1;
    gp_finding *f;

    for (int i = 0; i < GP_PCI_BARS; i++) {
        if (!d->bars[i].mem64)
            continue;
        total += d->bars[i].size;
        if (d->bars[i].size > biggest)
            biggest = d->bars[i].size, big = i;
    }
    /* OVMF's fixed 64-bit MMIO window was 32 GiB (PcdPciMmio64Size); newer
     * builds size it from the guest's physical address bits, which QEMU
     * keeps small unless the CPU type passes the host's through. */
    if (total > 32 * GIB - 1 || (d->rebar && d->rebar_max_size >= 32 * GIB)) {
        f = gp_findings_add(out, g->layer, "gpu.large-bar", GP_SEV_INFO, "BAR size",
                            "BAR %d is %" PRIu64 " GiB%s (64-bit BARs %" PRIu64 " GiB in all): the guest firmware "
                            "must map that much above 4 GiB; a guest that shows \"BAR0 is 0M\" or Code 12 did not",
                            big, biggest / GIB, d->rebar ? ", Resizable BAR" : "", total / GIB);
        gp_finding_add_device(out, f, d->name);
        gp_finding_set_fix(out, f, "give the VM `cpu: host` (phys-bits follow the host) and OVMF (bios: ovmf); "
                                   "if it still fails, turn Resizable BAR off in the firmware setup");
        return;
    }
    if (biggest)
        gp_findings_add(out, g->layer, "gpu.bar", GP_SEV_PASS, "BAR size",
                        "largest BAR %" PRIu64 " %s: fits the guest firmware's default window",
                        biggest >= GIB ? biggest / GIB : biggest >> 20, biggest >= GIB ? "GiB" : "MiB");
}

static void check_rom(const gpu_view *g, gp_findings *out)
{
    char path[600];

    snprintf(path, sizeof(path), "%s/rom", g->dev->path);
    if (gp_host_exists(g->ctx->h, path))
        gp_findings_add(out, g->layer, "gpu.rom", GP_SEV_PASS, "option ROM",
                        "ROM BAR present: the guest can read the card's own VBIOS");
    else if (gp_pci_class16(g->dev) == 0x0300)
        gp_findings_add(out, g->layer, "gpu.rom", GP_SEV_INFO, "option ROM",
                        "no ROM BAR: for display output under OVMF, give the VM a UEFI ROM file (romfile=)");
}

static bool gpu_in_vm_config(const gp_pve_vms *vms, const gp_pci_dev *d)
{
    for (size_t v = 0; v < vms->n; v++)
        for (size_t e = 0; e < vms->v[v].n_hostpci; e++)
            if (gp_pve_hostpci_matches(&vms->v[v].hostpci[e], d->name))
                return true;
    return false;
}

static bool gpu_on_vfio(const gp_check_ctx *ctx, const gp_gpu *g)
{
    for (size_t i = 0; i < g->functions.n; i++) {
        const char *drv = ctx->pci->devs[g->functions.v[i]].driver;

        if (drv && strcmp(drv, "vfio-pci") == 0)
            return true;
    }
    return false;
}

void gp_check_gpus(const gp_check_ctx *ctx, gp_findings *out)
{
    _cleanup_free_ bool *intended = NULL;
    bool any = false;

    if (!ctx->gpus || ctx->gpus->n == 0) {
        gp_findings_add(out, "GPUs", "gpu.none", GP_SEV_INFO, "GPUs", "no display-class (0x03) PCI function found");
        return;
    }
    intended = calloc(ctx->gpus->n, sizeof(*intended));
    if (!intended) {
        out->oom = true;
        return;
    }
    for (size_t i = 0; i < ctx->gpus->n; i++) {
        const gp_gpu *g = &ctx->gpus->gpus[i];

        intended[i] = (ctx->gpu_selected && ctx->gpu_selected[i]) || gpu_on_vfio(ctx, g) ||
                      gpu_in_vm_config(&ctx->vms, &ctx->pci->devs[g->dev]);
        any |= intended[i];
    }
    for (size_t i = 0; i < ctx->gpus->n; i++) {
        const gp_gpu *g = &ctx->gpus->gpus[i];
        gpu_view v = { .ctx = ctx, .gpu = g, .dev = &ctx->pci->devs[g->dev] };

        if (ctx->gpu_selected && !ctx->gpu_selected[i])
            continue;
        /* With nothing set up yet every GPU is a candidate; once one is on
         * vfio-pci or in a VM, the others are the host's own. */
        v.intended = intended[i] || !any;
        snprintf(v.layer, sizeof(v.layer), "GPU %s [%04x:%04x]%s", v.dev->name, v.dev->vendor_id, v.dev->device_id,
                 v.intended ? "" : " (kept by the host)");
        check_driver(&v, out);
        check_group(&v, out);
        check_reset(&v, out);
        check_boot_display(&v, out);
        check_bars(&v, out);
        check_rom(&v, out);
    }
}
