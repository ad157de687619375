/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Ownership helpers shared by the library, the CLI and the tests. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _must_check_ __attribute__((warn_unused_result))
#define _unused_ __attribute__((unused))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void gp_freep(void *p) { free(*(void **)p); }
static inline void gp_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void gp_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void gp_closedirp(DIR **d) { if (*d) closedir(*d); }

#define _cleanup_free_ _cleanup_(gp_freep)
#define _cleanup_close_ _cleanup_(gp_closep)
#define _cleanup_fclose_ _cleanup_(gp_fclosep)
#define _cleanup_closedir_ _cleanup_(gp_closedirp)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* -errno, or -EIO when errno is unset. Tests the negated value itself, so that
 * the static analyzer knows the result is negative (clang 14 does not infer
 * -x < 0 from x > 0, and would follow "r >= 0" paths after `if (r < 0)`). */
static inline int gp_negerrno(void)
{
    int r = -errno;

    return r < 0 ? r : -EIO;
}
