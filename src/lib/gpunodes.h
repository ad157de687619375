/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device nodes a container needs to use a GPU with its host driver,
 * found on the host, never assumed: DRM nodes through
 * sys/bus/pci/devices/<bdf>/drm/, the NVIDIA nodes through
 * proc/driver/nvidia/gpus/<bdf>/information (its "Device Minor") and the
 * majors in proc/devices (nvidia-uvm and nvidia-caps are dynamic), /dev/kfd
 * for ROCm. Each node is stat'ed: on a live host or a copy of one directly,
 * in a snapshot through gpupass/devnodes.txt.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "gpu.h"
#include "host.h"
#include "pci.h"

typedef enum gp_devnode_type {
    GP_DEVNODE_ABSENT = 0,
    GP_DEVNODE_CHAR,
    GP_DEVNODE_BLOCK,
    GP_DEVNODE_DIR,
    GP_DEVNODE_OTHER,          /* a regular file, a link, ...: not a device */
} gp_devnode_type;

typedef struct gp_devnode {
    char path[128];            /* root-relative: "dev/nvidia-uvm" */
    gp_devnode_type type;
    unsigned major, minor;
    unsigned mode, uid, gid;   /* permission bits, owner */
} gp_devnode;

/* lstat of a device node. 0 with type ABSENT when it does not exist. */
int gp_devnode_stat(const gp_host *h, const char *path, gp_devnode *ret);

/* The major proc/devices gives a character driver ("nvidia-uvm"), or -1. */
int gp_chardev_major(const gp_host *h, const char *name);

typedef enum gp_node_role {
    GP_NODE_CARD,              /* dev/dri/cardN: modesetting (video group) */
    GP_NODE_RENDER,            /* dev/dri/renderDN: compute and decode (render group) */
    GP_NODE_NVIDIA,            /* dev/nvidiaN, nvidiactl, nvidia-uvm*, nvidia-modeset, nvidia-caps/ */
    GP_NODE_KFD,               /* dev/kfd: ROCm (render group) */
} gp_node_role;

typedef struct gp_gpu_node {
    gp_devnode node;           /* as found; type ABSENT when missing */
    gp_node_role role;
    bool required;             /* CUDA/ROCm/VA-API fail without it */
    const char *why;           /* what it is for (static text) */
} gp_gpu_node;

typedef struct gp_gpu_nodes {
    gp_gpu_node *v;
    size_t n;
    const char *vendor;        /* "nvidia", "amd", "intel", "other" */
    char **problems;           /* a line each: a node missing or not a char device, a major that is not the
                                * driver's, with what creates it (NULL-terminated, or NULL) */
} gp_gpu_nodes;

/*
 * The nodes GPU needs, this GPU only (another card's render node stays
 * out). -EBUSY when the GPU is bound to vfio-pci (it belongs to VMs then),
 * -ENODEV when no host driver drives it; err says so. Missing or wrong
 * nodes are not an error: they are in ->problems.
 */
int gp_gpu_nodes_find(const gp_host *h, const gp_pci_list *pci, const gp_gpu *gpu, gp_gpu_nodes *ret,
                      gp_error *err);
void gp_gpu_nodes_clear(gp_gpu_nodes *n);
