/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fileio.h"

#define KMSG_MAX (16u * 1024 * 1024)

/* proc/cpuinfo: the vendor of the first CPU and whether its flags offer
 * hardware virtualization (the kernel hides vmx/svm when firmware disabled it). */
void gp_cpu_read(const gp_host *h, gp_cpu_vendor *vendor, bool *virt, bool *hypervisor)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    char *line, *save = NULL;
    bool vendor_seen = false, flags_seen = false;

    *vendor = GP_CPU_UNKNOWN;
    *virt = *hypervisor = false;
    if (gp_host_read_file(h, "proc/cpuinfo", 4u * 1024 * 1024, &buf, &len) < 0)
        return;
    for (line = strtok_r(buf, "\n", &save); line && !(vendor_seen && flags_seen); line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');

        if (!colon)
            continue;
        if (!vendor_seen && gp_startswith(line, "vendor_id")) {
            vendor_seen = true;
            if (strstr(colon, "GenuineIntel"))
                *vendor = GP_CPU_INTEL;
            else if (strstr(colon, "AuthenticAMD") || strstr(colon, "HygonGenuine"))
                *vendor = GP_CPU_AMD;
        } else if (!flags_seen && gp_startswith(line, "flags")) {
            char *save2 = NULL;

            flags_seen = true;
            for (char *w = strtok_r(colon + 1, " \t", &save2); w; w = strtok_r(NULL, " \t", &save2))
                if (strcmp(w, "vmx") == 0 || strcmp(w, "svm") == 0)
                    *virt = true;
                else if (strcmp(w, "hypervisor") == 0)
                    *hypervisor = true;
        }
    }
}

int gp_check_ctx_init(gp_check_ctx *ctx, const gp_host *h, const gp_pci_list *pci, const gp_gpu_list *gpus,
                      const gp_hostcrit *crit)
{
    size_t len = 0;
    int r;

    *ctx = (gp_check_ctx){ .h = h, .pci = pci, .gpus = gpus, .crit = crit };
    (void)gp_kver_read(h, &ctx->kver);
    gp_cpu_read(h, &ctx->cpu, &ctx->cpu_virt, &ctx->cpu_hypervisor);
    r = gp_host_read_attr(h, "proc/cmdline", &ctx->cmdline);
    if (r == -ENOMEM)
        return r;
    r = gp_kmsg_read(h, KMSG_MAX, &ctx->kmsg, &ctx->kmsg_len, &ctx->kmsg_source);
    if (r == -ENOMEM)
        return r;
    ctx->kmsg_error = r < 0 ? r : 0;
    (void)gp_bootcfg_detect(h, &ctx->boot);
    ctx->pve = gp_host_exists(h, "etc/pve");
    r = gp_host_read_file(h, "proc/iomem", 4u * 1024 * 1024, &ctx->iomem, &len);
    if (r == -ENOMEM)
        return r;
    /* read once: both the GPU layer (which GPUs are meant for VMs) and the
     * Proxmox layer judge them */
    r = gp_pve_vms_read(h, &ctx->vms);
    if (r == -ENOMEM)
        return r;
    ctx->vms_error = r < 0 ? r : 0;
    return 0;
}

void gp_check_ctx_done(gp_check_ctx *ctx)
{
    free(ctx->cmdline);
    free(ctx->kmsg);
    free(ctx->iomem);
    gp_pve_vms_clear(&ctx->vms);
    *ctx = (gp_check_ctx){ 0 };
}

int gp_check_run(const gp_check_ctx *ctx, gp_findings *out)
{
    gp_check_cpu(ctx, out);
    gp_check_iommu(ctx, out);
    gp_check_cmdline(ctx, out);
    gp_check_modules(ctx, out);
    gp_check_gpus(ctx, out);
    if (ctx->pve)
        gp_check_pve(ctx, out);
    gp_check_setup(ctx, out);
    return gp_findings_status(out);
}
