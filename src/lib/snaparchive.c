/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extraction of snapshot archives. The archives come attached to bug reports,
 * so every byte of them is untrusted: libarchive only parses, and every file
 * is created here by hand, relative to a directory fd, one component at a
 * time with O_NOFOLLOW, so that no entry can be written through a symlink or
 * outside the destination, whatever order the entries come in.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snaparchive.h"
#include "shared/macro.h"

/* A real snapshot is a few MiB with a few thousand entries; these limits are
 * far above that and far below what would fill a disk or exhaust inodes. */
#define GP_ARCHIVE_ENTRY_MAX (64ULL * 1024 * 1024)
#define GP_ARCHIVE_TOTAL_MAX (1024ULL * 1024 * 1024)
#define GP_ARCHIVE_ENTRIES_MAX 200000u
/* Linux gives up on a path after 40 symlinks (ELOOP); so do we. */
#define GP_ARCHIVE_LINK_DEPTH 40

#define HINT "gpupass snapshots are made with `gpupass snapshot -o FILE.tar.gz`"

typedef struct extract {
    const char *path;       /* the archive, for messages */
    int destfd;
    struct archive *a;
    uint64_t total;
    gp_error *err;
} extract;

static void gp_archive_readp(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

static int hostile(extract *x, const char *entry, const char *why)
{
    return gp_error_set(x->err, -EINVAL, "%s: entry \"%s\" %s; refusing to extract this archive (" HINT ")",
                        x->path, entry, why);
}

/*
 * Normalizes an entry name into `out`: drops "." and empty components (tar
 * writes "./sys/..." and "dir/"), refuses absolute names and any "..". Returns
 * the number of components (0 for the archive's own "./").
 */
static int normalize_name(extract *x, const char *name, char *out, size_t outsz)
{
    size_t n = 0, ncomp = 0;
    const char *p = name;

    if (!name || !*name)
        return hostile(x, "", "has an empty name");
    if (name[0] == '/')
        return hostile(x, name, "has an absolute name");
    if (strlen(name) >= outsz)
        return hostile(x, name, "has a name longer than PATH_MAX");
    while (*p) {
        const char *e = strchrnul(p, '/');
        size_t len = (size_t)(e - p);

        if (len == 2 && p[0] == '.' && p[1] == '.')
            return hostile(x, name, "has a \"..\" component");
        if (len >= NAME_MAX + 1)
            return hostile(x, name, "has a component longer than NAME_MAX");
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (n > 0)
                out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
            ncomp++;
        }
        p = *e ? e + 1 : e;
    }
    out[n] = '\0';
    return (int)ncomp;
}

/*
 * Opens the directory that holds the last component of `rel` (normalized),
 * creating missing directories when `create`, never following a symlink: a
 * component that is a symlink or a file makes the entry hostile. *base points
 * into rel at the last component.
 */
static int open_parent(extract *x, const char *entry, const char *rel, bool create, const char **base)
{
    _cleanup_close_ int fd = -1;
    char comp[NAME_MAX + 1];
    const char *p = rel;

    fd = fcntl(x->destfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot duplicate the extraction directory fd: %m", x->path);
    for (;;) {
        const char *e = strchr(p, '/');
        size_t len;
        int nfd;

        if (!e)
            break;
        len = (size_t)(e - p);
        memcpy(comp, p, len);
        comp[len] = '\0';
        nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
                return gp_error_set(x->err, gp_negerrno(), "%s: cannot create directory for entry \"%s\": %m",
                                    x->path, entry);
            nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (nfd < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                return hostile(x, entry, "goes through a symlink or a file");
            if (errno == ENOENT)
                return hostile(x, entry, "names a path that does not exist in the archive");
            return gp_error_set(x->err, gp_negerrno(), "%s: cannot open directory for entry \"%s\": %m",
                                x->path, entry);
        }
        close(fd);
        fd = nfd;
        p = e + 1;
    }
    *base = p;
    return TAKE_FD(fd);
}

/*
 * Resolves a symlink target the way the kernel will when the snapshot is read,
 * against what is on disk now. `cur` is the root-relative directory the link
 * sits in, rewritten in place. A component that does not exist yet cannot be
 * checked, and a later entry could make it a symlink to "." so that a ".."
 * after it climbs one level too high: a ".." after a missing component is
 * refused. Existing components are real directories or symlinks that passed
 * this same check, and nothing is ever replaced, so what holds now holds for
 * the finished tree.
 */
static int resolve_target(extract *x, const char *entry, char *cur, size_t cursz, const char *target,
                          int depth, bool *missing)
{
    const char *p = target;

    if (depth > GP_ARCHIVE_LINK_DEPTH)
        return hostile(x, entry, "is a symlink that loops");
    if (!*target)
        return hostile(x, entry, "is a symlink with an empty target");
    if (target[0] == '/')
        return hostile(x, entry, "is a symlink with an absolute target (it would point outside the snapshot)");
    while (*p) {
        const char *e = strchrnul(p, '/');
        size_t len = (size_t)(e - p), curlen = strlen(cur);

        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            char *slash;

            if (*missing)
                return hostile(x, entry, "is a symlink that climbs out of a path not yet in the archive");
            if (curlen == 0)
                return hostile(x, entry, "is a symlink that points outside the snapshot");
            slash = strrchr(cur, '/');
            if (slash)
                *slash = '\0';
            else
                cur[0] = '\0';
        } else {
            struct stat st;

            if (curlen + 1 + len + 1 > cursz || len > NAME_MAX)
                return hostile(x, entry, "is a symlink whose target is too long");
            if (curlen > 0)
                cur[curlen++] = '/';
            memcpy(cur + curlen, p, len);
            cur[curlen + len] = '\0';
            /* Every component of cur before this one is a real directory
             * (symlinks are replaced by their resolution below), so fstatat
             * follows nothing. */
            if (!*missing) {
                if (fstatat(x->destfd, cur, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                    if (errno != ENOENT && errno != ENOTDIR)
                        return gp_error_set(x->err, gp_negerrno(), "%s: cannot check entry \"%s\": %m",
                                            x->path, entry);
                    *missing = true;
                } else if (S_ISLNK(st.st_mode)) {
                    char link[PATH_MAX];
                    ssize_t n = readlinkat(x->destfd, cur, link, sizeof(link) - 1);
                    int r;

                    if (n < 0)
                        return gp_error_set(x->err, gp_negerrno(), "%s: cannot check entry \"%s\": %m",
                                            x->path, entry);
                    link[n] = '\0';
                    cur[curlen > 0 ? curlen - 1 : 0] = '\0';
                    r = resolve_target(x, entry, cur, cursz, link, depth + 1, missing);
                    if (r < 0)
                        return r;
                }
            }
        }
        p = *e ? e + 1 : e;
    }
    return 0;
}

static int extract_symlink(extract *x, const char *entry, const char *rel, const char *target)
{
    char cur[PATH_MAX];
    bool missing = false;
    const char *base, *slash;
    _cleanup_close_ int dfd = -1;
    int r;

    if (!target)
        return hostile(x, entry, "is a symlink without a target");
    slash = strrchr(rel, '/');
    if (slash) {
        memcpy(cur, rel, (size_t)(slash - rel));
        cur[slash - rel] = '\0';
    } else
        cur[0] = '\0';
    /* The directory must exist before the target can be checked against it. */
    dfd = open_parent(x, entry, rel, true, &base);
    if (dfd < 0)
        return dfd;
    r = resolve_target(x, entry, cur, sizeof(cur), target, 0, &missing);
    if (r < 0)
        return r;
    if (symlinkat(target, dfd, base) < 0) {
        if (errno == EEXIST)
            return hostile(x, entry, "appears twice or replaces another entry");
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot create symlink \"%s\": %m", x->path, entry);
    }
    return 0;
}

/* Lexical check of a hard link's target, so that the refusal names the
 * entry rather than the target. */
static bool name_escapes(const char *name)
{
    if (name[0] == '/')
        return true;
    for (const char *p = name; *p;) {
        const char *e = strchrnul(p, '/');

        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

static int extract_hardlink(extract *x, const char *entry, const char *rel, const char *linkname)
{
    char trel[PATH_MAX];
    const char *base, *tbase;
    _cleanup_close_ int dfd = -1, tfd = -1;
    struct stat st;
    int r;

    if (name_escapes(linkname))
        return hostile(x, entry, "is a hard link to a path outside the snapshot");
    r = normalize_name(x, linkname, trel, sizeof(trel));
    if (r < 0)
        return r;
    if (r == 0)
        return hostile(x, entry, "is a hard link to the snapshot root");
    tfd = open_parent(x, entry, trel, false, &tbase);
    if (tfd < 0)
        return tfd;
    if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return hostile(x, entry, "is a hard link to a file that is not in the archive");
    /* A hard link to a symlink would be a second name for a link that was
     * checked from another directory; nothing in a snapshot needs it. */
    if (!S_ISREG(st.st_mode))
        return hostile(x, entry, "is a hard link to something other than a regular file");
    dfd = open_parent(x, entry, rel, true, &base);
    if (dfd < 0)
        return dfd;
    if (linkat(tfd, tbase, dfd, base, 0) < 0) {
        if (errno == EEXIST)
            return hostile(x, entry, "appears twice or replaces another entry");
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot create hard link \"%s\": %m", x->path, entry);
    }
    return 0;
}

static int extract_dir(extract *x, const char *entry, const char *rel, mode_t perm)
{
    const char *base;
    _cleanup_close_ int dfd = -1, fd = -1;

    dfd = open_parent(x, entry, rel, true, &base);
    if (dfd < 0)
        return dfd;
    if (mkdirat(dfd, base, 0700) < 0 && errno != EEXIST)
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot create directory \"%s\": %m", x->path, entry);
    fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR)
            return hostile(x, entry, "is a directory where the archive already has a file or symlink");
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot open directory \"%s\": %m", x->path, entry);
    }
    /* We must keep being able to create entries in it and to remove it. */
    if (fchmod(fd, (perm & 0755) | 0700) < 0)
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot set mode of \"%s\": %m", x->path, entry);
    return 0;
}

static int extract_file(extract *x, const char *entry, const char *rel, mode_t perm, int64_t size)
{
    const char *base;
    _cleanup_close_ int dfd = -1, fd = -1;
    uint64_t written = 0;
    char buf[64 * 1024];

    if (size < 0 || (uint64_t)size > GP_ARCHIVE_ENTRY_MAX)
        return hostile(x, entry, "is larger than 64 MiB");
    if (x->total + (uint64_t)size > GP_ARCHIVE_TOTAL_MAX)
        return hostile(x, entry, "takes the archive over 1 GiB");
    dfd = open_parent(x, entry, rel, true, &base);
    if (dfd < 0)
        return dfd;
    /* O_EXCL|O_NOFOLLOW: never write through an existing name, and never
     * replace one (a duplicate entry could otherwise swap a checked file). */
    fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return hostile(x, entry, "appears twice or replaces another entry");
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot create \"%s\": %m", x->path, entry);
    }
    for (;;) {
        la_ssize_t n = archive_read_data(x->a, buf, sizeof(buf));
        size_t off = 0;

        if (n == 0)
            break;
        if (n < 0)
            return gp_error_set(x->err, -EINVAL, "%s: entry \"%s\" is corrupt: %s; the archive is damaged (" HINT ")",
                                x->path, entry, archive_error_string(x->a));
        /* The header's size can lie (sparse entries, pax overrides): count
         * what actually comes out. */
        written += (uint64_t)n;
        if (written > GP_ARCHIVE_ENTRY_MAX)
            return hostile(x, entry, "is larger than 64 MiB");
        if (x->total + written > GP_ARCHIVE_TOTAL_MAX)
            return hostile(x, entry, "takes the archive over 1 GiB");
        while (off < (size_t)n) {
            ssize_t w = write(fd, buf + off, (size_t)n - off);

            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return gp_error_set(x->err, gp_negerrno(), "%s: cannot write \"%s\": %m", x->path, entry);
            }
            off += (size_t)w;
        }
    }
    x->total += written;
    /* Ownership is ignored; setuid/setgid/sticky and group/other write are
     * dropped; the owner can always read what gpupass will read back. */
    if (fchmod(fd, (perm & 0755) | 0400) < 0)
        return gp_error_set(x->err, gp_negerrno(), "%s: cannot set mode of \"%s\": %m", x->path, entry);
    return 0;
}

static int extract_entry(extract *x, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e);
    const char *hardlink = archive_entry_hardlink(e);
    char rel[PATH_MAX];
    mode_t type = archive_entry_filetype(e);
    mode_t perm = archive_entry_perm(e);
    int r;

    r = normalize_name(x, name, rel, sizeof(rel));
    if (r < 0)
        return r;
    if (hardlink) {
        if (r == 0)
            return hostile(x, name, "is a hard link at the snapshot root");
        return extract_hardlink(x, name, rel, hardlink);
    }
    if (r == 0) {
        if (type == AE_IFDIR)
            return 0;   /* "./": the destination itself */
        return hostile(x, name, "names the snapshot root but is not a directory");
    }
    switch (type) {
    case AE_IFDIR:
        return extract_dir(x, name, rel, perm);
    case AE_IFREG:
        return extract_file(x, name, rel, perm, archive_entry_size_is_set(e) ? archive_entry_size(e) : 0);
    case AE_IFLNK:
        return extract_symlink(x, name, rel, archive_entry_symlink(e));
    case AE_IFCHR:
    case AE_IFBLK:
        return hostile(x, name, "is a device node (snapshots list device nodes in gpupass/devnodes.txt)");
    case AE_IFIFO:
        return hostile(x, name, "is a fifo");
    case AE_IFSOCK:
        return hostile(x, name, "is a socket");
    default:
        return hostile(x, name, "has an unknown file type");
    }
}

int gp_archive_extract(const char *path, const char *destdir, gp_error *err)
{
    _cleanup_(gp_archive_readp) struct archive *a = NULL;
    _cleanup_close_ int fd = -1, destfd = -1;
    struct archive_entry *e;
    struct stat st;
    unsigned count = 0;
    extract x;
    int r;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return gp_error_set(err, gp_negerrno(), "%s: cannot open snapshot archive: %m", path);
    if (fstat(fd, &st) < 0)
        return gp_error_set(err, gp_negerrno(), "%s: cannot stat snapshot archive: %m", path);
    if (!S_ISREG(st.st_mode))
        return gp_error_set(err, -EINVAL, "%s: is not a regular file, so not a gpupass snapshot; " HINT, path);
    if (st.st_size == 0)
        return gp_error_set(err, -EINVAL, "%s: is empty, so not a gpupass snapshot; " HINT, path);
    destfd = open(destdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (destfd < 0)
        return gp_error_set(err, gp_negerrno(), "%s: cannot open extraction directory %s: %m", path, destdir);

    a = archive_read_new();
    if (!a)
        return gp_error_set(err, -ENOMEM, "%s: out of memory", path);
    /* Only what `gpupass snapshot` and a plain `tar -c[zJ]` can write. */
    if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
        archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
        archive_read_support_filter_xz(a) != ARCHIVE_OK ||
        archive_read_support_filter_none(a) != ARCHIVE_OK)
        return gp_error_set(err, -ENOTSUP, "%s: libarchive lacks tar/gzip/xz support: %s", path, archive_error_string(a));
    /* zstd may be missing from an older libarchive build; warn-level status
     * (ARCHIVE_WARN: external program) is fine too. */
    (void)archive_read_support_filter_zstd(a);
    if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
        return gp_error_set(err, -EINVAL, "%s: is not a gpupass snapshot (%s); " HINT, path, archive_error_string(a));

    x = (extract) { .path = path, .destfd = destfd, .a = a, .err = err };
    for (;;) {
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_WARN)
            r = ARCHIVE_OK;   /* e.g. an unknown pax keyword: the entry is still whole */
        if (r != ARCHIVE_OK) {
            if (count == 0)
                return gp_error_set(err, -EINVAL, "%s: is not a gpupass snapshot (%s); " HINT,
                                    path, archive_error_string(a));
            return gp_error_set(err, -EINVAL, "%s: is damaged after %u entries (%s); " HINT,
                                path, count, archive_error_string(a));
        }
        if (++count > GP_ARCHIVE_ENTRIES_MAX)
            return gp_error_set(err, -EINVAL, "%s: has more than %u entries; refusing to extract it (" HINT ")",
                                path, GP_ARCHIVE_ENTRIES_MAX);
        r = extract_entry(&x, e);
        if (r < 0)
            return r;
    }
    if (count == 0)
        return gp_error_set(err, -EINVAL, "%s: has no entries, so it is not a gpupass snapshot; " HINT, path);
    return 0;
}
