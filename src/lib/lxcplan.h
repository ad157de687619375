/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan that gives a GPU to a Proxmox container: the device nodes the
 * GPU really has on this host (gpunodes.h), written as devN lines with the
 * container's own gids, or as raw lxc.cgroup2/lxc.mount.entry lines with
 * the host's real majors, into /etc/pve/lxc/<ctid>.conf (main section).
 */
#pragma once

#include <stdbool.h>

#include "check.h"
#include "plan.h"

typedef enum gp_lxc_style {
    GP_LXC_STYLE_AUTO,         /* dev on Proxmox VE 8.2 and later, else raw */
    GP_LXC_STYLE_DEV,          /* devN: /dev/...,gid=...: PVE makes the node and its cgroup rule */
    GP_LXC_STYLE_RAW,          /* lxc.cgroup2.devices.allow + lxc.mount.entry */
} gp_lxc_style;

typedef struct gp_lxc_opts {
    unsigned ctid;             /* 0: no container, only the lines (--print) */
    int gpu;                   /* index in ctx->gpus */
    gp_lxc_style style;
    long render_gid, video_gid;   /* -1: read from the container's /etc/group */
} gp_lxc_opts;

typedef struct gp_lxc_result {
    char *conf;                /* root-relative config path (NULL with ctid 0) */
    gp_lxc_style style;        /* the style used */
    char **lines;              /* every line the GPU needs, "key: value", NULL-terminated */
    char *gids_from;           /* where the gids were read, or NULL */
    char *refuse_apply;        /* why --apply must not run now (lock:), or NULL */
} gp_lxc_result;

/*
 * -ECANCELED (refused, err says why): the GPU is on vfio-pci or has no
 * driver, a node it needs is missing or wrong (err names it and what
 * creates it), the config has lines PVE cannot read. -ENOENT / -EREMOTE
 * as gp_ct_locate. With ctid 0, plan stays empty and only res->lines is
 * filled.
 */
int gp_lxc_plan(const gp_check_ctx *ctx, const gp_lxc_opts *o, gp_plan *plan, gp_lxc_result *res, gp_error *err);
void gp_lxc_result_clear(gp_lxc_result *r);
