/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "pci.h"
#include "shared/macro.h"

/* struct resource flags as /sys/bus/pci/devices/X/resource prints them
 * (include/linux/ioport.h). */
#define IORESOURCE_IO       0x00000100
#define IORESOURCE_MEM      0x00000200
#define IORESOURCE_PREFETCH 0x00002000
#define IORESOURCE_MEM_64   0x00100000

static void dev_clear(gp_pci_dev *d)
{
    free(d->path);
    free(d->driver);
    free(d->cur_link_speed);
    free(d->max_link_speed);
    free(d->reset_method);
}

void gp_pci_list_free(gp_pci_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        dev_clear(&l->devs[i]);
    free(l->devs);
    free(l);
}

static int read_hex16(int dfd, const char *name, uint16_t *ret)
{
    long v;
    int r = gp_attr_read_long_at(dfd, name, 16, &v);

    if (r < 0)
        return r;
    if (v < 0 || v > 0xffff)
        return -ERANGE;
    *ret = (uint16_t)v;
    return 0;
}

static int read_int_or(int dfd, const char *name, int dflt)
{
    long v;

    if (gp_attr_read_long_at(dfd, name, 10, &v) < 0 || v < -1 || v > 1 << 20)
        return dflt;
    return (int)v;
}

static char *read_str_or_null(int dfd, const char *name)
{
    char *s = NULL;

    if (gp_attr_read_at(dfd, name, &s) < 0)
        return NULL;
    return s;
}

static void read_bars(int dfd, gp_pci_dev *d)
{
    _cleanup_free_ char *s = NULL;
    char *line, *save = NULL;
    int i = 0;

    if (gp_attr_read_at(dfd, "resource", &s) < 0)
        return;
    for (line = strtok_r(s, "\n", &save); line && i < GP_PCI_BARS; line = strtok_r(NULL, "\n", &save), i++) {
        uint64_t start, end, flags;

        if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end, &flags) != 3)
            continue;
        if (flags == 0 || end <= start)
            continue;
        d->bars[i].start = start;
        d->bars[i].size = end - start + 1;
        d->bars[i].io = flags & IORESOURCE_IO;
        d->bars[i].prefetchable = flags & IORESOURCE_PREFETCH;
        d->bars[i].mem64 = flags & IORESOURCE_MEM_64;
    }
}

/* One function: every attribute is optional except the IDs and class, which
 * every kernel since 2.6 provides; a directory without them is not a device. */
static int read_device(const gp_host *h, const char *name, gp_pci_dev *d, gp_error *err)
{
    _cleanup_free_ char *link = NULL, *group = NULL, *cfg = NULL, *physfn = NULL;
    _cleanup_close_ int dfd = -1;
    long v;
    size_t cfglen = 0;
    int r;

    if (asprintf(&link, "sys/bus/pci/devices/%s", name) < 0)
        return -ENOMEM;
    r = gp_host_resolve(h, link, &d->path);
    if (r < 0)
        return gp_error_set(err, r, "%s/%s: %s%s", gp_host_source(h), link, strerror(-r),
                            r == -EXDEV ? " (the link points outside the host root; the root is damaged or hostile)" : "");
    dfd = openat(gp_host_rootfd(h), d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return gp_error_set(err, gp_negerrno(), "%s/%s: %s", gp_host_source(h), link, strerror(errno));

    if ((r = read_hex16(dfd, "vendor", &d->vendor_id)) < 0 ||
        (r = read_hex16(dfd, "device", &d->device_id)) < 0 ||
        (r = gp_attr_read_long_at(dfd, "class", 16, &v)) < 0)
        return gp_error_set(err, r, "%s/%s: unreadable vendor, device or class (%s); the host root is incomplete",
                            gp_host_source(h), d->path, strerror(-r));
    d->class_code = (uint32_t)v & 0xffffff;
    read_hex16(dfd, "subsystem_vendor", &d->subsys_vendor_id);
    read_hex16(dfd, "subsystem_device", &d->subsys_device_id);
    if (gp_attr_read_long_at(dfd, "revision", 16, &v) == 0)
        d->revision = (uint8_t)v;

    d->numa_node = read_int_or(dfd, "numa_node", -1);
    if (gp_readlink_base_at(dfd, "driver", &d->driver) < 0)
        d->driver = NULL;
    d->iommu_group = -1;
    if (gp_readlink_base_at(dfd, "iommu_group", &group) == 0) {
        char *end;

        v = strtol(group, &end, 10);
        if (*end == '\0' && v >= 0 && v < 1 << 24)
            d->iommu_group = (int)v;
    }

    d->cur_link_speed = read_str_or_null(dfd, "current_link_speed");
    d->max_link_speed = read_str_or_null(dfd, "max_link_speed");
    d->cur_link_width = read_int_or(dfd, "current_link_width", 0);
    d->max_link_width = read_int_or(dfd, "max_link_width", 0);
    d->reset_method = read_str_or_null(dfd, "reset_method");
    d->boot_vga = read_int_or(dfd, "boot_vga", -1);
    d->sriov_total_vfs = read_int_or(dfd, "sriov_totalvfs", -1);
    d->sriov_num_vfs = d->sriov_total_vfs >= 0 ? read_int_or(dfd, "sriov_numvfs", 0) : -1;
    if (gp_readlink_base_at(dfd, "physfn", &physfn) == 0) {
        bool whole;

        d->is_vf = gp_pci_addr_parse(physfn, &d->physfn_addr, &whole) == 0 && !whole;
    }
    read_bars(dfd, d);

    /* Reading config needs no privilege for the first 64 bytes, root for
     * the rest; a short read is normal, not an error. */
    {
        _cleanup_close_ int cfd = openat(dfd, "config", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

        if (cfd >= 0 && gp_fd_read_all(cfd, 4096, &cfg, &cfglen) == 0)
            gp_pci_parse_config(d, (const uint8_t *)cfg, cfglen);
        else
            d->pcie_type = GP_PCIE_NONE;
    }
    return 0;
}

static int cmp_dev(const void *a, const void *b)
{
    return gp_pci_addr_cmp(&((const gp_pci_dev *)a)->addr, &((const gp_pci_dev *)b)->addr);
}

int gp_pci_list_find(const gp_pci_list *l, const gp_pci_addr *addr)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = gp_pci_addr_cmp(&l->devs[mid].addr, addr);

        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The upstream bridge is the sysfs directory above the device, when that
 * directory is itself a PCI function ("…/0000:00:01.0/0000:01:00.0"). */
static int find_parent(const gp_pci_list *l, const gp_pci_dev *d)
{
    const char *end = strrchr(d->path, '/');
    const char *start;
    char comp[64];
    gp_pci_addr a;
    bool whole;

    if (!end || end == d->path)
        return -1;
    start = end - 1;
    while (start > d->path && *(start - 1) != '/')
        start--;
    if ((size_t)(end - start) >= sizeof(comp))
        return -1;
    memcpy(comp, start, (size_t)(end - start));
    comp[end - start] = '\0';
    if (gp_pci_addr_parse(comp, &a, &whole) < 0 || whole)
        return -1;
    return gp_pci_list_find(l, &a);
}

int gp_pci_scan(const gp_host *h, gp_pci_list **ret, gp_error *err)
{
    _cleanup_pci_list_ gp_pci_list *l = calloc(1, sizeof(*l));
    _cleanup_strv_ char **names = NULL, **groups = NULL;
    size_t n = 0, ng = 0;
    int r;

    if (!l)
        return -ENOMEM;
    r = gp_host_list_dir(h, "sys/bus/pci/devices", &names, &n);
    if (r == -ENOENT)
        n = 0, names = NULL;
    else if (r < 0)
        return gp_error_set(err, r, "%s/sys/bus/pci/devices: %s", gp_host_source(h), strerror(-r));

    l->devs = calloc(n ? n : 1, sizeof(*l->devs));
    if (!l->devs)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        gp_pci_dev *d = &l->devs[l->n];
        bool whole;

        if (gp_pci_addr_parse(names[i], &d->addr, &whole) < 0 || whole)
            continue;
        gp_pci_addr_format(&d->addr, d->name);
        r = read_device(h, names[i], d, err);
        if (r < 0) {
            dev_clear(d);
            return r;
        }
        l->n++;
    }

    /* Name order is address order only while every domain has four digits. */
    qsort(l->devs, l->n, sizeof(*l->devs), cmp_dev);
    for (size_t i = 0; i < l->n; i++) {
        gp_pci_dev *d = &l->devs[i];

        d->parent = find_parent(l, d);
        d->physfn = d->is_vf ? gp_pci_list_find(l, &d->physfn_addr) : -1;
    }

    if (gp_host_list_dir(h, "sys/kernel/iommu_groups", &groups, &ng) == 0)
        l->iommu_groups = (int)ng;
    *ret = TAKE_PTR(l);
    return 0;
}

/* Display controllers: VGA 0x0300, XGA 0x0301, 3D 0x0302 (datacenter and
 * laptop GPUs, which guides filtering on "VGA" miss) and other 0x0380. */
bool gp_pci_is_gpu(const gp_pci_dev *d)
{
    return gp_pci_base_class(d) == 0x03;
}

/* vfio accepts a group as viable when every member is bound to a vfio
 * driver, to no driver, or is a bridge: functions with a type-1 (PCI-to-PCI)
 * header are exempt whatever their driver (vfio_dev_driver_allowed), and host
 * bridges normally have no driver at all. */
bool gp_pci_is_bridge(const gp_pci_dev *d)
{
    unsigned c = gp_pci_class16(d);

    return c == 0x0600 || c == 0x0604 || c == 0x0609;
}
