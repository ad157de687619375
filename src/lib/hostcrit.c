/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "hostcrit.h"
#include "shared/macro.h"

/* Stacks deeper than this (dm on md on dm ...) do not occur; a loop guard. */
#define MAX_STACK_DEPTH 8

struct gp_hostcrit {
    char **reason;    /* per device index; NULL when not critical */
    size_t n;
};

void gp_hostcrit_free(gp_hostcrit *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->reason[i]);
    free(c->reason);
    free(c);
}

const char *gp_hostcrit_reason(const gp_hostcrit *c, int dev)
{
    if (!c || dev < 0 || (size_t)dev >= c->n)
        return NULL;
    return c->reason[dev];
}

static void mark(gp_hostcrit *c, int dev, const char *why)
{
    if (dev < 0 || (size_t)dev >= c->n || c->reason[dev])
        return;
    c->reason[dev] = strdup(why);
}

/* The PCI function a sysfs object hangs from is the deepest path component
 * that names a PCI function: ".../0000:00:17.0/ata1/.../block/sda/sda3". */
static int pci_ancestor(const gp_host *h, const gp_pci_list *l, const char *link)
{
    _cleanup_free_ char *path = NULL;
    int found = -1;
    char *save = NULL;

    if (gp_host_resolve(h, link, &path) < 0)
        return -1;
    for (char *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        gp_pci_addr a;
        bool whole;
        int i;

        if (gp_pci_addr_parse(c, &a, &whole) == 0 && !whole && (i = gp_pci_list_find(l, &a)) >= 0)
            found = i;
    }
    return found;
}

/* A block device and, through "slaves", everything it is built on (dm, md). */
static void mark_block(gp_hostcrit *c, const gp_host *h, const gp_pci_list *l, const char *name, const char *why, int depth)
{
    _cleanup_free_ char *link = NULL, *slaves = NULL;
    _cleanup_strv_ char **v = NULL;
    int dev;

    if (depth > MAX_STACK_DEPTH || strchr(name, '/'))
        return;
    if (asprintf(&link, "sys/class/block/%s", name) < 0)
        return;
    dev = pci_ancestor(h, l, link);
    if (dev >= 0)
        mark(c, dev, why);
    if (asprintf(&slaves, "%s/slaves", link) < 0)
        return;
    if (gp_host_list_dir(h, slaves, &v, NULL) < 0)
        return;
    for (char **p = v; *p; p++)
        mark_block(c, h, l, *p, why, depth + 1);
}

/* Every storage controller with a disk under it: for a ZFS root, sysfs does
 * not say which disks are in the pool, so each of them may be. */
static void mark_all_disk_controllers(gp_hostcrit *c, const gp_host *h, const gp_pci_list *l, const char *why)
{
    _cleanup_strv_ char **v = NULL;

    if (gp_host_list_dir(h, "sys/block", &v, NULL) < 0)
        return;
    for (char **p = v; *p; p++) {
        _cleanup_free_ char *link = NULL;
        int dev;

        if (asprintf(&link, "sys/block/%s", *p) < 0)
            break;
        dev = pci_ancestor(h, l, link);
        if (dev >= 0 && gp_pci_base_class(&l->devs[dev]) == 0x01)
            mark(c, dev, why);
    }
}

/* "/dev/mapper/pve-root" -> "dm-0" through sys/block/dm-N/dm/name. */
static char *dm_by_name(const gp_host *h, const char *mapname)
{
    _cleanup_strv_ char **v = NULL;
    char *found = NULL;

    if (gp_host_list_dir(h, "sys/block", &v, NULL) < 0)
        return NULL;
    for (char **p = v; *p && !found; p++) {
        _cleanup_free_ char *path = NULL, *name = NULL;

        if (!gp_startswith(*p, "dm-") || asprintf(&path, "sys/block/%s/dm/name", *p) < 0)
            continue;
        if (gp_host_read_attr(h, path, &name) == 0 && strcmp(name, mapname) == 0)
            found = strdup(*p);
    }
    return found;
}

static void find_root_fs(gp_hostcrit *c, const gp_host *h, const gp_pci_list *l)
{
    _cleanup_free_ char *mounts = NULL, *src = NULL, *fstype = NULL, *why = NULL, *blk = NULL;
    char *line, *save = NULL;

    if (gp_host_read_file(h, "proc/mounts", 16 * 1024 * 1024, &mounts, NULL) < 0)
        return;
    /* The last mount on "/" is the one in effect. */
    for (line = strtok_r(mounts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char s[4096], t[4096], f[256];

        if (sscanf(line, "%4095s %4095s %255s", s, t, f) != 3 || strcmp(t, "/") != 0 || strcmp(f, "rootfs") == 0)
            continue;
        free(src);
        free(fstype);
        src = strdup(s);
        fstype = strdup(f);
    }
    if (!src || !fstype)
        return;
    if (asprintf(&why, "holds the root filesystem (%s, %s)", src, fstype) < 0)
        return;

    if (strcmp(fstype, "zfs") == 0) {
        mark_all_disk_controllers(c, h, l, why);
        return;
    }
    if (gp_startswith(src, "/dev/mapper/"))
        blk = dm_by_name(h, src + strlen("/dev/mapper/"));
    else if (gp_startswith(src, "/dev/") && !strchr(src + 5, '/'))
        blk = strdup(src + 5);
    else if (gp_startswith(src, "/dev/")) {
        /* /dev/disk/by-uuid/... and the like: resolvable on a live host. */
        _cleanup_free_ char *rel = NULL;

        if (gp_host_resolve(h, src, &rel) == 0 && gp_startswith(rel, "dev/") && !strchr(rel + 4, '/'))
            blk = strdup(rel + 4);
    }
    if (blk) {
        _cleanup_free_ char *link = NULL;

        if (asprintf(&link, "sys/class/block/%s", blk) >= 0 && gp_host_exists(h, link)) {
            mark_block(c, h, l, blk, why, 0);
            return;
        }
    }
    /* Unknown source (/dev/root, a network or overlay root): every storage
     * controller with a disk stays on the safe side. */
    if (strcmp(fstype, "nfs") != 0 && strcmp(fstype, "nfs4") != 0 && strcmp(fstype, "overlay") != 0 && strcmp(fstype, "tmpfs") != 0)
        mark_all_disk_controllers(c, h, l, why);
}

/* A network interface and what it is built on: bridge ports, bond slaves,
 * VLAN parents, all listed by the kernel as lower_<name> links. */
static void mark_netdev(gp_hostcrit *c, const gp_host *h, const gp_pci_list *l, const char *ifname, const char *why, int depth)
{
    _cleanup_free_ char *link = NULL, *brif = NULL;
    _cleanup_strv_ char **entries = NULL, **ports = NULL;
    int dev;

    if (depth > MAX_STACK_DEPTH || strchr(ifname, '/') || strcmp(ifname, "lo") == 0)
        return;
    if (asprintf(&link, "sys/class/net/%s", ifname) < 0)
        return;
    dev = pci_ancestor(h, l, link);
    if (dev >= 0)
        mark(c, dev, why);
    if (gp_host_list_dir(h, link, &entries, NULL) == 0)
        for (char **p = entries; *p; p++)
            if (gp_startswith(*p, "lower_"))
                mark_netdev(c, h, l, *p + strlen("lower_"), why, depth + 1);
    /* Older kernels list bridge ports only under brif/. */
    if (asprintf(&brif, "%s/brif", link) >= 0 && gp_host_list_dir(h, brif, &ports, NULL) == 0)
        for (char **p = ports; *p; p++)
            mark_netdev(c, h, l, *p, why, depth + 1);
}

static void find_default_route(gp_hostcrit *c, const gp_host *h, const gp_pci_list *l)
{
    _cleanup_free_ char *route = NULL, *route6 = NULL;
    char *line, *save = NULL;

    /* /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
    if (gp_host_read_file(h, "proc/net/route", 4 * 1024 * 1024, &route, NULL) == 0)
        for (line = strtok_r(route, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char ifname[64], dest[16], gw[16], flags[16], refcnt[16], use[16], metric[16], mask[16];
            _cleanup_free_ char *why = NULL;

            if (sscanf(line, "%63s %15s %15s %15s %15s %15s %15s %15s", ifname, dest, gw, flags, refcnt, use, metric, mask) != 8)
                continue;
            if (strcmp(dest, "00000000") != 0 || strcmp(mask, "00000000") != 0)
                continue;
            if (asprintf(&why, "carries the default route (%s)", ifname) >= 0)
                mark_netdev(c, h, l, ifname, why, 0);
        }
    /* /proc/net/ipv6_route: dest plen src splen nexthop metric refcnt use flags iface */
    save = NULL;
    if (gp_host_read_file(h, "proc/net/ipv6_route", 4 * 1024 * 1024, &route6, NULL) == 0)
        for (line = strtok_r(route6, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char dest[40], plen[8], f[6][40], ifname[64];
            _cleanup_free_ char *why = NULL;

            if (sscanf(line, "%39s %7s %39s %39s %39s %39s %39s %39s %39s %63s", dest, plen, f[0], f[1], f[2], f[3], f[4], f[5],
                       f[0], ifname) != 10)
                continue;
            if (strspn(dest, "0") != 32 || strcmp(plen, "00") != 0 || strcmp(ifname, "lo") == 0)
                continue;
            if (asprintf(&why, "carries the default route (%s, IPv6)", ifname) >= 0)
                mark_netdev(c, h, l, ifname, why, 0);
        }
    /* Proxmox's management network is vmbr0 by its installer's convention,
     * even when the default route is elsewhere. */
    if (gp_host_exists(h, "etc/pve") && gp_host_exists(h, "sys/class/net/vmbr0"))
        mark_netdev(c, h, l, "vmbr0", "is a port of vmbr0, the Proxmox management bridge", 0);
}

int gp_hostcrit_find(const gp_host *h, const gp_pci_list *l, gp_hostcrit **ret)
{
    gp_hostcrit *c = calloc(1, sizeof(*c));

    if (!c)
        return -ENOMEM;
    c->n = l->n;
    c->reason = calloc(l->n ? l->n : 1, sizeof(*c->reason));
    if (!c->reason) {
        free(c);
        return -ENOMEM;
    }
    find_root_fs(c, h, l);
    find_default_route(c, h, l);
    *ret = c;
    return 0;
}
