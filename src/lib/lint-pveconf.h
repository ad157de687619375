/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the VM and container linters share (lint-guest.c, lint-lxc.c): the
 * state of one guest's lint (its parsed config, the label and layer its
 * findings carry), config lines as evidence, malformed lines, and the walk
 * over the configs of this node. qemu-server and pve-container read their
 * configs the same way; what differs between them is a gp_pvelint_kind.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "error.h"
#include "finding.h"
#include "host.h"
#include "plan.h"
#include "pveconf.h"
#include "shared/macro.h"

typedef struct gp_pvelint_kind {
    const char *prefix;        /* of finding ids: "vm" ("vm.bad-line") */
    const char *name;          /* of layers: "VM" ("VM 100") */
    const char *id_name;       /* "VMID": stands in fixes when the ID is unknown */
    int label_max;             /* how much of the label a layer shows when the ID is unknown */
    gp_pveconf_kind conf;
    const char *dir;           /* this node's configs: "etc/pve/qemu-server" */
    /* Where a copy of /etc/pve without pmxcfs's links has them:
     * etc/pve/nodes/<node>/<node_dir>; NULL: nowhere else. */
    const char *node_dir;
    const char *subject;       /* of the findings about the directory: "VM configs" */
    const char *plural;        /* "this node has no <plural> in /<dir>" */
    const char *list_fix;      /* the command that lists the guests: "qm list   # ..." */
    int (*locate)(const gp_host *h, unsigned id, char **ret_path, gp_error *err);
    /* The keys the schema knows, for what a malformed line meant. */
    bool (*key_known)(const char *key);
} gp_pvelint_kind;

typedef struct gp_pvelint {
    const gp_pvelint_kind *kind;
    const gp_check_ctx *ctx;
    const char *label;         /* the path shown in evidence: "/etc/pve/qemu-server/100.conf" */
    unsigned id;               /* VMID or CTID from the file name, 0 when unknown */
    char id_s[16];             /* "100", or the kind's id_name when unknown */
    char layer[96];            /* "VM 100", or the label when the ID is unknown */
    gp_pveconf conf;
    gp_findings *out;
    size_t first;              /* out->n when this guest's lint began */
} gp_pvelint;

/*
 * Starts one guest's lint: g set up, buf (len bytes) parsed into g->conf.
 * Returns 0, -ENOMEM, or 1 when the file is not a config PVE can read at
 * all: that is the one finding "<prefix>.bad-file", in *ret_bad (NULL once
 * memory ran out) for the caller's fix, and g->conf is empty.
 */
int gp_pvelint_open(gp_pvelint *g, const gp_pvelint_kind *k, const gp_check_ctx *ctx, const char *label,
                    unsigned id, const char *buf, size_t len, gp_findings *out, gp_finding **ret_bad);

/* A finding in the guest's layer; the title is a printf format. */
gp_finding *gp_pvelint_add(gp_pvelint *g, const char *id, gp_severity sev, const char *subject, const char *fmt, ...)
    _printf_(5, 6);
/* Line idx (0-based) of the config as evidence, as written. */
void gp_pvelint_add_line(gp_pvelint *g, gp_finding *f, size_t idx);

/* "<prefix>.bad-line" for every line PVE's parser skips, in any section,
 * with the line it most likely meant when that is a known key. */
void gp_pvelint_bad_lines(gp_pvelint *g);

/* No warning and no failure since the guest's lint began: its pass finding
 * is due. */
bool gp_pvelint_holds(const gp_pvelint *g);

/* s as one shell word into buf: bare when it is plain, else in single
 * quotes (';' joins hostpci IDs and would end the command). */
void gp_pvelint_shell_word(const char *s, char *buf, size_t size);

/* Lints one config that was read: label is "/" and its root-relative path. */
typedef int gp_pvelint_fn(const gp_check_ctx *ctx, void *data, const char *label, unsigned id, const char *buf,
                          size_t len, gp_findings *out);

/*
 * Every config of this node (ids NULL / n 0), in ID order, or the ones
 * named, each read through ctx->h and handed to fn. A named ID without a
 * config here is a fail finding "<prefix>.not-found", a config that cannot
 * be read "<prefix>.unreadable". Returns 0 or -ENOMEM (or what fn returns).
 */
int gp_pvelint_configs(const gp_check_ctx *ctx, const gp_pvelint_kind *k, const unsigned *ids, size_t n,
                       gp_pvelint_fn *fn, void *data, gp_findings *out);

/* gp_vm_lint_config, gp_lxc_lint_config. */
typedef int gp_pvelint_config_fn(const gp_check_ctx *ctx, const char *label, unsigned id, const char *buf,
                                 size_t len, gp_findings *out);

/*
 * What a planned guest config (conf, len bytes, to be written at the
 * root-relative path rel) still gets wrong that the plan does not fix:
 * lint runs over it, and each finding of severity min or worse whose id is
 * not in skip (NULL-terminated, or NULL) is a plan note "still to fix by
 * hand (gpupass <cmd> <id>): <title>". Returns 0 or -ENOMEM.
 */
int gp_pvelint_plan_notes(gp_plan *plan, const gp_check_ctx *ctx, gp_pvelint_config_fn *lint, const char *cmd,
                          const char *rel, unsigned id, const char *conf, size_t len, gp_severity min,
                          const char *const *skip);
