/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel command line layer: which boot loader, whether the file it
 * reads is right, and whether the running kernel got what that file says
 * (the classic mistake: editing /etc/default/grub on a host that boots
 * systemd-boot from /etc/kernel/cmdline, Proxmox VE admin guide "Host
 * Bootloader").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"
#include "fileio.h"

#define FILE_MAX (4u << 20)
#define SUBJ "kernel command line"

static char *host_fix(const void *data, const gp_cmdline_edit *e)
{
    const gp_check_ctx *ctx = data;

    return gp_cmdline_fix_edit(ctx->h, &ctx->boot, e);
}

static void report_loader(const gp_check_ctx *ctx, gp_findings *out)
{
    gp_finding *f;

    if (ctx->boot.loader != GP_BOOT_UNKNOWN) {
        gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.bootloader", GP_SEV_PASS, "boot loader",
                        "%s, which reads %s (%s)", gp_boot_loader_to_string(ctx->boot.loader),
                        ctx->boot.config_file, ctx->boot.reason);
        return;
    }
    f = gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.bootloader", GP_SEV_WARN, "boot loader",
                        "cannot tell which boot loader starts this host (%s), so not which file holds the "
                        "kernel command line", ctx->boot.reason);
    gp_finding_add_line(out, f, "/etc/kernel/proxmox-boot-uuids", 0, NULL);
    gp_finding_add_line(out, f, "/etc/default/grub", 0, NULL);
    gp_finding_set_fix(out, f, "proxmox-boot-tool status\nefibootmgr -v");
}

static bool cmdline_has_param(const gp_cmdline *c, const gp_cmdline_param *p)
{
    for (size_t i = 0; i < c->n; i++)
        if (gp_cmdline_param_eq(&c->v[i], p))
            return true;
    return false;
}

static bool on_same_line(const gp_finding *f, const gp_cmdline_param *p)
{
    for (size_t i = 0; i < f->n_evidence; i++)
        if (f->evidence[i].line == p->line && f->evidence[i].file && p->file &&
            strcmp(f->evidence[i].file, p->file) == 0)
            return true;
    return false;
}

static void add_param_evidence(gp_findings *out, gp_finding *f, const gp_cmdline_param *p)
{
    if (!f || on_same_line(f, p) || f->n_evidence >= 16)
        return;
    gp_finding_add_text(out, f, p->file, p->line, p->line_text, p->line_len);
}

/* Parameters of the configured file that the running kernel lacks, and the
 * reverse; true when they agree. */
static bool compare_running(const gp_check_ctx *ctx, const char *file, const gp_cmdline *conf,
                            const gp_cmdline *proc, gp_findings *out)
{
    gp_finding *f = NULL;
    bool agree = true;

    for (size_t i = 0; i < conf->n; i++) {
        const gp_cmdline_param *p = &conf->v[i];

        if (!gp_cmdline_param_relevant(p->name) || cmdline_has_param(proc, p))
            continue;
        agree = false;
        if (!f) {
            f = gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.not-applied", GP_SEV_WARN, SUBJ,
                                "%s is in %s but not in /proc/cmdline: the running kernel did not get it "
                                "(boot files not refreshed, or no reboot since)", p->raw, file);
            gp_finding_set_fix(out, f, "%s && reboot", ctx->boot.refresh_cmd);
        }
        add_param_evidence(out, f, p);
    }
    f = NULL;
    for (size_t i = 0; i < proc->n; i++) {
        const gp_cmdline_param *p = &proc->v[i];

        if (!gp_cmdline_param_relevant(p->name) || cmdline_has_param(conf, p))
            continue;
        agree = false;
        if (!f) {
            f = gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.stale", GP_SEV_INFO, SUBJ,
                                "the running kernel has %s, which %s no longer sets: it goes away at the "
                                "next boot", p->raw, file);
            gp_finding_set_fix(out, f, "%s && reboot", ctx->boot.refresh_cmd);
        }
        add_param_evidence(out, f, p);
    }
    return agree;
}

/* Parameters written in the file the boot loader does not read, and found
 * neither in the one it reads nor in the running kernel. */
static bool compare_wrong_file(const gp_check_ctx *ctx, const char *wrong, const gp_cmdline *inactive,
                               const gp_cmdline *active, const gp_cmdline *proc, gp_findings *out)
{
    const char **add = calloc(inactive->n + 1, sizeof(*add));
    size_t n = 0;
    gp_finding *f = NULL;

    if (!add) {
        out->oom = true;
        return false;
    }
    for (size_t i = 0; i < inactive->n; i++) {
        const gp_cmdline_param *p = &inactive->v[i];

        if (!gp_cmdline_param_relevant(p->name) || cmdline_has_param(active, p) || cmdline_has_param(proc, p))
            continue;
        if (!f)
            f = gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.wrong-bootloader", GP_SEV_FAIL, SUBJ,
                                "%s is in %s, which this host's boot loader (%s) does not read: the kernel "
                                "never gets it; it belongs in %s", p->raw, wrong,
                                gp_boot_loader_to_string(ctx->boot.loader), ctx->boot.config_file);
        add_param_evidence(out, f, p);
        add[n++] = p->raw;
    }
    if (f) {
        gp_cmdline_edit e = { .add = add };
        char *s = gp_cmdline_fix_edit(ctx->h, &ctx->boot, &e);

        if (s)
            gp_finding_set_fix(out, f, "%s", s);
        else
            out->oom = true;
        free(s);
    }
    free(add);
    return f == NULL;
}

static void set_origin(gp_cmdline *c, const char *file, const char *line, size_t len)
{
    for (size_t i = 0; i < c->n; i++) {
        c->v[i].file = file;
        c->v[i].line = 1;
        c->v[i].line_text = line;
        c->v[i].line_len = len;
    }
}

void gp_check_cmdline(const gp_check_ctx *ctx, gp_findings *out)
{
    gp_cmdline_judge j = {
        .layer = GP_LAYER_CMDLINE,
        .cpu = ctx->cpu,
        .kver = &ctx->kver,
        .pci = ctx->pci,
        .fix = host_fix,
        .fix_data = ctx,
    };
    gp_grub g = { 0 };
    gp_cmdline grub = { 0 }, kern = { 0 }, proc = { 0 };
    _cleanup_free_ char *kbuf = NULL;
    size_t klen = 0;
    bool have_grub, have_kern, agree = true;
    const gp_cmdline *active = NULL, *inactive = NULL;
    const char *active_file = NULL, *inactive_file = NULL;
    const char *proc_line = ctx->cmdline ? ctx->cmdline : "";
    int r;

    report_loader(ctx, out);

    r = gp_grub_load(ctx->h, &g);
    if (r == -ENOMEM || (r >= 0 && gp_grub_cmdline(&g, &grub) < 0))
        goto oom;
    have_grub = r >= 0;
    r = gp_host_read_file(ctx->h, "etc/kernel/cmdline", FILE_MAX, &kbuf, &klen);
    if (r == -ENOMEM)
        goto oom;
    have_kern = r >= 0;
    if (have_kern) {
        const char *nl = memchr(kbuf, '\n', klen);
        size_t n = nl ? (size_t)(nl - kbuf) : klen;

        if (gp_cmdline_split(&kern, kbuf, n) < 0)
            goto oom;
        set_origin(&kern, "/etc/kernel/cmdline", kbuf, n);
    }
    if (gp_cmdline_split(&proc, proc_line, strlen(proc_line)) < 0)
        goto oom;
    set_origin(&proc, "/proc/cmdline", proc_line, strlen(proc_line));

    if (ctx->boot.loader == GP_BOOT_SYSTEMD_BOOT || (ctx->boot.loader == GP_BOOT_UNKNOWN && !have_grub)) {
        if (have_kern) {
            active = &kern;
            active_file = "/etc/kernel/cmdline";
        }
        if (have_grub) {
            inactive = &grub;
            inactive_file = g.n_files ? g.files[0].display : "/etc/default/grub";
        }
    } else {
        if (have_grub) {
            active = &grub;
            active_file = g.n_files ? g.files[0].display : "/etc/default/grub";
        }
        if (have_kern && ctx->boot.loader == GP_BOOT_GRUB) {
            inactive = &kern;
            inactive_file = "/etc/kernel/cmdline";
        }
    }

    /* the file the boot loader reads; each word is judged there, where the
     * user edits it, not a second time in /proc/cmdline */
    if (active == &grub) {
        gp_grub_judge_issues(&j, &g, out);
        gp_cmdline_judge_params(&j, &grub, out);
    } else if (active == &kern) {
        gp_kernel_cmdline_judge(&j, "/etc/kernel/cmdline", kbuf, klen, ctx->cmdline, out);
    } else if (ctx->cmdline) {
        gp_cmdline_judge_params(&j, &proc, out);
    }

    /* Intel kernels before 6.8 (Proxmox) leave VT-d off without intel_iommu=on */
    if (ctx->cpu == GP_CPU_INTEL && gp_kver_known(&ctx->kver) && !gp_kver_at_least(&ctx->kver, 6, 8) &&
        ctx->cmdline && (!ctx->pci || ctx->pci->iommu_groups == 0)) {
        const gp_cmdline_param *p = gp_cmdline_get(&proc, "intel_iommu");
        const gp_cmdline_param *c = active ? gp_cmdline_get(active, "intel_iommu") : NULL;

        if (!(p && gp_cmdline_value_has_word(p->value, "on")) && !(c && gp_cmdline_value_has_word(c->value, "on"))) {
            static const char *const add[] = { "intel_iommu=on", NULL };
            gp_finding *f = gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.intel-iommu-needed", GP_SEV_WARN, SUBJ,
                                            "kernel %s is older than 6.8 and the command line has no "
                                            "intel_iommu=on: the Intel IOMMU stays off", ctx->kver.release);
            char *s;

            gp_finding_add_line(out, f, "/proc/cmdline", 1, proc_line);
            s = gp_cmdline_fix(ctx->h, &ctx->boot, add, NULL);
            if (s)
                gp_finding_set_fix(out, f, "%s", s);
            else
                out->oom = true;
            free(s);
        }
    }

    if (active && ctx->cmdline)
        agree = compare_running(ctx, active_file, active, &proc, out) && agree;
    if (inactive)
        agree = compare_wrong_file(ctx, inactive_file, inactive, active ? active : &proc, &proc, out) && agree;
    if (active && ctx->cmdline && agree)
        gp_findings_add(out, GP_LAYER_CMDLINE, "cmdline.consistent", GP_SEV_PASS, SUBJ,
                        "the passthrough parameters in %s are the ones the running kernel has", active_file);

    gp_cmdline_done(&grub);
    gp_cmdline_done(&kern);
    gp_cmdline_done(&proc);
    gp_grub_done(&g);
    return;
oom:
    out->oom = true;
    gp_cmdline_done(&grub);
    gp_cmdline_done(&kern);
    gp_cmdline_done(&proc);
    gp_grub_done(&g);
}
