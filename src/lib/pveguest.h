/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Proxmox VE guests of this node that take PCI devices: each VM's
 * hostpciN entries (raw addresses or cluster mappings resolved for this
 * node), onboot, and whether it runs. Read-only; the lossless config editor
 * is a separate module.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "host.h"
#include "pci.h"

typedef struct gp_pve_hostpci {
    unsigned index;          /* N of hostpciN */
    char *value;             /* the raw value */
    char *mapping;           /* mapping=NAME, or NULL */
    char **ids;              /* device IDs as written or mapped ("0000:01:00", "01:00.0"), NULL-terminated */
    unsigned line;           /* line in the config file */
} gp_pve_hostpci;

typedef struct gp_pve_vm {
    unsigned vmid;
    char *name;              /* "name:" or NULL */
    char *conf;              /* "/etc/pve/qemu-server/100.conf" */
    bool onboot;
    bool running;
    gp_pve_hostpci *hostpci;
    size_t n_hostpci;
} gp_pve_vm;

typedef struct gp_pve_vms {
    gp_pve_vm *v;
    size_t n;
} gp_pve_vms;

/* Every etc/pve/qemu-server/<vmid>.conf (main section only; snapshots are
 * not what runs). An absent directory is an empty list. */
int gp_pve_vms_read(const gp_host *h, gp_pve_vms *ret);
void gp_pve_vms_clear(gp_pve_vms *l);

/* True when VM vmid runs: run/qemu-server/<vmid>.pid names a live process. */
bool gp_pve_vm_running(const gp_host *h, unsigned vmid);

/* This node's name as the cluster knows it: etc/hostname up to the first
 * dot (PVE's nodename is the short host name). NULL when unreadable. */
char *gp_pve_node_name(const gp_host *h);

/* The two kinds of guest: their configs and locks are alike, in other
 * places and with other names (qemu-server, pve-container). */
typedef enum gp_pve_guest {
    GP_PVE_GUEST_VM,
    GP_PVE_GUEST_CT,
} gp_pve_guest;

/* gp_pve_vm_locate and gp_ct_locate (pvect.h) for either kind. */
int gp_pve_guest_locate(const gp_host *h, gp_pve_guest type, unsigned id, char **ret_path, gp_error *err);
/* gp_pve_vm_lock and gp_ct_lock (pvect.h) for either kind. */
int gp_pve_guest_lock(const gp_host *h, gp_pve_guest type, unsigned id, unsigned timeout_ms, gp_error *err);

/*
 * Where the config of VM vmid lives: the root-relative path of the file on
 * this node (etc/pve/nodes/<node>/qemu-server/<vmid>.conf, or
 * etc/pve/qemu-server/<vmid>.conf where there is no nodes/ tree). -EREMOTE
 * when another node owns it (err names that node: only the owner may write
 * it), -ENOENT when no node has it.
 */
int gp_pve_vm_locate(const gp_host *h, unsigned vmid, char **ret_path, gp_error *err);

/*
 * Takes the node-local lock PVE takes before it changes a guest config:
 * flock(LOCK_EX) on var/lock/qemu-server/lock-<vmid>.conf (qemu-server
 * QemuConfig config_file_lock), waiting up to timeout_ms as PVE's
 * lock_file_full does. Returns the fd holding the lock (close it to
 * release), -ETIMEDOUT, or an error.
 */
int gp_pve_vm_lock(const gp_host *h, unsigned vmid, unsigned timeout_ms, gp_error *err);

/*
 * Takes a cluster-wide lock the way PVE's cfs_lock_file does: mkdir
 * etc/pve/priv/lock/<name> (pmxcfs makes mkdir there atomic across the
 * cluster and expires a lock after 120 s), retrying up to timeout_ms. The
 * name for /etc/pve/mapping/pci.cfg is "file-mapping_pci_cfg". Release
 * with gp_pve_cluster_unlock.
 */
int gp_pve_cluster_lock(const gp_host *h, const char *name, unsigned timeout_ms, gp_error *err);
void gp_pve_cluster_unlock(const gp_host *h, const char *name);

/* The installed version of a Debian package ("pve-manager": what
 * `pveversion` reports), from dpkg's status database. */
bool gp_pve_package_version(const gp_host *h, const char *package, char *ret, size_t len);

/* "100" .. "999999999" (pve-vmid: a leading 1-9 and 2 to 8 more digits). */
bool gp_pve_vmid_parse(const char *s, unsigned *ret);

/* True when a hostpci ID ("01:00", "0000:01:00.1") takes the function
 * dev_name: PVE matches every device whose address starts with the ID,
 * with "0000:" in front of an ID that has no domain (SysFSTools lspci). */
bool gp_pve_id_matches(const char *id, const char *dev_name);

/* True when the hostpci entry takes the device with this address: PVE
 * matches every device whose address starts with the ID, "0000:" assumed. */
bool gp_pve_hostpci_matches(const gp_pve_hostpci *e, const char *dev_name);
