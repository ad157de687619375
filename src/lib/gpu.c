/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "shared/macro.h"

const char *gp_verdict_to_string(gp_verdict v)
{
    static const char *const names[] = {
        [GP_VERDICT_ISOLATED] = "isolated",
        [GP_VERDICT_SHARED] = "shared",
        [GP_VERDICT_NO_IOMMU] = "no-iommu",
    };

    return (size_t)v < ELEMENTSOF(names) ? names[v] : "unknown";
}

bool gp_idx_list_contains(const gp_idx_list *l, int x)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == x)
            return true;
    return false;
}

int gp_idx_list_add(gp_idx_list *l, int x)
{
    int *nv;

    if (gp_idx_list_contains(l, x))
        return 0;
    nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    l->v = nv;
    l->v[l->n++] = x;
    return 0;
}

static void gpu_clear(gp_gpu *g)
{
    free(g->functions.v);
    free(g->groups.v);
    free(g->members.v);
    free(g->shared_with.v);
    free(g->host_critical.v);
}

void gp_gpu_list_free(gp_gpu_list *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        gpu_clear(&g->gpus[i]);
    free(g->gpus);
    free(g);
}

/* The functions a VM must get together: all of one physical slot (video,
 * HD audio, USB-C, UCSI share the card's reset and usually its group). A VF
 * stands alone: its slot number is an artefact of routing-ID arithmetic. */
static int collect_functions(const gp_pci_list *l, int dev, gp_gpu *g)
{
    const gp_pci_dev *d = &l->devs[dev];

    if (d->is_vf)
        return gp_idx_list_add(&g->functions, dev);
    for (size_t i = 0; i < l->n; i++)
        if (!l->devs[i].is_vf && gp_pci_addr_same_slot(&l->devs[i].addr, &d->addr))
            if (gp_idx_list_add(&g->functions, (int)i) < 0)
                return -ENOMEM;
    return 0;
}

static int analyze_one(const gp_pci_list *l, const gp_hostcrit *crit, int dev, gp_gpu *g)
{
    g->dev = dev;
    if (collect_functions(l, dev, g) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < g->functions.n; i++) {
        int grp = l->devs[g->functions.v[i]].iommu_group;

        if (grp >= 0 && gp_idx_list_add(&g->groups, grp) < 0)
            return -ENOMEM;
    }
    if (l->iommu_groups == 0 || g->groups.n == 0) {
        g->verdict = GP_VERDICT_NO_IOMMU;
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        const gp_pci_dev *m = &l->devs[i];

        if (m->iommu_group < 0 || !gp_idx_list_contains(&g->groups, m->iommu_group))
            continue;
        if (gp_idx_list_add(&g->members, (int)i) < 0)
            return -ENOMEM;
        if (!gp_idx_list_contains(&g->functions, (int)i) && !gp_pci_is_bridge(m))
            if (gp_idx_list_add(&g->shared_with, (int)i) < 0)
                return -ENOMEM;
        if (gp_hostcrit_reason(crit, (int)i))
            if (gp_idx_list_add(&g->host_critical, (int)i) < 0)
                return -ENOMEM;
    }
    g->verdict = g->shared_with.n ? GP_VERDICT_SHARED : GP_VERDICT_ISOLATED;
    return 0;
}

int gp_gpu_analyze(const gp_pci_list *l, const gp_hostcrit *crit, gp_gpu_list **ret)
{
    _cleanup_gpu_list_ gp_gpu_list *g = calloc(1, sizeof(*g));

    if (!g)
        return -ENOMEM;
    for (size_t i = 0; i < l->n; i++) {
        const gp_pci_dev *d = &l->devs[i];
        bool seen = false;
        gp_gpu *ng;

        if (!gp_pci_is_gpu(d))
            continue;
        /* One entry per card: a second display function of the same slot
         * (old dual-head boards) belongs to the entry already made. */
        for (size_t j = 0; j < g->n && !d->is_vf; j++)
            if (!l->devs[g->gpus[j].dev].is_vf && gp_pci_addr_same_slot(&l->devs[g->gpus[j].dev].addr, &d->addr))
                seen = true;
        if (seen)
            continue;
        ng = realloc(g->gpus, (g->n + 1) * sizeof(*ng));
        if (!ng)
            return -ENOMEM;
        g->gpus = ng;
        memset(&g->gpus[g->n], 0, sizeof(g->gpus[g->n]));
        g->n++;
        if (analyze_one(l, crit, (int)i, &g->gpus[g->n - 1]) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(g);
    return 0;
}
