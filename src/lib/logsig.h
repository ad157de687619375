/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel-log signatures `gpupass doctor` knows, kept as data: each
 * names a failure mode (failure-modes.md F1-F16), the literal text that
 * reveals it in a normalized log line, and a function that writes the fix
 * for this host from its facts (kernel version, boot VGA, boot framebuffer
 * in /proc/iomem, CPU vendor, reset methods, vendor-reset, boot loader).
 */
#pragma once

#include <stddef.h>

#include "check.h"
#include "finding.h"
#include "logscan.h"

typedef struct gp_loghit {
    const gp_logline *first;   /* the first line that matched */
    unsigned long count;       /* lines that matched, for this signature and device */
    const char *device;        /* PCI address from the lines ("0000:01:00.0"), or NULL */
    int group;                 /* IOMMU group number from the lines, or -1 */
    int bar;                   /* BAR number from the lines, or -1 */
} gp_loghit;

typedef struct gp_logsig {
    const char *id;            /* stable finding id: "doctor.bar-reserve" */
    const char *mode;          /* the failure mode, shown as what was checked: "F7 boot framebuffer in a BAR" */
    const char *needle;        /* literal text that must occur in the line */
    const char *also;          /* a second literal that must occur too, or NULL */
    const char *unless;        /* a literal that must not occur, or NULL */
    gp_severity severity;
    const char *explain;       /* what the line means, one or two sentences */
    /* The fix for this host, malloc'd in *ret (NULL for none); 0 or -ENOMEM. */
    int (*fix)(const gp_check_ctx *ctx, const gp_loghit *hit, char **ret);
} gp_logsig;

extern const gp_logsig gp_logsigs[];
extern const size_t gp_n_logsigs;
