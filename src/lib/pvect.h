/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Proxmox containers of this node: where a CT's config lives, PVE's config
 * lock for it, whether it runs, and its root filesystem as the host can
 * read it (for the container's own /etc/group and NVIDIA userland).
 */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "host.h"

/*
 * The root-relative config path of CT ctid on this node
 * (etc/pve/nodes/<node>/lxc/<ctid>.conf, or etc/pve/lxc/<ctid>.conf without
 * a nodes/ tree). -EREMOTE when another node owns it, -ENOENT when no node
 * has it (or it is a VM: err says so).
 */
int gp_ct_locate(const gp_host *h, unsigned ctid, char **ret_path, gp_error *err);

/*
 * PVE's lock for a container config: flock(LOCK_EX) on
 * run/lock/lxc/pve-config-<ctid>.lock (pve-container LXC/Config.pm),
 * waiting up to timeout_ms. Returns the fd holding the lock, -ETIMEDOUT,
 * or an error.
 */
int gp_ct_lock(const gp_host *h, unsigned ctid, unsigned timeout_ms, gp_error *err);

/* True when CT ctid runs: lxc keeps its monitor socket and PVE mounts its
 * root at var/lib/lxc/<ctid>/rootfs (a non-empty directory) while it runs. */
bool gp_ct_running(const gp_host *h, unsigned ctid);

/*
 * The container's root filesystem as a root-relative directory the host
 * can read: var/lib/lxc/<ctid>/rootfs while it runs; else, for a stopped
 * CT, the subvolume its rootfs: line names (a ZFS subvol-<ctid>-disk-N under
 * the pool's mountpoint from etc/pve/storage.cfg, or a dir storage's
 * images/<ctid>/subvol-<ctid>-disk-N.subvol). *how says which, in words
 * ("the running container's root", "ZFS subvolume rpool/data/subvol-200-disk-0").
 * -ENOENT with err saying why when it cannot be read (an LVM or raw volume
 * of a stopped container).
 */
int gp_ct_rootfs(const gp_host *h, unsigned ctid, const char *conf_text, char **ret_dir, char **how,
                 gp_error *err);

/* The gid of group `name` in <rootfs>/etc/group; -ENOENT when absent. */
int gp_ct_group_gid(const gp_host *h, const char *rootfs, const char *name, unsigned *ret);

/*
 * The NVIDIA userland version inside the container: the version suffix of
 * usr/lib/x86_64-linux-gnu/libnvidia-ml.so.<version> (or libcuda.so.<v>)
 * under rootfs, malloc'd in *ret; -ENOENT when none is installed.
 */
int gp_ct_nvidia_userland(const gp_host *h, const char *rootfs, char **ret);

/* The host's NVIDIA kernel module version from proc/driver/nvidia/version
 * ("550.127.05"); -ENOENT when the module is not loaded. */
int gp_host_nvidia_version(const gp_host *h, char **ret);

/* "100" .. "999999999": CTIDs share the VMID space. */
bool gp_ctid_parse(const char *s, unsigned *ret);
