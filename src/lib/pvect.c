/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "propstr.h"
#include "pveconf.h"
#include "pvect.h"
#include "pveguest.h"
#include "shared/macro.h"

#define STORAGE_CFG "etc/pve/storage.cfg"
#define STORAGE_MAX (1024u * 1024)
#define GROUP_MAX (4u * 1024 * 1024)
#define UNIX_MAX (16u * 1024 * 1024)

bool gp_ctid_parse(const char *s, unsigned *ret)
{
    /* Containers and VMs draw from one ID space (pve-vmid). */
    return gp_pve_vmid_parse(s, ret);
}

int gp_ct_locate(const gp_host *h, unsigned ctid, char **ret_path, gp_error *err)
{
    return gp_pve_guest_locate(h, GP_PVE_GUEST_CT, ctid, ret_path, err);
}

int gp_ct_lock(const gp_host *h, unsigned ctid, unsigned timeout_ms, gp_error *err)
{
    return gp_pve_guest_lock(h, GP_PVE_GUEST_CT, ctid, timeout_ms, err);
}

/* var/lib/lxc/<ctid>/rootfs holds files: PVE mounted the container's root
 * there (at start, or for `pct mount`). */
static bool rootfs_mounted(const gp_host *h, unsigned ctid, char *path, size_t size)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;

    snprintf(path, size, "var/lib/lxc/%u/rootfs", ctid);
    return gp_host_list_dir(h, path, &names, &n) == 0 && n > 0;
}

bool gp_ct_running(const gp_host *h, unsigned ctid)
{
    _cleanup_free_ char *buf = NULL;
    char sock[64], path[64];
    size_t len = 0, slen;

    /* lxc's monitor listens on the abstract socket
     * "@/var/lib/lxc/<name>/command" for as long as the container runs
     * (lxc commands.c); the kernel lists it in /proc/net/unix. When that
     * table can be read it is the answer. */
    if (gp_host_read_file(h, "proc/net/unix", UNIX_MAX, &buf, &len) == 0) {
        slen = (size_t)snprintf(sock, sizeof(sock), "@/var/lib/lxc/%u/command", ctid);
        for (char *p = buf; p && *p;) {
            char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);

            while (l > 0 && isspace((unsigned char)p[l - 1]))
                l--;
            if (l >= slen + 1 && memcmp(p + l - slen, sock, slen) == 0 && isspace((unsigned char)p[l - slen - 1]))
                return true;
            p = nl ? nl + 1 : NULL;
        }
        return false;
    }
    /* A snapshot without /proc: the mounted root is the sign left. */
    return rootfs_mounted(h, ctid, path, sizeof(path));
}

/* storage.cfg (pve-storage SectionConfig): "type: id" in column 0 starts a
 * storage, its options follow as indented "key value" lines. */
typedef struct storage {
    char *type, *path, *pool, *mountpoint;
} storage;

static void storage_clear(storage *s)
{
    free(s->type);
    free(s->path);
    free(s->pool);
    free(s->mountpoint);
    *s = (storage){ 0 };
}

/* 1 found, 0 not there, negative errno when the file cannot be read. */
static int storage_find(const gp_host *h, const char *id, storage *ret)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    bool in = false, found = false;
    int r;

    *ret = (storage){ 0 };
    r = gp_host_read_file(h, STORAGE_CFG, STORAGE_MAX, &buf, &len);
    if (r < 0)
        return r;
    for (char *p = buf; p && *p;) {
        char *line = p, *nl = strchr(p, '\n');

        if (nl)
            *nl = '\0';
        p = nl ? nl + 1 : NULL;
        gp_strip(line);
        if (!line[0] || line[0] == '#')
            continue;
        if (line[0] != ' ' && line[0] != '\t') {
            char *colon = strchr(line, ':');

            if (found)
                break;
            in = false;
            if (!colon)
                continue;
            *colon = '\0';
            if (strcmp(colon + 1 + strspn(colon + 1, " \t"), id) != 0)
                continue;
            in = found = true;
            ret->type = strdup(gp_strip(line));
            if (!ret->type)
                return -ENOMEM;
            continue;
        }
        if (!in)
            continue;
        line += strspn(line, " \t");
        {
            size_t klen = strcspn(line, " \t");
            const char *val = line + klen + strspn(line + klen, " \t");
            char **slot = NULL;

            if (klen == 4 && strncmp(line, "path", 4) == 0)
                slot = &ret->path;
            else if (klen == 4 && strncmp(line, "pool", 4) == 0)
                slot = &ret->pool;
            else if (klen == 10 && strncmp(line, "mountpoint", 10) == 0)
                slot = &ret->mountpoint;
            if (slot && !*slot && !(*slot = strdup(val)))
                return -ENOMEM;
        }
    }
    if (!found)
        storage_clear(ret);
    return found;
}

/* A directory to read files from: it exists and holds something (an empty
 * mountpoint is a dataset or volume that is not mounted). */
static int dir_readable(const gp_host *h, const char *dir)
{
    _cleanup_strv_ char **names = NULL;
    size_t n = 0;
    int r = gp_host_list_dir(h, dir, &names, &n);

    if (r < 0)
        return r;
    return n > 0 ? 0 : -ENOENT;
}

/* Strategies per storage type (pve-storage Plugin path()): ZFS datasets
 * are mounted on the host at <mountpoint>/<name>; file storages keep a
 * subvolume directory at <path>/images/<vmid>/<name>; the rest are block
 * devices (LVM, Ceph RBD, iSCSI) nobody can read without mounting them. */
static int rootfs_from_storage(const gp_host *h, unsigned ctid, const char *volume, char **ret_dir, char **how,
                               gp_error *err)
{
    _cleanup_free_ char *store_id = NULL, *dir = NULL, *what = NULL;
    const char *colon = strchr(volume, ':'), *volname;
    storage s = { 0 };
    int r;

    if (volume[0] == '/') {
        /* A directory as the root (a bind-mounted rootfs). */
        if (!(dir = strdup(volume + strspn(volume, "/"))) || asprintf(&what, "the directory %s", volume) < 0)
            return -ENOMEM;
    } else {
        if (!colon || colon == volume)
            return gp_error_set(err, -ENOENT, "CT %u: its rootfs '%s' names no storage (storage:volume)", ctid,
                                volume);
        store_id = strndup(volume, (size_t)(colon - volume));
        if (!store_id)
            return -ENOMEM;
        volname = colon + 1;
        r = storage_find(h, store_id, &s);
        if (r == -ENOMEM)
            return r;
        if (r < 0)
            return gp_error_set(err, -ENOENT, "CT %u: cannot read /%s (%s) to find storage '%s' of its rootfs",
                                ctid, STORAGE_CFG, strerror(-r), store_id);
        if (r == 0)
            return gp_error_set(err, -ENOENT, "CT %u: its rootfs is on storage '%s', which /%s does not define",
                                ctid, store_id, STORAGE_CFG);
        if (strcmp(s.type, "zfspool") == 0 && s.pool) {
            /* "basevol-100-disk-0/subvol-200-disk-0" is a linked clone: the
             * dataset is the last part (ZFSPoolPlugin parse_volname). */
            const char *name = strrchr(volname, '/') ? strrchr(volname, '/') + 1 : volname;

            if (!gp_startswith(name, "subvol-") && !gp_startswith(name, "basevol-")) {
                storage_clear(&s);
                return gp_error_set(err, -ENOENT, "CT %u is stopped and its rootfs %s is a ZFS volume, not a "
                                    "dataset: start it, or `pct mount %u`, and run this again", ctid, volume, ctid);
            }
            if (s.mountpoint)
                r = asprintf(&dir, "%s/%s", s.mountpoint + strspn(s.mountpoint, "/"), name);
            else
                r = asprintf(&dir, "%s/%s", s.pool, name);
            if (r < 0 || asprintf(&what, "ZFS subvolume %s/%s", s.pool, name) < 0) {
                storage_clear(&s);
                return -ENOMEM;
            }
        } else if ((strcmp(s.type, "dir") == 0 || strcmp(s.type, "nfs") == 0 || strcmp(s.type, "cifs") == 0 ||
                    strcmp(s.type, "btrfs") == 0) && s.path) {
            const char *base = s.path + strspn(s.path, "/");

            if (!gp_endswith(volname, ".subvol") && !strstr(volname, "subvol-")) {
                r = gp_error_set(err, -ENOENT, "CT %u is stopped and its rootfs %s is a disk image on %s storage "
                                 "'%s': start it, or `pct mount %u`, and run this again", ctid, volume, s.type,
                                 store_id, ctid);
                storage_clear(&s);
                return r;
            }
            /* Dir volnames carry the owner: "200/subvol-200-disk-0.subvol". */
            if (strchr(volname, '/'))
                r = asprintf(&dir, "%s%simages/%s", base, base[0] ? "/" : "", volname);
            else
                r = asprintf(&dir, "%s%simages/%u/%s", base, base[0] ? "/" : "", ctid, volname);
            if (r < 0 || asprintf(&what, "%s storage %s, volume %s", strcmp(s.type, "dir") == 0 ? "directory" :
                                  s.type, store_id, volname) < 0) {
                storage_clear(&s);
                return -ENOMEM;
            }
        } else {
            r = gp_error_set(err, -ENOENT, "CT %u is stopped and its rootfs %s is a block volume (%s storage '%s') "
                             "the host cannot read unmounted: start it, or `pct mount %u`, and run this again",
                             ctid, volume, s.type, store_id, ctid);
            storage_clear(&s);
            return r;
        }
        storage_clear(&s);
    }
    r = dir_readable(h, dir);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return gp_error_set(err, -ENOENT, "CT %u: its root (%s) is not mounted at /%s: %s", ctid, what, dir,
                            r == -ENOENT ? "the directory is missing or empty" : strerror(-r));
    *ret_dir = TAKE_PTR(dir);
    *how = TAKE_PTR(what);
    return 0;
}

int gp_ct_rootfs(const gp_host *h, unsigned ctid, const char *conf_text, char **ret_dir, char **how,
                 gp_error *err)
{
    _cleanup_free_ char *value = NULL;
    char path[64];
    gp_pveconf conf;
    gp_propstr p = { 0 };
    const char *volume;
    int r;

    *ret_dir = NULL;
    *how = NULL;
    /* PVE mounts the root at var/lib/lxc/<ctid>/rootfs to start the
     * container (and for `pct mount`): the files as the container sees
     * them, whatever storage holds them. */
    if (rootfs_mounted(h, ctid, path, sizeof(path))) {
        bool running = gp_ct_running(h, ctid);

        *ret_dir = strdup(path);
        if (running)
            *how = strdup("the running container's root");
        else if (asprintf(how, "the container's root mounted at /%s", path) < 0)
            *how = NULL;
        if (!*ret_dir || !*how) {
            free(*ret_dir);
            free(*how);
            *ret_dir = *how = NULL;
            return -ENOMEM;
        }
        return 0;
    }
    r = gp_pveconf_parse(conf_text ? conf_text : "", conf_text ? strlen(conf_text) : 0, GP_PVECONF_LXC, "config",
                         &conf, err);
    if (r < 0)
        return r == -ENOMEM ? r : gp_error_set(err, -ENOENT, "CT %u: its config cannot be read", ctid);
    r = gp_pveconf_get(&conf, 0, "rootfs", &value);
    gp_pveconf_clear(&conf);
    if (r < 0)
        return r;
    if (r == 0)
        return gp_error_set(err, -ENOENT, "CT %u has no rootfs: line in its config", ctid);
    r = gp_propstr_parse(value, "volume", &p);
    if (r == -ENOMEM)
        return r;
    volume = r == 0 ? gp_propstr_get(&p, "volume") : NULL;
    if (!volume) {
        gp_propstr_clear(&p);
        return gp_error_set(err, -ENOENT, "CT %u: its rootfs line '%s' names no volume", ctid, value);
    }
    r = rootfs_from_storage(h, ctid, volume, ret_dir, how, err);
    gp_propstr_clear(&p);
    return r;
}

int gp_ct_group_gid(const gp_host *h, const char *rootfs, const char *name, unsigned *ret)
{
    _cleanup_free_ char *path = NULL, *buf = NULL;
    size_t len = 0, nlen = strlen(name);
    int r;

    if (asprintf(&path, "%s/etc/group", rootfs) < 0)
        return -ENOMEM;
    r = gp_host_read_file(h, path, GROUP_MAX, &buf, &len);
    if (r < 0)
        return r;
    /* group(5): name:password:GID:members */
    for (char *p = buf; p && *p;) {
        char *nl = strchr(p, '\n');

        if (nl)
            *nl = '\0';
        if (strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *pw_end = strchr(p + nlen + 1, ':');
            char *end;
            unsigned long gid;

            if (pw_end && pw_end[1] >= '0' && pw_end[1] <= '9') {
                errno = 0;
                gid = strtoul(pw_end + 1, &end, 10);
                if (errno == 0 && gid <= 0xfffffffeUL && (*end == ':' || *end == '\0')) {
                    *ret = (unsigned)gid;
                    return 0;
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    return -ENOENT;
}

/* "550.127.05" from "<prefix>550.127.05": digits and dots, at least one dot. */
static bool version_suffix(const char *name, const char *prefix, const char **ret)
{
    const char *v;

    if (!gp_startswith(name, prefix))
        return false;
    v = name + strlen(prefix);
    if (!isdigit((unsigned char)v[0]) || strspn(v, "0123456789.") != strlen(v) || !strchr(v, '.') ||
        v[strlen(v) - 1] == '.')
        return false;
    *ret = v;
    return true;
}

/* Compares dotted versions numerically ("550.54.14" < "550.127.05"). */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        char *ea, *eb;
        unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);

        a = ea;
        b = eb;
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
        if (!*a != !*b)
            return *a ? 1 : -1;
    }
    return 0;
}

int gp_ct_nvidia_userland(const gp_host *h, const char *rootfs, char **ret)
{
    /* Debian/Ubuntu multiarch first; lib64 (RHEL, SUSE), lib (Arch) and
     * the pre-usrmerge location after. */
    static const char *const dirs[] = { "usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib", "lib/x86_64-linux-gnu",
                                        "usr/lib/aarch64-linux-gnu" };
    static const char *const libs[] = { "libnvidia-ml.so.", "libcuda.so." };

    *ret = NULL;
    for (size_t l = 0; l < ELEMENTSOF(libs); l++)
        for (size_t d = 0; d < ELEMENTSOF(dirs); d++) {
            _cleanup_strv_ char **names = NULL;
            _cleanup_free_ char *dir = NULL, *link = NULL, *target = NULL;
            const char *best = NULL, *v;

            if (asprintf(&dir, "%s/%s", rootfs, dirs[d]) < 0)
                return -ENOMEM;
            if (gp_host_list_dir(h, dir, &names, NULL) < 0)
                continue;
            /* The soname link (libnvidia-ml.so.1) names the library the
             * loader takes; leftovers of an older install may sit beside it. */
            if (asprintf(&link, "%s/%s1", dir, libs[l]) < 0)
                return -ENOMEM;
            if (gp_host_readlink(h, link, &target) == 0) {
                const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;

                if (version_suffix(base, libs[l], &v)) {
                    for (char **n = names; n && *n; n++)
                        if (strcmp(*n, base) == 0)
                            best = v;
                }
            }
            if (!best)
                for (char **n = names; n && *n; n++)
                    if (version_suffix(*n, libs[l], &v) && (!best || version_cmp(v, best) > 0))
                        best = v;
            if (best) {
                *ret = strdup(best);
                return *ret ? 0 : -ENOMEM;
            }
        }
    return -ENOENT;
}

int gp_host_nvidia_version(const gp_host *h, char **ret)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    char *line, *nl, *save = NULL;
    int r;

    *ret = NULL;
    /* "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  <date>"
     * or "... Open Kernel Module for x86_64  550.127.05  Release Build ...":
     * the first word of digits and dots. The file exists while nvidia.ko is
     * loaded. */
    r = gp_host_read_file(h, "proc/driver/nvidia/version", 64 * 1024, &buf, &len);
    if (r < 0)
        return r == -ENOMEM ? r : -ENOENT;
    for (line = buf; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (gp_startswith(line, "NVRM version:"))
            break;
    }
    if (!line)
        return -ENOENT;
    for (char *w = strtok_r(line + 13, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        const char *v;

        if (version_suffix(w, "", &v)) {
            *ret = strdup(w);
            return *ret ? 0 : -ENOMEM;
        }
    }
    return -ENOENT;
}
