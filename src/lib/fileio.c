/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "shared/macro.h"

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
