/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container linter: the GPU lines of Proxmox container configs (devN,
 * lxc.cgroup2.devices.allow, lxc.mount.entry) judged against the device
 * nodes that exist on this host and the container's own groups.
 */
#pragma once

#include <stddef.h>

#include "check.h"
#include "finding.h"

/*
 * One CT config (buf, len bytes; label is the path shown in evidence;
 * ctid from the file name, 0 when unknown: then the container's rootfs is
 * not looked at). Layer of every finding: "CT <ctid>" (or the label).
 * Returns 0 or -ENOMEM.
 */
int gp_lxc_lint_config(const gp_check_ctx *ctx, const char *label, unsigned ctid, const char *buf, size_t len,
                       gp_findings *out);

/* Every CT config of this node (ctids NULL / n 0) or the ones named; a
 * named CTID without a config is a fail finding "lxc.not-found". */
int gp_lxc_lint(const gp_check_ctx *ctx, const unsigned *ctids, size_t n, gp_findings *out);
