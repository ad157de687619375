/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest linters: Proxmox VM configs and cluster PCI mappings judged against
 * this host's hardware, as qemu-server would judge them at VM start, and
 * reported as findings with the file and line.
 */
#pragma once

#include <stddef.h>

#include "check.h"
#include "finding.h"

/*
 * One VM config (its text buf of len bytes; label is the path shown in
 * evidence, "/etc/pve/qemu-server/100.conf"; vmid from the file name, 0 if
 * unknown). Judges the main section only (snapshots and [PENDING] do not
 * run) except for malformed lines, which are reported in any section.
 * Layer of every finding: "VM <vmid>" (or the label when vmid is 0).
 * Returns 0 or -ENOMEM.
 */
int gp_vm_lint_config(const gp_check_ctx *ctx, const char *label, unsigned vmid, const char *buf, size_t len,
                      gp_findings *out);

/*
 * Every VM config of this node (vmids NULL/n 0) or the ones named, read
 * through ctx->h, plus the checks that need all VMs at once (the same GPU
 * in two VMs that start at boot or run now). A named VMID without a config
 * is a fail finding "vm.not-found". Returns 0 or -ENOMEM.
 */
int gp_vm_lint(const gp_check_ctx *ctx, const unsigned *vmids, size_t n, gp_findings *out);

/*
 * /etc/pve/mapping/pci.cfg: every map entry for this node checked against
 * the hardware (gp_pvemap_entry_check), malformed lines, entries for other
 * nodes left alone (each node checks its own). Layer "mapping <name>".
 * An absent file is one info finding. Returns 0 or -ENOMEM.
 */
int gp_map_lint(const gp_check_ctx *ctx, gp_findings *out);
int gp_map_lint_config(const gp_check_ctx *ctx, const char *label, const char *buf, size_t len, gp_findings *out);
