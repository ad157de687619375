/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Modules layer: can this kernel load the VFIO modules, and what do the
 * host's module files (/etc/modules, modules-load.d, modprobe.d, the
 * initramfs list) do at the next boot. qemu-server runs `modprobe vfio-pci`
 * itself when a VM with hostpci starts (PVE::SysFSTools), so a VFIO module
 * that is loadable but not loaded is fine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"
#include "fileio.h"
#include "lint.h"
#include "modcfg.h"

static const char *const vfio_modules[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };

static void check_vfio_modules(const gp_check_ctx *ctx, const gp_modules_env *env, gp_findings *out)
{
    _cleanup_free_ char *dep = NULL;
    const char *rel = ctx->kver.release[0] ? ctx->kver.release : "<release>";

    if (asprintf(&dep, "/lib/modules/%s/modules.dep", rel) < 0) {
        dep = NULL;
        out->oom = true;
        return;
    }
    for (size_t i = 0; i < ELEMENTSOF(vfio_modules); i++) {
        const char *name = vfio_modules[i];
        gp_mod_state st = gp_modindex_lookup(env->index, name);
        _cleanup_free_ char *subject = NULL;
        gp_finding *f;

        if (asprintf(&subject, "%s module", name) < 0) {
            out->oom = true;
            return;
        }
        if (gp_module_loaded(ctx->h, name))
            gp_findings_add(out, GP_LAYER_MODULES, "modules.vfio", GP_SEV_PASS, subject, "%s is loaded", name);
        else if (st == GP_MOD_BUILTIN)
            gp_findings_add(out, GP_LAYER_MODULES, "modules.vfio", GP_SEV_PASS, subject,
                            "%s is built into the kernel", name);
        else if (st == GP_MOD_LOADABLE)
            gp_findings_add(out, GP_LAYER_MODULES, "modules.vfio", GP_SEV_PASS, subject,
                            "%s is not loaded but can be: Proxmox VE loads it when a VM with a PCI device "
                            "starts", name);
        else if (!env->index) {
            f = gp_findings_add(out, GP_LAYER_MODULES, "modules.vfio", GP_SEV_INFO, subject,
                                "%s is not loaded, and without the module index of %s gpupass cannot tell "
                                "whether the kernel has it", name, rel);
            gp_finding_add_line(out, f, dep, 0, NULL);
        } else {
            f = gp_findings_add(out, GP_LAYER_MODULES, "modules.vfio", GP_SEV_FAIL, subject,
                                "%s is neither loaded, built in nor installed for kernel %s: this kernel "
                                "cannot pass devices through", name, rel);
            gp_finding_add_line(out, f, dep, 0, NULL);
            gp_finding_set_fix(out, f, "boot a kernel built with VFIO (CONFIG_VFIO_PCI):\napt install %s\n"
                               "then reboot", ctx->pve ? "proxmox-default-kernel" : "linux-image-amd64");
        }
    }
}

static void lint_one(const gp_check_ctx *ctx, const gp_lint_ctx *lctx, const gp_modules_env *env, const char *path,
                     gp_file_type t, gp_findings *out)
{
    _cleanup_free_ char *buf = NULL, *display = NULL;
    size_t len = 0;
    int r;

    if (asprintf(&display, "/%s", path) < 0) {
        display = NULL;
        out->oom = true;
        return;
    }
    r = gp_host_read_file(ctx->h, path, 16u << 20, &buf, &len);
    if (r == -ENOENT)
        return;
    if (r == -ENOMEM) {
        out->oom = true;
        return;
    }
    if (r < 0) {
        gp_finding *f = gp_findings_add(out, GP_LAYER_MODULES, "modules.unreadable", GP_SEV_INFO, "module file",
                                        "%s cannot be read (%s): not checked", display, strerror(-r));

        gp_finding_add_line(out, f, display, 0, NULL);
        return;
    }
    gp_modules_lint(lctx, env, display, GP_LAYER_MODULES, t, buf, len, out);
}

/* The files a directory's reader takes: kmod and systemd-modules-load read
 * *.conf only; the rest is silently ignored. */
static void lint_dir(const gp_check_ctx *ctx, const gp_lint_ctx *lctx, const gp_modules_env *env, const char *dir,
                     gp_file_type t, gp_findings *out)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;

    if (gp_host_list_dir(ctx->h, dir, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *path = NULL, *canon = NULL;

        if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
            path = NULL;
            out->oom = true;
            return;
        }
        /* Debian links /etc/modules-load.d/modules.conf to /etc/modules,
         * checked on its own; a link to /dev/null masks a file. */
        if (gp_host_resolve(ctx->h, path, &canon) >= 0 &&
            (strcmp(canon, "etc/modules") == 0 || strcmp(canon, "dev/null") == 0))
            continue;
        if (!gp_endswith(names[i], ".conf")) {
            gp_finding *f;
            _cleanup_free_ char *display = NULL;

            if (names[i][0] == '.' || gp_endswith(names[i], ".dpkg-old") || gp_endswith(names[i], ".dpkg-dist") ||
                gp_endswith(names[i], "~") || (t == GP_FILE_MODPROBE && gp_endswith(names[i], ".alias")))
                continue;
            if (asprintf(&display, "/%s", path) < 0) {
                display = NULL;
                out->oom = true;
                return;
            }
            f = gp_findings_add(out, GP_LAYER_MODULES, "modules.ignored-file", GP_SEV_WARN, "module file",
                                "%s does not end in .conf: %s never reads it", display,
                                t == GP_FILE_MODPROBE ? "modprobe" : "systemd-modules-load");
            gp_finding_add_line(out, f, display, 0, NULL);
            gp_finding_set_fix(out, f, "mv %s %s.conf\nthen run: update-initramfs -u -k all", display, display);
            continue;
        }
        lint_one(ctx, lctx, env, path, t, out);
    }
}

static bool has_driverctl_override(const gp_check_ctx *ctx, const char *dev)
{
    _cleanup_free_ char *path = NULL;

    /* driverctl keeps one file per override: /etc/driverctl.d/pci-<address> */
    if (asprintf(&path, "etc/driverctl.d/pci-%s", dev) < 0)
        return false;
    return gp_host_exists(ctx->h, path);
}

static void check_binding(const gp_check_ctx *ctx, const gp_modules_env *env, gp_findings *out)
{
    bool cmdline_ids = ctx->cmdline && gp_cmdline_has(ctx->cmdline, "vfio_pci.ids", NULL);

    if (!ctx->gpus || !ctx->pci || env->ids_configured || cmdline_ids)
        return;
    for (size_t i = 0; i < ctx->gpus->n; i++) {
        const gp_gpu *g = &ctx->gpus->gpus[i];
        const gp_pci_dev *d = &ctx->pci->devs[g->dev];
        _cleanup_free_ char *ids = NULL;
        size_t il = 0;
        FILE *f;
        gp_finding *fi;

        if (ctx->gpu_selected && !ctx->gpu_selected[i])
            continue;
        if (!d->driver || !gp_modname_eq(d->driver, "vfio_pci") || d->is_vf || has_driverctl_override(ctx, d->name))
            continue;
        f = open_memstream(&ids, &il);
        if (!f) {
            out->oom = true;
            return;
        }
        for (size_t k = 0; k < g->functions.n; k++) {
            const gp_pci_dev *fn = &ctx->pci->devs[g->functions.v[k]];

            fprintf(f, "%s%04x:%04x", k ? "," : "", fn->vendor_id, fn->device_id);
        }
        if (fclose(f) != 0) {
            out->oom = true;
            return;
        }
        fi = gp_findings_add(out, GP_LAYER_MODULES, "modules.binding-unpersisted", GP_SEV_INFO,
                             "vfio-pci binding at boot",
                             "%s is on vfio-pci now, but no vfio-pci ids= or driver override binds it at boot: "
                             "Proxmox VE binds it again when its VM starts; until then the host driver may take it",
                             d->name);
        gp_finding_add_device(out, fi, d->name);
        gp_finding_set_fix(out, fi, "only if the host driver must never touch it, add to /etc/modprobe.d/vfio.conf:\n"
                           "options vfio-pci ids=%s\nthen run: update-initramfs -u -k all", ids ? ids : "");
    }
}

void gp_check_modules(const gp_check_ctx *ctx, gp_findings *out)
{
    gp_lint_ctx lctx = { .h = ctx->h, .kver = ctx->kver, .cpu = ctx->cpu, .pci = ctx->pci };
    gp_modules_env env;

    if (gp_modules_env_init(&lctx, NULL, &env) < 0) {
        gp_modules_env_done(&env);
        out->oom = true;
        return;
    }
    check_vfio_modules(ctx, &env, out);
    lint_one(ctx, &lctx, &env, "etc/modules", GP_FILE_MODULES_LOAD, out);
    lint_dir(ctx, &lctx, &env, "etc/modules-load.d", GP_FILE_MODULES_LOAD, out);
    lint_dir(ctx, &lctx, &env, "etc/modprobe.d", GP_FILE_MODPROBE, out);
    lint_one(ctx, &lctx, &env, "etc/initramfs-tools/modules", GP_FILE_INITRAMFS_MODULES, out);
    check_binding(ctx, &env, out);
    gp_modules_env_done(&env);
}
