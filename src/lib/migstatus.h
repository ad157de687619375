/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the NVIDIA driver says of MIG now, read from nvidia-smi's output
 * (gpupass does not link NVML): the MIG mode of each GPU
 * (--query-gpu=index,pci.bus_id,name,mig.mode.current,mig.mode.pending
 * --format=csv,noheader) and the GPU instances with their placements
 * (nvidia-smi mig -lgi). Parsers of untrusted text: a line that is not what
 * they expect is skipped, never trusted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mig.h"

/* The query the parser reads. */
#define GP_MIG_QUERY_GPUS "--query-gpu=index,pci.bus_id,name,mig.mode.current,mig.mode.pending"

typedef struct gp_mig_gpu_state {
    unsigned index;
    char bus_id[32];          /* "00000000:17:00.0", as nvidia-smi prints it */
    char name[96];            /* "NVIDIA A100 80GB PCIe" */
    int mode_current;         /* 1 Enabled, 0 Disabled, -1 [N/A]: no MIG */
    int mode_pending;
} gp_mig_gpu_state;

typedef struct gp_mig_gi_state {
    unsigned gpu;             /* nvidia-smi index */
    char profile[32];         /* "3g.40gb" */
    int profile_id;
    unsigned instance_id;
    unsigned start, size;     /* Placement Start:Size */
} gp_mig_gi_state;

/* Lines "0, 00000000:17:00.0, NVIDIA A100 80GB PCIe, Enabled, Enabled". */
int gp_mig_parse_gpus(const char *text, gp_mig_gpu_state **ret, size_t *ret_n);
/* The table rows "|   0  MIG 3g.40gb   9   2   4:4   |". */
int gp_mig_parse_gis(const char *text, gp_mig_gi_state **ret, size_t *ret_n);
/* "00000000:17:00.0" names the device "0000:17:00.0" (case and domain
 * width do not matter). */
bool gp_mig_bus_id_is(const char *bus_id, const char *pci_name);
/*
 * The instances of GPU index gpu as a plan of model m (for the picture):
 * each profile found by ID, else by name. -ENOENT when one is not in m's
 * table (err names it), -ENOMEM. Clear ret with gp_mig_plan_clear().
 */
int gp_mig_plan_from_state(const gp_mig_model *m, const gp_mig_gi_state *gis, size_t n, unsigned gpu,
                           gp_mig_plan *ret, gp_error *err);
