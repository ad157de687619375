/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "gpunodes.h"

static gp_devnode_type type_of(const char *word)
{
    if (strcmp(word, "char") == 0)
        return GP_DEVNODE_CHAR;
    if (strcmp(word, "block") == 0)
        return GP_DEVNODE_BLOCK;
    if (strcmp(word, "dir") == 0)
        return GP_DEVNODE_DIR;
    return GP_DEVNODE_OTHER;
}

/* A snapshot lists its device nodes in gpupass/devnodes.txt
 * ("dev/nvidia0 char 195:0 0666 0 0"), as an archive cannot hold them. */
static int devnode_from_list(const char *list, const char *path, gp_devnode *ret)
{
    size_t plen = strlen(path);

    for (const char *p = list; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        char type[16];
        unsigned maj, min, mode, uid, gid;

        if (strncmp(p, path, plen) != 0 || p[plen] != ' ')
            continue;
        if (sscanf(p + plen, " %15s %u:%u %o %u %u", type, &maj, &min, &mode, &uid, &gid) != 6)
            continue;
        ret->type = type_of(type);
        ret->major = maj;
        ret->minor = min;
        ret->mode = mode;
        ret->uid = uid;
        ret->gid = gid;
        return 0;
    }
    return 0;
}

int gp_devnode_stat(const gp_host *h, const char *path, gp_devnode *ret)
{
    _cleanup_free_ char *list = NULL, *dir = NULL;
    _cleanup_close_ int dfd = -1;
    const char *slash = strrchr(path, '/');
    size_t len = 0;
    struct stat st;
    int r;

    *ret = (gp_devnode){ .type = GP_DEVNODE_ABSENT };
    snprintf(ret->path, sizeof(ret->path), "%s", path);
    if (!gp_host_is_live(h) && gp_host_read_file(h, "gpupass/devnodes.txt", 1024 * 1024, &list, &len) >= 0)
        return devnode_from_list(list, path, ret);
    /* The directory is resolved inside the root; the node itself is
     * lstat'ed, never followed (a link is not a device node). */
    if (slash) {
        _cleanup_free_ char *parent = strndup(path, (size_t)(slash - path));

        if (!parent)
            return -ENOMEM;
        r = gp_host_resolve(h, parent, &dir);
        if (r == -ENOENT || r == -ENOTDIR)
            return 0;
        if (r < 0)
            return r;
        dfd = openat(gp_host_rootfd(h), dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
            return errno == ENOENT ? 0 : -errno;
    }
    if (fstatat(slash ? dfd : gp_host_rootfd(h), slash ? slash + 1 : path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    ret->type = S_ISCHR(st.st_mode) ? GP_DEVNODE_CHAR : S_ISBLK(st.st_mode) ? GP_DEVNODE_BLOCK :
                S_ISDIR(st.st_mode) ? GP_DEVNODE_DIR : GP_DEVNODE_OTHER;
    ret->major = major(st.st_rdev);
    ret->minor = minor(st.st_rdev);
    ret->mode = st.st_mode & 07777;
    ret->uid = st.st_uid;
    ret->gid = st.st_gid;
    return 0;
}

int gp_chardev_major(const gp_host *h, const char *name)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    bool chars = false;

    if (gp_host_read_file(h, "proc/devices", 64 * 1024, &buf, &len) < 0)
        return -1;
    for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        int major, used = 0;

        /* "Character devices:" then "Block devices:" (fs/char_dev.c). */
        if (strncmp(line, "Character devices:", 18) == 0)
            chars = true;
        else if (strncmp(line, "Block devices:", 14) == 0)
            chars = false;
        else if (chars && sscanf(line, " %d %n", &major, &used) == 1 && used > 0) {
            size_t n = strcspn(line + used, "\n");

            if (n == strlen(name) && strncmp(line + used, name, n) == 0)
                return major;
        }
    }
    return -1;
}

static int add_problem(gp_gpu_nodes *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_problem(gp_gpu_nodes *n, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = gp_strv_appendv(&n->problems, fmt, ap);
    va_end(ap);
    return r;
}

/*
 * One node: stat'ed, judged, added. want_major < 0: any major. A missing
 * optional node is left out; a missing required one is kept (type ABSENT)
 * with the problem and what creates it.
 */
static int add_node(const gp_host *h, gp_gpu_nodes *n, const char *path, gp_node_role role, bool required,
                    int want_major, const char *why, const char *creates)
{
    gp_gpu_node *v;
    gp_devnode d;
    int r = gp_devnode_stat(h, path, &d);

    if (r < 0)
        return r;
    if (d.type == GP_DEVNODE_ABSENT && !required)
        return 0;
    if (d.type == GP_DEVNODE_ABSENT)
        r = add_problem(n, "/%s does not exist (%s); %s", path, why, creates);
    else if (d.type != GP_DEVNODE_CHAR)
        r = add_problem(n, "/%s is not a character device: a file left behind by a failed bind mount or copy; "
                        "remove it, then %s", path, creates);
    else if (want_major >= 0 && d.major != (unsigned)want_major)
        r = add_problem(n, "/%s is %u:%u, but the driver's major is %d (proc/devices): a stale node; remove it, "
                        "then %s", path, d.major, d.minor, want_major, creates);
    if (r < 0)
        return r;
    v = realloc(n->v, (n->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    n->v = v;
    n->v[n->n++] = (gp_gpu_node){ .node = d, .role = role, .required = required, .why = why };
    return 0;
}

/* dev/dri/cardN and renderDN of each function: the kernel lists a
 * device's DRM minors under its own sysfs directory. */
static int drm_nodes(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, gp_gpu_nodes *n)
{
    for (size_t f = 0; f < gpu->functions.n; f++) {
        const gp_pci_dev *d = &pci->devs[gpu->functions.v[f]];
        _cleanup_strv_ char **names = NULL;
        char dir[512];
        int r;

        snprintf(dir, sizeof(dir), "%s/drm", d->path);
        if (gp_host_list_dir(h, dir, &names, NULL) < 0)
            continue;
        for (char **m = names; *m; m++) {
            char path[128];

            if (strncmp(*m, "card", 4) == 0 && strspn(*m + 4, "0123456789") == strlen(*m + 4) && (*m)[4]) {
                snprintf(path, sizeof(path), "dev/dri/%s", *m);
                r = add_node(h, n, path, GP_NODE_CARD, false, 226, "display (modesetting)",
                             "udev creates it when the driver binds: udevadm trigger");
            } else if (strncmp(*m, "renderD", 7) == 0 && strspn(*m + 7, "0123456789") == strlen(*m + 7) &&
                       (*m)[7]) {
                snprintf(path, sizeof(path), "dev/dri/%s", *m);
                r = add_node(h, n, path, GP_NODE_RENDER, true, 226, "compute, video decode and encode",
                             "udev creates it when the driver binds: udevadm trigger");
            } else {
                continue;
            }
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* "Device Minor: 0" in proc/driver/nvidia/gpus/<bdf>/information: the N of
 * /dev/nvidiaN, which follows the driver's probe order, not the bus. */
static int nvidia_minor(const gp_host *h, const char *bdf)
{
    _cleanup_free_ char *buf = NULL;
    char path[128];
    size_t len = 0;
    const char *p;
    int minor;

    snprintf(path, sizeof(path), "proc/driver/nvidia/gpus/%s/information", bdf);
    if (gp_host_read_file(h, path, 64 * 1024, &buf, &len) < 0)
        return -1;
    p = strstr(buf, "Device Minor:");
    if (!p || sscanf(p + 13, " %d", &minor) != 1 || minor < 0 || minor > 254)
        return -1;
    return minor;
}

static int nvidia_nodes(const gp_host *h, const gp_pci_dev *d, gp_gpu_nodes *n)
{
    static const char creates_uvm[] = "load nvidia-uvm and create the nodes: nvidia-modprobe -u -c=0 (the "
                                      "nvidia-persistenced service does it at boot)";
    static const char creates_ctl[] = "run nvidia-smi once as root, or enable nvidia-persistenced, so the driver "
                                      "creates it";
    int frontend = gp_chardev_major(h, "nvidia-frontend"), uvm = gp_chardev_major(h, "nvidia-uvm");
    int caps = gp_chardev_major(h, "nvidia-caps"), minor = nvidia_minor(h, d->name), r;
    _cleanup_strv_ char **capnodes = NULL;
    char path[64];

    if (frontend < 0)
        frontend = gp_chardev_major(h, "nvidia");
    if (minor < 0) {
        r = add_problem(n, "proc/driver/nvidia/gpus/%s/information has no Device Minor: the nvidia module does not "
                        "drive this GPU (nvidia-smi shows the GPUs it drives)", d->name);
        return r;
    }
    snprintf(path, sizeof(path), "dev/nvidia%d", minor);
    r = add_node(h, n, path, GP_NODE_NVIDIA, true, frontend, "this GPU", creates_ctl);
    if (r == 0)
        r = add_node(h, n, "dev/nvidiactl", GP_NODE_NVIDIA, true, frontend, "the driver's control node", creates_ctl);
    if (r == 0 && uvm < 0)
        r = add_problem(n, "nvidia-uvm is not loaded (proc/devices has no nvidia-uvm): CUDA needs it; %s", creates_uvm);
    if (r == 0)
        r = add_node(h, n, "dev/nvidia-uvm", GP_NODE_NVIDIA, true, uvm, "CUDA unified memory", creates_uvm);
    if (r == 0)
        r = add_node(h, n, "dev/nvidia-uvm-tools", GP_NODE_NVIDIA, true, uvm, "CUDA profiling and some runtimes",
                     creates_uvm);
    if (r == 0)
        r = add_node(h, n, "dev/nvidia-modeset", GP_NODE_NVIDIA, false, frontend, "display (nvidia-modeset)",
                     creates_ctl);
    /* MIG instances are reached through /dev/nvidia-caps/nvidia-capN. cap1
     * and cap2 are the host-wide MIG config and monitor capabilities (root
     * only, 0400/0444): a container gets only the instance caps. */
    if (r == 0 && gp_host_list_dir(h, "dev/nvidia-caps", &capnodes, NULL) >= 0)
        for (char **c = capnodes; r == 0 && *c; c++) {
            if (strcmp(*c, "nvidia-cap1") == 0 || strcmp(*c, "nvidia-cap2") == 0)
                continue;
            snprintf(path, sizeof(path), "dev/nvidia-caps/%.40s", *c);
            r = add_node(h, n, path, GP_NODE_NVIDIA, false, caps, "MIG instance access", "nvidia-modprobe -c=0 "
                         "creates it");
        }
    else if (r == 0 && !gp_host_is_live(h)) {
        _cleanup_free_ char *list = NULL;
        size_t len = 0;

        /* A snapshot lists them instead. */
        if (gp_host_read_file(h, "gpupass/devnodes.txt", 1024 * 1024, &list, &len) >= 0)
            for (char *p = list; r == 0 && p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                size_t k = strcspn(p, " \n");

                if (k > 16 && strncmp(p, "dev/nvidia-caps/", 16) == 0 && k < sizeof(path) &&
                    strncmp(p, "dev/nvidia-caps/nvidia-cap1 ", 28) != 0 &&
                    strncmp(p, "dev/nvidia-caps/nvidia-cap2 ", 28) != 0) {
                    snprintf(path, sizeof(path), "%.*s", (int)k, p);
                    r = add_node(h, n, path, GP_NODE_NVIDIA, false, caps, "MIG instance access",
                                 "nvidia-modprobe -c=0 creates it");
                }
            }
    }
    return r;
}

int gp_gpu_nodes_find(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, gp_gpu_nodes *ret,
                      gp_error *err)
{
    const gp_pci_dev *d = &pci->devs[gpu->dev];
    gp_gpu_nodes n = { .vendor = "other" };
    int r;

    *ret = n;
    if (d->driver && strcmp(d->driver, "vfio-pci") == 0)
        return gp_error_set(err, -EBUSY, "%s is bound to vfio-pci: it belongs to VMs now, and a container needs "
                            "the host driver; give it back first (gpupass unbind %s, or undo the setup)", d->name,
                            d->name);
    if (!d->driver)
        return gp_error_set(err, -ENODEV, "%s has no driver on the host; a container uses the host's driver: load "
                            "it (or install it) first", d->name);
    if (d->vendor_id == 0x10de && strcmp(d->driver, "nvidia") == 0) {
        n.vendor = "nvidia";
        r = nvidia_nodes(h, d, &n);
    } else {
        n.vendor = d->vendor_id == 0x1002 ? "amd" : d->vendor_id == 0x8086 ? "intel" :
                   d->vendor_id == 0x10de ? "nvidia" : "other";
        r = 0;
    }
    if (r == 0)
        r = drm_nodes(h, pci, gpu, &n);
    /* ROCm opens /dev/kfd, one node for every AMD GPU of the host. */
    if (r == 0 && strcmp(d->driver, "amdgpu") == 0) {
        int kfd = gp_chardev_major(h, "kfd");

        r = add_node(h, &n, "dev/kfd", GP_NODE_KFD, true, kfd, "ROCm compute (HSA)",
                     "amdgpu creates it when it loads with a GPU ROCm supports");
    }
    if (r < 0) {
        gp_gpu_nodes_clear(&n);
        return gp_error_set(err, r, "reading the device nodes of %s: %s", d->name, strerror(-r));
    }
    if (n.n == 0 && !n.problems) {
        r = add_problem(&n, "%s (driver %s) has no device node a container could use", d->name, d->driver);
        if (r < 0) {
            gp_gpu_nodes_clear(&n);
            return gp_error_set(err, r, "out of memory");
        }
    }
    *ret = n;
    return 0;
}

void gp_gpu_nodes_clear(gp_gpu_nodes *n)
{
    free(n->v);
    gp_strv_free(n->problems);
    *n = (gp_gpu_nodes){ 0 };
}
