/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "shared/macro.h"
#include "txn.h"

#define GP_ATTR_MAX (256 * 1024)

int gp_fd_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = malloc(cap + 1);

    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char *nb;

            if (cap >= max) {
                /* Full: only EOF right here makes the file fit. */
                char probe;
                ssize_t m;

                do
                    m = read(fd, &probe, 1);
                while (m < 0 && errno == EINTR);
                if (m < 0)
                    return gp_negerrno();
                if (m > 0)
                    return -EFBIG;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            nb = realloc(buf, cap + 1);
            if (!nb)
                return -ENOMEM;
            buf = nb;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return gp_negerrno();
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    /* Callers keep many small attributes: give back the slack. */
    if (cap - len > 64) {
        char *nb = realloc(buf, len + 1);

        if (nb)
            buf = nb;
    }
    if (ret_len)
        *ret_len = len;
    *ret = TAKE_PTR(buf);
    return 0;
}

char *gp_strip(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

bool gp_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool gp_endswith(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int gp_attr_read_at(int dirfd, const char *name, char **ret)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    char buf[4096];
    char *s = NULL;
    ssize_t n;
    int r;

    if (fd < 0)
        return gp_negerrno();
    /* sysfs hands out an attribute in one read() (at most a page), and a
     * short read of a regular file means its end: one call is enough for
     * what fits, and only a full page needs the general loop. */
    do
        n = read(fd, buf, sizeof(buf) - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return gp_negerrno();
    if ((size_t)n < sizeof(buf) - 1) {
        buf[n] = '\0';
        s = strdup(buf);
        if (!s)
            return -ENOMEM;
    } else {
        char *rest = NULL;
        size_t restlen = 0;

        r = gp_fd_read_all(fd, GP_ATTR_MAX, &rest, &restlen);
        if (r < 0)
            return r;
        s = malloc((size_t)n + restlen + 1);
        if (!s) {
            free(rest);
            return -ENOMEM;
        }
        memcpy(s, buf, (size_t)n);
        memcpy(s + n, rest, restlen + 1);
        free(rest);
    }
    *ret = gp_strip(s);
    return 0;
}

int gp_attr_read_long_at(int dirfd, const char *name, int base, long *ret)
{
    _cleanup_free_ char *s = NULL;
    char *end;
    long v;
    int r = gp_attr_read_at(dirfd, name, &s);

    if (r < 0)
        return r;
    errno = 0;
    v = strtol(s, &end, base);
    if (errno || end == s || *end != '\0')
        return -EINVAL;
    *ret = v;
    return 0;
}

int gp_readlink_at(int dirfd, const char *name, char **ret)
{
    char buf[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
    char *s;

    if (n < 0)
        return gp_negerrno();
    buf[n] = '\0';
    s = strdup(buf);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

int gp_readlink_base_at(int dirfd, const char *name, char **ret)
{
    _cleanup_free_ char *t = NULL;
    const char *base;
    size_t n;
    int r = gp_readlink_at(dirfd, name, &t);

    if (r < 0)
        return r;
    n = strlen(t);
    while (n > 1 && t[n - 1] == '/')
        t[--n] = '\0';
    base = strrchr(t, '/');
    base = base ? base + 1 : t;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return -EINVAL;
    *ret = strdup(base);
    return *ret ? 0 : -ENOMEM;
}

/* A name nobody else picks: random letters, with a fallback for a kernel
 * without getrandom() (O_EXCL catches the rare collision anyway). */
static void tmp_suffix(char out[7])
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static unsigned long counter;
    unsigned char rnd[6];

    if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
        unsigned long v = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^ (++counter * 2654435761u);

        for (size_t i = 0; i < sizeof(rnd); i++, v >>= 5)
            rnd[i] = (unsigned char)v;
    }
    for (size_t i = 0; i < sizeof(rnd); i++)
        out[i] = set[rnd[i] % (sizeof(set) - 1)];
    out[6] = '\0';
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return gp_negerrno();
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync of a directory is refused with EINVAL by some FUSE file systems
 * (pmxcfs under /etc/pve among them); the rename is atomic there anyway. */
static int fsync_dir(int fd)
{
    int r = gp_fault_point("replace-dirsync");

    if (r < 0)
        return r;
    if (fsync(fd) < 0 && errno != EINVAL && errno != EOPNOTSUPP)
        return gp_negerrno();
    return 0;
}

int gp_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
    _cleanup_free_ char *dir = NULL;
    _cleanup_close_ int dfd = -1, fd = -1;
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
    char tmp[NAME_MAX + 1], suffix[7];
    struct stat st;
    int r;

    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return -EINVAL;
    /* ".#" + name + "." + 6 letters must still be one file name. */
    if (strlen(base) + 9 > NAME_MAX)
        return -ENAMETOOLONG;
    if (slash) {
        dir = strndup(name, (size_t)(slash - name));
        if (!dir)
            return -ENOMEM;
    }
    /* A descriptor of our own: the caller's may be O_PATH, and fsync needs a real open. */
    dfd = openat(dirfd, dir && *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return gp_negerrno();

    for (unsigned tries = 0;; tries++) {
        tmp_suffix(suffix);
        snprintf(tmp, sizeof(tmp), ".#%s.%s", base, suffix);
        r = gp_fault_point("replace-create");
        if (r < 0)
            return r;
        /* 0600 until the content is complete: the final mode may be tighter
         * than the umask would give, and readers must never see a partial file. */
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd >= 0)
            break;
        if (errno != EEXIST || tries >= 100)
            return gp_negerrno();
    }

    r = gp_fault_point("replace-write");
    if (r >= 0)
        r = write_all(fd, data, len);
    if (r >= 0 && fstat(fd, &st) < 0)
        r = gp_negerrno();
    /* Owner before mode: chown() clears the set-user/group-ID bits. */
    if (r >= 0 && (st.st_uid != uid || st.st_gid != gid)) {
        r = gp_fault_point("replace-chown");
        if (r >= 0 && fchown(fd, uid, gid) < 0)
            r = gp_negerrno();
    }
    /* Only when the mode differs: pmxcfs (/etc/pve) gives every file its
     * own fixed mode and refuses to change it. */
    if (r >= 0) {
        r = gp_fault_point("replace-chmod");
        if (r >= 0 && (st.st_mode & 07777) != (mode & 07777) && fchmod(fd, mode & 07777) < 0)
            r = gp_negerrno();
    }
    if (r >= 0) {
        r = gp_fault_point("replace-fsync");
        if (r >= 0 && fsync(fd) < 0)
            r = gp_negerrno();
    }
    if (r >= 0) {
        int cfd = TAKE_FD(fd);

        /* close() reports a delayed write error on some network file systems. */
        if (close(cfd) < 0)
            r = gp_negerrno();
    }
    if (r >= 0) {
        r = gp_fault_point("replace-rename");
        if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
            r = gp_negerrno();
    }
    if (r < 0) {
        int saved = errno;

        unlinkat(dfd, tmp, 0);
        errno = saved;
        return r;
    }
    return fsync_dir(dfd);
}
