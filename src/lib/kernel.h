/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the running kernel is: its release, and its log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host.h"

typedef struct gp_kver {
    unsigned major, minor, patch;   /* 0.0.0 when unknown */
    char release[128];              /* "6.8.12-4-pve", "" when unknown */
} gp_kver;

/* From proc/sys/kernel/osrelease, else the third word of proc/version. */
int gp_kver_read(const gp_host *h, gp_kver *ret);
/* "6.8.12-4-pve" -> 6.8.12; -EINVAL when it does not start with N.N */
int gp_kver_parse(const char *release, gp_kver *ret);
bool gp_kver_known(const gp_kver *v);
/* v >= major.minor; false when the version is unknown. */
bool gp_kver_at_least(const gp_kver *v, unsigned major, unsigned minor);

/*
 * The kernel log as text, one message a line ("[   0.123456] text"):
 * on a live host read from /dev/kmsg (needs root), otherwise the root's
 * gpupass/kmsg.txt (a snapshot) or var/log/dmesg. ret_source names where it
 * came from. -ENOENT when no log is available; the caller reports that.
 */
int gp_kmsg_read(const gp_host *h, size_t max, char **ret, size_t *ret_len, const char **ret_source);

/* Calls fn for each line of the log that contains needle; stops when fn
 * returns non-zero and returns that value. line_no is 1-based. */
int gp_kmsg_grep(const char *log, const char *needle,
                 int (*fn)(const char *line, size_t len, unsigned line_no, void *userdata), void *userdata);
