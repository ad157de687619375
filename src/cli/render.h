/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output of `gpupass list`: one view of the host, two renderers. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "gpu.h"
#include "host.h"
#include "hostcrit.h"
#include "names.h"
#include "pci.h"

typedef struct gp_list_view {
    const gp_pci_list *pci;
    const gp_gpu_list *gpus;
    const gp_hostcrit *crit;
    gp_names *names;
    const bool *dev_selected;   /* per device index */
    const bool *gpu_selected;   /* per GPU index */
    bool all;                   /* --all: every device by IOMMU group */
    bool color;
} gp_list_view;

void gp_render_list_text(FILE *f, const gp_list_view *v);
int gp_render_list_json(FILE *f, const gp_list_view *v);

/* Findings (check, lint): text grouped by layer, or one JSON document. */
#include "finding.h"

struct json_object;

typedef struct gp_findings_view {
    const gp_findings *findings;
    bool quiet;     /* -q: leave out what passed */
    bool color;
    /* JSON only: one more member before "findings" (rom info's image list). */
    const char *extra_name;
    struct json_object *extra;
} gp_findings_view;

void gp_render_findings_text(FILE *f, const gp_findings_view *v);
int gp_render_findings_json(FILE *f, const gp_findings_view *v);
