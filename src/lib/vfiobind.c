/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "txn.h"
#include "vfiobind.h"

static int dev_attr_path(char *buf, size_t len, const gp_pci_dev *d, const char *attr)
{
    return snprintf(buf, len, "sys/bus/pci/devices/%s/%s", d->name, attr) < (int)len ? 0 : -ENAMETOOLONG;
}

static int driver_of(const gp_host *h, const gp_pci_dev *d, char *buf, size_t len)
{
    _cleanup_free_ char *target = NULL;
    char path[256];
    const char *base;

    dev_attr_path(path, sizeof(path), d, "driver");
    buf[0] = '\0';
    if (gp_host_readlink(h, path, &target) < 0)
        return 0;
    base = strrchr(target, '/');
    snprintf(buf, len, "%s", base ? base + 1 : target);
    return 0;
}

void gp_bind_set_clear(gp_bind_set *s)
{
    free(s->devs.v);
    free(s->holders);
    *s = (gp_bind_set){ 0 };
}

/* qemu-server starts each VM's QEMU with "-id <vmid>" (PVE::QemuServer
 * config_to_command); proc/<pid>/cmdline separates the words with NULs. */
static unsigned qemu_vmid(const gp_host *h, const char *pid)
{
    _cleanup_free_ char *buf = NULL;
    char path[64];
    size_t len = 0;

    snprintf(path, sizeof(path), "proc/%s/cmdline", pid);
    if (gp_host_read_file(h, path, 256 * 1024, &buf, &len) < 0)
        return 0;
    for (size_t i = 0; i < len;) {
        const char *w = buf + i;
        size_t wl = strnlen(w, len - i);

        if (strcmp(w, "-id") == 0 && i + wl + 1 < len)
            return (unsigned)strtoul(w + wl + 1, NULL, 10);
        i += wl + 1;
    }
    return 0;
}

/* Scans /proc/<pid>/fd for links to any of nodes. */
int gp_holders_of(const gp_host *h, const char *const *nodes, gp_holder **ret, size_t *ret_n)
{
    _cleanup_strv_ char **pids = NULL;
    gp_holder *v = NULL;
    size_t n = 0;
    int r = gp_host_list_dir(h, "proc", &pids, NULL);

    *ret = NULL;
    *ret_n = 0;
    if (r < 0)
        return r == -ENOMEM ? r : 0;
    for (char **p = pids; *p; p++) {
        _cleanup_strv_ char **fds = NULL;
        char dir[64];

        if (strspn(*p, "0123456789") != strlen(*p))
            continue;
        snprintf(dir, sizeof(dir), "proc/%s/fd", *p);
        if (gp_host_list_dir(h, dir, &fds, NULL) < 0)
            continue;
        for (char **f = fds; *f; f++) {
            _cleanup_free_ char *target = NULL;
            char link[128];

            snprintf(link, sizeof(link), "%s/%s", dir, *f);
            if (gp_host_readlink(h, link, &target) < 0)
                continue;
            for (const char *const *node = nodes; *node; node++) {
                _cleanup_free_ char *comm = NULL;
                char cpath[64];
                gp_holder *nv;

                if (strcmp(target, *node) != 0)
                    continue;
                nv = realloc(v, (n + 1) * sizeof(*nv));
                if (!nv) {
                    free(v);
                    return -ENOMEM;
                }
                v = nv;
                v[n] = (gp_holder){ .pid = atoi(*p) };
                snprintf(cpath, sizeof(cpath), "proc/%s/comm", *p);
                if (gp_host_read_attr(h, cpath, &comm) >= 0)
                    snprintf(v[n].comm, sizeof(v[n].comm), "%s", comm);
                snprintf(v[n].node, sizeof(v[n].node), "%s", *node);
                v[n].vmid = qemu_vmid(h, *p);
                n++;
            }
        }
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The /dev nodes a host driver gives a GPU: its DRM card and render nodes,
 * every /dev/nvidia* for nvidia, /dev/kfd for amdgpu (ROCm). A process
 * holding one of them makes the unbind wait forever (failure-modes F12). */
static int gpu_nodes(const gp_host *h, const gp_pci_dev *d, char ***ret)
{
    _cleanup_strv_ char **drm = NULL;
    char **nodes = NULL;
    char path[256], drv[64];
    int r = 0;

    dev_attr_path(path, sizeof(path), d, "drm");
    if (gp_host_list_dir(h, path, &drm, NULL) >= 0)
        for (char **e = drm; *e && r >= 0; e++)
            if (gp_startswith(*e, "card") || gp_startswith(*e, "renderD")) {
                char node[64];

                snprintf(node, sizeof(node), "/dev/dri/%s", *e);
                r = gp_strv_append(&nodes, NULL, node, strlen(node));
            }
    driver_of(h, d, drv, sizeof(drv));
    if (r >= 0 && strcmp(drv, "nvidia") == 0) {
        _cleanup_strv_ char **devs = NULL;

        if (gp_host_list_dir(h, "dev", &devs, NULL) >= 0)
            for (char **e = devs; *e && r >= 0; e++)
                if (gp_startswith(*e, "nvidia")) {
                    char node[64];

                    snprintf(node, sizeof(node), "/dev/%s", *e);
                    r = gp_strv_append(&nodes, NULL, node, strlen(node));
                }
    }
    if (r >= 0 && strcmp(drv, "amdgpu") == 0)
        r = gp_strv_append(&nodes, NULL, "/dev/kfd", 8);
    if (r < 0) {
        gp_strv_free(nodes);
        return r;
    }
    *ret = nodes;
    return 0;
}

int gp_bind_prepare(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, const gp_hostcrit *crit,
                    const gp_bind_opts *opts, gp_bind_set *ret, gp_error *err)
{
    gp_bind_set s = { 0 };
    const gp_pci_dev *d = &pci->devs[gpu->dev];
    int r = 0;

    *ret = s;
    if (gpu->verdict == GP_VERDICT_NO_IOMMU)
        return gp_error_set(err, -ECANCELED, "%s has no IOMMU group: the IOMMU is off (gpupass check says why)",
                            d->name);
    if (gpu->verdict == GP_VERDICT_SHARED && !opts->group)
        return gp_error_set(err, -ECANCELED, "the IOMMU group of %s holds %zu other device%s; VFIO can use the "
                            "group only when all of them are on vfio-pci: add --group to bind them too",
                            d->name, gpu->shared_with.n, gpu->shared_with.n == 1 ? "" : "s");
    if (gpu->host_critical.n && !opts->force)
        return gp_error_set(err, -ECANCELED, "the group of %s holds %s: %s; --force binds it anyway and the host "
                            "loses it", d->name, pci->devs[gpu->host_critical.v[0]].name,
                            gp_hostcrit_reason(crit, gpu->host_critical.v[0]));
    if (d->boot_vga == 1 && d->driver && strcmp(d->driver, "vfio-pci") != 0 && !opts->force)
        return gp_error_set(err, -ECANCELED, "%s is the boot display and %s drives the console on it; unbinding it "
                            "takes the console away (--force does it anyway)", d->name, d->driver);

    for (size_t i = 0; i < gpu->functions.n && r >= 0; i++)
        r = gp_idx_list_add(&s.devs, gpu->functions.v[i]);
    if (opts->group)
        for (size_t i = 0; i < gpu->shared_with.n && r >= 0; i++)
            r = gp_idx_list_add(&s.devs, gpu->shared_with.v[i]);
    for (size_t i = 0; i < s.devs.n && r >= 0; i++) {
        _cleanup_strv_ char **nodes = NULL;
        gp_holder *hv = NULL;
        size_t hn = 0;

        r = gpu_nodes(h, &pci->devs[s.devs.v[i]], &nodes);
        if (r >= 0 && nodes)
            r = gp_holders_of(h, (const char *const *)nodes, &hv, &hn);
        if (r >= 0 && hn) {
            gp_holder *nv = realloc(s.holders, (s.n_holders + hn) * sizeof(*nv));

            if (!nv)
                r = -ENOMEM;
            else {
                s.holders = nv;
                memcpy(s.holders + s.n_holders, hv, hn * sizeof(*hv));
                s.n_holders += hn;
            }
        }
        free(hv);
    }
    if (r < 0) {
        gp_bind_set_clear(&s);
        return r;
    }
    if (s.n_holders) {
        char who[512] = "";
        size_t used = 0;

        for (size_t i = 0; i < s.n_holders && used < sizeof(who); i++)
            used += (size_t)snprintf(who + used, sizeof(who) - used, "%s%s (pid %d, %s)", i ? ", " : "",
                                     s.holders[i].comm, s.holders[i].pid, s.holders[i].node);
        r = gp_error_set(err, -ECANCELED, "processes use %s: %s; unbinding now would hang until they let go. "
                         "Stop them first (display manager, nvidia-persistenced, CUDA jobs)", d->name, who);
        gp_bind_set_clear(&s);
        return r;
    }
    *ret = s;
    return 0;
}

static int save_driver(const gp_host *h, const gp_pci_dev *d, const char *drv)
{
    _cleanup_close_ int dfd = -1;
    int rootfd = gp_host_rootfd(h);

    /* run/ is a tmpfs: the saved drivers last until the next boot, as the binding does */
    (void)mkdirat(rootfd, "run/gpupass", 0755);
    (void)mkdirat(rootfd, GP_BIND_SAVE_DIR, 0755);
    dfd = openat(rootfd, GP_BIND_SAVE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0)
        return gp_negerrno();
    if (faccessat(dfd, d->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;   /* bound before: the first saved driver is the one to go back to */
    return gp_file_replace_at(dfd, d->name, drv, strlen(drv), 0644, getuid(), getgid());
}

char *gp_bind_saved_driver(const gp_host *h, const char *dev)
{
    char path[128];
    char *v = NULL;

    snprintf(path, sizeof(path), GP_BIND_SAVE_DIR "/%s", dev);
    if (gp_host_read_attr(h, path, &v) < 0)
        return NULL;
    return v;
}

static void forget_driver(const gp_host *h, const char *dev)
{
    char path[128];

    snprintf(path, sizeof(path), GP_BIND_SAVE_DIR "/%s", dev);
    (void)unlinkat(gp_host_rootfd(h), path, 0);
}

/* One device to target (vfio-pci), or back to what probes ("" override). */
static int move(const gp_host *h, const gp_pci_dev *d, const char *target)
{
    char path[256], drv[64];
    int r;

    dev_attr_path(path, sizeof(path), d, "driver_override");
    r = gp_host_write_attr(h, path, *target ? target : "\n");
    if (r < 0)
        return r;
    driver_of(h, d, drv, sizeof(drv));
    if (drv[0] && strcmp(drv, target) != 0) {
        dev_attr_path(path, sizeof(path), d, "driver/unbind");
        r = gp_host_write_attr(h, path, d->name);
        if (r < 0)
            return r;
    }
    /* drivers_probe binds it to the override, or (none) to its own driver */
    r = gp_host_write_attr(h, "sys/bus/pci/drivers_probe", d->name);
    return r == -ENODEV || r == -EINVAL ? 0 : r;
}

int gp_vfio_group_viable(const gp_host *h, int group)
{
    struct vfio_group_status st = { .argsz = sizeof(st) };
    char path[64];
    _cleanup_close_ int fd = -1;

    snprintf(path, sizeof(path), "dev/vfio/%d", group);
    fd = gp_host_open_file(h, path);
    if (fd < 0)
        return fd;
    /* The group takes ioctls on a read-write fd, and opens only once at a
     * time (drivers/vfio/group.c): close the first fd before reopening. */
    {
        _cleanup_free_ char *rel = NULL;

        if (gp_host_resolve(h, path, &rel) >= 0) {
            close(fd);
            fd = openat(gp_host_rootfd(h), rel, O_RDWR | O_CLOEXEC);
            if (fd < 0)
                return gp_negerrno();
        }
    }
    if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0)
        return gp_negerrno();
    return (st.flags & VFIO_GROUP_FLAGS_VIABLE) ? 1 : 0;
}

int gp_bind_apply(const gp_host *h, const gp_pci_list *pci, const gp_bind_set *s, const gp_bind_opts *opts,
                  const gp_runner *run, int *ret_group, gp_error *err)
{
    size_t done = 0;
    int r = 0, group = -1, viable;

    *ret_group = -1;
    /* qemu-server does the same: load vfio-pci when its driver directory is missing */
    if (!gp_host_exists(h, "sys/bus/pci/drivers/vfio-pci")) {
        char *argv[] = { (char *)"modprobe", (char *)"vfio-pci", NULL };

        r = gp_runner_run(run, argv);
        if (r != 0 || !gp_host_exists(h, "sys/bus/pci/drivers/vfio-pci"))
            return gp_error_set(err, -ENOENT, "vfio-pci is not available: `modprobe vfio-pci` %s; install the "
                                "kernel's modules (vfio-pci is part of every Debian and Proxmox kernel)",
                                r == 0 ? "did not register the driver" : "failed");
    }
    for (; done < s->devs.n; done++) {
        const gp_pci_dev *d = &pci->devs[s->devs.v[done]];
        char drv[64];

        driver_of(h, d, drv, sizeof(drv));
        if (strcmp(drv, "vfio-pci") == 0)
            continue;
        r = save_driver(h, d, drv);
        if (r < 0) {
            gp_error_set(err, r, "%s: cannot save its driver under /%s: %s", d->name, GP_BIND_SAVE_DIR,
                         strerror(-r));
            break;
        }
        r = gp_fault_point("bind.move");
        if (r >= 0 && opts->reset_method && d->reset_method) {
            /* vendor-reset needs device_specific selected since 5.15
             * (reset_method ABI); VFIO resets with it at VM start */
            char path[256];

            dev_attr_path(path, sizeof(path), d, "reset_method");
            r = gp_host_write_attr(h, path, opts->reset_method);
            if (r < 0) {
                gp_error_set(err, r, "%s: the kernel refused reset_method \"%s\" (%s); it offers: %s", d->name,
                             opts->reset_method, strerror(-r), d->reset_method);
                break;
            }
        }
        if (r >= 0)
            r = move(h, d, "vfio-pci");
        driver_of(h, d, drv, sizeof(drv));
        if (r >= 0 && strcmp(drv, "vfio-pci") != 0)
            r = -ENXIO;
        if (r < 0) {
            gp_error_set(err, r, "%s did not bind to vfio-pci (%s, driver now: %s); the kernel log says why: dmesg "
                         "| grep %s", d->name, strerror(-r), drv[0] ? drv : "none", d->name + 5);
            break;
        }
        if (d->iommu_group >= 0)
            group = d->iommu_group;
    }
    if (r >= 0 && group >= 0) {
        viable = gp_vfio_group_viable(h, group);
        if (viable == 0)
            r = gp_error_set(err, -EPERM, "IOMMU group %d is not viable after the bind: a device of the group is "
                             "still on a host driver (gpupass list --all); nothing was left bound", group);
        else if (viable == -EBUSY)
            r = gp_error_set(err, -EBUSY, "/dev/vfio/%d is held by another process (a running VM?); gpupass "
                             "status shows which", group);
        else if (viable < 0 && viable != -ENOENT)
            r = gp_error_set(err, viable, "/dev/vfio/%d: %s", group, strerror(-viable));
        if (r < 0)
            done = s->devs.n;
    }
    if (r < 0) {
        /* put back, newest first, what this call moved */
        for (size_t i = done + (done < s->devs.n ? 1 : 0); i-- > 0;) {
            const gp_pci_dev *d = &pci->devs[s->devs.v[i]];
            _cleanup_free_ char *saved = gp_bind_saved_driver(h, d->name);

            if (saved && strcmp(saved, "vfio-pci") != 0) {
                (void)move(h, d, "");
                forget_driver(h, d->name);
            }
            if (opts->reset_method && d->reset_method) {
                char path[256];

                /* the methods it had, in their order */
                dev_attr_path(path, sizeof(path), d, "reset_method");
                (void)gp_host_write_attr(h, path, d->reset_method);
            }
        }
        return r;
    }
    *ret_group = group;
    return 0;
}

int gp_unbind(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, gp_error *err)
{
    _cleanup_strv_ char **saved = NULL;
    int r, failed = 0;

    /* the card's functions, and whatever else was bound with --group */
    r = gp_host_list_dir(h, GP_BIND_SAVE_DIR, &saved, NULL);
    if (r < 0 && r != -ENOENT)
        return gp_error_set(err, r, "/%s: %s", GP_BIND_SAVE_DIR, strerror(-r));
    for (size_t i = 0; i < pci->n; i++) {
        const gp_pci_dev *d = &pci->devs[i];
        _cleanup_free_ char *want = NULL;
        bool mine = gp_idx_list_contains(&gpu->functions, (int)i);
        char drv[64];

        for (char **sv = saved; !mine && sv && *sv; sv++)
            mine = strcmp(*sv, d->name) == 0 && gp_idx_list_contains(&gpu->members, (int)i);
        if (!mine)
            continue;
        want = gp_bind_saved_driver(h, d->name);
        driver_of(h, d, drv, sizeof(drv));
        if (strcmp(drv, "vfio-pci") != 0 && !want)
            continue;
        r = move(h, d, "");
        driver_of(h, d, drv, sizeof(drv));
        if (r >= 0 && want && *want && strcmp(drv, want) != 0) {
            /* probe gave it to no one or to another driver: ask the saved one */
            char path[128];

            snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/bind", want);
            (void)gp_host_write_attr(h, path, d->name);
            driver_of(h, d, drv, sizeof(drv));
        }
        if (r < 0 || (want && *want && strcmp(drv, want) != 0)) {
            gp_error_set(err, r < 0 ? r : -EIO, "%s did not come back to %s (driver now: %s; reset methods: %s). "
                         "A device that stays dead after a VM is the reset bug: reboot the host, and see gpupass "
                         "check for the card's reset advice", d->name, want && *want ? want : "its driver",
                         drv[0] ? drv : "none", d->reset_method ? d->reset_method : "none");
            failed = r < 0 ? r : -EIO;
            continue;
        }
        forget_driver(h, d->name);
    }
    return failed;
}
