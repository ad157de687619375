/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "check.h"
#include "cli.h"

static void check_help(void)
{
    printf("Usage: gpupass check [-q] [--json] [GPU...]\n"
           "\n"
           "Judge every layer GPU passthrough depends on, one finding each, with the\n"
           "evidence and the exact fix for this host's boot loader, kernel and CPU:\n"
           "  CPU virtualization   vmx/svm, /dev/kvm\n"
           "  Firmware IOMMU       ACPI DMAR (Intel) / IVRS (AMD) table\n"
           "  Kernel IOMMU         IOMMU units and groups, default DMA domain\n"
           "  Interrupt remapping  enabled, or the unsafe workaround in use\n"
           "  Kernel command line  running vs configured in the boot loader in use,\n"
           "                       invalid, obsolete and misspelled parameters\n"
           "  Modules              vfio modules, /etc/modules, modules-load.d,\n"
           "                       modprobe.d (ids=, softdep, blacklist), initramfs\n"
           "  GPU <address>        driver, IOMMU group, reset, boot framebuffer,\n"
           "                       BAR size, ROM (every GPU, or the ones named)\n"
           "  Proxmox VE           version, VMs that take the GPUs\n"
           "\n"
           "Options:\n"
           "  -q, --quiet  leave out the checks that passed\n"
           "  -j, --json   {\"findings\": [...], \"summary\": {...}} on stdout\n"
           "  -h, --help   this help\n"
           "\n"
           "GPU is a PCI address: 01:00.0, 0000:01:00.0, or 01:00 for the slot. A GPU that\n"
           "is on vfio-pci, in a VM config or named here is judged for passthrough; while\n"
           "one is, the others count as the host's own and their problems are only info.\n"
           "\n"
           "Exit status: 0 all passed (or info), 1 warnings, 2 failures, 3 could not run.\n");
}

int gp_cmd_check(const gp_cli *cli, int argc, char **argv)
{
    _cleanup_findings_ gp_findings findings = { 0 };
    _cleanup_cli_gpus_ gp_cli_gpus g = { 0 };
    gp_check_ctx ctx;
    bool quiet = false, json = false;
    int r;

    r = gp_cli_findings_options("check", argc, argv, &quiet, &json, check_help);
    if (r >= 0)
        return r;
    r = gp_cli_gpus_load(cli, "check", argc - optind, argv + optind, &g);
    if (r != 0)
        return r;
    r = gp_check_ctx_init(&ctx, g.h, g.pci, g.gpus, g.crit);
    if (r >= 0) {
        if (g.named)
            ctx.gpu_selected = g.gpu_sel;
        r = gp_check_run(&ctx, &findings);
        gp_check_ctx_done(&ctx);
    }
    if (r < 0)
        return gp_cli_error("out of memory");
    return gp_cli_findings_output(cli, &findings, quiet, json);
}
