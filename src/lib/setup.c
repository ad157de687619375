/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "fileio.h"
#include "iomem.h"
#include "modcfg.h"
#include "setup.h"
#include "shared/macro.h"

#define HEADER "# written by gpupass setup"
#define OVERRIDE_SCRIPT "usr/local/sbin/gpupass-vfio-override"
#define OVERRIDE_HOOK "etc/initramfs-tools/hooks/gpupass-vfio-override"

typedef struct setup {
    const gp_check_ctx *ctx;
    const gp_setup_opts *o;
    gp_plan *plan;
    gp_error *err;
    const gp_gpu *gpu;
    gp_idx_list bind;          /* PCI indexes to bind to vfio-pci */
    char **cmdline_add;        /* parameters setup puts on the command line */
    gp_modindex *index;
    bool vfio_builtin;
    gp_bind_method method;
} setup;

const char *gp_bind_method_to_string(gp_bind_method m)
{
    switch (m) {
    case GP_BIND_IDS:
        return "ids";
    case GP_BIND_PER_DEVICE:
        return "per-device";
    default:
        return "auto";
    }
}

/* ---- a file as lines, for edits that keep every other byte --------------- */

typedef struct lines {
    char **v;      /* each line without its '\n' */
    size_t n;
    bool final_nl; /* the text ended in '\n' (or was empty) */
} lines;

static void lines_done(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (lines){ 0 };
}

static int lines_split(const char *buf, size_t len, lines *ret)
{
    lines l = { .final_nl = true };

    for (size_t at = 0; at < len;) {
        const char *nl = memchr(buf + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
        char **v = realloc(l.v, (l.n + 1) * sizeof(*v));

        if (!v) {
            lines_done(&l);
            return -ENOMEM;
        }
        l.v = v;
        l.v[l.n] = strndup(buf + at, n);
        if (!l.v[l.n]) {
            lines_done(&l);
            return -ENOMEM;
        }
        l.n++;
        at += n + (nl ? 1 : 0);
        l.final_nl = nl != NULL;
    }
    *ret = l;
    return 0;
}

/* Replaces lines [from, to] (1-based) by text (NULL: deletes them). */
static int lines_replace(lines *l, size_t from, size_t to, const char *text)
{
    if (from < 1 || to > l->n || from > to)
        return -EINVAL;
    for (size_t i = from - 1; i < to; i++) {
        free(l->v[i]);
        l->v[i] = NULL;
    }
    if (text && !(l->v[from - 1] = strdup(text)))
        return -ENOMEM;
    /* close the gap */
    {
        size_t out = 0;

        for (size_t i = 0; i < l->n; i++)
            if (l->v[i] || (text && i == from - 1))
                l->v[out++] = l->v[i];
        l->n = out;
    }
    return 0;
}

static int lines_append(lines *l, const char *text)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

    if (!v)
        return -ENOMEM;
    l->v = v;
    if (!(l->v[l->n] = strdup(text)))
        return -ENOMEM;
    l->n++;
    l->final_nl = true;
    return 0;
}

static char *lines_join(const lines *l, size_t *ret_len)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);

    if (!f)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s%s", l->v[i], i + 1 < l->n || l->final_nl ? "\n" : "");
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    *ret_len = n;
    return out;
}

/* The current (or already planned) lines of a file; a missing file is empty. */
static int plan_lines(setup *s, const char *path, lines *ret, bool *exists)
{
    _cleanup_free_ char *owned = NULL;
    const char *buf;
    size_t len;
    int r = gp_plan_content(s->plan, s->ctx->h, path, &buf, &len, &owned);

    *exists = r >= 0;
    if (r == -ENOENT || r == -ENOTDIR) {
        *ret = (lines){ .final_nl = true };
        return 0;
    }
    if (r < 0)
        return r == -ENOMEM ? r : gp_error_set(s->err, r, "/%s: cannot read it (%s)", path, strerror(-r));
    if (memchr(buf, '\0', len))
        return gp_error_set(s->err, -ECANCELED, "/%s holds binary bytes; restore it before running setup again",
                            path);
    return lines_split(buf, len, ret);
}

static int plan_lines_set(setup *s, const char *path, const lines *l, mode_t mode, const char *why)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;

    buf = lines_join(l, &len);
    if (!buf)
        return -ENOMEM;
    return gp_plan_set_file(s->plan, s->ctx->h, path, buf, len, mode, why, s->err);
}

/* ---- interlocks ------------------------------------------------------------ */

static bool firmware_iommu(const gp_check_ctx *ctx)
{
    return gp_host_exists(ctx->h, "sys/firmware/acpi/tables/DMAR") ||
           gp_host_exists(ctx->h, "sys/firmware/acpi/tables/IVRS") ||
           /* a root without ACPI tables (a snapshot of an old tool): judge by the groups */
           (!gp_host_exists(ctx->h, "sys/firmware/acpi/tables") && ctx->pci->iommu_groups > 0);
}

static int list_devices(const setup *s, const gp_idx_list *l, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < l->n && used < len; i++) {
        const gp_pci_dev *d = &s->ctx->pci->devs[l->v[i]];

        used += (size_t)snprintf(buf + used, len - used, "%s%s (%s)", i ? ", " : "", d->name,
                                 d->driver ? d->driver : "no driver");
    }
    return 0;
}

static int interlocks(setup *s)
{
    const gp_gpu *g = s->gpu;
    char devs[1024];

    if (!firmware_iommu(s->ctx))
        return gp_error_set(s->err, -ECANCELED,
                            "the IOMMU is off in the firmware (no ACPI DMAR/IVRS table): no kernel parameter can "
                            "turn it on; enable %s in the firmware setup, reboot, and run setup again",
                            s->ctx->cpu == GP_CPU_AMD ? "IOMMU (AMD-Vi) and SVM" : "VT-d");
    if (g->host_critical.n > 0 && !s->o->force) {
        char why[1024] = "";
        size_t used = 0;

        for (size_t i = 0; i < g->host_critical.n && used < sizeof(why); i++) {
            int d = g->host_critical.v[i];

            used += (size_t)snprintf(why + used, sizeof(why) - used, "%s%s %s", i ? "; " : "",
                                     s->ctx->pci->devs[d].name, gp_hostcrit_reason(s->ctx->crit, d));
        }
        return gp_error_set(s->err, -ECANCELED,
                            "the IOMMU group of %s also holds what this host needs to stay up: %s. Binding the "
                            "group to vfio-pci would take that away at the next boot. Move the card to a slot "
                            "with its own group (gpupass list --all); --force does it anyway",
                            s->ctx->pci->devs[g->dev].name, why);
    }
    if (g->verdict == GP_VERDICT_SHARED && !s->o->allow_shared_group) {
        list_devices(s, &g->shared_with, devs, sizeof(devs));
        return gp_error_set(s->err, -ECANCELED,
                            "the IOMMU group of %s is shared with %s: all of them would go to the VM. Use a "
                            "slot with its own group, or --allow-shared-group to bind them all",
                            s->ctx->pci->devs[g->dev].name, devs);
    }
    return 0;
}

/* ---- what to bind, and how --------------------------------------------------- */

/* Another device with the vendor:device of one we bind: ids= would take it too. */
static int id_twin(const setup *s)
{
    const gp_pci_list *pci = s->ctx->pci;

    for (size_t i = 0; i < s->bind.n; i++) {
        const gp_pci_dev *d = &pci->devs[s->bind.v[i]];

        for (size_t j = 0; j < pci->n; j++)
            if (!gp_idx_list_contains(&s->bind, (int)j) && pci->devs[j].vendor_id == d->vendor_id &&
                pci->devs[j].device_id == d->device_id)
                return (int)j;
    }
    return -1;
}

static int choose(setup *s)
{
    const gp_gpu *g = s->gpu;
    int twin, r;

    for (size_t i = 0; i < g->functions.n; i++)
        if ((r = gp_idx_list_add(&s->bind, g->functions.v[i])) < 0)
            return r;
    if (g->verdict == GP_VERDICT_SHARED)
        for (size_t i = 0; i < g->shared_with.n; i++) {
            const gp_pci_dev *d = &s->ctx->pci->devs[g->shared_with.v[i]];

            if ((r = gp_idx_list_add(&s->bind, g->shared_with.v[i])) < 0)
                return r;
            if (gp_plan_add_note(s->plan, "%s (%s) is in the same IOMMU group and goes to vfio-pci too: the host "
                                 "loses it at the next boot", d->name, d->driver ? d->driver : "no driver") < 0)
                return -ENOMEM;
        }
    for (size_t i = 0; i < g->host_critical.n; i++)
        if (gp_plan_add_note(s->plan, "--force: %s %s; binding it to vfio-pci takes that away from the host",
                             s->ctx->pci->devs[g->host_critical.v[i]].name,
                             gp_hostcrit_reason(s->ctx->crit, g->host_critical.v[i])) < 0)
            return -ENOMEM;

    s->method = s->o->method;
    twin = id_twin(s);
    if (twin >= 0 && s->method != GP_BIND_PER_DEVICE) {
        const gp_pci_dev *t = &s->ctx->pci->devs[twin];

        /* ids= matches by vendor:device, so it would take the twin too. */
        if (gp_plan_add_note(s->plan, "%s has the same ID [%04x:%04x] as a device to bind: ids= would take it "
                             "too, so the binding is by address (per-device)%s", t->name, t->vendor_id,
                             t->device_id, s->o->method == GP_BIND_IDS ? " instead of the ids asked for" : "") < 0)
            return -ENOMEM;
        s->method = GP_BIND_PER_DEVICE;
    }
    if (s->method == GP_BIND_AUTO)
        s->method = GP_BIND_IDS;
    if (s->method == GP_BIND_PER_DEVICE && s->vfio_builtin)
        return gp_error_set(s->err, -ECANCELED,
                            "vfio-pci is built into this kernel, so the modprobe hook that binds by address never "
                            "runs; with two identical devices, bind at run time instead (gpupass bind)");
    return 0;
}

/* ---- kernel command line ------------------------------------------------------ */

static int plan_cmdline(setup *s)
{
    const gp_check_ctx *ctx = s->ctx;
    const gp_pci_dev *d = &ctx->pci->devs[s->gpu->dev];
    const char *add[8] = { 0 }, *remove[8] = { 0 }, *drop[8] = { 0 };
    size_t na = 0, nr = 0, nd = 0;
    _cleanup_free_ char *ids = NULL;
    char fb[64];
    int bar, r;

    /* Intel's driver is on by default from 6.8 (Proxmox VE docs); before,
     * it needs intel_iommu=on. AMD's is always on; amd_iommu=on is not a
     * value it knows. */
    if (ctx->cpu == GP_CPU_INTEL && !gp_kver_at_least(&ctx->kver, 6, 8) &&
        !gp_cmdline_has(ctx->cmdline, "intel_iommu", "on")) {
        add[na++] = "intel_iommu=on";
        remove[nr++] = "intel_iommu";
    }
    if (gp_cmdline_has(ctx->cmdline, "intel_iommu", "off") && gp_kver_at_least(&ctx->kver, 6, 8))
        remove[nr++] = "intel_iommu";
    if (gp_cmdline_has(ctx->cmdline, "amd_iommu", "on"))
        drop[nd++] = "amd_iommu=on";
    if (gp_cmdline_has(ctx->cmdline, "amd_iommu", "off") || gp_cmdline_has(ctx->cmdline, "iommu", "off"))
        remove[nr++] = gp_cmdline_has(ctx->cmdline, "iommu", "off") ? "iommu" : "amd_iommu";
    if (s->o->iommu_pt > 0)
        add[na++] = "iommu=pt";
    else if (s->o->iommu_pt < 0)
        drop[nd++] = "iommu=pt";
    if (d->boot_vga == 1 && gp_iomem_framebuffer_in(ctx->iomem, d, &bar, fb, sizeof(fb))) {
        /* From 5.15 sysfb owns the boot framebuffer; video=efifb:off no
         * longer frees the BAR and is dropped where it is. */
        if (!gp_kver_known(&ctx->kver) || gp_kver_at_least(&ctx->kver, 5, 15)) {
            add[na++] = "initcall_blacklist=sysfb_init";
            drop[nd++] = "video=efifb:off";
            drop[nd++] = "video=vesafb:off";
        } else {
            add[na++] = "video=efifb:off";
            add[na++] = "video=vesafb:off";
        }
        if (gp_plan_add_note(s->plan, "%s is the boot display and its framebuffer (%s) holds BAR %d: the host "
                             "console goes dark on it after the reboot", d->name, fb, bar) < 0)
            return -ENOMEM;
    }
    /* ids on the command line conflict with the binding set up here; a
     * built-in vfio-pci can only take them from there. */
    remove[nr++] = "vfio-pci.ids";
    if (s->vfio_builtin && s->method == GP_BIND_IDS) {
        FILE *f;
        size_t n = 0;

        f = open_memstream(&ids, &n);
        if (!f)
            return -ENOMEM;
        fputs("vfio-pci.ids=", f);
        for (size_t i = 0; i < s->bind.n; i++) {
            const gp_pci_dev *b = &ctx->pci->devs[s->bind.v[i]];
            bool dup = false;

            for (size_t k = 0; k < i; k++)
                dup |= ctx->pci->devs[s->bind.v[k]].vendor_id == b->vendor_id &&
                       ctx->pci->devs[s->bind.v[k]].device_id == b->device_id;
            if (!dup)
                fprintf(f, "%s%04x:%04x", i ? "," : "", b->vendor_id, b->device_id);
        }
        if (fclose(f) != 0)
            return -ENOMEM;
        add[na++] = ids;
    }
    gp_cmdline_edit e = { .add = add, .remove = remove, .drop = drop };
    r = gp_cmdline_plan(ctx->h, &ctx->boot, &e, s->plan, s->err);
    for (size_t i = 0; i < na && r >= 0; i++)
        if (gp_strv_append(&s->cmdline_add, NULL, add[i], strlen(add[i])) < 0)
            return -ENOMEM;
    if (r == -EINVAL || r == -ENOPKG)
        return -ECANCELED;
    return r < 0 ? r : 0;
}

/* ---- modules at boot and in the initramfs ---------------------------------------- */

/* The line where the file lists module name (in any spelling), through the
 * one parser of module lists (modcfg.c); 0 when it does not. modules-load.d
 * files also take ';' comments (modules-load.d(5)). */
static int modlist_line(const lines *l, const char *path, const char *name, size_t *ret_line)
{
    _cleanup_free_ char *buf = NULL;
    _cleanup_modlist_ gp_modlist *ml = NULL;
    size_t len = 0;
    int r;

    *ret_line = 0;
    buf = lines_join(l, &len);
    if (!buf)
        return -ENOMEM;
    r = gp_modlist_parse(buf, len, gp_startswith(path, "etc/modules-load.d/"), &ml);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ml->n; i++)
        if (gp_modname_eq(ml->v[i].name, name)) {
            *ret_line = ml->v[i].src->line;
            break;
        }
    return 0;
}

/* Every name of want listed once in the file, every name of unwanted gone. */
static int modlist_plan(setup *s, const char *path, const char *const *want, const char *const *unwanted,
                        const char *why)
{
    lines l;
    bool exists;
    int r = plan_lines(s, path, &l, &exists);
    size_t at;

    if (r < 0)
        return r;
    for (const char *const *u = unwanted; *u && r >= 0; u++)
        while ((r = modlist_line(&l, path, *u, &at)) >= 0 && at)
            if ((r = lines_replace(&l, at, at, NULL)) < 0)
                break;
    if (r >= 0 && !exists)
        r = lines_append(&l, HEADER ": vfio modules for GPU passthrough");
    for (const char *const *w = want; *w && r >= 0; w++)
        if ((r = modlist_line(&l, path, *w, &at)) >= 0 && !at)
            r = lines_append(&l, *w);
    if (r >= 0)
        r = plan_lines_set(s, path, &l, 0644, why);
    lines_done(&l);
    return r;
}

/* Whether the file lists any vfio module. */
static int modlist_has_vfio(const lines *l, const char *path)
{
    static const char *const vfio[] = { "vfio", "vfio_pci", "vfio_iommu_type1", "vfio_virqfd" };
    size_t at = 0;
    int r = 0;

    for (size_t i = 0; i < ELEMENTSOF(vfio) && r >= 0 && !at; i++)
        r = modlist_line(l, path, vfio[i], &at);
    return r < 0 ? r : at > 0;
}

static int plan_modules(setup *s)
{
    static const char *const update_initramfs[] = { "update-initramfs", "-u", "-k", "all", NULL };
    static const char *const dracut[] = { "dracut", "--regenerate-all", "--force", NULL };
    /* vfio_virqfd is part of vfio since 6.2 (drivers/vfio/Makefile); listing
     * it there only makes systemd-modules-load and the initramfs complain. */
    bool virqfd = gp_kver_known(&s->ctx->kver) && !gp_kver_at_least(&s->ctx->kver, 6, 2);
    const char *want[] = { "vfio", "vfio_iommu_type1", "vfio_pci", virqfd ? "vfio_virqfd" : NULL, NULL };
    const char *unwanted[] = { virqfd ? NULL : "vfio_virqfd", NULL };
    const char *boot_file = "etc/modules-load.d/vfio.conf";
    lines l = { 0 };
    bool exists;
    int r, ch = 0;

    /* Proxmox's guide lists them in /etc/modules: where that file already
     * names a vfio module it stays the one place; else a file of our own. */
    r = plan_lines(s, "etc/modules", &l, &exists);
    if (r < 0)
        return r;
    if (exists)
        r = modlist_has_vfio(&l, "etc/modules");
    lines_done(&l);
    if (r < 0)
        return r;
    if (r > 0)
        boot_file = "etc/modules";
    if (strcmp(boot_file, "etc/modules") != 0 && (r = modlist_plan(s, "etc/modules", (const char *const[]){ NULL },
                                                                   unwanted, "vfio modules loaded at boot")) < 0)
        return r;
    r = modlist_plan(s, boot_file, want, unwanted, "vfio modules loaded at boot");
    if (r < 0)
        return r;

    /* The initramfs loads them before the GPU driver gets a chance. */
    if (gp_host_exists(s->ctx->h, "etc/initramfs-tools")) {
        r = modlist_plan(s, "etc/initramfs-tools/modules", want, unwanted, "vfio modules in the initramfs");
        if (r < 0)
            return r;
        ch = r;
        if (gp_plan_add_cmd(s->plan, "rebuild the initramfs of every kernel with the new module settings",
                            update_initramfs) < 0)
            return -ENOMEM;
    } else if (gp_host_exists(s->ctx->h, "etc/dracut.conf.d")) {
        static const char conf[] = HEADER ": vfio modules in the initramfs\n"
                                   "force_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n";

        r = gp_plan_set_file(s->plan, s->ctx->h, "etc/dracut.conf.d/10-gpupass-vfio.conf", conf, sizeof(conf) - 1,
                             0644, "vfio modules in the initramfs (dracut)", s->err);
        if (r < 0)
            return r;
        ch = r;
        if (gp_plan_add_cmd(s->plan, "rebuild every initramfs with dracut", dracut) < 0)
            return -ENOMEM;
    } else if (gp_plan_add_note(s->plan, "no initramfs-tools or dracut configuration found: make sure your "
                                "initramfs loads vfio, vfio_iommu_type1 and vfio_pci") < 0)
        return -ENOMEM;
    return ch;
}

/* ---- binding ------------------------------------------------------------------------ */

static bool is_vfio_pci(const char *m)
{
    return m && gp_modname_eq(m, "vfio_pci");
}

typedef struct modprobe_scan {
    const char *line;          /* the binding line we want (ids= or install) */
    char **ordered;            /* drivers already blacklisted or softdep'ed before vfio-pci */
    size_t n_ordered;
    char *placed;              /* the file where the first old binding line now says ours */
} modprobe_scan;

static void scan_done(modprobe_scan *m)
{
    gp_strv_free(m->ordered);
    free(m->placed);
}

/* The first statement of a file that binds vfio-pci the way we want to. */
static int first_binding(const setup *s, const gp_modprobe_file *mf, size_t *ret)
{
    for (size_t i = 0; i < mf->n; i++) {
        const gp_modprobe_stmt *st = &mf->v[i];
        bool oom = false;
        _cleanup_free_ char *ids = NULL;

        if (!is_vfio_pci(st->module))
            continue;
        if (s->method == GP_BIND_IDS && st->cmd == GP_MODPROBE_OPTIONS) {
            ids = gp_modprobe_option(st, "ids", &oom);
            if (ids) {
                *ret = i;
                return 0;
            }
        }
        if (s->method == GP_BIND_PER_DEVICE && st->cmd == GP_MODPROBE_INSTALL) {
            *ret = i;
            return 0;
        }
        if (oom)
            return -ENOMEM;
    }
    *ret = SIZE_MAX;
    return 0;
}

/* An "options vfio-pci ... ids=..." statement without its ids= (NULL when
 * nothing else is left), or with ours in its place (line set). */
static int options_without_ids(const gp_modprobe_stmt *st, const char *line, char **ret)
{
    size_t n = 0, kept = 0;
    FILE *f = open_memstream(ret, &n);

    if (!f)
        return -ENOMEM;
    fputs(line ? line : "options vfio-pci", f);
    for (size_t w = 2; w < st->n_words; w++)
        if (strncmp(st->words[w], "ids=", 4) != 0) {
            fprintf(f, " %s", st->words[w]);
            kept++;
        }
    if (fclose(f) != 0)
        return -ENOMEM;
    if (!kept && !line) {
        free(*ret);
        *ret = NULL;
    }
    return 0;
}

/*
 * Rewrites the modprobe.d files so that one binding line is left, ours: the
 * first "options vfio-pci ids=" (ids method) or "install vfio-pci" (by
 * address) becomes m->line in place, keeping its other options; every other
 * one goes (an ids= left over would take the host's twin card). Records what
 * already orders the native drivers after vfio-pci.
 */
static int modprobe_clean(setup *s, modprobe_scan *m)
{
    _cleanup_strv_ char **names = NULL;
    int r = gp_host_list_dir(s->ctx->h, "etc/modprobe.d", &names, NULL);

    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r == -ENOMEM ? r : gp_error_set(s->err, r, "/etc/modprobe.d: %s", strerror(-r));
    for (char **n = names; *n; n++) {
        _cleanup_free_ char *path = NULL, *owned = NULL;
        _cleanup_modprobe_file_ gp_modprobe_file *mf = NULL;
        const char *buf;
        size_t len, first = SIZE_MAX;
        lines l;
        bool exists;

        if (!gp_endswith(*n, ".conf") || asprintf(&path, "etc/modprobe.d/%s", *n) < 0)
            continue;
        r = gp_plan_content(s->plan, s->ctx->h, path, &buf, &len, &owned);
        if (r < 0 || memchr(buf, '\0', len))
            continue;
        r = gp_modprobe_parse(buf, len, &mf);
        if (r >= 0 && !m->placed)
            r = first_binding(s, mf, &first);
        if (r >= 0)
            r = plan_lines(s, path, &l, &exists);
        if (r < 0)
            return r;
        /* bottom up, so that line numbers stay right */
        for (size_t i = mf->n; i-- > 0 && r >= 0;) {
            const gp_modprobe_stmt *st = &mf->v[i];
            bool oom = false;
            _cleanup_free_ char *ids = NULL, *rest = NULL;

            if (st->cmd == GP_MODPROBE_BLACKLIST && st->module)
                r = gp_strv_append(&m->ordered, &m->n_ordered, st->module, strlen(st->module));
            else if (st->cmd == GP_MODPROBE_SOFTDEP && st->module)
                for (size_t k = 0; k < st->n_pre && r >= 0; k++)
                    if (is_vfio_pci(st->pre[k]))
                        r = gp_strv_append(&m->ordered, &m->n_ordered, st->module, strlen(st->module));
            if (r < 0 || !is_vfio_pci(st->module))
                continue;
            if (st->cmd == GP_MODPROBE_INSTALL) {
                r = lines_replace(&l, st->src->line, st->src->last, i == first ? m->line : NULL);
                continue;
            }
            if (st->cmd == GP_MODPROBE_OPTIONS)
                ids = gp_modprobe_option(st, "ids", &oom);
            if (!ids) {
                r = oom ? -ENOMEM : 0;
                continue;
            }
            r = options_without_ids(st, i == first ? m->line : NULL, &rest);
            if (r >= 0)
                r = lines_replace(&l, st->src->line, st->src->last, rest);
        }
        if (r >= 0 && first != SIZE_MAX && !(m->placed = strdup(path)))
            r = -ENOMEM;
        if (r >= 0)
            r = plan_lines_set(s, path, &l, 0644, "vfio-pci binding");
        lines_done(&l);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool ordered(const modprobe_scan *m, const char *drv)
{
    for (size_t i = 0; i < m->n_ordered; i++)
        if (gp_modname_eq(m->ordered[i], drv))
            return true;
    return false;
}

static int add_softdeps(setup *s, const modprobe_scan *m, lines *l)
{
    _cleanup_strv_ char **done = NULL;
    size_t n_done = 0;

    for (size_t i = 0; i < s->bind.n; i++) {
        const char *drv[2];

        gp_pci_native_drivers(&s->ctx->pci->devs[s->bind.v[i]], drv);
        for (int k = 0; k < 2; k++) {
            char line[128];
            bool seen = false;

            if (!drv[k] || ordered(m, drv[k]))
                continue;
            for (size_t j = 0; j < n_done; j++)
                seen |= strcmp(done[j], drv[k]) == 0;
            if (seen)
                continue;
            /* modprobe loads vfio-pci first whenever it loads the driver */
            snprintf(line, sizeof(line), "softdep %s pre: vfio-pci", drv[k]);
            if (gp_strv_append(&done, &n_done, drv[k], strlen(drv[k])) < 0 || lines_append(l, line) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* The binding line where an old one stood, else in /etc/modprobe.d/vfio.conf,
 * with the softdeps the native drivers still need next to it. */
static int binding_file(setup *s, const modprobe_scan *m, const char *header, const char *why)
{
    const char *path = m->placed ? m->placed : "etc/modprobe.d/vfio.conf";
    lines l;
    bool exists;
    int r = plan_lines(s, path, &l, &exists);

    if (r < 0)
        return r;
    if (!exists) {
        char h[160];

        snprintf(h, sizeof(h), HEADER ": %s", header);
        r = lines_append(&l, h);
    }
    if (r >= 0 && !m->placed)
        r = lines_append(&l, m->line);
    if (r >= 0)
        r = add_softdeps(s, m, &l);
    if (r >= 0)
        r = plan_lines_set(s, path, &l, 0644, why);
    lines_done(&l);
    return r;
}

static const char override_hook[] =
    "#!/bin/sh\n"
    HEADER ": puts gpupass-vfio-override into the initramfs, where modprobe\n"
    "# runs it (install line in /etc/modprobe.d) before vfio-pci loads.\n"
    "PREREQ=\"\"\n"
    "prereqs() { echo \"$PREREQ\"; }\n"
    "case \"$1\" in\n"
    "prereqs) prereqs; exit 0 ;;\n"
    "esac\n"
    ". /usr/share/initramfs-tools/hook-functions\n"
    "copy_file script /" OVERRIDE_SCRIPT "\n";

/*
 * Per-device binding. ids= cannot tell two cards with one ID apart, so the
 * addresses are claimed instead: modprobe runs our install command whenever
 * vfio-pci is loaded, which writes "vfio-pci" into each address's
 * driver_override before loading the module; the softdeps make modprobe
 * load vfio-pci before any GPU or audio driver, in the initramfs as at boot,
 * so no other driver can bind these addresses first. (A udev rule would
 * race: the driver loaded for one card binds its twin before the twin's own
 * event sets the override.)
 */
static int plan_per_device(setup *s, const modprobe_scan *m)
{
    _cleanup_free_ char *script = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&script, &len);
    int r;

    if (!f)
        return -ENOMEM;
    fputs("#!/bin/sh\n" HEADER ": gives these addresses to vfio-pci, and only these\n"
          "# (another device has the same vendor:device ID, so ids= cannot be used).\n"
          "# modprobe runs this instead of loading vfio-pci (install line in /etc/modprobe.d).\n"
          "for dev in", f);
    for (size_t i = 0; i < s->bind.n; i++)
        fprintf(f, " %s", s->ctx->pci->devs[s->bind.v[i]].name);
    fputs("; do\n"
          "    if [ -e \"/sys/bus/pci/devices/$dev/driver_override\" ]; then\n"
          "        echo vfio-pci > \"/sys/bus/pci/devices/$dev/driver_override\"\n"
          "    fi\n"
          "done\n"
          "exec /sbin/modprobe --ignore-install vfio-pci \"$@\"\n", f);
    if (fclose(f) != 0)
        return -ENOMEM;
    r = gp_plan_set_file(s->plan, s->ctx->h, OVERRIDE_SCRIPT, script, len, 0755,
                         "claims the GPU's addresses for vfio-pci", s->err);
    if (r >= 0 && gp_host_exists(s->ctx->h, "etc/initramfs-tools"))
        r = gp_plan_set_file(s->plan, s->ctx->h, OVERRIDE_HOOK, override_hook, sizeof(override_hook) - 1, 0755,
                             "the override script in the initramfs", s->err);
    if (r < 0)
        return r;
    return binding_file(s, m, "vfio-pci takes these addresses at boot", "vfio-pci binding by address");
}

/* "options vfio-pci ids=V:D,..." for what we bind, each ID once. */
static int ids_line(const setup *s, char **ret)
{
    size_t len = 0;
    FILE *f = open_memstream(ret, &len);

    if (!f)
        return -ENOMEM;
    fputs("options vfio-pci ids=", f);
    for (size_t i = 0, n = 0; i < s->bind.n; i++) {
        const gp_pci_dev *d = &s->ctx->pci->devs[s->bind.v[i]];
        bool dup = false;

        for (size_t k = 0; k < i; k++)
            dup |= s->ctx->pci->devs[s->bind.v[k]].vendor_id == d->vendor_id &&
                   s->ctx->pci->devs[s->bind.v[k]].device_id == d->device_id;
        if (!dup)
            fprintf(f, "%s%04x:%04x", n++ ? "," : "", d->vendor_id, d->device_id);
    }
    return fclose(f) == 0 ? 0 : -ENOMEM;
}

static int plan_binding(setup *s)
{
    _cleanup_free_ char *ids = NULL;
    modprobe_scan m = { .line = "install vfio-pci /" OVERRIDE_SCRIPT " $CMDLINE_OPTS" };
    int r;

    if (s->method == GP_BIND_IDS) {
        if (s->vfio_builtin)
            return 0;   /* on the kernel command line instead (plan_cmdline) */
        if (ids_line(s, &ids) < 0)
            return -ENOMEM;
        m.line = ids;
    }
    r = modprobe_clean(s, &m);
    if (r >= 0)
        r = s->method == GP_BIND_PER_DEVICE ? plan_per_device(s, &m)
                                            : binding_file(s, &m, "vfio-pci takes the GPU's functions at boot",
                                                           "vfio-pci binding by ID");
    scan_done(&m);
    return r;
}

/* ---- intent, for check after the reboot ------------------------------------------------- */

static int plan_intent(setup *s)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return -ENOMEM;
    fprintf(f, HEADER ": what it set up, for gpupass check\ngpu %s\nmethod %s\n",
            s->ctx->pci->devs[s->gpu->dev].name, gp_bind_method_to_string(s->method));
    for (size_t i = 0; i < s->bind.n; i++)
        fprintf(f, "bind %s\n", s->ctx->pci->devs[s->bind.v[i]].name);
    for (char **c = s->cmdline_add; c && *c; c++)
        fprintf(f, "cmdline %s\n", *c);
    if (fclose(f) != 0)
        return -ENOMEM;
    return gp_plan_set_file(s->plan, s->ctx->h, GP_SETUP_INTENT, buf, len, 0644, "what setup intends", s->err);
}

int gp_setup_plan(const gp_check_ctx *ctx, const gp_setup_opts *o, gp_plan *plan, gp_bind_method *ret_method,
                  gp_error *err)
{
    setup s = { .ctx = ctx, .o = o, .plan = plan, .err = err };
    int r;

    if (!ctx->gpus || o->gpu < 0 || (size_t)o->gpu >= ctx->gpus->n)
        return gp_error_set(err, -EINVAL, "no such GPU");
    s.gpu = &ctx->gpus->gpus[o->gpu];
    (void)gp_modindex_read(ctx->h, ctx->kver.release, &s.index);
    s.vfio_builtin = s.index && gp_modindex_lookup(s.index, "vfio_pci") == GP_MOD_BUILTIN;

    r = interlocks(&s);
    if (r >= 0)
        r = choose(&s);
    if (r >= 0)
        r = plan_cmdline(&s);
    if (r >= 0)
        r = plan_modules(&s);
    if (r >= 0)
        r = plan_binding(&s);
    if (r >= 0 && !gp_plan_is_empty(plan))
        r = plan_intent(&s);
    if (r >= 0 && ret_method)
        *ret_method = s.method;
    free(s.bind.v);
    gp_strv_free(s.cmdline_add);
    if (s.index)
        gp_modindex_free(s.index);
    if (r == -EINVAL && err->code == -EINVAL)
        r = -ECANCELED;
    return r < 0 ? r : 0;
}
