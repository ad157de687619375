/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snaparchive.h"
#include "fileio.h"
#include "host.h"
#include "shared/macro.h"

/* Linux gives up after 40 links in one lookup (MAXSYMLINKS); so do we. */
#define GP_MAX_SYMLINKS 40

/* Root-relative paths already seen not to be symlinks. A scan resolves the
 * same prefixes (sys/devices/pci0000:00/...) for every device; remembering
 * them saves most readlinkat() calls. Open addressing, power-of-two size. */
typedef struct path_set {
    char **slot;
    size_t cap, n;
} path_set;

struct gp_host {
    char *source;    /* what the user named */
    char *root;      /* absolute directory */
    char *tmpdir;    /* private extraction directory, removed on free */
    int rootfd;
    bool live;
    path_set *plain; /* cache; mutable behind the const handle */
};

static size_t path_hash(const char *s)
{
    size_t h = 1469598103934665603u;   /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211u;
    return h;
}

static bool path_set_has(const path_set *ps, const char *s)
{
    if (!ps->cap)
        return false;
    for (size_t i = path_hash(s) & (ps->cap - 1);; i = (i + 1) & (ps->cap - 1)) {
        if (!ps->slot[i])
            return false;
        if (strcmp(ps->slot[i], s) == 0)
            return true;
    }
}

static void path_set_add(path_set *ps, const char *s)
{
    if (ps->n * 2 >= ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 256;
        char **ns = calloc(ncap, sizeof(*ns));

        if (!ns)
            return;     /* a cache: failing to grow only costs syscalls */
        for (size_t i = 0; i < ps->cap; i++)
            if (ps->slot[i]) {
                size_t j = path_hash(ps->slot[i]) & (ncap - 1);

                while (ns[j])
                    j = (j + 1) & (ncap - 1);
                ns[j] = ps->slot[i];
            }
        free(ps->slot);
        ps->slot = ns;
        ps->cap = ncap;
    }
    size_t i = path_hash(s) & (ps->cap - 1);

    while (ps->slot[i]) {
        if (strcmp(ps->slot[i], s) == 0)
            return;
        i = (i + 1) & (ps->cap - 1);
    }
    ps->slot[i] = strdup(s);
    if (ps->slot[i])
        ps->n++;
}

static void path_set_free(path_set *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->cap; i++)
        free(ps->slot[i]);
    free(ps->slot);
    free(ps);
}

static void rm_rf_at(int parentfd, const char *name)
{
    int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    _cleanup_closedir_ DIR *d = NULL;
    struct dirent *de;

    if (fd < 0) {
        unlinkat(parentfd, name, 0);
        return;
    }
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (de->d_type == DT_DIR)
            rm_rf_at(dirfd(d), de->d_name);
        else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR)
            rm_rf_at(dirfd(d), de->d_name);
    }
    unlinkat(parentfd, name, AT_REMOVEDIR);
}

void gp_host_free(gp_host *h)
{
    if (!h)
        return;
    if (h->rootfd >= 0)
        close(h->rootfd);
    path_set_free(h->plain);
    if (h->tmpdir)
        rm_rf_at(AT_FDCWD, h->tmpdir);
    free(h->tmpdir);
    free(h->root);
    free(h->source);
    free(h);
}

/* A directory is taken for a host root when it has what every Linux host has:
 * the PCI bus in sysfs, the IOMMU group directory, or a kernel command line. */
static bool looks_like_host_root(int rootfd)
{
    static const char *const marks[] = { "sys/bus/pci", "sys/kernel", "proc/cmdline" };

    for (size_t i = 0; i < ELEMENTSOF(marks); i++)
        if (faccessat(rootfd, marks[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            return true;
    return false;
}

static int host_open_archive(gp_host *h, const char *path, gp_error *err)
{
    const char *tmp = getenv("TMPDIR");
    _cleanup_free_ char *tmpl = NULL;
    int r;

    if (asprintf(&tmpl, "%s/gpupass-root.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
        return -ENOMEM;
    if (!mkdtemp(tmpl))
        return gp_error_set(err, gp_negerrno(), "cannot create a temporary directory to extract %s: %s; set TMPDIR to a writable directory",
                            path, strerror(errno));
    h->tmpdir = TAKE_PTR(tmpl);
    r = gp_archive_extract(path, h->tmpdir, err);
    if (r < 0)
        return r;
    h->root = strdup(h->tmpdir);
    return h->root ? 0 : -ENOMEM;
}

int gp_host_open(const char *root, gp_host **ret, gp_error *err)
{
    gp_host *h = calloc(1, sizeof(*h));
    _cleanup_host_ gp_host *owned = h;
    struct stat st;
    int r;

    if (!h)
        return -ENOMEM;
    h->rootfd = -1;
    h->plain = calloc(1, sizeof(*h->plain));
    if (!h->plain)
        return -ENOMEM;
    if (!root || !*root)
        root = "/";
    h->source = strdup(root);
    if (!h->source)
        return -ENOMEM;

    if (stat(root, &st) < 0)
        return gp_error_set(err, gp_negerrno(), "--root %s: %s; give a host root directory or a snapshot archive from `gpupass snapshot`",
                            root, strerror(errno));
    if (S_ISREG(st.st_mode)) {
        r = host_open_archive(h, root, err);
        if (r < 0)
            return r;
    } else if (S_ISDIR(st.st_mode)) {
        h->root = realpath(root, NULL);
        if (!h->root)
            return gp_error_set(err, gp_negerrno(), "--root %s: %s", root, strerror(errno));
    } else {
        return gp_error_set(err, -EINVAL, "--root %s: not a directory or a snapshot archive", root);
    }

    h->live = strcmp(h->root, "/") == 0;
    h->rootfd = open(h->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (h->rootfd < 0)
        return gp_error_set(err, gp_negerrno(), "--root %s: %s", root, strerror(errno));
    if (!h->live && !looks_like_host_root(h->rootfd))
        return gp_error_set(err, -ENOTDIR,
                            "--root %s: not a host root (it has no sys/bus/pci, sys/kernel or proc/cmdline); "
                            "point it at a copy of a machine's / or at a `gpupass snapshot` archive",
                            root);
    *ret = TAKE_PTR(owned);
    return 0;
}

const char *gp_host_root(const gp_host *h) { return h->root; }
const char *gp_host_source(const gp_host *h) { return h->source; }
bool gp_host_is_archive(const gp_host *h)
{
    return h->tmpdir != NULL;
}

bool gp_host_is_live(const gp_host *h) { return h->live; }
int gp_host_rootfd(const gp_host *h) { return h->rootfd; }

/*
 * Resolution inside the root, in the manner of systemd's chase(): walk the
 * path one component at a time, splicing in symlink targets. `out` holds the
 * canonical root-relative prefix resolved so far; `todo` what is left.
 */
int gp_host_resolve(const gp_host *h, const char *path, char **ret)
{
    char out[PATH_MAX] = "";
    size_t outlen = 0;
    _cleanup_free_ char *todo = NULL;
    unsigned links = 0;
    char *p;

    while (*path == '/')
        path++;
    todo = strdup(path);
    if (!todo)
        return -ENOMEM;

    p = todo;
    while (*p) {
        char *slash = strchr(p, '/');
        size_t clen = slash ? (size_t)(slash - p) : strlen(p);
        char comp[NAME_MAX + 1];
        char target[PATH_MAX];
        ssize_t n;

        if (clen > NAME_MAX)
            return -ENAMETOOLONG;
        memcpy(comp, p, clen);
        comp[clen] = '\0';
        p = slash ? slash + 1 : p + clen;

        if (clen == 0 || strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            char *last;

            /* The live root's parent is itself, as in the kernel. Any other
             * root is a boundary: climbing over it would read the live host. */
            if (outlen == 0) {
                if (h->live)
                    continue;
                return -EXDEV;
            }
            last = strrchr(out, '/');
            outlen = last ? (size_t)(last - out) : 0;
            out[outlen] = '\0';
            continue;
        }

        if (outlen + 1 + clen + 1 > sizeof(out))
            return -ENAMETOOLONG;
        if (outlen)
            out[outlen++] = '/';
        memcpy(out + outlen, comp, clen + 1);
        outlen += clen;

        if (*p && path_set_has(h->plain, out))
            continue;
        n = readlinkat(h->rootfd, out, target, sizeof(target) - 1);
        if (n < 0) {
            if (errno != EINVAL)
                return gp_negerrno();
            /* Not a symlink: keep the component. Only directories on the
             * way are remembered; the last component is looked at anew. */
            if (*p)
                path_set_add(h->plain, out);
            continue;
        }
        target[n] = '\0';
        if (++links > GP_MAX_SYMLINKS)
            return -ELOOP;

        /* Drop the link itself; continue from its directory (relative
         * target) or from the root (absolute target, chroot semantics). */
        {
            char *last = strrchr(out, '/');

            outlen = last ? (size_t)(last - out) : 0;
            out[outlen] = '\0';
            if (target[0] == '/')
                outlen = 0, out[0] = '\0';
        }
        {
            _cleanup_free_ char *rest = todo;
            char *joined;

            if (asprintf(&joined, "%s/%s", target, p) < 0) {
                todo = NULL;
                return -ENOMEM;
            }
            todo = joined;
            p = todo;
        }
    }
    *ret = strdup(out);
    return *ret ? 0 : -ENOMEM;
}

static int host_openat(const gp_host *h, const char *path, int flags)
{
    _cleanup_free_ char *rel = NULL;
    int fd, r;

    r = gp_host_resolve(h, path, &rel);
    if (r < 0)
        return r;
    assert(rel); /* set on success; the analyzer loses gp_negerrno() at this call depth */
    fd = openat(h->rootfd, *rel ? rel : ".", flags | O_CLOEXEC | O_NOCTTY);
    return fd < 0 ? gp_negerrno() : fd;
}

int gp_host_open_dir(const gp_host *h, const char *path)
{
    return host_openat(h, path, O_RDONLY | O_DIRECTORY);
}

int gp_host_open_file(const gp_host *h, const char *path)
{
    return host_openat(h, path, O_RDONLY);
}

int gp_host_open_attr_rw(const gp_host *h, const char *path)
{
    return host_openat(h, path, O_RDWR);
}

int gp_host_write_attr(const gp_host *h, const char *path, const char *value)
{
    _cleanup_close_ int fd = host_openat(h, path, O_WRONLY);
    size_t len = strlen(value);
    ssize_t n;

    if (fd < 0)
        return fd;
    do
        n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gp_negerrno();
    return (size_t)n == len ? 0 : -EIO;
}

int gp_host_read_file(const gp_host *h, const char *path, size_t max, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = gp_host_open_file(h, path);

    if (fd < 0)
        return fd;
    return gp_fd_read_all(fd, max, ret, ret_len);
}

int gp_host_read_attr(const gp_host *h, const char *path, char **ret)
{
    char *s = NULL;
    int r = gp_host_read_file(h, path, 1024 * 1024, &s, NULL);

    if (r < 0)
        return r;
    *ret = gp_strip(s);
    return 0;
}

/* Resolves the directory part of path, leaves the last component alone. */
static int host_open_parent(const gp_host *h, const char *path, const char **ret_base)
{
    _cleanup_free_ char *dir = strdup(path);
    char *slash;

    if (!dir)
        return -ENOMEM;
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        *ret_base = path + (slash - dir) + 1;
        return gp_host_open_dir(h, dir);
    }
    *ret_base = path;
    return gp_host_open_dir(h, "");
}

int gp_host_readlink(const gp_host *h, const char *path, char **ret)
{
    const char *base;
    _cleanup_close_ int dfd = host_open_parent(h, path, &base);

    if (dfd < 0)
        return dfd;
    return gp_readlink_at(dfd, base, ret);
}

bool gp_host_exists(const gp_host *h, const char *path)
{
    const char *base;
    _cleanup_close_ int dfd = host_open_parent(h, path, &base);

    return dfd >= 0 && faccessat(dfd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void gp_strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

int gp_strv_append(char ***v, size_t *n, const char *s, size_t len)
{
    size_t count = 0;
    char **nv;

    if (n)
        count = *n;
    else
        while (*v && (*v)[count])
            count++;
    nv = realloc(*v, (count + 2) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    nv[count] = strndup(s, len);
    nv[count + 1] = NULL;
    if (!nv[count])
        return -ENOMEM;
    if (n)
        *n = count + 1;
    return 0;
}

int gp_strv_appendv(char ***v, const char *fmt, va_list ap)
{
    _cleanup_free_ char *s = NULL;
    int r = vasprintf(&s, fmt, ap);

    return r < 0 ? -ENOMEM : gp_strv_append(v, NULL, s, (size_t)r);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int gp_host_list_dir(const gp_host *h, const char *path, char ***ret, size_t *ret_n)
{
    int fd = gp_host_open_dir(h, path);
    _cleanup_closedir_ DIR *d = NULL;
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;

    if (fd < 0)
        return fd;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return gp_negerrno();
    }
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n + 2 > cap) {
            char **nv;

            cap = cap ? cap * 2 : 32;
            nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                goto oom;
            v = nv;
        }
        v[n] = strdup(de->d_name);
        if (!v[n])
            goto oom;
        v[++n] = NULL;
    }
    if (!v) {
        v = calloc(1, sizeof(*v));
        if (!v)
            return -ENOMEM;
    }
    qsort(v, n, sizeof(*v), cmp_str);
    *ret = v;
    if (ret_n)
        *ret_n = n;
    return 0;
oom:
    gp_strv_free(v);
    return -ENOMEM;
}

/* A snapshot cannot hold device nodes, so `gpupass snapshot` lists them in
 * gpupass/devnodes.txt ("dev/kvm char 10:232 0660 0 104"); a live host or a
 * plain copy of one is asked directly. */
bool gp_host_devnode_exists(const gp_host *h, const char *path)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0, plen = strlen(path);

    if (gp_host_is_live(h) || gp_host_read_file(h, "gpupass/devnodes.txt", 1024 * 1024, &buf, &len) < 0)
        return gp_host_exists(h, path);
    for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, path, plen) == 0 && p[plen] == ' ')
            return true;
    return false;
}
