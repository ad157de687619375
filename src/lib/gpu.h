/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passthrough policy over the PCI facts: which functions make up a GPU, which
 * IOMMU groups it spans, and whether a VM can have them without taking other
 * devices (and maybe the host's disk or network) along.
 */
#pragma once

#include <stddef.h>

#include "hostcrit.h"
#include "pci.h"

typedef enum gp_verdict {
    GP_VERDICT_ISOLATED,    /* only its own functions and bridges in its groups */
    GP_VERDICT_SHARED,      /* other endpoints would have to go with it */
    GP_VERDICT_NO_IOMMU,    /* no IOMMU groups: passthrough impossible */
} gp_verdict;

const char *gp_verdict_to_string(gp_verdict v);

typedef struct gp_idx_list {
    int *v;
    size_t n;
} gp_idx_list;

bool gp_idx_list_contains(const gp_idx_list *l, int x);
/* Appends x unless it is there already. */
int gp_idx_list_add(gp_idx_list *l, int x);

typedef struct gp_gpu {
    int dev;                   /* the display function (index in the PCI list) */
    gp_idx_list functions;     /* every function of its slot, itself included */
    gp_idx_list groups;        /* distinct IOMMU group numbers of those functions */
    gp_idx_list members;       /* every device in those groups */
    gp_idx_list shared_with;   /* members that are neither its functions nor bridges */
    gp_idx_list host_critical; /* members the host needs (see hostcrit.h) */
    gp_verdict verdict;
} gp_gpu;

typedef struct gp_gpu_list {
    gp_gpu *gpus;
    size_t n;
} gp_gpu_list;

/* One entry per slot holding a display function (class 0x03), and one per
 * SR-IOV virtual function of such a GPU. crit may be NULL. */
int gp_gpu_analyze(const gp_pci_list *l, const gp_hostcrit *crit, gp_gpu_list **ret);
void gp_gpu_list_free(gp_gpu_list *g);
static inline void gp_gpu_list_freep(gp_gpu_list **g) { if (*g) gp_gpu_list_free(*g); }
#define _cleanup_gpu_list_ _cleanup_(gp_gpu_list_freep)
