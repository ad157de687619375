/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scratch directories for the unit tests: made under $TMPDIR, removed whole. */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Creates "$TMPDIR/<name>.XXXXXX" (or under /tmp) into buf; 0 or -1. */
static inline int gp_test_tmpdir(char *buf, size_t len, const char *name)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(buf, len, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    return mkdtemp(buf) ? 0 : -1;
}

static inline int gp_test_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st; (void)flag; (void)f;
    return remove(p);
}

/* Removes a tree without following symlinks (tests plant links that point out). */
static inline int gp_test_rm_rf(const char *path)
{
    return nftw(path, gp_test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
