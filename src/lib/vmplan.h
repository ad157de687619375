/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan that gives a GPU to a Proxmox VM: a hostpciN for the GPU and the
 * settings passthrough needs (q35, OVMF, cpu host, no balloon), edited into
 * the VM's config losslessly (pveconf.h), main section only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "plan.h"

typedef struct gp_vm_opts {
    unsigned vmid;
    int gpu;                   /* index in ctx->gpus */
    bool primary;              /* x-vga=1: the GPU is the VM's display */
    const char *hugepages;     /* NULL, "any", "2" or "1024" */
    bool affinity;             /* pin the vCPUs to the cores of the GPU's NUMA node */
    bool keep_bios;            /* leave bios: as it is */
    bool force;                /* even when the GPU's IOMMU group holds what the host needs */
    const char *mapping;       /* use this cluster mapping; NULL: one that matches, if any */
    bool no_mapping;           /* the raw address even when a mapping matches */
    /* --romfile: the ROM (bytes of the file the user named) is copied to
     * /usr/share/kvm/<rom_name> and given to the GPU as romfile=<rom_name>. */
    const char *rom_name;
    const char *rom_source;    /* the file as named, for messages */
    const uint8_t *rom;
    size_t rom_len;
} gp_vm_opts;

typedef struct gp_vm_result {
    char *conf;                /* root-relative path of the VM's config */
    char **qm_args;            /* the same change as `qm set` options, NULL-terminated */
    int hostpci;               /* N of the hostpciN that holds the GPU */
    char *mapping;             /* the mapping used, or NULL */
    char *refuse_apply;        /* why the plan must not be applied now (VM running, lock:), or NULL */
} gp_vm_result;

/*
 * Builds the plan. -ENOENT (no such VM), -EREMOTE (another node owns it),
 * -ECANCELED (refused: a config PVE could not parse back, duplicate keys,
 * an IOMMU group with host devices), -EINVAL (an option that cannot work
 * with this VM, e.g. hugepages that do not divide its memory); err says
 * which input and what to do.
 */
int gp_vm_plan(const gp_check_ctx *ctx, const gp_vm_opts *o, gp_plan *plan, gp_vm_result *res, gp_error *err);
void gp_vm_result_clear(gp_vm_result *r);

/*
 * The libvirt <hostdev> elements for a GPU (one per function, managed='yes'),
 * with guest addresses that keep the functions together on one slot of
 * guest bus `guest_bus`, the first one multifunction='on', as QEMU needs to
 * present one multi-function device. NULL on allocation failure.
 */
char *gp_vm_libvirt_xml(const gp_pci_list *pci, const gp_gpu *gpu, unsigned guest_bus);

/*
 * The plan that creates or updates cluster mapping `name` in
 * /etc/pve/mapping/pci.cfg with this node's entry for the GPU (node, path,
 * id, subsystem-id, iommugroup, as qemu-server checks them at start).
 * Other nodes' entries are kept byte for byte. -EINVAL for an invalid name,
 * -ECANCELED for a file PVE could not read back.
 */
int gp_map_plan(const gp_check_ctx *ctx, const char *name, int gpu, gp_plan *plan, gp_error *err);
