/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The signature table of `gpupass doctor` and the fix builders behind it.
 *
 * Each needle is text the kernel, QEMU, qemu-server, systemd, LXC or a
 * guest driver really prints (the source is named next to the entry); the
 * fix functions read only the host's facts from the check context, so the
 * same line gets the fix that fits this kernel, boot loader, CPU vendor,
 * boot display and reset method.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "fileio.h"
#include "iomem.h"
#include "logsig.h"
#include "modcfg.h"
#include "pciaddr.h"
#include "pvect.h"
#include "pveguest.h"
#include "quirks.h"
#include "shared/macro.h"

#define SYSFS_DEV "/sys/bus/pci/devices/"

/* ---- text of a fix -------------------------------------------------------- */

typedef struct fixtext {
    FILE *f;
    char *buf;
    size_t len;
    bool oom;
} fixtext;

static int fix_begin(fixtext *t)
{
    *t = (fixtext){ 0 };
    t->f = open_memstream(&t->buf, &t->len);
    return t->f ? 0 : -ENOMEM;
}

static void put(fixtext *t, const char *fmt, ...) _printf_(2, 3);
static void put(fixtext *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vfprintf(t->f, fmt, ap) < 0)
        t->oom = true;
    va_end(ap);
}

/* Hands the text out (NULL when nothing was written); -ENOMEM when any
 * write or a helper's allocation failed. */
static int fix_end(fixtext *t, char **ret)
{
    bool bad = t->oom || ferror(t->f);

    if (fclose(t->f) != 0)
        bad = true;
    t->f = NULL;
    if (bad) {
        free(t->buf);
        *ret = NULL;
        return -ENOMEM;
    }
    while (t->len > 0 && t->buf[t->len - 1] == '\n')
        t->buf[--t->len] = '\0';
    if (t->len == 0) {
        free(t->buf);
        t->buf = NULL;
    }
    *ret = t->buf;
    return 0;
}

/* The edit of the command line in the file this host's boot loader reads
 * (GRUB: /etc/default/grub + update-grub; systemd-boot on ZFS/UEFI PVE:
 * /etc/kernel/cmdline + proxmox-boot-tool refresh), or both when unknown. */
static void put_cmdline_edit(fixtext *t, const gp_check_ctx *ctx, const gp_cmdline_edit *e)
{
    _cleanup_free_ char *s = ctx->h ? gp_cmdline_fix_edit(ctx->h, &ctx->boot, e) : gp_cmdline_generic_fix(NULL, e);

    if (!s)
        t->oom = true;
    else
        put(t, "%s\n", s);
}

static void put_cmdline_add(fixtext *t, const gp_check_ctx *ctx, const char *const *add)
{
    gp_cmdline_edit e = { .add = add };

    put_cmdline_edit(t, ctx, &e);
}

/* ---- facts ----------------------------------------------------------------- */

static bool kver_before(const gp_kver *v, unsigned major, unsigned minor)
{
    return gp_kver_known(v) && !gp_kver_at_least(v, major, minor);
}

static const char *kver_name(const gp_kver *v)
{
    return v->release[0] ? v->release : "unknown";
}

static const char *drv_name(const gp_pci_dev *d)
{
    return d->driver ? d->driver : "no driver";
}

static bool on_vfio(const gp_pci_dev *d)
{
    return d->driver && strcmp(d->driver, "vfio-pci") == 0;
}

static bool is_nvidia(const gp_pci_dev *d)
{
    return d->vendor_id == 0x10de;
}

static int dev_index(const gp_check_ctx *ctx, const gp_pci_dev *d)
{
    return (int)(d - ctx->pci->devs);
}

/* A PCI address in free text: "0000:01:00.0", or "01:00.0" as DMAR fault
 * records and old AMD-Vi events print it ("Request device [01:00.0]",
 * "device=0a:00.0"). */
static const gp_pci_dev *dev_in_text(const gp_check_ctx *ctx, const char *s)
{
    for (const char *p = s; p && *p; p++) {
        char buf[GP_PCI_ADDR_MAX];
        size_t n = 0;
        gp_pci_addr a;
        int i;

        if (!isxdigit((unsigned char)*p) || (p > s && (isxdigit((unsigned char)p[-1]) || p[-1] == ':')))
            continue;
        while (n < sizeof(buf) - 1 && (isxdigit((unsigned char)p[n]) || p[n] == ':' || p[n] == '.'))
            n++;
        while (n > 0 && (p[n - 1] == ':' || p[n - 1] == '.'))
            n--;
        memcpy(buf, p, n);
        buf[n] = '\0';
        /* only the bus:slot.func forms, never "0x1c9" or a time stamp */
        if (!strchr(buf, ':') || !strchr(buf, '.') || gp_pci_addr_parse(buf, &a, NULL) < 0)
            continue;
        i = gp_pci_list_find(ctx->pci, &a);
        if (i >= 0)
            return &ctx->pci->devs[i];
    }
    return NULL;
}

/* The device a hit is about: its address, else one in the line, else the
 * first non-bridge member of its group (a GPU if there is one). */
static const gp_pci_dev *hit_dev(const gp_check_ctx *ctx, const gp_loghit *hit)
{
    const gp_pci_dev *best = NULL;
    gp_pci_addr a;

    if (!ctx->pci || !hit)
        return NULL;
    if (hit->device && gp_pci_addr_parse(hit->device, &a, NULL) == 0) {
        int i = gp_pci_list_find(ctx->pci, &a);

        if (i >= 0)
            return &ctx->pci->devs[i];
    }
    if (hit->first && hit->first->text) {
        const gp_pci_dev *d = dev_in_text(ctx, hit->first->text);

        if (d)
            return d;
    }
    if (hit->group < 0)
        return NULL;
    assert(ctx->pci->n == 0 || ctx->pci->devs); /* a gp_pci_list with devices has its array */
    for (size_t i = 0; i < ctx->pci->n; i++) {
        const gp_pci_dev *d = &ctx->pci->devs[i];

        if (d->iommu_group != hit->group || gp_pci_is_bridge(d))
            continue;
        if (gp_pci_is_gpu(d))
            return d;
        if (!best)
            best = d;
    }
    return best;
}

static const gp_gpu *gpu_of(const gp_check_ctx *ctx, const gp_pci_dev *d)
{
    if (!ctx->gpus || !ctx->pci || !d)
        return NULL;
    for (size_t i = 0; i < ctx->gpus->n; i++)
        if (gp_idx_list_contains(&ctx->gpus->gpus[i].functions, dev_index(ctx, d)))
            return &ctx->gpus->gpus[i];
    return NULL;
}

/* The VM config (and its hostpci entry) that takes device d. */
static const gp_pve_vm *vm_of(const gp_check_ctx *ctx, const gp_pci_dev *d, const gp_pve_hostpci **ret_entry)
{
    for (size_t v = 0; d && v < ctx->vms.n; v++)
        for (size_t e = 0; e < ctx->vms.v[v].n_hostpci; e++)
            if (gp_pve_hostpci_matches(&ctx->vms.v[v].hostpci[e], d->name)) {
                if (ret_entry)
                    *ret_entry = &ctx->vms.v[v].hostpci[e];
                return &ctx->vms.v[v];
            }
    return NULL;
}

/* Meant for a guest: on vfio-pci, or named in a VM config. */
static bool dev_intended(const gp_check_ctx *ctx, const gp_pci_dev *d)
{
    const gp_gpu *g = gpu_of(ctx, d);

    if (on_vfio(d) || vm_of(ctx, d, NULL))
        return true;
    for (size_t i = 0; g && i < g->functions.n; i++)
        if (on_vfio(&ctx->pci->devs[g->functions.v[i]]))
            return true;
    return false;
}

/* "Y"/"1" in a bool module parameter. */
static bool module_param_on(const gp_check_ctx *ctx, const char *path)
{
    _cleanup_free_ char *v = NULL;

    return ctx->h && gp_host_read_attr(ctx->h, path, &v) >= 0 && (v[0] == 'Y' || v[0] == '1');
}

/* Every video= option counts (fb_get_options() looks at each one), so
 * video= is matched as a word, not as the last value of its name. */
static bool cmdline_word(const char *cmdline, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = cmdline; p && (p = strstr(p, word)); p += n)
        if ((p == cmdline || isspace((unsigned char)p[-1])) && (p[n] == '\0' || isspace((unsigned char)p[n])))
            return true;
    return false;
}

static bool kmsg_has(const gp_check_ctx *ctx, const char *needle)
{
    return ctx->kmsg && strstr(ctx->kmsg, needle);
}

/* A line of a configuration file that mentions a word outside comments. */
typedef struct file_line {
    char file[128];
    unsigned line;
    char text[160];
} file_line;

#define MAX_FILE_LINES 16

/* Appends to out[] each line of the host file `path` where `word` occurs
 * before any '#'. A missing or unreadable file adds nothing. */
static int grep_file(const gp_host *h, const char *path, const char *word, file_line *out, size_t *n)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    unsigned no = 0;
    int r;

    r = gp_host_read_file(h, path, 1u << 20, &buf, &len);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0;
    for (char *p = buf; p && *p && *n < MAX_FILE_LINES; no++) {
        char *nl = strchr(p, '\n'), *hash;
        size_t l;

        if (nl)
            *nl = '\0';
        l = strlen(p);
        if (l && p[l - 1] == '\r')
            p[--l] = '\0';
        hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        if (strstr(p, word)) {
            if (hash)
                *hash = '#';
            snprintf(out[*n].file, sizeof(out[*n].file), "/%s", path);
            out[*n].line = no + 1;
            snprintf(out[*n].text, sizeof(out[*n].text), "%s", p);
            (*n)++;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* The same over every "*<suffix>" file of a host directory. */
static int grep_dir(const gp_host *h, const char *dir, const char *suffix, const char *word, file_line *out,
                    size_t *n)
{
    _cleanup_strv_ char **names = NULL;
    size_t count = 0;
    int r;

    r = gp_host_list_dir(h, dir, &names, &count);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return 0;
    for (size_t i = 0; i < count; i++) {
        _cleanup_free_ char *path = NULL;

        if (!gp_endswith(names[i], suffix))
            continue;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
            return -ENOMEM;
        r = grep_file(h, path, word, out, n);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Other GPUs of the host that could be the firmware's primary display. */
static const gp_pci_dev *other_display(const gp_check_ctx *ctx, const gp_pci_dev *d)
{
    const gp_gpu *mine = gpu_of(ctx, d);

    for (size_t i = 0; ctx->gpus && i < ctx->gpus->n; i++) {
        const gp_gpu *g = &ctx->gpus->gpus[i];
        const gp_pci_dev *o = &ctx->pci->devs[g->dev];

        if (g != mine && !o->is_vf && gp_pci_class16(o) == 0x0300)
            return o;
    }
    return NULL;
}

/* ---- F1: IOMMU not active ------------------------------------------------ */

static int fix_iommu_off(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    bool intel = ctx->cpu == GP_CPU_INTEL, amd = ctx->cpu == GP_CPU_AMD;
    const char *table = intel ? "sys/firmware/acpi/tables/DMAR" : amd ? "sys/firmware/acpi/tables/IVRS" : NULL;
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* vfio_pci_probe() refuses anything but a type 0 header with -EINVAL,
     * the same error as a device without an IOMMU group. */
    if (d && gp_pci_is_bridge(d)) {
        put(&t, "%s is a bridge: vfio-pci takes only endpoints; give the VM the devices behind it instead\n",
            d->name);
        return fix_end(&t, ret);
    }
    if (ctx->pci && ctx->pci->iommu_groups > 0) {
        put(&t, "this host has %d IOMMU groups now", ctx->pci->iommu_groups);
        if (d && d->iommu_group >= 0)
            put(&t, " (%s is in group %d)", d->name, d->iommu_group);
        put(&t, ": the line comes from a boot without the IOMMU; if it happens again, the change that "
                "turned it on did not persist: `gpupass check` compares the boot files with /proc/cmdline\n");
        return fix_end(&t, ret);
    }
    if (ctx->cpu_hypervisor) {
        put(&t, "this host is itself a virtual machine: its hypervisor must give it a virtual IOMMU with "
                "interrupt remapping (QEMU: -machine q35,kernel-irqchip=split -device "
                "intel-iommu,intremap=on,caching-mode=on)\n");
        return fix_end(&t, ret);
    }
    if (table && ctx->h && !gp_host_exists(ctx->h, table)) {
        /* Without the ACPI table no kernel parameter can turn it on. */
        if (intel)
            put(&t, "the firmware publishes no DMAR table: enable \"VT-d\" (Intel Virtualization Technology "
                    "for Directed I/O) in the firmware setup, then reboot\n");
        else
            put(&t, "the firmware publishes no IVRS table: enable \"IOMMU\" (AMD CBS / NBIO menu, besides "
                    "SVM) in the firmware setup, then reboot\n");
    } else if (!table) {
        put(&t, "enable the IOMMU in the firmware setup (Intel: VT-d; AMD: IOMMU and SVM), then reboot\n");
    }
    if (intel) {
        const char *rm[] = { "intel_iommu", NULL };
        const char *on[] = { "intel_iommu=on", NULL };
        bool off = gp_cmdline_has(ctx->cmdline, "intel_iommu", "off");
        /* CONFIG_INTEL_IOMMU_DEFAULT_ON: the Proxmox 6.8 kernel turns VT-d
         * on by itself; older kernels need intel_iommu=on. */
        bool need_on = kver_before(&ctx->kver, 6, 8) && !gp_cmdline_has(ctx->cmdline, "intel_iommu", "on");
        gp_cmdline_edit e = { .remove = off ? rm : NULL, .add = need_on ? on : NULL };

        if (off)
            put(&t, "the kernel runs with intel_iommu=off%s:\n",
                need_on ? ", and before 6.8 VT-d also needs intel_iommu=on" : "");
        else if (need_on)
            put(&t, "kernel %s is older than 6.8: VT-d stays off without intel_iommu=on:\n", kver_name(&ctx->kver));
        if (off || need_on)
            put_cmdline_edit(&t, ctx, &e);
    } else if (amd) {
        const char *rm[] = { "amd_iommu", NULL };
        gp_cmdline_edit e = { .remove = rm };

        /* amd_iommu=on is no valid value ("AMD-Vi: Unknown option"); the
         * AMD IOMMU is on whenever the firmware enables it, unless =off. */
        if (gp_cmdline_has(ctx->cmdline, "amd_iommu", "off")) {
            put(&t, "the kernel runs with amd_iommu=off:\n");
            put_cmdline_edit(&t, ctx, &e);
        }
    }
    if (gp_cmdline_has(ctx->cmdline, "iommu", "off")) {
        const char *rm[] = { "iommu", NULL };
        gp_cmdline_edit e = { .remove = rm };

        put(&t, "iommu=off on the command line turns every IOMMU off:\n");
        put_cmdline_edit(&t, ctx, &e);
    }
    put(&t, "after the reboot, `gpupass check` shows the IOMMU groups\n");
    return fix_end(&t, ret);
}

/* "AMD-Vi: Unknown option - 'on'": amd_iommu takes off, force_isolation,
 * fullflush, pgtbl_v1/v2, irtcachedis..., never "on"; the value is ignored. */
static int fix_amd_iommu_on(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const char *rm[] = { "amd_iommu", NULL };
    gp_cmdline_edit e = { .remove = rm };
    fixtext t;
    int r;

    if (!gp_cmdline_has(ctx->cmdline, "amd_iommu", "on")) {
        *ret = NULL;
        return 0;
    }
    r = fix_begin(&t);
    if (r < 0)
        return r;
    put(&t, "harmless, but remove it (the AMD IOMMU is on whenever the firmware enables it):\n");
    put_cmdline_edit(&t, ctx, &e);
    return fix_end(&t, ret);
}

/* ---- F2: command line edited where this boot loader does not read it ------ */

/* GRUB_CMDLINE_* words /etc/kernel/cmdline lacks: what someone put in the
 * GRUB file on a host that systemd-boot starts. */
static int grub_only_params(const gp_check_ctx *ctx, char ***ret, size_t *ret_n)
{
    _cleanup_free_ char *kbuf = NULL;
    gp_grub g = { 0 };
    gp_cmdline grub = { 0 }, kern = { 0 };
    size_t klen = 0;
    int r;

    *ret = NULL;
    *ret_n = 0;
    r = gp_grub_load(ctx->h, &g);
    if (r < 0)
        goto out;
    r = gp_grub_cmdline(&g, &grub);
    if (r < 0)
        goto out;
    r = gp_host_read_file(ctx->h, "etc/kernel/cmdline", 64 * 1024, &kbuf, &klen);
    if (r == -ENOMEM)
        goto out;
    if (r >= 0) {
        r = gp_cmdline_split(&kern, kbuf, strcspn(kbuf, "\n"));
        if (r < 0)
            goto out;
    } else if (ctx->cmdline) {
        r = gp_cmdline_split(&kern, ctx->cmdline, strlen(ctx->cmdline));
        if (r < 0)
            goto out;
    }
    r = 0;
    for (size_t i = 0; i < grub.n; i++) {
        const gp_cmdline_param *p = &grub.v[i], *k = gp_cmdline_get(&kern, p->name);

        if (k && gp_cmdline_param_eq(p, k))
            continue;
        r = gp_strv_append(ret, ret_n, p->raw, strlen(p->raw));
        if (r < 0)
            break;
    }
out:
    gp_cmdline_done(&grub);
    gp_cmdline_done(&kern);
    gp_grub_done(&g);
    if (r == -ENOMEM) {
        gp_strv_free(*ret);
        *ret = NULL;
        return r;
    }
    return 0;
}

static int fix_kernel_cmdline_missing(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    _cleanup_strv_ char **only = NULL;
    size_t n_only = 0;
    fixtext t;
    int r;

    if (ctx->boot.loader == GP_BOOT_GRUB) {
        /* proxmox-boot-tool in GRUB mode (legacy BIOS) copies kernels to
         * the ESPs; GRUB itself still reads /etc/default/grub. */
        r = fix_begin(&t);
        if (r < 0)
            return r;
        put(&t, "nothing to do on this host: GRUB boots it and reads the command line from /etc/default/grub "
                "(then update-grub); /etc/kernel/cmdline matters only to systemd-boot\n");
        return fix_end(&t, ret);
    }
    if (ctx->h) {
        r = grub_only_params(ctx, &only, &n_only);
        if (r < 0)
            return r;
    }
    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (ctx->boot.loader == GP_BOOT_SYSTEMD_BOOT)
        put(&t, "systemd-boot starts this host: proxmox-boot-tool takes the command line from /etc/kernel/cmdline, "
                "and a change in /etc/default/grub never reaches the kernel\n");
    else
        put(&t, "if systemd-boot starts this host (ZFS root on UEFI), the command line lives in "
                "/etc/kernel/cmdline, not /etc/default/grub\n");
    if (n_only > 0) {
        put(&t, "/etc/default/grub has what the kernel does not get:");
        for (size_t i = 0; i < n_only; i++)
            put(&t, " %s", only[i]);
        put(&t, "\n");
        put_cmdline_add(&t, ctx, (const char *const *)only);
    } else if (ctx->h && !gp_host_exists(ctx->h, "etc/kernel/cmdline")) {
        put(&t, "create /etc/kernel/cmdline from the running command line (one line, without BOOT_IMAGE= and "
                "initrd=), add the parameters there, then run: proxmox-boot-tool refresh && reboot\n");
    } else {
        put(&t, "/etc/kernel/cmdline exists now: put kernel parameters there, then run: proxmox-boot-tool "
                "refresh && reboot\n");
    }
    return fix_end(&t, ret);
}

/* init/main.c print_unknown_bootoptions(): the words no kernel code
 * claimed, in one quoted list; they go to init, which ignores them. */
static int fix_unknown_params(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const char *text = hit && hit->first ? hit->first->text : NULL;
    const char *q = text ? strchr(text, '"') : NULL, *end;
    _cleanup_free_ char *list = NULL;
    fixtext t;
    bool any = false;
    int r;

    *ret = NULL;
    if (!q || !(end = strchr(q + 1, '"')))
        return 0;
    list = strndup(q + 1, (size_t)(end - q - 1));
    if (!list)
        return -ENOMEM;
    r = fix_begin(&t);
    if (r < 0)
        return r;
    for (char *save = NULL, *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        _cleanup_free_ char *name = strndup(w, strcspn(w, "=")), *fixed = NULL;
        const char *typo;

        if (!name) {
            t.oom = true;
            break;
        }
        /* GRUB adds BOOT_IMAGE= for init's sake; it is always "unknown". */
        if (strcmp(name, "BOOT_IMAGE") == 0 || strcmp(name, "initrd") == 0)
            continue;
        typo = gp_cmdline_typo(name);
        if (ctx->cmdline && !cmdline_word(ctx->cmdline, w)) {
            put(&t, "%s is not on the running command line any more%s\n", w,
                typo ? "" : ": nothing to do");
            if (typo)
                put(&t, "(it was a misspelling of %s)\n", typo);
        } else if (typo) {
            gp_cmdline_edit e = { .replace_old = w };

            if (asprintf(&fixed, "%s%s", typo, w + strlen(name)) < 0) {
                fixed = NULL;
                t.oom = true;
                break;
            }
            e.replace_new = fixed;
            put(&t, "%s is not a kernel parameter, the kernel ignored it: did you mean %s?\n", w, fixed);
            put_cmdline_edit(&t, ctx, &e);
        } else {
            put(&t, "%s is no parameter this kernel knows: if it was meant for the kernel, check its spelling "
                    "and the kernel version that introduced it\n", w);
        }
        any = true;
    }
    r = fix_end(&t, ret);
    if (r == 0 && !any) {
        free(*ret);
        *ret = NULL;
    }
    return r;
}

/* ---- F3: no interrupt remapping -------------------------------------------- */

static int fix_ir(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    file_line set[MAX_FILE_LINES];
    size_t n_set = 0;
    bool unsafe = module_param_on(ctx, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
    /* what drivers/iommu/intel/irq_remapping.c and amd/init.c print */
    bool ir_on = kmsg_has(ctx, "DMAR-IR: Enabled IRQ remapping") ||
                 kmsg_has(ctx, "AMD-Vi: Interrupt remapping enabled");
    fixtext t;
    int r;

    if (ctx->h) {
        r = grep_dir(ctx->h, "etc/modprobe.d", ".conf", "allow_unsafe_interrupts", set, &n_set);
        if (r < 0)
            return r;
    }
    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (ir_on && hit && hit->first && strstr(hit->first->text, "Failed to set iommu for container")) {
        /* vfio_iommu_type1_attach_group() also answers EPERM when the
         * IOMMU driver refuses the domain (RMRR, 1:1 mapping). */
        put(&t, "interrupt remapping is enabled on this host (the kernel log says so), so the refusal has "
                "another cause: look for \"RMRR\" or \"1:1 IOMMU mapping\" lines for the device\n");
        return fix_end(&t, ret);
    }
    if (ctx->cpu_hypervisor)
        put(&t, "this host is a virtual machine: its virtual IOMMU needs interrupt remapping (QEMU: -device "
                "intel-iommu,intremap=on with -machine kernel-irqchip=split)\n");
    else if (ctx->cpu == GP_CPU_INTEL)
        /* Intel: remapping is part of VT-d, announced by the DMAR table's
         * INTR_REMAP flag; x2APIC mode needs it too. */
        put(&t, "Intel: enable VT-d and, where the firmware offers them, \"Interrupt Remapping\" and \"X2APIC\" "
                "in the firmware setup; a board whose DMAR table lacks the INTR_REMAP flag (the kernel logs "
                "\"Not enabling interrupt remapping\") cannot do it, a firmware update may add it\n");
    else if (ctx->cpu == GP_CPU_AMD)
        /* AMD: the IOMMU remaps interrupts itself ("AMD-Vi: Interrupt
         * remapping enabled"); it lacks only when the IOMMU or the IVRS
         * table is broken. */
        put(&t, "AMD: interrupt remapping comes with the IOMMU itself: enable \"IOMMU\" (not only SVM) in the "
                "firmware setup and update the firmware if the kernel still logs no \"AMD-Vi: Interrupt "
                "remapping enabled\"\n");
    else
        put(&t, "enable interrupt remapping in the firmware setup (Intel: VT-d with X2APIC; AMD: the IOMMU)\n");
    if (unsafe) {
        put(&t, "vfio_iommu_type1 allow_unsafe_interrupts is already on now");
        if (n_set)
            put(&t, " (%s line %u)", set[0].file, set[0].line);
        put(&t, ": the refusal came before it was set; passthrough works, but a guest's device can inject "
                "interrupts into the host\n");
    } else {
        /* vfio_iommu_type1: without IR a device can forge MSIs to any
         * vector (MSI injection); the parameter accepts that risk. */
        put(&t, "last resort, only for guests you trust (a device can then inject interrupts into the host):\n"
                "echo 'options vfio_iommu_type1 allow_unsafe_interrupts=1' > "
                "/etc/modprobe.d/iommu_unsafe_interrupts.conf\n"
                "echo 1 > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts   # now, until reboot\n"
                "update-initramfs -u -k all\n");
    }
    return fix_end(&t, ret);
}

/* ---- F4: group not viable ------------------------------------------------ */

static int fix_group(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit), *gpu_dev = NULL;
    int group = hit && hit->group >= 0 ? hit->group : d ? d->iommu_group : -1;
    size_t n_members = 0, n_other = 0, n_off = 0, n_bridges = 0;
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (!ctx->pci || group < 0) {
        put(&t, "every device of the group must be on vfio-pci (bridges excepted): `gpupass list` shows the "
                "groups, `gpupass check` what shares them\n");
        return fix_end(&t, ret);
    }
    if (d && gp_pci_is_gpu(d))
        gpu_dev = d;
    for (size_t i = 0; i < ctx->pci->n; i++) {
        const gp_pci_dev *m = &ctx->pci->devs[i];

        if (m->iommu_group != group)
            continue;
        n_members++;
        if (!gpu_dev && gp_pci_is_gpu(m))
            gpu_dev = m;
    }
    if (n_members == 0) {
        /* Group numbers follow probe order: other hardware or another
         * kernel numbers them anew. */
        put(&t, "no device of this host is in group %d now: the line is from other hardware or another boot; "
                "`gpupass list` shows the groups as they are\n", group);
        return fix_end(&t, ret);
    }
    put(&t, "group %d holds:\n", group);
    for (size_t i = 0; i < ctx->pci->n; i++) {
        const gp_pci_dev *m = &ctx->pci->devs[i];
        const char *why = ctx->crit ? gp_hostcrit_reason(ctx->crit, (int)i) : NULL;
        bool same_slot = gpu_dev && gp_pci_addr_same_slot(&m->addr, &gpu_dev->addr);

        if (m->iommu_group != group)
            continue;
        if (gp_pci_is_bridge(m)) {
            n_bridges++;
            continue;
        }
        put(&t, "  %s [%04x:%04x] %s %s%s%s%s\n", m->name, m->vendor_id, m->device_id, m->driver ? "on" : "with",
            drv_name(m), same_slot ? ", a function of the card" : "", why ? ", the host needs it: " : "",
            why ? why : "");
        if (!same_slot)
            n_other++;
        if (!on_vfio(m))
            n_off++;
    }
    if (n_bridges)
        put(&t, "  and %zu bridge%s, which may stay on their drivers\n", n_bridges, n_bridges == 1 ? "" : "s");
    if (n_other == 0) {
        /* vfio_group_viable(): every non-bridge member needs a VFIO
         * driver; the card's own functions may all go to the VM. */
        put(&t, "only the card's own functions: give the VM the whole slot (hostpci0: %.*s, all functions) "
                "and bind %s to vfio-pci (`gpupass setup %s` shows the plan)\n",
            gpu_dev ? (int)(strlen(gpu_dev->name) - 2) : 0, gpu_dev ? gpu_dev->name : "",
            n_off ? "those not on it" : "them", gpu_dev ? gpu_dev->name : d ? d->name : "");
    } else {
        const char *acs[] = { "pcie_acs_override=downstream,multifunction", NULL };

        put(&t, "%zu other device%s share%s the group: move the card to a slot wired to the CPU (its own group), "
                "or enable ACS in the firmware setup; `gpupass check %s` judges the group\n",
            n_other, n_other == 1 ? "" : "s", n_other == 1 ? "s" : "", gpu_dev ? gpu_dev->name : d ? d->name : "");
        if (!gp_cmdline_has(ctx->cmdline, "pcie_acs_override", NULL)) {
            put(&t, "last resort (the Proxmox kernel carries the ACS override patch; it gives up isolation "
                    "between those devices):\n");
            put_cmdline_add(&t, ctx, acs);
        } else {
            put(&t, "pcie_acs_override is already on the command line, and the group still holds them: the "
                    "override cannot split functions behind a bridge without ACS of its own\n");
        }
    }
    return fix_end(&t, ret);
}

/* ---- F5: host driver holds a function -------------------------------------- */

static int fix_host_driver(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    const gp_gpu *g = gpu_of(ctx, d);
    int group = hit && hit->group >= 0 ? hit->group : d ? d->iommu_group : -1;
    const gp_pci_dev *twin = NULL, *twin_vfio = NULL;
    char ids[256] = "";
    const char *soft[8];
    size_t n_soft = 0, n_off = 0;
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (!d || !ctx->pci) {
        put(&t, "a function of the group is not on vfio-pci: `gpupass status` shows the drivers, "
                "`gpupass setup DEVICE` binds it at boot\n");
        return fix_end(&t, ret);
    }
    /* QEMU's VFIO_GROUP_GET_DEVICE_FD answers ENODEV for a function no
     * VFIO driver holds: every endpoint of the group must be bound. */
    for (size_t i = 0; i < ctx->pci->n; i++) {
        const gp_pci_dev *m = &ctx->pci->devs[i];
        bool mine = g ? gp_idx_list_contains(&g->functions, (int)i) : m == d;
        const char *native[2];
        size_t used = strlen(ids);

        if (!(mine || (group >= 0 && m->iommu_group == group)) || gp_pci_is_bridge(m) || on_vfio(m))
            continue;
        n_off++;
        put(&t, "%s [%04x:%04x] is on %s, not vfio-pci\n", m->name, m->vendor_id, m->device_id, drv_name(m));
        snprintf(ids + used, sizeof(ids) - used, "%s%04x:%04x", used ? "," : "", m->vendor_id, m->device_id);
        gp_pci_native_drivers(m, native);
        for (int k = 0; k < 2; k++) {
            const char *drv = k == 0 && m->driver ? m->driver : native[k];
            bool dup = false;

            for (size_t s = 0; drv && s < n_soft; s++)
                dup |= strcmp(soft[s], drv) == 0;
            if (drv && !dup && n_soft < ELEMENTSOF(soft))
                soft[n_soft++] = drv;
        }
        /* The same IDs elsewhere: ids= matches by ID and takes every one. */
        for (size_t j = 0; j < ctx->pci->n; j++) {
            const gp_pci_dev *o = &ctx->pci->devs[j];

            if (o == m || o->vendor_id != m->vendor_id || o->device_id != m->device_id ||
                (group >= 0 && o->iommu_group == group) || (g && gp_idx_list_contains(&g->functions, (int)j)))
                continue;
            if (on_vfio(o) && !twin_vfio)
                twin_vfio = o;
            else if (!on_vfio(o) && !twin)
                twin = o;
        }
    }
    if (n_off == 0) {
        put(&t, "every function of %s%s is on vfio-pci now: the line is from before they were bound, or from a "
                "start while another VM held them\n", d->name, group >= 0 ? " and its group" : "");
        return fix_end(&t, ret);
    }
    if (twin_vfio)
        put(&t, "%s has the same IDs and is on vfio-pci already: if that is the card meant for the VM, name it "
                "(host=%s)%s\n", twin_vfio->name, twin_vfio->name,
            d->boot_vga == 1 ? "; this one is the host's boot display" : "");
    put(&t, "to give %s itself, bind it at every boot (`gpupass setup %s` shows the reviewed plan), or by hand:\n",
        d->name, d->name);
    if (twin) {
        /* Two identical cards: an ids= match takes both, so bind by
         * address (driver_override), as for two identical GPUs. */
        put(&t, "%s has the same IDs and stays with the host, so vfio-pci ids= would take it too; bind by "
                "address instead:\n", twin->name);
        for (size_t i = 0; i < ctx->pci->n; i++) {
            const gp_pci_dev *m = &ctx->pci->devs[i];
            bool mine = g ? gp_idx_list_contains(&g->functions, (int)i) : m == d;

            if ((mine || (group >= 0 && m->iommu_group == group)) && !gp_pci_is_bridge(m) && !on_vfio(m))
                put(&t, "driverctl set-override %s vfio-pci\n", m->name);
        }
    } else {
        put(&t, "echo 'options vfio-pci ids=%s' > /etc/modprobe.d/vfio.conf\n", ids);
        for (size_t s = 0; s < n_soft; s++)
            if (strcmp(soft[s], "vfio-pci") != 0)
                put(&t, "echo 'softdep %s pre: vfio-pci' >> /etc/modprobe.d/vfio.conf\n", soft[s]);
        put(&t, "update-initramfs -u -k all && reboot\n");
    }
    return fix_end(&t, ret);
}

/* ---- F6: vfio_virqfd ---------------------------------------------------------- */

static int fix_virqfd(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    file_line lines[MAX_FILE_LINES];
    size_t n = 0;
    bool initramfs = false, dracut = false, mkinitcpio = false, modules_load = false;
    fixtext t;
    int r;

    if (ctx->h) {
        static const char *const files[] = { "etc/modules", "etc/initramfs-tools/modules", "etc/mkinitcpio.conf" };
        static const char *const dirs[] = { "etc/modules-load.d", "etc/modprobe.d", "etc/dracut.conf.d" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
            r = grep_file(ctx->h, files[i], "vfio_virqfd", lines, &n);
            if (r < 0)
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
            r = grep_dir(ctx->h, dirs[i], ".conf", "vfio_virqfd", lines, &n);
            if (r < 0)
                return r;
        }
    }
    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* drivers/vfio/Makefile: since Linux 6.2 virqfd.o is part of vfio.ko;
     * there is no vfio_virqfd module to load. */
    if (kver_before(&ctx->kver, 6, 2)) {
        put(&t, "on kernel %s vfio_virqfd is still a module of its own, so the line came from a newer kernel "
                "(6.2 or later, where it is part of vfio): remove vfio_virqfd from the files below before you "
                "boot one; if this kernel itself cannot find it, reinstall its package and run depmod -a %s\n",
            kver_name(&ctx->kver), kver_name(&ctx->kver));
    } else {
        put(&t, "since Linux 6.2 vfio_virqfd is part of vfio (this kernel: %s): there is no module to load, "
                "drop it\n", kver_name(&ctx->kver));
    }
    for (size_t i = 0; i < n; i++) {
        bool list = strcmp(lines[i].file, "/etc/modules") == 0 || strstr(lines[i].file, "modules-load.d") ||
                    strcmp(lines[i].file, "/etc/initramfs-tools/modules") == 0;

        initramfs |= strcmp(lines[i].file, "/etc/initramfs-tools/modules") == 0;
        modules_load |= strcmp(lines[i].file, "/etc/modules") == 0 || strstr(lines[i].file, "modules-load.d");
        dracut |= strstr(lines[i].file, "dracut") != NULL;
        mkinitcpio |= strstr(lines[i].file, "mkinitcpio") != NULL;
        if (list)
            put(&t, "delete %s line %u (%s): sed -i '%ud' %s\n", lines[i].file, lines[i].line, lines[i].text,
                lines[i].line, lines[i].file);
        else
            put(&t, "remove vfio_virqfd from %s line %u: %s\n", lines[i].file, lines[i].line, lines[i].text);
    }
    if (n == 0)
        put(&t, "no file of this host lists it now (/etc/modules, /etc/modules-load.d, initramfs-tools, "
                "modprobe.d, dracut, mkinitcpio): the line is from before it was removed\n");
    if (modules_load)
        put(&t, "then: systemctl restart systemd-modules-load   # it failed at boot\n");
    if (initramfs)
        put(&t, "then: update-initramfs -u -k all\n");
    if (dracut)
        put(&t, "then: dracut -f --regenerate-all\n");
    if (mkinitcpio)
        put(&t, "then: mkinitcpio -P\n");
    return fix_end(&t, ret);
}

/* ---- F7: the boot framebuffer holds a BAR ------------------------------------ */

static int fix_bootfb(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit), *other;
    /* 5.15 moved the firmware framebuffer to sysfb (simple-framebuffer /
     * simpledrm): video=efifb:off no longer keeps it off the BAR there,
     * initcall_blacklist=sysfb_init does. Unknown version: assume new. */
    bool sysfb = !kver_before(&ctx->kver, 5, 15);
    char fb[64] = "";
    int bar = hit ? hit->bar : -1, fb_bar = -1;
    bool in_iomem = d && gp_iomem_framebuffer_in(ctx->iomem, d, &fb_bar, fb, sizeof(fb));
    bool simple = in_iomem && strncmp(fb, "simple", 6) == 0;
    const char *add[4];
    size_t n_add = 0;
    bool have;
    fixtext t;
    int r;

    if (bar < 0)
        bar = fb_bar;
    if (sysfb) {
        add[n_add++] = "initcall_blacklist=sysfb_init";
        /* simplefb honours fb_get_options("simplefb"): the answer for a
         * simple-framebuffer that firmware code other than sysfb made. */
        if (simple)
            add[n_add++] = "video=simplefb:off";
        have = gp_cmdline_has(ctx->cmdline, "initcall_blacklist", "sysfb_init");
    } else {
        /* Before sysfb: efifb on UEFI boots, vesafb on BIOS boots, each
         * switched off by its own video= option. */
        if (ctx->boot.efi || ctx->boot.loader == GP_BOOT_UNKNOWN)
            add[n_add++] = "video=efifb:off";
        if (!ctx->boot.efi)
            add[n_add++] = "video=vesafb:off";
        have = cmdline_word(ctx->cmdline, add[0]);
    }
    add[n_add] = NULL;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (d && in_iomem)
        put(&t, "/proc/iomem: %s sits in BAR %d of %s%s\n", fb, fb_bar, d->name,
            d->boot_vga == 1 ? " (the firmware's boot display)" : "");
    else if (d && d->boot_vga == 1)
        put(&t, "%s is the firmware's boot display: its framebuffer is what holds BAR %d\n", d->name, bar);
    else if (d && bar >= 0 && bar < GP_PCI_BARS && d->bars[bar].size)
        put(&t, "%s is not the boot display and /proc/iomem shows no boot framebuffer in it: see what holds BAR "
                "%d (as root: grep -A3 -i '%" PRIx64 "-' /proc/iomem); if this card did show the firmware's boot "
                "screen, the framebuffer is the holder and this frees it:\n", d->name, bar, d->bars[bar].start);
    if (have) {
        put(&t, "%s is already on the running command line, yet the BAR is held: another driver has it%s%s%s; "
                "make another GPU the primary display in the firmware setup, or keep that driver off the card "
                "(`gpupass setup %s`)\n", add[0], d && d->driver && !on_vfio(d) ? " (" : "",
            d && d->driver && !on_vfio(d) ? d->driver : "", d && d->driver && !on_vfio(d) ? " now)" : "",
            d ? d->name : "DEVICE");
        return fix_end(&t, ret);
    }
    put(&t, "kernel %s%s: %s\n", kver_name(&ctx->kver), sysfb ? " (5.15 or later, sysfb)" : " (before 5.15)",
        sysfb ? "keep sysfb from creating the boot framebuffer" : "keep the firmware framebuffer driver off");
    if (sysfb) {
        const char *stale[3];
        size_t n_stale = 0;
        gp_cmdline_edit e = { .add = add };

        for (size_t i = 0; i < 2; i++) {
            const char *w = i == 0 ? "video=efifb:off" : "video=vesafb:off";

            if (cmdline_word(ctx->cmdline, w))
                stale[n_stale++] = w;
        }
        stale[n_stale] = NULL;
        if (n_stale)
            put(&t, "(%s on the running command line no longer helps: since 5.15 sysfb sets up the framebuffer; "
                    "the edit drops it)\n", stale[0]);
        e.drop = n_stale ? stale : NULL;
        put_cmdline_edit(&t, ctx, &e);
    } else {
        put_cmdline_add(&t, ctx, add);
    }
    other = d ? other_display(ctx, d) : NULL;
    if (other)
        put(&t, "(the host console goes dark on %s until a driver takes it; making %s the primary display in the "
                "firmware setup avoids that)\n", d->name, other->name);
    else
        put(&t, "(the host loses its console on this GPU)\n");
    return fix_end(&t, ret);
}

/* "BAR N: assigned to efifb" (drivers/video/fbdev/efifb.c): a note for the
 * host's own display, the framebuffer fix for a card meant for a VM. */
static int fix_efifb_bar(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);

    *ret = NULL;
    if (!d || !dev_intended(ctx, d))
        return 0;
    return fix_bootfb(ctx, hit, ret);
}

/* ---- F8: ROM -------------------------------------------------------------- */

/* Navi 31 (RX 7900, Radeon Pro W7000): quickpassthrough gives these a
 * dummy ROM or rombar=0 (gpu-facts.md §2.3). */
static bool navi31(const gp_pci_dev *d)
{
    static const uint16_t ids[] = { 0x744c, 0x7448, 0x7449, 0x744a, 0x745e };

    for (size_t i = 0; d->vendor_id == 0x1002 && i < ELEMENTSOF(ids); i++)
        if (ids[i] == d->device_id)
            return true;
    return false;
}

static int fix_rom(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit), *other;
    const gp_pve_hostpci *entry = NULL;
    const gp_pve_vm *vm;
    char rom[64], path[600];
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (!d) {
        put(&t, "give the VM a good ROM file: hostpciN: ...,romfile=FILE (relative to /usr/share/kvm/), or "
                "rombar=0 when the guest needs none\n");
        return fix_end(&t, ret);
    }
    snprintf(rom, sizeof(rom), "%04x-%04x-%04x%04x.rom", d->vendor_id, d->device_id, d->subsys_vendor_id,
             d->subsys_device_id);
    snprintf(path, sizeof(path), "%s/rom", d->path ? d->path : "");
    if (d->boot_vga == 1) {
        /* The boot GPU's ROM BAR reads back the firmware's shadow copy,
         * which the POST has already altered. */
        other = other_display(ctx, d);
        put(&t, "%s is the boot GPU: its ROM reads back the firmware's shadowed copy. Dump it while %s is the "
                "primary display (firmware setup), or use a ROM for this exact card (subsystem %04x:%04x)\n",
            d->name, other ? other->name : "another GPU", d->subsys_vendor_id, d->subsys_device_id);
    }
    if (ctx->h && d->path && gp_host_exists(ctx->h, path))
        put(&t, "dump it: cd " SYSFS_DEV "%s && echo 1 > rom && cat rom > /usr/share/kvm/%s; echo 0 > rom\n",
            d->name, rom);
    else
        put(&t, "%s exposes no ROM BAR: get the VBIOS of this exact card (subsystem %04x:%04x) and put it in "
                "/usr/share/kvm/%s\n", d->name, d->subsys_vendor_id, d->subsys_device_id, rom);
    if (is_nvidia(d))
        put(&t, "an NVIDIA ROM saved by nvflash or from a download carries a header before the 55 AA signature: "
                "cut everything before it\n");
    if (navi31(d))
        put(&t, "Navi 31 (RX 7900 / Radeon Pro W7000): if no dump works, rombar=0 or a zeroed dummy ROM is "
                "what people use\n");
    vm = vm_of(ctx, d, &entry);
    if (vm && entry)
        put(&t, "qm set %u -hostpci%u '%s,romfile=%s'   # the guest firmware needs a UEFI-capable ROM with "
                "OVMF\n", vm->vmid, entry->index, entry->value, rom);
    else
        put(&t, "in the VM: hostpciN: %.*s,...,romfile=%s (relative to /usr/share/kvm/)\n",
            (int)(strlen(d->name) - 2), d->name, rom);
    return fix_end(&t, ret);
}

/* ---- F9: reset ---------------------------------------------------------------- */

/* The kernel headers DKMS builds against: Proxmox VE 8 renamed pve-headers
 * to proxmox-default-headers along with its kernel packages. */
static const char *headers_package(const gp_check_ctx *ctx)
{
    char v[64];

    if (ctx->h && gp_pve_package_version(ctx->h, "proxmox-ve", v, sizeof(v)) && (v[0] == '6' || v[0] == '7') &&
        v[1] == '.')
        return "pve-headers";
    return "proxmox-default-headers";
}

static void put_reset(fixtext *t, const gp_check_ctx *ctx, const gp_pci_dev *d, const char *line)
{
    const gp_gpu *g = gpu_of(ctx, d);
    const gp_pci_dev *card = g ? &ctx->pci->devs[g->dev] : d;
    /* The reset bug is the GPU's; its audio function shares the slot. */
    const char *family = gp_quirk_amd_reset_family(card->vendor_id, card->device_id);
    const char *rm = family ? card->reset_method : d->reset_method;
    bool vr = ctx->h && gp_module_loaded(ctx->h, "vendor_reset");
    /* reset_method exists since 5.15; from then on vendor-reset must be
     * selected there (vendor-reset issue #46), before it hooked alone. */
    bool select = !kver_before(&ctx->kver, 5, 15);
    bool d3 = line && (strstr(line, "D3cold") || strstr(line, "stuck in D3") || strstr(line, "not ready"));

    if (family && !vr) {
        put(t, "AMD %s has the reset bug and vendor-reset is not loaded: install it and load it early:\n"
               "apt install %s dkms git && git clone https://github.com/gnif/vendor-reset "
               "&& dkms install ./vendor-reset\n"
               "echo vendor-reset >> /etc/modules\n", family, headers_package(ctx));
        if (select)
            put(t, "echo 'ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x1002\", ATTR{device}==\"0x%04x\", "
                   "ATTR{reset_method}=\"device_specific\"' > /etc/udev/rules.d/99-vendor-reset.rules   # kernel "
                   "%s: vendor-reset must be chosen in reset_method\n", card->device_id, kver_name(&ctx->kver));
        put(t, "update-initramfs -u -k all && reboot\n");
    } else if (family && select && !(rm && strstr(rm, "device_specific"))) {
        put(t, "AMD %s: vendor-reset is loaded, but reset_method is \"%s\", so the kernel never calls it:\n"
               "echo device_specific > " SYSFS_DEV "%s/reset_method\n"
               "and for every boot: echo 'ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x1002\", "
               "ATTR{device}==\"0x%04x\", ATTR{reset_method}=\"device_specific\"' > "
               "/etc/udev/rules.d/99-vendor-reset.rules\n", family, rm ? rm : "", card->name, card->device_id);
    } else if (family) {
        put(t, "AMD %s: vendor-reset is loaded%s; what it cannot recover is a card a host driver used in "
               "between (%s now): keep amdgpu off it (`gpupass setup %s`), and reboot the host when it "
               "still does not come back (vendor-reset is best effort on 6.8+)\n", family,
            select ? " and selected (reset_method device_specific)" : "", drv_name(card), card->name);
    } else if (rm && strstr(rm, "flr") && line && strstr(line, "pending transaction")) {
        /* pcie_flr() waits for the Transactions Pending bit first: the
         * card was still doing DMA when its user let go. */
        put(t, "%s resets by FLR (reset_method: %s) and still had DMA in flight when it was reset: shut the guest "
               "down from inside (its driver stops the card) instead of stopping the VM\n", d->name, rm);
    } else if (rm && strstr(rm, "flr") && line && strstr(line, "reset PCI device")) {
        put(t, "%s resets by FLR (reset_method: %s), and the reset failed: a function of the card may still be in "
               "use (`gpupass status` names the holders), or the card hangs and needs a host reboot\n", d->name, rm);
    } else if (rm && strstr(rm, "flr") && !line) {
        put(t, "%s resets by FLR (reset_method: %s): stop the guest cleanly so its driver lets the card go "
               "before the reset\n", d->name, rm);
    } else if (rm && strstr(rm, "flr")) {
        put(t, "%s resets by FLR (reset_method: %s), and the card did not come back from it%s\n", d->name, rm,
            d3 ? " or from a low-power state" : "");
    } else if (rm && strstr(rm, "bus")) {
        put(t, "%s has no FLR: only a bus reset (reset_method: %s), which resets every function behind its "
               "bridge; give all of them to the same VM\n", d->name, rm);
    } else if (!rm && kver_before(&ctx->kver, 5, 15)) {
        put(t, "kernel %s shows no reset_method; %s\n", kver_name(&ctx->kver),
            d->flr ? "the card advertises FLR" : "the card advertises no FLR");
    } else {
        put(t, "the kernel offers %s no reset method: reboot the host between VM runs\n", d->name);
    }
    if (d3) {
        /* D3cold: the platform removes power and the card may not
         * return; keeping it in D0 avoids the power-up that fails. */
        put(t, "keep it out of D3cold: echo 0 > " SYSFS_DEV "%s/d3cold_allowed", d->name);
        if (d->parent >= 0 && ctx->pci)
            put(t, "; echo 0 > " SYSFS_DEV "%s/d3cold_allowed", ctx->pci->devs[d->parent].name);
        put(t, "; and options vfio-pci disable_idle_d3=1 in /etc/modprobe.d/vfio.conf\n");
    }
    put(t, "a card that is gone now (lspci shows rev ff) comes back only with a host reboot\n");
}

static int fix_reset(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (!d)
        put(&t, "stop the VM, then `gpupass check` for the card: its reset method, and whether it has the AMD "
                "reset bug; reboot the host if the card is gone\n");
    else
        put_reset(&t, ctx, d, hit && hit->first ? hit->first->text : NULL);
    return fix_end(&t, ret);
}

/* QEMU vfio_pci_hot_reset(): a bus reset also resets another group's
 * devices, and QEMU owns only its own groups. */
static int fix_reset_group(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    int group = hit ? hit->group : -1;
    const char *text = hit && hit->first ? hit->first->text : NULL;
    const char *p = text ? strstr(text, "depends on group ") : NULL;
    fixtext t;
    int r;

    if (p)
        group = atoi(p + strlen("depends on group "));
    r = fix_begin(&t);
    if (r < 0)
        return r;
    put(&t, "the reset of %s is a bus reset that also resets group %d, which this VM does not own",
        d ? d->name : "the device", group);
    if (ctx->pci && group >= 0) {
        bool first = true;

        for (size_t i = 0; i < ctx->pci->n; i++) {
            const gp_pci_dev *m = &ctx->pci->devs[i];

            if (m->iommu_group != group || gp_pci_is_bridge(m))
                continue;
            put(&t, "%s %s (%s)", first ? ":" : ",", m->name, drv_name(m));
            first = false;
        }
    }
    put(&t, "\ngive those functions to the same VM (hostpci with the whole slot), or, if the host needs them, put "
            "the card in a slot of its own\n");
    return fix_end(&t, ret);
}

/* ---- F13: RMRR ------------------------------------------------------------- */

static void put_rmrr(fixtext *t, const gp_check_ctx *ctx, const gp_pci_dev *d)
{
    _cleanup_free_ char *vendor = NULL, *regions = NULL;
    char path[96];
    size_t len = 0;

    if (ctx->h)
        (void)gp_host_read_attr(ctx->h, "sys/class/dmi/id/sys_vendor", &vendor);
    if (d && d->iommu_group >= 0 && ctx->h) {
        snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d/reserved_regions", d->iommu_group);
        if (gp_host_read_file(ctx->h, path, 64 * 1024, &regions, &len) < 0)
            regions = NULL;
    }
    /* The firmware's RMRR (Intel) / IVMD (AMD) asks for identity-mapped
     * memory the device may DMA to at any time; since 3.17 the kernel
     * refuses to give such a device a domain it does not control. */
    put(t, "the firmware reserves memory that %s may DMA to at any time (%s), so the kernel will not give it to a "
           "VM\n", d ? d->name : "this device", ctx->cpu == GP_CPU_AMD ? "IVMD" : "RMRR");
    if (regions) {
        for (char *save = NULL, *l = strtok_r(regions, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            if (strstr(l, " direct") && !strstr(l, "relaxable"))
                put(t, "  /sys/kernel/iommu_groups/%d/reserved_regions: %s\n", d->iommu_group, l);
    }
    if (vendor && (strstr(vendor, "HP") || strstr(vendor, "Hewlett")))
        put(t, "%s: exclude the slot from the firmware's shared-memory region (HPE conrep / RBSU per-slot "
               "setting), or use another slot\n", vendor);
    else
        put(t, "%sturn off the firmware feature that uses the device (legacy USB / option ROM / management "
               "features), update the firmware, or use another slot; otherwise only a kernel patched to relax "
               "RMRRs helps\n", vendor ? vendor : "");
}

static int fix_rmrr(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    put_rmrr(&t, ctx, hit_dev(ctx, hit));
    return fix_end(&t, ret);
}

/* IOMMU faults: a device did DMA to an address its domain does not map. */
static int fix_dma_fault(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    const char *why = d && ctx->crit ? gp_hostcrit_reason(ctx->crit, dev_index(ctx, d)) : NULL;
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (!d) {
        put(&t, "the device is named on the fault's own line (\"Request device [bb:dd.f]\" or \"device=bb:dd.f\"); "
                "a GPU there was not reset after its last user, another device may need firmware DMA (RMRR)\n");
    } else if (dev_intended(ctx, d)) {
        put(&t, "%s kept doing DMA after its owner changed (a VM stopped or a driver let go): it was not reset\n",
            d->name);
        put_reset(&t, ctx, d, NULL);
    } else if (gp_pci_is_gpu(d)) {
        put(&t, "%s is on %s, which let it DMA outside its mappings (after a suspend/resume, or a reset the "
                "driver did not expect); if it follows a VM run, the card was not reset:\n", d->name, drv_name(d));
        put_reset(&t, ctx, d, NULL);
    } else {
        /* Faults at boot from a device the host drives: firmware DMA the
         * DMAR/IVRS table does not declare, or a driver or firmware bug. */
        put(&t, "%s is the host's (%s%s%s), not a passthrough device: if the faults come only at boot, the "
                "firmware does DMA its ACPI table does not declare (update the firmware); if they go on, update "
                "the device's firmware and driver\n", d->name, drv_name(d), why ? ", " : "", why ? why : "");
    }
    return fix_end(&t, ret);
}

/* "Refused to change power state from D0 to D3hot" (pci_set_low_power_state):
 * the function did not go idle as asked. */
static int fix_power_refused(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    const gp_gpu *g = gpu_of(ctx, d);
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (d && on_vfio(d))
        /* vfio-pci puts functions no user holds into D3hot. */
        put(&t, "vfio-pci puts idle functions into D3hot and %s refused: keep them in D0 with options vfio-pci "
                "disable_idle_d3=1 in /etc/modprobe.d/vfio.conf, then update-initramfs -u -k all\n", d->name);
    else if (d)
        put(&t, "%s's driver (%s) tried to power it down at runtime: harmless while the card works; to keep it "
                "awake: echo on > " SYSFS_DEV "%s/power/control\n", d->name, drv_name(d), d->name);
    if (d && g)
        put(&t, "if the card does not come back after a VM run, its reset is the problem: gpupass check %s\n",
            ctx->pci->devs[g->dev].name);
    return fix_end(&t, ret);
}

/* ---- F10: MSRs --------------------------------------------------------------- */

static int fix_msr(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    bool ignore = module_param_on(ctx, "sys/module/kvm/parameters/ignore_msrs");
    /* report_ignored_msrs defaults to on; only an explicit N silences. */
    _cleanup_free_ char *rep = NULL;
    bool report = !ctx->h || gp_host_read_attr(ctx->h, "sys/module/kvm/parameters/report_ignored_msrs", &rep) < 0 ||
                  rep[0] == 'Y' || rep[0] == '1';
    bool ignored = hit && hit->first && strstr(hit->first->text, "ignored rdmsr");
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (ignored) {
        if (report)
            put(&t, "harmless: KVM answers these MSRs with 0 because ignore_msrs is on; silence the lines with "
                    "options kvm ignore_msrs=1 report_ignored_msrs=0 in /etc/modprobe.d/kvm.conf\n");
        return fix_end(&t, ret);
    }
    if (ignore) {
        put(&t, "kvm ignore_msrs is on now: the guest no longer gets the fault; the line is from before\n");
        return fix_end(&t, ret);
    }
    /* An MSR KVM does not emulate raises #GP in the guest; Windows with
     * NVIDIA or AMD drivers and monitoring tools then crashes (BSOD). */
    put(&t, "the guest got a #GP for an MSR KVM does not emulate (Windows guests crash on it):\n"
            "echo 'options kvm ignore_msrs=1 report_ignored_msrs=0' > /etc/modprobe.d/kvm.conf\n"
            "echo 1 > /sys/module/kvm/parameters/ignore_msrs   # now, for VMs started after this\n");
    return fix_end(&t, ret);
}

/* ---- F11: BAR sizes ---------------------------------------------------------- */

static uint64_t bar64_total(const gp_pci_dev *d)
{
    uint64_t total = 0;

    for (int i = 0; i < GP_PCI_BARS; i++)
        if (d->bars[i].mem64)
            total += d->bars[i].size;
    return total;
}

static int fix_bar0_zero(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const uint64_t gib = (uint64_t)1 << 30;
    size_t shown = 0;
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* The line comes from the guest: its PCI address is not the host's;
     * the host's passthrough GPUs are the candidates. */
    for (size_t i = 0; ctx->gpus && i < ctx->gpus->n; i++) {
        const gp_pci_dev *d = &ctx->pci->devs[ctx->gpus->gpus[i].dev];
        const gp_pve_hostpci *entry = NULL;
        const gp_pve_vm *vm = vm_of(ctx, d, &entry);
        uint64_t total = bar64_total(d), window = 32 * gib;

        if (!dev_intended(ctx, d) || d->is_vf)
            continue;
        /* OVMF's 64-bit MMIO window is 32 GiB unless told otherwise
         * (X-PciMmio64Mb); BARs are aligned to their size, so round the
         * sum up to a power of two. */
        while (window < total)
            window <<= 1;
        put(&t, "%s: 64-bit BARs %" PRIu64 " MiB%s\n", d->name, total >> 20,
            d->rebar ? ", Resizable BAR" : "");
        if (vm)
            put(&t, "qm set %u -cpu host   # the guest's physical address bits follow the host\n", vm->vmid);
        if ((total > 32 * gib - 1 || d->rebar) && vm)
            put(&t, "qm set %u -args '-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=%" PRIu64 "'   # OVMF's "
                    "64-bit window for %" PRIu64 " MiB of BARs\n", vm->vmid, window >> 20, total >> 20);
        else if (total > 32 * gib - 1 || d->rebar)
            put(&t, "in the VM's config: args: -fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=%" PRIu64 "   # OVMF's "
                    "64-bit window for %" PRIu64 " MiB of BARs\n", window >> 20, total >> 20);
        if (d->rebar)
            put(&t, "or turn Resizable BAR off in the firmware setup (the card then offers a small BAR)\n");
        shown++;
    }
    if (shown == 0)
        put(&t, "give the VM OVMF (bios: ovmf), cpu: host, and a 64-bit MMIO window larger than the card's BARs "
                "(-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=65536); keep \"Above 4G decoding\" on in the host "
                "firmware\n");
    return fix_end(&t, ret);
}

/* QEMU/vfio-pci hide extended capabilities they cannot virtualize;
 * 0x15 is Resizable BAR (PCIe r6.0 §7.8.6). */
static int fix_ecap(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const char *p = hit && hit->first ? strstr(hit->first->text, "hiding ecap 0x") : NULL;
    const gp_pci_dev *d = hit_dev(ctx, hit);

    *ret = NULL;
    if (!p || strtoul(p + strlen("hiding ecap 0x"), NULL, 16) != 0x15)
        return 0;
    if (asprintf(ret, "the guest sees %s's BARs at the size the host set%s; nothing to change unless the guest "
                      "driver wants another size",
                 d ? d->name : "the card", d && d->rebar ? " (Resizable BAR is hidden from it)" : "") < 0) {
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* ---- F12: unbind while the host uses the GPU --------------------------------- */

static int fix_in_use(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (d && on_vfio(d)) {
        put(&t, "%s is on vfio-pci now: the line is from an earlier unbind\n", d->name);
        return fix_end(&t, ret);
    }
    put(&t, "something on the host still holds %s%s%s%s: find it with `fuser -v /dev/nvidia* /dev/dri/* "
            "/dev/kfd` (as root), stop it, then start the VM\n", d ? d->name : "the GPU", d ? " (on " : "",
        d ? drv_name(d) : "", d ? ")" : "");
    if (ctx->h && gp_module_loaded(ctx->h, "nvidia")) {
        if (gp_host_exists(ctx->h, "etc/systemd/system/multi-user.target.wants/nvidia-persistenced.service") ||
            gp_host_exists(ctx->h, "lib/systemd/system/nvidia-persistenced.service"))
            put(&t, "systemctl stop nvidia-persistenced   # it keeps every NVIDIA GPU open\n");
        if (gp_module_loaded(ctx->h, "nvidia_drm"))
            put(&t, "nvidia_drm is loaded: a display server or the console on the card holds it too\n");
    }
    put(&t, "for good, keep the host driver off the card: `gpupass setup %s` binds it to vfio-pci at boot\n",
        d ? d->name : "DEVICE");
    return fix_end(&t, ret);
}

/* ---- F14: 3D controllers -------------------------------------------------- */

static int fix_3d(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);

    *ret = NULL;
    if (!d)
        return 0;
    if (asprintf(ret, "%s is a GPU without display output (class 0x0302): tools that list only VGA (0x0300) "
                      "miss it; gpupass does not: gpupass check %s", d->name, d->name) < 0) {
        *ret = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* ---- F15: containers ------------------------------------------------------- */

static int fix_nvml(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    _cleanup_free_ char *ver = NULL;
    fixtext t;
    int r;

    /* NULL when no module is loaded (the proprietary and the open module
     * word their line differently: gp_host_nvidia_version reads both) */
    if (ctx->h)
        (void)gp_host_nvidia_version(ctx->h, &ver);
    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* libnvidia-ml talks to the host's kernel module through its ioctls,
     * which change with every driver release: versions must match. */
    if (ver)
        put(&t, "the host's NVIDIA kernel module is %s; the container's libnvidia-ml must be the same version:\n"
                "in the container: sh NVIDIA-Linux-x86_64-%s.run --no-kernel-module (or that exact package "
                "version)\nafter every host driver update, update each container the same way\n", ver, ver);
    else
        put(&t, "the host has no NVIDIA kernel module loaded now (no /proc/driver/nvidia/version): load the host "
                "driver, then give the container the userland of exactly that version (--no-kernel-module)\n");
    return fix_end(&t, ret);
}

static int fix_lxc_nodes(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    static const char *const nodes[] = { "dev/nvidiactl", "dev/nvidia0", "dev/nvidia-uvm", "dev/nvidia-uvm-tools",
                                         "dev/nvidia-modeset", "dev/dri/renderD128", "dev/kfd" };
    const char *text = hit && hit->first ? hit->first->text : NULL;
    const char *named = text ? strstr(text, "/dev/") : NULL;
    char node[64] = "";
    fixtext t;
    int r;

    if (named)
        sscanf(named + 1, "%63[A-Za-z0-9/_-]", node);
    r = fix_begin(&t);
    if (r < 0)
        return r;
    if (node[0] && ctx->h && !gp_host_devnode_exists(ctx->h, node)) {
        /* nvidia-uvm's nodes appear only once something opened it
         * (nvidia-modprobe -u -c=0 or a CUDA process). */
        put(&t, "/%s does not exist on the host, so the container cannot mount it%s\n", node,
            strstr(node, "uvm") ? ": create it at boot with `nvidia-modprobe -u -c=0` (e.g. in a systemd unit "
                                  "before pve-guests)"
                                : "");
    } else if (node[0]) {
        put(&t, "/%s exists on the host now: the container config names it in a way LXC cannot mount\n", node);
    }
    if (ctx->h) {
        put(&t, "nodes this host has:");
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++)
            if (gp_host_devnode_exists(ctx->h, nodes[i]))
                put(&t, " /%s", nodes[i]);
        put(&t, "\n");
    }
    put(&t, "generate the container's devN: lines from the nodes that exist: gpupass lxc CTID DEVICE\n");
    return fix_end(&t, ret);
}

static int fix_lxc_render(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* VA-API opens the render node; the container's own "render" group
     * GID differs from the host's (104 on Debian 12 hosts). */
    put(&t, "the container cannot open the render node: pass it with the container's render group, e.g. "
            "dev0: /dev/dri/renderD128,gid=<render GID inside the CT>\n");
    if (ctx->h) {
        bool any = false;

        for (int i = 128; i < 136; i++) {
            char n[32];

            snprintf(n, sizeof(n), "dev/dri/renderD%d", i);
            if (gp_host_devnode_exists(ctx->h, n)) {
                put(&t, "%s /%s", any ? "," : "render nodes on this host:", n);
                any = true;
            }
        }
        put(&t, any ? "\n" : "this host has no render node: no DRM driver holds a GPU\n");
    }
    put(&t, "`gpupass lxc lint` checks every container's GPU lines against them\n");
    return fix_end(&t, ret);
}

static int fix_lxc_bpf(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    *ret = strdup("Docker inside an LXC container cannot attach cgroup device programs: in the container set "
                  "no-cgroups = true in /etc/nvidia-container-runtime/config.toml and give the device nodes "
                  "through the container config (gpupass lxc CTID DEVICE)");
    return *ret ? 0 : -ENOMEM;
}

/* ---- F16: SR-IOV / vGPU ----------------------------------------------------- */

static int fix_mdev_mf(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    fixtext t;
    bool any = false;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* qemu-server PCI.pm: a hostpci entry with mdev= must name one
     * function; "0000:17:00" means every function of the slot. */
    for (size_t v = 0; v < ctx->vms.n; v++)
        for (size_t e = 0; e < ctx->vms.v[v].n_hostpci; e++) {
            const gp_pve_hostpci *h = &ctx->vms.v[v].hostpci[e];
            const char *id = h->ids && h->ids[0] ? h->ids[0] : NULL;

            if (!h->value || !strstr(h->value, "mdev=") || !id || strchr(id, '.'))
                continue;
            put(&t, "VM %u hostpci%u names the whole slot %s with mdev=: name one function: %s.0 (%s line %u)\n",
                ctx->vms.v[v].vmid, h->index, id, id, ctx->vms.v[v].conf, h->line);
            any = true;
        }
    if (!any)
        put(&t, "a hostpci entry with mdev= must name one function (0000:17:00.0, not 0000:17:00)\n");
    return fix_end(&t, ret);
}

static int fix_sriov_mmio(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    const char *add[] = { "pci=realloc", NULL };
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* sriov_enable(): the VF BARs must fit the window the firmware gave
     * the bridge; "SR-IOV support" makes firmware size them at boot. */
    put(&t, "the firmware left no room for the VF BARs of %s: enable \"SR-IOV Support\" and \"Above 4G "
            "Decoding\" in the firmware setup\n", d ? d->name : "the device");
    if (!gp_cmdline_has(ctx->cmdline, "pci", "realloc")) {
        put(&t, "or let the kernel reassign the bridge windows:\n");
        put_cmdline_add(&t, ctx, add);
    }
    return fix_end(&t, ret);
}

static int fix_sriov_busy(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    const gp_pci_dev *d = hit_dev(ctx, hit);
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    /* drivers/pci/iov.c sriov_numvfs_store(): from N to M only through 0. */
    if (d && is_nvidia(d))
        put(&t, "NVIDIA vGPU: change the VFs only with the driver's script: /usr/lib/nvidia/sriov-manage -d %s, "
                "then -e %s\n", d->name, d->name);
    else if (d && d->sriov_num_vfs > 0)
        put(&t, "%d VFs exist on %s: write 0 first, then the new count: echo 0 > " SYSFS_DEV "%s/sriov_numvfs\n",
            d->sriov_num_vfs, d->name, d->name);
    else
        put(&t, "write 0 to sriov_numvfs first, then the new count\n");
    return fix_end(&t, ret);
}

static int fix_vgpu(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret)
{
    bool new_api = !kver_before(&ctx->kver, 6, 8);
    fixtext t;
    int r;

    r = fix_begin(&t);
    if (r < 0)
        return r;
    for (size_t i = 0; ctx->pci && i < ctx->pci->n; i++) {
        const gp_pci_dev *d = &ctx->pci->devs[i];

        if (!is_nvidia(d) || d->is_vf || d->sriov_total_vfs <= 0 || !gp_pci_is_gpu(d))
            continue;
        if (d->sriov_num_vfs == 0)
            put(&t, "%s has no VFs enabled: /usr/lib/nvidia/sriov-manage -e %s (at every boot: systemctl enable "
                    "--now pve-nvidia-sriov@ALL.service)\n", d->name, d->name);
        else
            put(&t, "%s: %d VFs enabled\n", d->name, d->sriov_num_vfs);
    }
    /* Kernel 6.8 with vGPU 17+: vendor-specific VFIO, the types sit in
     * the VF's nvidia/ directory instead of mdev_supported_types. */
    if (new_api)
        put(&t, "kernel %s: pick the vGPU type in " SYSFS_DEV "<VF>/nvidia/creatable_vgpu_types (not "
                "mdev_supported_types) and check the host driver's vGPU version supports this kernel\n",
            kver_name(&ctx->kver));
    else
        put(&t, "kernel %s: the vGPU types are in /sys/class/mdev_bus/<device>/mdev_supported_types\n",
            kver_name(&ctx->kver));
    put(&t, "the rest of the error: journalctl -u nvidia-vgpu-mgr\n");
    return fix_end(&t, ret);
}

/* ---- the table ---------------------------------------------------------------- */

#define F1 "F1 IOMMU not active"
#define F2 "F2 command line edited where the boot loader does not read it"
#define F3 "F3 no interrupt remapping"
#define F4 "F4 IOMMU group not viable"
#define F5 "F5 host driver holds the GPU"
#define F6 "F6 vfio_virqfd removed in 6.2"
#define F7 "F7 boot framebuffer in a BAR"
#define F8 "F8 shadowed or bad VBIOS"
#define F9 "F9 device does not reset"
#define F10 "F10 guest faults (Code 43, MSRs)"
#define F11 "F11 Resizable BAR / huge BARs"
#define F12 "F12 unbind while the host uses the GPU"
#define F13 "F13 RMRR / firmware 1:1 mapping"
#define F14 "F14 3D controller GPUs (class 0x0302)"
#define F15 "F15 LXC GPU access"
#define F16 "F16 SR-IOV / vGPU"

const gp_logsig gp_logsigs[] = {
    /* F1 */
    { "doctor.iommu-not-present", F1, "IOMMU not present", NULL, NULL, GP_SEV_FAIL,
      "qemu-server refused to start the VM: the kernel has no IOMMU groups (/sys/kernel/iommu_groups is empty)",
      fix_iommu_off },
    { "doctor.no-iommu-group", F1, "no iommu_group found", NULL, NULL, GP_SEV_FAIL,
      "QEMU found no IOMMU group for the device: the IOMMU is off, in the firmware or in the kernel",
      fix_iommu_off },
    { "doctor.vfio-probe-einval", F1, "vfio-pci: probe of", "failed with error -22", NULL, GP_SEV_FAIL,
      "vfio-pci refused the device (EINVAL): it has no IOMMU group, or it is a bridge", fix_iommu_off },
    { "doctor.iommu-disabled", F1, "DMAR: IOMMU disabled", NULL, NULL, GP_SEV_FAIL,
      "intel_iommu=off on the command line switched VT-d off", fix_iommu_off },
    { "doctor.amd-iommu-on", F1, "Unknown option - 'on'", "AMD-Vi", NULL, GP_SEV_INFO,
      "amd_iommu=on is not a value the AMD IOMMU driver knows; it ignores it (the IOMMU is on anyway when the "
      "firmware enables it)", fix_amd_iommu_on },
    /* F2 */
    { "doctor.kernel-cmdline-missing", F2, "No /etc/kernel/cmdline found", NULL, NULL, GP_SEV_INFO,
      "proxmox-boot-tool found no /etc/kernel/cmdline and reused the running command line: on a host systemd-boot "
      "starts, edits to /etc/default/grub never take effect", fix_kernel_cmdline_missing },
    { "doctor.unknown-params", F2, "Unknown kernel command line parameters", NULL, NULL, GP_SEV_INFO,
      "the kernel did not recognize these words and passed them to init, which ignores them", fix_unknown_params },
    /* F3 */
    { "doctor.no-interrupt-remapping", F3, "No interrupt remapping support", NULL, NULL, GP_SEV_FAIL,
      "VFIO refuses to assign devices without interrupt remapping (vfio_iommu_type1_attach_group)", fix_ir },
    { "doctor.container-eperm", F3, "Failed to set iommu for container", "Operation not permitted", NULL,
      GP_SEV_FAIL,
      "QEMU could not attach the group (EPERM): VFIO refused it, most often for lack of interrupt remapping",
      fix_ir },
    /* arch/x86/kernel/apic: a guest without an IO-APIC says the same words,
     * "... due to skipped IO-APIC setup", with nothing to remap */
    { "doctor.ir-not-enabled", F3, "Not enabling interrupt remapping", NULL, "skipped IO-APIC setup", GP_SEV_WARN,
      "the platform offers no interrupt remapping, so VFIO will refuse devices unless allowed unsafely", fix_ir },
    /* F4 */
    { "doctor.group-not-viable", F4, "is not viable", "group", NULL, GP_SEV_FAIL,
      "QEMU can open a device only when every device of its IOMMU group (bridges excepted) is on a VFIO driver",
      fix_group },
    /* F5 */
    { "doctor.device-not-bound", F5, "error getting device from group", "No such device", NULL, GP_SEV_FAIL,
      "QEMU could not open the device (ENODEV): a host driver holds it, not vfio-pci", fix_host_driver },
    /* F6 */
    { "doctor.virqfd-not-found", F6, "Failed to find module 'vfio_virqfd'", NULL, NULL, GP_SEV_WARN,
      "systemd-modules-load (or dracut) was asked for vfio_virqfd, which is part of vfio since Linux 6.2",
      fix_virqfd },
    { "doctor.virqfd-modprobe", F6, "Module vfio_virqfd not found", NULL, NULL, GP_SEV_WARN,
      "modprobe was asked for vfio_virqfd, which is part of vfio since Linux 6.2", fix_virqfd },
    { "doctor.virqfd-mkinitcpio", F6, "module not found: 'vfio_virqfd'", NULL, NULL, GP_SEV_WARN,
      "mkinitcpio was asked for vfio_virqfd, which is part of vfio since Linux 6.2", fix_virqfd },
    /* F7 */
    { "doctor.bar-reserve", F7, "can't reserve", "BAR", NULL, GP_SEV_FAIL,
      "vfio-pci could not reserve the BAR: something else holds that memory, usually the firmware's boot "
      "framebuffer; the guest gets no display or the driver fails", fix_bootfb },
    { "doctor.bar-efifb", F7, "assigned to efifb", NULL, NULL, GP_SEV_INFO,
      "the EFI framebuffer lives in this BAR: fine for the host's console, in the way for a card given to a VM",
      fix_efifb_bar },
    /* F8 */
    { "doctor.rom-signature", F8, "Invalid PCI ROM header signature", NULL, NULL, GP_SEV_WARN,
      "the card's ROM did not start with 55 AA: unreadable, shadowed by the firmware, or absent", fix_rom },
    { "doctor.rom-unreadable", F8, "Cannot read device rom at", NULL, NULL, GP_SEV_WARN,
      "QEMU could not read the card's ROM: the guest firmware gets no VBIOS (black screen with OVMF)", fix_rom },
    /* F9 */
    { "doctor.d3cold", F9, "Unable to change power state from D3cold to D0", NULL, NULL, GP_SEV_FAIL,
      "the card did not power up again: it is inaccessible until the host reboots", fix_reset },
    { "doctor.not-ready", F9, "not ready 65535ms after", NULL, NULL, GP_SEV_FAIL,
      "the card did not answer for 65 seconds after a reset or resume, and the kernel gave up on it", fix_reset },
    { "doctor.stuck-in-d3", F9, "Unable to power on device, stuck in D3", NULL, NULL, GP_SEV_FAIL,
      "QEMU could not bring the card out of D3", fix_reset },
    { "doctor.power-state-refused", F9, "efused to change power state", NULL, NULL, GP_SEV_WARN,
      "the card did not enter or leave a low-power state as asked", fix_power_refused },
    { "doctor.pve-reset-failed", F9, "failed to reset PCI device", NULL, NULL, GP_SEV_WARN,
      "qemu-server could not reset the device before the VM start and went on without", fix_reset },
    { "doctor.pve-reset-refused", F9, "can't reset PCI device", NULL, NULL, GP_SEV_FAIL,
      "qemu-server stopped the VM start: the device's Function Level Reset failed", fix_reset },
    { "doctor.flr-pending", F9, "timed out waiting for pending transaction; performing function level reset anyway",
      NULL, NULL, GP_SEV_WARN,
      "the card still had DMA in flight when it was reset: its previous user did not stop it", fix_reset },
    { "doctor.bar-restore", F9, "reset recovery - restoring", NULL, NULL, GP_SEV_WARN,
      "vfio-pci found the card's BARs cleared (it lost its config space) and wrote them back", fix_reset },
    { "doctor.reset-group", F9, "depends on group", "which is not owned", NULL, GP_SEV_WARN,
      "QEMU could not reset the device: the reset would hit another group's devices", fix_reset_group },
    { "doctor.nvrm-init-failed", F9, "RmInitAdapter failed", NULL, NULL, GP_SEV_FAIL,
      "the NVIDIA driver could not initialize the GPU: on the host after a VM, the card was not reset; in a "
      "guest, see its BAR and ROM", fix_reset },
    { "doctor.invalidation-timeout", F9, "Invalidation Time-out Error", NULL, NULL, GP_SEV_WARN,
      "the IOMMU's invalidation queue timed out, in storms when a device hangs after a failed reset",
      fix_reset },
    { "doctor.amd-vi-page-fault", F9, "IO_PAGE_FAULT", "AMD-Vi", NULL, GP_SEV_WARN,
      "a device did DMA to an address the AMD IOMMU does not map", fix_dma_fault },
    { "doctor.dmar-fault", F9, "DRHD: handling fault status reg", NULL, NULL, GP_SEV_WARN,
      "the Intel IOMMU blocked DMA a device attempted outside its mappings", fix_dma_fault },
    { "doctor.dmar-fault-device", F9, "Request device [", "fault", NULL, GP_SEV_WARN,
      "the Intel IOMMU blocked DMA by this device outside its mappings", fix_dma_fault },
    /* F10 */
    { "doctor.msr-ignored", F10, "ignored rdmsr", NULL, NULL, GP_SEV_INFO,
      "a guest read an MSR KVM does not emulate; ignore_msrs answered it with 0", fix_msr },
    { "doctor.msr-unhandled", F10, "Unhandled RDMSR", NULL, NULL, GP_SEV_WARN,
      "a guest read an MSR KVM does not emulate and got a #GP fault", fix_msr },
    { "doctor.msr-unhandled-old", F10, "unhandled rdmsr", NULL, NULL, GP_SEV_WARN,
      "a guest read an MSR KVM does not emulate and got a #GP fault", fix_msr },
    /* F11 */
    { "doctor.bar0-zero", F11, "BAR0 is 0M", NULL, NULL, GP_SEV_FAIL,
      "in the guest, the NVIDIA driver found the GPU's BARs unassigned: the guest firmware had no room for them",
      fix_bar0_zero },
    { "doctor.ecap-hidden", F11, "hiding ecap", NULL, NULL, GP_SEV_INFO,
      "vfio-pci hides an extended capability it does not virtualize from the guest", fix_ecap },
    /* F12 */
    { "doctor.unbind-in-use", F12, "with non-zero usage count", "NVRM", NULL, GP_SEV_FAIL,
      "the NVIDIA driver was asked to let go of a GPU that is still open on the host; the unbind hangs",
      fix_in_use },
    { "doctor.pve-bind-failed", F12, "can't unbind/bind PCI group to VFIO", NULL, NULL, GP_SEV_FAIL,
      "qemu-server could not move the group to vfio-pci: a host driver did not let go", fix_in_use },
    /* F13 */
    { "doctor.rmrr", F13, "ineligible for IOMMU domain attach due to platform RMRR requirement", NULL, NULL,
      GP_SEV_FAIL, "the firmware needs DMA to this device's reserved memory (RMRR); the kernel will not assign it",
      fix_rmrr },
    { "doctor.rmrr-identity", F13, "Firmware has requested this device have a 1:1 IOMMU mapping", NULL, NULL,
      GP_SEV_FAIL, "the firmware needs an identity mapping for this device; the kernel will not assign it",
      fix_rmrr },
    /* F14 */
    { "doctor.class-3d", F14, "class 0x030200", NULL, NULL, GP_SEV_INFO,
      "a 3D controller (compute / datacenter / laptop GPU, no display output)", fix_3d },
    /* F15 */
    { "doctor.nvml-mismatch", F15, "Failed to initialize NVML: Driver/library version mismatch", NULL, NULL,
      GP_SEV_FAIL, "the container's NVIDIA userland is not the version of the host's kernel module", fix_nvml },
    { "doctor.lxc-mount-node", F15, "Failed to mount \"/dev/", NULL, NULL, GP_SEV_FAIL,
      "LXC could not bind-mount a device node into the container: it does not exist on the host",
      fix_lxc_nodes },
    { "doctor.lxc-autodev", F15, "Failed to run autodev hooks", NULL, NULL, GP_SEV_FAIL,
      "the container did not start: its device node setup failed", fix_lxc_nodes },
    { "doctor.lxc-va-display", F15, "No VA display found for device", NULL, NULL, GP_SEV_WARN,
      "VA-API in the container could not open the render node (group or node missing)", fix_lxc_render },
    { "doctor.lxc-docker-bpf", F15, "bpf_prog_query(BPF_CGROUP_DEVICE) failed", NULL, NULL, GP_SEV_WARN,
      "Docker's NVIDIA runtime inside the container cannot manage device cgroups", fix_lxc_bpf },
    /* F16 */
    { "doctor.mdev-multifunction", F16, "cannot use mediated device with multifunction device", NULL, NULL,
      GP_SEV_FAIL, "qemu-server refused a hostpci entry with mdev= that names a whole slot", fix_mdev_mf },
    { "doctor.sriov-mmio", F16, "not enough MMIO resources for SR-IOV", NULL, NULL, GP_SEV_FAIL,
      "the VFs could not be created: their BARs do not fit the bridge window", fix_sriov_mmio },
    { "doctor.sriov-busy", F16, "VFs already enabled. Disable before enabling", NULL, NULL, GP_SEV_WARN,
      "a write to sriov_numvfs was refused (EBUSY): VFs exist already", fix_sriov_busy },
    { "doctor.vgpu-mgr-error", F16, "error: vmiop_", NULL, NULL, GP_SEV_FAIL,
      "nvidia-vgpu-mgr could not set up the vGPU for the VM", fix_vgpu },
};

const size_t gp_n_logsigs = ELEMENTSOF(gp_logsigs);
