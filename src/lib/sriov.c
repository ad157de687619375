/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "pveguest.h"
#include "sriov.h"
#include "txn.h"

/* Proxmox VE >= 8.4.1 with vGPU 18+ (package pve-nvidia-vgpu-helper). */
#define PVE_NVIDIA_SRIOV_UNIT "usr/lib/systemd/system/pve-nvidia-sriov@.service"

static void vf_clear(gp_sriov_vf *vf)
{
    for (size_t i = 0; i < vf->n_types; i++) {
        free(vf->types[i].id);
        free(vf->types[i].name);
    }
    free(vf->types);
    free(vf->current_type);
}

void gp_sriov_clear(gp_sriov *s)
{
    for (size_t i = 0; i < s->n_vfs; i++)
        vf_clear(&s->vfs[i]);
    free(s->vfs);
    *s = (gp_sriov){ .pf = -1 };
}

static int add_type(gp_sriov_vf *vf, const char *id, size_t id_len, const char *name, int available)
{
    gp_vgpu_type *v = realloc(vf->types, (vf->n_types + 1) * sizeof(*v));

    if (!v)
        return -ENOMEM;
    vf->types = v;
    v[vf->n_types] = (gp_vgpu_type){ .id = strndup(id, id_len), .name = name ? strdup(name) : NULL,
                                     .available = available };
    if (!v[vf->n_types].id || (name && !v[vf->n_types].name)) {
        free(v[vf->n_types].id);
        free(v[vf->n_types].name);
        return -ENOMEM;
    }
    vf->n_types++;
    return 0;
}

/* mdev: one directory per type, with name and available_instances. */
static int read_mdev_types(const gp_host *h, const char *dir, gp_sriov_vf *vf)
{
    _cleanup_free_ char *types = NULL;
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r;

    if (asprintf(&types, "%s/mdev_supported_types", dir) < 0)
        return -ENOMEM;
    if (gp_host_list_dir(h, types, &names, &n) < 0)
        return 0;
    vf->iface = GP_VGPU_MDEV;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = NULL, *name = NULL, *avail = NULL;
        long a = -1;

        if (asprintf(&p, "%s/%s/name", types, names[i]) < 0)
            return -ENOMEM;
        (void)gp_host_read_attr(h, p, &name);
        free(p);
        if (asprintf(&p, "%s/%s/available_instances", types, names[i]) < 0)
            return -ENOMEM;
        if (gp_host_read_attr(h, p, &avail) >= 0) {
            char *end;

            a = strtol(avail, &end, 10);
            if (*end || a < 0)
                a = -1;
        }
        r = add_type(vf, names[i], strlen(names[i]), name, (int)a);
        if (r < 0)
            return r;
    }
    return 0;
}

/* nvidia/creatable_vgpu_types: "1428 : NVIDIA H200X-141C" lines, the
 * types this VF can take now (a header line, if any, has no number). */
static int read_nvidia_types(const gp_host *h, const char *dir, gp_sriov_vf *vf)
{
    _cleanup_free_ char *p = NULL, *text = NULL;
    char *line, *save = NULL;
    int r;

    if (asprintf(&p, "%s/nvidia/creatable_vgpu_types", dir) < 0)
        return -ENOMEM;
    if (gp_host_read_file(h, p, 1024 * 1024, &text, NULL) < 0)
        return 0;
    vf->iface = GP_VGPU_NVIDIA;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t id_len;
        char *colon, *name;

        line += strspn(line, " \t");
        id_len = strspn(line, "0123456789");
        colon = strchr(line, ':');
        if (id_len == 0 || !colon || line[id_len + strspn(line + id_len, " \t")] != ':')
            continue;
        name = gp_strip(colon + 1);
        name += strspn(name, " \t");
        r = add_type(vf, line, id_len, *name ? name : NULL, -1);
        if (r < 0)
            return r;
    }
    free(p);
    if (asprintf(&p, "%s/nvidia/current_vgpu_type", dir) < 0)
        return -ENOMEM;
    (void)gp_host_read_attr(h, p, &vf->current_type);
    return 0;
}

int gp_sriov_read(const gp_host *h, const gp_pci_list *pci, int pf, gp_sriov *ret, gp_error *err)
{
    const gp_pci_dev *d = &pci->devs[pf];
    _cleanup_free_ char *p = NULL, *autoprobe = NULL;
    int r;

    *ret = (gp_sriov){ .pf = pf, .autoprobe = -1 };
    if (d->is_vf)
        return gp_error_set(err, -EOPNOTSUPP, "%s is itself a virtual function of %s; name its physical function",
                            d->name, d->physfn >= 0 ? pci->devs[d->physfn].name : "another device");
    if (d->sriov_total_vfs <= 0)
        return gp_error_set(err, -EOPNOTSUPP, "%s has no SR-IOV: the kernel lists no sriov_totalvfs for it", d->name);
    ret->total = d->sriov_total_vfs;
    ret->num = d->sriov_num_vfs;
    if (asprintf(&p, "%s/sriov_drivers_autoprobe", d->path) < 0)
        return -ENOMEM;
    if (gp_host_read_attr(h, p, &autoprobe) >= 0)
        ret->autoprobe = strcmp(autoprobe, "1") == 0;
    /* NVIDIA: "use only sriov-manage", which also prepares the vGPU
     * manager for the VFs; a plain sriov_numvfs write does not. */
    ret->method = d->vendor_id == 0x10de ? GP_SRIOV_NVIDIA_MANAGE : GP_SRIOV_SYSFS;
    ret->pve_nvidia_helper = gp_host_exists(h, PVE_NVIDIA_SRIOV_UNIT);
    for (size_t i = 0; i < pci->n; i++) {
        gp_sriov_vf *v;

        if (!pci->devs[i].is_vf || pci->devs[i].physfn != pf)
            continue;
        v = realloc(ret->vfs, (ret->n_vfs + 1) * sizeof(*v));
        if (!v) {
            gp_sriov_clear(ret);
            return -ENOMEM;
        }
        ret->vfs = v;
        v[ret->n_vfs] = (gp_sriov_vf){ .dev = (int)i };
        r = read_nvidia_types(h, pci->devs[i].path, &v[ret->n_vfs]);
        if (r >= 0 && v[ret->n_vfs].iface == GP_VGPU_NONE)
            r = read_mdev_types(h, pci->devs[i].path, &v[ret->n_vfs]);
        ret->n_vfs++;
        if (r < 0) {
            gp_sriov_clear(ret);
            return r;
        }
    }
    return 0;
}

int gp_sriov_vf_in_use(const gp_check_ctx *ctx, const gp_sriov *s, char *why, size_t why_size)
{
    for (size_t i = 0; i < s->n_vfs; i++) {
        const gp_pci_dev *d = &ctx->pci->devs[s->vfs[i].dev];

        if (d->driver && strcmp(d->driver, "vfio-pci") == 0) {
            snprintf(why, why_size, "%s is bound to vfio-pci (a guest may hold it)", d->name);
            return (int)i;
        }
        if (s->vfs[i].current_type && strcmp(s->vfs[i].current_type, "0") != 0) {
            snprintf(why, why_size, "%s has vGPU type %s set (nvidia/current_vgpu_type)", d->name,
                     s->vfs[i].current_type);
            return (int)i;
        }
        for (size_t v = 0; v < ctx->vms.n; v++)
            for (size_t k = 0; k < ctx->vms.v[v].n_hostpci; k++)
                if (gp_pve_hostpci_matches(&ctx->vms.v[v].hostpci[k], d->name)) {
                    snprintf(why, why_size, "VM %u has %s (hostpci%u)", ctx->vms.v[v].vmid, d->name,
                             ctx->vms.v[v].hostpci[k].index);
                    return (int)i;
                }
    }
    return -1;
}

int gp_sriov_plan(const gp_host *h, const gp_pci_list *pci, const gp_sriov *s, int n, gp_plan *plan,
                  gp_error *err)
{
    const gp_pci_dev *pf = &pci->devs[s->pf];
    _cleanup_free_ char *path = NULL, *rule = NULL, *why = NULL, *match_drv = NULL;
    int r;

    if (n < 0 || n > s->total)
        return gp_error_set(err, -EINVAL, "%d virtual functions: %s offers 0 to %d (sriov_totalvfs)", n, pf->name,
                            s->total);
    if (s->method == GP_SRIOV_NVIDIA_MANAGE && s->pve_nvidia_helper)
        return gp_plan_add_note(plan, "Proxmox's own unit makes the VFs at every boot: systemctl enable "
                                "pve-nvidia-sriov@%s.service (or @ALL for every GPU).", pf->name) < 0 ? -ENOMEM : 0;
    /* The write must wait for the PF's driver: the kernel answers ENOENT
     * without one. A bind event of that driver is the moment. */
    if (pf->driver && asprintf(&match_drv, ", DRIVER==\"%s\"", pf->driver) < 0)
        return -ENOMEM;
    if (asprintf(&path, "etc/udev/rules.d/70-gpupass-sriov-%s.rules", pf->name) < 0)
        return -ENOMEM;
    if (s->method == GP_SRIOV_NVIDIA_MANAGE)
        r = asprintf(&rule,
                     "# gpupass sriov: the virtual functions of %s at every boot, made by NVIDIA's\n"
                     "# sriov-manage once the nvidia driver has bound (a plain sriov_numvfs write does not\n"
                     "# prepare them for vGPU). Remove this file (or gpupass undo) to stop.\n"
                     "ACTION==\"bind\", SUBSYSTEM==\"pci\", KERNEL==\"%s\"%s, RUN+=\"%s -e %s\"\n",
                     pf->name, pf->name, match_drv ? match_drv : "", GP_SRIOV_MANAGE, pf->name);
    else
        r = asprintf(&rule,
                     "# gpupass sriov: %d virtual functions on %s at every boot, written when its\n"
                     "# driver binds (the kernel makes VFs only through a bound driver). Remove this file\n"
                     "# (or gpupass undo) to stop.\n"
                     "ACTION==\"bind\", SUBSYSTEM==\"pci\", KERNEL==\"%s\"%s, ATTR{sriov_numvfs}=\"%d\"\n",
                     n, pf->name, pf->name, match_drv ? match_drv : "", n);
    if (r < 0 || asprintf(&why, "%d SR-IOV virtual functions on %s at boot", n, pf->name) < 0)
        return -ENOMEM;
    r = gp_plan_set_file(plan, h, path, rule, strlen(rule), 0644, why, err);
    return r < 0 ? r : 0;
}

static int numvfs_write(const gp_host *h, const gp_pci_dev *pf, int n, const char *point, gp_error *err)
{
    _cleanup_free_ char *p = NULL;
    char v[16];
    int r;

    if (asprintf(&p, "%s/sriov_numvfs", pf->path) < 0)
        return -ENOMEM;
    snprintf(v, sizeof(v), "%d", n);
    r = gp_fault_point(point);
    if (r >= 0)
        r = gp_host_write_attr(h, p, v);
    if (r == -ENOENT)
        return gp_error_set(err, r, "%s: the kernel cannot make VFs: %s (sriov_numvfs needs a bound driver "
                            "that supports it; see dmesg)", pf->name,
                            pf->driver ? "its driver does not support SR-IOV configuration" : "no driver is bound");
    if (r == -ENOMEM)
        return gp_error_set(err, r, "%s: not enough MMIO space for the VF BARs (dmesg: \"not enough MMIO "
                            "resources for SR-IOV\"): enable SR-IOV and Above 4G decoding in the firmware, or boot "
                            "with pci=realloc", pf->name);
    if (r == -EBUSY)
        return gp_error_set(err, r, "%s: the kernel refuses to change the VF count while VFs exist (write 0 "
                            "first)", pf->name);
    if (r < 0)
        return gp_error_set(err, r, "%s: writing %d to /sys/bus/pci/devices/%s/sriov_numvfs failed: %s", pf->name,
                            n, pf->name, strerror(-r));
    return 0;
}

int gp_sriov_enable_now(const gp_host *h, const gp_pci_list *pci, const gp_sriov *s, int n, const gp_runner *run,
                        gp_error *err)
{
    const gp_pci_dev *pf = &pci->devs[s->pf];
    int r;

    if (n < 0 || n > s->total)
        return gp_error_set(err, -EINVAL, "%d virtual functions: %s offers 0 to %d (sriov_totalvfs)", n, pf->name,
                            s->total);
    if (s->method == GP_SRIOV_NVIDIA_MANAGE) {
        char *argv[] = { (char *)GP_SRIOV_MANAGE, (char *)(n ? "-e" : "-d"), (char *)pf->name, NULL };

        r = gp_fault_point(n ? "sriov.enable" : "sriov.disable");
        if (r >= 0)
            r = gp_runner_run(run, argv);
        if (r < 0)
            return gp_error_set(err, r, "cannot run %s: %s (is the NVIDIA vGPU host driver installed?)",
                                GP_SRIOV_MANAGE, strerror(-r));
        if (r > 0)
            return gp_error_set(err, -EIO, "%s %s %s exited with status %d; see its output and dmesg",
                                GP_SRIOV_MANAGE, argv[1], pf->name, r);
        return 0;
    }
    if (s->num == n)
        return 0;
    if (s->num != 0) {
        r = numvfs_write(h, pf, 0, "sriov.disable", err);
        if (r < 0)
            return r;
    }
    return n ? numvfs_write(h, pf, n, "sriov.enable", err) : 0;
}
