/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `gpupass doctor`: the kernel log read once against every signature of
 * logsig.h, matches grouped per failure and device (a flood of one line is
 * one finding with its count and first and last time), each with the fix
 * for this host; then the check layers that concern the devices named.
 */
#pragma once

#include "check.h"
#include "finding.h"
#include "logscan.h"

typedef struct gp_doctor {
    const gp_check_ctx *ctx;
    const char *source;        /* the log's name in evidence: "/dev/kmsg", "dmesg.txt" */
    gp_logscan_stats stats;
    bool truncated;            /* stopped at the byte limit */
    void *priv;
} gp_doctor;

/* -ENOMEM. */
int gp_doctor_init(gp_doctor *d, const gp_check_ctx *ctx, const char *source);
/* Scans one input; may be called more than once. */
int gp_doctor_scan_fd(gp_doctor *d, int fd, unsigned long long max_bytes);
int gp_doctor_scan_buffer(gp_doctor *d, const char *buf, size_t len);
/* The findings: one per failure and device, then the related check
 * findings, or one pass saying what was looked for. */
int gp_doctor_findings(gp_doctor *d, gp_findings *out);
void gp_doctor_done(gp_doctor *d);
