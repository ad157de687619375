/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "propstr.h"
#include "pveguest.h"
#include "shared/macro.h"

#define CONF_MAX (4u * 1024 * 1024)

static int split_ids(char ***ids, const char *list)
{
    for (const char *p = list; *p;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);

        if (len > 0 && gp_strv_append(ids, NULL, p, len) < 0)
            return -ENOMEM;
        if (!semi)
            break;
        p = semi + 1;
    }
    return 0;
}

/*
 * mapping/pci.cfg: a section is "NAME" alone on a line, its properties are
 * indented "key value" lines, and each "map node=..,path=A;B,id=.." names
 * the devices on one node (pve-guest-common PVE/Mapping/PCI.pm).
 */
static int mapping_ids(const gp_host *h, const char *node, const char *name, char ***ids)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    bool in = false;
    char *save = NULL;

    if (gp_host_read_file(h, "etc/pve/mapping/pci.cfg", CONF_MAX, &buf, &len) < 0)
        return 0;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        gp_propstr p = { 0 };
        const char *n, *path;

        if (line[0] != ' ' && line[0] != '\t') {
            in = strcmp(gp_strip(line), name) == 0;
            continue;
        }
        line += strspn(line, " \t");
        if (!in || !gp_startswith(line, "map") || (line[3] != ' ' && line[3] != '\t'))
            continue;
        if (gp_propstr_parse(gp_strip(line + 4 + strspn(line + 4, " \t")), NULL, &p) < 0)
            continue;
        n = gp_propstr_get(&p, "node");
        path = gp_propstr_get(&p, "path");
        if (n && path && node && strcmp(n, node) == 0 && split_ids(ids, path) < 0) {
            gp_propstr_clear(&p);
            return -ENOMEM;
        }
        gp_propstr_clear(&p);
    }
    return 0;
}

bool gp_pve_vm_running(const gp_host *h, unsigned vmid)
{
    _cleanup_free_ char *pid = NULL;
    char path[64];

    snprintf(path, sizeof(path), "run/qemu-server/%u.pid", vmid);
    if (gp_host_read_attr(h, path, &pid) < 0 || strspn(pid, "0123456789") != strlen(pid) || !pid[0])
        return false;
    snprintf(path, sizeof(path), "proc/%.20s", pid);
    return gp_host_exists(h, path);
}

static int vm_read(const gp_host *h, const char *node, const char *file, unsigned vmid, gp_pve_vm *vm)
{
    _cleanup_free_ char *buf = NULL, *rel = NULL;
    size_t len = 0;
    unsigned line_no = 0;
    int r;

    *vm = (gp_pve_vm){ .vmid = vmid };
    if (asprintf(&rel, "etc/pve/qemu-server/%s", file) < 0 || asprintf(&vm->conf, "/%s", rel) < 0)
        return -ENOMEM;
    r = gp_host_read_file(h, rel, CONF_MAX, &buf, &len);
    if (r < 0)
        return r;
    for (char *p = buf; p && *p;) {
        char *nl = strchr(p, '\n'), *colon, *val;
        unsigned idx;
        int used = 0;

        if (nl)
            *nl = '\0';
        line_no++;
        /* A "[section]" ends the main section: snapshots and pending
         * changes describe configurations that are not running. */
        if (p[0] == '[')
            break;
        colon = strchr(p, ':');
        if (colon) {
            val = colon + 1 + strspn(colon + 1, " \t");
            gp_strip(val);
            if (gp_startswith(p, "name:") && !vm->name) {
                vm->name = strdup(val);
                if (!vm->name)
                    return -ENOMEM;
            } else if (gp_startswith(p, "onboot:")) {
                vm->onboot = strcmp(val, "1") == 0 || strcmp(val, "on") == 0 || strcmp(val, "yes") == 0 ||
                             strcmp(val, "true") == 0;
            } else if (sscanf(p, "hostpci%u:%n", &idx, &used) == 1 && used > 0 && p + used == colon + 1) {
                gp_pve_hostpci *v = realloc(vm->hostpci, (vm->n_hostpci + 1) * sizeof(*v));
                gp_propstr ps = { 0 };
                const char *host, *mapping;

                if (!v)
                    return -ENOMEM;
                vm->hostpci = v;
                v = &vm->hostpci[vm->n_hostpci++];
                *v = (gp_pve_hostpci){ .index = idx, .line = line_no, .value = strdup(val) };
                if (!v->value)
                    return -ENOMEM;
                if (gp_propstr_parse(val, "host", &ps) == 0) {
                    host = gp_propstr_get(&ps, "host");
                    mapping = gp_propstr_get(&ps, "mapping");
                    if (host)
                        r = split_ids(&v->ids, host);
                    else if (mapping) {
                        v->mapping = strdup(mapping);
                        r = v->mapping ? mapping_ids(h, node, mapping, &v->ids) : -ENOMEM;
                    }
                    gp_propstr_clear(&ps);
                    if (r < 0)
                        return r;
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    vm->running = gp_pve_vm_running(h, vmid);
    return 0;
}

static void vm_clear(gp_pve_vm *vm)
{
    for (size_t i = 0; i < vm->n_hostpci; i++) {
        free(vm->hostpci[i].value);
        free(vm->hostpci[i].mapping);
        gp_strv_free(vm->hostpci[i].ids);
    }
    free(vm->hostpci);
    free(vm->name);
    free(vm->conf);
}

int gp_pve_vms_read(const gp_host *h, gp_pve_vms *ret)
{
    _cleanup_strv_ char **files = NULL;
    _cleanup_free_ char *node = NULL;
    gp_pve_vms l = { 0 };
    int r;

    *ret = l;
    r = gp_host_list_dir(h, "etc/pve/qemu-server", &files, NULL);
    if (r == -ENOENT || r == -ENOTDIR)
        return 0;
    if (r < 0)
        return r;
    node = gp_pve_node_name(h);
    for (char **f = files; *f; f++) {
        unsigned long vmid;
        char *end;
        gp_pve_vm *v;

        /* Only "<vmid>.conf" is a guest config (qemu-server parse_vm_config). */
        if ((*f)[0] < '1' || (*f)[0] > '9' || !gp_endswith(*f, ".conf"))
            continue;
        vmid = strtoul(*f, &end, 10);
        if (strcmp(end, ".conf") != 0 || vmid > 999999999UL)
            continue;
        v = realloc(l.v, (l.n + 1) * sizeof(*v));
        if (!v) {
            gp_pve_vms_clear(&l);
            return -ENOMEM;
        }
        l.v = v;
        r = vm_read(h, node, *f, (unsigned)vmid, &l.v[l.n]);
        l.n++;
        if (r == -ENOMEM) {
            gp_pve_vms_clear(&l);
            return r;
        }
    }
    *ret = l;
    return 0;
}

void gp_pve_vms_clear(gp_pve_vms *l)
{
    for (size_t i = 0; i < l->n; i++)
        vm_clear(&l->v[i]);
    free(l->v);
    *l = (gp_pve_vms){ 0 };
}

bool gp_pve_id_matches(const char *id, const char *dev_name)
{
    char full[64];

    /* "01:00" and "01:00.0" are in domain 0000; "0000:01:00" has it. */
    if (strlen(id) < 10 || id[4] != ':')
        snprintf(full, sizeof(full), "0000:%s", id);
    else
        snprintf(full, sizeof(full), "%s", id);
    return full[0] && gp_startswith(dev_name, full);
}

bool gp_pve_hostpci_matches(const gp_pve_hostpci *e, const char *dev_name)
{
    for (char **id = e->ids; id && *id; id++)
        if (gp_pve_id_matches(*id, dev_name))
            return true;
    return false;
}

char *gp_pve_node_name(const gp_host *h)
{
    char *name = NULL;

    if (gp_host_read_attr(h, "etc/hostname", &name) < 0)
        return NULL;
    name[strcspn(name, ". \t\r\n")] = '\0';
    if (!name[0]) {
        free(name);
        return NULL;
    }
    return name;
}

bool gp_pve_vmid_parse(const char *s, unsigned *ret)
{
    size_t n = strspn(s, "0123456789");

    if (n < 3 || n > 9 || s[n] || s[0] == '0')
        return false;
    *ret = (unsigned)strtoul(s, NULL, 10);
    return true;
}

/* What differs between qemu-server's and pve-container's config files and
 * locks: names, paths and the words the errors use. */
static const struct guest_type {
    const char *name;          /* "VM %u" */
    const char *article;       /* "%u is a VM, not a container" */
    const char *dir;           /* etc/pve/<dir>/<id>.conf, etc/pve/nodes/<node>/<dir>/ */
    const char *owner_has;     /* "run gpupass on <node>, where <owner_has>" */
    const char *other_cmd;     /* names the gpupass command for the other type's IDs, or NULL */
    const char *list;          /* "(`qm list` shows the VMs)" */
    const char *plural;
    const char *lock_dir;      /* root-relative: the lock directory PVE uses */
    const char *lock_prefix;   /* the lock: <lock_dir>/<dir>/<lock_prefix><id><lock_suffix> */
    const char *lock_suffix;
    const char *tool;          /* the CLI whose tasks hold the lock */
    struct {
        const char *path;
        mode_t mode;
    } lock_mkdirs[4];          /* made when lock_dir is missing, in order */
} guest_types[] = {
    [GP_PVE_GUEST_VM] = {
        .name = "VM", .article = "a VM", .dir = "qemu-server", .owner_has = "the VM and its GPU are",
        .list = "qm list", .plural = "VMs",
        /* qemu-server QemuConfig config_file_lock; var/lock is a link to
         * /run/lock on Debian, resolved inside the root. */
        .lock_dir = "var/lock", .lock_prefix = "lock-", .lock_suffix = ".conf", .tool = "qm",
        .lock_mkdirs = { { "var", 0755 }, { "var/lock", 0755 }, { "run", 0755 }, { "run/lock", 0755 } },
    },
    [GP_PVE_GUEST_CT] = {
        .name = "CT", .article = "a container", .dir = "lxc", .owner_has = "the container and the GPU it uses are",
        .other_cmd = "vm", .list = "pct list", .plural = "containers",
        /* pve-container LXC/Config.pm */
        .lock_dir = "run/lock", .lock_prefix = "pve-config-", .lock_suffix = ".lock", .tool = "pct",
        .lock_mkdirs = { { "run", 0755 }, { "run/lock", 01777 } },
    },
};

/* The error for a guest of the other type's ID: "%u is a VM (/path), not
 * a container: `gpupass vm %u` handles VMs". */
static int other_type(gp_error *err, const struct guest_type *t, const struct guest_type *o, unsigned id,
                      const char *path)
{
    char hint[64] = "";

    if (t->other_cmd)
        snprintf(hint, sizeof(hint), ": `gpupass %s %u` handles %s", t->other_cmd, id, o->plural);
    return gp_error_set(err, -ENOENT, "%u is %s (/%s), not %s%s", id, o->article, path, t->article, hint);
}

int gp_pve_guest_locate(const gp_host *h, gp_pve_guest type, unsigned id, char **ret_path, gp_error *err)
{
    const struct guest_type *t = &guest_types[type];
    const struct guest_type *o = &guest_types[type == GP_PVE_GUEST_VM ? GP_PVE_GUEST_CT : GP_PVE_GUEST_VM];
    _cleanup_free_ char *node = gp_pve_node_name(h);
    _cleanup_strv_ char **nodes = NULL;
    char *path = NULL;

    *ret_path = NULL;
    if (node) {
        if (asprintf(&path, "etc/pve/nodes/%s/%s/%u.conf", node, t->dir, id) < 0)
            return -ENOMEM;
        if (gp_host_exists(h, path)) {
            *ret_path = path;
            return 0;
        }
        free(path);
    }
    /* etc/pve/<dir> is pmxcfs's link to this node's nodes/<node>/<dir>. */
    if (asprintf(&path, "etc/pve/%s/%u.conf", t->dir, id) < 0)
        return -ENOMEM;
    if (gp_host_exists(h, path)) {
        *ret_path = path;
        return 0;
    }
    free(path);
    /* The directory a config sits in says which node owns the guest
     * (pmxcfs); only that node's lock protects it, and only there do its
     * devices exist. */
    (void)gp_host_list_dir(h, "etc/pve/nodes", &nodes, NULL);
    for (char **n = nodes; n && *n; n++) {
        char other[512];

        snprintf(other, sizeof(other), "etc/pve/nodes/%s/%s/%u.conf", *n, t->dir, id);
        if (gp_host_exists(h, other))
            return gp_error_set(err, -EREMOTE, "%s %u belongs to node %s (/%s): run gpupass on %s, where %s", t->name,
                                id, *n, other, *n, t->owner_has);
        snprintf(other, sizeof(other), "etc/pve/nodes/%s/%s/%u.conf", *n, o->dir, id);
        if (gp_host_exists(h, other))
            return other_type(err, t, o, id, other);
    }
    {
        char other[64];

        snprintf(other, sizeof(other), "etc/pve/%s/%u.conf", o->dir, id);
        if (gp_host_exists(h, other))
            return other_type(err, t, o, id, other);
    }
    return gp_error_set(err, -ENOENT, "%s %u does not exist on this host: there is no /etc/pve/%s/%u.conf (`%s` "
                        "shows the %s)", t->name, id, t->dir, id, t->list, t->plural);
}

int gp_pve_guest_lock(const gp_host *h, gp_pve_guest type, unsigned id, unsigned timeout_ms, gp_error *err)
{
    const struct guest_type *t = &guest_types[type];
    _cleanup_free_ char *dir = NULL;
    _cleanup_close_ int dfd = -1, fd = -1;
    char name[64];
    int r;

    /* A system disk mounted elsewhere has an empty /run (a tmpfs): make
     * the directories, as systemd-tmpfiles does at boot. */
    r = gp_host_resolve(h, t->lock_dir, &dir);
    if (r == -ENOENT) {
        int mk = 0;

        for (size_t i = 0; i < ELEMENTSOF(t->lock_mkdirs) && t->lock_mkdirs[i].path; i++)
            if (mkdirat(gp_host_rootfd(h), t->lock_mkdirs[i].path, t->lock_mkdirs[i].mode) < 0 && errno != EEXIST &&
                !mk)
                mk = -errno;
        r = gp_host_resolve(h, t->lock_dir, &dir);
        if (r == -ENOENT && mk)
            r = mk;   /* why it is missing: EACCES on a read-only root, not ENOENT */
    }
    if (r < 0)
        return gp_error_set(err, r, "/%s: %s", t->lock_dir, strerror(-r));
    dfd = openat(gp_host_rootfd(h), dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return gp_error_set(err, -errno, "/%s: %s", t->lock_dir, strerror(errno));
    if (mkdirat(dfd, t->dir, 0755) < 0 && errno != EEXIST)
        return gp_error_set(err, -errno, "/%s/%s: %s", t->lock_dir, t->dir, strerror(errno));
    snprintf(name, sizeof(name), "%s/%s%u%s", t->dir, t->lock_prefix, id, t->lock_suffix);
    fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
    if (fd < 0)
        return gp_error_set(err, -errno, "/%s/%s: %s", t->lock_dir, name, strerror(errno));
    /* PVE's lock_file_full polls the same way, 10 s by default. */
    for (unsigned waited = 0;; waited += 50) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return TAKE_FD(fd);
        if (errno != EWOULDBLOCK)
            return gp_error_set(err, -errno, "/%s/%s: %s", t->lock_dir, name, strerror(errno));
        if (waited >= timeout_ms)
            return gp_error_set(err, -ETIMEDOUT, "%s %u: its config is locked by another process (/%s/%s) for %u s; "
                                "wait for the running %s/pvedaemon task and try again", t->name, id, t->lock_dir, name,
                                timeout_ms / 1000, t->tool);
        nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
    }
}

int gp_pve_vm_locate(const gp_host *h, unsigned vmid, char **ret_path, gp_error *err)
{
    return gp_pve_guest_locate(h, GP_PVE_GUEST_VM, vmid, ret_path, err);
}

int gp_pve_vm_lock(const gp_host *h, unsigned vmid, unsigned timeout_ms, gp_error *err)
{
    return gp_pve_guest_lock(h, GP_PVE_GUEST_VM, vmid, timeout_ms, err);
}

int gp_pve_cluster_lock(const gp_host *h, const char *name, unsigned timeout_ms, gp_error *err)
{
    _cleanup_free_ char *dir = NULL;
    _cleanup_close_ int dfd = -1;
    int r = gp_host_resolve(h, "etc/pve", &dir);

    if (r < 0)
        return gp_error_set(err, r, "/etc/pve: %s", strerror(-r));
    dfd = openat(gp_host_rootfd(h), dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return gp_error_set(err, -errno, "/etc/pve: %s", strerror(errno));
    /* pmxcfs has priv/lock already; an offline copy may not. */
    (void)mkdirat(dfd, "priv", 0700);
    (void)mkdirat(dfd, "priv/lock", 0700);
    for (unsigned waited = 0;; waited += 100) {
        char path[256];

        snprintf(path, sizeof(path), "priv/lock/%s", name);
        if (mkdirat(dfd, path, 0700) == 0)
            return 0;
        if (errno != EEXIST)
            return gp_error_set(err, -errno, "/etc/pve/%s: cannot take the cluster lock (%s)%s", path,
                                strerror(errno), errno == EACCES ? "; the cluster has no quorum" : "");
        if (waited >= timeout_ms)
            return gp_error_set(err, -ETIMEDOUT, "/etc/pve/%s: another node or task holds the cluster lock; try "
                                "again in a minute (pmxcfs frees a stale one after 120 s)", path);
        nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
    }
}

void gp_pve_cluster_unlock(const gp_host *h, const char *name)
{
    _cleanup_free_ char *dir = NULL;
    char path[512];

    if (gp_host_resolve(h, "etc/pve", &dir) < 0)
        return;
    snprintf(path, sizeof(path), "%s/priv/lock/%s", dir[0] ? dir : ".", name);
    (void)unlinkat(gp_host_rootfd(h), path, AT_REMOVEDIR);
}

bool gp_pve_package_version(const gp_host *h, const char *package, char *ret, size_t len)
{
    _cleanup_free_ char *buf = NULL, *head = NULL;
    size_t n = 0;

    if (gp_host_read_file(h, "var/lib/dpkg/status", 64u * 1024 * 1024, &buf, &n) < 0 ||
        asprintf(&head, "Package: %s\n", package) < 0)
        return false;
    for (const char *p = buf; (p = strstr(p, head)); p++) {
        const char *end = strstr(p, "\n\n"), *v = strstr(p, "\nVersion: ");

        /* The stanza must start a line: "Package: pve-manager" inside
         * another package's Depends does not count. */
        if (p != buf && p[-1] != '\n')
            continue;
        if (v && (!end || v < end)) {
            v += strlen("\nVersion: ");
            snprintf(ret, len, "%.*s", (int)strcspn(v, "\n"), v);
            return true;
        }
    }
    return false;
}
